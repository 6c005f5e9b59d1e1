"""Binds a RouteTable to aiohttp: auth, body parsing, JSON errors that never leak a traceback."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from semot.domain.records import User
from semot.errors import BadRequest, Forbidden, NotFound, SemotError, TooLarge, Unauthorized
from semot.services.container import Services

from .routing import Route, RouteTable, json_response, parse_body

log = logging.getLogger(__name__)

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)


@dataclass(slots=True)
class Call:
    """What a route handler gets: the request, its caller and its validated body."""

    request: web.Request
    services: Services
    user: User | None
    body: Any

    @property
    def me(self) -> User:
        assert self.user is not None
        return self.user

    def query_int(self, name: str) -> int | None:
        raw = self.request.query.get(name)
        if raw in (None, ""):
            return None
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest(f"{name}: must be an integer") from None
        if value < 0:
            raise BadRequest(f"{name}: must not be negative")
        return value


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token (Authorization: Bearer <access token>)")
    return token.strip()


def _wrap(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        services = request.app[SERVICES]
        user = None
        if route.auth:
            user = await services.accounts.authenticate(bearer_token(request))
            if route.auth == "admin" and not user.is_admin:
                raise Forbidden("administrators only")
        body = await parse_body(request, route.body) if route.body is not None else None
        result = await route.handler(Call(request, services, user, body))
        if isinstance(result, web.StreamResponse):
            return result
        return json_response(result, route.status)

    handler.__name__ = route.handler.__name__
    return handler


def mount(app: web.Application, table: RouteTable) -> None:
    for route in table.routes:
        app.router.add_route(route.method, route.path, _wrap(route))


_HTTP_CODES = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 413: TooLarge}


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except SemotError as exc:
        return json_response({"error": exc.to_wire()}, exc.http_status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        err = _HTTP_CODES.get(exc.status)
        code = err.code if err else ("bad_request" if exc.status < 500 else "internal")
        return json_response({"error": {"code": code, "message": exc.reason}}, exc.status)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response({"error": {"code": "internal", "message": "internal error"}}, 500)
