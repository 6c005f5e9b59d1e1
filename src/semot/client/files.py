"""Files in the SDK: resumable tus uploads, resumable downloads, forwarding.

Why not tuspy (the maintained Python tus client)? Its `AsyncUploader` fits an asyncio
SDK only on the surface: on a retry it asks the server's offset with a blocking
`requests.head` (the whole event loop, WebSocket included, stops meanwhile; so does
resuming from a URL), it opens a new aiohttp session and connector for every chunk,
retries after a fixed delay, and has no hook for a 401: an access token that expires
during a long upload costs retries and then the upload, never a token refresh. Its URL
storage needs tinydb. tus itself is
four header-only requests, so this module speaks it on the SDK's own aiohttp session
(already a dependency; httpx would add a second HTTP stack for no gain):

- `POST` creates the upload; a file that fits one chunk goes in that same request
  (creation-with-upload). A larger one is created empty, so that its URL can be stored
  before any bulk bytes flow.
- `PATCH` sends one chunk at the offset, with `Upload-Checksum: sha256 ...`: the server
  keeps a chunk whole or not at all, so after a cut the offset is always a chunk edge
  the client has seen.
- After any network error, 5xx, 409 or 460, the client waits (exponential backoff
  with full jitter, like the WebSocket reconnects), asks `HEAD` for the offset and
  goes on from there. A 401 refreshes the token (once per stale token, shared by
  concurrent transfers) and repeats the request at once. `retries` consecutive
  failures without progress end the upload with `TransferFailed`, which carries the
  upload's URL for `resume_url=`.
- The whole file's sha256 is computed locally before the upload (one extra read, in a
  worker thread): it names the upload in an `UploadStore` (resume in a later process)
  and is compared with the server's at the end, so a success means the exact bytes.

Downloads are in downloads.py; this module also holds what both share (the requests
with token renewal, the backoff, the errors) and the forwarding rules.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import inspect
import json
import mimetypes
import os
import random
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

import aiohttp

from .client import FILE_KINDS, SemotAPIError

if TYPE_CHECKING:
    from .client import SemotClient

Source = str | os.PathLike[str] | IO[bytes]
Progress = Callable[[int, int], Awaitable[None] | None]

FILES_PATH = "/api/v1/files/"
DEFAULT_CHUNK = 4 * 1024 * 1024
_TUS = {"Tus-Resumable": "1.0.0"}
NETWORK_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)
# kinds that are the server's own or hold nothing left to forward
_NOT_FORWARDABLE = frozenset({"system", "recalled", "burned"})


@dataclass(frozen=True)
class FileInfo:
    """A finished upload as the server describes it (`GET /api/v1/files/<id>/info`);
    `mime`, `w`, `h` and `duration_ms` come from the bytes, never from the uploader."""

    file_id: str
    name: str
    size: int
    mime: str
    sha256: str
    w: int | None = None
    h: int | None = None
    duration_ms: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileInfo:
        return cls(str(data["file_id"]), str(data["name"]), int(data["size"]), str(data["mime"]), str(data["sha256"]),
                   data.get("w"), data.get("h"), data.get("duration_ms"))


class TransferFailed(SemotAPIError):
    """An upload or download that gave up (`unavailable`: retries exhausted) or whose
    bytes did not match their sha256 (`internal`). `url` is the upload to pass back as
    `resume_url=`, `offset` how far it got."""

    def __init__(self, code: str, message: str, *, url: str | None = None, offset: int = 0) -> None:
        super().__init__(code, message)
        self.url = url
        self.offset = offset


class UploadStore:
    """Which upload URL belongs to which file, in a small JSON file, so that an upload
    stopped in one process resumes in the next (tuspy's URL storage, without tinydb).

    Keys name the user, the file's name, size and sha256: the same bytes uploaded under
    another name or by another user are another upload. Values are the upload's path,
    resolved against the client's base URL (the server may be reached by another name
    next time). Entries are removed when their upload completes; a stale one (expired
    on the server, or another server's) is noticed by the 404 of its HEAD and replaced."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _save(self, entries: dict[str, str]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(entries, indent=1, sort_keys=True))
        tmp.replace(self.path)

    def get(self, key: str) -> str | None:
        return self._load().get(key)

    def put(self, key: str, url: str) -> None:
        entries = self._load()
        entries[key] = url
        self._save(entries)

    def remove(self, key: str) -> None:
        entries = self._load()
        if entries.pop(key, None) is not None:
            self._save(entries)


# --- requests

_REFRESH_LOCKS: weakref.WeakKeyDictionary[SemotClient, asyncio.Lock] = weakref.WeakKeyDictionary()


async def refresh_once(client: SemotClient, stale: str | None) -> None:
    """Renew the access token unless another transfer already did since `stale` was used."""
    lock = _REFRESH_LOCKS.setdefault(client, asyncio.Lock())
    async with lock:
        if client.access_token == stale:
            await client.refresh()


def api_error(status: int, body: bytes, reason: str = "") -> SemotAPIError:
    try:
        err = json.loads(body or b"{}").get("error", {})
    except (ValueError, AttributeError):
        err = {}
    return SemotAPIError(err.get("code", "internal"), err.get("message", reason or f"HTTP {status}"), status)


@dataclass
class _Reply:
    status: int
    headers: dict[str, str]
    body: bytes


async def _call(client: SemotClient, method: str, url: str, headers: dict[str, str], data: bytes | None = None,
                *, auth: bool = True) -> _Reply:
    """One request (token attached as it is now); a 401 refreshes the token and repeats it once."""
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=client.request_timeout * 2)
    session = await client._session()
    for attempt in (0, 1):
        token = client.access_token
        h = {**headers, "Authorization": f"Bearer {token}"} if auth and token else dict(headers)
        async with session.request(method, url, headers=h, data=data, timeout=timeout) as resp:
            reply = _Reply(resp.status, dict(resp.headers), await resp.read())
        if reply.status == 401 and auth and attempt == 0 and client.refresh_token:
            await refresh_once(client, token)
            continue
        return reply
    raise AssertionError("unreachable")


