"""Browser protections (issue 8, section 5): the security headers on every class of
response, and the web client and /docs working in a real browser under that policy with
zero CSP violations."""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, browser, direct, new_user, playwright_sync  # noqa: F401 (fixtures)
from tests.support.server import ServerProcess

WEB = Path(__file__).resolve().parents[2] / "src" / "semot" / "web"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("csp") / "data", {"SEMOT_ABUSE_LIMITS": "false"}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def framed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {
        "SEMOT_ABUSE_LIMITS": "false",
        "SEMOT_FRAME_ANCESTORS": "https://intranet.example.com, 'self'",
        "SEMOT_CSP_EXTRA": "img-src https://cdn.example.com; connect-src https://api.example.com",
    }
    srv = ServerProcess(tmp_path_factory.mktemp("csp-framed") / "data", env).start()
    yield srv
    srv.stop()


def head(url: str, method: str = "GET") -> tuple[int, Any]:
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers


def directives(csp: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def importmap_hash() -> str:
    page = (WEB / "index.html").read_bytes()
    body = re.search(rb'<script type="importmap">(.*?)</script>', page, re.DOTALL)
    assert body is not None
    return "'sha256-" + base64.b64encode(hashlib.sha256(body.group(1)).digest()).decode() + "'"


APP_PATHS = ["/", "/web/app/main.js", "/web/app.css", "/sw.js", "/sdk/semot.js", "/web/manifest.webmanifest", "/web/nope.js"]
DOCS_PATHS = ["/docs", "/docs/init.js", "/docs/static/swagger-ui.css"]
API_PATHS = ["/api/v1/me", "/api/v1/nope", "/healthz", "/openapi.json", "/metrics", "/nope"]


def test_every_class_of_response_carries_the_headers(server: ServerProcess) -> None:
    """Before: none of these headers on any response."""
    for path in APP_PATHS + DOCS_PATHS + API_PATHS:
        status, h = head(server.base + path)
        assert status in (200, 401, 404), (path, status)
        assert h["X-Content-Type-Options"] == "nosniff", path
        assert h["X-Frame-Options"] == "DENY", path
        assert h["Referrer-Policy"] == "no-referrer", path
        assert "camera=(self)" in h["Permissions-Policy"] and "geolocation=(self)" in h["Permissions-Policy"], path
        csp = directives(h["Content-Security-Policy"])
        assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"], path
        assert "'unsafe-inline'" not in csp.get("script-src", []), path

    app = directives(head(server.base + "/")[1]["Content-Security-Policy"])
    assert app["script-src"] == ["'self'", importmap_hash(), "'unsafe-eval'"]
    assert app["style-src"] == ["'self'", "'unsafe-inline'"]
    assert app["connect-src"] == ["'self'"] and app["worker-src"] == ["'self'"]
    assert "blob:" in app["img-src"] and "data:" in app["img-src"]

    docs = directives(head(server.base + "/docs")[1]["Content-Security-Policy"])
    assert docs["script-src"] == ["'self'"], "no eval for Swagger UI"

    for path in API_PATHS:
        api = directives(head(server.base + path)[1]["Content-Security-Policy"])
        assert api["default-src"] == ["'none'"], path


def test_frame_ancestors_and_extra_sources_are_configurable(framed_server: ServerProcess) -> None:
    for path in ("/", "/docs", "/api/v1/me"):
        _, h = head(framed_server.base + path)
        csp = directives(h["Content-Security-Policy"])
        assert csp["frame-ancestors"] == ["https://intranet.example.com", "'self'"], path
        assert "X-Frame-Options" not in h, "X-Frame-Options cannot list origins: CSP alone decides"
    app = directives(head(framed_server.base + "/")[1]["Content-Security-Policy"])
    assert app["img-src"][-1] == "https://cdn.example.com"
    assert app["connect-src"] == ["'self'", "https://api.example.com"]


# --------------------------------------------------------------------------- a real browser

WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watched:
    """A page whose console errors, page errors and CSP violation events are recorded."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
        self.context.add_init_script(WATCH_CSP)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def violations(self) -> list[str]:
        return list(self.page.evaluate("window.__csp || []"))

    def assert_clean(self) -> None:
        assert not self.violations(), self.violations()
        assert not self.errors, self.errors


def test_web_client_runs_under_the_policy(server: ServerProcess, browser: Any) -> None:
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    w = Watched(browser)
    try:
        response = w.page.goto(server.base + "/")
        assert response is not None and "Content-Security-Policy" in {k.title() for k in response.headers}
        w.page.fill("[data-testid=username]", alice)
        w.page.fill("[data-testid=password]", PASSWORD)
        w.page.click("[data-testid=submit]")
        w.page.wait_for_function("window.__semot && window.__semot.state.connection === 'open'")
        w.page.click("[data-testid=new-menu]")
        w.page.click("[data-testid=new-chat]")
        w.page.fill("[data-testid=new-chat-user]", bob)
        w.page.click("[data-testid=new-chat-start]")
        w.page.wait_for_selector(f"[data-testid=chat][data-conv='{direct(alice, bob)}']")
        w.page.fill("[data-testid=composer]", "under a strict CSP")
        w.page.press("[data-testid=composer]", "Enter")
        w.page.wait_for_selector("[data-testid=message][data-status=unread]")
        texts = w.page.eval_on_selector_all("[data-testid=chat] [data-testid=msg-text]", "els => els.map(e => e.textContent)")
        assert texts == ["under a strict CSP"]
        w.page.wait_for_timeout(500)  # the service worker's registration, late style updates
        w.assert_clean()
        # an inline script injected into the page is refused (and reported)
        w.page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__pwned = 1';
                                   document.body.appendChild(s); }""")
        w.page.wait_for_function("window.__csp.length > 0")
        assert w.page.evaluate("window.__pwned") is None
        assert all(v.startswith("script-src") for v in w.violations())
    finally:
        w.context.close()
    assert any("Content Security Policy" in e for e in w.errors), "the injected script was refused"


def test_docs_render_under_their_policy(server: ServerProcess, browser: Any) -> None:
    w = Watched(browser)
    try:
        w.page.goto(server.base + "/docs")
        w.page.wait_for_selector(".swagger-ui .info .title")
        assert "Semot API" in w.page.inner_text(".swagger-ui .info .title")
        w.page.wait_for_selector(".opblock-summary-path")  # the operations, from /openapi.json
        w.assert_clean()
    finally:
        w.context.close()
