"""File messages (image, voice, video, file): checking what a sender attaches, and the
signed URLs that go out with them (PROTOCOL.md sections 2.3 and 6).

On `send` the client names a `file_id`; the body that is stored is built here from the
stored file (size, mime, name, w, h, and the measured duration when there is one), so
nothing a client claims about a file is ever shown to others. Forwarding is the same
`send` with a file the sender may read: no second upload.

The stored body never holds a URL (a signed URL expires): `decorate` adds `url` (and
`thumb_url` for images and videos) to a copy of each file message on its way out, to
a push (signed once per event, at publish time: every recipient gets the same bytes),
a `history` page or `sync`'s `last`. The URLs are relative to the server
(`/api/v1/files/<id>/content?exp=...&sig=...`): the server does not know the name a
client reached it by behind a proxy, and a client resolves them against the base URL
it already talks to.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from semot.domain.messages import MEDIA_KINDS, Message, media_body
from semot.domain.records import ConvState
from semot.errors import BadRequest
from semot.storage.files import FileStorage

FILES_PATH = "/api/v1/files/"
_THUMBED = frozenset({"image", "video"})


class Signer(Protocol):
    """services.files.UrlSigner: `exp=...&sig=...` for a file and a purpose."""

    def query(self, file_id: str, purpose: str, now: int | None = None) -> str: ...


class Attachments:
    def __init__(self, files: FileStorage, signer: Signer | None = None) -> None:
        self._files = files
        # set by the composition root (the FileService's signer); without one, bodies go
        # out without URLs
        self.signer = signer

    async def resolve(self, user_id: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """The body to store for a file message that `user_id` sends; BadRequest when the
        file is not one they may send. An unknown file and someone else's unshared file
        get the same answer: whether a file id exists is nobody else's business."""
        file_id = body["file_id"]
        record = await self._files.get_file(file_id)
        if record is not None and record.owner == user_id and not record.complete:
            raise BadRequest(f"body.file_id: the upload of {file_id} is not complete yet")
        if record is None or not record.complete or not await self._files.can_read(file_id, user_id):
            raise BadRequest(f"body.file_id: no file {file_id} that you can read")
        return media_body(kind, record, body.get("duration_ms"))

    def urls(self, kind: str, file_id: str) -> dict[str, str]:
        if self.signer is None:
            return {}
        base = f"{FILES_PATH}{file_id}"
        out = {"url": f"{base}/content?{self.signer.query(file_id, 'content')}"}
        if kind in _THUMBED:
            out["thumb_url"] = f"{base}/thumb?{self.signer.query(file_id, 'thumb')}"
        return out

    def decorate(self, msg: Message) -> Message:
        """`msg` as it goes out: a file message gets a copy with fresh URLs; anything
        else is returned as it is (no copy on the hot path of text)."""
        if msg.kind not in MEDIA_KINDS:
            return msg
        file_id = msg.body.get("file_id")
        if not isinstance(file_id, str):
            return msg
        return replace(msg, body={**msg.body, **self.urls(msg.kind, file_id)})

    def decorate_all(self, msgs: list[Message]) -> list[Message]:
        return [self.decorate(m) for m in msgs]

    def decorate_states(self, states: list[ConvState]) -> list[ConvState]:
        for st in states:
            if st.last is not None:
                st.last = self.decorate(st.last)
        return states
