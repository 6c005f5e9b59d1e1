"""Issue 11, defect 7, in a real browser: the own presence dot under the offline banner,
and English grammar ("muted you", "1 message waiting", plural forms)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import PASSWORD, direct, http_json, new_user
from tests.support.server import ServerProcess


def login(server: ServerProcess, user: str) -> str:
    return str(http_json("POST", server.base + "/api/v1/auth/login", {"username": user, "password": PASSWORD})["access_token"])


def offline_noise(m: str) -> bool:
    return "WebSocket" in m or "ERR_INTERNET_DISCONNECTED" in m


def test_own_presence_dot_is_not_green_while_offline(server: ServerProcess, open_tab: Any) -> None:
    """Before: the dot stayed green ("online") under the offline banner. And the banner
    counted "1 messages waiting"."""
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a = open_tab(alice, locale="en")
    page = a.page
    page.wait_for_selector("[data-testid=my-presence][data-status=online]")
    a.open_direct(bob)

    a.context.set_offline(True)
    page.wait_for_selector("[data-testid=conn-banner][data-state=offline]")
    dot = page.wait_for_selector("[data-testid=my-presence]:not([data-status=online])")
    assert dot.get_attribute("data-status") in ("offline", "connecting")
    assert dot.get_attribute("title") in ("Offline", "Connecting")

    a.send("one")
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=conn-banner] .conn-pending') || {}).textContent?.includes('1 message waiting to be sent')"
    )
    a.send("two")
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=conn-banner] .conn-pending') || {}).textContent?.includes('2 messages waiting to be sent')"
    )

    a.context.set_offline(False)
    a.wait_open()
    page.wait_for_selector("[data-testid=my-presence][data-status=online]")
    a.wait_texts(["one", "two"])
    page.wait_for_selector("[data-testid=conn-banner]", state="detached")
    a.assert_no_console_errors(allow=offline_noise)
    assert direct(alice, bob)


def test_english_says_muted_you_and_uses_singulars(server: ServerProcess, open_tab: Any) -> None:
    """Before: "alice muted You" and "1 members"."""
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    token = login(server, alice)
    group = http_json("POST", server.base + "/api/v1/groups", {"name": "Grammar", "members": [bob]}, token)
    gid, conv = group["group_id"], group["conv"]
    http_json("PUT", f"{server.base}/api/v1/groups/{gid}/members/{bob}/mute", {"until": 4_102_444_800_000}, token)
    alone = http_json("POST", server.base + "/api/v1/groups", {"name": "Just me", "members": []}, token)

    b = open_tab(bob, locale="en")
    b.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{conv}']")
    b.open_conv(conv)
    notice = b.page.wait_for_selector(f"[data-testid=system-notice]:has-text('{alice} muted you')")
    assert "You" not in notice.inner_text()

    a = open_tab(alice, locale="en")
    a.page.wait_for_selector(f"[data-testid=conv-item][data-conv='{alone['conv']}']")
    a.open_conv(alone["conv"])
    a.page.wait_for_function("() => document.querySelector('[data-testid=chat-sub]')?.textContent.trim() === '1 member'")
    a.open_conv(conv)
    a.page.wait_for_selector(f"[data-testid=system-notice]:has-text('You muted {bob}')")
    a.page.wait_for_function("() => document.querySelector('[data-testid=chat-sub]')?.textContent.trim() === '2 members'")

    # every English string that counts a noun has its singular; Chinese needs none
    missing = a.js(
        """async () => {
            const m = await import('/web/app/i18n.js');
            const en = m.MESSAGES.en;
            return Object.entries(en)
              .filter(([k, v]) => !k.includes('#') && /(^|[^–-])\\{n\\} [a-z]+s\\b/.test(v) && !/\\{n\\} (unread|selected)/.test(v))
              .filter(([k]) => !en[k + '#one'])
              .map(([k]) => k);
        }"""
    )
    assert missing == [], f"English strings with a count but no singular: {missing}"
    forms = a.js(
        """async () => {
            const m = await import('/web/app/i18n.js');
            return [m.t('conn.pending', {n: 1}), m.t('conn.pending', {n: 0}), m.t('chat.members', {n: 21}), m.pluralOf(1, 'zh-CN')];
        }"""
    )
    assert forms == ["1 message waiting to be sent", "0 messages waiting to be sent", "21 members", "other"]
    a.assert_no_console_errors()
    b.assert_no_console_errors(allow=lambda m: "403" in m or "Forbidden" in m)
