"""Writing `event_outbox` rows inside a change's transaction (storage/outbox.py).

Used by the append paths (the SQLite appender's plain sqlite3 connection, the
SQLAlchemy path of a group write's notices; the PostgreSQL appender writes them in its
one statement), `recall` and `add_friendship`. Fanned out by SqlWebhooks.fan_out.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from semot.storage.outbox import OUTBOX_COLUMNS, OutboxItem
from semot.storage.sql.schema_webhooks import event_outbox

SQLITE_INSERT = (
    f"INSERT INTO event_outbox ({', '.join(OUTBOX_COLUMNS)}) VALUES ({', '.join('?' * len(OUTBOX_COLUMNS))})"
)


async def write_outbox(conn: AsyncConnection, items: list[OutboxItem]) -> None:
    if items:
        await conn.execute(event_outbox.insert(), [dict(zip(OUTBOX_COLUMNS, i.row(), strict=True)) for i in items])
