"""Apply `evt contacts` changes to a contacts snapshot (`GET /api/v1/contacts`).

A client keeps the snapshot it fetched and folds every change into it; the result is
always what a fresh snapshot would return (the server's tests check exactly that).
"""

from __future__ import annotations

import copy
from typing import Any

Snapshot = dict[str, Any]


def _put(items: list[dict[str, Any]], key: str, item: dict[str, Any]) -> None:
    for i, existing in enumerate(items):
        if existing[key] == item[key]:
            items[i] = item
            return
    items.append(item)


def _drop(items: list[dict[str, Any]], key: str, value: Any) -> list[dict[str, Any]]:
    return [x for x in items if x[key] != value]


def normalise(snapshot: Snapshot) -> Snapshot:
    """The snapshot's canonical order (the server's own)."""
    out = copy.deepcopy(snapshot)
    out["friends"].sort(key=lambda f: f["user_id"])
    for side in ("incoming", "outgoing"):
        out["requests"][side].sort(key=lambda r: (r["created_at"], r["request_id"]))
    out["tags"].sort(key=lambda t: (t["name"], t["tag_id"]))
    for t in out["tags"]:
        t["members"] = sorted(t["members"])
    out["blacklist"].sort(key=lambda b: b["user_id"])
    return out


def apply_contacts_event(snapshot: Snapshot, change: dict[str, Any]) -> Snapshot:
    """A new snapshot with one change applied (the input is not modified)."""
    s = copy.deepcopy(snapshot)
    kind = change["type"]
    if kind in ("friend_added", "friend_updated"):
        _put(s["friends"], "user_id", change["friend"])
    elif kind == "friend_removed":
        s["friends"] = _drop(s["friends"], "user_id", change["user_id"])
    elif kind == "request_added":
        _put(s["requests"][change["direction"]], "request_id", change["request"])
    elif kind == "request_removed":
        for side in ("incoming", "outgoing"):
            s["requests"][side] = _drop(s["requests"][side], "request_id", change["request_id"])
    elif kind in ("tag_added", "tag_updated"):
        _put(s["tags"], "tag_id", change["tag"])
    elif kind == "tag_removed":
        s["tags"] = _drop(s["tags"], "tag_id", change["tag_id"])
    elif kind == "blocked":
        _put(s["blacklist"], "user_id", change["entry"])
    elif kind == "unblocked":
        s["blacklist"] = _drop(s["blacklist"], "user_id", change["user_id"])
    elif kind == "settings":
        s["settings"] = change["settings"]
    return normalise(s)
