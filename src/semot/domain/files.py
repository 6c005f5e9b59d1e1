"""Uploaded files: the record the database keeps of each (the bytes live in a BlobStore).

A file is an upload until its last byte arrives (`completed_at` set); then its `mime`
is the type sniffed from its bytes, never the one the client declared. `size` is the
length announced at creation (tus `Upload-Length`), `offset` how much of it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

# What references a file (file_refs.kind): a message, an avatar (of a user or a group)
REF_MESSAGE = "message"
REF_AVATAR = "avatar"


@dataclass(slots=True)
class FileRecord:
    id: str
    owner: str
    name: str
    size: int
    offset: int
    mime: str
    created_at: int
    expires_at: int | None = None  # an unfinished upload is removed after this
    sha256: str | None = None  # hex, set on completion
    w: int | None = None
    h: int | None = None
    duration_ms: int | None = None
    completed_at: int | None = None
    deleted_at: int | None = None

    @property
    def complete(self) -> bool:
        return self.completed_at is not None


@dataclass(frozen=True, slots=True)
class FileRef:
    """Something that keeps a file alive and may grant access to it: a message of
    `conv` (`ref` = the message's mid, known before its seq, so the row can be written
    in the transaction that stores the message), or an avatar (`ref` = the user or
    group id, `conv` None: an avatar grants no access through conversations)."""

    file_id: str
    kind: str
    ref: str
    conv: str | None
    created_at: int
