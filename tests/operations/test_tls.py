"""TLS on the serving port (semot/tls.py): one real `semot serve --tls-cert --tls-key`
with a certificate made by `semot tls self-signed`, talked to by real TLS clients:
httpx, the `websockets` library (wss), raw ssl sockets that offer old protocols or
weak ciphers, and Chromium trusting the certificate by its SPKI pin.

Sync tests on purpose: the Chromium test's Playwright (sync API) shares the module.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, playwright_sync  # noqa: F401 - a fixture
from tests.operations.tls_support import TlsServer, self_signed, trusting

PASSWORD = "correct-horse-9"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("tls")
    cert, key = root / "cert.pem", root / "key.pem"
    pin = self_signed(cert, key)
    return {"root": root, "cert": cert, "key": key, "pin": pin}


@pytest.fixture(scope="module")
def server(pki: dict[str, Any]) -> Iterator[TlsServer]:
    srv = TlsServer(pki["root"] / "data", pki["cert"], pki["key"]).start()
    yield srv
    srv.kill()


def _client(pki: dict[str, Any]) -> httpx.Client:
    return httpx.Client(verify=trusting(pki["cert"]), timeout=20)


def _account(server: TlsServer, pki: dict[str, Any]) -> tuple[str, str]:
    name = f"tls{uuid.uuid4().hex[:8]}"
    with _client(pki) as c:
        r = c.post(server.base + "/api/v1/auth/register", json={"username": name, "password": PASSWORD})
        assert r.status_code == 201, r.text
        r = c.post(server.base + "/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return r.json()["user_id"], r.json()["access_token"]


def _call(ws: ClientConnection, t: str, **fields: Any) -> dict[str, Any]:
    rid = uuid.uuid4().hex[:8]
    ws.send(json.dumps({"t": t, "rid": rid, **fields}))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        frame = json.loads(ws.recv(timeout=20))
        if frame.get("rid") == rid:
            assert frame.get("ok"), frame
            return dict(frame.get("data") or {})
    raise AssertionError(f"no reply to {t}")


@contextmanager
def _wss(server: TlsServer, pki: dict[str, Any], token: str) -> Iterator[ClientConnection]:
    with ws_connect(server.ws_url, ssl=trusting(pki["cert"]), open_timeout=20) as ws:
        _call(ws, "auth", token=token, device={"id": uuid.uuid4().hex[:8], "platform": "sdk"})
        yield ws


def _peer_cert(port: int, cert: Path) -> bytes:
    """The DER certificate a new handshake is given (trusting only `cert`: no check)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, ctx.wrap_socket(raw) as s:
        der = s.getpeercert(binary_form=True)
    assert der is not None
    return der


def _der(cert: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.read_text())


