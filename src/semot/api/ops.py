"""Operations endpoints: health, Prometheus metrics, the OpenAPI document and its viewer."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from semot import __version__

from .http import SERVICES
from .routing import RouteTable, json_response

SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)

DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Semot API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>"""

DOCS_INIT = """window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});"""


def mount(app: web.Application, table: RouteTable) -> None:
    spec = table.openapi(title="Semot API", version=__version__)

    async def healthz(_: web.Request) -> web.Response:
        return json_response({"status": "ok", "version": __version__})

    async def metrics(request: web.Request) -> web.Response:
        body = generate_latest(request.app[SERVICES].metrics.registry)
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
