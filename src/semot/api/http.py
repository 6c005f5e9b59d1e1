"""Binds a RouteTable to aiohttp: auth, body parsing, JSON errors that never leak a traceback."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from semot.domain.records import User
from semot.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    SemotError,
    TooLarge,
    Unauthorized,
    as_outage,
)
from semot.services.admin_access import AdminGrant
from semot.services.client_ip import client_ip
from semot.services.container import Services
from semot.services.sensitive_words import REQUEST_IP
from semot.storage.api_keys import ApiKey

from . import replies
from .routing import Query, Route, RouteTable, json_response, parse_body
from .server_auth import server_gate

log = logging.getLogger(__name__)

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
# the API's paths without parameters -> their methods (what a 405 there lists in Allow)
FIXED_PATHS: web.AppKey[dict[str, list[str]]] = web.AppKey("fixed_paths", dict)


@dataclass(slots=True)
class Call:
    """What a route handler gets: the request, its caller and its validated body.

    Query parameters are read through `query_int` / `query_str`, which enforce what the
    route declared (`Route.query`, also what /openapi.json shows); an undeclared integer
    gets 0 to 2^53 - 1."""

    request: web.Request
    services: Services
    user: User | None
    body: Any
    route: Route | None = None
    grant: AdminGrant | None = None  # admin routes: what the caller may do (services/admin_access.py)
    api_key: ApiKey | None = None  # server API routes (auth="server"): the caller's key (api/server_auth.py)

    @property
    def me(self) -> User:
        assert self.user is not None
        return self.user

    async def audit(self, action: str, target: str, *, before: Any = None, after: Any = None) -> None:
        """Record an administrator's change (who, what, on what, from where, before/after)."""
        req = self.request
        ip = client_ip(req.remote, req.headers.getall("X-Forwarded-For", []), self.services.settings.trusted_proxies)
        await self.services.admin.audit(self.me.id, action, target, ip, before=before, after=after)

    def _spec(self, name: str) -> Query:
        return self.route.query_spec(name) if self.route is not None else Query(name)

    def query_int(self, name: str) -> int | None:
        raw = self.request.query.get(name)
        if raw in (None, ""):
            return None
        spec = self._spec(name)
        spec.check(name, raw)
        return int(raw)

    def query_str(self, name: str, default: str | None = None) -> str | None:
        raw = self.request.query.get(name)
        if raw is None:
            return default
        self._spec(name).check(name, raw)
        return raw


def check_request_text(request: web.Request, route: Route) -> None:
    """Before any handler runs: no NUL in the query string (`%00` decodes to one; nothing
    that reaches storage may carry it), even in a parameter nobody reads, and every
    declared path and query parameter within its declared type and bounds."""
    for key, value in request.query.items():
        if "\x00" in key or "\x00" in value:
            raise BadRequest(f"query parameter {key.replace(chr(0), '?')!r}: NUL characters are not allowed")
    route.check_params(request.query, request.match_info)


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token (Authorization: Bearer <access token>)")
    return token.strip()


