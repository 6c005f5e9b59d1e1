"""Message kinds, body validation and the rules of recall and burn-after-reading."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from semot.domain.files import FileRecord
from semot.errors import BadRequest, Conflict, Forbidden, NotFound
from semot.ids import ID_PATTERN

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]

MEDIA_KINDS = frozenset({"image", "voice", "video", "file"})
RECALLED = "recalled"
BURNED = "burned"
SYSTEM = "system"
# who recalled a message (the `recalled_role` of a tombstone, docs/protocol.md)
RecallRole = Literal["sender", "group_admin", "admin"]
ROLE_SENDER: RecallRole = "sender"
ROLE_GROUP_ADMIN: RecallRole = "group_admin"
ROLE_ADMIN: RecallRole = "admin"
RECALL_ROLES = (ROLE_SENDER, ROLE_GROUP_ADMIN, ROLE_ADMIN)
MAX_CUSTOM_DEPTH = 32
MAX_CUSTOM_BYTES = 16 * 1024
MAX_VOICE_MS = 10 * 60 * 1000
REPLY_TEXT_CHARS = 200  # how much of the original a reply's excerpt keeps
# What the sniffed type of a file message's file must start with ("": anything)
KIND_MIME = {"image": "image/", "voice": "audio/", "video": "video/", "file": ""}
# Containers that magic numbers cannot tell audio-only from video: a recording from a
# browser's MediaRecorder (audio/webm, audio/mp4) sniffs as video/*. A voice message may
# be one of these as long as nothing measured a picture in it (no w/h on the record).
_AUDIO_CONTAINERS = frozenset({"video/webm", "video/mp4", "video/ogg"})


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class TextBody(_Body):
    text: Annotated[str, StringConstraints(min_length=1)]
    mentions: Annotated[list[Id], Field(max_length=200)] | None = None
    mention_all: bool | None = None


class LocationBody(_Body):
    lat: Annotated[float, Field(ge=-90, le=90)]
    lng: Annotated[float, Field(ge=-180, le=180)]
    title: Annotated[str, StringConstraints(max_length=200)] | None = None
    address: Annotated[str, StringConstraints(max_length=500)] | None = None


class CardBody(_Body):
    user_id: Id


class CustomBody(_Body):
    type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    data: Any


class FileBody(_Body):
    """What a client sends for image/voice/video/file: the file, and the duration of a
    voice or video message. Every other field the server fills from the stored file; the
    ones a client may send (its own guess, or a received body forwarded as it is) are
    accepted and overwritten, whatever they hold."""

    file_id: Id
    duration_ms: Annotated[int, Field(ge=0)] | None = None
    name: Any = None
    size: Any = None
    mime: Any = None
    w: Any = None
    h: Any = None
    url: Any = None
    thumb_url: Any = None


class ReplyTo(_Body):
    """`reply_to` in a body: the quoted message's seq. The excerpt fields a client may
    send (its local preview, or a received body sent on as it is) are accepted and
    overwritten: the server fills them from the stored original."""

    seq: Annotated[int, Field(ge=1)]
    model_config = ConfigDict(strict=True, extra="ignore")


class Opts(_Body):
    burn_s: Annotated[int, Field(ge=1)] | None = None


BODY_MODELS: dict[str, type[_Body]] = {
    "text": TextBody,
    "location": LocationBody,
    "card": CardBody,
    "custom": CustomBody,
}


def _fail(prefix: str, exc: ValidationError) -> BadRequest:
    e = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in e["loc"])
    return BadRequest(f"{prefix}{'.' + where if where else ''}: {e['msg']}")


def nesting_exceeds(value: Any, limit: int) -> bool:
    """True when arrays/objects nest deeper than `limit` (a scalar is depth 0).

    Iterative, so a payload nested a thousand levels deep costs a loop, not a stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def _check_custom_data(data: Any, max_depth: int, max_bytes: int) -> None:
    """Bound what integrators may put in `data`: beyond ~254 levels no JSON encoder on
    the write path copes, and a huge payload would bloat every history page it is on."""
    if nesting_exceeds(data, max_depth):
        raise BadRequest(f"body.data: nested deeper than {max_depth} levels (max_custom_depth)")
    try:
        size = len(orjson.dumps(data))
    except (TypeError, ValueError) as exc:  # JSONEncodeError: e.g. an integer beyond 64 bits
        raise BadRequest(f"body.data: not encodable as JSON: {exc}") from None
    if size > max_bytes:
        raise BadRequest(f"body.data: {size} bytes as JSON, over the limit of {max_bytes} (max_custom_bytes)")


