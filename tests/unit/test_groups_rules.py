"""Group permission rules, without storage or sockets."""

from __future__ import annotations

import pytest

from semot.domain import groups as rules
from semot.errors import BadRequest, Forbidden, Muted


def test_presets_and_merging() -> None:
    assert rules.default_settings("department")["invite"] == "admin"
    assert rules.default_settings("temporary")["join"] == "open"
    with pytest.raises(BadRequest):
        rules.default_settings("club")
    merged = rules.merge_settings(rules.default_settings("project"), {"join": "closed", "mute_all": True})
    assert merged["join"] == "closed" and merged["mute_all"] is True
    for bad in ({"join": "maybe"}, {"color": "red"}, {"mute_all": "yes"}, {"member_leave": 1}):
        with pytest.raises(BadRequest):
            rules.merge_settings({}, bad)


def test_invitations() -> None:
    project = rules.default_settings("project")
    assert rules.invitation_needs_approval("member", project) is False
    assert rules.invitation_needs_approval("admin", {**project, "invite": "approval"}) is False
    assert rules.invitation_needs_approval("member", {**project, "invite": "approval"}) is True
    with pytest.raises(Forbidden):
        rules.invitation_needs_approval("member", rules.default_settings("department"))
    with pytest.raises(Forbidden):
        rules.invitation_needs_approval(None, project)


def test_join_policies() -> None:
    assert rules.check_join({"join": "open"}) is False
    assert rules.check_join({"join": "approval"}) is True
    with pytest.raises(Forbidden):
        rules.check_join({"join": "closed"})


@pytest.mark.parametrize(
    ("actor", "target", "ok"),
    [("owner", "admin", True), ("owner", "member", True), ("admin", "member", True), ("admin", "admin", False),
     ("admin", "owner", False), ("member", "member", False), ("owner", "owner", False)],
)
def test_kick_and_mute_need_higher_rank(actor: str, target: str, ok: bool) -> None:
    if ok:
        rules.check_over(actor, target, "remove")
    else:
        with pytest.raises(Forbidden):
            rules.check_over(actor, target, "remove")


def test_leave() -> None:
    rules.check_leave("member", {"member_leave": True})
    with pytest.raises(Forbidden):
        rules.check_leave("owner", {})
    with pytest.raises(Forbidden):
        rules.check_leave("member", {"member_leave": False})
    rules.check_leave("admin", {"member_leave": False})  # admins may always step out


def test_send_mutes_and_mentions() -> None:
    rules.check_send("member", None, {}, 1000)
    with pytest.raises(Muted):
        rules.check_send("member", 2000, {}, 1000)
    rules.check_send("member", 500, {}, 1000)  # mute over
    with pytest.raises(Muted):
        rules.check_send("member", None, {"mute_all": True}, 1000)
    rules.check_send("admin", 2000, {"mute_all": True}, 1000)  # managers are exempt
    with pytest.raises(Forbidden):
        rules.check_send(None, None, {}, 1000)
    with pytest.raises(Forbidden):
        rules.check_mention_all("member")
    rules.check_mention_all("owner")


def test_findable_by_name_only_when_searchable_and_by_id_unless_closed() -> None:
    assert rules.findable("project", {}, by_id=False)  # preset: searchable, join by approval
    assert not rules.findable("temporary", {}, by_id=False) and rules.findable("temporary", {}, by_id=True)
    assert not rules.findable("department", {"searchable": True}, by_id=True)  # closed: nobody can join
    assert not rules.findable("project", {"join": "closed"}, by_id=True)
    # groups stored before `searchable` existed get their type's preset
    assert rules.effective_settings("project", {"join": "open"})["searchable"] is True
    assert rules.effective_settings("project", {"searchable": False})["searchable"] is False
