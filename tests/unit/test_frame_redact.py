"""Redaction of captured frames (services/frame_redact.py): no token, password or URL
signature survives, whether the frame parses as JSON, is not JSON, or was cut short."""

from __future__ import annotations

import orjson
import pytest

from semot.services.frame_redact import REDACTED, redact_text, render

SECRET = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.sig-part"


@pytest.mark.parametrize(
    "frame",
    [
        {"t": "auth", "rid": 1, "token": SECRET, "device": {"id": "w1", "platform": "web"}},
        {"t": "res", "rid": 2, "ok": True, "data": {"access_token": SECRET, "refresh_token": SECRET}},
        {
            "t": "custom",
            "data": {"Password": SECRET, "newPassword": SECRET, "client_secret": SECRET, "api_key": SECRET},
        },
        {"t": "msg", "body": {"url": f"/api/v1/files/f1?exp=1&sig={SECRET}", "thumb_url": f"/x?sig={SECRET}#a"}},
        {"t": "evt", "list": [{"Authorization": f"Bearer {SECRET}"}, {"cookie": SECRET}], "sig": SECRET},
    ],
)
def test_json_frames_lose_their_secrets(frame: dict[str, object]) -> None:
    text = orjson.dumps(frame).decode()
    out = redact_text(text)
    assert SECRET not in out and REDACTED in out
    orjson.loads(out)  # still JSON


def test_everything_else_is_kept() -> None:
    frame = {"t": "send", "rid": 3, "to": "bob", "kind": "text", "body": {"text": "my token is in my pocket"}}
    assert orjson.loads(redact_text(orjson.dumps(frame).decode())) == frame
    assert redact_text("not json at all") == "not json at all"


@pytest.mark.parametrize(
    "text",
    [
        f'{{"t":"auth","rid":1,"token":"{SECRET}","device":{{"id":"w',  # cut after the token
        f'{{"t":"auth","rid":1,"token":"{SECRET[:20]}',  # cut inside the token
        f'{{"t":"x","n":{2**70},"password":"{SECRET}"}}',  # valid JSON orjson cannot hold
        f'garbage "refresh_token" : "{SECRET}" and ?sig={SECRET}&x=1',
    ],
)
def test_frames_that_do_not_parse_are_redacted_by_pattern(text: str) -> None:
    out = redact_text(text)
    assert SECRET[:20] not in out and REDACTED in out


def test_render_cuts_after_redacting() -> None:
    payload = orjson.dumps({"t": "auth", "token": SECRET, "pad": "x" * 500})
    text, cut = render(payload, complete=True, max_chars=60)
    assert cut and len(text) == 60 and SECRET[:10] not in text
    text, cut = render(payload[:40], complete=False, max_chars=1000)  # cut on capture already
    assert cut and SECRET[:10] not in text
    text, cut = render(b'{"t":"ping","rid":1}', complete=True, max_chars=1000)
    assert (text, cut) == ('{"t":"ping","rid":1}', False)
    text, cut = render(b"\xff\xfe{", complete=True, max_chars=100)  # not UTF-8: replaced, never an error
    assert text.endswith("{") and not cut
