"""The customer-service widget's files (src/semot/web/widget/): `/widget.js` and `/widget/`.

`/widget.js` is the one script a shop puts on its pages: it draws the launcher button
and opens Semot's own page `/widget/` in a frame (docs/customer-service.md, "The
widget"). That page is the only Semot page meant to be framed by other sites, so it
gets a policy of its own instead of the web client's: `frame-ancestors` lists the
origins the administrator allowed (the customer-service settings' `frame_ancestors` and
allowed origins, plus the server-wide `frame_ancestors`), and nothing else when none is
set ('self' only: a widget nobody configured cannot be framed by a stranger's site).
Product pictures of a context card come from those same origins (`img-src`), here and
in the web client (`picture_sources`).

Files are served like the web client's: `Cache-Control: no-cache`, no path outside the
folder.
"""

from __future__ import annotations

import inspect
import logging
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from semot.api.http import SERVICES
from semot.domain.customer_service import WidgetSettings

log = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parent.parent / "web" / "widget"
# an origin as CSP takes it: scheme://host[:port] (wildcard subdomains and ports as in settings)
_ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5}|:\*)?")


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def widget_origins(request: web.Request) -> list[str]:
    """The origins that may frame the widget: the server's `frame_ancestors` and the
    customer-service settings' `frame_ancestors` / `allowed_origins` (services/customer_service.py),
    each checked again here (a CSP header must never take a stray `;`)."""
    services = request.app[SERVICES]
    found: list[str] = list(services.settings.frame_ancestors)
    admins = (getattr(services, name, None) for name in ("cs_admin", "customer_service_admin", "customer_service"))
    getter = next((g for g in (getattr(a, "settings", None) for a in admins) if callable(g)), None)
    if getter is not None:
        try:
            cs = await _maybe_await(getter())
        except Exception:  # the widget still loads for its own origin when the settings cannot be read
            log.exception("reading the customer-service settings for the widget failed")
            cs = None
        for key in ("frame_ancestors", "allowed_origins"):
            values = cs.get(key) if isinstance(cs, dict) else getattr(cs, key, None)
            found.extend(v for v in (values or ()) if isinstance(v, str))
    out: list[str] = []
    for origin in found:
        origin = origin.strip().rstrip("/")
        if (_ORIGIN.fullmatch(origin) or origin in ("'self'", "https:")) and origin not in out:
            out.append(origin)
    return out


def picture_sources(settings: WidgetSettings) -> str:
    """The web client's extra CSP sources for the widget's sites (app.py): `img-src` with
    their origins, so a visitor's context card shows its product picture in the workbench
    and in the chat, as it does in the widget. Checked like the frame's origins."""
    found: list[str] = []
    for origin in (*settings.allowed_origins, *settings.frame_ancestors):
        origin = origin.strip().rstrip("/")
        if _ORIGIN.fullmatch(origin) and origin not in found:
            found.append(origin)
    return "img-src " + " ".join(found) if found else ""


def widget_policy(origins: list[str]) -> str:
    """The frame page's Content-Security-Policy: its own scripts only (no eval: the page
    is plain JavaScript), framed by `origins`."""
    ancestors = " ".join(["'self'", *[o for o in origins if o != "'self'"]])
    pictures = " ".join(o for o in origins if o.startswith("http"))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob: {pictures}".rstrip() + "; media-src 'self' blob:; connect-src 'self'; "
        f"worker-src 'none'; form-action 'none'; base-uri 'none'; object-src 'none'; frame-ancestors {ancestors}"
    )


def install(app: web.Application, root: Path = WIDGET_DIR) -> None:
    """Add `/widget.js` and `/widget/...` to `app`."""
    widget_root = root.resolve()

    async def loader(request: web.Request) -> web.FileResponse:
        # the host page loads it from another origin: a script, no cookies, no CSP of ours to apply
        return web.FileResponse(widget_root / "loader.js", headers={
            "Cache-Control": "no-cache", "Content-Type": "text/javascript; charset=utf-8",
            "Cross-Origin-Resource-Policy": "cross-origin",
        })

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/widget/" + (f"?{request.query_string}" if request.query_string else ""))

    async def page_file(request: web.Request) -> web.FileResponse:
        name = request.match_info.get("path") or "index.html"
        path = (widget_root / name).resolve()
        if not path.is_relative_to(widget_root) or not path.is_file() or path.name == "loader.js":
            raise web.HTTPNotFound()
        headers = {"Cache-Control": "no-cache"}
        if path.suffix == ".html":
            headers["Content-Security-Policy"] = widget_policy(await widget_origins(request))
        return web.FileResponse(path, headers=headers)

    app.router.add_get("/widget.js", loader)
    app.router.add_get("/widget", redirect)
    app.router.add_get("/widget/", page_file)
    app.router.add_get("/widget/{path:.+}", page_file)
