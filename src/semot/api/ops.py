"""Operations endpoints: health, Prometheus metrics, the OpenAPI document and its viewer."""

from __future__ import annotations

import hmac
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from semot import __version__
from semot.config import Settings
from semot.services.client_ip import client_ip, parse_ip

from .http import SERVICES
from .routing import RouteTable, json_response

# Swagger UI 5 (reads OpenAPI 3.1), vendored with the web client's libraries (scripts/refresh-vendor.sh)
SWAGGER_DIR = Path(__file__).resolve().parent.parent / "web" / "vendor" / "swagger-ui"

DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Semot API</title>
<link rel="icon" href="/web/icons/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>"""

DOCS_INIT = """window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});"""


def metrics_refusal(request: web.Request, settings: Settings) -> web.Response | None:
    """Why this caller may not read /metrics, or None when it may.

    Public unless `metrics_allow` or `metrics_token` is set; then an address in one of the
    allowed networks (the client's address, seen through trusted proxies) or the bearer
    token grants it. No token offered: 401 when a token would do, 403 otherwise."""
    allow, token = settings.metrics_allow, settings.metrics_token
    if not allow and not token:
        return None
    if allow:
        ip = parse_ip(client_ip(request.remote, request.headers.getall("X-Forwarded-For", []), settings.trusted_proxies))
        if ip is not None and any(ip.version == net.version and ip in net for net in allow):
            return None
    if token:
        scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(), token.encode()):
            return None
        response = json_response({"error": {"code": "unauthorized", "message": "metrics: bearer token required"}}, 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return json_response({"error": {"code": "forbidden", "message": "metrics: not allowed from this address"}}, 403)


def mount(app: web.Application, table: RouteTable) -> None:
    spec = table.openapi(title="Semot API", version=__version__)

    async def healthz(_: web.Request) -> web.Response:
        return json_response({"status": "ok", "version": __version__})

    async def metrics(request: web.Request) -> web.Response:
        services = request.app[SERVICES]
        refusal = metrics_refusal(request, services.settings)
        if refusal is not None:
            return refusal
        body = generate_latest(services.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def openapi(_: web.Request) -> web.Response:
        return json_response(spec)

    async def docs(_: web.Request) -> web.Response:
        return web.Response(text=DOCS_PAGE, content_type="text/html")

    async def docs_init(_: web.Request) -> web.Response:
        return web.Response(text=DOCS_INIT, content_type="application/javascript")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/docs", docs)
    app.router.add_get("/docs/init.js", docs_init)
    app.router.add_static("/docs/static/", SWAGGER_DIR)
