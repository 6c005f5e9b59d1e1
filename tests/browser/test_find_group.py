"""Finding a group and joining it from the web client: search by name (searchable
groups only) or by exact id, ask to join with a message, or join an open group."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import PASSWORD, http_json, new_user, server_history
from tests.support.server import ServerProcess


def _token(server: ServerProcess, user: str) -> str:
    return http_json("POST", server.base + "/api/v1/auth/login", {"username": user, "password": PASSWORD})["access_token"]


def test_find_a_group_ask_to_join_and_join_an_open_one(server: ServerProcess, open_tab: Any) -> None:
    owner, outsider = new_user(server, "own"), new_user(server, "out")
    tok = _token(server, owner)
    api = server.base + "/api/v1/groups"
    tag = owner[-6:]
    project = http_json("POST", api, {"name": f"<b>Design</b> {tag}", "members": []}, tok)
    temp = http_json("POST", api, {"name": f"Lunch {tag}", "members": [], "type": "temporary"}, tok)

    t = open_tab(outsider)
    page = t.page
    page.click("[data-testid=new-menu]")
    page.click("[data-testid=find-group]")
    # by part of the name: only the searchable project group (temporary groups are not)
    page.fill("[data-testid=find-group-q]", tag)
    page.click("[data-testid=find-group-search]")
    row = page.wait_for_selector(f"[data-testid=found-group][data-group='{project['group_id']}']")
    assert page.locator("[data-testid=found-group]").count() == 1
    assert f"<b>Design</b> {tag}" in row.inner_text()  # shown as text, never as markup
    assert "需管理员审核" in row.inner_text() and "1 人" in row.inner_text()
    # asking takes an optional message, then says it was sent
    row.query_selector("[data-testid=find-group-join]").click()
    page.fill("[data-testid=find-group-message]", "I draw things")
    page.press("[data-testid=find-group-message]", "Enter")
    page.wait_for_selector("[data-testid=find-group-sent]")
    pending = http_json("GET", f"{api}/{project['group_id']}/requests", token=tok)["requests"]
    assert [(r["user_id"], r["message"]) for r in pending] == [(outsider, "I draw things")]

    # nothing to find: a clear hint
    page.fill("[data-testid=find-group-q]", f"nothing-{tag}")
    page.click("[data-testid=find-group-search]")
    page.wait_for_selector("[data-testid=find-group-none]")

    # by exact id: the open temporary group; joining opens its chat at once
    page.fill("[data-testid=find-group-q]", temp["group_id"])
    page.press("[data-testid=find-group-q]", "Enter")
    row = page.wait_for_selector(f"[data-testid=found-group][data-group='{temp['group_id']}']")
    row.query_selector("[data-testid=find-group-join]").click()
    page.wait_for_selector(f"[data-testid=chat][data-conv='{temp['conv']}']")
    t.send("hi all")
    t.wait_texts(["hi all"])
    page.wait_for_function(
        "c => window.__semot.state.convs[c] && window.__semot.state.convs[c].name", arg=temp["conv"]
    )
    texts = [m["body"].get("text") for m in server_history(server, owner, temp["conv"]) if m["kind"] == "text"]
    assert texts == ["hi all"]

    # the owner makes the temporary group findable by name from its panel, which also
    # shows the group id to share
    o = open_tab(owner)
    o.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{temp['conv']}']")
    o.open_conv(temp["conv"])
    o.page.click("[data-testid=group-info]")
    assert o.page.inner_text("[data-testid=gp-id]") == temp["group_id"]
    o.page.click("[data-testid=gp-policy-searchable]")
    o.page.wait_for_function(
        "() => document.querySelector('[data-testid=gp-policy-searchable]').classList.contains('is-checked')"
    )
    for _ in range(50):
        if http_json("GET", f"{api}/{temp['group_id']}", token=tok)["settings"]["searchable"] is True:
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("searchable was not saved")
    page.click("[data-testid=new-menu]")
    page.click("[data-testid=find-group]")
    page.fill("[data-testid=find-group-q]", f"lunch {tag}")
    page.click("[data-testid=find-group-search]")
    page.wait_for_selector(f"[data-testid=found-group][data-group='{temp['group_id']}'] [data-testid=find-group-enter]")
    page.keyboard.press("Escape")

    # searching again shows membership: "open" instead of "join"
    page.click("[data-testid=new-menu]")
    page.click("[data-testid=find-group]")
    page.fill("[data-testid=find-group-q]", temp["group_id"])
    page.click("[data-testid=find-group-search]")
    page.wait_for_selector(f"[data-testid=found-group][data-group='{temp['group_id']}'] [data-testid=find-group-enter]")
    t.assert_no_console_errors()
    o.assert_no_console_errors()
