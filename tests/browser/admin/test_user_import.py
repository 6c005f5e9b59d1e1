"""The bulk import page (批量导入) in Chromium against a real server: the templates
download, a picked file is previewed (rows, actions, per-row errors with their lines),
imported as a job with a progress bar, and its report downloads with set-password links;
hostile cells are shown as text; zh-CN and English."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

from openpyxl import load_workbook

from tests.browser.admin.conftest import AdminConsole

HOSTILE = '<img src=x onerror="window.__pwned=1">'


def _others(message: str) -> bool:
    """Console errors of other pages' modules (not this one's) and the shell's 404s."""
    return ("/admin/pages/" in message and "user-import" not in message) or "404" in message


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def test_preview_import_progress_and_report(admin_console: AdminConsole, tmp_path: Path) -> None:
    kit, tab = admin_console, admin_console.tab
    page = tab.page
    m = uuid.uuid4().hex[:6]
    existing = kit.new_user(f"ex{m}", display_name="Old Name")
    rows = [["用户名", "密码", "姓名", "部门", "职务"], ["x", "", "bad", "", ""]]  # line 2: a bad username
    rows += [[f"bi{m}{i:03d}", "", f"员工{i}" if i else HOSTILE, f"总部{m}/研发部", "工程师"] for i in range(300)]
    rows += [[existing, "", "新名字", "", ""], [f"bi{m}000", "", "dup", "", ""]]
    src = write_csv(tmp_path / "people.csv", rows, "gbk")  # as Excel saves it on a Chinese Windows

    tab.goto("user-import")
    with page.expect_download() as dl:
        page.click("[data-testid=ui-template-xlsx]")
    template = io.BytesIO(Path(dl.value.path()).read_bytes())
    assert next(load_workbook(template, read_only=True).worksheets[0].iter_rows(values_only=True))[0] == "username"

    page.set_input_files("[data-testid=ui-file] input[type=file]", str(src))
    page.wait_for_selector("[data-testid=ui-summary]")
    assert "300" in page.inner_text("[data-testid=ui-to-create]")
    assert "1" in page.inner_text("[data-testid=ui-to-update]")
    assert "2" in page.inner_text("[data-testid=ui-error-count]")
    errors = page.inner_text("[data-testid=ui-errors]")
    assert "304" in errors and "already on line 3" in errors  # lines: the header is 1
    assert page.locator("[data-testid=ui-preview-table] .ui-row-error").count() == 1  # line 2 (200 rows shown)
    first = page.locator("[data-testid=ui-preview-table] .el-table__body-wrapper tr").nth(1).inner_text()
    assert HOSTILE in first  # shown as text
    assert kit.api("GET", f"/api/admin/v1/users/{existing}")["display_name"] == "Old Name"  # a preview writes nothing

    page.click("[data-testid=ui-links]")
    page.click("[data-testid=ui-import]")
    page.wait_for_selector("[data-testid=ui-progress]")
    page.wait_for_selector("[data-testid=ui-report]", timeout=120_000)
    result = page.inner_text("[data-testid=ui-result]")
    assert "300" in result and "303 / 303" in result, result
    assert "300" in page.inner_text("[data-testid=ui-links-note]")
    with page.expect_download() as dl:
        page.click("[data-testid=ui-report]")
    report = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8-sig"))))
    assert len(report) == 303
    assert sum(1 for r in report if r["set_password_link"].startswith(kit.base + "/#/set-password?token=")) == 300
    assert kit.api("GET", f"/api/admin/v1/users/{existing}")["display_name"] == "新名字"
    assert tab.js("() => window.__pwned") is None
    tab.assert_no_console_errors(allow=_others)


def test_english_unreadable_file_and_xlsx(admin_console_en: AdminConsole, tmp_path: Path) -> None:
    kit, tab = admin_console_en, admin_console_en.tab
    page = tab.page
    m = uuid.uuid4().hex[:6]
    tab.goto("user-import")
    assert "Drop a CSV or Excel" in page.inner_text("[data-testid=user-import-page]")
    bad = tmp_path / "old.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)
    page.set_input_files("[data-testid=ui-file] input[type=file]", str(bad))
    page.wait_for_selector("[data-testid=ui-failed]")
    assert ".xlsx" in page.inner_text("[data-testid=ui-failed]")

    # the template, filled in, goes back in as it is
    with page.expect_download() as dl:
        page.click("[data-testid=ui-template-xlsx]")
    wb = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
    ws = wb.worksheets[0]
    ws.delete_rows(2, ws.max_row)
    ws.append([f"xl{m}", "xlsx-password-1", "From Excel", "", "", "", ""])
    filled = tmp_path / "users.xlsx"
    wb.save(filled)
    page.set_input_files("[data-testid=ui-file] input[type=file]", str(filled))
    page.wait_for_selector("[data-testid=ui-summary]")
    assert "1 to create" in page.inner_text("[data-testid=ui-to-create]")
    page.click("[data-testid=ui-import]")
    page.wait_for_selector("[data-testid=ui-again]", timeout=60_000)
    assert "1 created" in page.inner_text("[data-testid=ui-result]")
    assert kit.api("GET", f"/api/admin/v1/users/xl{m}")["display_name"] == "From Excel"
    page.click("[data-testid=ui-again]")
    page.wait_for_selector("[data-testid=ui-file]")
    tab.assert_no_console_errors(allow=lambda e: _others(e) or "status of 400" in e)  # the .xls, refused
