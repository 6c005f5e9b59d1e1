"""Bulk user import against a real server over HTTP (PROTOCOL §7), and `semot users import`.

CSV in UTF-8 (with and without BOM) and GBK as Excel writes it, XLSX built with openpyxl;
errors per line (the header is line 1) while the good rows go in; existing usernames
updated; the dry run writes nothing; a background job reports progress and a CSV report
with one-time set-password links that really work; the body limit of its own; roles.
"""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from openpyxl import Workbook, load_workbook

from tests.support.server import ServerProcess

ADMIN_PW = "admin-password-1"
A = "/api/admin/v1"
IMPORT = f"{A}/users/import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def tag() -> str:
    return uuid.uuid4().hex[:6]


def create_admin(server: ServerProcess, name: str) -> None:
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "semot",
            "create-admin",
            name,
            "--password",
            ADMIN_PW,
            "--data-dir",
            str(server.data_dir),
        ],
        capture_output=True,
        text=True,
        env=server.env,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("user_import") / "data").start()
    create_admin(srv, "impadmin")
    yield srv
    srv.kill()


class Http:
    def __init__(self, session: aiohttp.ClientSession, server: ServerProcess) -> None:
        self.session, self.server = session, server
        self.token: str | None = None

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        data: bytes | None = None,
        ctype: str = "text/csv",
        token: str | None = None,
    ) -> tuple[int, Any]:
        headers = {}
        tok = token or self.token
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        kw: dict[str, Any] = {"headers": headers}
        if data is not None:
            kw["data"] = data
            headers["Content-Type"] = ctype
        elif body is not None:
            kw["json"] = body
        async with self.session.request(method, self.server.base + path, **kw) as r:
            raw = await r.read()
            if r.content_type == "application/json":
                return r.status, await r.json()
            return r.status, raw

    async def login(self, username: str, password: str) -> tuple[int, Any]:
        return await self.call("POST", "/api/v1/auth/login", {"username": username, "password": password}, token="-")

    async def as_admin(self, name: str = "impadmin", password: str = ADMIN_PW) -> str:
        status, body = await self.login(name, password)
        assert status == 200, body
        self.token = body["access_token"]
        return str(body["access_token"])


@pytest.fixture
async def http(server: ServerProcess) -> AsyncIterator[Http]:
    async with aiohttp.ClientSession() as session:
        h = Http(session, server)
        await h.as_admin()
        yield h


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8", bom: bool = False) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def user(http: Http, user_id: str) -> dict[str, Any]:
    status, body = await http.call("GET", f"{A}/users/{user_id}")
    assert status == 200, body
    return dict(body)


async def test_csv_errors_by_line_good_rows_imported_existing_updated(http: Http) -> None:
    t = tag()
    old = f"old{t}"
    status, _ = await http.call(
        "POST", "/api/v1/auth/register", {"username": old, "password": "first-pass-1"}, token="-"
    )
    assert status == 201
    rows = [
        ["username", "password", "display_name", "extra column"],
        [f"a{t}", "alpha-pass-1", "Alpha", "ignored"],
        ["x", "alpha-pass-1", "too short a name", ""],  # line 3
        [f"b{t}", "short", "Bravo", ""],  # line 4: password policy
        [f"c{t}", "", "", ""],  # no password, display name defaults to the username
        [f"A{t}", "", "dup in another case", ""],  # line 6: duplicate of line 2
        [old.upper(), "second-pass-2", "Renamed Old", ""],  # line 7: existing user, any case
        ["", "", "", ""],  # blank: skipped, not an error
        [f"d{t}", "", "D" * 129, ""],  # line 9: display name too long
    ]
    status, body = await http.call("POST", IMPORT, data=csv_bytes(rows))
    assert status == 200, body
    assert body["created"] == 2 and body["updated"] == 1, body
    assert [(e["line"], e["message"].split(":")[0]) for e in body["errors"]] == [
        (3, "username 'x'"),
        (4, "password"),
        (6, f"username 'A{t}' is already on line 2"),
        (9, "display_name"),
    ]
    assert body["total"] == 7 and body["error_count"] == 4
    # the imported password works (hashed in the worker processes), the old one does not
    assert (await http.login(f"a{t}", "alpha-pass-1"))[0] == 200
    assert (await http.login(old, "first-pass-1"))[0] == 401
    assert (await http.login(old, "second-pass-2"))[0] == 200
    assert (await user(http, old))["display_name"] == "Renamed Old"
    # no password: cannot sign in with any (a set-password link or SSO first)
    c = await user(http, f"c{t}")
    assert c["display_name"] == f"c{t}"
    assert (await http.login(f"c{t}", ""))[0] in (400, 401)
    # the same file again changes nothing but the password rows
    status, again = await http.call("POST", IMPORT, data=csv_bytes(rows))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 2, 1), again


