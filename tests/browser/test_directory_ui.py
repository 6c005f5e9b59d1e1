"""The directory tab in a real browser: department tree, members, pinyin search, chat."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, direct, http_json
from tests.browser.test_social import shot
from tests.support.server import ServerProcess

ADMIN, ADMIN_PW = "boss", "boss-password-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own, with an administrator made before it starts."""
    data = tmp_path_factory.mktemp("dirui") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEMOT_")}
    made = subprocess.run(
        [sys.executable, "-m", "semot", "create-admin", ADMIN, "--password", ADMIN_PW, "--data-dir", str(data)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert made.returncode == 0, made.stderr
    srv = ServerProcess(data).start()
    yield srv
    srv.kill()


def test_find_a_colleague_by_pinyin_and_start_a_chat(server: ServerProcess, open_tab: Any) -> None:
    tag = uuid.uuid4().hex[:6]
    me, zw = f"me{tag}", f"zw{tag}"
    http_json("POST", server.base + "/api/v1/auth/register", {"username": me, "password": PASSWORD, "display_name": "Me Myself"})
    http_json("POST", server.base + "/api/v1/auth/register", {"username": zw, "password": PASSWORD, "display_name": "张伟"})
    token = http_json("POST", server.base + "/api/v1/auth/login", {"username": ADMIN, "password": ADMIN_PW})["access_token"]
    hq = http_json("POST", server.base + "/api/admin/v1/departments", {"name": f"总部{tag}"}, token)["department_id"]
    be = http_json("POST", server.base + "/api/admin/v1/departments", {"name": "后端组", "parent_id": hq}, token)["department_id"]
    http_json("PUT", f"{server.base}/api/admin/v1/departments/{be}/members/{zw}", {"title": "工程师"}, token)
    http_json("PUT", f"{server.base}/api/admin/v1/departments/{hq}/members/{me}", {"title": "<b>CEO</b>"}, token)
    a = open_tab(me)
    page = a.page
    page.click("[data-testid=nav-directory]")
    # the tree: the top department, its members (a title with markup shown as text)
    page.click(f"[data-testid=dir-dept][data-dept='{hq}']")
    row = page.wait_for_selector(f"[data-testid=dir-member][data-user='{me}']")
    assert "<b>CEO</b>" in row.inner_text()
    # a sub-department
    page.click(f"[data-testid=dir-tree] .el-tree-node__expand-icon")
    page.click(f"[data-testid=dir-dept][data-dept='{be}']")
    page.wait_for_selector(f"[data-testid=dir-member][data-user='{zw}']")
    page.wait_for_timeout(400)  # the tree's expand animation
    shot(page, "directory-tree-zh.png")
    # search by pinyin and by initials
    page.fill("[data-testid=dir-search]", "zhangw")
    hit = page.wait_for_selector(f"[data-testid=dir-result][data-user='{zw}']")
    assert "张伟" in hit.inner_text() and "后端组 · 工程师" in hit.inner_text()
    shot(page, "directory-search-zh.png")
    page.fill("[data-testid=dir-search]", "nobody-matches-this")
    page.wait_for_selector("[data-testid=dir-result]", state="detached")
    page.fill("[data-testid=dir-search]", "zw")
    page.click(f"[data-testid=dir-result][data-user='{zw}']")
    page.wait_for_selector(f"[data-testid=chat][data-conv='{direct(me, zw)}']")
    assert page.locator("[data-testid=chat-title]").inner_text() == "张伟"
    a.send("你好张伟")
    a.wait_texts(["你好张伟"])
    page.wait_for_selector("[data-testid=st-failed]", state="detached")
    a.assert_no_console_errors()