def _wrap(
    route: Route, validate: bool, shadowed: dict[str, list[str]]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    label = f"{route.method} {route.path}"

    async def handler(request: web.Request) -> web.StreamResponse:
        if shadowed and request.path in shadowed:  # e.g. DELETE /friends/requests is not DELETE /friends/{user_id}
            raise web.HTTPMethodNotAllowed(request.method, shadowed[request.path])
        if route.auth == "server":  # a server API key, its allowlist, scope and rate; the call log
            return await server_gate(request, request.app[SERVICES], route, serve)
        return await serve(request, None)

    async def serve(request: web.Request, api_key: ApiKey | None) -> web.StreamResponse:
        check_request_text(request, route)
        services = request.app[SERVICES]
        user = None
        grant = None
        if route.auth and route.auth != "server":
            user = await services.accounts.authenticate(bearer_token(request))
            if services.customer_service is not None:  # anonymous visitors: customer service only
                await services.customer_service.check_route(user.id, route.path, route.method)
            if route.auth == "admin":
                grant = await services.admin.authorize(user, route.perm)
        body = await parse_body(request, route.body) if route.body is not None else None
        # the client's address for sensitive-word hits of names and announcements (services/sensitive_words.py)
        forwarded = request.headers.getall("X-Forwarded-For", [])
        REQUEST_IP.set(client_ip(request.remote, forwarded, services.settings.trusted_proxies))
        result = await route.handler(Call(request, services, user, body, route, grant, api_key))
        if isinstance(result, web.StreamResponse):
            if validate and isinstance(result, web.Response) and result.content_type == "application/json":
                assert isinstance(result.body, bytes)
                # a 2xx the route also declares (e.g. 201 created beside 200 updated) is its own
                expected = result.status if result.status in route.responses else route.status
                replies.check(label, result.status, expected, route.reply, result.body)
            return result
        body = orjson.dumps(result)
        if validate:
            replies.check(label, route.status, route.status, route.reply, body)
        return web.Response(body=body, status=route.status, content_type="application/json")

    handler.__name__ = route.handler.__name__
    return handler


def _shadowed(template: str, concrete: dict[str, list[str]]) -> dict[str, list[str]]:
    """The fixed paths a templated path would also match, with their methods. As OpenAPI
    resolves paths, a fixed path wins: /groups/search is never the group "search", so a
    method only /groups/{group_id} has is answered there with 405 and the fixed path's Allow."""
    if "{" not in template:
        return {}
    pattern = re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)))
    return {path: sorted(methods) for path, methods in concrete.items() if pattern.fullmatch(path)}


class _MalformedRequestFilter(logging.Filter):
    """aiohttp answers a request its parser rejects (a request line over 8 KiB, a bad
    header) with 400 before any middleware, and logs a full traceback at ERROR for each:
    anyone could flood the log. Such a record becomes one short WARNING line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and (exc.code or 400) < 500:
            peer = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.msg, record.args = (
                "malformed HTTP request from %s refused (%d): %.200s",
                (peer, exc.code, exc.message),
            )
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def mount(app: web.Application, table: RouteTable) -> None:
    """One aiohttp route per method: a path asked with a method it lacks gets 405 + Allow."""
    services = app.get(SERVICES)
    validate = bool(services is not None and services.settings.validate_replies)
    concrete: dict[str, list[str]] = {}
    for route in table.routes:
        if "{" not in route.path:
            concrete.setdefault(route.path, []).append(route.method)
    app[FIXED_PATHS] = {path: sorted(methods) for path, methods in concrete.items()}
    for route in table.routes:
        app.router.add_route(route.method, route.path, _wrap(route, validate, _shadowed(route.path, concrete)))
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, _MalformedRequestFilter) for f in server_log.filters):
        server_log.addFilter(_MalformedRequestFilter())


_HTTP_CODES = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 413: TooLarge}


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        if "\x00" in request.path:  # `%00`: no route or file name has one (files would raise ValueError)
            raise BadRequest("NUL characters are not allowed in a path")
        return await handler(request)
    except SemotError as exc:
        return json_response({"error": exc.to_wire()}, exc.http_status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        err = _HTTP_CODES.get(exc.status)
        code = err.code if err else ("bad_request" if exc.status < 500 else "internal")
        if isinstance(exc, web.HTTPMethodNotAllowed):
            # aiohttp lists every route the path matches; a fixed path answers for itself only
            fixed = request.app.get(FIXED_PATHS, {}).get(request.path)
            allowed = ", ".join(fixed or sorted(exc.allowed_methods))
            response = json_response(
                {"error": {"code": code, "message": f"{request.method} is not allowed here (allowed: {allowed})"}}, 405
            )
            response.headers["Allow"] = allowed
            return response
        return json_response({"error": {"code": code, "message": exc.reason}}, exc.status)
    except Exception as exc:
        if (outage := as_outage(exc)) is not None:  # Redis down or just back: retry, not a 500
            log.warning("%s %s met an outage: %r", request.method, request.path, exc)
            response = json_response({"error": outage.to_wire()}, outage.http_status)
            response.headers["Retry-After"] = str(outage.details["retry_after"])
            return response
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response({"error": {"code": "internal", "message": "internal error"}}, 500)
