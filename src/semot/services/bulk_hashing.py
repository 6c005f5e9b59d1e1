"""Argon2 for bulk imports: worker processes at the lowest CPU priority.

Sign-ins hash on a few threads of the server process (services/security.py) because
each is one hash, now. An import of 10,000 passwords is 10,000 x ~20 ms of CPU: on
threads of the server process it would compete with the event loop as an equal (and
queue in front of sign-ins). Here it runs in separate processes started at nice 19, so
the kernel gives the server (event loop, database) the CPU first and the import takes
what is left: sends stay fast while an import runs, and the import runs at full speed
on an idle machine. The processes exist only while an import hashes (started with
"spawn": never a fork of a process with threads and open sockets).

The parameters are the server's own (`hash_password_sync`): an imported password is
checked at sign-in like any other.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

NICE = 19
CHUNK = 8  # passwords per task: fewer round trips to the workers, still fine-grained
MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """Every CPU (they only get what the server leaves idle), at most 8 (~50 MB each)."""
    return max(1, min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1))


def _lower_priority(nice: int) -> None:
    try:
        os.nice(nice)
    except OSError:  # not allowed here: still correct, just not as polite
        pass


def _hash_chunk(passwords: list[str]) -> list[str]:
    from semot.services.security import hash_password_sync

    return [hash_password_sync(p) for p in passwords]


class BulkHasher:
    """A pool of low-priority hashing processes for one import; close() ends them."""

    def __init__(self, workers: int = 0, nice: int | None = None) -> None:
        self.workers = workers or default_workers()
        self.nice = NICE if nice is None else nice
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_lower_priority,
                initargs=(self.nice,),
            )
        return self._pool

    async def hash_many(self, passwords: list[str]) -> list[str]:
        """The hashes of `passwords`, in order."""
        if not passwords:
            return []
        loop = asyncio.get_running_loop()
        pool = self._executor()
        chunks = [passwords[i : i + CHUNK] for i in range(0, len(passwords), CHUNK)]
        done = await asyncio.gather(*(loop.run_in_executor(pool, _hash_chunk, c) for c in chunks))
        return [h for chunk in done for h in chunk]

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
