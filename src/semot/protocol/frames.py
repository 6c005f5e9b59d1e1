"""Schemas of client requests (§2.3) and the parser that turns raw text into one.

Parsing is two steps on purpose: orjson first (fast, and it yields the `rid` even when
the rest of the frame is wrong, so every error reply still carries the client's rid),
then strict pydantic validation of that one frame type: a string where a number
belongs is an error, never silently coerced.

No string of a frame may contain U+0000: PostgreSQL cannot store it in text, and a
message that cannot be stored must be refused up front, on every backend alike. A NUL
can only arrive as the escape `\u0000` (a raw NUL byte is invalid JSON), so frames
without that escape, nearly all of them, skip the walk that looks for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from semot.ids import ID_PATTERN

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Seq = Annotated[int, Field(ge=0, le=2**53)]
Rid = int | Annotated[str, StringConstraints(max_length=64)]
Platform = Literal["web", "desktop", "android", "ios", "bot", "sdk"]


class _Frame(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    t: str
    rid: Rid


class Device(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    id: Id
    platform: Platform


class Auth(_Frame):
    t: Literal["auth"]
    token: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    device: Device


class Send(_Frame):
    t: Literal["send"]
    cid: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    to: Annotated[str, StringConstraints(min_length=1, max_length=140)]
    kind: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    body: dict[str, Any]
    opts: dict[str, Any] | None = None


class Sync(_Frame):
    t: Literal["sync"]
    convs: Annotated[dict[Annotated[str, StringConstraints(max_length=140)], Seq], Field(max_length=10000)]
    # Semot extension (edits and reactions): the device's change cursor per conversation;
    # with it, conversations whose change_seq moved past it are reported too
    changes: Annotated[dict[Annotated[str, StringConstraints(max_length=140)], Seq], Field(max_length=10000)] | None = None


class History(_Frame):
    t: Literal["history"]
    conv: Annotated[str, StringConstraints(min_length=1, max_length=140)]
    after: Seq | None = None
    before: Seq | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class Read(_Frame):
    t: Literal["read"]
    conv: Annotated[str, StringConstraints(min_length=1, max_length=140)]
    seq: Seq


class Typing(_Frame):
    t: Literal["typing"]
    conv: Annotated[str, StringConstraints(min_length=1, max_length=140)]


class Recall(_Frame):
    t: Literal["recall"]
    conv: Annotated[str, StringConstraints(min_length=1, max_length=140)]
    seq: Annotated[int, Field(ge=1, le=2**53)]


class Edit(_Frame):
    """Semot extension: replace the text of one's own text message (docs/protocol.md)."""

    t: Literal["edit"]
    conv: Annotated[str, StringConstraints(min_length=1, max_length=140)]
    seq: Annotated[int, Field(ge=1, le=2**53)]
    text: Annotated[str, StringConstraints(min_length=1)]


class React(_Frame):
    """Semot extension: put (`on` true) or take back one's emoji reaction on a message."""

    t: Literal["react"]
    conv: Annotated[str, StringConstraints(min_length=1, max_length=140)]
    seq: Annotated[int, Field(ge=1, le=2**53)]
    emoji: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    on: bool = True


class Changes(_Frame):
    """Semot extension: the messages of `conv` edited or reacted to after change cursor `after`."""

    t: Literal["changes"]
    conv: Annotated[str, StringConstraints(min_length=1, max_length=140)]
    after: Seq = 0
    limit: Annotated[int, Field(ge=1, le=200)] = 100


class Ping(_Frame):
    t: Literal["ping"]


class SetPresence(_Frame):
    """Semot extension: choose online / busy / away and a status text."""

    t: Literal["presence"]
    status: Literal["online", "busy", "away"]
    text: Annotated[str, StringConstraints(max_length=100)] | None = None


class PresenceSub(_Frame):
    """Semot extension: follow these users' presence (replaces the previous list)."""

    t: Literal["presence_sub"]
    users: Annotated[list[Id], Field(max_length=500)]


class ConvSet(_Frame):
    """Semot extension: the user's own settings of one conversation (docs/protocol.md,
    Conversation settings); an omitted or null field is left as it is."""

    t: Literal["conv_set"]
    conv: Annotated[str, StringConstraints(min_length=1, max_length=140)]
    pinned: bool | None = None
    dnd: bool | None = None
    hidden: bool | None = None


class Search(_Frame):
    """Semot extension: search one's own messages (docs/search.md, docs/protocol.md)."""

    t: Literal["search"]
    q: Annotated[str, StringConstraints(max_length=200)] = ""
    conv: Annotated[str, StringConstraints(min_length=1, max_length=140)] | None = None
    sender: Id | None = None
    kind: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    since: Seq | None = None
    until: Seq | None = None
    limit: Annotated[int, Field(ge=1, le=50)] = 20
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=18, pattern="^[0-9]+$")] | None = None


