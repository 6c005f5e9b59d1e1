"""Files over HTTP (PROTOCOL.md §6): tus 1.0.0 uploads at /api/v1/files/, downloads.

tus (https://tus.io/protocols/resumable-upload) is a header protocol: its replies are
headers and empty bodies, its errors are JSON like every other error of the API (a tus
client reads the status only). Every reply under /api/v1/files/ and /api/v1/files/<id>
carries `Tus-Resumable` (an on_response_prepare hook, so errors raised anywhere get it
too). Requests other than OPTIONS must name version 1.0.0 (412 otherwise).

Downloads (`/content`) stream from the BlobStore with one Range (206; 416 when it
cannot be met; several ranges get the whole file), `ETag` = the sha256, `If-None-Match`
(304), and a Content-Disposition/Content-Type pair chosen by services.file_media so a
browser never runs an uploaded file. They take a bearer token, or the `exp`/`sig` of a
signed URL (no header: `<img src>` works).

Thumbnails (`/thumb`) follow the same rules with their own signature purpose (`thumb`:
a content link never opens a thumbnail, nor the other way round). They are made when
the upload completes (services/media_pipeline.py says why), so this only reads a small
object; a file of a kind without thumbnails, or a picture that could not be decoded,
is a 404 that says which.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.payload import AsyncIterablePayload
from pydantic import BaseModel

from semot.domain.files import FileRecord
from semot.errors import BadRequest, SemotError, TooLarge
from semot.services import file_media
from semot.services.files import CHECKSUMS, FileService, parse_checksum, parse_metadata
from semot.services.thumbnails import THUMB_VERSION

from .file_send import SendfileResponse
from .http import Call, bearer_token
from .models import MAX_SAFE_INT
from .routing import Query, Route, RouteTable

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
OFFSET_TYPE = "application/offset+octet-stream"
BASE = "/api/v1/files/"
_TUS_PATH = re.compile(r"^/api/v1/files/([A-Za-z0-9_.-]{1,64})?$")

_B64 = "([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
_META_PAIR = f"[A-Za-z0-9_.-]{{1,64}}( {_B64})?"
_RESUMABLE = Query("the tus version: 1.0.0 (412 for another)", "string", max_length=16, pattern=r"^1\.0\.0$",
                   required=True)
_OFFSET_H = Query("bytes stored so far", "string", max_length=20, pattern=r"^[0-9]{1,16}$")


class _Version(SemotError):
    code = "bad_request"
    http_status = 412


class _MediaType(SemotError):
    code = "bad_request"
    http_status = 415


class _Unsatisfiable(SemotError):
    code = "bad_request"
    http_status = 416


class FileInfoOut(BaseModel):
    file_id: str
    name: str
    size: int
    mime: str
    sha256: str
    w: int | None = None
    h: int | None = None
    duration_ms: int | None = None


def _service(call: Call) -> FileService:
    files = call.services.files
    if files is None:
        raise SemotError("file uploads are not enabled on this server")
    return files


def _tus_version(request: web.Request) -> None:
    """412 for a version this server does not speak (tus); 400 when the header is missing."""
    version = request.headers.get("Tus-Resumable", "").strip()
    if not version:
        raise BadRequest(f"Tus-Resumable: required ({TUS_VERSION})")
    if version != TUS_VERSION:
        raise _Version(f"Tus-Resumable must be {TUS_VERSION}")


def _require(request: web.Request, *names: str) -> None:
    """Missing required headers are a 400, before anything else is looked at."""
    for name in ("Tus-Resumable", *names):
        if not request.headers.get(name, "").strip():
            raise BadRequest(f"{name}: required")


def _int_header(request: web.Request, name: str, *, required: bool = True) -> int | None:
    raw = request.headers.get(name)
    if raw is None:
        if required:
            raise BadRequest(f"{name}: required")
        return None
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 16 or int(raw) > MAX_SAFE_INT:
        raise BadRequest(f"{name}: must be a non-negative integer")
    return int(raw)


def _expires(ms: int | None) -> dict[str, str]:
    return {"Upload-Expires": formatdate(ms / 1000, usegmt=True)} if ms is not None else {}


class _Body:
    """The request body as chunks; a client that goes away ends them (`interrupted`).

    Each chunk restarts the connection's body deadline (api/connections.py): for a
    long upload it bounds silence, not the whole transfer."""

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self.interrupted = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        alive = getattr(self._request.protocol, "extend_body_deadline", None)
        try:
            while True:
                chunk = await self._request.content.readany()  # as received: no joining copy
                if not chunk:
                    break
                if alive is not None:
                    alive()
                yield chunk
        except (ConnectionError, aiohttp.ClientError, asyncio.IncompleteReadError, web.HTTPRequestTimeout):
            self.interrupted = True


def _has_body(request: web.Request) -> bool:
    return bool(request.content_length) or request.headers.get("Transfer-Encoding", "").lower() == "chunked"


def _check_patch_body(request: web.Request) -> None:
    if request.content_type != OFFSET_TYPE:
        raise _MediaType(f"Content-Type must be {OFFSET_TYPE}")


async def options(call: Call) -> web.Response:
    files = _service(call)
    return web.Response(status=204, headers={
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": TUS_EXTENSIONS,
        "Tus-Max-Size": str(files.limits.max_bytes),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUMS),
    })


async def create_upload(call: Call) -> web.Response:
    request = call.request
    _require(request, "Upload-Length")
    _tus_version(request)
    files = _service(call)
    if request.headers.get("Upload-Defer-Length") is not None:
        raise BadRequest("Upload-Defer-Length is not supported: send Upload-Length")
    length = _int_header(request, "Upload-Length")
    assert length is not None
    metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
    if call.services.client_settings is not None:  # switched-off files, the administrator's size limit
        call.services.client_settings.gate.check_upload(length, metadata.get("filetype", ""))
    with_body = _has_body(request)
    if with_body:
        _check_patch_body(request)
        if (request.content_length or 0) > length:
            raise TooLarge("the body is longer than Upload-Length")
    checksum = parse_checksum(request.headers["Upload-Checksum"]) if "Upload-Checksum" in request.headers else None
    record = await files.create(call.me.id, length, metadata)
    if with_body:
        record = await files.append(call.me.id, record.id, 0, _Body(request), checksum)
    headers = {"Location": BASE + record.id, "Upload-Offset": str(record.offset), **_expires(record.expires_at)}
    return web.Response(status=201, headers=headers)


async def upload_status(call: Call) -> web.Response:
    _tus_version(call.request)
    record = await _service(call).upload(call.me.id, call.request.match_info["file_id"])
    headers = {
        "Upload-Offset": str(record.offset),
        "Upload-Length": str(record.size),
        "Cache-Control": "no-store",
        **_expires(record.expires_at),
    }
    return web.Response(status=200, headers=headers)


async def append_upload(call: Call) -> web.Response:
    request = call.request
    _require(request, "Upload-Offset")
    _tus_version(request)
    _check_patch_body(request)
    offset = _int_header(request, "Upload-Offset")
    assert offset is not None
    checksum = parse_checksum(request.headers["Upload-Checksum"]) if "Upload-Checksum" in request.headers else None
    record = await _service(call).append(
        call.me.id, request.match_info["file_id"], offset, _Body(request), checksum
    )
    return web.Response(status=204, headers={"Upload-Offset": str(record.offset), **_expires(record.expires_at)})


async def terminate_upload(call: Call) -> web.Response:
    _tus_version(call.request)
    await _service(call).terminate(call.me.id, call.request.match_info["file_id"])
    return web.Response(status=204)


async def file_info(call: Call) -> dict[str, Any]:
    r = await _service(call).readable(call.me.id, call.request.match_info["file_id"])
    out: dict[str, Any] = {"file_id": r.id, "name": r.name, "size": r.size, "mime": r.mime, "sha256": r.sha256}
    out.update({k: v for k, v in (("w", r.w), ("h", r.h), ("duration_ms", r.duration_ms)) if v is not None})
    return out


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end exclusive) of a single `bytes=` range; None for the whole file (no
    Range, another unit, several ranges); _Unsatisfiable when it selects nothing."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or (not first and last.isdigit())) or (last and not last.isdigit()):
        return None  # malformed: RFC 9110 says ignore it
    if not first:  # the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise _Unsatisfiable("the range selects no bytes")
        return max(0, size - n), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or end <= start:
        raise _Unsatisfiable(f"the range starts past the end of the file ({size} bytes)")
    return start, end


def _etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


async def _readable(call: Call, purpose: str) -> tuple[FileRecord, bool]:
    """The file a download names, by bearer token or by a signed URL for `purpose`;
    (record, whether it came by signature)."""
    files = _service(call)
    file_id = call.request.match_info["file_id"]
    exp, sig = call.query_int("exp"), call.query_str("sig")
    if sig is not None and exp is not None:
        return await files.signed(file_id, purpose, exp, sig), True
    token = bearer_token(call.request)
    accounts = call.services.accounts
    user_id = files.token_user(token)
    if user_id is not None:
        accounts.login_of(token)  # the signature and expiry, every time (401 when they fail)
    else:
        user_id = (await accounts.authenticate(token)).id
        files.remember_token(token, user_id)
    return await files.readable(user_id, file_id), False


async def file_content(call: Call) -> web.StreamResponse:
    request = call.request
    files = _service(call)
    record, sig = await _readable(call, "content")
    fd = await files.open_local(record)  # a local disk: sendfile (api/file_send.py); else streamed
    if fd is None:
        await files.check_bytes(record)
    try:
        return _content_reply(request, files, record, sig, fd)
    except BaseException:
        if fd is not None:
            os.close(fd)
        raise


def _content_reply(
    request: web.Request, files: FileService, record: FileRecord, sig: bool, fd: int | None
) -> web.StreamResponse:
    etag = f'"{record.sha256}"'
    shown = file_media.served(record.mime)
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=31536000, immutable" if sig else "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": file_media.content_disposition(record.name, shown.inline),
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    inm = request.headers.get("If-None-Match")
    if inm is not None and _etag_matches(inm, etag):
        if fd is not None:
            os.close(fd)
        return web.Response(status=304, headers=headers)
    if_range = request.headers.get("If-Range")
    try:
        wanted = _range(request.headers.get("Range"), record.size) if if_range in (None, etag) else None
    except _Unsatisfiable as exc:
        if fd is not None:
            os.close(fd)
        response = web.json_response({"error": exc.to_wire()}, status=416)
        response.headers["Content-Range"] = f"bytes */{record.size}"
        return response
    start, end = wanted or (0, record.size)
    headers["Content-Type"] = shown.content_type
    headers["Content-Length"] = str(end - start)
    status = 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{record.size}"
    if fd is not None:
        return SendfileResponse(status=status, headers=headers, fd=fd, offset=start, count=end - start,
                                chunks=lambda: files.read(record, start, end))
    body = AsyncIterablePayload(files.read(record, start, end)) if end > start else b""
    return web.Response(status=status, headers=headers, body=body)


async def file_thumb(call: Call) -> web.Response:
    record, sig = await _readable(call, "thumb")
    etag = f'"t{THUMB_VERSION}-{record.sha256}"'  # made from these bytes, in this way
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=31536000, immutable" if sig else "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "inline",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    data = await _service(call).thumb(record)
    inm = call.request.headers.get("If-None-Match")
    if inm is not None and _etag_matches(inm, etag):
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = "image/webp" if data[8:12] == b"WEBP" else "image/jpeg"
    return web.Response(status=200, headers=headers, body=data)


async def _tus_headers(request: web.Request, response: web.StreamResponse) -> None:
    if _TUS_PATH.match(request.path):
        response.headers["Tus-Resumable"] = TUS_VERSION
        if response.status == 412:
            response.headers["Tus-Version"] = TUS_VERSION


def install(app: web.Application) -> None:
    """The hook that puts Tus-Resumable on every tus reply (errors included)."""
    app.on_response_prepare.append(_tus_headers)


def routes(max_bytes: int = 1024**3) -> RouteTable:
    t = RouteTable()
    tus = "files (tus)"
    length = Query("the file's size in bytes", "integer", maximum=max_bytes, required=True)
    metadata = Query("comma-separated `key base64value` pairs: filename, filetype", "string", max_length=4096,
                     pattern=f"^({_META_PAIR}(,{_META_PAIR}){{0,15}})?$")
    checksum = Query("`sha256 <base64 digest>` (or sha1) of this request's body", "string", max_length=100,
                     pattern="^(sha256 [A-Za-z0-9+/]{42}|sha1 [A-Za-z0-9+/]{26})[AEIMQUYcgkosw048]=$")
    offset_in = Query("where this body starts: must be the upload's offset (409 otherwise)", "integer",
                      maximum=MAX_SAFE_INT, required=True)
    expires = Query("when an unfinished upload is removed (RFC 9110 date)", "string", max_length=64)
    s = Query  # brevity below
    t.add(Route(
        "OPTIONS", BASE, options, "tus: versions, extensions and the largest file accepted", tus, status=204,
        auth=None,
        reply_headers={
            "Tus-Version": s("1.0.0", "string", max_length=16, required=True),
            "Tus-Extension": s("the extensions supported", "string", max_length=200, required=True),
            "Tus-Max-Size": s("the largest Upload-Length accepted", "string", max_length=20, required=True),
            "Tus-Checksum-Algorithm": s("checksum algorithms", "string", max_length=100, required=True),
        },
    ))
    t.add(Route(
        "POST", BASE, create_upload, f"tus: start an upload (creation, creation-with-upload; at most {max_bytes} bytes)",
        tus, status=201, raw_body=OFFSET_TYPE,
        headers={"Tus-Resumable": _RESUMABLE, "Upload-Length": length, "Upload-Metadata": metadata,
                 "Upload-Checksum": checksum},
        reply_headers={"Location": s("the upload's URL", "string", max_length=200, required=True),
                       "Upload-Offset": _OFFSET_H, "Upload-Expires": expires},
        responses={412: "Tus-Resumable is not 1.0.0", 413: "Larger than Tus-Max-Size or the user's quota",
                   415: "A body whose Content-Type is not application/offset+octet-stream",
                   460: "The body does not match Upload-Checksum", 507: "The server's storage is full"},
    ))
    t.add(Route(
        "HEAD", BASE + "{file_id}", upload_status, "tus: the upload's offset (resume from it)", tus,
        headers={"Tus-Resumable": _RESUMABLE},
        reply_headers={"Upload-Offset": _OFFSET_H, "Upload-Length": _OFFSET_H, "Upload-Expires": expires},
        responses={412: "Tus-Resumable is not 1.0.0"},
    ))
    t.add(Route(
        "PATCH", BASE + "{file_id}", append_upload, "tus: append bytes at Upload-Offset", tus, status=204,
        raw_body=OFFSET_TYPE, raw_body_required=True,
        headers={"Tus-Resumable": _RESUMABLE, "Upload-Offset": offset_in, "Upload-Checksum": checksum},
        reply_headers={"Upload-Offset": _OFFSET_H, "Upload-Expires": expires},
        responses={412: "Tus-Resumable is not 1.0.0", 413: "The body goes past Upload-Length",
                   415: "Content-Type is not application/offset+octet-stream",
                   460: "The body does not match Upload-Checksum (nothing of it was kept)",
                   507: "The server's storage is full (nothing of the body was kept)"},
    ))
    t.add(Route(
        "DELETE", BASE + "{file_id}", terminate_upload, "tus: remove an upload (termination)", tus, status=204,
        headers={"Tus-Resumable": _RESUMABLE}, responses={412: "Tus-Resumable is not 1.0.0"},
    ))
    t.add(Route("GET", BASE + "{file_id}/info", file_info, "A finished file's name, size, sniffed type and sha256",
                "files", None, FileInfoOut))
    t.add(Route(
        "GET", BASE + "{file_id}/content", file_content,
        "The bytes (Range, ETag); a bearer token or a signed URL's exp and sig", "files", auth=None,
        query={"exp": Query("a signed URL's expiry (ms)"),
               "sig": Query("a signed URL's signature", "string", max_length=64, pattern="^[A-Za-z0-9_-]{1,64}$")},
        headers={"Range": s("one `bytes=` range", "string", max_length=100),
                 "If-None-Match": s("an ETag held (304 when it is current)", "string", max_length=200)},
        responses={206: "Partial content (a Range)", 304: "Not modified (If-None-Match)",
                   401: "No token and no valid signature", 416: "The Range selects no bytes of the file"},
    ))
    t.add(Route(
        "GET", BASE + "{file_id}/thumb", file_thumb,
        "A thumbnail (JPEG, or WebP when transparent; at most 320 px on the longer side, upright) of an image or a "
        "video; a bearer token or a signed URL's exp and sig (purpose thumb)", "files", auth=None,
        query={"exp": Query("a signed URL's expiry (ms)"),
               "sig": Query("a signed URL's signature", "string", max_length=64, pattern="^[A-Za-z0-9_-]{1,64}$")},
        headers={"If-None-Match": s("an ETag held (304 when it is current)", "string", max_length=200)},
        responses={304: "Not modified (If-None-Match)", 401: "No token and no valid signature",
                   404: "No such file, or one without a thumbnail (not an image or a video, or not decodable)"},
    ))
    return t

