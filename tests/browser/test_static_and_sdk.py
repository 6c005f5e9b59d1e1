"""The web client's files as the server serves them, the service worker, and the JS
SDK's own test suite (node --test), so that CI's pytest runs it too."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "semot" / "web"


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_web_files_are_served_with_the_right_types(server: ServerProcess) -> None:
    cases = {
        "/": "text/html",
        "/sw.js": "javascript",
        "/sdk/semot.js": "javascript",
        "/web/sdk/semot.js": "javascript",
        "/web/app/main.js": "javascript",
        "/web/app.css": "text/css",
        "/web/manifest.webmanifest": "manifest+json",
        "/web/vendor/element-plus/index.full.min.mjs": "javascript",
        "/web/vendor/vue/vue.esm-browser.prod.js": "javascript",
        "/web/icons/icon-192.png": "image/png",
    }
    for path, ctype in cases.items():
        status, headers, _ = get(server.base + path)
        assert status == 200, path
        assert ctype in headers["Content-Type"], (path, headers["Content-Type"])
        assert headers.get("Cache-Control") == "no-cache", path
    # the SDK is one file, served twice
    assert get(server.base + "/sdk/semot.js")[2] == (WEB / "sdk" / "semot.js").read_bytes()
    # nothing outside the folder, no listing
    for path in ("/web/", "/web/../app.py", "/web/%2e%2e/app.py", "/web/..%2fapp.py", "/web/nope.js"):
        assert get(server.base + path)[0] == 404, path


def test_service_worker_precaches_only_existing_files_and_never_api() -> None:
    sw = (WEB / "sw.js").read_text()
    shell = re.findall(r'^\s+"(/[^"]*)",?$', sw.split("const SHELL = [", 1)[1].split("];", 1)[0], re.M)
    assert shell and shell[0] == "/"
    for url in shell[1:]:
        assert url.startswith("/web/"), url
        assert (WEB / url.removeprefix("/web/")).is_file(), f"sw.js precaches a missing file: {url}"
    # every module of the app is in the shell, so the app opens offline
    for f in [*(WEB / "app").rglob("*.js"), *(WEB / "shared").rglob("*.js")]:
        assert f"/web/{f.relative_to(WEB).as_posix()}" in shell, f"add {f.name} to SHELL in sw.js"
    assert '"/api' not in sw and "/ws" not in sw.split("function isShell", 1)[1].split("}", 1)[0]


def test_no_v_html_and_no_cdn() -> None:
    for f in [*(WEB / "app").rglob("*.js"), *(WEB / "shared").rglob("*.js"), *(WEB / "admin").rglob("*.js")]:
        text = f.read_text()
        assert not re.search(r"\bv-html\s*=", text), f
        assert not re.search(r"\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write", text), f
    for f in [WEB / "index.html", WEB / "admin" / "index.html", *(WEB / "app").rglob("*.js"), *(WEB / "admin").rglob("*.js")]:
        assert not re.search(r"(src|href)=\"https?://", f.read_text()), f"external resource in {f}"


def test_the_app_opens_offline_from_the_service_worker(server: ServerProcess, open_tab: Any) -> None:
    tab = open_tab("nobody", login=False)
    page = tab.page
    page.wait_for_selector("[data-testid=submit]")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled: every shell file goes through the worker
    page.wait_for_selector("[data-testid=submit]")
    page.wait_for_function("!!navigator.serviceWorker.controller")
    page.wait_for_function(
        "caches.open('semot-shell-v1').then(c => c.keys()).then(k => k.length >= 20)", polling=200
    )
    tab.context.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-testid=submit]")
    assert page.locator("[data-testid=submit]").inner_text().strip() == "登录"
    tab.context.set_offline(False)
    # the API and the WebSocket are never answered from the cache
    assert page.evaluate("fetch('/healthz').then(r => r.ok)")
    tab.assert_no_console_errors(allow=lambda m: "ERR_INTERNET_DISCONNECTED" in m)


def _node_needs_flag(node: str) -> bool:
    out = subprocess.run([node, "-e", "process.stdout.write(typeof WebSocket)"], capture_output=True, text=True, timeout=30)
    return out.stdout.strip() != "function"


@pytest.mark.timeout(420)
def test_js_sdk_suite_passes() -> None:
    """Runs sdk/js/test/*.test.mjs against real servers started by the suite itself."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is missing in CI: the JS SDK tests must run")
        pytest.skip("node is not installed")
    cmd = [node]
    if _node_needs_flag(node):
        cmd.append("--experimental-websocket")
    # a stuck test fails on its own, with the suite's output, instead of hanging the run
    cmd += ["--test", "--test-timeout=90000", "--test-reporter=spec", "test/"]
    env = {**os.environ, "SEMOT_PYTHON": sys.executable}
    proc = subprocess.run(cmd, cwd=ROOT / "sdk" / "js", env=env, capture_output=True, text=True, timeout=400)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    m = re.search(r"(?:ℹ|#) pass (\d+)", out)
    assert m and int(m.group(1)) >= 25, out[-3000:]
    assert re.search(r"(?:ℹ|#) fail 0", out), out[-3000:]
