"""A deliberately minimal asyncio XMPP client (RFC 6120/6121 c2s over plain TCP) for load
generation: the XMPP counterpart of wsclient.py, driven by the same loads (loads.py) through
`XmppWire`.

Why hand-written: like wsclient.py it must cost the shared load-generator core as little
as possible and do exactly what the loads need: stream open, SASL (SCRAM-SHA-1), resource
binding, optional XEP-0198 acks, initial presence, one-to-one and MUC (XEP-0045)
messages. Incoming XML goes through expat (C) with a handful of Python callbacks per
stanza: after the handshake only a message's attributes and body are kept, every other
stanza (presences, a room's subject, iq results) is skipped at the tag level.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import os
from collections import deque
from collections.abc import Callable
from typing import Any
from xml.parsers import expat

from server import PASSWORD, user_id

DOMAIN = "localhost"
_STREAM = (
    f"<?xml version='1.0'?><stream:stream to='{DOMAIN}' xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
).encode()
_SM_REQUEST = b"<r xmlns='urn:xmpp:sm:3'/>"
_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@functools.lru_cache(maxsize=8192)
def _salted_password(password: str, salt_b64: str, iterations: int) -> bytes:
    """Hi() of RFC 5802, per user (salts differ), cached across connections of a run."""
    return hashlib.pbkdf2_hmac("sha1", password.encode(), base64.b64decode(salt_b64), iterations)

MsgHandler = Callable[["XMPPClient", str], None]
AckHandler = Callable[["XMPPClient", int, bool, Any], None]


def jid(i: int) -> str:
    return f"{user_id(i)}@{DOMAIN}"


class _El:
    """A parsed top-level stanza during the handshake (name, attributes, children, text)."""

    __slots__ = ("attrs", "children", "name", "text")

    def __init__(self, name: str, attrs: dict[str, str]) -> None:
        self.name = name
        self.attrs = attrs
        self.children: list[_El] = []
        self.text = ""

    def find(self, name: str) -> _El | None:
        for c in self.children:
            if c.name == name:
                return c
            found = c.find(name)
            if found is not None:
                return found
        return None


class XMPPClient(asyncio.Protocol):
    """One c2s stream. Before `ready`, whole stanzas are parsed into `_El`s and handed to the
    handshake; afterwards only messages (to `on_msg`), SM acks and the stanzas a load waits
    for (a MUC self-presence, an iq result) are looked at."""

    def __init__(self, user: str) -> None:
        self.user = user
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.state: Any = None  # free slot for the load that owns this connection
        self.on_msg: MsgHandler | None = None
        self.on_ack: AckHandler | None = None
        self.sm = False
        self._sent = 0  # stanzas sent since SM was enabled (what the server's h counts)
        self._unacked: deque[tuple[int, int]] = deque()  # (stanza count, rid)
        self._own_nick = ""  # our occupant JID in a MUC: its reflected messages are our acks
        self._waiters: dict[str, asyncio.Future[str]] = {}  # presence from / iq id -> future
        self._handshake = True
        self._inbox: asyncio.Queue[_El] = asyncio.Queue()
        self._stack: list[_El] = []
        self._depth = 0
        self._msg: dict[str, str] | None = None  # the message being parsed
        self._body: list[str] | None = None  # its body's text while inside <body>
        self._text: str | None = None  # its body's text once <body> has ended
        self._received = 0  # stanzas received since SM was enabled (our h)
        self._new_parser()

    def _new_parser(self) -> None:
        p = expat.ParserCreate()
        p.buffer_text = True
        p.StartElementHandler = self._start
        p.EndElementHandler = self._end
        p.CharacterDataHandler = self._chars
        self._parser = p
        self._depth = 0

    # --- expat callbacks (depth 1 = the stream, 2 = a stanza, 3 = its children)
    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self._depth = d = self._depth + 1
        if self._handshake:
            if d >= 2:
                el = _El(name, attrs)
                if self._stack:
                    self._stack[-1].children.append(el)
                self._stack.append(el)
            return
        if d == 2:
            if name == "message":
                self._msg = attrs
                self._text = None
            elif name == "presence" or name == "iq":
                w = self._waiters.pop(attrs.get("from", "") if name == "presence" else attrs.get("id", ""), None)
                if w is not None and not w.done():
                    w.set_result(attrs.get("type", ""))
            elif name == "a":
                self._acked(int(attrs["h"]))
                return
            elif name == "r":  # the server asks how many stanzas we have handled
                self.transport.write(f"<a xmlns='urn:xmpp:sm:3' h='{self._received}'/>".encode())  # type: ignore[union-attr]
                return
            self._received += 1
        elif d == 3 and name == "body" and self._msg is not None:
            self._body = []

    def _chars(self, data: str) -> None:
        if self._body is not None:
            self._body.append(data)
        elif self._stack:
            self._stack[-1].text += data

    def _end(self, name: str) -> None:
        d = self._depth
        self._depth = d - 1
        if self._handshake:
            if d >= 2:
                el = self._stack.pop()
                if d == 2:
                    self._inbox.put_nowait(el)
            return
        if d == 2 and self._msg is not None:
            m, text = self._msg, self._text
            self._msg = self._text = None
            if text is None:
                return  # a MUC subject, a chat state...
            if self._own_nick and m.get("from") == self._own_nick:
                if self.on_ack is not None:  # the room reflected our own message: it was accepted
                    self.on_ack(self, int(m.get("id") or 0), m.get("type") != "error", m)
            elif self.on_msg is not None:
                self.on_msg(self, text)
        elif d == 3 and self._body is not None:
            self._text = "".join(self._body)
            self._body = None

    def _acked(self, h: int) -> None:
        q = self._unacked
        cb = self.on_ack
        while q and q[0][0] <= h:
            _, rid = q.popleft()
            if cb is not None:
                cb(self, rid, True, None)

    # --- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(_STREAM)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        for w in self._waiters.values():
            if not w.done():
                w.set_exception(ConnectionError(f"connection lost: {exc}"))
        self._inbox.put_nowait(_El("connection-lost", {}))

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.Parse(data, False)
        except expat.ExpatError as exc:
            self._inbox.put_nowait(_El("xml-error", {"error": str(exc)}))
            self.close()

    # --- handshake
    async def _next(self, timeout: float) -> _El:
        el = await asyncio.wait_for(self._inbox.get(), timeout)
        if el.name in ("connection-lost", "xml-error", "stream:error"):
            raise ConnectionError(f"{self.user}: {el.name} {el.attrs}")
        return el

    async def _scram_sha1(self, password: str, timeout: float) -> _El:
        """SASL SCRAM-SHA-1 (RFC 5802), what real clients pick when it is offered. PLAIN
        against ejabberd's stock SCRAM-stored passwords makes the server derive the key
        (4,096 PBKDF2 rounds in Erlang) inside the session process, whose heap then keeps
        ~420 KiB of garbage while the connection idles: not what a real client costs."""
        t = self.transport
        assert t is not None
        cnonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = f"n={self.user},r={cnonce}"
        t.write(f"<auth xmlns='{_SASL}' mechanism='SCRAM-SHA-1'>{_b64(f'n,,{first_bare}')}</auth>".encode())
        ch = await self._next(timeout)
        if ch.name != "challenge":
            return ch
        server_first = base64.b64decode(ch.text).decode()
        fields = dict(kv.split("=", 1) for kv in server_first.split(","))
        if not fields["r"].startswith(cnonce):
            raise ConnectionError("SCRAM: server nonce does not extend ours")
        salted = _salted_password(password, fields["s"], int(fields["i"]))
        client_key = hmac.digest(salted, b"Client Key", "sha1")
        final_bare = f"c=biws,r={fields['r']}"
        auth_message = f"{first_bare},{server_first},{final_bare}".encode()
        signature = hmac.digest(hashlib.sha1(client_key).digest(), auth_message, "sha1")
        proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature, strict=True))).decode()
        t.write(f"<response xmlns='{_SASL}'>{_b64(f'{final_bare},p={proof}')}</response>".encode())
        return await self._next(timeout)

    async def login(self, password: str, *, sm: bool, timeout: float) -> None:
        """SASL (SCRAM-SHA-1, else PLAIN), stream restart, bind, (SM), initial presence."""
        t = self.transport
        assert t is not None
        feats = await self._next(timeout)
        mechs = [m.text for m in (feats.find("mechanisms") or _El("", {})).children]
        if "SCRAM-SHA-1" in mechs:
            res = await self._scram_sha1(password, timeout)
        elif "PLAIN" in mechs:
            t.write(f"<auth xmlns='{_SASL}' mechanism='PLAIN'>{_b64(f'{chr(0)}{self.user}{chr(0)}{password}')}</auth>"
                    .encode())
            res = await self._next(timeout)
        else:
            raise ConnectionError(f"neither SCRAM-SHA-1 nor PLAIN offered: {mechs}")
        if res.name != "success":
            raise ConnectionError(f"{self.user}: SASL {res.name}")
        self._new_parser()  # a new stream after SASL (RFC 6120 6.4.6)
        t.write(_STREAM)
        feats = await self._next(timeout)
        t.write(b"<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                b"<resource>bench</resource></bind></iq>")
        res = await self._next(timeout)
        if res.attrs.get("type") != "result":
            raise ConnectionError(f"{self.user}: bind failed")
        session = feats.find("session")
        if session is not None and session.find("optional") is None:  # RFC 3921 servers only
            t.write(b"<iq type='set' id='sess'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
            await self._next(timeout)
        if sm:
            t.write(b"<enable xmlns='urn:xmpp:sm:3'/>")
            res = await self._next(timeout)
            if res.name != "enabled":
                raise ConnectionError(f"{self.user}: SM {res.name}")
            self.sm = True
        self._handshake = False  # from here on: the lean path
        self._stack.clear()
        self.send_raw(b"<presence/>")

    # --- API
    def send_raw(self, data: bytes) -> None:
        """Write one stanza (counted for SM acks)."""
        if self.sm:
            self._sent += 1
        self.transport.write(data)  # type: ignore[union-attr]

    def send_message(self, rid: int, to: str, text: str, groupchat: bool = False) -> None:
        kind = "groupchat" if groupchat else "chat"
        stanza = f"<message to='{to}' type='{kind}' id='{rid}'><body>{text}</body></message>".encode()
        if self.sm and not groupchat:
            self._sent += 1
            self._unacked.append((self._sent, rid))
            self.transport.write(stanza + _SM_REQUEST)  # type: ignore[union-attr]
        else:
            self.send_raw(stanza)

    def expect(self, key: str) -> asyncio.Future[str]:
        """A future for the next presence from `key` (a full JID) or iq with id `key`."""
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiters[key] = fut
        return fut

    async def join_room(self, room: str, nick: str, timeout: float = 30.0) -> str:
        """Enter a MUC room; returns when our own presence comes back (XEP-0045 7.2.3)."""
        self._own_nick = f"{room}/{nick}"
        fut = self.expect(self._own_nick)
        self.send_raw(f"<presence to='{room}/{nick}'><x xmlns='http://jabber.org/protocol/muc'>"
                      "<history maxstanzas='0'/></x></presence>".encode())
        kind = await asyncio.wait_for(fut, timeout)
        if kind == "error":
            raise ConnectionError(f"{self.user} could not enter {room}")
        return kind

    async def unlock_room(self, room: str, timeout: float = 30.0) -> None:
        """Accept the default configuration of a room we just created (XEP-0045 10.1.2)."""
        fut = self.expect("unlock")
        self.send_raw(f"<iq type='set' id='unlock' to='{room}'><query xmlns='http://jabber.org/protocol/muc#owner'>"
                      "<x xmlns='jabber:x:data' type='submit'/></query></iq>".encode())
        kind = await asyncio.wait_for(fut, timeout)
        if kind != "result":
            raise ConnectionError(f"room configuration: {kind}")

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"</stream:stream>")
            self.transport.close()
        self.closed = True


async def connect(port: int, i: int, *, sm: bool = False, timeout: float = 30.0) -> XMPPClient:
    """Log user i in and return the ready client (callbacks not yet set)."""
    loop = asyncio.get_running_loop()
    _, client = await asyncio.wait_for(
        loop.create_connection(lambda: XMPPClient(user_id(i)), "127.0.0.1", port), timeout)
    try:
        await client.login(PASSWORD, sm=sm, timeout=timeout)
    except BaseException:
        client.close()
        raise
    return client


async def connect_many(port: int, users: list[int], *, concurrency: int = 64, sm: bool = False,
                       timeout: float = 60.0) -> list[XMPPClient]:
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> XMPPClient:
        async with sem:
            for attempt in range(3):
                try:
                    return await connect(port, i, sm=sm, timeout=timeout)
                except (TimeoutError, OSError):
                    if attempt == 2:
                        raise
                    await asyncio.sleep(0.2 * (attempt + 1))
            raise AssertionError("unreachable")

    return list(await asyncio.gather(*(one(i) for i in users)))


class XmppWire:
    """The loads of loads.py over XMPP (see wire.py): users u00000.. with the benchmark
    password, one-to-one `chat` messages, the group as a MUC room everyone joins.

    `sm`: enable XEP-0198 and send `<r/>` after every message, so each send is confirmed
    by the server like Semot's ack (what Conversations does); without it (the default)
    ejabberd does the least work per message and a message counts once delivered."""

    name = "xmpp"

    def __init__(self, *, sm: bool = False, join_concurrency: int = 25) -> None:
        self.sm = sm
        self.acks = sm
        self.join_concurrency = join_concurrency

    async def connect(self, port: int, users: range, *, concurrency: int = 64) -> list[XMPPClient]:
        return await connect_many(port, list(users), concurrency=concurrency, sm=self.sm)

    def address(self, i: int) -> str:
        return jid(i)

    def listen(self, c: XMPPClient, on_msg: MsgHandler, on_ack: AckHandler) -> None:
        c.on_msg = on_msg
        c.on_ack = on_ack

    def msg_text(self, payload: str) -> str:
        return payload

    def send(self, c: XMPPClient, rid: int, cid: str, to: str, text: str, *, group: bool = False) -> None:
        c.send_message(rid, to, text, groupchat=group)

    async def create_group(self, server: Any, members: int) -> str:
        return f"bench@conference.{DOMAIN}"  # created by its first occupant in join_group

    async def join_group(self, conv: str, clients: list[XMPPClient]) -> None:
        """The owner creates and unlocks the room, then everyone else enters it,
        `join_concurrency` at a time (each entry is broadcast to all present occupants)."""
        owner = clients[0]
        await owner.join_room(conv, owner.user)
        await owner.unlock_room(conv)
        sem = asyncio.Semaphore(self.join_concurrency)

        async def enter(c: XMPPClient) -> None:
            async with sem:
                await c.join_room(conv, c.user, timeout=60)

        await asyncio.gather(*(enter(c) for c in clients[1:]))
