"""The files of deploy/ as shipped: nginx accepts the site, systemd the unit, and every
setting the compose file and the Dockerfile pass is one the server knows."""

from __future__ import annotations

import http.server
import ipaddress
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from semot.config import Settings, load_settings
from semot.services.client_ip import client_ip
from tests.operations.deploy_support import (
    DEPLOY,
    nginx_main_conf,
    nginx_test,
    require_nginx,
    self_signed,
    site_for_test,
)
from tests.support.server import free_port

SETTINGS = {f"SEMOT_{name.upper()}" for name in Settings.model_fields}


def test_nginx_accepts_the_site_file(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    site = site_for_test(tmp_path, cert, key)  # only the certificate and snippet paths are changed
    done = nginx_test(nginx_main_conf(tmp_path, site), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
    shipped = (DEPLOY / "nginx" / "semot.conf").read_text()
    assert "ip_hash;" in shipped and "ssl_protocols TLSv1.2 TLSv1.3;" in shipped


def test_nginx_accepts_the_compose_site(tmp_path: Path) -> None:
    """The compose file's nginx.conf, with its node names pointed at loopback (nginx -t
    resolves upstream host names)."""
    conf = (DEPLOY / "compose" / "nginx.conf").read_text()
    conf = re.sub(r"server node\d:8080", "server 127.0.0.1:8080", conf)
    conf = conf.replace("include snippets/semot-proxy.conf;", f"include {DEPLOY / 'nginx' / 'semot-proxy.conf'};")
    conf = conf.replace("listen 80;", "listen 127.0.0.1:8080;")
    site = tmp_path / "compose-site.conf"
    site.write_text(conf)
    done = nginx_test(nginx_main_conf(tmp_path, site), tmp_path)
    assert done.returncode == 0, done.stderr


def test_systemd_unit_is_valid_and_hardened(tmp_path: Path) -> None:
    unit = (DEPLOY / "systemd" / "semot.service").read_text()
    for setting in ("User=semot", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                    "PrivateTmp=yes", "CapabilityBoundingSet=\n", "KillSignal=SIGTERM", "LimitNOFILE="):
        assert setting in unit, setting
    # getaddrinfo's netlink query allowed; where to open a backup_dir outside the state directory
    assert re.search(r"^RestrictAddressFamilies=.*\bAF_NETLINK\b", unit, re.M)
    assert re.search(r"^#ReadWritePaths=/", unit, re.M)
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # point ExecStart at this environment's `semot` so that verify can check it exists
    semot = Path(sys.executable).parent / "semot"
    local = tmp_path / "semot.service"
    local.write_text(unit.replace("/opt/semot/bin/semot", str(semot)))
    done = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True, timeout=60)
    problems = [line for line in done.stderr.splitlines() if "semot.service" in line]
    assert done.returncode == 0 and not problems, done.stderr


def test_compose_file_runs_three_nodes_with_valid_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"node1", "node2", "node3", "postgres", "redis", "nginx"} <= set(services)
    for name in ("node1", "node2", "node3"):
        env = services[name]["environment"]
        unknown = set(env) - SETTINGS
        assert not unknown, f"{name}: not settings of the server: {unknown}"
        # the values as the server reads them from its environment (.env's secrets filled in)
        for key, value in env.items():
            monkeypatch.setenv(key, re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "x" * 48, str(value)))
        monkeypatch.setenv("SEMOT_DATA_DIR", str(tmp_path))
        settings = load_settings()
        assert settings.redis_url == "redis://redis:6379/0"
        # only nginx's own (fixed) address is trusted: never a range clients may be in
        nginx_ip = services["nginx"]["networks"]["default"]["ipv4_address"]
        assert [str(n) for n in settings.trusted_proxies] == [f"{nginx_ip}/32"]
        subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
        assert ipaddress.ip_address(nginx_ip) in ipaddress.ip_network(subnet)
        assert env["SEMOT_DATABASE_URL"].startswith("postgresql://") and env["SEMOT_REDIS_URL"].startswith("redis://")
        assert "files:/files" in services[name]["volumes"]  # one files store for all nodes
    assert "./nginx.conf:/etc/nginx/conf.d/default.conf:ro" in services["nginx"]["volumes"]


def test_dockerfile_is_slim_non_root_with_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim", text, re.M)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and not users[-1].startswith(("root", "0")), "the image must run as a non-root user"
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", text, re.M)
    env = set(re.findall(r"\b(SEMOT_[A-Z_]+)=", text))
    assert env and env <= SETTINGS, env - SETTINGS


def test_compose_nginx_passes_the_address_it_sees(tmp_path: Path) -> None:
    """The compose nginx (with the shared proxy snippet) in front of a backend that echoes
    the X-Forwarded-For it gets: a client's own X-Forwarded-For never reaches the node, so
    its trusted-proxy walk ends at the address nginx saw."""
    class Echo(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(self.headers.get_all("X-Forwarded-For") or []).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    echo = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    port = free_port()
    conf = (DEPLOY / "compose" / "nginx.conf").read_text()
    conf = re.sub(r"server node\d:8080", f"server 127.0.0.1:{echo.server_address[1]}", conf)
    conf = conf.replace("include snippets/semot-proxy.conf;", f"include {DEPLOY / 'nginx' / 'semot-proxy.conf'};")
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = tmp_path / "compose-site.conf"
    site.write_text(conf)
    main = nginx_main_conf(tmp_path, site)
    proc = subprocess.Popen([require_nginx(), "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(main)])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/x",
                                             headers={"X-Forwarded-For": "203.0.113.9, 10.1.2.3"})
                with urllib.request.urlopen(req, timeout=5) as r:
                    forwarded = json.loads(r.read())
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "error.log").read_text()
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(10)
        echo.shutdown()
    assert forwarded == ["127.0.0.1"]
    # the node trusting this nginx (here on loopback, as a client may be in its range) sees the client
    assert client_ip("127.0.0.1", forwarded, [ipaddress.ip_network("127.0.0.1/32")]) == "127.0.0.1"