def test_https_and_wss_share_the_port(server: TlsServer, pki: dict[str, Any]) -> None:
    with _client(pki) as c:
        r = c.get(server.base + "/healthz")
        assert r.status_code == 200 and r.json()["status"] == "ok"
        assert r.http_version == "HTTP/1.1"
    a, token_a = _account(server, pki)
    b, token_b = _account(server, pki)
    with _wss(server, pki, token_a) as wa, _wss(server, pki, token_b) as wb:
        ack = _call(wa, "send", cid=uuid.uuid4().hex, to=b, kind="text", body={"text": "over wss"})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            frame = json.loads(wb.recv(timeout=20))
            if frame.get("t") == "msg":
                assert frame["body"] == {"text": "over wss"} and frame["from"] == a and frame["seq"] == ack["seq"]
                break
        else:
            raise AssertionError("message not pushed over wss")
    # plain HTTP on the TLS port is not served
    with pytest.raises(httpx.HTTPError), httpx.Client(timeout=5) as plain:
        plain.get(f"http://127.0.0.1:{server.port}/healthz")


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")  # offered on purpose
def test_only_tls12_and_13_with_modern_ciphers(server: TlsServer, pki: dict[str, Any]) -> None:
    def handshake(ctx: ssl.SSLContext) -> tuple[str | None, str | None]:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            cipher = s.cipher()
            return s.version(), cipher[0] if cipher else None

    assert handshake(trusting(pki["cert"]))[0] == "TLSv1.3"  # preferred when the client has it

    def old_client(version: ssl.TLSVersion, ciphers: str) -> ssl.SSLContext:
        # a client that really offers what the server must refuse (below OpenSSL's own
        # default security level, so a refusal comes from the server, not from here)
        ctx = trusting(pki["cert"])
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = version
        ctx.set_ciphers(ciphers + ":@SECLEVEL=0")
        return ctx

    def refused_by_server(ctx: ssl.SSLContext) -> None:
        # the client sent its hello and the server ended the handshake (an alert or a
        # close), as opposed to this client declining to offer anything
        with pytest.raises(ssl.SSLError) as exc:
            handshake(ctx)
        reason = str(exc.value).upper()
        assert any(r in reason for r in ("PROTOCOL VERSION", "HANDSHAKE FAILURE", "UNEXPECTED_EOF")), exc.value
        assert "NO_PROTOCOLS_AVAILABLE" not in reason and "NO_CIPHERS" not in reason, exc.value

    refused_by_server(old_client(ssl.TLSVersion.TLSv1_1, "ALL"))  # TLS 1.0 / 1.1
    # TLS 1.2 offering only CBC / SHA-1 / static-RSA suites
    refused_by_server(old_client(ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-SHA:AES128-SHA:AES256-SHA256"))
    version, cipher = handshake(old_client(ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256"))
    assert (version, cipher) == ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256")


def test_unusable_certificate_stops_the_start_with_a_message(pki: dict[str, Any], tmp_path: Path) -> None:
    def serve(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEMOT_")}
        return subprocess.run([sys.executable, "-m", "semot", "serve", "--port", "0", "--data-dir", str(tmp_path / "d"),
                               *args], capture_output=True, text=True, env=env, timeout=120, check=False)

    out = serve("--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", str(pki["key"]))
    assert out.returncode == 2 and "TLS file not found" in out.stderr and "Traceback" not in out.stderr, out.stderr
    other_key = tmp_path / "other-key.pem"
    self_signed(tmp_path / "other-cert.pem", other_key)
    out = serve("--tls-cert", str(pki["cert"]), "--tls-key", str(other_key))  # a key of another certificate
    assert out.returncode == 2 and "cannot use the TLS certificate" in out.stderr, out.stderr
    out = serve("--tls-cert", str(pki["cert"]))
    assert out.returncode == 2 and "tls_cert and tls_key go together" in out.stderr, out.stderr


def test_taken_redirect_port_stops_the_start_with_a_message(pki: dict[str, Any], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("SEMOT_")},
               "SEMOT_TLS_REDIRECT_PORT": str(port)}
        out = subprocess.run(
            [sys.executable, "-m", "semot", "serve", "--port", "0", "--data-dir", str(tmp_path / "d"),
             "--tls-cert", str(pki["cert"]), "--tls-key", str(pki["key"])],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )
    assert out.returncode == 2, out.stderr
    assert f"cannot listen on 127.0.0.1:{port} for the HTTP-to-HTTPS redirect" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr + out.stdout, out.stderr


def test_http_port_redirects_to_https(server: TlsServer) -> None:
    with httpx.Client(timeout=10) as c:
        r = c.get(f"http://127.0.0.1:{server.redirect_port}/admin/?tab=users")
        assert r.status_code == 308
        assert r.headers["location"] == f"https://127.0.0.1:{server.port}/admin/?tab=users"
        r = c.post(f"http://localhost:{server.redirect_port}/api/v1/auth/login", json={})
        assert r.status_code == 308  # the method and body are kept by a 308
        assert r.headers["location"] == f"https://localhost:{server.port}/api/v1/auth/login"


def test_sighup_reloads_the_certificate_without_dropping_connections(server: TlsServer, pki: dict[str, Any]) -> None:
    _, token = _account(server, pki)
    b, _ = _account(server, pki)
    old = _der(pki["cert"])
    assert _peer_cert(server.port, pki["cert"]) == old
    with _wss(server, pki, token) as ws:
        # a broken pair is refused: the old certificate keeps serving
        good_cert = pki["cert"].read_bytes()
        pki["cert"].write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
        server.hup()
        deadline = time.monotonic() + 30
        while "TLS certificate NOT reloaded" not in server.log():
            assert time.monotonic() < deadline, server.log()[-2000:]
            time.sleep(0.1)
        pki["cert"].write_bytes(good_cert)
        assert _peer_cert(server.port, pki["cert"]) == old

        new_pin = self_signed(pki["cert"], pki["key"])  # a renewal: new key, new certificate
        assert new_pin != pki["pin"]
        new = _der(pki["cert"])
        server.hup()
        deadline = time.monotonic() + 30
        while _peer_cert(server.port, pki["cert"]) != new:
            assert time.monotonic() < deadline, "new certificate not served after SIGHUP"
            time.sleep(0.1)
        pki["pin"] = new_pin
        # the socket opened under the old certificate is still alive and working
        data = _call(ws, "send", cid=uuid.uuid4().hex, to=b, kind="text", body={"text": "still here"})
        assert data["seq"] >= 1
    with _client(pki) as c:  # and new clients verify against the new certificate
        assert c.get(server.base + "/healthz").status_code == 200


def _healthcheck(port: int, **env: str) -> subprocess.CompletedProcess[str]:
    """deploy/Dockerfile's HEALTHCHECK command, as the image runs it (its python)."""
    text = (Path(__file__).resolve().parents[2] / "deploy" / "Dockerfile").read_text()
    match = re.search(r"^HEALTHCHECK .*\\\n\s*CMD (\[.*\])$", text, re.M)
    assert match, "no HEALTHCHECK CMD [...] in deploy/Dockerfile"
    argv = json.loads(match.group(1))
    assert argv[0] == "python"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SEMOT_")}
    return subprocess.run([sys.executable, *argv[1:]], env={**clean, "SEMOT_PORT": str(port), **env},
                          capture_output=True, text=True, timeout=30)


def test_docker_healthcheck_speaks_https_when_tls_is_on(server: TlsServer, pki: dict[str, Any]) -> None:
    done = _healthcheck(server.port, SEMOT_TLS_CERT=str(pki["cert"]), SEMOT_TLS_KEY=str(pki["key"]))
    assert done.returncode == 0, done.stderr
    assert _healthcheck(server.port).returncode != 0  # plain http to the TLS port: unhealthy, as it should be
    # without TLS: plain http, as before
    class Healthz(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Healthz)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    try:
        done = _healthcheck(plain.server_address[1])
        assert done.returncode == 0, done.stderr
    finally:
        plain.shutdown()


def _served(ctx: ssl.SSLContext) -> bytes:
    """The DER certificate a handshake with the server context `ctx` is given (in memory)."""
    client = ssl.create_default_context()
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    c, s = client.wrap_bio(c_in, c_out), ctx.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(20):
        done = 0
        for side in (c, s):
            try:
                side.do_handshake()
                done += 1
            except ssl.SSLWantReadError:
                pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if done == 2:
            break
    der = c.getpeercert(binary_form=True)
    assert der is not None
    return der


def test_reload_reads_the_pair_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """certbot swapping the files while a reload runs (the certificate already new, the
    key not yet) never gives the live context a certificate without its key: what was
    checked is what is loaded."""
    from semot import tls

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    tls.self_signed(cert, key, ["old.test"])
    reloader = tls.TlsReloader(tls.server_context(cert, key), cert, key)
    tls.self_signed(cert, key, ["new.test"])  # the renewal: a new pair
    renewed = _der(cert)
    mid_swap = tmp_path / "next"
    tls.self_signed(mid_swap / "cert.pem", mid_swap / "key.pem", ["next.test"])
    real, calls = tls._load_pair, []

    def swap_after_check(ctx: ssl.SSLContext, *args: Any) -> None:
        real(ctx, *args)
        calls.append(ctx)
        if len(calls) == 1:  # after the scratch check: the next certificate lands, its key not yet
            cert.write_bytes((mid_swap / "cert.pem").read_bytes())

    monkeypatch.setattr(tls, "_load_pair", swap_after_check)
    assert reloader.reload() is True
    assert len(calls) == 2 and calls[1] is reloader.context
    assert _served(reloader.context) == renewed


def test_chromium_trusts_the_pinned_certificate(server: TlsServer, pki: dict[str, Any], playwright_sync: Any) -> None:
    """The web client's origin over HTTPS in Chromium, with the certificate trusted by
    its SPKI pin (no certificate-error bypass): the page loads, its fetch and its wss
    WebSocket to the same origin work under the page's CSP."""
    _, token = _account(server, pki)
    browser = playwright_sync.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={pki['pin']}"],
    )
    try:
        page = browser.new_page()
        response = page.goto(server.base + "/")
        assert response is not None and response.ok
        assert page.evaluate("location.protocol") == "https:"
        result = page.evaluate(
            """async (token) => {
                const health = await (await fetch('/healthz')).json();
                const reply = await new Promise((resolve, reject) => {
                    const ws = new WebSocket(`wss://${location.host}/ws`);
                    ws.onopen = () => ws.send(JSON.stringify({t: 'auth', rid: 'r1', token,
                                                              device: {id: 'chromium', platform: 'web'}}));
                    ws.onmessage = (e) => { const f = JSON.parse(e.data); if (f.rid === 'r1') { ws.close(); resolve(f); } };
                    ws.onerror = () => reject(new Error('wss failed'));
                    setTimeout(() => reject(new Error('wss timed out')), 20000);
                });
                return {health: health.status, ok: reply.ok};
            }""",
            token,
        )
        assert result == {"health": "ok", "ok": True}
    finally:
        browser.close()
    # the pin is what makes it trusted: without it Chromium refuses the certificate
    browser = playwright_sync.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        with pytest.raises(Exception, match="ERR_CERT"):
            browser.new_page().goto(server.base + "/")
    finally:
        browser.close()
