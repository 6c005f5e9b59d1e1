"""The login log's writer (services/login_log.py) on the in-memory store: batching, a
database outage (rows kept and written later), the bounded queue, rate-limited
attempts resolved to their user, cleaning of what clients send; and the User-Agent
summaries (services/user_agents.py)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from semot.domain.records import User
from semot.services.login_log import LoginAttempt, LoginLog, username_resolver
from semot.services.user_agents import describe
from semot.storage.login_logs import LoginLogEntry, LoginLogQuery
from semot.storage.memory import memory_storage
from semot.storage.memory.login_logs import MemoryLoginLogs


class Flaky(MemoryLoginLogs):
    """A store that is down for its first `down` writes (a database outage)."""

    def __init__(self, down: int) -> None:
        super().__init__()
        self.down = down
        self.writes: list[int] = []

    async def add_login_logs(self, entries: Sequence[LoginLogEntry]) -> None:
        if self.down:
            self.down -= 1
            raise ConnectionError("database unreachable")
        self.writes.append(len(entries))
        await super().add_login_logs(entries)


async def everything(store: MemoryLoginLogs) -> list[LoginLogEntry]:
    return (await store.login_logs(LoginLogQuery(), offset=0, limit=10_000))[0]


def tried(name: str, *, ok: bool = False, reason: str = "wrong_password", ua: str = "") -> LoginAttempt:
    return LoginAttempt(name, ip="10.0.0.1", user_agent=ua, user_id=None, ok=ok, reason=reason)


async def test_batches_and_an_outage_loses_nothing() -> None:
    store = Flaky(down=1)
    seen: list[bool] = []
    log = LoginLog(store, retention_days=30, batch_max=4, on_recorded=seen.append)
    for i in range(10):
        log.record(tried(f"u{i}", ok=i % 2 == 0))
    assert seen == [i % 2 == 0 for i in range(10)]  # counted at once, for the dashboard
    assert await log.flush() == 0 and log.pending == 10  # down: every row kept, in order
    assert await log.flush() == 10 and store.writes == [4, 4, 2]
    assert [e.username for e in await everything(store)] == [f"u{i}" for i in reversed(range(10))]


async def test_the_queue_is_bounded_oldest_first() -> None:
    store = Flaky(down=0)
    log = LoginLog(store, retention_days=30, queue_max=5)
    for i in range(8):
        log.record(tried(f"u{i}"))
    assert log.pending == 5
    await log.flush()
    assert sorted(e.username for e in await everything(store)) == ["u3", "u4", "u5", "u6", "u7"]


async def test_stop_writes_what_is_queued() -> None:
    store = Flaky(down=0)
    log = LoginLog(store, retention_days=30, flush_s=3600)
    log.start()
    log.record(tried("late"))
    await log.stop()
    assert [e.username for e in await everything(store)] == ["late"]


async def test_rate_limited_attempts_are_resolved_in_a_batch() -> None:
    storage = memory_storage()
    for name in ("Ann", "bob"):
        await storage.users.create_user(User(id=f"id-{name}", username=name, display_name=name, password_hash="x"))
    store = Flaky(down=0)
    log = LoginLog(store, retention_days=30, resolve=username_resolver(storage.users.users_by_usernames))
    log.record(tried("ANN", reason="rate_limited"))
    log.record(tried("nobody", reason="rate_limited"))
    log.record(tried("bob", reason="unknown_user"))  # the login code decided: left as it is
    await log.flush()
    got = {e.username: e.user_id for e in await everything(store)}
    assert got == {"ANN": "id-Ann", "nobody": None, "bob": None}


async def test_what_clients_send_is_cleaned_and_bounded() -> None:
    store = Flaky(down=0)
    log = LoginLog(store, retention_days=30)
    bad = "agent\x00with NUL and a lone surrogate \udc80 " + "x" * 1000
    log.record(LoginAttempt("n" * 200, ip="1.2.3.4", user_agent=bad, device="d" * 500, platform="ios"))
    log.record(LoginAttempt("ok", ip="1.2.3.4", ok=True, reason="stale"))
    await log.flush()
    ok, failed = await everything(store)
    assert ok.reason == "" and failed.reason == "error"  # a failure always says why
    assert len(failed.username) == 64 and len(failed.device) == 128 and len(failed.user_agent) <= 512
    assert "\x00" not in failed.user_agent and "\udc80" not in failed.user_agent
    failed.user_agent.encode("utf-8")  # storable as UTF-8
    assert failed.platform == "ios"  # declared: kept


@pytest.mark.parametrize(
    ("ua", "device", "platform"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
            "Safari/537.36",
            "Chrome 126 · Windows",
            "web",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0",
            "Edge 120 · Windows",
            "web",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.4 Mobile/15E148 Safari/604.1",
            "Safari 17 · iPhone",
            "web",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Mobile "
            "Safari/537.36 MicroMessenger/8.0.47",
            "WeChat 8 · Android",
            "web",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", "Firefox 127 · Linux", "web"),
        (
            "Mozilla/5.0 (Macintosh) AppleWebKit/537.36 Chrome/124.0 Electron/30.0.1 Safari/537.36",
            "Electron 30 · macOS",
            "desktop",
        ),
        ("Python/3.11 aiohttp/3.9.5", "aiohttp 3.9", "sdk"),
        ("python-requests/2.31.0", "python-requests 2.31", "sdk"),
        ("curl/8.5.0", "curl 8.5", "sdk"),
        ("SomeApp/2.0 (custom)", "SomeApp 2.0", ""),
        ("", "", ""),
    ],
)
def test_user_agent_summaries(ua: str, device: str, platform: str) -> None:
    assert describe(ua) == (device, platform)
