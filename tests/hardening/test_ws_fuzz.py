"""Fuzzing the WebSocket frames over a real connection (issue 8, "Done when").

Hypothesis builds frames of every request shape of protocol/frames.py, with each field
either plausible or replaced by random JSON: nesting up to past orjson's limit, huge
strings, NUL, unpaired surrogates, wrong types, integers past 64 bits, floats, nulls,
unknown and missing fields, broken JSON. They go one at a time, authenticated, to a
real server on SQLite and on PostgreSQL, while a second, well-behaved pair of users
keeps chatting. For every frame:

- exactly one reply, carrying the frame's rid (or null when the rid cannot be read);
- never `internal` or `unavailable`;
- a frame over max_frame_bytes closes the connection with 1009, or a reset when it is
  far larger (the fuzzer then reconnects); nothing else closes it.

At the end the server log holds no traceback, and the well-behaved pair never saw an
error or waited long. The run is bounded: SEMOT_FUZZ_EXAMPLES frames (default 800)
per backend or SEMOT_FUZZ_SECONDS (default 20) of fuzzing, whichever ends first.
Frames that once broke the server are replayed first (FOUND), with the reply they need.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.ws_support import BACKENDS, assert_clean_log, run_backend
from tests.integration.harness import (
    WS,
    Account,
    Api,
    ServerProcess,
    direct_conv,
    unique,
)

EXAMPLES = int(os.environ.get("SEMOT_FUZZ_EXAMPLES", "800"))
SECONDS = float(os.environ.get("SEMOT_FUZZ_SECONDS", "20"))
LOG = os.environ.get("SEMOT_FUZZ_LOG")  # a file to append every error reply to, with its frame
MAX_FRAME = 65536
REPLY_TIMEOUT = 10.0
T = TypeVar("T")

# --------------------------------------------------------------------------- strategies


@dataclass(frozen=True)
class Deep:
    """`levels` nested arrays or objects, written as text (no encoder recurses that far)."""

    levels: int
    obj: bool


@dataclass(frozen=True)
class Raw:
    """A frame sent verbatim (not JSON, or not an object)."""

    text: str


@dataclass
class Names:
    """Ids the plausible values draw on; filled once the accounts exist."""

    me: str = "me"
    peer: str = "peer"
    group: str = "g:x"


NAMES = Names()
SPECIAL = ["\x00", "\ud800", "\udfff", "\ud83d", "\ude00", "\u2028", "\ufeff", "\U0001f600", "\\", '"', "\x7f", "\x1f"]


def weighted(*options: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, picked in proportion to its weight."""
    table = [strategy for weight, strategy in options for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda i: table[i])


plain_texts = st.text(st.characters(codec="utf-8"), max_size=40)
weird_texts = st.text(st.one_of(st.characters(), st.sampled_from(SPECIAL)), max_size=40)
texts = weighted((3, plain_texts), (1, weird_texts))
huge_texts = st.builds(lambda c, n: c * n, st.sampled_from(["a", "\x00", "é", "\U0001f600", "\ud800"]), st.integers(1000, 70000))
ints = st.one_of(
    st.integers(-5, 300),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**31, 2**53, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1]),
)
floats = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.one_of(st.none(), st.booleans(), ints, floats, texts)
# up to 900 levels every JSON parser here reads; 1,100 is past all of them (orjson stops at 1,024)
deep = st.builds(Deep, st.one_of(st.integers(1, 64), st.integers(250, 900), st.just(1100)), st.booleans())
json_values = st.recursive(
    weighted((9, scalars), (1, deep)),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(texts, inner, max_size=5)),
    max_leaves=20,
)
anything = weighted((12, json_values), (1, huge_texts))


