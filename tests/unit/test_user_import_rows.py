"""Reading import files (services/user_import_rows.py): encodings Excel writes, delimiters,
header aliases, per-row rules and line numbers, XLSX cells, refusals of whole files."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from semot.errors import BadRequest, TooLarge
from semot.services import user_import_rows as rows_mod
from semot.services.user_import_rows import decode_text, parse_file


def test_encodings() -> None:
    text = "username,display_name\nzw,张伟\n"
    assert decode_text(text.encode()) == text
    assert decode_text(b"\xef\xbb\xbf" + text.encode()) == text
    assert decode_text(text.encode("gbk")) == text
    assert decode_text(text.encode("utf-16")) == text
    with pytest.raises(BadRequest):
        decode_text(b"\xff\xfe\x00\xd8")  # a lone surrogate in UTF-16


def test_delimiters_aliases_and_lines() -> None:
    data = '\n用户名\t姓名\t密码\t备注\n\nzw\t张伟\tpass-word-1\tx\n"l\nn"\t\t\t\nli\t李\t\t\n'.encode("utf-16")
    parsed = parse_file(data)
    assert parsed.columns == ["username", "display_name", "password"] and parsed.ignored == ["备注"]
    # the header is line 2 here (a blank first line); the quoted username spans lines 5-6
    assert [(r.line, r.username, r.display_name, r.password) for r in parsed.rows] == [
        (4, "zw", "张伟", "pass-word-1"),
        (7, "li", "李", None),
    ]
    assert [(e.line, e.message.split(":")[0]) for e in parsed.errors] == [(5, "username")]
    semi = parse_file(b"username;password\nab;12345678\n")
    assert semi.rows[0].password == "12345678"


def test_row_rules() -> None:
    rows = [
        "username,password,display_name,department,title,is_admin,disabled",
        "ok1,,,,,,",
        "ok2,pass word 9,,总部 / 研发部,工程师,是,0",
        "OK1,,,,,,",  # a duplicate, any case
        "bad!,,,,,,",
        "ok3,short,,,,,",
        "ok4,,,,职务无部门,,",
        "ok5,,,a//b,,maybe,",
        "ok6,,," + "/".join(["x" * 129]) + ",,,",
        "ok7,," + "n" * 129 + ",,,,",
    ]
    parsed = parse_file("\n".join(rows).encode())
    assert [r.username for r in parsed.rows] == ["ok1", "ok2"]
    ok2 = parsed.rows[1]
    assert (ok2.password, ok2.department, ok2.title, ok2.is_admin, ok2.disabled) == (
        "pass word 9",
        ["总部", "研发部"],
        "工程师",
        True,
        False,
    )
    assert [e.line for e in parsed.errors] == [4, 5, 6, 7, 8, 9, 10]
    assert "already on line 2" in parsed.errors[0].message
    assert parsed.total == 9


def test_whole_file_refusals() -> None:
    for data in (b"", b"   \n", b"name,password\nx,y\n", b"username,username\n"):
        with pytest.raises(BadRequest):
            parse_file(data)
    with pytest.raises(BadRequest, match="xls"):
        parse_file(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(TooLarge):
        parse_file(b"username\n" + b"u1\n" * 11, max_rows=10)
    with pytest.raises(BadRequest, match="xlsx"):
        parse_file(b"PK\x03\x04 not really a zip")


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_xlsx_cells() -> None:
    data = _xlsx(
        [
            ["Username", "Password", "Display Name", "Disabled"],
            [10086, 12345678.0, "移动", True],
            [None],
            ["ab", None, 3.5, False],
        ]
    )
    parsed = parse_file(data)
    assert [(r.line, r.username, r.password, r.display_name, r.disabled) for r in parsed.rows] == [
        (2, "10086", "12345678", "移动", True),
        (4, "ab", None, "3.5", False),
    ]


def test_xlsx_zip_bomb_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows_mod, "XLSX_MAX_UNPACKED", 1024 * 1024)  # 256 MiB in the server
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<x/>")
        z.writestr("xl/sharedStrings.xml", b"\0" * (2 * 1024 * 1024))
    with pytest.raises(TooLarge):
        parse_file(buf.getvalue())
