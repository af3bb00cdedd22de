"""Issue 12: FreeSWITCH's fetches are reads, not operations.

Every ``POST /fs/xml`` used to write an ``operation_logs`` row by
"anonymous" (24k rows after one minute of load): the log must hold what
principals changed through the API, and FreeSWITCH's synchronous fetch
must not wait on an insert."""

from __future__ import annotations

from urllib.parse import urlencode

import asyncpg

from .conftest import Api
from .test_fs_xml import FORM, SAMPLE, config, dialplan, fs_auth, settle


async def test_fetches_leave_the_operation_log_alone(api: Api, db: asyncpg.Pool) -> None:
    await api.create("/api/extensions", {"extn": "2001", "password": "s3cr3t"})
    await settle(api)
    before = await db.fetchval("SELECT count(*) FROM operation_logs")
    assert before == 1  # the create above: a principal's write is logged
    directory = {"section": "directory", "tag_name": "domain", "key_name": "name",
                 "key_value": "pbx.example", "user": "2001", "domain": "pbx.example",
                 "action": "sip_auth"}  # fmt: skip
    secret = api.client.app.state.runtime.settings.xml_curl_secret
    for form in (dialplan("context-1", "2001"), directory, config("sofia.conf")):
        for _ in range(5):
            r = await api.client.post(
                "/fs/xml", content=urlencode(form), headers=FORM, auth=fs_auth(api)
            )
            assert r.status_code == 200, r.text
            # The older forms of the same fetch: the secret in the URL, and GET.
            r = await api.client.post(f"/fs/xml/{secret}", content=urlencode(form), headers=FORM)
            assert r.status_code == 200, r.text
            r = await api.client.get(f"/fs/xml?{urlencode(form)}", auth=fs_auth(api))
            assert r.status_code == 200, r.text
    # FreeSWITCH's captured dialplan form, as sent.
    r = await api.client.post(
        "/fs/xml", content=SAMPLE.read_bytes(), headers=FORM, auth=fs_auth(api)
    )
    assert r.status_code == 200
    # Refused fetches are not operations either.
    r = await api.client.post("/fs/xml", content=urlencode(directory), headers=FORM)
    assert r.status_code == 401
    assert await db.fetchval("SELECT count(*) FROM operation_logs") == before
    # And the log still records the next write of a principal.
    await api.create("/api/extensions", {"extn": "2002", "password": "s3cr3t"})
    assert await db.fetchval("SELECT count(*) FROM operation_logs") == before + 1