def validate_body(
    kind: str,
    body: dict[str, Any],
    *,
    max_text_chars: int,
    max_custom_depth: int = MAX_CUSTOM_DEPTH,
    max_custom_bytes: int = MAX_CUSTOM_BYTES,
) -> dict[str, Any]:
    """Return the normalised body to store, or raise bad_request saying what is wrong.

    A `reply_to` (any kind) is taken off before the kind's model sees the body and put
    back as `{"seq"}`: the server fills the excerpt later (`reply_excerpt`)."""
    if "reply_to" in body:
        body = dict(body)
        reply = body.pop("reply_to")
        try:
            seq = ReplyTo.model_validate(reply).seq
        except ValidationError as exc:
            raise _fail("body.reply_to", exc) from None
        clean = validate_body(
            kind, body, max_text_chars=max_text_chars, max_custom_depth=max_custom_depth, max_custom_bytes=max_custom_bytes
        )
        return {**clean, "reply_to": {"seq": seq}}
    if kind in MEDIA_KINDS:
        try:
            media = FileBody.model_validate(body)
        except ValidationError as exc:
            raise _fail("body", exc) from None
        return media.model_dump(include={"file_id", "duration_ms"}, exclude_none=True)
    if kind == "text" and len(body) == 1:  # the commonest body, plainly valid: what TextBody would return
        text = body.get("text")
        if type(text) is str and 0 < len(text) <= max_text_chars:
            return {"text": text}
    model = BODY_MODELS.get(kind)
    if model is None:
        raise BadRequest(f"unknown message kind {kind!r}")
    try:
        parsed = model.model_validate(body)
    except ValidationError as exc:
        raise _fail("body", exc) from None
    if isinstance(parsed, TextBody) and len(parsed.text) > max_text_chars:
        raise BadRequest(f"body.text: longer than {max_text_chars} characters")
    if isinstance(parsed, CustomBody):
        _check_custom_data(parsed.data, max_custom_depth, max_custom_bytes)
    return parsed.model_dump(exclude_unset=True)


def reply_excerpt(original: Message) -> dict[str, Any]:
    """The quote stored in a reply: who wrote what, from the stored original only.

    Text is copied for `text` (cut to REPLY_TEXT_CHARS), the name of a file and a
    location's title; a burn-after-reading original quotes no content (the reply would
    outlive the burn), a recalled or burned one only its kind."""
    excerpt: dict[str, Any] = {"seq": original.seq, "from": original.sender, "kind": original.kind}
    if original.opts.get("burn_s"):
        return excerpt
    body = original.body
    text: Any = None
    if original.kind == "text":
        text = body.get("text")
    elif original.kind in MEDIA_KINDS:
        text = body.get("name") if original.kind == "file" else None
    elif original.kind == "location":
        text = body.get("title") or body.get("address")
    if isinstance(text, str) and text:
        excerpt["text"] = text if len(text) <= REPLY_TEXT_CHARS else text[: REPLY_TEXT_CHARS - 1] + "…"
    return excerpt


def check_reply_target(original: Message | None, seq: int) -> None:
    if original is None:
        raise NotFound(f"body.reply_to.seq: no message {seq} in this conversation")
    if original.kind == SYSTEM:
        raise BadRequest("body.reply_to.seq: a system notice cannot be replied to")


def message_file_id(kind: str, body: dict[str, Any]) -> str | None:
    """The file a stored message references (its file_refs row), None for other kinds."""
    if kind not in MEDIA_KINDS:
        return None
    file_id = body.get("file_id")
    return file_id if isinstance(file_id, str) else None


def media_body(kind: str, record: FileRecord, client_duration_ms: int | None) -> dict[str, Any]:
    """The body to store for a file message: every field from the stored (complete)
    record, never from the client, but the duration when nothing measured one.

    BadRequest when the file's sniffed type does not fit the kind, or a voice or video
    message has no usable duration."""
    mime = record.mime
    fits = mime.startswith(KIND_MIME[kind]) or (
        kind == "voice" and mime in _AUDIO_CONTAINERS and record.w is None and record.h is None
    )
    if not fits:
        raise BadRequest(
            f"body.file_id: the file is {mime}, which does not fit a {kind} message "
            f"(needs {KIND_MIME[kind]}*; send it as kind 'file')"
        )
    if kind == "image" and (record.w is None or record.h is None):
        # Beyond max_image_pixels, or undecodable: a client could not show it inline.
        raise BadRequest("body.file_id: the server could not read this picture's size; send it as kind 'file'")
    body: dict[str, Any] = {"file_id": record.id, "name": record.name, "size": record.size, "mime": mime}
    if kind in ("image", "video"):
        body.update({k: v for k, v in (("w", record.w), ("h", record.h)) if v is not None})
    if kind in ("voice", "video"):
        duration = record.duration_ms if record.duration_ms is not None else client_duration_ms
        if duration is None:
            raise BadRequest(f"body.duration_ms: required for a {kind} message (the server could not measure it)")
        if kind == "voice" and not 1 <= duration <= MAX_VOICE_MS:
            raise BadRequest(f"body.duration_ms: a voice message lasts 1 ms to {MAX_VOICE_MS // 60000} minutes")
        if kind == "video" and duration <= 0:
            raise BadRequest("body.duration_ms: must be more than 0")
        body["duration_ms"] = duration
    return body


