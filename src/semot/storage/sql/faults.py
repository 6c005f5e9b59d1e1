"""Telling a poison write from a database outage, for both SQL append paths.

The group-commit writer isolates a bad message by retrying its batch in halves, but
only when the data is at fault: a message the database refuses fails the same way on
every retry, while an outage (connection refused, disk I/O error, database locked)
must fail fast for everyone as `unavailable` and never be bisected. Drivers disagree
on how they say which is which, so the rules live here, once:

- SQLSTATE class 22 (data exception: NUL in text, value out of range, ...) and 23
  (integrity constraint violation), whatever the driver's exception class;
- SQLAlchemy's DataError / IntegrityError, and a StatementError raised before the
  statement ran (binding a parameter failed);
- sqlite3's DataError / IntegrityError / InterfaceError (a value it cannot bind);
- Python's own ValueError / TypeError / OverflowError / RecursionError, which is how
  orjson (JSONEncodeError is a TypeError), sqlite3 (int too large) and asyncpg's
  client-side argument checks report data they cannot encode.

Everything else, OperationalError above all, is an outage.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa

from semot.errors import StorageDataError

_DATA_SQLSTATE_CLASSES = ("22", "23")
_DATA_TYPES: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    OverflowError,
    RecursionError,
    sqlite3.DataError,
    sqlite3.IntegrityError,
    sqlite3.InterfaceError,
    sa.DataError,
    sa.IntegrityError,
)
_MAX_REASON = 200


def _sqlstate(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return state if isinstance(state, str) else None


def is_data_error(exc: BaseException) -> bool:
    """True when `exc` blames the data written, not the database."""
    seen = 0
    cur: BaseException | None = exc
    while cur is not None and seen < 5:  # the driver's error sits a few `orig`/`__cause__` links down
        seen += 1
        state = _sqlstate(cur)
        if state is not None:
            return state[:2] in _DATA_SQLSTATE_CLASSES
        if isinstance(cur, _DATA_TYPES):
            return True
        if isinstance(cur, sa.StatementError):  # DBAPIError included: the driver's error is `orig`
            cur = cur.orig
        elif isinstance(cur, sa.SQLAlchemyError) or type(cur).__module__.startswith("sqlalchemy."):
            cur = cur.__cause__  # the asyncio adapters' emulated DBAPI errors wrap the driver's
        else:
            return False
    return False


def reason(exc: BaseException) -> str:
    """One short line for the client: the driver's own words, without SQL or parameters."""
    cur: BaseException = exc
    while isinstance(cur, sa.StatementError) and cur.orig is not None:
        cur = cur.orig
    if type(cur).__module__.startswith("sqlalchemy.") and cur.__cause__ is not None:
        cur = cur.__cause__
    text = str(cur).strip().splitlines()
    line = text[0] if text else type(cur).__name__
    return line if len(line) <= _MAX_REASON else line[: _MAX_REASON - 3] + "..."


def as_storage_error(exc: BaseException) -> StorageDataError | None:
    """The domain error to raise instead of `exc`, or None when `exc` is an outage."""
    if isinstance(exc, StorageDataError):
        return exc
    return StorageDataError(reason(exc)) if is_data_error(exc) else None
