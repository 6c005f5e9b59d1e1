"""A real HTTP receiver for webhook tests, on a free loopback port (aiohttp).

Paths:
- `/ok`: 200, records the request;
- `/fail/{n}`: 500 for the first n requests carrying a given delivery `id`, then 200;
- `/always500`: 500 always;
- `/redirect`: 302 to `/ok` (a webhook must not follow it);
- `/big`: 200 with an answer of 1 MiB;
- `/before`: answers `self.answer` (a dict) after `self.delay` seconds.
Every request is recorded with its path, headers and raw body.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    raw: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def doc(self) -> dict[str, Any]:
        return dict(json.loads(self.raw))

    def signed_by(self, secret: str) -> bool:
        want = "sha256=" + hmac.new(secret.encode(), self.raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(self.headers.get("X-Semot-Signature", ""), want)


class Receiver:
    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.answer: dict[str, Any] = {"action": "allow"}
        self.delay = 0.0
        self.slow_keys: dict[str, float] = {}  # conv -> delay for /ok (ordering tests)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _record(self, request: web.Request) -> Hit:
        hit = Hit(request.path, dict(request.headers), await request.read())
        self.hits.append(hit)
        return hit

    async def _ok(self, request: web.Request) -> web.Response:
        hit = await self._record(request)
        conv = (hit.doc.get("data") or {}).get("conv")
        if conv in self.slow_keys:
            await asyncio.sleep(self.slow_keys[conv])
        return web.json_response({})

    async def _fail(self, request: web.Request) -> web.Response:
        hit = await self._record(request)
        n = int(request.match_info["n"])
        seen = sum(1 for h in self.hits if h.path == request.path and h.doc["id"] == hit.doc["id"])
        return web.Response(status=500, text="nope") if seen <= n else web.json_response({})

    async def _always500(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(status=500, text="down")

    async def _redirect(self, request: web.Request) -> web.Response:
        await self._record(request)
        raise web.HTTPFound("/ok")

    async def _big(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(body=b"x" * (1 << 20), content_type="application/json")

    async def _before(self, request: web.Request) -> web.Response:
        await self._record(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response(self.answer)

    async def start(self, port: int = 0) -> Receiver:
        """On `port` (0: a free one): a test may register a hook at a port nobody listens on yet."""
        app = web.Application()
        app.router.add_post("/ok", self._ok)
        app.router.add_post("/fail/{n}", self._fail)
        app.router.add_post("/always500", self._always500)
        app.router.add_post("/redirect", self._redirect)
        app.router.add_post("/big", self._big)
        app.router.add_post("/before", self._before)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def at(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    async def wait(self, pred: Any, n: int = 1, timeout: float = 8.0) -> list[Hit]:
        deadline = time.monotonic() + timeout
        while True:
            found = [h for h in self.hits if pred(h)]
            if len(found) >= n:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(found)} of {n} requests arrived: {[h.raw[:200] for h in self.hits][-10:]}")
            await asyncio.sleep(0.02)