Request = Auth | Send | Sync | History | Read | Typing | Recall | Ping | SetPresence | PresenceSub | ConvSet | Edit | React | Changes | Search

FRAME_TYPES: dict[str, type[_Frame]] = {
    "auth": Auth,
    "send": Send,
    "sync": Sync,
    "history": History,
    "read": Read,
    "typing": Typing,
    "recall": Recall,
    "ping": Ping,
    "presence": SetPresence,
    "presence_sub": PresenceSub,
    "edit": Edit,
    "react": React,
    "changes": Changes,
    "conv_set": ConvSet,
    "search": Search,
}


@dataclass(slots=True)
class FrameError(Exception):
    """A frame that cannot be served; `rid` is the client's when it could be read."""

    rid: Any
    code: str
    message: str
    details: dict[str, Any] | None = None


def _describe(exc: ValidationError) -> tuple[str, dict[str, Any]]:
    errs = exc.errors(include_url=False, include_input=False)
    first = errs[0]
    where = ".".join(str(p) for p in first["loc"]) or "frame"
    fields = [{"field": ".".join(str(p) for p in e["loc"]), "error": e["msg"]} for e in errs[:10]]
    return f"{where}: {first['msg']}", {"fields": fields}


_NUL = "\x00"
_NUL_ESCAPE = "\\u0000"
_NUL_ESCAPE_BYTES = _NUL_ESCAPE.encode()
# a \uD800-\uDFFF escape, not preceded by an escaped backslash (`\\ud800` is plain text)
_SURROGATE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_KEY_SHOWN = 40  # characters of a key quoted in an error message


def _has_nul_escape(raw: bytes | str) -> bool:
    return (_NUL_ESCAPE in raw) if isinstance(raw, str) else (_NUL_ESCAPE_BYTES in raw)


def nul_path(obj: Any) -> str | None:
    """Where the first string (value or key) containing U+0000 is, or None.

    Iterative: frames nest up to orjson's 1,024 levels."""
    stack: list[tuple[Any, str]] = [(obj, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if _NUL in node:
                return path or "frame"
        elif isinstance(node, dict):
            for key, value in node.items():
                shown = key[:_KEY_SHOWN].replace(_NUL, "\\u0000")
                here = f"{path}.{shown}" if path else shown
                if _NUL in key:
                    return here
                stack.append((value, here))
        elif isinstance(node, list):
            stack.extend((value, f"{path}[{i}]") for i, value in enumerate(node))
    return None


def _rid_despite_surrogates(raw: bytes | str) -> Any:
    """The rid of a frame orjson refused over an unpaired UTF-16 surrogate escape.

    JavaScript's JSON.stringify writes a lone surrogate (a string cut inside an emoji)
    as an escape such as `\\ud83d`; orjson rightly refuses it, but the reply must still
    carry the rid or the client never learns which request failed. So every surrogate
    escape is read as U+FFFD, by the same parser with the same limits. Error path only."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode()
        except UnicodeDecodeError:  # raw surrogate bytes: not even UTF-8
            return None
    try:
        obj = orjson.loads(_SURROGATE_ESCAPE.sub(r"\1\\ufffd", raw))
    except orjson.JSONDecodeError:
        return None
    rid = obj.get("rid") if isinstance(obj, dict) else None
    if isinstance(rid, bool) or not isinstance(rid, (int, str)):
        return None
    if isinstance(rid, str) and (len(rid) > 64 or "\ufffd" in rid):  # not the rid the client sent
        return None
    return rid


def parse_request(raw: bytes | str) -> Request:
    """Decode and validate one client frame, or raise FrameError."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "surrogate" in exc.msg:
            message = "strings may not contain unpaired UTF-16 surrogates (U+D800 to U+DFFF)"
            raise FrameError(_rid_despite_surrogates(raw), "bad_request", message) from None
        raise FrameError(None, "bad_request", f"frame is not valid JSON: {exc.msg}") from None
    if not isinstance(obj, dict):
        raise FrameError(None, "bad_request", "frame must be a JSON object")
    rid = obj.get("rid")
    if not isinstance(rid, (int, str)) or isinstance(rid, bool) or (isinstance(rid, str) and len(rid) > 64):
        raise FrameError(None, "bad_request", "rid is required: an integer or a string of up to 64 characters")
    if _has_nul_escape(raw):
        where = nul_path(obj)
        if where is not None:
            error = "strings may not contain U+0000 (NUL)"
            details = {"fields": [{"field": where, "error": error}]}
            raise FrameError(rid, "bad_request", f"{where}: {error}", details)
    t = obj.get("t")
    model = FRAME_TYPES.get(t) if isinstance(t, str) else None
    if model is None:
        raise FrameError(rid, "bad_request", f"unknown frame type {t!r}" if isinstance(t, str) else "t is required")
    try:
        return model.model_validate(obj)  # type: ignore[return-value]
    except ValidationError as exc:
        message, details = _describe(exc)
        raise FrameError(rid, "bad_request", message, details) from None
