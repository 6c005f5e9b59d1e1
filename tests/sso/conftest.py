"""What the single sign-on tests share: a real OpenID Connect provider (the npm package
oidc-provider, tests/sso/oidc_provider/) started on a free port, and the browser
fixtures of tests/browser. LDAP fixtures (slapd) live in slapd_support.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import browser, playwright_sync  # noqa: F401  (fixtures)
from tests.support.server import free_port

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "semot-test"
CLIENT_SECRET = "semot-test-client-secret-0123456789"


@dataclass
class OidcProvider:
    issuer: str
    proc: subprocess.Popen[bytes]
    config: Path

    def set_claims(self, sub: str, claims: dict[str, Any]) -> None:
        """Change what the provider says about `sub` from its next sign-in on."""
        data = json.loads(self.config.read_text())
        data["accounts"][sub] = claims
        self.config.write_text(json.dumps(data))


def start_oidc_provider(work: Path, redirect_uris: list[str], accounts: dict[str, dict[str, Any]]) -> OidcProvider:
    """oidc-provider on a free port with one confidential client and these accounts
    (sub -> claims); its development login form takes any password."""
    node = shutil.which("node")
    if node is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("the OIDC provider needs Node.js and `npm ci` in tests/sso/oidc_provider (.ci/run does it)")
    port = free_port()
    config = work / f"oidc-{port}.json"
    config.write_text(json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                  "redirect_uris": redirect_uris, "accounts": accounts}))
    log = (work / f"oidc-{port}.log").open("wb")
    proc = subprocess.Popen([node, str(PROVIDER_DIR / "provider.mjs"), str(port), str(config)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=PROVIDER_DIR)
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"oidc-provider exited: {(work / f'oidc-{port}.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(issuer + "/.well-known/openid-configuration", timeout=1) as r:
                if r.status == 200:
                    return OidcProvider(issuer, proc, config)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("oidc-provider did not start in 30 s")


@pytest.fixture(scope="module")
def oidc_provider_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., OidcProvider]]:
    started: list[OidcProvider] = []

    def make(redirect_uris: list[str], accounts: dict[str, dict[str, Any]]) -> OidcProvider:
        p = start_oidc_provider(tmp_path_factory.mktemp("oidc"), redirect_uris, accounts)
        started.append(p)
        return p

    yield make
    for p in started:
        p.proc.kill()
        p.proc.wait(10)
