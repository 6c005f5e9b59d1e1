"""Models and field types shared by the HTTP API modules.

Ids, lists of ids and integers are declared here once, with the exact rules the
services apply, so /openapi.json promises no more than the server accepts (a client
generated from it never sends a request the server calls malformed) and no less.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from semot.errors import SemotError
from semot.ids import ID_PATTERN

# Integers on the wire (seqs, times in ms, offsets) stay within what a JavaScript number
# holds exactly; far below SQLite's and PostgreSQL's 2^63 - 1, which they never reach.
MAX_SAFE_INT = 2**53 - 1

NUL_FREE = "^[^\\x00]*$"  # every string the server reads matches it (parse_body, Query.check)

# The characters of every id (users, groups, requests, tags, departments): ids.ID_RE.
ID_CHARS = "[A-Za-z0-9_.-]"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
UserId = Id


def _integral(value: Any) -> Any:
    """JSON Schema counts 3.0 as an integer (and JavaScript cannot tell it from 3): take a
    float with no fraction as the integer it is. Anything else is left to strict validation
    (1.5, "3" and true stay errors)."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


# after the bounds: `Annotated[int, Field(ge=0), INTEGRAL]` (the JSON Schema keeps the bounds)
INTEGRAL = BeforeValidator(_integral)


def id_list_pattern(max_items: int) -> str:
    """A comma-separated list of 1 to `max_items` ids, as a regular expression."""
    return f"^{ID_CHARS}{{1,64}}(,{ID_CHARS}{{1,64}}){{0,{max_items - 1}}}$"


class StatusOut(BaseModel):
    """The reply of an action that returns nothing else."""

    status: str = Field(description="what happened, e.g. removed, left, ok")


class DecideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["accept", "decline"]


def _codes(cls: type[SemotError]) -> set[str]:
    out = {cls.code}
    for sub in cls.__subclasses__():
        out |= _codes(sub)
    return out


ERROR_CODES: tuple[str, ...] = tuple(sorted(_codes(SemotError)))


class ErrorDetail(BaseModel):
    code: str = Field(description=f"one of: {', '.join(ERROR_CODES)} (PROTOCOL.md 2.1)")
    message: str = Field(description="for people: what went wrong")
    details: dict[str, Any] | None = Field(
        None, description="when there is more to say: `fields` (which inputs were refused), `retry_after` (s), ..."
    )


class ErrorOut(BaseModel):
    """Every 4xx and 5xx reply of the API."""

    error: ErrorDetail


def not_blank(exclude: str = "\\x00") -> str:
    """A pattern for text that must keep a character after `str.strip()`, made of
    characters outside `exclude` (NUL at least). `\\x1c-\\x1f` and `\\x85` are
    whitespace to Python's strip() and not to JSON Schema's `\\s`, so they are named."""
    return f"^[^{exclude}]*[^{exclude}\\s\\x1c-\\x1f\\x85][^{exclude}]*$"


NOT_BLANK = not_blank()
