"""Helpers for the deploy/ tests: the files' paths, a throwaway certificate, and Debian's
nginx run on a site file of deploy/ rewritten for loopback ports (nothing else changed)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def require_nginx() -> str:
    """The nginx binary; skip locally without it, fail in CI (.ci/run installs it)."""
    if not Path(NGINX).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed (.ci/run installs Debian's nginx)")
        pytest.skip("nginx is not installed")
    return NGINX


def self_signed(dir_: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost made by the openssl command (cert, key)."""
    cert, key = dir_ / "cert.pem", dir_ / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def site_for_test(
    dir_: Path, cert: Path, key: Path, *, upstreams: list[str] | None = None, http_port: int = 80, https_port: int = 443
) -> Path:
    """deploy/nginx/semot.conf with the certificate, ports and node addresses of this
    test; everything else (proxy settings, TLS policy, stickiness) exactly as shipped."""
    site = (DEPLOY / "nginx" / "semot.conf").read_text()
    site = site.replace("/etc/ssl/semot/fullchain.pem", str(cert)).replace("/etc/ssl/semot/privkey.pem", str(key))
    site = site.replace("include snippets/semot-proxy.conf;", f"include {DEPLOY / 'nginx' / 'semot-proxy.conf'};")
    site = re.sub(r"^\s*listen \[::\]:.*$\n", "", site, flags=re.M)  # the test machine may lack IPv6
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    site = site.replace("root /var/www/html;", f"root {dir_};")
    if upstreams is not None:
        servers = "".join(f"    server {u} max_fails=2 fail_timeout=10s;\n" for u in upstreams)
        site, n = re.subn(r"(?:^    server 10\.0\.0\.\d+:8080 .*\n)+", servers, site, flags=re.M)
        assert n == 1, "the upstream block of deploy/nginx/semot.conf changed: update this test"
    path = dir_ / "semot.conf"
    path.write_text(site)
    return path


def nginx_main_conf(dir_: Path, site: Path) -> Path:
    """A main nginx.conf that includes `site`, with every path under `dir_` (no root
    files touched, no daemon)."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers as nobody could not read the tmp dir
    temp = "".join(
        f"    {name}_temp_path {dir_ / name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = dir_ / "nginx.conf"
    conf.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {dir_ / 'nginx.pid'};\nerror_log {dir_ / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n    access_log {dir_ / 'access.log'};\n{temp}    include {site};\n}}\n"
    )
    return conf


def nginx_test(conf: Path, dir_: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on a main configuration."""
    return subprocess.run(
        [require_nginx(), "-t", "-p", str(dir_), "-e", str(dir_ / "error.log"), "-c", str(conf)],
        capture_output=True, text=True, timeout=30,
    )
