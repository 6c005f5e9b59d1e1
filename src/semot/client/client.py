"""The SDK's client: HTTP login, the WebSocket session, reconnects and gap filling.

Pushes are best effort; what makes the client lossless is its `{conv: last_seq}` map.
After every (re)connect it asks `sync` which conversations moved and pages `history`
from its last seq, and any push that skips a seq triggers the same fill. Every message
is handed to the application once, in seq order per conversation, de-duplicated by
(conv, seq).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlencode

import aiohttp

if TYPE_CHECKING:
    from .files import FileInfo, Progress, Source, UploadStore

log = logging.getLogger("semot.client")

MessageHandler = Callable[[dict[str, Any]], Awaitable[None] | None]
EventHandler = Callable[[dict[str, Any]], Awaitable[None] | None]

# Close codes after which reconnecting cannot help.
TERMINAL_CLOSE_CODES = {1008, 4409}
PROFILE_BATCH = 200  # ids per GET /api/v1/users
PROFILE_QUERY_CHARS = 4000
FILE_KINDS = frozenset({"image", "voice", "video", "file"})  # bodies the server fills from the stored file


class SemotAPIError(Exception):
    """An error reply (WebSocket or HTTP) with the server's code and message."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class ClientClosed(Exception):
    """The connection ended before the reply arrived."""


