"""Downloads of files on a local disk with the kernel's sendfile(2): no copy through Python.

aiohttp's FileResponse would do this with `loop.sendfile`, but uvloop (the server's
loop) does not implement it (NotImplementedError: aiohttp then reads the file in
chunks), and FileResponse computes its own ETag and conditional replies where ours are
the sha256 and the signed-URL rules (api/files_api.py). So `SendfileResponse` sends our
headers through aiohttp as usual, then the range with `os.sendfile` on the connection's
socket:

- the socket is `dup`ed first: if the connection is closed meanwhile (the client went
  away, shutdown), its descriptor number may be reused at once by another connection;
  ours still names the same socket, so bytes of a file never reach anyone else;
- the `sendfile` calls run in a worker thread (reading the file may wait for the disk,
  a network filesystem) but never wait for the client there: a call sends what the
  socket takes without blocking, and waiting for room is the event loop's (`add_writer`
  on the dup), so slow readers hold no thread; a client that takes nothing for
  `STALL_S` is dropped;
- only when the transport has nothing of its own buffered (the headers went out), on
  plain TCP (TLS needs the bytes in user space) and without response compression;
  otherwise, as for stores without local files (S3), the body is streamed from `chunks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Mapping

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.web_request import BaseRequest

STALL_S = 120.0  # a client that reads nothing for this long is dropped


class SendfileResponse(web.StreamResponse):
    """`count` bytes of the open file `fd` from `offset`, our headers unchanged. The
    response owns `fd` (closed when it is sent or fails). `chunks` makes the fallback body."""

    def __init__(self, *, status: int, headers: Mapping[str, str], fd: int, offset: int, count: int,
                 chunks: Callable[[], AsyncIterator[bytes]]) -> None:
        super().__init__(status=status, headers=headers)
        self._fd = fd
        self._offset = offset
        self._count = count
        self._chunks = chunks
        self.sent_by_kernel = False  # for tests and metrics: which path the body took

    async def prepare(self, request: BaseRequest) -> AbstractStreamWriter | None:
        try:
            writer = await super().prepare(request)  # the headers go out now (StreamResponse sends them at once)
            if writer is None or request.method == "HEAD" or self._count <= 0:
                return writer
            sock_fd = await _raw_socket(request, writer)
            if sock_fd is None or self.compression:
                async for chunk in self._chunks():
                    await writer.write(chunk)
            else:
                await _sendfile(sock_fd, self._fd, self._offset, self._count)
                self.sent_by_kernel = True
            await super().write_eof()
            return writer
        finally:
            fd, self._fd = self._fd, -1
            if fd >= 0:
                os.close(fd)

    def __del__(self) -> None:  # a response built but never prepared (the request failed before)
        if getattr(self, "_fd", -1) >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)


async def _raw_socket(request: BaseRequest, writer: AbstractStreamWriter) -> int | None:
    """The connection's socket descriptor when bytes may go to it directly: plain TCP and
    nothing left in the transport's buffer (the headers flushed)."""
    transport = request.transport
    if transport is None:
        raise ConnectionResetError("the client went away")
    if transport.get_extra_info("sslcontext") is not None:
        return None
    sock = transport.get_extra_info("socket")
    if sock is None:
        return None
    if transport.get_write_buffer_size():
        await writer.drain()
        if transport.get_write_buffer_size():
            return None
    fd = sock.fileno()
    return fd if fd >= 0 else None


async def _sendfile(sock_fd: int, fd: int, offset: int, count: int) -> None:
    loop = asyncio.get_running_loop()
    # our own descriptors of the socket and the file: the caller closes its file
    # descriptor when it is cancelled, possibly while a thread is still sending
    out, src = os.dup(sock_fd), os.dup(fd)
    job: asyncio.Future[tuple[int, bool]] | None = None
    try:
        while count > 0:
            job = asyncio.ensure_future(asyncio.to_thread(_send_some, out, src, offset, count))
            sent, full = await asyncio.shield(job)
            offset += sent
            count -= sent
            if count > 0 and not full and sent == 0:
                raise ConnectionResetError("the file is shorter than its record")
            if count > 0 and full:
                await _writable(loop, out)
    finally:
        if job is not None and not job.done():  # cancelled while a thread still uses them: close them after
            job.add_done_callback(lambda _: _close(out, src))
        else:
            _close(out, src)


def _close(*fds: int) -> None:
    for fd in fds:
        os.close(fd)


def _send_some(out: int, fd: int, offset: int, count: int) -> tuple[int, bool]:
    """sendfile until done, the file ends, or the socket is full: (bytes sent, full)."""
    sent = 0
    while sent < count:
        try:
            n = os.sendfile(out, fd, offset + sent, count - sent)
        except BlockingIOError:
            return sent, True
        if n == 0:
            return sent, False
        sent += n
    return sent, False


async def _writable(loop: asyncio.AbstractEventLoop, out: int) -> None:
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_writer(out, wake)
    try:
        async with asyncio.timeout(STALL_S):
            await ready
    except TimeoutError:
        raise ConnectionResetError("the client stopped reading") from None
    finally:
        loop.remove_writer(out)
