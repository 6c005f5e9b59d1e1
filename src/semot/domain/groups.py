"""Group roles, types and the permission rules of group management (pure functions).

Roles rank owner > admin > member. A group's type picks a preset of policies that the
owner may then change; every check here raises the wire error the client will see.
"""

from __future__ import annotations

from typing import Any, Literal

from semot.errors import BadRequest, Forbidden, Muted, NotFound

Role = Literal["owner", "admin", "member"]
RANK: dict[str, int] = {"owner": 3, "admin": 2, "member": 1}

# invite: who may add people directly ("member": anyone, "admin": owner/admins only;
#         with "approval", a member's invitation waits for an admin)
# join: how outsiders get in by themselves ("open", "approval", "closed")
# member_leave: whether members may leave on their own (departments follow the org tree)
# review: pre-moderation: plain members' messages wait for a reviewer (domain/moderation.py)
# searchable: whether group search finds it by name (an exact group id finds any group
#         that takes joiners: sharing the id is sharing an invitation)
PRESETS: dict[str, dict[str, Any]] = {
    "department": {"invite": "admin", "join": "closed", "member_leave": False, "mute_all": False, "searchable": False,
                   "review": False},
    "project": {"invite": "member", "join": "approval", "member_leave": True, "mute_all": False, "searchable": True,
                "review": False},
    "temporary": {"invite": "member", "join": "open", "member_leave": True, "mute_all": False, "searchable": False,
                   "review": False},
}
GROUP_KINDS = tuple(PRESETS)
SETTING_VALUES: dict[str, tuple[Any, ...]] = {
    "invite": ("member", "admin", "approval"),
    "join": ("open", "approval", "closed"),
    "member_leave": (True, False),
    "mute_all": (True, False),
    "searchable": (True, False),
    "review": (True, False),
}
MAX_SEARCH_RESULTS = 50


def is_manager(role: str | None) -> bool:
    return role in ("owner", "admin")


def default_settings(kind: str) -> dict[str, Any]:
    if kind not in PRESETS:
        raise BadRequest(f"type must be one of {', '.join(GROUP_KINDS)}")
    return dict(PRESETS[kind])


def effective_settings(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Stored settings over the type's preset: groups made before a setting existed get
    its preset value instead of a missing key."""
    return {**PRESETS.get(kind, PRESETS["project"]), **settings}


def findable(kind: str, settings: dict[str, Any], *, by_id: bool) -> bool:
    """Whether group search shows this group: never when it takes no joiners; by name
    only when it is searchable; by its exact id always (the id works as an invitation)."""
    eff = effective_settings(kind, settings)
    if eff["join"] == "closed":
        return False
    return by_id or bool(eff["searchable"])


def name_key(name: str) -> str:
    """What group search matches: the name case-folded (Unicode-wide, which SQLite's
    LIKE is not)."""
    return name.casefold()


def merge_settings(current: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = dict(current)
    for key, value in change.items():
        allowed = SETTING_VALUES.get(key)
        if allowed is None:
            raise BadRequest(f"unknown group setting {key!r}")
        if value not in allowed or type(value) is not type(allowed[0]):
            raise BadRequest(f"{key}: one of {', '.join(map(str, allowed))}")
        out[key] = value
    return out


def require_role(actor_role: str | None, *, at_least: str, action: str) -> None:
    if actor_role is None:
        raise Forbidden("you are not a member of this group")
    if RANK[actor_role] < RANK[at_least]:
        raise Forbidden(f"only the {'owner' if at_least == 'owner' else 'owner and admins'} can {action}")


def invitation_needs_approval(actor_role: str | None, settings: dict[str, Any]) -> bool:
    """True: the invitation waits for an admin; False: members are added at once."""
    require_role(actor_role, at_least="member", action="invite")
    if is_manager(actor_role):
        return False
    policy = str(settings.get("invite", "member"))
    if policy == "admin":
        raise Forbidden("only the owner and admins can invite to this group")
    return policy == "approval"


def check_join(settings: dict[str, Any]) -> bool:
    """True: a join request waits for approval; False: the user joins at once."""
    policy = str(settings.get("join", "approval"))
    if policy == "closed":
        raise Forbidden("this group does not take join requests; ask an admin to invite you")
    return policy == "approval"


def check_over(actor_role: str | None, target_role: str | None, action: str) -> None:
    """Kick / mute: a manager acts on someone of lower rank only."""
    require_role(actor_role, at_least="admin", action=action)
    if target_role is None:
        raise NotFound("that user is not a member of this group")
    if RANK[target_role] >= RANK[actor_role]:  # type: ignore[index]
        raise Forbidden(f"you cannot {action} a member of equal or higher role")


def check_leave(role: str | None, settings: dict[str, Any]) -> None:
    if role is None:
        raise Forbidden("you are not a member of this group")
    if role == "owner":
        raise Forbidden("the owner cannot leave: transfer ownership first, or dismiss the group")
    if role == "member" and not settings.get("member_leave", True):
        raise Forbidden("members cannot leave this group on their own")


def check_send(role: str | None, muted_until: int | None, settings: dict[str, Any], now_ms: int) -> None:
    if role is None:
        raise Forbidden("you are not a member of this group")
    if is_manager(role):
        return
    if muted_until is not None and muted_until > now_ms:
        raise Muted("you are muted in this group", until=muted_until)
    if settings.get("mute_all"):
        raise Muted("this group is muted: only the owner and admins can speak")


def check_mention_all(role: str | None) -> None:
    if not is_manager(role):
        raise Forbidden("only the owner and admins can mention everyone")
