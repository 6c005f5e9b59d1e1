"""What an import reports (counts, per-row outcomes, the report CSV) and the import jobs
the console starts and polls.

A report is filled while the import runs, so the same object is the job's progress.
Jobs live in the memory of the node that runs them (docs/admin.md): they are short
(minutes), their report holds one-time set-password links that must not outlive their
use, and a restart would stop the import anyway; behind a load balancer the console
polls through the same sticky session, or scripts use the synchronous route.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from semot.errors import NotFound, SemotError, Unavailable
from semot.services.user_import_rows import RowError

log = logging.getLogger(__name__)

Result = Literal["created", "updated", "unchanged", "error"]
MAX_WIRE_ERRORS = 1000  # in a job's progress reply; the report CSV has every one
KEEP_S = 3600  # a finished job (and its links) is forgotten after an hour
MAX_JOBS = 32  # finished jobs kept at most (oldest dropped first)
MAX_RUNNING = 4  # jobs queued or running on a node at once


@dataclass(slots=True)
class Outcome:
    line: int
    username: str
    result: Result
    message: str = ""
    user_id: str | None = None
    link: str | None = None  # a one-time set-password link (secret: the report only)


@dataclass(slots=True)
class ImportReport:
    """Counts and outcomes; `done` grows while the import runs."""

    total: int = 0
    done: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    finished: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    preview: list[dict[str, Any]] | None = None  # dry run: the first rows as read
    _errors: list[Outcome] = field(default_factory=list, repr=False)  # kept apart: a poll reads them, not every row

    @property
    def errors(self) -> list[RowError]:
        return sorted((RowError(o.line, o.message, o.username) for o in self._errors), key=lambda e: e.line)

    @property
    def error_count(self) -> int:
        return len(self._errors)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if outcome.result == "created":
            self.created += 1
        elif outcome.result == "updated":
            self.updated += 1
        elif outcome.result == "unchanged":
            self.unchanged += 1
        else:
            self._errors.append(outcome)

    def counts(self) -> dict[str, int]:
        return {
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.error_count,
        }

    def to_wire(self, *, max_errors: int | None = None, links: bool = True) -> dict[str, Any]:
        """PROTOCOL §7's reply ({"created","updated","errors"}) and what the console adds."""
        errors = self.errors
        out: dict[str, Any] = {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "total": self.total,
            "errors": [e.to_wire() for e in errors[:max_errors]],
            "error_count": len(errors),
            "dry_run": self.dry_run,
            "links": [
                {"line": o.line, "username": o.username, "user_id": o.user_id, "url": o.link}
                for o in sorted((o for o in self.outcomes if o.link), key=lambda o: o.line)
            ]
            if links
            else [],
        }
        if self.preview is not None:
            out["preview"] = self.preview
        return out

    def csv(self, base_url: str = "") -> str:
        """Every row's outcome, in line order, as CSV (UTF-8 with a BOM so Excel reads it);
        set-password links start with `base_url` (the server's address as the admin sees it)."""
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["line", "username", "result", "message", "user_id", "set_password_link"])
        for o in sorted(self.outcomes, key=lambda o: o.line):
            link = base_url + o.link if o.link else ""
            w.writerow([o.line, *(_cell(v) for v in (o.username, o.result, o.message, o.user_id or "", link))])
        return "\ufeff" + buf.getvalue()


def _cell(value: str) -> str:
    """A spreadsheet must show a cell as text, never run it as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


JobStatus = Literal["queued", "running", "done", "failed"]


@dataclass(slots=True)
class ImportJob:
    job_id: str
    admin: str
    created_at: int
    report: ImportReport
    status: JobStatus = "queued"
    failure: str | None = None
    finished_at: int | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def to_wire(self) -> dict[str, Any]:
        r = self.report
        out = {
            "job_id": self.job_id,
            "status": self.status,
            "finished": self.status in ("done", "failed"),
            "done": r.done,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "failure": self.failure,
            **r.to_wire(max_errors=MAX_WIRE_ERRORS, links=self.status == "done"),  # links once complete
        }
        return out


def _now_ms() -> int:
    return int(time.time() * 1000)


class ImportJobs:
    """The import jobs of this node: started, polled by their admin, forgotten later."""

    def __init__(self) -> None:
        self._jobs: dict[str, ImportJob] = {}

    def _prune(self) -> None:
        now = _now_ms()
        done = [j for j in self._jobs.values() if j.finished_at is not None]
        for job in done:
            if now - (job.finished_at or now) > KEEP_S * 1000:
                self._jobs.pop(job.job_id, None)
        done = sorted((j for j in self._jobs.values() if j.finished_at is not None), key=lambda j: j.finished_at or 0)
        for job in done[: max(0, len(done) - MAX_JOBS)]:
            self._jobs.pop(job.job_id, None)

    def start(
        self,
        admin: str,
        report: ImportReport,
        run: Callable[[ImportReport], Awaitable[None]],
        on_done: Callable[[ImportJob], Awaitable[None]] | None = None,
    ) -> ImportJob:
        """Run `run(report)` in the background as a job of `admin`."""
        self._prune()
        if sum(1 for j in self._jobs.values() if j.finished_at is None) >= MAX_RUNNING:
            raise Unavailable(
                "too many imports are waiting on this server; retry when one has finished", retry_after=10
            )
        job = ImportJob(f"imp_{secrets.token_hex(12)}", admin, _now_ms(), report)
        self._jobs[job.job_id] = job

        async def go() -> None:
            job.status = "running"
            try:
                await run(report)
                job.status = "done"
            except asyncio.CancelledError:
                job.status, job.failure = "failed", "the server stopped during the import"
                raise
            except SemotError as exc:
                job.status, job.failure = "failed", exc.message
            except Exception:
                log.exception("import job %s failed", job.job_id)
                job.status, job.failure = "failed", "internal error (see the server log)"
            finally:
                job.finished_at = _now_ms()
                report.finished = True
                if on_done is not None:
                    try:
                        await on_done(job)
                    except Exception:
                        log.exception("recording the end of import job %s failed", job.job_id)

        job.task = asyncio.create_task(go(), name=f"semot-import-{job.job_id}")
        return job

    def get(self, job_id: str, admin: str) -> ImportJob:
        """The job, to the admin who started it only (its report holds secrets)."""
        self._prune()
        job = self._jobs.get(job_id)
        if job is None or job.admin != admin:
            raise NotFound(
                "no such import job (jobs are kept for an hour after they finish, on the node that ran them)"
            )
        return job

    async def close(self) -> None:
        tasks = [j.task for j in self._jobs.values() if j.task is not None and not j.task.done()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
