"""Browser protections: Content-Security-Policy and its companion headers on every response.

Three policies, by what a response is:

- the web client (`/`, `/web/...`, `/sdk/semot.js`, `/sw.js`) and the admin console
  (`/admin/...`, hashed from its own page): scripts from this origin only; no inline
  script except the page's import map (import maps must be inline), which is allowed
  by its sha256 hash, computed from index.html (again whenever the file
  changes). The one exception is `'unsafe-eval'`: the client ships its Vue templates as
  strings and Vue compiles them in the browser with `new Function` (there is no CSP-safe
  Vue 3 compiler, and no build step by design). Injected markup still cannot run script:
  no inline scripts or event-handler attributes, and user content is only ever
  interpolated as text, never compiled as a template. Styles allow `'unsafe-inline'`:
  Element Plus and Vue set style attributes; CSS cannot run script;
- the API viewer (`/docs...`, Swagger UI): no eval, no inline script;
- everything else (the JSON API, /healthz, /metrics, /openapi.json, errors): nothing may
  load at all (`default-src 'none'`), as OWASP recommends for APIs.

All three forbid framing unless `frame_ancestors` lists origins (a later embedded
widget needs that), and come with nosniff, `Referrer-Policy: no-referrer` (a link
opened from a chat must not tell an outside site the address of a private server) and a
Permissions-Policy that keeps the camera, microphone and screen capture (calls come
later) and geolocation (sending one's position) for this origin, and denies the rest.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)

# geolocation=(self): the web client's location dialog asks for the user's position
# (issue 11); still refused to any embedded frame of another origin.
PERMISSIONS_POLICY = (
    "camera=(self), microphone=(self), display-capture=(self), geolocation=(self), payment=(), usb=()"
)


class InlineScripts:
    """The CSP hash sources of a page's inline scripts, recomputed when the file changes."""

    def __init__(self, page: Path) -> None:
        self._page = page
        self._stamp: tuple[int, int] | None = None
        self._sources: list[str] = []

    def sources(self) -> list[str]:
        try:
            st = self._page.stat()
        except OSError:
            return []
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            raw = self._page.read_bytes()
            self._sources = [
                "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
                for m in _INLINE_SCRIPT.finditer(raw)
            ]
            self._stamp = stamp
        return self._sources


def _render(directives: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} {' '.join(sources)}".strip() for name, sources in directives.items())


def _merge(directives: dict[str, list[str]], extra: str) -> dict[str, list[str]]:
    """Add the `csp_extra` sources ("img-src https://cdn.example.com; ...") to a policy."""
    merged = {k: list(v) for k, v in directives.items()}
    for part in extra.split(";"):
        words = part.split()
        if not words:
            continue
        name, sources = words[0], words[1:]
        target = merged.setdefault(name, list(merged.get("default-src", [])))
        if target == ["'none'"]:
            target.clear()
        target.extend(s for s in sources if s not in target)
    return merged


class SecurityHeaders:
    """Builds the policies once (the web page's import-map hash stays current) and sets
    the headers on every response, errors included."""

    def __init__(
        self, index_html: Path, *, frame_ancestors: list[str], csp_extra: str = "", admin_html: Path | None = None
    ) -> None:
        self._inline = InlineScripts(index_html)
        # the admin console (/admin/) gets the web client's policy with its own page's hashes
        self._admin_inline = InlineScripts(admin_html) if admin_html is not None else None
        self._admin_hashes: list[str] | None = None
        self._admin_policy = ""
        self._ancestors = frame_ancestors or ["'none'"]
        self._extra = self._base_extra = csp_extra
        self._app_hashes: list[str] | None = None
        self._app_policy = ""
        common = {
            "frame-ancestors": self._ancestors,
            "base-uri": ["'none'"],
            "object-src": ["'none'"],
        }
        self.docs_policy = _render(
            _merge(
                {
                    "default-src": ["'self'"],
                    "script-src": ["'self'"],
                    "style-src": ["'self'", "'unsafe-inline'"],
                    "img-src": ["'self'", "data:"],
                    "connect-src": ["'self'"],
                    "form-action": ["'self'"],
                    **common,
                },
                csp_extra,
            )
        )
        self.api_policy = _render({"default-src": ["'none'"], "form-action": ["'none'"], **common})
        self._common = common
        self._frame_options = "DENY" if self._ancestors == ["'none'"] else None

    def _page_policy(self, hashes: list[str]) -> str:
        return _render(
            _merge(
                {
                    "default-src": ["'self'"],
                    "script-src": ["'self'", *hashes, "'unsafe-eval'"],
                    "style-src": ["'self'", "'unsafe-inline'"],
                    "img-src": ["'self'", "data:", "blob:"],
                    "media-src": ["'self'", "blob:"],
                    "font-src": ["'self'", "data:"],
                    "connect-src": ["'self'"],  # CSP 3: 'self' covers ws:/wss: to this host
                    "worker-src": ["'self'"],
                    "manifest-src": ["'self'"],
                    "form-action": ["'self'"],
                    **self._common,
                },
                self._extra,
            )
        )

    def add_page_sources(self, sources: str) -> None:
        """Sources the client configuration needs in the pages' policies, in csp_extra's
        syntax (its H5 pages' origins in frame-src, an outside logo's in img-src;
        services/client_settings.csp_sources); replaces the previous ones."""
        self._extra = f"{self._base_extra}; {sources}" if sources else self._base_extra
        self._app_hashes = self._admin_hashes = None  # rebuilt at the next response

    def app_policy(self) -> str:
        """The web client's policy; rebuilt only when index.html's inline scripts change."""
        hashes = self._inline.sources()
        if hashes != self._app_hashes:
            self._app_hashes = hashes
            self._app_policy = self._page_policy(hashes)
        return self._app_policy

    def admin_policy(self) -> str:
        """The admin console's policy: the web client's, with admin/index.html's hashes."""
        if self._admin_inline is None:
            return self.app_policy()
        hashes = self._admin_inline.sources()
        if hashes != self._admin_hashes:
            self._admin_hashes = hashes
            self._admin_policy = self._page_policy(hashes)
        return self._admin_policy

    def policy_for(self, path: str) -> str:
        if path == "/" or path.startswith("/web/") or path in ("/sw.js", "/sdk/semot.js", "/sdk/uploads.js", "/sdk/changes.js"):
            return self.app_policy()
        if path == "/docs" or path.startswith("/docs/"):
            return self.docs_policy
        if path == "/admin" or path.startswith("/admin/"):
            return self.admin_policy()
        return self.api_policy

    def apply(self, path: str, response: web.StreamResponse) -> None:
        h = response.headers
        h.setdefault("Content-Security-Policy", self.policy_for(path))
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if self._frame_options:
            h.setdefault("X-Frame-Options", self._frame_options)

    def middleware(self) -> Middleware:
        @web.middleware
        async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
            try:
                response = await handler(request)
            except web.HTTPException as exc:  # raised past every other middleware (e.g. 404 of a static file)
                self.apply(request.path, exc)
                raise
            if not response.prepared:  # a WebSocket or a stream has sent its headers already
                self.apply(request.path, response)
            return response

        return security_headers
