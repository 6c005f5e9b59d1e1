"""Small helpers the single sign-on tests share: plain HTTP calls against a running
`semot serve`, the break-glass administrator, and the OIDC provider's sign-in form.

Kept apart from conftest.py so the tests import them by name (they are not fixtures).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

from tests.support.server import ServerProcess


def uid(prefix: str) -> str:
    """A name no other test (or earlier run against the same directory) has used."""
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def call(server: ServerProcess, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """(status, JSON body) of one request; an error status is returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def login(server: ServerProcess, user: str, password: str) -> tuple[int, Any]:
    return call(server, "POST", "/api/v1/auth/login", {"username": user, "password": password})


def create_admin(server: ServerProcess, username: str, password: str) -> None:
    """`semot create-admin`: the break-glass super administrator, who signs in whatever the switch says."""
    made = subprocess.run(
        [sys.executable, "-m", "semot", "create-admin", username, "--password", password, "--data-dir",
         str(server.data_dir)], capture_output=True, text=True, env=server.env, timeout=60,
    )
    assert made.returncode == 0, made.stderr


def provider_login(page: Any, sub: str) -> None:
    """The provider's development sign-in form: any password for a listed account."""
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", sub)
    page.fill("input[name=password]", "anything")
    page.click("button[type=submit]")


@contextlib.contextmanager
def browser_page(browser: Any, locale: str = "en") -> Iterator[Any]:
    """A page in a browser context of its own (its own cookies: signed in to nobody), closed afterwards."""
    ctx = browser.new_context(locale=locale)
    try:
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        yield page
    finally:
        ctx.close()
