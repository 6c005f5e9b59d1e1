"""Events about one user, sent to them (their other devices) or to those who see them:
presence, profile, their own conversation settings, their uploaded files."""

from __future__ import annotations

from typing import Literal

from semot.protocol.events.base import _Event, _Model

PresenceStatus = Literal["online", "offline", "busy", "away"]


class PresenceEvent(_Event):
    """A user's status; `v` grows with each change (drop a push older than the last)."""

    evt: Literal["presence"] = "presence"
    user: str
    status: PresenceStatus
    text: str
    v: int


# --- profiles (docs/protocol.md, Profiles and avatars)


class ProfileEvent(_Event):
    """`user` changed their display name or avatar; sent to their devices, friends and
    co-members (services/profiles.py)."""

    evt: Literal["profile"] = "profile"
    user: str
    display_name: str
    avatar_url: str | None


# --- conversation settings (docs/protocol.md, Conversation settings)


class ConvSettingsEvent(_Event):
    """The user's own settings of `conv` changed on another of their devices.
    `hidden` with `hidden_seq` null: a conversation they are not in, removed from the list."""

    evt: Literal["conv_settings"] = "conv_settings"
    conv: str
    pinned_at: int | None
    dnd: bool
    hidden: bool
    hidden_seq: int | None


# --- files (docs/protocol.md, Files)


class FileUploaded(_Model):
    """An upload finished: what the server found the file to be (type sniffed from its bytes)."""

    type: Literal["uploaded"] = "uploaded"
    file_id: str
    name: str
    size: int
    mime: str
    sha256: str
    w: int | None = None
    h: int | None = None


class FileEvent(_Event):
    """Something happened to one of the user's files; sent to the uploader's devices."""

    evt: Literal["file"] = "file"
    change: FileUploaded
