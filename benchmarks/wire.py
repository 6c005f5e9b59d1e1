"""What a load needs from a protocol, so that the same load code (pacing, stamps,
percentiles, server CPU) drives Semot's WebSocket protocol and XMPP alike (issue 9: the
side-by-side with ejabberd must offer both servers exactly the same load).

A wire connects users by index, sends a message to an address (a user or a group), and
reports two events per connection: a message arrived (`on_msg(client, payload)`; the
payload is opaque until `msg_text` is asked for it, so loads that only count arrivals
never decode anything) and a send was confirmed (`on_ack(client, rid, ok, detail)`).
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol

import orjson

from server import user_id
from wsclient import WSClient, connect_many

_M = ord("m")  # payload[6] of b'{"t":"msg"...'
_R = ord("r")  # payload[6] of b'{"t":"res"...'
_dumps = orjson.dumps
_loads = orjson.loads

OnMsg = Callable[[Any, Any], None]
OnAck = Callable[[Any, int, bool, Any], None]


class Wire(Protocol):
    name: str
    acks: bool  # does the server confirm every send (Semot: its ack; XMPP: only with XEP-0198)

    async def connect(self, port: int, users: range, *, concurrency: int = 64) -> list[Any]: ...

    def address(self, i: int) -> str: ...

    def listen(self, c: Any, on_msg: OnMsg, on_ack: OnAck) -> None: ...

    def msg_text(self, payload: Any) -> str: ...

    def send(self, c: Any, rid: int, cid: str, to: str, text: str, *, group: bool = False) -> None: ...

    async def create_group(self, server: Any, members: int) -> str: ...

    async def join_group(self, conv: str, clients: list[Any]) -> None: ...


class SemotWire:
    """Semot's WebSocket protocol through wsclient.py; users log in with minted tokens."""

    name = "semot"
    acks = True

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens

    async def connect(self, port: int, users: range, *, concurrency: int = 64) -> list[WSClient]:
        return await connect_many(port, self.tokens[users.start : users.stop], concurrency=concurrency)

    def address(self, i: int) -> str:
        return user_id(i)

    def listen(self, c: WSClient, on_msg: OnMsg, on_ack: OnAck) -> None:
        def on_frame(c: WSClient, payload: bytes) -> None:
            kind = payload[6]
            if kind == _M:
                on_msg(c, payload)
            elif kind == _R:
                o = _loads(payload)
                on_ack(c, o["rid"], o["ok"], o)

        c.on_frame = on_frame

    def msg_text(self, payload: bytes) -> str:
        text: str = _loads(payload)["body"]["text"]
        return text

    def send(self, c: WSClient, rid: int, cid: str, to: str, text: str, *, group: bool = False) -> None:
        c.send(_dumps({"t": "send", "rid": rid, "cid": cid, "to": to, "kind": "text", "body": {"text": text}}))

    async def create_group(self, server: Any, members: int) -> str:
        created = await asyncio.to_thread(
            http_json, f"http://127.0.0.1:{server.port}/api/v1/groups",
            {"name": "bench", "members": [user_id(i) for i in range(1, members)]}, self.tokens[0],
        )
        conv: str = created["conv"]
        return conv

    async def join_group(self, conv: str, clients: list[Any]) -> None:
        return None  # members are in the group from its creation


def http_json(url: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        out: dict[str, Any] = json.loads(r.read())
        return out


def as_wire(tokens_or_wire: list[str] | Wire) -> Wire:
    """The loads' second argument: Semot tokens (what every caller passed before wires) or a wire."""
    return SemotWire(list(tokens_or_wire)) if isinstance(tokens_or_wire, (list, tuple)) else tokens_or_wire
