"""The login log over a real server: every password login over HTTP is recorded (success,
unknown user, wrong password, disabled, rate-limited; a refresh is not a login) with
the client's address through a trusted proxy, its device and agent; the admin list
filters and pages; the CSV export streams every row, formula-safe; permissions and
department scopes hold; what is queued at shutdown is written."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from semot.client import SemotClient
from tests.admin.rbac_support import A, create_admin, grant, login, mkdept, person, refused, tag
from tests.support.server import ServerProcess

pytestmark = pytest.mark.asyncio

ROOT = f"llroot{uuid.uuid4().hex[:6]}"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
ENV = {
    "SEMOT_ABUSE_LIMITS": "true",  # the rate-limited reason needs the limits on
    "SEMOT_LOGIN_FAIL_ACCOUNT_MAX": "3",
    "SEMOT_LOGIN_FAIL_IP_MAX": "100000",
    "SEMOT_REGISTER_IP_MAX": "100000",
    "SEMOT_TRUSTED_PROXIES": "127.0.0.1",  # the tests play a reverse proxy: X-Forwarded-For names the client
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("login_logs") / "data", ENV).start()
    create_admin(srv, ROOT)
    yield srv
    srv.stop()


@pytest.fixture
async def root(server: ServerProcess) -> AsyncIterator[SemotClient]:
    c = await login(server, ROOT)
    yield c
    await c.close()


def addr() -> str:
    """A client address of this test's own (the per-address lockout stays out of the way)."""
    n = uuid.uuid4().int
    return f"198.51.{n % 250}.{(n >> 8) % 250 + 1}"


async def attempt(
    server: ServerProcess,
    username: str,
    password: str,
    *,
    ip: str,
    ua: str = CHROME,
    device: dict[str, str] | None = None,
) -> tuple[int, Any]:
    body: dict[str, Any] = {"username": username, "password": password}
    if device is not None:
        body["device"] = device
    headers = {"User-Agent": ua, "X-Forwarded-For": f"10.9.9.9, {ip}"}  # the left one a client made up
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{server.base}/api/v1/auth/login", json=body, headers=headers) as r,
    ):
        return r.status, await r.json()


async def logs(admin: SemotClient, **filters: Any) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in {"limit": 200, **filters}.items())
    page: dict[str, Any] = await admin.http("GET", f"{A}/login-logs?{query}")
    return page


async def wait_logs(admin: SemotClient, n: int, **filters: Any) -> list[dict[str, Any]]:
    """The entries once `n` are there: they are written in batches, within a second or so."""
    deadline = time.monotonic() + 10
    while True:
        page = await logs(admin, **filters)
        if page["total"] >= n or time.monotonic() > deadline:
            assert page["total"] == n, page
            entries: list[dict[str, Any]] = page["logs"]
            return entries
        await asyncio.sleep(0.2)


