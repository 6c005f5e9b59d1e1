"""The Python SDK against a real server: handlers that talk back, reconnects across a
server restart, persisted positions, and the documented quickstart."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from semot.client import SemotAPIError, SemotClient
from tests.support.server import ServerProcess

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("sdk") / "data").start()
    yield srv
    srv.kill()


async def user(server: ServerProcess, name: str, **kw: object) -> SemotClient:
    c = SemotClient(server.base, **kw)  # type: ignore[arg-type]
    try:
        await c.register(name, "password123")
    except SemotAPIError as exc:
        if exc.code != "conflict":
            raise
    await c.login(name, "password123")
    return c


def uniq(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def test_a_handler_may_await_requests_without_deadlock(server: ServerProcess) -> None:
    """An echo bot: its on_message handler sends into the same conversation."""
    bot_name, human_name = uniq("bot"), uniq("human")
    bot = await user(server, bot_name)
    human = await user(server, human_name)

    async def echo(msg: dict) -> None:
        if msg["from"] != bot_name and msg["kind"] == "text":
            await bot.send_text(msg["from"], "echo: " + msg["body"]["text"])

    bot.on_message(echo)
    await bot.connect()
    await human.connect()
    try:
        for i in range(5):
            await human.send_text(bot_name, f"hello {i}")
        replies = []
        try:
            while len(replies) < 5:
                m = await human.next_message(15)
                if m["from"] == bot_name:
                    replies.append(m["body"]["text"])
        except TimeoutError:
            # say why (a dropped socket? the server's view?) instead of only "timed out"
            pytest.fail(
                f"{len(replies)} of 5 echoes; close codes bot={bot.close_code} human={human.close_code}, "
                f"reconnects bot={bot.reconnects} human={human.reconnects}; server log:\n"
                + server.log_path.read_text(errors="replace")[-3000:]
            )
        assert replies == [f"echo: hello {i}" for i in range(5)]
    finally:
        await asyncio.wait_for(bot.close(), 30)
        await asyncio.wait_for(human.close(), 30)


async def test_events_reach_handlers_and_offline_devices_learn_of_recalls(server: ServerProcess) -> None:
    a_name, b_name = uniq("a"), uniq("b")
    a = await user(server, a_name)
    b_phone = await user(server, b_name, device_id="phone")
    events: list[dict] = []
    b_phone.on_event(events.append)
    await a.connect()
    await b_phone.connect()
    try:
        ack = await a.send_text(b_name, "oops")
        await b_phone.next_message(5)
        # b's laptop is offline while a recalls
        await a.recall(ack["conv"], ack["seq"])
        for _ in range(100):
            if any(e.get("evt") == "recall" for e in events):
                break
            await asyncio.sleep(0.05)
        assert {"t": "evt", "evt": "recall", "conv": ack["conv"], "seq": ack["seq"], "by": a_name} in events
        laptop = await user(server, b_name, device_id="laptop")
        laptop.last_seq = {ack["conv"]: ack["seq"]}  # it had the message before going offline
        await laptop.connect()
        notice = await laptop.next_message(5)
        assert notice["kind"] == "system" and notice["body"] == {"type": "recalled", "seq": ack["seq"], "by": a_name}
        await laptop.close()
    finally:
        await a.close()
        await b_phone.close()


async def test_reconnects_after_a_server_restart_and_catches_up(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "data").start()
    state = tmp_path / "state.json"
    try:
        a = await user(srv, "alice")
        b = await user(srv, "bob", backoff_base=0.05, backoff_max=0.3, state_file=state)
        await a.connect()
        await b.connect()
        await a.send_text("bob", "before")
        assert (await b.next_message(5))["body"]["text"] == "before"
        assert await asyncio.to_thread(srv.stop) == 0
        for _ in range(100):
            if b.close_code is not None:
                break
            await asyncio.sleep(0.05)
        assert b.close_code == 1001  # going away: the SDK reconnects
        await asyncio.to_thread(srv.start)
        await a.close()
        a = await user(srv, "alice")
        await a.connect()
        for i in range(3):
            await a.send_text("bob", f"after {i}")
        got = [(await b.next_message(10))["body"]["text"] for _ in range(3)]
        assert got == ["after 0", "after 1", "after 2"]
        assert b.reconnects >= 1
        await b.close()
        assert '"d:alice:bob": 4' in state.read_text()
        # a fresh client with the same state file fetches nothing twice
        b2 = await user(srv, "bob", state_file=state)
        assert b2.last_seq == {"d:alice:bob": 4}
        await b2.connect()
        await a.send_text("bob", "new")
        assert (await b2.next_message(5))["seq"] == 5
        await b2.close()
        await a.close()
    finally:
        srv.kill()


def test_the_documented_quickstart_runs(server: ServerProcess) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "python_quickstart.py"), server.base],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
