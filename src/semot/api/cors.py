"""Cross-origin access (CORS) to the client API and the JavaScript SDK (docs/integration.md,
"Cross-origin (CORS)").

A page on another origin (a shop with the customer-service widget, an intranet portal
using the JS SDK) may call `/api/v1/...` and load `/sdk/*.js` when its origin is allowed:

- listed in the `cors_origins` setting;
- named by a dynamic source (`add_source`, e.g. the customer-service widget's allowed
  origins, set in the console);
- `*` in `cors_origins`: any origin.

Never with credentials (no `Access-Control-Allow-Credentials`): the API takes bearer
tokens, which need none, and the only cookie is the web client's refresh cookie
(`/api/v1/auth`). Credentials would let a listed origin's scripts (or an XSS there)
refresh with that cookie and read fresh access tokens; its JSON-only CSRF guard leans
on the preflight, which CORS would pass. So a browser never sends or accepts this
server's cookies on a cross-origin call.

Everything else gets no CORS headers (the browser keeps the answer from the page), and a
preflight from it a 403. The server API (`/api/server/...`, called by backends with a
secret key) and the admin API never answer cross-origin: they are outside the scope
below, whatever the settings say. Every answer in scope carries `Vary: Origin`, so a
shared cache never hands one origin's answer to another.

The preflight (OPTIONS with Access-Control-Request-Method) is answered here, before
routing (the route table has no OPTIONS routes, except tus's own discovery, which a
plain OPTIONS still reaches). The headers of every other answer are added just before
it is sent (`on_response_prepare`), so errors, file downloads and tus replies get them too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from aiohttp.typedefs import Middleware

from .routing import json_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Source = Callable[[], Iterable[str]]

# what CORS covers: the client API and the JS SDK's files
API_PREFIX = "/api/v1/"
SDK_PATHS = frozenset({"/sdk/semot.js", "/sdk/uploads.js", "/sdk/changes.js"})
METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
# request headers a cross-origin script may send: JSON calls with a bearer token, and tus uploads
ALLOW_HEADERS = (
    "Authorization, Content-Type, Accept, Accept-Language, If-None-Match, If-Match, Range, X-Requested-With, "
    "Tus-Resumable, Upload-Length, Upload-Offset, Upload-Metadata, Upload-Checksum, Upload-Concat, "
    "Upload-Defer-Length, X-HTTP-Method-Override"
)
# answer headers it may read (beyond the CORS-safelisted ones): tus, downloads, rate limits
EXPOSE_HEADERS = (
    "Location, Retry-After, ETag, Content-Range, Accept-Ranges, Content-Length, Content-Disposition, "
    "Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm, Upload-Offset, "
    "Upload-Length, Upload-Expires, Upload-Metadata"
)


def in_scope(path: str) -> bool:
    return path.startswith(API_PREFIX) or path in SDK_PATHS


def is_preflight(request: web.Request) -> bool:
    return (
        request.method == "OPTIONS"
        and bool(request.headers.get("Origin"))
        and "Access-Control-Request-Method" in request.headers
        and in_scope(request.path)
    )


def _vary(response: web.StreamResponse, *names: str) -> None:
    have = {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}
    add = [n for n in names if n.lower() not in have]
    if add:
        current = response.headers.get("Vary")
        response.headers["Vary"] = ", ".join([current, *add] if current else add)


class Cors:
    """The allowed origins (the setting's, plus dynamic sources) and the aiohttp hooks."""

    def __init__(self, origins: Iterable[str], *, max_age_s: int = 600) -> None:
        listed = {o.lower() for o in origins}
        self._any = "*" in listed
        self._listed = frozenset(listed - {"*"})
        self._max_age = str(max_age_s)
        self._sources: list[Source] = []

    def add_source(self, source: Source) -> Callable[[], None]:
        """Also allow the origins `source()` returns, asked at every
        cross-origin request: it must be cheap and synchronous (a cached set). Returns a
        function that removes it."""
        self._sources.append(source)

        def remove() -> None:
            if source in self._sources:
                self._sources.remove(source)

        return remove

    def check(self, origin: str) -> bool:
        """Whether a request's Origin header is allowed."""
        origin = origin.lower()
        if origin in self._listed or self._any:
            return True
        return any(origin in {o.lower() for o in source()} for source in self._sources)

    def _allow(self, response: web.StreamResponse, origin: str) -> None:
        response.headers["Access-Control-Allow-Origin"] = origin  # never Allow-Credentials (above)

    def preflight(self, request: web.Request, origin: str) -> web.StreamResponse:
        allowed = self.check(origin)
        method = request.headers.get("Access-Control-Request-Method", "").upper()
        if not allowed or method not in METHODS.split(", "):
            why = "this origin may not call the API" if not allowed else f"method {method!r} is not allowed"
            response = json_response({"error": {"code": "forbidden", "message": f"CORS: {why}"}}, 403)
        else:
            response = web.Response(status=204)
            self._allow(response, origin)
            response.headers["Access-Control-Allow-Methods"] = METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            response.headers["Access-Control-Max-Age"] = self._max_age
        _vary(response, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
        return response

    def middleware(self) -> Middleware:
        @web.middleware
        async def cors_preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
            if is_preflight(request):
                return self.preflight(request, request.headers["Origin"])
            return await handler(request)

        return cors_preflight

    async def on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        """Every answer in scope: Vary: Origin; an allowed origin's also the CORS headers."""
        if not in_scope(request.path) or is_preflight(request):
            return  # out of scope, or a preflight (answered complete by the middleware)
        _vary(response, "Origin")
        origin = request.headers.get("Origin")
        if origin and self.check(origin):
            self._allow(response, origin)
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS

    def install(self, app: web.Application) -> None:
        """Add the headers to every answer (the preflight middleware is placed by app.py,
        after the security headers' and before the error middleware)."""
        app[CORS] = self
        app.on_response_prepare.append(self.on_prepare)


CORS: web.AppKey[Cors] = web.AppKey("cors", Cors)
