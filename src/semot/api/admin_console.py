"""The admin console's files (src/semot/web/admin/) at /admin/.

Served like the web client (app.py): every file with `Cache-Control: no-cache`, so an
upgraded server never runs with a stale mix of modules, and a path that resolves outside
the folder is a 404. The console's security headers come from SecurityHeaders (its own
import-map hash, the same policy as the web client otherwise).

`/admin/pages.json` names the page modules that exist, so the console imports only
those: a page still missing (the pages are built by different people at different
times) is left out of the menu instead of costing a failed request in the browser.
"""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

ADMIN_DIR = Path(__file__).resolve().parent.parent / "web" / "admin"


def _available_pages(root: Path) -> list[str]:
    pages = root / "pages"
    return sorted(p.stem for p in pages.glob("*.js") if p.is_file() and p.name != "index.js")


def install(app: web.Application, root: Path = ADMIN_DIR) -> None:
    """Add the console's routes to `app`."""
    admin_root = root.resolve()

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/admin/")

    async def admin_file(request: web.Request) -> web.FileResponse:
        path = (admin_root / (request.match_info.get("path") or "index.html")).resolve()
        if not path.is_relative_to(admin_root) or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    async def pages(request: web.Request) -> web.Response:
        body = json.dumps({"pages": _available_pages(admin_root)})
        return web.Response(text=body, content_type="application/json", headers={"Cache-Control": "no-cache"})

    app.router.add_get("/admin", redirect)
    app.router.add_get("/admin/", admin_file)
    app.router.add_get("/admin/pages.json", pages)
    app.router.add_get("/admin/{path:.+}", admin_file)
