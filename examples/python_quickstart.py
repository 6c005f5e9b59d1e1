"""Semot quickstart: two users chat through the Python SDK.

Start a server first (`semot serve`), then:

    python examples/python_quickstart.py [BASE_URL]

BASE_URL defaults to http://127.0.0.1:8080. The script registers alice and bob (an
existing account is fine), logs both in, connects both over WebSocket, sends one
message from alice to bob, prints what arrives on each side and exits 0.
"""

from __future__ import annotations

import asyncio
import sys
import uuid

import aiohttp

from semot.client import SemotAPIError, SemotClient

BASE_URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
USERS = {"alice": "alice-secret", "bob": "bob-secret"}  # passwords: 8 characters or more


async def log_in(username: str) -> SemotClient:
    """Register (ignoring "already taken") and log in; returns a client with tokens."""
    client = SemotClient(BASE_URL)
    try:
        await client.register(username, USERS[username])
        print(f"registered {username}")
    except SemotAPIError as exc:
        if exc.code != "conflict":  # conflict: the account exists from an earlier run
            await client.close()
            raise
    except aiohttp.ClientConnectionError:
        await client.close()
        raise SystemExit(f"cannot reach {BASE_URL}: is `semot serve` running?") from None
    try:
        await client.login(username, USERS[username])
    except SemotAPIError:
        await client.close()
        raise SystemExit(f"cannot log in as {username}: the account exists with another password?") from None
    return client


async def main() -> int:
    alice = await log_in("alice")
    try:
        bob = await log_in("bob")
    except BaseException:
        await alice.close()
        raise
    try:
        read_seen = asyncio.Event()

        def alice_event(evt: dict) -> None:
            print(f"alice <- event {evt}")
            if evt.get("evt") == "read" and evt.get("user") == "bob":
                read_seen.set()

        alice.on_event(alice_event)
        bob.on_event(lambda evt: print(f"bob   <- event {evt}"))

        # connect() authenticates the WebSocket and catches up with sync + history.
        await alice.connect()
        await bob.connect()
        print(f"connected: alice as {alice.device_id}, bob as {bob.device_id}")
        print(f"server config: {bob.server_config}")

        cid = uuid.uuid4().hex  # keep the cid to retry safely: the server stores it once
        ack = await alice.send_text("bob", "Hello Bob! 你好", cid=cid)
        print(f"alice -> bob: stored in {ack['conv']} as seq {ack['seq']} (mid {ack['mid']})")

        # bob may first receive messages left unread by earlier runs: print them all
        # until ours arrives.
        while True:
            msg = await bob.next_message(timeout=10)
            print(f"bob   <- seq {msg['seq']} from {msg['from']}: {msg['kind']} {msg['body']}")
            if msg["mid"] == ack["mid"]:
                break

        await bob.read(msg["conv"], msg["seq"])  # alice gets `evt read`
        await asyncio.wait_for(read_seen.wait(), 10)

        page = await alice.history(ack["conv"], limit=3)  # the latest page
        print(f"latest seqs in {ack['conv']}: {[m['seq'] for m in page['messages']]}")
    finally:
        await alice.close()
        await bob.close()
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