def either(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a value the server might accept, sometimes anything at all."""
    return weighted((7, plausible), (1, anything))


def names() -> st.SearchStrategy[str]:
    return weighted((4, st.just("peer")), (3, st.just("group")), (2, st.just("dpeer")), (1, st.sampled_from(["me", "dself", "bogus"]))).map(_name)


def _name(which: str) -> str:
    return {
        "me": NAMES.me,
        "peer": NAMES.peer,
        "group": NAMES.group,
        "dpeer": direct_conv(NAMES.me, NAMES.peer),
        "dself": f"d:{NAMES.me}:{NAMES.me}",
        "bogus": "g:nonexistent",
    }[which]


convs = weighted((8, names()), (1, texts))
seqs = weighted((4, st.integers(0, 20)), (1, ints))
BODIES = {
    "text": st.fixed_dictionaries(
        {"text": either(texts.filter(bool))}, optional={"mentions": either(st.lists(names(), max_size=3)), "mention_all": either(st.booleans())}
    ),
    "location": st.fixed_dictionaries(
        {"lat": either(st.floats(-90, 90)), "lng": either(st.floats(-180, 180))},
        optional={"title": either(texts), "address": either(texts)},
    ),
    "card": st.fixed_dictionaries({"user_id": either(names())}),
    "custom": st.fixed_dictionaries({"type": either(texts), "data": json_values}),
}
bodies = st.one_of(*BODIES.values(), st.dictionaries(texts, json_values, max_size=4))
SHAPES: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "send": {
        "cid": weighted((8, st.uuids().map(str)), (1, texts), (1, st.text(max_size=70))),
        "to": convs,
        "kind": weighted((6, st.sampled_from(["text", "location", "card", "custom"])), (1, st.sampled_from(["image", "system", "recalled", "nope"]))),
        "body": bodies,
        "opts": st.one_of(st.none(), st.fixed_dictionaries({}, optional={"burn_s": ints})),
    },
    "sync": {"convs": st.dictionaries(convs, seqs, max_size=6)},
    "history": {"conv": convs, "after": st.one_of(st.none(), seqs), "before": st.one_of(st.none(), seqs), "limit": ints},
    "read": {"conv": convs, "seq": seqs},
    "typing": {"conv": convs},
    "recall": {"conv": convs, "seq": seqs},
    "ping": {},
    "presence": {"status": st.sampled_from(["online", "busy", "away", "invisible"]), "text": st.one_of(st.none(), texts)},
    "presence_sub": {"users": st.lists(st.one_of(names(), texts), max_size=8)},
    "auth": {"token": texts, "device": st.fixed_dictionaries({"id": texts, "platform": texts})},
}


@st.composite
def frames(draw: st.DrawFn) -> tuple[Any, str]:
    """(the frame, how its rid is given); the fuzzer fills in the rid itself."""
    choice = draw(weighted((6, st.just("send")), (1, st.sampled_from([*SHAPES, "unknown", "raw"]))))
    rid_style = draw(weighted((6, st.just("int")), (3, st.just("str")), (1, st.sampled_from(["missing", "bad"]))))
    if choice == "raw":
        text = draw(st.sampled_from(["", "null", "[]", "[1,2]", '"x"', "{", '{"t":"ping","rid":1', "{'t':'ping'}", '{"t":"ping","rid":NaN}']))
        return Raw(text), "missing"
    frame: dict[str, Any] = {"t": draw(either(st.just(choice))) if choice != "unknown" else draw(texts)}
    for name, strategy in SHAPES.get(choice, {}).items():
        if draw(st.integers(0, 19)) == 19:  # (hypothesis starts from 0: simple frames are whole)
            continue  # a missing field
        frame[name] = draw(either(strategy))
    kind = frame.get("kind")
    if choice == "send" and isinstance(kind, str) and kind in BODIES and draw(st.integers(0, 4)) < 4:
        frame["body"] = draw(BODIES[kind])  # mostly a body of the frame's kind
    if draw(st.integers(0, 7)) == 7:
        frame.update(draw(st.dictionaries(texts, json_values, max_size=3)))  # unknown extra fields
    if rid_style == "bad":
        frame["rid"] = draw(st.one_of(st.none(), st.booleans(), floats, st.lists(ints, max_size=2), st.text(min_size=65, max_size=80)))
    return frame, rid_style


def encode(value: Any) -> str:
    """JSON text; lone surrogates and NUL become escapes, as JavaScript would write them."""
    if isinstance(value, Deep):
        inner = '{"k":0}' if value.obj else "[0]"
        opener, closer = ('{"k":', "}") if value.obj else ("[", "]")
        return opener * (value.levels - 1) + inner + closer * (value.levels - 1)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(v) for v in value) + "]"
    return json.dumps(value)


# any \uD800-\uDFFF escape that is not an escaped backslash followed by "ud800" text
_SURROGATE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def expected_rid(text: str, rid: Any) -> Any:
    """The rid the reply must carry: the frame's whenever it can be read, including
    when the frame's only fault is an unpaired surrogate somewhere (JavaScript writes
    those), but not when the rid itself has one."""
    valid = (isinstance(rid, int) and not isinstance(rid, bool) and -(2**63) <= rid < 2**64) or (
        isinstance(rid, str) and len(rid) <= 64
    )
    if not valid:
        return None
    try:
        orjson.loads(text)
        return rid
    except orjson.JSONDecodeError as exc:
        if "surrogate" not in exc.msg:
            return None
    try:
        orjson.loads(_SURROGATE_ESCAPE.sub(r"\1\\ufffd", text))
    except orjson.JSONDecodeError:
        return None
    if isinstance(rid, str) and any(0xD800 <= ord(c) <= 0xDFFF or c == "\ufffd" for c in rid):
        return None  # the server cannot tell this rid from one it had to patch up
    return rid


# Frames the fuzzer found breaking the server, replayed before every run: (frame, the
# reply code it must get). `read` of a real message failed on PostgreSQL, always: the
# burn deadline `now + burn_s * 1000` bound `now` as a 32-bit INTEGER.
FOUND: list[tuple[dict[str, Any], str]] = [
    ({"t": "read", "conv": "$group", "seq": 1}, "ok"),
    ({"t": "send", "cid": "c\x00", "to": "$peer", "kind": "text", "body": {"text": "x"}}, "bad_request"),
    ({"t": "send", "cid": "deep", "to": "$peer", "kind": "custom", "body": {"type": "t", "data": Deep(300, True)}}, "bad_request"),
    ({"t": "send", "cid": "half-emoji", "to": "$peer", "kind": "text", "body": {"text": "\ud83d"}}, "bad_request"),
    ({"t": "presence", "status": "busy", "text": "\x00"}, "bad_request"),
    ({"t": "sync", "convs": {"$group": 2**53, "d:\x00:x": 0}}, "bad_request"),
    ({"t": "history", "conv": "$group", "after": 2**53}, "ok"),
]


def resolve(value: Any) -> Any:
    """FOUND frames name the run's ids as $peer / $group."""
    if isinstance(value, str) and value.startswith("$"):
        return getattr(NAMES, value[1:])
    if isinstance(value, dict):
        return {resolve(k): resolve(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- the run


def _log(line: str) -> None:
    with open(LOG or os.devnull, "a") as log:
        log.write(line + "\n")


class Loop:
    """An event loop in a thread: the connections live there while hypothesis, which
    cannot drive async tests, calls in from the test's own thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass
class Fuzzer:
    server: ServerProcess
    account: Account
    session: aiohttp.ClientSession | None = None
    ws: aiohttp.ClientWebSocketResponse | None = None
    counter: int = 0
    sent: int = 0
    reconnects: int = 0
    codes: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)  # error messages seen, for the run's summary
    failed: bool = False  # once set, the time budget no longer cuts examples short (shrinking)

    async def connect(self) -> None:
        if self.session is None:
            self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(self.server.ws_url, max_msg_size=0)
        await self.ws.send_str(json.dumps({"t": "auth", "rid": "auth", "token": self.account.access_token, "device": {"id": "fuzz", "platform": "sdk"}}))
        reply = await self.next_reply()
        assert reply is not None and reply["ok"], reply

    async def next_reply(self) -> dict[str, Any] | None:
        """The next `res` frame (pushes skipped), or None when the connection closed."""
        assert self.ws is not None
        while True:
            msg = await asyncio.wait_for(self.ws.receive(), REPLY_TIMEOUT)
            if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                frame = orjson.loads(msg.data)
                if frame.get("t") == "res":
                    return frame  # type: ignore[no-any-return]
                continue
            return None

    async def exchange(self, frame: Any, rid_style: str, binary: bool) -> str:
        """Send one frame and check its reply; returns the reply's code ("ok" or the error's).

        After a failure the connection is replaced, so that hypothesis, replaying frames
        to shrink the failing one, starts each replay from a clean connection."""
        if self.ws is None or self.ws.closed:
            await self.connect()
        try:
            return await self._exchange(frame, rid_style, binary)
        except BaseException:
            self.failed = True
            if self.ws is not None:
                await self.ws.close()
            raise

    async def _exchange(self, frame: Any, rid_style: str, binary: bool) -> str:
        self.counter += 1
        if isinstance(frame, Raw):
            text = frame.text
        else:
            frame = dict(frame)
            if rid_style == "int":
                rid = self.counter * (-1 if self.counter % 7 == 0 else 1) + (2**63 if self.counter % 11 == 0 else 0)
            elif rid_style == "str":
                rid = f"r{self.counter}-" + "x" * (self.counter % 50)
            else:
                rid = None
            if rid is not None:
                frame["rid"] = rid
            text = encode(frame)
        assert self.ws is not None
        data = text.encode("utf-8", "surrogatepass")
        if binary:
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(text)  # encode() escaped every surrogate: valid UTF-8
        self.sent += 1
        reply = await self.next_reply()
        if len(data) > MAX_FRAME:
            # 1009; or, for a frame far larger than the socket buffers, a reset (1006): the
            # server closes while the rest of the frame is still arriving
            assert reply is None and self.ws.close_code in (1009, 1006), (reply, self.ws.close_code, len(data))
            self.reconnects += 1
            await self.connect()
            return "closed"
        assert reply is not None, f"connection closed ({self.ws.close_code}) by frame {text[:300]!r}"
        want = expected_rid(text, None if isinstance(frame, Raw) else frame.get("rid"))
        assert reply["rid"] == want, f"reply {reply} to frame {text[:300]!r}: rid should be {want!r}"
        code = "ok" if reply["ok"] else reply["error"]["code"]
        self.codes[code] = self.codes.get(code, 0) + 1
        assert code not in ("internal", "unavailable"), f"{reply} to frame {text[:500]!r}"
        if not reply["ok"]:
            assert reply["error"]["message"], reply
            reason = re.sub(r"\d+", "N", reply["error"]["message"].split(":")[0])[:40]
            self.reasons[reason] = self.reasons.get(reason, 0) + 1
            if LOG:
                _log(f"{reply['error']['message'][:150]!r}  <=  {text[:200]!r}")
        return code

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()


@dataclass
class Bystanders:
    """Two users chatting steadily throughout: each message acknowledged and delivered."""

    a: WS
    b: WS
    sent: int = 0
    slowest: float = 0.0
    problems: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        conv = direct_conv(self.a.user_id or "", self.b.user_id or "")
        while not self.stop.is_set():
            src, dst = (self.a, self.b) if self.sent % 2 == 0 else (self.b, self.a)
            started = time.monotonic()
            try:
                ack = await src.send_text(dst.user_id or "", f"steady {self.sent}")
                seq = ack["seq"]
                await dst.wait_for(lambda f, seq=seq: f.get("t") == "msg" and f.get("conv") == conv and f.get("seq") == seq, 5)
            except Exception as exc:
                self.problems.append(f"message {self.sent}: {exc!r}")
                return
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.sent += 1
            await asyncio.sleep(0.02)


async def _setup(server: ServerProcess) -> tuple[Fuzzer, Bystanders, aiohttp.ClientSession]:
    session = aiohttp.ClientSession()
    api = Api(session)
    me, peer, x, y = await api.accounts(server, 4, "fz")
    NAMES.me, NAMES.peer = me.user_id, peer.user_id
    NAMES.group = await api.group(server, me, [peer])
    fuzzer = Fuzzer(server, me)
    await fuzzer.connect()
    pair = []
    for acc in (x, y):
        ws = await WS.open(server)
        data = await ws.call("auth", token=acc.access_token, device={"id": unique("dev"), "platform": "sdk"})
        ws.user_id = data["user_id"]
        pair.append(ws)
    return fuzzer, Bystanders(pair[0], pair[1]), session


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    yield from run_backend(request.param, tmp_path / "data")


def test_fuzzed_frames_get_one_clean_reply_each(server: ServerProcess) -> None:
    loop = Loop()
    fuzzer, bystanders, session = loop.run(_setup(server))
    chat = asyncio.run_coroutine_threadsafe(bystanders.run(), loop.loop)
    deadline = time.monotonic() + SECONDS
    try:
        for found, code in FOUND:
            got = loop.run(fuzzer.exchange(resolve(found), "int", False))
            assert got == code, f"{found}: {got}, should be {code}"

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(frame=frames(), binary=st.integers(0, 9).map(lambda n: n == 0))
        def one_frame(frame: tuple[Any, str], binary: bool) -> None:
            if time.monotonic() > deadline and not fuzzer.failed:
                return  # the time budget is spent: let hypothesis run out its examples idly
            loop.run(fuzzer.exchange(frame[0], frame[1], binary), REPLY_TIMEOUT * 3)

        one_frame()
        # nothing left unanswered: a last ping is answered next, and by itself
        loop.run(fuzzer.exchange({"t": "ping"}, "int", False))
    finally:
        loop.loop.call_soon_threadsafe(bystanders.stop.set)
        chat.result(15)
        loop.run(fuzzer.close())
        loop.run(bystanders.a.close())
        loop.run(bystanders.b.close())
        loop.run(session.close())
        loop.close()
    print(f"fuzz: {fuzzer.sent} frames, replies {fuzzer.codes}, {fuzzer.reconnects} reconnects after 1009; "
          f"bystanders: {bystanders.sent} messages, slowest {bystanders.slowest:.3f}s; "
          f"top errors {sorted(fuzzer.reasons.items(), key=lambda kv: -kv[1])[:12]}")
    assert fuzzer.sent >= min(EXAMPLES, 100), fuzzer.sent
    assert not bystanders.problems, bystanders.problems
    assert bystanders.sent >= 10 and bystanders.slowest < 5.0, (bystanders.sent, bystanders.slowest)
    assert_clean_log(server)