def validate_opts(opts: dict[str, Any] | None, *, max_burn_s: int) -> dict[str, Any]:
    if not opts:
        return {}
    try:
        parsed = Opts.model_validate(opts)
    except ValidationError as exc:
        raise _fail("opts", exc) from None
    if parsed.burn_s is not None and parsed.burn_s > max_burn_s:
        raise BadRequest(f"opts.burn_s: at most {max_burn_s} seconds")
    return parsed.model_dump(exclude_none=True)


@dataclass(slots=True)
class Message:
    """A stored message; `seq` is its place in the conversation, gap-free from 1."""

    conv: str
    seq: int
    mid: str
    cid: str
    sender: str
    kind: str
    body: dict[str, Any]
    ts: int
    opts: dict[str, Any] = field(default_factory=dict)
    # Edits and reactions (docs/protocol.md, "Edits and reactions"): on the wire only
    # when set, so a message nobody touched looks exactly as the contract shows it.
    edited_ts: int | None = None
    reactions: list[dict[str, Any]] | None = None  # [{"emoji","count","users"}], first reacted first
    change_seq: int | None = None  # its conversation's change cursor at its last edit/reaction (not sent)
    # Who recalled it and as what (docs/protocol.md, "Recall by group managers and
    # administrators"): on the wire only on a recalled message whose recaller is known.
    recalled_by: str | None = None
    recalled_role: str | None = None  # RECALL_ROLES

    def to_wire(self) -> dict[str, Any]:
        wire = {
            "t": "msg",
            "conv": self.conv,
            "seq": self.seq,
            "mid": self.mid,
            "cid": self.cid,
            "from": self.sender,
            "kind": self.kind,
            "body": self.body,
            "ts": self.ts,
            "opts": self.opts,
        }
        if self.edited_ts is not None:
            wire["edited_ts"] = self.edited_ts
        if self.reactions:
            wire["reactions"] = self.reactions
        if self.recalled_by is not None and self.kind == RECALLED:
            wire["recalled_by"] = self.recalled_by
            wire["recalled_role"] = self.recalled_role or ROLE_SENDER
        return wire


def recall_role(
    msg: Message,
    user_id: str,
    now_ms: int,
    window_s: int,
    *,
    my_role: str | None = None,
    sender_role: str | None = None,
) -> RecallRole | None:
    """Who may recall a chat message, and in which role (RECALL_ROLES).

    The sender recalls their own message within the window. In a group (`my_role` and
    `sender_role`: the caller's and the sender's group roles, None outside a group or
    for a sender who left), the owner recalls any message and an admin any message of a
    plain member (or of someone no longer in the group) and their own, at any time;
    nobody recalls the owner's or another admin's message but the owner.

    Returns None when the message is already recalled (recalling twice is a no-op)."""
    if msg.kind == SYSTEM:
        raise Forbidden("system messages cannot be recalled")
    manager = my_role in ("owner", "admin")
    if msg.sender != user_id:
        if not manager:
            raise Forbidden("only the sender (or, in a group, its owner and admins) can recall a message")
        if my_role == "admin" and sender_role in ("owner", "admin"):
            raise Forbidden("a group admin recalls members' messages only, not the owner's or another admin's")
    if msg.kind == RECALLED:
        return None
    if msg.kind == BURNED:
        raise Forbidden("this message has already been burned")
    if msg.sender == user_id and not manager and now_ms - msg.ts > window_s * 1000:
        raise Forbidden(f"messages can only be recalled within {window_s} seconds")
    return ROLE_SENDER if msg.sender == user_id else ROLE_GROUP_ADMIN


def check_recall(msg: Message, user_id: str, now_ms: int, window_s: int, **roles: str | None) -> bool:
    """`recall_role` as a yes/no: False when the message is already recalled."""
    return recall_role(msg, user_id, now_ms, window_s, **roles) is not None


def check_admin_recall(msg: Message) -> bool:
    """An administrator (console, messages.recall) recalls any chat message at any time.

    False when it is already recalled; Conflict for a system notice or a burned message."""
    if msg.kind == SYSTEM:
        raise Conflict("system notices cannot be recalled")
    if msg.kind == RECALLED:
        return False
    if msg.kind == BURNED:
        raise Conflict("this message has already been burned")
    return True
