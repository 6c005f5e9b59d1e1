"""The feature switches as the server enforces them (client configuration, 终端配置).

Hiding a button is the client's part; a switched-off feature must also be refused by
the server, or any SDK, script or older client would go on using it. One `FeatureGate`
per node is shared by the services that act on a feature (messages, groups, contacts,
uploads): each asks it once, synchronously (a dict lookup, no I/O on the send path),
and `ClientSettings` replaces its switches when the configuration changes on any node.

A refusal is `forbidden` with `details.feature` naming the switch, so a client can say
"the administrator has switched off recall" in its own language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from semot.errors import Forbidden, TooLarge
from semot.protocol.client_config import FEATURES

# message kind -> the switch that allows it (text, custom and system need none)
KIND_FEATURES = {
    "file": "files",
    "image": "images",
    "voice": "voice",
    "video": "video",
    "location": "location",
    "card": "cards",
}
# an upload's declared type (major part) -> the switch that allows it besides `files`
_UPLOAD_FEATURES = {"image": "images", "audio": "voice", "video": "video"}

_WHAT = {
    "friends": "Friend requests are",
    "groups": "Creating and joining groups is",
    "files": "Sending files is",
    "images": "Sending pictures is",
    "voice": "Sending voice messages is",
    "video": "Sending videos is",
    "location": "Sending locations is",
    "cards": "Sending contact cards is",
    "calls": "Calls are",
    "burn": "Burn-after-reading is",
    "recall": "Recalling messages is",
    "edit": "Editing messages is",
    "reactions": "Reactions are",
    "directory": "The organisation directory is",
}


class FeatureGate:
    """What the server allows now. Every switch is on until a configuration says otherwise."""

    def __init__(self) -> None:
        self.features: dict[str, bool] = dict(FEATURES)
        self.max_upload_bytes = 0  # 0: only the server's own limit (file_max_bytes)

    def set(self, features: Mapping[str, bool], max_upload_bytes: int) -> None:
        self.features = {name: bool(features.get(name, on)) for name, on in FEATURES.items()}
        self.max_upload_bytes = max_upload_bytes

    def enabled(self, feature: str) -> bool:
        return self.features.get(feature, True)

    def require(self, feature: str) -> None:
        """Refuse (`forbidden`, details.feature) unless `feature` is switched on."""
        if not self.features.get(feature, True):
            raise Forbidden(f"{_WHAT.get(feature, feature)} switched off by the administrator", feature=feature)

    def check_send(self, kind: str, opts: Mapping[str, Any] | None) -> None:
        """A message of `kind` with `opts`: its kind's switch, and burn-after-reading's."""
        feature = KIND_FEATURES.get(kind)
        if feature is not None:
            self.require(feature)
        if opts and opts.get("burn_s"):
            self.require("burn")

    def check_upload(self, length: int, declared_type: str) -> None:
        """A new upload of `length` bytes whose client says it is `declared_type`.

        With `files` off, pictures, sound and video may still be uploaded while their own
        switch is on (avatars, picture and voice messages); the declared type is only the
        client's word, but what is sent is checked again by kind at `send` (the sniffed
        type must fit the kind), so a file disguised as a picture cannot be sent as a file."""
        if self.max_upload_bytes and length > self.max_upload_bytes:
            raise TooLarge(f"files may be at most {self.max_upload_bytes} bytes on this server")
        if self.features.get("files", True):
            return
        major = declared_type.split("/", 1)[0].strip().lower()
        other = _UPLOAD_FEATURES.get(major)
        if other is not None and self.features.get(other, True):
            return
        self.require("files")
