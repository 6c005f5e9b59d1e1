"""The sensitive words page (敏感词) in Chromium against a real server: the Words tab (add,
filter by level and category, import a text file with its report, delete) and the Hits
tab (a new warn hit appears live and highlighted, filters, CSV export); user text shown
as text, never HTML; zh-CN and English."""

from __future__ import annotations

import csv
import io
import urllib.error
import uuid
from pathlib import Path

import pytest

from tests.browser.admin.conftest import AdminConsole, AdminTab, request_json

HOSTILE = '<img src=x onerror="window.__pwned=1">'


def rows(tab: AdminTab, table: str) -> int:
    return int(tab.page.locator(f"[data-testid={table}] .el-table__body-wrapper tr").count())


def wait_rows(tab: AdminTab, table: str, n: int) -> None:
    tab.page.wait_for_function(
        "([t, n]) => document.querySelectorAll(`[data-testid=${t}] .el-table__body-wrapper tr`).length === n",
        arg=[table, n],
    )


def _others(message: str) -> bool:
    return ("/admin/pages/" in message and "/admin/pages/sensitive-words" not in message) or "404" in message


def test_words_tab_add_filter_import_delete(admin_console: AdminConsole, tmp_path: Path) -> None:
    kit, tab = admin_console, admin_console.tab
    page = tab.page
    mark = uuid.uuid4().hex[:6]
    cat = f"c{mark}"
    tab.goto("sensitive-words")
    page.fill("[data-testid=sw-new-word]", f"bw{mark}")
    page.click("[data-testid=sw-new-level]")
    page.click("[data-testid=sw-new-level-block]")
    page.fill("[data-testid=sw-new-category]", cat)
    page.click("[data-testid=sw-add-button]")
    page.wait_for_function("m => document.querySelector('[data-testid=sw-table]').innerText.includes(m)", arg=f"bw{mark}")
    # import a file: words, a CSV line, a duplicate, a bad level, a hostile word
    path = tmp_path / "words.txt"
    path.write_text("\n".join([f"iw{mark}a", f"iw{mark}b", f"IW{mark}A", f"iw{mark}c,loud", f"iw{mark}d,replace",
                               f"{HOSTILE}{mark}"]), "utf-8")
    page.click("[data-testid=sw-import] .el-collapse-item__header")
    page.fill("[data-testid=sw-import-category]", cat)
    page.set_input_files("[data-testid=sw-import-file] input[type=file]", str(path))
    report = page.wait_for_selector("[data-testid=sw-import-report]")
    text = report.inner_text()
    assert "新增 4 个" in text and "重复 1 个" in text and "错误 1 行" in text and "第 4 行" in text, text
    # filter by category, then level
    page.fill("[data-testid=sw-q]", mark)
    page.click("[data-testid=sw-search]")
    wait_rows(tab, "sw-table", 5)
    assert HOSTILE + mark in page.inner_text("[data-testid=sw-table]") and page.evaluate("() => window.__pwned") is None
    page.click("[data-testid=sw-level]")
    page.click("[data-testid=sw-level-block]")
    wait_rows(tab, "sw-table", 1)
    # delete it
    page.click("[data-testid=sw-delete]")
    page.click(".el-message-box__btns .el-button--primary")
    wait_rows(tab, "sw-table", 0)
    listed = kit.api("GET", f"/api/admin/v1/sensitive-words?category={cat}")
    assert listed["total"] == 4 and all(w["level"] != "block" for w in listed["words"])
    tab.assert_no_console_errors(allow=_others)


def test_hits_tab_live_highlight_filters_export(admin_console: AdminConsole, tmp_path: Path) -> None:
    kit, tab = admin_console, admin_console.tab
    page = tab.page
    mark = uuid.uuid4().hex[:6]
    warn, block = f"hw{mark}", f"hb{mark}"
    kit.api("POST", "/api/admin/v1/sensitive-words", {"word": warn, "level": "warn"})
    kit.api("POST", "/api/admin/v1/sensitive-words", {"word": block, "level": "block"})
    user = kit.new_user(f"sh{mark}")
    token = kit.user_token(user)
    tab.goto("sensitive-words", "tab=hits")
    page.wait_for_selector("[data-testid=sh-live-empty]")
    page.wait_for_timeout(500)  # the first poll sets the cursor
    request_json("PATCH", kit.base + "/api/v1/me", {"display_name": f"I am {warn}"}, token)
    with pytest.raises(urllib.error.HTTPError) as refused:
        request_json("PATCH", kit.base + "/api/v1/me", {"display_name": f"{block}"}, token)
    assert refused.value.code == 400
    # both appear live; the warn one highlighted
    page.wait_for_selector("[data-testid=sh-live-row][data-level=warn].sm-sw-warn", timeout=15_000)
    page.wait_for_selector("[data-testid=sh-live-row][data-level=block]", timeout=15_000)
    assert "sm-sw-warn" not in (page.get_attribute("[data-testid=sh-live-row][data-level=block]", "class") or "")
    # the list, filtered by user, then by level
    page.fill("[data-testid=sh-user]", kit.ids[user])
    page.click("[data-testid=sh-search]")
    wait_rows(tab, "sh-table", 2)
    page.click("[data-testid=sh-level]")
    page.click("[data-testid=sh-level-warn]")
    wait_rows(tab, "sh-table", 1)
    assert page.inner_text("[data-testid=sh-word-cell]") == warn
    assert page.locator("[data-testid=sh-table] tr.sm-sw-warn").count() == 1
    with page.expect_download() as info:
        page.click("[data-testid=sh-export]")
    target = tmp_path / "hits.csv"
    info.value.save_as(target)
    got = list(csv.reader(io.StringIO(target.read_bytes()[3:].decode())))
    assert len(got) == 2 and got[1][1] == kit.ids[user] and got[1][2] == "display_name" and got[1][5] == warn
    tab.assert_no_console_errors(allow=_others)


def test_english(admin_console_en: AdminConsole) -> None:
    tab = admin_console_en.tab
    tab.goto("sensitive-words")
    text = tab.page.inner_text("[data-testid=sensitive-words-page]")
    assert "Word list" in text and "Hits" in text and "Import a text file" in text
    tab.page.click("#tab-hits")
    tab.page.wait_for_selector("[data-testid=sh-live]")
    assert "Live hits" in tab.page.inner_text("[data-testid=sh-live]")
