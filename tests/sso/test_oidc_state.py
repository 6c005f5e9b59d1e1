"""The signed sign-in cookie and the departments claim (services/oidc_login.py): no
server needed. The cookie carries the state, nonce and PKCE verifier between leaving for
the provider and coming back; any change to it, another server's key or age refuses it."""

from __future__ import annotations

import base64

import orjson

from semot.ids import now_ms
from semot.services.oidc import OidcClient
from semot.services.oidc_login import STATE_TTL_MS, StateCookie, department_paths

KEY = "k" * 48


def _signed(cookie: StateCookie, data: dict[str, object]) -> str:
    body = base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=")
    return body.decode() + "." + cookie._mac(body)


def test_the_cookie_round_trips_and_refuses_tampering() -> None:
    cookie = StateCookie(KEY)
    pending = OidcClient.new_pending()
    assert len({pending.state, pending.nonce, pending.verifier}) == 3 and len(pending.verifier) >= 43
    value = cookie.dump(pending, "admin")
    assert cookie.load(value) == (pending, "admin")
    body, _, mac = value.partition(".")
    flipped = body[:-1] + ("A" if body[-1] != "A" else "B")
    for bad in (None, "", "no-dot", flipped + "." + mac, body + "." + mac[:-2], "é.é", "x" * 3000):
        assert cookie.load(bad) is None, bad
    assert StateCookie("other" * 10).load(value) is None  # another server's key
    # well signed, but stale or aimed elsewhere
    fields = {"s": pending.state, "n": pending.nonce, "v": pending.verifier}
    assert cookie.load(_signed(cookie, {**fields, "to": "app", "at": now_ms() - STATE_TTL_MS - 1000})) is None
    assert cookie.load(_signed(cookie, {**fields, "to": "https://evil.example", "at": now_ms()})) is None
    assert cookie.load(_signed(cookie, {**fields, "to": "app", "at": now_ms()})) == (pending, "app")


def test_departments_claim() -> None:
    assert department_paths("Sales/East") == [["Sales", "East"]]
    assert department_paths(["A / B", " C ", 3, "/", "x" * 129]) == [["A", "B"], ["C"]]
    assert department_paths(None) == [] and department_paths({"a": 1}) == []
    assert len(department_paths([f"D{i}" for i in range(50)])) == 20  # bounded