async def test_bom_gbk_departments_titles_and_flags(http: Http) -> None:
    t = tag()
    rows = [
        ["用户名", "密码", "姓名", "部门", "职务", "禁用", "管理员"],
        [f"zw{t}", "zhang-pass-1", "张伟", f"总部{t}/研发部", "工程师", "否", ""],
        [f"ln{t}", "", "李娜", f"总部{t}/市场部", "经理", "是", ""],
        [f"wq{t}", "", "王强", f"总部{t}/研发部", "", "", "是"],
    ]
    for data in (csv_bytes(rows, "gbk"), csv_bytes([[c.replace(t, t + "u") for c in r] for r in rows], bom=True)):
        status, body = await http.call("POST", IMPORT, data=data)
        assert status == 200, body
        assert (body["created"], body["errors"]) == (3, []), body
    assert (await user(http, f"ln{t}"))["disabled"] is True
    assert (await user(http, f"wq{t}"))["is_admin"] is True
    # the departments were made along the path, people put in them with their titles
    status, found = await http.call("GET", f"/api/v1/directory/search?q=zw{t}")
    assert status == 200, found
    hit = next(p for p in found["people"] if p["user_id"] == f"zw{t}") if "people" in found else found
    assert "研发部" in str(hit) and "工程师" in str(hit), found
    # a header-only, an unknown-header and a non-text file are refused as a whole
    assert (await http.call("POST", IMPORT, data=b"\xff\xfe\x00\xd8"))[0] == 400
    status, body = await http.call("POST", IMPORT, data=csv_bytes([["name", "pw"], ["a", "b"]]))
    assert status == 400 and "username" in body["error"]["message"]


async def test_xlsx_numbers_and_dry_run(http: Http) -> None:
    t = tag()
    num = int(t, 16) % 10_000_000 + 10_000_000
    rows: list[list[Any]] = [
        ["username", "password", "display_name", "department", "title", "is_admin", "disabled"],
        [num, 12345678, "Number Name", None, None, None, None],  # Excel keeps these as numbers
        [f"x{t}", None, "X", None, None, None, True],
        [f"bad name {t}", None, None, None, None, None, None],
    ]
    data = xlsx_bytes(rows)
    status, dry = await http.call("POST", IMPORT + "?dry_run=true&preview=2", data=data, ctype=XLSX)
    assert status == 200, dry
    assert dry["dry_run"] is True and dry["created"] == 2 and dry["error_count"] == 1
    assert [p["line"] for p in dry["preview"]] == [2, 3]
    assert dry["preview"][0]["username"] == str(num) and dry["preview"][0]["has_password"] is True
    assert (await http.call("GET", f"{A}/users/{num}"))[0] == 404  # nothing written
    status, body = await http.call("POST", IMPORT, data=data, ctype="application/octet-stream")  # told by its bytes
    assert status == 200, body
    assert body["created"] == 2 and [e["line"] for e in body["errors"]] == [4]
    assert (await http.login(str(num), "12345678"))[0] == 200
    assert (await user(http, f"x{t}"))["disabled"] is True


async def test_templates_read_back(http: Http) -> None:
    for fmt, ctype in (("csv", "text/csv"), ("xlsx", XLSX)):
        status, raw = await http.call("GET", f"{A}/users/import-template.{fmt}")
        assert status == 200 and isinstance(raw, bytes)
        status, dry = await http.call("POST", IMPORT + "?dry_run=true", data=raw, ctype=ctype)
        assert status == 200 and dry["error_count"] == 0 and dry["total"] == 2, dry
    wb = load_workbook(io.BytesIO(raw), read_only=True)
    assert next(wb.worksheets[0].iter_rows(values_only=True))[0] == "username"


async def test_job_progress_report_and_links(http: Http) -> None:
    t = tag()
    rows = [["username", "password", "display_name"]]
    rows += [[f"j{t}{i:03d}", "job-password-1" if i % 10 == 0 else "", f"Job {i}"] for i in range(450)]
    rows.append(["=cmd|' /C calc'!A0", "", ""])  # a formula: refused, and harmless in the report
    status, job = await http.call("POST", f"{A}/users/import-jobs?links=true", data=csv_bytes(rows))
    assert status == 202, job
    assert job["status"] in ("queued", "running") and job["total"] == 451
    seen_done = set()
    for _ in range(600):
        status, job = await http.call("GET", f"{A}/users/import-jobs/{job['job_id']}")
        assert status == 200, job
        seen_done.add(job["done"])
        if job["finished"]:
            break
        await asyncio.sleep(0.1)
    assert job["status"] == "done", job
    assert job["created"] == 450 and job["error_count"] == 1 and job["done"] == 451
    assert len(seen_done) >= 2  # progress was visible before the end
    assert len(job["links"]) == 405  # every new user without a password
    status, raw = await http.call("GET", f"{A}/users/import-jobs/{job['job_id']}/report.csv")
    assert status == 200
    report = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(report) == 451
    bad = next(r for r in report if r["result"] == "error")
    assert bad["line"] == "452" and bad["username"] == "'=cmd|' /C calc'!A0" and bad["message"].startswith("username ")
    assert not any(v.startswith("=") for r in report for v in r.values())
    link = next(r["set_password_link"] for r in report if r["username"] == f"j{t}001")
    assert link.startswith(http.server.base + "/#/set-password?token=")
    token = link.split("token=")[1]
    status, body = await http.call("POST", "/api/v1/auth/set-password", {"token": token, "password": "chosen-pass-1"})
    assert status == 200, body
    assert (await http.login(f"j{t}001", "chosen-pass-1"))[0] == 200
    # another admin does not see the job (its report holds links)
    create_admin(http.server, f"other{t}")
    other = await http.login(f"other{t}", ADMIN_PW)
    status, _ = await http.call("GET", f"{A}/users/import-jobs/{job['job_id']}", token=other[1]["access_token"])
    assert status == 404
    # one audit entry for the import, with its counts
    status, log = await http.call("GET", f"{A}/audit-log?action=users.import&target={job['job_id']}")
    assert status == 200, log
    assert [e["after"]["created"] for e in log["entries"]] == [450]


