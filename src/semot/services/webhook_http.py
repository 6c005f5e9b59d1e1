"""Requests to integrators' hook URLs (PROTOCOL.md §4): signed, with a timeout, an
answer size limit, and no redirects followed.

One pooled aiohttp session per node, with keep-alive, so a before-send hook on the
same network adds a round trip and no connection setup to a send.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import aiohttp

SIGNATURE_HEADER = "X-Semot-Signature"


def sign(secret: str, body: bytes) -> str:
    """The header's value: `sha256=` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class HookFailed(Exception):
    """A try that did not succeed: no answer, a non-2xx status, or an answer too large."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class HookPoster:
    def __init__(self, *, max_answer_bytes: int, max_connections: int = 100) -> None:
        self.max_answer_bytes = max_answer_bytes
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=30, ttl_dns_cache=60)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": "Semot-Webhooks/1"}, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, url: str, body: bytes, secret: str, timeout_s: float) -> tuple[int, bytes]:
        """POST `body` signed with `secret`; the 2xx status and the answer's bytes, or
        HookFailed. The whole exchange (connect, send, answer) is bounded by `timeout_s`."""
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}
        limit = self.max_answer_bytes
        try:
            async with asyncio.timeout(timeout_s):
                async with self._client().post(url, data=body, headers=headers, allow_redirects=False) as resp:
                    declared = resp.content_length
                    if declared is not None and declared > limit:
                        raise HookFailed(f"answer too large ({declared} bytes > {limit})", resp.status)
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in resp.content.iter_chunked(16384):
                        size += len(chunk)
                        if size > limit:
                            raise HookFailed(f"answer too large (> {limit} bytes)", resp.status)
                        chunks.append(chunk)
                    if not 200 <= resp.status < 300:
                        where = resp.headers.get("Location")
                        more = f" to {where[:200]} (redirects are not followed)" if where and 300 <= resp.status < 400 else ""
                        raise HookFailed(f"HTTP {resp.status}{more}", resp.status)
                    return resp.status, b"".join(chunks)
        except TimeoutError:
            raise HookFailed(f"timed out after {timeout_s:g} s") from None
        except aiohttp.ClientError as exc:
            raise HookFailed(f"{type(exc).__name__}: {exc}"[:300]) from None
