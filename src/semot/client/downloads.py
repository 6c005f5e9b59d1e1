"""Downloads in the SDK: a file id, a file message or a URL streamed to a path or a file
object, resumable.

A partial file continues with `Range` (file ids name immutable bytes, so no If-Range is
needed), network errors and 5xx are retried from the bytes received with the same
backoff as uploads, and at the end the sha256 of the whole file is compared with the
`ETag` the server sends (the file's sha256): a bad prefix left by something else is
caught, and emptied so that the next try starts clean. A message's signed `url` needs
no token; when its signature has expired the file id and the client's token are tried.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

import aiohttp

from .files import (
    FILES_PATH,
    NETWORK_ERRORS,
    FileInfo,
    Gone,
    Progress,
    TransferFailed,
    Transient,
    api_error,
    backoff_delay,
    refresh_once,
    report_progress,
)

if TYPE_CHECKING:
    from .client import SemotClient

_READ = 256 * 1024


def _target(client: SemotClient, what: str | FileInfo | dict[str, Any]) -> tuple[str, bool, str | None]:
    """(url, whether it needs the token, file id to fall back on when a signed URL expired)."""
    if isinstance(what, FileInfo):
        what = what.file_id
    if isinstance(what, dict):
        body = what.get("body", what)
        file_id = body.get("file_id")
        if body.get("url"):
            return urljoin(client.base_url + "/", str(body["url"])), False, file_id
        if not file_id:
            raise ValueError("this message holds no file")
        what = str(file_id)
    if what.startswith(("http://", "https://", "/")):
        url = urljoin(client.base_url + "/", what)
        return url, "sig=" not in urlsplit(url).query, None
    return f"{client.base_url}{FILES_PATH}{quote(what, safe='')}/content", True, None


class _Sink:
    """Where the bytes go, and the sha256 of everything in it so far."""

    def __init__(self, dest: str | os.PathLike[str] | IO[bytes]) -> None:
        self.hash: Any = hashlib.sha256()
        self.verifiable = True
        self.pos = 0
        if isinstance(dest, (str, os.PathLike)):
            path = Path(dest)
            self.f: IO[bytes] = path.open("r+b" if path.exists() else "w+b")
            self.owned = True
            self.pos = self.f.seek(0, os.SEEK_END)
        else:
            self.f, self.owned = dest, False
            with contextlib.suppress(OSError, ValueError):  # a pipe: no position, a fresh start
                self.pos = self.f.tell()  # a file object holds the file's first tell() bytes

    def hash_prefix(self) -> None:
        if self.pos == 0:
            return
        try:
            self.f.seek(0)
            left = self.pos
            while left > 0 and (block := self.f.read(min(left, 1 << 20))):
                self.hash.update(block)
                left -= len(block)
        except (OSError, ValueError):  # io.UnsupportedOperation: a write-only stream ("ab")
            self.verifiable = False
        self.f.seek(self.pos)

    def restart(self) -> None:
        self.f.seek(0)
        self.f.truncate()
        self.pos = 0
        self.hash = hashlib.sha256()
        self.verifiable = True

    def write(self, block: bytes) -> None:
        self.f.write(block)
        self.hash.update(block)
        self.pos += len(block)


async def download(client: SemotClient, what: str | FileInfo | dict[str, Any], dest: str | os.PathLike[str] | IO[bytes], *,
                   on_progress: Progress | None = None, retries: int = 8) -> int:
    url, auth, fallback = _target(client, what)
    sink = _Sink(dest)
    try:
        await asyncio.to_thread(sink.hash_prefix)
        failures = 0
        while True:
            try:
                etag = await _fetch(client, url, auth, sink, on_progress)
                break
            except Gone as gone:
                if fallback is None or not client.access_token:
                    raise gone.args[0] from None
                url, auth, fallback = f"{client.base_url}{FILES_PATH}{quote(fallback, safe='')}/content", True, None
                continue  # the signed URL expired: the token may still open the file
            except (Transient, *NETWORK_ERRORS) as exc:
                failures += 1
                if failures > retries:
                    raise TransferFailed("unavailable", f"download interrupted: {exc!r}", url=url,
                                         offset=sink.pos) from exc
                await asyncio.sleep(backoff_delay(client, failures))
        sink.f.flush()
        want = (etag or "").strip('"')
        if sink.verifiable and len(want) == 64 and sink.hash.hexdigest() != want:
            if sink.owned:
                await asyncio.to_thread(sink.restart)  # no use resuming from bad bytes
            raise TransferFailed("internal", f"the bytes do not match their sha256 {want}", url=url)
        return sink.pos
    finally:
        if sink.owned:
            sink.f.close()


async def _fetch(client: SemotClient, url: str, auth: bool, sink: _Sink,
                 on_progress: Progress | None) -> str | None:
    """One GET from `sink.pos` to the end; returns the ETag. Raises Transient/Gone/network errors."""
    headers = {"Range": f"bytes={sink.pos}-"} if sink.pos else {}
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=client.request_timeout * 2)
    session = await client._session()
    token = client.access_token
    if auth and token:
        headers["Authorization"] = f"Bearer {token}"
    async with session.get(url, headers=headers, timeout=timeout) as resp:
        etag = resp.headers.get("ETag")
        if resp.status == 401 and auth and client.refresh_token:
            await refresh_once(client, token)
            raise Transient("token renewed")
        if resp.status == 416:
            size = resp.headers.get("Content-Range", "").rpartition("/")[2]
            if size.isdigit() and int(size) == sink.pos:  # the partial file was whole already
                return etag or await _etag(client, url, headers)
            await asyncio.to_thread(sink.restart)
            raise Transient("the partial file is longer than the file")
        if resp.status in (401, 403, 404, 410) and not auth:
            raise Gone(api_error(resp.status, await resp.read(), resp.reason or ""))
        if resp.status >= 500:
            raise Transient(f"HTTP {resp.status}")
        if resp.status not in (200, 206):
            raise api_error(resp.status, await resp.read(), resp.reason or "")
        content_range = resp.headers.get("Content-Range", "")
        if resp.status == 200 and sink.pos:
            await asyncio.to_thread(sink.restart)  # the server sent it all: start over
        elif resp.status == 206 and not content_range.startswith(f"bytes {sink.pos}-"):
            await asyncio.to_thread(sink.restart)
            raise Transient(f"asked for the bytes from {sink.pos}, got {content_range!r}")
        total = int(content_range.rpartition("/")[2] or 0) if resp.status == 206 \
            else int(resp.headers.get("Content-Length", 0))
        await report_progress(on_progress, sink.pos, total)
        async for block in resp.content.iter_chunked(_READ):
            sink.write(block)
            await report_progress(on_progress, sink.pos, total)
        if sink.pos < total:
            raise Transient("the response ended early")
        return etag


async def _etag(client: SemotClient, url: str, headers: dict[str, str]) -> str | None:
    """The ETag (the sha256) of a file whose bytes are all here already: ask for one byte."""
    session = await client._session()
    probe = {k: v for k, v in headers.items() if k != "Range"} | {"Range": "bytes=0-0"}
    timeout = aiohttp.ClientTimeout(total=client.request_timeout * 2, sock_connect=10)
    with contextlib.suppress(*NETWORK_ERRORS):
        async with session.get(url, headers=probe, timeout=timeout) as resp:
            return resp.headers.get("ETag")
    return None