async def test_every_attempt_is_recorded_with_why(server: ServerProcess, root: SemotClient) -> None:
    name, ip = f"ann{tag()}", addr()
    ann = await person(server, name, "安妮")  # a login (from 127.0.0.1, no proxy header)
    assert ann.user_id is not None
    started = int(time.time() * 1000)
    assert (await attempt(server, name, "password123", ip=ip))[0] == 200
    status, body = await attempt(server, name, "password123", ip=ip, device={"id": "phone-7", "platform": "ios"})
    assert status == 200
    assert (await attempt(server, name, "wrong-password", ip=ip))[0] == 401
    assert (await attempt(server, name.upper(), "wrong-password", ip=ip))[0] == 401  # usernames ignore case
    assert (await attempt(server, f"ghost{tag()}", "whatever1", ip=ip))[0] == 401
    # a refresh is not a login
    async with aiohttp.ClientSession() as s:
        r = await s.post(f"{server.base}/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})
        assert r.status == 200
    await root.http("PATCH", f"{A}/users/{ann.user_id}", {"disabled": True})
    assert (await attempt(server, name, "password123", ip=ip))[0] == 403  # the right password: failures reset
    await root.http("PATCH", f"{A}/users/{ann.user_id}", {"disabled": False})
    for _ in range(3):  # the third failure in a row locks the account
        assert (await attempt(server, name, "wrong-password", ip=ip))[0] == 401
    status, _ = await attempt(server, name, "password123", ip=ip)
    assert status == 429

    entries = await wait_logs(root, 10, user_id=ann.user_id)
    assert [(e["ok"], e["reason"]) for e in entries] == [
        (False, "rate_limited"),
        *[(False, "wrong_password")] * 3,
        (False, "disabled"),
        (False, "wrong_password"),
        (False, "wrong_password"),
        (True, ""),
        (True, ""),
        (True, ""),  # person() logging in
    ]
    ours = entries[:-1]
    assert all(e["ip"] == ip for e in ours)  # the address the trusted proxy saw, not what the client wrote
    assert entries[-1]["ip"] == "127.0.0.1"
    assert all(e["user_id"] == ann.user_id and e["display_name"] == "安妮" for e in entries)
    assert entries[5]["username"] == name.upper()  # as typed
    assert all(e["ts"] >= started for e in ours) and entries == sorted(entries, key=lambda e: -e["ts"])
    declared, plain = entries[7], entries[8]
    assert (declared["device"], declared["platform"]) == ("phone-7", "ios")
    assert (plain["device"], plain["platform"], plain["user_agent"]) == ("Chrome 126 · Windows", "web", CHROME)
    assert all(e["method"] == "password" for e in entries)

    ghost = await wait_logs(root, 1, ip=ip, ok="false", q="ghost")
    assert ghost[0]["user_id"] is None and ghost[0]["display_name"] is None and ghost[0]["reason"] == "unknown_user"


async def test_filters_and_pages(server: ServerProcess, root: SemotClient) -> None:
    name, ip = f"bo{tag()}", addr()
    bo = await person(server, name)
    t0 = int(time.time() * 1000)
    for pw in ("password123", "wrong-one1", "password123", "wrong-two2", "password123"):
        await attempt(server, name, pw, ip=ip, ua="python-requests/2.31.0")
        await asyncio.sleep(0.01)
    everything = await wait_logs(root, 6, user_id=bo.user_id)
    assert everything[0]["device"] == "python-requests 2.31" and everything[0]["platform"] == "sdk"
    assert [e["ok"] for e in await wait_logs(root, 2, user_id=bo.user_id, ok="false")] == [False, False]
    assert len(await wait_logs(root, 5, ip=ip)) == 5
    assert len(await wait_logs(root, 5, ip=ip.rsplit(".", 1)[0] + ".", q=name)) == 5  # an address prefix
    assert len(await wait_logs(root, 6, q=name.upper()[1:])) == 6
    middle = everything[2]["ts"]
    assert {e["id"] for e in await wait_logs(root, 4, user_id=bo.user_id, to=middle)} == {
        e["id"] for e in everything[2:]
    }
    assert len(await wait_logs(root, 5, user_id=bo.user_id, **{"from": t0})) == 5
    page = await logs(root, user_id=bo.user_id, offset=2, limit=2)
    assert (
        page["total"] == 6
        and page["offset"] == 2
        and [e["id"] for e in page["logs"]] == [e["id"] for e in everything[2:4]]
    )
    assert (await logs(root, **{"from": 5, "to": 4}))["total"] == 0  # an empty range, not an error
    await refused(root.http("GET", f"{A}/login-logs?ok=yes"), 400)
    await refused(root.http("GET", f"{A}/login-logs?ip=1.2.3.4;DROP"), 400)
    await refused(root.http("GET", f"{A}/login-logs?limit=201"), 400)


async def download(admin: SemotClient, query: str) -> tuple[aiohttp.ClientResponse, bytes]:
    async with (
        aiohttp.ClientSession() as s,
        s.get(
            f"{admin.base_url}{A}/login-logs.csv?{query}", headers={"Authorization": f"Bearer {admin.access_token}"}
        ) as r,
    ):
        return r, await r.read()


async def test_csv_export_is_complete_and_formula_safe(server: ServerProcess, root: SemotClient) -> None:
    ip = addr()
    evil = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcell", 'plain,"quoted"']
    for name in evil:
        await attempt(server, name, "whatever1", ip=ip, ua="=cmd|' /C calc'!A0")
    await wait_logs(root, len(evil), ip=ip)
    resp, raw = await download(root, f"ip={ip}&tz=480")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="login-logs-')
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))
    assert rows[0][0] == "time (UTC+08:00)" and rows[0][1:5] == ["user_id", "username", "display_name", "ok"]
    body = rows[1:]
    assert sorted(r[2] for r in body) == sorted(("'" + n if n[0] in "=+-@\t" else n) for n in evil)
    assert all(r[10] == "'=cmd|' /C calc'!A0" and r[4] == "false" and r[5] == "unknown_user" for r in body)
    assert all(not cell.startswith(("=", "+", "-", "@", "\t")) for r in body for cell in r)

    # many rows (a password guesser locked out: refused before any hashing, each recorded):
    # the export walks past its batches of 1,000 without losing or repeating any
    many_ip, flooded = addr(), f"flood{tag()}"
    async with aiohttp.ClientSession() as s:
        sem = asyncio.Semaphore(20)

        async def one(i: int) -> int:
            async with (
                sem,
                s.post(
                    f"{server.base}/api/v1/auth/login",
                    json={"username": flooded, "password": f"guess-{i}"},
                    headers={"X-Forwarded-For": many_ip},
                ) as r,
            ):
                return r.status

        statuses = [await one(i) for i in range(3)]
        statuses += await asyncio.gather(*(one(i) for i in range(1100)))
    assert statuses.count(401) == 3 and statuses.count(429) == 1100
    await wait_logs(root, 1103, ip=many_ip)
    resp, raw = await download(root, f"ip={many_ip}")
    rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))[1:]
    assert len(rows) == 1103 and [r[5] for r in rows].count("rate_limited") == 1100
    assert [r[0] for r in rows] == sorted((r[0] for r in rows), reverse=True)  # newest first
    exports = await root.http("GET", f"{A}/audit-log?action=login_logs.export&limit=5")
    assert exports["entries"][0]["admin"] == ROOT and exports["entries"][0]["after"] == {"ip": many_ip}


