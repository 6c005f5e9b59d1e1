"""Contacts rules: who may message or befriend whom (pure functions).

The server-wide `direct_message_policy` decides what a direct message needs: nothing
("anyone"), friendship ("friends"), or friendship or both users being in the
organisation directory ("friends_or_colleagues"). A block always wins.
"""

from __future__ import annotations

from typing import Any, Literal

from semot.errors import BadRequest, Blocked, Conflict, Forbidden

DirectPolicy = Literal["anyone", "friends", "friends_or_colleagues"]
DEFAULT_USER_SETTINGS: dict[str, Any] = {"friend_approval": True}
MAX_TAG_NAME = 64
MAX_REMARK = 128
MAX_REQUEST_MESSAGE = 500


def user_settings(stored: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULT_USER_SETTINGS, **{k: v for k, v in stored.items() if k in DEFAULT_USER_SETTINGS}}


def merge_user_settings(current: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = dict(current)
    for key, value in change.items():
        if key not in DEFAULT_USER_SETTINGS:
            raise BadRequest(f"unknown setting {key!r}")
        if type(value) is not type(DEFAULT_USER_SETTINGS[key]):
            raise BadRequest(f"{key}: must be {type(DEFAULT_USER_SETTINGS[key]).__name__}")
        out[key] = value
    return out


def check_direct(policy: str, *, blocked_by_peer: bool, friends: bool, colleagues: bool) -> None:
    if blocked_by_peer:
        raise Blocked("this user does not accept your messages")
    if policy == "anyone" or friends:
        return
    if policy == "friends_or_colleagues" and colleagues:
        return
    raise Forbidden("add this user as a friend before sending direct messages")


def check_friend_request(sender: str, target: str, *, blocked_by_target: bool, already_friends: bool) -> None:
    if sender == target:
        raise Forbidden("you cannot befriend yourself")
    if blocked_by_target:
        raise Blocked("this user does not accept friend requests from you")
    if already_friends:
        raise Conflict("you are already friends")


def check_tag_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_TAG_NAME:
        raise BadRequest(f"tag name: 1-{MAX_TAG_NAME} characters")
    return name