def backoff_delay(client: SemotClient, failures: int) -> float:
    return random.uniform(0, min(client.backoff_max, client.backoff_base * 2 ** min(failures, 16)))


async def report_progress(on_progress: Progress | None, sent: int, total: int) -> None:
    if on_progress is not None:
        r = on_progress(sent, total)
        if inspect.isawaitable(r):
            await r


class Transient(Exception):
    """Worth another try after a pause: the offset is asked again first."""


class Gone(Exception):
    """The upload no longer exists on the server (expired, lost, terminated), or a signed
    URL no longer opens its file; args[0] is the error to raise if nothing else helps."""


# --- upload

def _open(source: Source) -> tuple[IO[bytes], bool, str]:
    """(stream, whether we opened it, default name)."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        return path.open("rb"), True, path.name
    name = getattr(source, "name", None)
    return source, False, Path(name).name if isinstance(name, str) else "file"


def _size_and_sha256(stream: IO[bytes]) -> tuple[int, str]:
    stream.seek(0)
    h = hashlib.sha256()
    size = 0
    while block := stream.read(1 << 20):
        h.update(block)
        size += len(block)
    return size, h.hexdigest()


def _read_at(stream: IO[bytes], offset: int, n: int) -> bytes:
    stream.seek(offset)
    return stream.read(n)


def _b64(value: str | bytes) -> str:
    return base64.b64encode(value.encode() if isinstance(value, str) else value).decode()


class _Upload:
    def __init__(self, client: SemotClient, stream: IO[bytes], size: int, name: str, chunk_size: int,
                 on_progress: Progress | None, retries: int) -> None:
        self.client = client
        self.stream = stream
        self.size = size
        self.name = name
        self.chunk_size = chunk_size
        self.on_progress = on_progress
        self.retries = retries
        self.endpoint = client.base_url + FILES_PATH

    async def _chunk_headers(self, offset: int) -> tuple[bytes, dict[str, str]]:
        chunk = await asyncio.to_thread(_read_at, self.stream, offset, min(self.chunk_size, self.size - offset))
        digest = await asyncio.to_thread(lambda: hashlib.sha256(chunk).digest())
        return chunk, {"Content-Type": "application/offset+octet-stream", "Upload-Checksum": f"sha256 {_b64(digest)}"}

    async def create(self) -> tuple[str, int]:
        ftype = mimetypes.guess_type(self.name)[0] or "application/octet-stream"
        headers = {**_TUS, "Upload-Length": str(self.size),
                   "Upload-Metadata": f"filename {_b64(self.name)},filetype {_b64(ftype)}"}
        data = None
        if 0 < self.size <= self.chunk_size:  # creation-with-upload: one round trip for a small file
            data, extra = await self._chunk_headers(0)
            headers.update(extra)
        reply = await _call(self.client, "POST", self.endpoint, headers, data)
        if reply.status != 201 or "Location" not in reply.headers:
            self._raise(reply)
        return urljoin(self.endpoint, reply.headers["Location"]), int(reply.headers.get("Upload-Offset", "0"))

    async def head(self, url: str) -> int:
        reply = await _call(self.client, "HEAD", url, dict(_TUS))
        if reply.status != 200:
            self._raise(reply)
        if reply.headers.get("Upload-Length") not in (None, str(self.size)):
            raise Gone(SemotAPIError("conflict", "the upload to resume is of another file"))
        return int(reply.headers["Upload-Offset"])

    async def patch(self, url: str, offset: int) -> int:
        chunk, headers = await self._chunk_headers(offset)
        reply = await _call(self.client, "PATCH", url, {**_TUS, "Upload-Offset": str(offset), **headers}, chunk)
        if reply.status != 204:
            self._raise(reply)
        return int(reply.headers["Upload-Offset"])

    @staticmethod
    def _raise(reply: _Reply) -> None:
        if reply.status in (404, 410):
            raise Gone(api_error(reply.status, reply.body))
        if reply.status in (409, 423, 460) or (reply.status >= 500 and reply.status != 507):
            raise Transient(f"HTTP {reply.status}")
        raise api_error(reply.status, reply.body)

    async def run(self, url: str | None, on_created: Callable[[str], None]) -> str:
        """Bring the upload at `url` (or a new one) to the end; returns its URL."""
        offset: int | None = None
        failures = restarts = known = 0
        while True:
            try:
                if url is None:
                    url, offset = await self.create()
                    on_created(url)
                    await report_progress(self.on_progress, offset, self.size)
                elif offset is None:
                    offset = await self.head(url)
                    await report_progress(self.on_progress, offset, self.size)
                known = offset
                if offset >= self.size:
                    return url
                offset = known = await self.patch(url, offset)
                failures = 0
                await report_progress(self.on_progress, offset, self.size)
            except Gone as gone:
                restarts += 1
                if restarts > 2:
                    raise gone.args[0] from None
                url = offset = None  # expired or lost: start a new upload of the same bytes
            except (Transient, *NETWORK_ERRORS) as exc:
                failures += 1
                if failures > self.retries:
                    raise TransferFailed("unavailable", f"upload interrupted: {exc!r}", url=url, offset=known) from exc
                offset = None
                await asyncio.sleep(backoff_delay(self.client, failures))


def fingerprint(client: SemotClient, name: str, size: int, sha256: str) -> str:
    return f"{client.user_id}|{name}|{size}|{sha256}"


def _relative(client: SemotClient, url: str) -> str:
    """The URL's path when it is on the client's server (what an UploadStore keeps)."""
    parts, base = urlsplit(url), urlsplit(client.base_url)
    return parts.path if (parts.scheme, parts.netloc) == (base.scheme, base.netloc) else url


async def upload(client: SemotClient, source: Source, *, name: str | None = None, on_progress: Progress | None = None,
                 chunk_size: int = DEFAULT_CHUNK, store: UploadStore | str | os.PathLike[str] | None = None,
                 resume_url: str | None = None, retries: int = 8) -> FileInfo:
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    stream, opened, default_name = _open(source)
    try:
        size, sha = await asyncio.to_thread(_size_and_sha256, stream)
        name = name or default_name
        urls = UploadStore(store) if isinstance(store, (str, os.PathLike)) else store
        key = fingerprint(client, name, size, sha)
        url = resume_url or (urls.get(key) if urls is not None else None)
        if url is not None:
            url = urljoin(client.base_url + "/", url)  # a stored path, or a URL kept by the application
        job = _Upload(client, stream, size, name, chunk_size, on_progress, retries)
        url = await job.run(url, (lambda u: urls.put(key, _relative(client, u))) if urls is not None else (lambda u: None))
        info = await _info_retrying(client, url.rstrip("/").rsplit("/", 1)[1], retries)
        if urls is not None:
            urls.remove(key)
        if info.sha256 != sha:
            raise TransferFailed("internal", f"the server stored sha256 {info.sha256}, the file has {sha}", url=url)
        return info
    finally:
        if opened:
            stream.close()


async def _info_retrying(client: SemotClient, file_id: str, retries: int) -> FileInfo:
    for failures in range(retries + 1):
        try:
            return await file_info(client, file_id)
        except NETWORK_ERRORS:
            if failures == retries:
                raise
            await asyncio.sleep(backoff_delay(client, failures + 1))
    raise AssertionError("unreachable")


async def file_info(client: SemotClient, file_id: str) -> FileInfo:
    url = f"{client.base_url}{FILES_PATH}{quote(file_id, safe='')}/info"
    reply = await _call(client, "GET", url, {})
    if reply.status != 200:
        raise api_error(reply.status, reply.body)
    return FileInfo.from_json(json.loads(reply.body))


# --- forwarding

def forward_body(msg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The kind and body to send when forwarding `msg`: a file kind by its `file_id`
    (the server checks the forwarder may read it and fills the rest: no re-upload),
    other kinds as they are, without mentions and quotes (they belong to the first
    conversation).
    Recalled, burned and system messages, and burn-after-reading ones, are refused."""
    kind, body = str(msg.get("kind")), dict(msg.get("body") or {})
    if kind in _NOT_FORWARDABLE or not body:
        raise SemotAPIError("bad_request", f"a {kind} message cannot be forwarded")
    if (msg.get("opts") or {}).get("burn_s"):
        raise SemotAPIError("forbidden", "burn-after-reading messages are not forwarded")
    if kind in FILE_KINDS:
        out = {"file_id": body["file_id"]}
        if kind in ("voice", "video") and body.get("duration_ms") is not None:
            out["duration_ms"] = body["duration_ms"]
        return kind, out
    if kind == "text":
        body.pop("mentions", None)
        body.pop("mention_all", None)
    body.pop("reply_to", None)  # a quote names a seq of the first conversation too
    return kind, body