async def test_body_limit_is_its_own(http: Http) -> None:
    t = tag()
    pad = "p" * 900
    rows = [["username", "display_name", "note"], *([f"big{t}{i:04d}", "", pad] for i in range(1500))]
    data = csv_bytes(rows)
    assert 1024 * 1024 < len(data) < 32 * 1024 * 1024  # over every other route's 1 MiB
    status, body = await http.call("POST", IMPORT + "?dry_run=true", data=data)
    assert status == 200 and body["created"] == 1500, body
    status, body = await http.call("POST", IMPORT, data=b"username\n" + b"a" * (33 * 1024 * 1024))
    assert status == 413 and body["error"]["code"] == "too_large", body


async def test_roles_and_scopes(http: Http, server: ServerProcess) -> None:
    t = tag()
    for name in (f"ua{t}", f"oa{t}", f"pl{t}"):
        status, _ = await http.call(
            "POST", "/api/v1/auth/register", {"username": name, "password": "person-pass-1"}, token="-"
        )
        assert status == 201
    for name, role in ((f"ua{t}", "user_admin"), (f"oa{t}", "org_admin")):
        status, body = await http.call("PUT", f"{A}/admins/{name}", {"roles": [role]})
        assert status == 200, body
    data = csv_bytes(
        [
            ["username", "is_admin", "department"],
            [f"n1{t}", "true", ""],
            [f"n2{t}", "", f"新部门{t}"],
            [f"n3{t}", "", ""],
        ]
    )
    plain = (await http.login(f"pl{t}", "person-pass-1"))[1]["access_token"]
    assert (await http.call("POST", IMPORT, data=data, token=plain))[0] == 403
    org_admin = (await http.login(f"oa{t}", "person-pass-1"))[1]["access_token"]
    assert (await http.call("POST", IMPORT, data=data, token=org_admin))[0] == 403  # no users.import
    user_admin = (await http.login(f"ua{t}", "person-pass-1"))[1]["access_token"]
    status, body = await http.call("POST", IMPORT, data=data, token=user_admin)
    assert status == 200, body
    # users.import creates users, but administrators need admins.write, departments org.write
    assert body["created"] == 1 and [e["line"] for e in body["errors"]] == [2, 3], body
    assert "admins.write" in body["errors"][0]["message"] and "org.write" in body["errors"][1]["message"]


def test_cli_import(tmp_path: Any, server: ServerProcess) -> None:
    t = tag()
    src = tmp_path / "people.csv"
    src.write_bytes(
        csv_bytes(
            [
                ["username", "password", "display_name"],
                [f"cli{t}", "cli-password-1", "命令行"],
                [f"cl2{t}", "", ""],
                ["?", "", ""],
            ],
            bom=True,
        )
    )
    links = tmp_path / "links.csv"
    cmd = [sys.executable, "-m", "semot", "users", "import", str(src), "--data-dir", str(server.data_dir)]
    dry = subprocess.run([*cmd, "--dry-run"], capture_output=True, text=True, env=server.env, timeout=120)
    assert dry.returncode == 1, dry.stderr  # a row fails
    assert "2 to create" in dry.stdout and "line 4" in dry.stderr, dry.stdout + dry.stderr
    out = subprocess.run([*cmd, "--links", str(links)], capture_output=True, text=True, env=server.env, timeout=120)
    assert out.returncode == 1, out.stderr
    assert "2 created, 0 updated" in out.stdout, out.stdout
    written = list(csv.DictReader(links.open(encoding="utf-8-sig")))
    assert [r["username"] for r in written] == [f"cl2{t}"] and "token=" in written[0]["set_password_link"]
    # all rows good: exit 0; the running server sees the users
    src.write_text(f"username,password\ncli{t},cli-password-2\n")
    ok = subprocess.run(cmd, capture_output=True, text=True, env=server.env, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 created, 1 updated" in ok.stdout
