"""One write: a transaction that also queues the config-changed notice.

The notice row goes into ``config_outbox`` inside the same transaction, so
it exists exactly when the change does; the outbox worker publishes it on
``sy.config.changed.<resource>`` after the commit (``Outbox.kick``). Unique
and foreign-key violations become the 409/400 the API documents, naming the
field, with nothing written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec

from switchyard.config_api.framework.constraints import CONSTRAINTS
from switchyard.config_api.outbox import Outbox
from switchyard.shared.fsvalues import APPLICATIONS, Applications, fs_applications
from switchyard.shared.http.errors import ApiError, bad_request, conflict
from switchyard.shared.messages import ConfigChanged
from switchyard.shared.runtime import Runtime


@dataclass
class Tx:
    conn: asyncpg.Connection
    notices: list[ConfigChanged] = field(default_factory=list)
    # The applications a user may name (route params, system lines, IVR
    # entries): the built-in allowlist plus SWITCHYARD_FS_APPLICATIONS.
    apps: Applications = APPLICATIONS

    def changed(self, resource: str, action: str, *ids: Any) -> None:
        self.notices.append(ConfigChanged(resource, action, list(ids)))


@asynccontextmanager
async def write(
    runtime: Runtime, outbox: Outbox, committed: Callable[[], None] | None = None
) -> AsyncIterator[Tx]:
    """One transaction; after its commit the outbox is woken and ``committed``
    called (config-api drops its cached reads there)."""
    async with runtime.pool.acquire() as conn:
        tx = Tx(conn, apps=fs_applications(runtime.settings.fs_applications))
        try:
            async with conn.transaction():
                yield tx
                if tx.notices:
                    await conn.executemany(
                        "INSERT INTO config_outbox (resource, payload) VALUES ($1, $2::jsonb)",
                        [(n.resource, msgspec.json.encode(n).decode()) for n in tx.notices],
                    )
        except asyncpg.UniqueViolationError as exc:
            raise unique_error(exc) from None
        except asyncpg.ForeignKeyViolationError as exc:
            raise reference_error(exc) from None
        except asyncpg.CheckViolationError as exc:
            raise bad_request(exc.column_name or "body", "out of range") from None
        except asyncpg.NumericValueOutOfRangeError:
            raise bad_request("body", "a number is out of range") from None
        except asyncpg.exceptions._base.DataError as exc:
            # A value the driver cannot bind (a number beyond the column's type).
            raise bad_request("body", f"a value is out of range ({exc})") from None
        except (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError):
            # Columns are checked one by one on the way in; this catches the rest.
            raise bad_request("body", "text must not contain a NUL character (U+0000)") from None
    if committed is not None:
        committed()
    if tx.notices:
        outbox.kick()


def unique_error(exc: asyncpg.UniqueViolationError) -> ApiError:
    name = exc.constraint_name or ""
    field_name, reason = CONSTRAINTS.get(name, ("body", "already exists"))
    return conflict(field_name, reason)


def reference_error(exc: asyncpg.ForeignKeyViolationError) -> ApiError:
    name = exc.constraint_name or ""
    field_name, reason = CONSTRAINTS.get(name, ("body", "refers to something that does not exist"))
    if "DELETE" in (exc.detail or "") or "still referenced" in (exc.detail or ""):
        return conflict(field_name, f"is still referenced: {exc.detail}")
    return bad_request(field_name, reason)
