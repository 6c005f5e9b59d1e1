"""What-if for benchmarks/files.py (`--what-if nice-media`): NOT the project's code.

Put on the server's PYTHONPATH, Python imports this at start-up; it starts the media
worker threads (services/thumbnails.py, MediaWorkers) at nice 19, so that on a busy
core the event loop thread wins the CPU whenever it has work (Linux: threads have their
own nice value); `idle-media`: the same threads under SCHED_IDLE instead. `early-writeback`:
below. Used to size a proposal before anyone changes src.
"""

from __future__ import annotations

import os

if os.environ.get("SEMOT_BENCH_WHATIF") in ("nice-media", "idle-media"):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from semot.services import thumbnails

    _IDLE = os.environ.get("SEMOT_BENCH_WHATIF") == "idle-media"

    def _lower() -> None:
        if _IDLE:  # SCHED_IDLE: runs only when nothing else on the core wants to
            os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))
        else:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)

    _init = thumbnails.MediaWorkers.__init__

    def _patched(self: thumbnails.MediaWorkers, workers: int = 0) -> None:
        _init(self, workers)
        self._pool.shutdown(wait=False)
        self._pool = ThreadPoolExecutor(self.size, thread_name_prefix="semot-media", initializer=_lower)

    thumbnails.MediaWorkers.__init__ = _patched  # type: ignore[method-assign]

if os.environ.get("SEMOT_BENCH_WHATIF") == "early-writeback":
    # LocalBlobStore.write_at with the writeback of each 64 MiB started as soon as it is
    # written (posix_fadvise DONTNEED starts it without waiting, on Linux), so the fsync
    # at the end of a PATCH has only the tail left; and the pwrite of one batch overlaps
    # the receiving of the next (one batch in flight). Error handling as in src.
    import asyncio
    import contextlib
    from collections.abc import AsyncIterable

    from semot.storage import local_files as lf
    from semot.storage.files import StorageFull

    _KICK = 64 * 1024 * 1024

    def _write(fd: int, data: bytes, at: int, kick_from: int) -> None:
        lf._pwrite_all(fd, data, at)
        end = at + len(data)
        if end - kick_from >= _KICK:
            os.posix_fadvise(fd, kick_from, end - kick_from, os.POSIX_FADV_DONTNEED)

    async def _write_at(self: lf.LocalBlobStore, key: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        fd = await self._open(key, os.O_WRONLY)
        written = 0
        inflight: asyncio.Future[None] | None = None
        kicked = offset
        try:
            await asyncio.to_thread(os.ftruncate, fd, offset)
            batch: list[bytes] = []
            pending = 0

            async def flush() -> None:
                nonlocal inflight, written, batch, pending, kicked
                if inflight is not None:
                    await inflight
                at = offset + written
                inflight = asyncio.ensure_future(asyncio.to_thread(_write, fd, b"".join(batch), at, kicked))
                written += pending
                if offset + written - kicked >= _KICK:
                    kicked = offset + written
                batch, pending = [], 0

            async for chunk in chunks:
                if not chunk:
                    continue
                batch.append(chunk)
                pending += len(chunk)
                if pending >= lf._BATCH:
                    await flush()
            if batch:
                await flush()
            if inflight is not None:
                await inflight
            await asyncio.to_thread(os.fsync, fd)
        except BaseException as exc:
            if inflight is not None:
                with contextlib.suppress(BaseException):
                    await asyncio.shield(inflight)
            with contextlib.suppress(OSError):
                await asyncio.shield(asyncio.to_thread(lf._cut, fd, offset))
            await asyncio.to_thread(os.close, fd)
            if isinstance(exc, OSError) and lf._full(exc):
                raise StorageFull(str(exc)) from None
            raise
        await asyncio.to_thread(os.close, fd)
        return written

    lf.LocalBlobStore.write_at = _write_at  # type: ignore[method-assign]
