"""The aiohttp application of a node: security headers, CORS, every API module's routes,
the WebSocket gateway, and the web client's files (the page, the SDK, the admin
console, the customer-service widget)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from semot.api import (
    admin_api,
    admin_console,
    admin_groups_api,
    admin_logs_api,
    admin_recall_api,
    admin_roles_api,
    apps_api,
    audit_log_api,
    auth_methods_api,
    client_api,
    client_config_api,
    contacts_api,
    cs_admin_api,
    cs_api,
    dashboard_api,
    devtools_api,
    directory_api,
    files_api,
    geo_api,
    groups_api,
    import_api,
    ldap_api,
    moderation_api,
    oidc_api,
    ops,
    org_admin_api,
    org_admin_extra_api,
    presence_api,
    profile_api,
    retention_api,
    search_api,
    sensitive_api,
    server_api,
    server_api_keys,
    server_groups_api,
    set_password_api,
    webhooks_api,
    widget_static,
)
from semot.api.cors import Cors
from semot.api.http import SERVICES, error_middleware, mount
from semot.api.routing import RouteTable
from semot.api.security_headers import SecurityHeaders
from semot.services.client_settings import csp_sources

if TYPE_CHECKING:
    from semot.app.node import Node

WEB_DIR = Path(__file__).parent.parent / "web"
NODE: web.AppKey[Node] = web.AppKey("node", object)  # type: ignore[arg-type]


@dataclass(slots=True)
class AppState:
    """`app.state`: what later features reach from the aiohttp app (the CORS origin sources)."""

    cors: Cors


def build_app(node: Node) -> web.Application:
    headers = SecurityHeaders(
        WEB_DIR / "index.html", frame_ancestors=node.settings.frame_ancestors, csp_extra=node.settings.csp_extra,
        admin_html=WEB_DIR / "admin" / "index.html",
    )
    app = web.Application(
        middlewares=[headers.middleware(), node.cors.middleware(), error_middleware], client_max_size=1024 * 1024
    )
    app[SERVICES] = node.services
    node.cors.install(app)  # CORS headers on the client API's answers (api/cors.py)
    app.state = AppState(cors=node.cors)  # E.g. app.state.cors.add_source(...) (the widget's origins)
    apps_api.install(app, node.app_identity)
    geo_api.install(app, node.geo)
    # H5 pages framed by the web client and an outside logo need their origins in its CSP,
    # and so do the widget's sites (a context card's product picture): each listener
    # replaces its own part of one set of sources
    page_sources: dict[str, str] = {}

    def set_page_sources(part: str, sources: str) -> None:
        page_sources[part] = sources
        headers.add_page_sources("; ".join(s for s in page_sources.values() if s))

    node.client_settings.listen(lambda config: set_page_sources("config", csp_sources(config)))
    if node.customer_service is not None:
        node.customer_service.listen(lambda cs: set_page_sources("cs", widget_static.picture_sources(cs)))
    app[NODE] = node
    table = RouteTable()
    for part in (
        client_api.routes(),
        client_config_api.routes(),
        groups_api.routes(),
        contacts_api.routes(),
        presence_api.routes(),
        admin_api.routes(),
        directory_api.routes(),
        org_admin_api.routes(),
        admin_groups_api.routes(),
        org_admin_extra_api.routes(),
        admin_roles_api.routes(),
        audit_log_api.routes(),
        files_api.routes(node.settings.file_max_bytes),
        profile_api.routes(),
        set_password_api.routes(),
        import_api.routes(),
        search_api.routes(),
        devtools_api.routes(),
        admin_logs_api.routes(),
        dashboard_api.routes(),
        admin_recall_api.routes(),
        retention_api.routes(),
        moderation_api.routes(),
        sensitive_api.routes(),
        server_api.routes(),
        server_api_keys.routes(),
        server_groups_api.routes(),
        webhooks_api.routes(),
        ldap_api.routes(),
        oidc_api.routes(),
        auth_methods_api.routes(),
        apps_api.routes(),
        geo_api.routes(),
        cs_api.routes(),
        cs_admin_api.routes(),
    ):
        table.routes.extend(part.routes)
    mount(app, table)
    files_api.install(app)
    ops.mount(app, table)
    app.router.add_get("/ws", node.gateway.handle)

    # The web client (src/semot/web/): its page at /, its files under /web/, the JS
    # SDK at /sdk/semot.js and the service worker at /sw.js (its scope is the folder
    # it is served from, so it must sit at the root). Revalidated on every use, so an
    # upgraded server never runs with a stale mix of files.
    web_root = WEB_DIR.resolve()
    fixed = {"/": "index.html", "/sw.js": "sw.js", "/sdk/semot.js": "sdk/semot.js", "/sdk/uploads.js": "sdk/uploads.js",
             "/sdk/changes.js": "sdk/changes.js",
             "/sdk/semot-bridge.js": "sdk/semot-bridge.js"}  # the page side of the apps' bridge (docs/apps.md)

    async def web_file(request: web.Request) -> web.FileResponse:
        path = (web_root / (request.match_info.get("path") or fixed[request.path])).resolve()
        if not path.is_relative_to(web_root) or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    for route in (*fixed, "/web/{path:.+}"):
        app.router.add_get(route, web_file)
    admin_console.install(app)  # the admin console at /admin/ (api/admin_console.py)
    widget_static.install(app)  # the customer-service widget: /widget.js and /widget/ (api/widget_static.py)
    return app