class SemotClient:
    def __init__(
        self,
        base_url: str,
        *,
        device_id: str | None = None,
        platform: str = "sdk",
        request_timeout: float = 15.0,
        reconnect: bool = True,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        state_file: str | Path | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.ws_url = self.base_url.replace("http://", "ws://").replace("https://", "wss://") + "/ws"
        self.device_id = device_id or f"sdk-{uuid.uuid4().hex[:12]}"
        self.platform = platform
        self.request_timeout = request_timeout
        self.reconnect = reconnect
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.state_file = Path(state_file) if state_file else None

        self.user_id: str | None = None
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self._refresh_lock = asyncio.Lock()
        self._last_tokens: dict[str, Any] | None = None
        self.session_id: str | None = None
        self.server_config: dict[str, Any] = {}
        self.last_seq: dict[str, int] = self._load_state()

        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._rid = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._message_handlers: list[MessageHandler] = []
        self._event_handlers: list[EventHandler] = []
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        # Handlers run from one dispatcher task, never under a lock or inside the read
        # loop, so a handler may itself await requests (a bot replying, say).
        self._dispatch: asyncio.Queue[tuple[list[Any], dict[str, Any]]] = asyncio.Queue()
        self._dispatcher: asyncio.Task[None] | None = None
        self._fill_locks: dict[str, asyncio.Lock] = {}
        self._background: set[asyncio.Task[None]] = set()  # held: the loop keeps only weak references
        self._runner: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self.close_code: int | None = None
        self.reconnects = 0
        self.resyncs = 0  # `evt resync` catch-ups run (docs/protocol.md)

    # --- context manager
    async def __aenter__(self) -> SemotClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- HTTP
    async def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def http(self, method: str, path: str, json_body: Any = None, *, auth: bool = True) -> Any:
        """Call the HTTP API; raises SemotAPIError with the server's error code."""
        headers = {"Authorization": f"Bearer {self.access_token}"} if auth and self.access_token else {}
        session = await self._session()
        # bounded: a server that stops answering is an error, never a hang
        timeout = aiohttp.ClientTimeout(total=self.request_timeout * 2, sock_connect=10)
        async with session.request(method, self.base_url + path, json=json_body, headers=headers, timeout=timeout) as resp:
            data = await resp.json(content_type=None)
            if resp.status >= 400:
                err = (data or {}).get("error", {})
                raise SemotAPIError(err.get("code", "internal"), err.get("message", resp.reason or ""), resp.status)
            return data

    async def register(self, username: str, password: str, display_name: str | None = None) -> str:
        body: dict[str, Any] = {"username": username, "password": password}
        if display_name:
            body["display_name"] = display_name
        return str((await self.http("POST", "/api/v1/auth/register", body, auth=False))["user_id"])

    async def login(self, username: str, password: str) -> dict[str, Any]:
        data: dict[str, Any] = await self.http("POST", "/api/v1/auth/login", {"username": username, "password": password}, auth=False)
        self._take_tokens(data)
        return data

    async def refresh(self) -> dict[str, Any]:
        """Renew the tokens, single-flight: a refresh token is single-use (reusing one
        revokes the whole login), so when the socket's reconnect and an upload's 401 ask
        at once, the second caller takes the tokens the first one got."""
        spent = self.refresh_token
        async with self._refresh_lock:
            if self.refresh_token != spent and self._last_tokens is not None:
                return self._last_tokens
            if not self.refresh_token:
                raise SemotAPIError("unauthorized", "no refresh token")
            data: dict[str, Any] = await self.http(
                "POST", "/api/v1/auth/refresh", {"refresh_token": self.refresh_token}, auth=False
            )
            self._take_tokens(data)
            return data

    def _take_tokens(self, data: dict[str, Any]) -> None:
        self._last_tokens = data
        self.access_token = data["access_token"]
        self.refresh_token = data.get("refresh_token")
        self.user_id = data["user_id"]

    async def logout(self) -> None:
        """End this login on the server (its refresh token chain is revoked), then close.
        Local state is forgotten even if the server cannot be reached."""

        async def revoke() -> None:
            try:
                await self.http("POST", "/api/v1/auth/logout", {"refresh_token": self.refresh_token})
            except SemotAPIError as exc:
                if exc.status != 401:
                    raise
                await self.refresh()  # the access token expired (idle): renew once, then end that
                await self.http("POST", "/api/v1/auth/logout", {"refresh_token": self.refresh_token})

        try:
            if self.refresh_token:
                await asyncio.wait_for(revoke(), 10)
        except (TimeoutError, SemotAPIError, aiohttp.ClientError, ValueError):
            log.info("logout could not be confirmed by the server; forgetting the tokens locally")
        finally:
            self.access_token = self.refresh_token = None
            await self.close()

    async def users(self, user_ids: list[str]) -> list[dict[str, Any]]:
        """Public profiles ({user_id, username, display_name}) of these users; unknown
        ids are left out. Any number of ids: asked in batches the server accepts."""
        wanted = list(dict.fromkeys(u for u in user_ids if u))
        out: list[dict[str, Any]] = []
        batch: list[str] = []
        size = 0

        async def ask() -> None:
            if batch:
                data = await self.http("GET", "/api/v1/users?" + urlencode({"ids": ",".join(batch)}))
                out.extend(data["users"])

        for u in wanted:
            encoded = len(quote(u, safe="")) + 3
            # at most 200 ids, and a request line well under the server's 8 KiB
            if len(batch) == PROFILE_BATCH or size + encoded > PROFILE_QUERY_CHARS:
                await ask()
                batch, size = [], 0
            batch.append(u)
            size += encoded
        await ask()
        return out

    async def update_me(self, *, display_name: str | None = None, avatar_file_id: str | Literal[False] | None = False) -> dict[str, Any]:
        """`PATCH /api/v1/me`: a new display name and/or avatar (the file id of an uploaded
        JPEG/PNG/WebP/GIF; None removes it, False, the default, leaves it). Returns the
        new profile, with `avatar_url` (relative to the server's base URL)."""
        body: dict[str, Any] = {} if display_name is None else {"display_name": display_name}
        if avatar_file_id is not False:
            body["avatar_file_id"] = avatar_file_id
        me: dict[str, Any] = await self.http("PATCH", "/api/v1/me", body)
        return me

    async def change_password(self, old: str, new: str) -> None:
        """Every other login of the user ends; this client stays signed in."""
        await self.http("POST", "/api/v1/me/password", {"old_password": old, "new_password": new})

    async def create_group(self, name: str, members: list[str]) -> dict[str, Any]:
        created: dict[str, Any] = await self.http("POST", "/api/v1/groups", {"name": name, "members": members})
        return created

    async def search_groups(self, q: str, limit: int = 20) -> list[dict[str, Any]]:
        """Groups to join: by exact group id, or by part of the name (searchable groups)."""
        data = await self.http("GET", "/api/v1/groups/search?" + urlencode({"q": q, "limit": limit}))
        return list(data["groups"])

    async def search_messages(
        self, q: str = "", *, conv: str | None = None, sender: str | None = None, kind: str | None = None,
        since: int | None = None, until: int | None = None, limit: int | None = None, cursor: str | None = None,
    ) -> dict[str, Any]:
        """Search one's own messages (GET /api/v1/messages/search, docs/search.md): across
        every conversation one is in, or in `conv`; `sender`, `kind` and `since`/`until`
        (ms) narrow it (`q` may be empty when another filter is given). Returns
        {"hits": [<msg>...] newest first, "next": cursor for the next page or None}."""
        params: dict[str, Any] = {"q": q}
        for key, value in (("conv", conv), ("sender", sender), ("kind", kind), ("since", since),
                           ("until", until), ("limit", limit), ("cursor", cursor)):
            if value is not None:
                params[key] = value
        return dict(await self.http("GET", "/api/v1/messages/search?" + urlencode(params)))

    async def join_group(self, group_id: str, message: str = "") -> dict[str, Any]:
        """Join an open group at once, or ask to join: {"joined": bool, "request_id": str | None}."""
        return dict(await self.http("POST", f"/api/v1/groups/{quote(group_id, safe='')}/join", {"message": message}))

    # --- handlers
    def on_message(self, handler: MessageHandler) -> None:
        """Called once per message, in seq order per conversation (own sends included).

        Handlers run one at a time, outside the client's internals, and may await
        requests. With no handler registered, messages go to `next_message` instead."""
        self._message_handlers.append(handler)

    def on_event(self, handler: EventHandler) -> None:
        """Called for every `evt` push (read, typing, recall, burned, presence, group...)."""
        self._event_handlers.append(handler)

    async def next_message(self, timeout: float | None = None) -> dict[str, Any]:
        """The next message, for applications that register no on_message handler."""
        return await asyncio.wait_for(self._inbox.get(), timeout)

    # --- connection lifecycle
    async def connect(self) -> None:
        """Open the WebSocket, authenticate and catch up; keeps reconnecting afterwards."""
        if self.access_token is None:
            raise SemotAPIError("unauthorized", "log in first")
        self._closing = False
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._run_handlers(), name=f"semot-handlers-{self.device_id}")
        await self._open()
        self._runner = asyncio.create_task(self._run(), name=f"semot-client-{self.device_id}")
        await self.catch_up()

    async def _open(self) -> None:
        session = await self._session()
        ws = await asyncio.wait_for(
            session.ws_connect(self.ws_url, autoping=True, max_msg_size=0, heartbeat=None), self.request_timeout
        )
        self._ws = ws
        self._rid += 1
        rid = self._rid
        await ws.send_str(
            json.dumps(
                {"t": "auth", "rid": rid, "token": self.access_token, "device": {"id": self.device_id, "platform": self.platform}}
            )
        )
        reply = await asyncio.wait_for(self._auth_reply(ws, rid), self.request_timeout)
        if not reply.get("ok"):
            err = reply.get("error", {})
            await ws.close()
            raise SemotAPIError(err.get("code", "unauthorized"), err.get("message", ""))
        data = reply["data"]
        self.session_id = data["session_id"]
        self.server_config = data.get("config", {})
        self._connected.set()

    @staticmethod
    async def _auth_reply(ws: aiohttp.ClientWebSocketResponse, rid: int) -> dict[str, Any]:
        while True:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                await ws.close()
                raise SemotAPIError("unauthorized", f"connection closed during auth ({ws.close_code})")
            frame = json.loads(msg.data)
            if frame.get("t") == "res" and frame.get("rid") == rid:
                return dict(frame)
            # the server answers auth first; anything else here is not for us yet

    async def _run(self) -> None:
        """Read frames; on a lost connection reconnect with backoff and catch up."""
        attempt = 0
        while True:
            ws = self._ws
            assert ws is not None
            try:
                await self._read_loop(ws)
            except Exception:  # a broken socket is just a lost connection
                log.debug("read loop ended", exc_info=True)
            self._connected.clear()
            self.close_code = ws.close_code
            self._fail_pending()
            if self._closing or not self.reconnect or ws.close_code in TERMINAL_CLOSE_CODES:
                return
            while not self._closing:
                attempt += 1
                delay = random.uniform(0, min(self.backoff_max, self.backoff_base * 2 ** min(attempt, 16)))
                await asyncio.sleep(delay)
                try:
                    await self._open()
                except SemotAPIError as exc:
                    if exc.code == "unauthorized" and self.refresh_token:
                        try:
                            await self.refresh()
                        except Exception:
                            log.warning("token refresh failed; will retry")
                    continue
                except (TimeoutError, aiohttp.ClientError, OSError):
                    continue
                attempt = 0
                self.reconnects += 1
                self._spawn(self._catch_up_quietly())
                break

    async def _catch_up_quietly(self) -> None:
        try:
            await self.catch_up()
        except (TimeoutError, SemotAPIError, ClientClosed):
            log.debug("catch-up interrupted; the next reconnect retries it", exc_info=True)

    async def _resync(self, spread_ms: Any) -> None:
        """`evt resync` (docs/protocol.md): catch up after a random wait of up to
        `spread_ms`, so that a node's clients do not all sync at the same moment."""
        if isinstance(spread_ms, int | float) and spread_ms > 0:
            await asyncio.sleep(random.uniform(0, min(float(spread_ms), 60_000.0)) / 1000)
        self.resyncs += 1
        await self._catch_up_quietly()

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _read_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            t = frame.get("t")
            if t == "res":
                fut = self._pending.pop(frame.get("rid"), None)
                if fut is not None and not fut.done():
                    fut.set_result(frame)
            elif t == "msg":
                self._spawn(self._ingest(frame))
            elif t == "evt":
                if frame.get("evt") == "resync":  # the node may have missed pushes: catch up
                    self._spawn(self._resync(frame.get("spread_ms", 0)))
                if self._event_handlers:
                    self._dispatch.put_nowait((self._event_handlers, frame))

    def _fail_pending(self) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ClientClosed("connection lost before the reply"))
        self._pending.clear()

    async def wait_connected(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def close(self) -> None:
        self._closing = True
        if self._runner is not None:  # it may be mid-reconnect: stop it before closing
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        self._connected.clear()
        self._fail_pending()
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        self._save_state()

    async def drop_connection(self) -> None:
        """Close the socket as a network failure would (for tests and demos)."""
        if self._ws is not None:
            await self._ws.close(code=4000, message=b"client dropped")

    # --- requests
    async def request(self, t: str, **fields: Any) -> dict[str, Any]:
        """Send one request and wait for its reply; raises SemotAPIError on `ok: false`."""
        ws = self._ws
        if ws is None or ws.closed or not self._connected.is_set():
            raise ClientClosed("not connected")  # also while a reconnect is authenticating
        self._rid += 1
        rid = self._rid
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        try:
            # a socket the server just dropped fails here (aiohttp's "closing transport")
            # before the read loop notices: the same lost connection as a missing reply
            await ws.send_str(json.dumps({"t": t, "rid": rid, **fields}))
            reply = await asyncio.wait_for(fut, self.request_timeout)
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise ClientClosed("connection lost before the request was sent") from exc
        finally:
            self._pending.pop(rid, None)
            if not fut.done():
                fut.cancel()  # nobody awaits it any more
            elif not fut.cancelled():
                fut.exception()  # failed by the read loop meanwhile: retrieved, not logged
        if not reply.get("ok"):
            err = reply.get("error", {})
            raise SemotAPIError(err.get("code", "internal"), err.get("message", ""))
        data: dict[str, Any] = reply.get("data", {})
        return data

    async def send(
        self,
        to: str,
        kind: str,
        body: dict[str, Any],
        *,
        cid: str | None = None,
        opts: dict[str, Any] | None = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """Send a message; resend with the same `cid` is safe (the server stores it once).

        `reply_to`: the seq of a message of the same conversation this one answers; the
        server stores a quote of it (`body.reply_to`, filled from the original) and
        returns that quote in the ack, which the own copy delivered here carries too."""
        if reply_to is not None:
            body = {**body, "reply_to": {"seq": reply_to}}
        fields: dict[str, Any] = {"cid": cid or uuid.uuid4().hex, "to": to, "kind": kind, "body": body}
        if opts:
            fields["opts"] = opts
        ack = await self.request("send", **fields)
        # The server does not echo a send to the device that made it: deliver it here,
        # through the same ordering and de-duplication as everything else.
        own = {"t": "msg", "conv": ack["conv"], "seq": ack["seq"], "mid": ack["mid"], "cid": fields["cid"],
               "from": self.user_id, "kind": kind, "body": body, "ts": ack["ts"], "opts": opts or {}}
        if "reply_to" in ack:
            own["body"] = {**body, "reply_to": ack["reply_to"]}
        if kind in FILE_KINDS:  # the server built this body (name, size, signed url): echo the stored one
            own = await self._stored(own)
        await self._ingest(own)
        return ack

    async def send_text(self, to: str, text: str, **kw: Any) -> dict[str, Any]:
        return await self.send(to, "text", {"text": text}, **kw)

    # --- files: the work is in files.py (imported in the methods: it builds on this module)
    async def upload(self, source: Source, *, name: str | None = None, on_progress: Progress | None = None,
                     chunk_size: int = 4 * 1024 * 1024, store: UploadStore | str | Path | None = None,
                     resume_url: str | None = None, retries: int = 8) -> FileInfo:
        """Upload a path or a seekable binary file object (tus, resumable); see files.py."""
        from . import files

        return await files.upload(self, source, name=name, on_progress=on_progress, chunk_size=chunk_size,
                                  store=store, resume_url=resume_url, retries=retries)

    async def download(self, file: str | FileInfo | dict[str, Any], dest: str | Path | IO[bytes], *,
                       on_progress: Progress | None = None, retries: int = 8) -> int:
        """Stream a file (id, FileInfo, message or URL) to `dest`, continuing a partial one; returns its size."""
        from . import downloads

        return await downloads.download(self, file, dest, on_progress=on_progress, retries=retries)

    async def file_info(self, file_id: str) -> FileInfo:
        from . import files

        return await files.file_info(self, file_id)

    async def send_file_message(self, to: str, kind: str, file: str | FileInfo, *, duration_ms: int | None = None,
                                **kw: Any) -> dict[str, Any]:
        """Send an uploaded file as `image`, `voice`, `video` or `file`: the server fills the
        rest of the body from the stored file and adds signed `url`/`thumb_url`."""
        body: dict[str, Any] = {"file_id": file if isinstance(file, str) else file.file_id}
        if duration_ms is not None:
            body["duration_ms"] = duration_ms
        return await self.send(to, kind, body, **kw)

    async def _stored(self, own: dict[str, Any]) -> dict[str, Any]:
        """The stored copy of a message just sent (one `history` request), else `own`."""
        try:
            page = await self.history(own["conv"], after=own["seq"] - 1, limit=1)
        except (TimeoutError, SemotAPIError, ClientClosed):
            return own
        stored = page["messages"][:1]
        return dict(stored[0]) if stored and stored[0]["seq"] == own["seq"] else own

    async def send_image(self, to: str, file: str | FileInfo, **kw: Any) -> dict[str, Any]:
        return await self.send_file_message(to, "image", file, **kw)

    async def send_voice(self, to: str, file: str | FileInfo, duration_ms: int, **kw: Any) -> dict[str, Any]:
        return await self.send_file_message(to, "voice", file, duration_ms=duration_ms, **kw)

    async def send_video(self, to: str, file: str | FileInfo, duration_ms: int, **kw: Any) -> dict[str, Any]:
        return await self.send_file_message(to, "video", file, duration_ms=duration_ms, **kw)

    async def send_file(self, to: str, file: str | FileInfo, **kw: Any) -> dict[str, Any]:
        return await self.send_file_message(to, "file", file, **kw)

    async def forward(self, msg: dict[str, Any], to: str, **kw: Any) -> dict[str, Any]:
        """Send a received message's kind and body to `to`; files by `file_id` (no re-upload)."""
        from . import files

        kind, body = files.forward_body(msg)
        return await self.send(to, kind, body, **kw)

    async def history(self, conv: str, *, after: int | None = None, before: int | None = None, limit: int = 50) -> dict[str, Any]:
        fields: dict[str, Any] = {"conv": conv, "limit": limit}
        if after is not None:
            fields["after"] = after
        if before is not None:
            fields["before"] = before
        return await self.request("history", **fields)

    async def sync(
        self, convs: dict[str, int] | None = None, changes: dict[str, int] | None = None
    ) -> list[dict[str, Any]]:
        """`changes`: the change cursors (edits and reactions extension); with them,
        conversations edited or reacted to since are reported too."""
        fields: dict[str, Any] = {"convs": convs if convs is not None else {}}
        if changes is not None:
            fields["changes"] = changes
        convs_out: list[dict[str, Any]] = (await self.request("sync", **fields))["convs"]
        return convs_out

    async def read(self, conv: str, seq: int) -> None:
        await self.request("read", conv=conv, seq=seq)

    async def read_positions(self, conv: str) -> dict[str, Any]:
        """Every member's read position and join time (HTTP, Semot extension):
        {"reads": {user_id: read_seq}, "joined": {user_id: joined_at ms}}. Members only;
        groups beyond read_receipts_max_group raise SemotAPIError `forbidden`."""
        out = await self.http("GET", f"/api/v1/conversations/{quote(conv, safe='')}/reads")
        return {"reads": dict(out.get("reads") or {}), "joined": dict(out.get("joined") or {})}

    async def typing(self, conv: str) -> None:
        await self.request("typing", conv=conv)

    async def recall(self, conv: str, seq: int) -> None:
        await self.request("recall", conv=conv, seq=seq)

    # --- edits and reactions (docs/protocol.md, "Edits and reactions")
    async def edit(self, conv: str, seq: int, text: str) -> dict[str, Any]:
        """Replace the text of one's own text message (within the server's edit_window_s).
        Returns {conv, seq, edited_ts, change_seq?, changed}."""
        return await self.request("edit", conv=conv, seq=seq, text=text)

    async def react(self, conv: str, seq: int, emoji: str, on: bool = True) -> dict[str, Any]:
        """Put (on) or take back (off) one's emoji reaction; returns {reactions, changed, ...}."""
        return await self.request("react", conv=conv, seq=seq, emoji=emoji, on=on)

    async def changes(self, conv: str, after: int = 0, limit: int = 100) -> dict[str, Any]:
        """Messages edited or reacted to after change cursor `after`, as they are now:
        {messages, change_seq (the cursor to keep), more}."""
        return await self.request("changes", conv=conv, after=after, limit=limit)

    async def ping(self) -> int:
        return int((await self.request("ping"))["server_time"])

    async def set_conversation(
        self, conv: str, *, pinned: bool | None = None, dnd: bool | None = None, hidden: bool | None = None
    ) -> dict[str, Any]:
        """Pin, mute (do not disturb) or hide a conversation for this user on all their
        devices (`conv_set`, docs/protocol.md); None leaves a setting as it is. Returns
        {conv, pinned_at, dnd, hidden, hidden_seq}."""
        fields = {k: v for k, v in (("pinned", pinned), ("dnd", dnd), ("hidden", hidden)) if v is not None}
        return await self.request("conv_set", conv=conv, **fields)

    # --- gap filling
    async def catch_up(self) -> None:
        """Ask which conversations moved since `last_seq` and fetch what is missing.

        A conversation this client has never seen starts at the user's read position,
        so a new device receives what is unread rather than years of history."""
        for state in await self.sync(dict(self.last_seq)):
            conv = state["conv"]
            if conv not in self.last_seq:
                self.last_seq[conv] = state.get("read_seq", 0)
            await self._fill(conv, state["max_seq"])
        self._save_state()

    async def _fill(self, conv: str, up_to: int) -> None:
        lock = self._fill_locks.setdefault(conv, asyncio.Lock())
        async with lock:
            while self.last_seq.get(conv, 0) < up_to:
                page = await self.history(conv, after=self.last_seq.get(conv, 0), limit=200)
                for m in page["messages"]:
                    await self._deliver(m)
                if not page["more"] or not page["messages"]:
                    break

    async def _ingest(self, msg: dict[str, Any]) -> None:
        conv, seq = msg["conv"], msg["seq"]
        lock = self._fill_locks.setdefault(conv, asyncio.Lock())
        if not lock.locked():
            async with lock:
                last = self.last_seq.get(conv)
                if last is None or seq == last + 1:
                    if last is None and seq > 1:
                        # first sight of this conversation: deliver from the push on
                        self.last_seq[conv] = seq - 1
                    await self._deliver(msg)
                    return
                if seq <= last:
                    return  # already delivered
        try:
            await self._fill(conv, seq)
        except (TimeoutError, SemotAPIError, ClientClosed):
            log.debug("gap fill for %s failed; next catch-up repairs it", conv)

    async def _deliver(self, msg: dict[str, Any]) -> None:
        conv, seq = msg["conv"], msg["seq"]
        if seq <= self.last_seq.get(conv, 0):
            return
        self.last_seq[conv] = seq
        if self._message_handlers:
            self._dispatch.put_nowait((self._message_handlers, msg))
        else:
            self._inbox.put_nowait(msg)

    async def _run_handlers(self) -> None:
        # close() cancels this task; a handler awaiting a request may turn that cancellation
        # into its own error (a timeout, ClientClosed) and swallow it: then `_closing` ends
        # the loop, else close() would wait for a dispatcher that never stops
        while not self._closing:
            handlers, item = await self._dispatch.get()
            for h in handlers:
                try:
                    r = h(item)
                    if inspect.isawaitable(r):
                        await r
                except Exception:
                    if self._closing:
                        return
                    log.exception("handler failed")

    # --- persistence
    def _load_state(self) -> dict[str, int]:
        if self.state_file and self.state_file.exists():
            try:
                data = json.loads(self.state_file.read_text())
                return {str(k): int(v) for k, v in data.get("last_seq", {}).items()}
            except (ValueError, OSError):
                log.warning("ignoring unreadable state file %s", self.state_file)
        return {}

    def _save_state(self) -> None:
        if self.state_file:
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"last_seq": self.last_seq}))
            tmp.replace(self.state_file)
