"""The console's customer-service page in Chromium (docs/customer-service.md,
"Administration"): a queue and an agent made through the page, the widget's settings
saved (and the snippet to copy), and the statistics tab counting a visitor's left
message."""

from __future__ import annotations

import uuid

from tests.browser.admin.conftest import AdminConsole, request_json


def test_queues_agents_widget_settings_and_stats(admin_console: AdminConsole) -> None:
    kit = admin_console
    tab = kit.tab
    tab.goto("customer-service")
    page = tab.page

    # a queue
    name = f"售后问题-{uuid.uuid4().hex[:4]}"
    page.click("[data-testid=cs-queue-new]")
    page.fill("[data-testid=cs-queue-name]", name)
    page.click("[data-testid=cs-queue-save]")
    page.wait_for_selector(f"[data-testid='cs-queue-{name}']")
    queue = next(q for q in kit.api("GET", "/api/admin/v1/cs/queues")["queues"] if q["name"] == name)

    # an agent in it
    agent = kit.new_user("agent", display_name="客服小李")
    page.locator(".el-tabs__item", has_text="客服人员").click()
    page.click("[data-testid=cs-agent-new]")
    page.fill("[data-testid=cs-agent-user]", agent)
    page.locator("[data-testid=cs-agent-queues]").click()
    page.locator(".el-select-dropdown__item:visible", has_text=name).click()
    page.keyboard.press("Escape")
    page.click("[data-testid=cs-agent-save]")
    row = page.locator(f"[data-testid='cs-agent-{agent}']")
    row.wait_for()
    assert row.inner_text() == "客服小李"
    agents = kit.api("GET", "/api/admin/v1/cs/agents")["agents"]
    assert next(a for a in agents if a["user_id"] == agent)["queues"] == [queue["queue_id"]]

    # the widget's settings, and the snippet for the site
    page.locator(".el-tabs__item", has_text="网站插件").click()
    page.fill("[data-testid=cs-title]", "小店客服")
    page.fill("[data-testid=cs-origins]", "http://shop.test:8000\n")
    page.click("[data-testid=cs-settings-save]")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.el-message')].some(e => e.innerText.includes('已保存'))")
    saved = kit.api("GET", "/api/admin/v1/cs/settings")
    assert saved["title"] == "小店客服" and saved["allowed_origins"] == ["http://shop.test:8000"]
    assert f'src="{kit.base}/widget.js"' in page.locator("[data-testid=cs-snippet]").inner_text()

    # a visitor leaves a message (the agent is offline): the statistics count it
    visitor = request_json("POST", kit.base + "/api/v1/cs/visitors", {})
    request_json("POST", kit.base + "/api/v1/cs/sessions", {"queue_id": queue["queue_id"]},
                 token=visitor["access_token"])
    page.locator(".el-tabs__item", has_text="统计").click()
    page.click("[data-testid=cs-stats-refresh]")
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=cs-stat-conversations]')?.innerText) >= 1")
    assert name in page.locator("[data-testid=cs-stats]").inner_text()
    tab.assert_no_console_errors()
