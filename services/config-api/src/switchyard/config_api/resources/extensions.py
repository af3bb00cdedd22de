"""Extensions (/api/extensions): the minimum a directory needs.

Not in the specs, but DODs, DIDs, sensors and device provisions refer to
extensions, and the directory served to FreeSWITCH is built from them.
Passwords are stored for SIP digest authentication and never returned.
"""

from __future__ import annotations

from switchyard.config_api.framework.crud import handlers
from switchyard.config_api.framework.spec import Col, Filter, Referrer, Resource
from switchyard.shared.fsvalues import HOST, NAME, NUMBER, SECRET, TEXT

EXTENSIONS = Resource(
    name="extensions",
    table="extensions",
    cols=(
        # The directory's user id, dialled as user/<extn>@<domain>.
        Col("extn", required=True, rule=NUMBER),
        Col("name", rule=TEXT),
        Col("password", secret=True, rule=SECRET),
        Col("context", default="context-1", rule=NAME),
        Col("domain", rule=HOST),
        Col("cid_name", rule=TEXT),
        Col("cid_number", rule=NUMBER),
        Col("type", default="SIP"),
        # The highest route_type this extension may call (0 emergency, 1
        # internal, 2 local, 3 domestic, 4 international); CP sends "4".
        Col("call_authority", "int", default=4, choices=(0, 1, 2, 3, 4)),
        Col("disabled", "flag", default=0),
    ),
    filters=(
        Filter("extn", "extn"),
        Filter("name", "name", "like"),
        Filter("context", "context"),
        Filter("domain", "domain"),
    ),
    toggle="disabled",
    referrers=(
        Referrer("DODs", "SELECT line_number FROM dods WHERE extn_id = $1 ORDER BY id"),
        Referrer("sensors", "SELECT name FROM extn_alarms WHERE extn_id = $1 ORDER BY id"),
        Referrer(
            "routes",
            "SELECT name FROM routes WHERE dest_type = 'FS_DEST_USERGW' "
            "AND dest_uuid = $1::bigint::text ORDER BY id",
        ),
    ),
)


def route_handlers() -> list:  # type: ignore[type-arg]
    return handlers(EXTENSIONS)
