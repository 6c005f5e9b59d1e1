"""Bulk user import over HTTP (PROTOCOL §7): the synchronous route scripts use, its dry
run (the console's preview), background jobs with progress for the console, the
report as CSV, and templates to fill in.

The body is the file itself (CSV or XLSX, told apart by its bytes), read here with a
limit of its own (`MAX_IMPORT_BYTES`) instead of the 1 MiB every other route has
(`client_max_size` in app.py): `request.read()` would refuse a 10,000-row file.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from semot.errors import BadRequest, TooLarge
from semot.services.client_ip import client_ip
from semot.services.import_jobs import ImportJob, ImportReport
from semot.services.user_import import PREVIEW_ROWS, UserImportService
from semot.services.user_import_rows import XLSX_TYPE, ParsedFile, parse_file

from .http import Call
from .routing import Query, Route, RouteTable, json_response

MAX_IMPORT_BYTES = 32 * 1024 * 1024
BASE = "/api/admin/v1/users/import"
JOBS = "/api/admin/v1/users/import-jobs"
TEMPLATE_HEADER = ["username", "password", "display_name", "department", "title", "is_admin", "disabled"]
TEMPLATE_ROWS = [
    ["zhangwei", "", "张伟", "总部/研发部", "工程师", "false", "false"],
    ["lina", "Initial-pass-2024", "李娜", "总部/市场部", "经理", "", ""],
]
_BOOL = Query("true or false", "string", max_length=5, pattern="^(true|false)$")
_QUERY: dict[str, Query | str] = {
    "dry_run": _BOOL,
    "links": Query(
        "true: make a one-time set-password link for each new user without a password",
        "string",
        max_length=5,
        pattern="^(true|false)$",
    ),
    "preview": Query(f"dry run: how many rows to show (default {PREVIEW_ROWS})", minimum=1, maximum=500),
}
_JOB_ID = Query("an import job id", "string", max_length=40, min_length=5, pattern="^imp_[0-9a-f]{24}$")


class ImportErrorOut(BaseModel):
    line: int
    message: str


class ImportLinkOut(BaseModel):
    line: int
    username: str
    user_id: str | None
    url: str | None


class ImportPreviewOut(BaseModel):
    line: int
    username: str | None = None
    display_name: str | None = None
    department: str | None = None
    title: str | None = None
    is_admin: bool | None = None
    disabled: bool | None = None
    has_password: bool | None = None
    action: str
    error: str | None


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    total: int
    errors: list[ImportErrorOut]
    error_count: int
    dry_run: bool
    links: list[ImportLinkOut]
    preview: list[ImportPreviewOut] | None = None


class ImportJobOut(ImportOut):
    job_id: str
    status: str
    finished: bool
    done: int
    created_at: int
    finished_at: int | None
    failure: str | None


def _service(call: Call) -> UserImportService:
    svc = call.services.user_import
    if svc is None:
        raise BadRequest("user import is not available on this server")
    return svc


async def read_body(request: web.Request, limit: int = MAX_IMPORT_BYTES) -> bytes:
    """The whole body, refused with 413 past `limit` (before reading when announced)."""
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"an import file may be at most {limit // 2**20} MiB")
    buf = bytearray()
    while chunk := await request.content.read(256 * 1024):
        buf += chunk
        if len(buf) > limit:
            raise TooLarge(f"an import file may be at most {limit // 2**20} MiB")
    return bytes(buf)


async def _parse(call: Call) -> ParsedFile:
    data = await read_body(call.request)
    return await asyncio.to_thread(parse_file, data, call.request.content_type)


def _flag(call: Call, name: str) -> bool:
    return call.query_str(name) == "true"


async def import_users(call: Call) -> dict[str, Any]:
    parsed = await _parse(call)
    dry_run = _flag(call, "dry_run")
    report = await _service(call).run(
        parsed,
        grant=call.grant,
        access=call.services.admin,
        links=_flag(call, "links"),
        created_by=call.me.id,
        dry_run=dry_run,
        preview_rows=call.query_int("preview") or PREVIEW_ROWS,
    )
    if not dry_run:
        await call.audit("users.import", "users", after=report.counts())
    return report.to_wire()


async def start_import_job(call: Call) -> web.Response:
    parsed = await _parse(call)
    svc = _service(call)
    links = _flag(call, "links")
    req = call.request
    ip = client_ip(req.remote, req.headers.getall("X-Forwarded-For", []), call.services.settings.trusted_proxies)
    admin = call.services.admin
    grant = call.grant
    me = call.me.id
    report = ImportReport(total=parsed.total)

    async def run(r: ImportReport) -> None:
        await svc.run(parsed, grant=grant, access=admin, links=links, created_by=me, report=r)

    async def done(job: ImportJob) -> None:
        after = {**job.report.counts(), "status": job.status, "failure": job.failure}
        await admin.audit(me, "users.import", job.job_id, ip, after=after)

    job = svc.jobs.start(me, report, run, done)
    return json_response(job.to_wire(), 202)


async def import_job(call: Call) -> dict[str, Any]:
    return _service(call).jobs.get(call.request.match_info["job_id"], call.me.id).to_wire()


async def import_job_report(call: Call) -> web.Response:
    job = _service(call).jobs.get(call.request.match_info["job_id"], call.me.id)
    return web.Response(
        body=job.report.csv(base_url=f"{call.request.scheme}://{call.request.host}").encode(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{job.job_id}-report.csv"', "Cache-Control": "no-store"},
    )


async def import_template_csv(call: Call) -> web.Response:
    lines = [",".join(TEMPLATE_HEADER), *(",".join(r) for r in TEMPLATE_ROWS)]
    body = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()
    return web.Response(
        body=body,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="users-template.csv"'},
    )


async def import_template_xlsx(call: Call) -> web.Response:
    body = await asyncio.to_thread(_xlsx_template)
    return web.Response(
        body=body, content_type=XLSX_TYPE, headers={"Content-Disposition": 'attachment; filename="users-template.xlsx"'}
    )


def _xlsx_template() -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("users")
    ws.append(TEMPLATE_HEADER)
    for row in TEMPLATE_ROWS:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


_FORMATS = (
    "The body is the file: CSV (UTF-8 with or without BOM, UTF-16, or GBK as Excel saves it) with the header "
    "username,password,display_name (optional: department like 总部/研发部, title, is_admin, disabled; other "
    f"columns are ignored), or an XLSX workbook (first sheet, same header), at most {MAX_IMPORT_BYTES // 2**20} MiB."
)


def routes() -> RouteTable:
    t = RouteTable()
    imp = "admin"
    t.add(
        Route(
            "POST",
            BASE,
            import_users,
            "Import users from CSV or XLSX (existing usernames are updated; good rows go in even when others fail; "
            "errors name their line, the header being line 1). ?dry_run=true checks and previews without writing. "
            + _FORMATS,
            imp,
            None,
            ImportOut,
            auth="admin",
            perm="users.import",
            query=_QUERY,
            raw_body="text/csv",
            responses={413: "The file is over the import limit"},
        )
    )
    t.add(
        Route(
            "GET",
            "/api/admin/v1/users/import-template.csv",
            import_template_csv,
            "A CSV file to fill in for the import",
            imp,
            auth="admin",
            perm="users.import",
            reply_media="text/csv",
        )
    )
    t.add(
        Route(
            "GET",
            "/api/admin/v1/users/import-template.xlsx",
            import_template_xlsx,
            "An Excel file to fill in for the import",
            imp,
            auth="admin",
            perm="users.import",
            reply_media=XLSX_TYPE,
        )
    )
    t.add(
        Route(
            "POST",
            JOBS,
            start_import_job,
            "Start an import in the background (the console): 202 with the job; poll it for progress. " + _FORMATS,
            imp,
            None,
            ImportJobOut,
            status=202,
            auth="admin",
            perm="users.import",
            query={"links": _QUERY["links"]},
            raw_body="text/csv",
            responses={413: "The file is over the import limit"},
        )
    )
    t.add(
        Route(
            "GET",
            JOBS + "/{job_id}",
            import_job,
            "An import job's progress and, once finished, its result (only to the admin who started it)",
            imp,
            None,
            ImportJobOut,
            auth="admin",
            perm="users.import",
        )
    )
    t.add(
        Route(
            "GET",
            JOBS + "/{job_id}/report.csv",
            import_job_report,
            "An import job's report: every row's line, username, result and message (and set-password links)",
            imp,
            auth="admin",
            perm="users.import",
            reply_media="text/csv",
        )
    )
    for r in t.routes:
        if "{job_id}" in r.path:
            r.path_params()["job_id"] = _JOB_ID
    return t
