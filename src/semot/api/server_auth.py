"""The gate in front of every server API route (`Route(auth="server", perm=<scope>)`):
the key in `Authorization: Bearer`, its allowlist, scope and rate (services/api_keys.py),
and the call log entry of every call, whatever its outcome (docs/integration.md)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from semot.errors import SemotError, Unavailable
from semot.services.client_ip import client_ip
from semot.services.container import Services
from semot.storage.api_keys import ApiKey

from .routing import Route, json_response

Serve = Callable[[web.Request, ApiKey], Awaitable[web.StreamResponse]]


def _token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def server_gate(request: web.Request, services: Services, route: Route, serve: Serve) -> web.StreamResponse:
    started = time.monotonic()
    ip = client_ip(request.remote, request.headers.getall("X-Forwarded-For", []), services.settings.trusted_proxies)
    svc = services.api_keys
    key_id: str | None = None
    status = 500
    try:
        if svc is None:
            raise Unavailable("the server API is not available on this server")
        key = await svc.identify(_token(request))
        key_id = key.id
        await svc.check(key, ip, route.perm)
        response = await serve(request, key)
        status = response.status
        return response
    except SemotError as exc:
        status = exc.http_status
        response = json_response({"error": exc.to_wire()}, exc.http_status)
        retry = exc.details.get("retry_after")
        if isinstance(retry, int):
            response.headers["Retry-After"] = str(retry)
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        if svc is not None:
            path = request.path + (f"?{request.query_string}" if request.query_string else "")
            svc.record(key_id, ip, request.method, path, status, round((time.monotonic() - started) * 1000))
