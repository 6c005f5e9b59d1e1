"""What a download may take from this node's short cache (services/files.py,
READ_CACHE_S) and what it may not: a token's owner for a few seconds (a logout stops
downloads within READ_CACHE_S), never an expired or forged token, never the right to
read (a recall is immediate: test_file_messages.py)."""

from __future__ import annotations

import os
import time

import requests

from semot.services.files import READ_CACHE_S
from tests.files.support import FILES, account
from tests.support.server import ServerProcess


def test_a_logout_stops_downloads_within_the_cache_time(server: ServerProcess) -> None:
    alice = account(server)
    data = os.urandom(20_000)
    file_id = alice.upload(data)
    url = f"{server.base}{FILES}{file_id}/content"
    assert alice.get(file_id).content == data  # the token's owner is now remembered
    forged = alice.token[:-2] + ("AA" if not alice.token.endswith("AA") else "BB")
    assert requests.get(url, headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    r = requests.post(server.base + "/api/v1/auth/logout", headers=alice.auth, json={})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + READ_CACHE_S + 5
    status = 200
    while time.monotonic() < deadline:
        status = alice.get(file_id).status_code
        if status == 401:
            break
        time.sleep(0.1)
    assert status == 401