async def test_permissions_and_department_scope(server: ServerProcess, root: SemotClient) -> None:
    plain = await person(server, f"pl{tag()}")
    await refused(plain.http("GET", f"{A}/login-logs"))
    resp, _ = await download(plain, "")
    assert resp.status == 403
    org_admin = await person(server, f"oa{tag()}")
    assert org_admin.user_id is not None
    await grant(root, org_admin.user_id, ["org_admin"])  # no login_logs.view
    await refused(org_admin.http("GET", f"{A}/login-logs"))

    dept = await mkdept(root, f"Sales {tag()}")
    inside, outside = await person(server, f"in{tag()}"), await person(server, f"out{tag()}")
    lead = await person(server, f"lead{tag()}")
    assert inside.user_id and outside.user_id and lead.user_id
    await root.http("PUT", f"{A}/departments/{dept}/members/{inside.user_id}", {"title": "rep"})
    await grant(root, lead.user_id, ["user_admin"], [dept])
    await wait_logs(root, 1, user_id=inside.user_id)
    await wait_logs(root, 1, user_id=outside.user_id)
    seen = await logs(lead)
    assert {e["user_id"] for e in seen["logs"]} == {inside.user_id} and seen["total"] == 1
    assert (await logs(lead, user_id=outside.user_id))["total"] == 0
    _, raw = await download(lead, "")
    rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))[1:]
    assert [r[1] for r in rows] == [inside.user_id]


async def test_what_is_queued_at_shutdown_is_written(tmp_path_factory: pytest.TempPathFactory) -> None:
    srv = ServerProcess(tmp_path_factory.mktemp("login_logs_stop") / "data", ENV).start()
    create_admin(srv, ROOT)
    ip = addr()
    await asyncio.gather(*(attempt(srv, f"late{i}", "whatever1", ip=ip) for i in range(30)))
    assert srv.stop() == 0  # SIGTERM right away: the last batch is still queued
    srv.start()
    try:
        admin = await login(srv, ROOT)
        assert len(await wait_logs(admin, 30, ip=ip)) == 30
        await admin.close()
    finally:
        srv.stop()
