"""Redaction of captured WebSocket frames: what the protocol log must never store.

An `auth` frame carries an access token; an HTTP-borne secret may appear in a frame an
integrator defines (`password`, `refresh_token`); file messages carry signed URLs
whose `sig=` opens the file to anyone holding the link. A frame is parsed as JSON and
every value under a secret-looking key is replaced, and every `sig=` in a string; a
frame that is not JSON (or was cut before it ended) gets the same treatment by
pattern, so a token can never survive in a frame the parser could not read.
Redaction happens before the text is cut to its bound: a cut never splits a secret
into a visible half.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

REDACTED = "[redacted]"
# a key is secret when its name contains one of these (any case): token, access_token,
# refresh_token, password, new_password, secret, client_secret, authorization, cookie, sig
_SECRET_KEY = re.compile(r"token|passw|secret|authoriz|cookie|^sig$|signature|api[_-]?key", re.IGNORECASE)
# the signature of a signed URL (services/files.py UrlSigner: ?exp=<ms>&sig=<hmac>)
_URL_SIG = re.compile(r"([?&](?:sig|signature|token|access_token)=)[^&#\s\"']*", re.IGNORECASE)
# a JSON member with a secret-looking key, whatever its value, in text that may not parse:
# "key" : "string (maybe unterminated)" | number | literal
_MEMBER = re.compile(
    r'("(?:[^"\\]|\\.)*(?:token|passw|secret|authoriz|cookie|signature|api[_-]?key)(?:[^"\\]|\\.)*"|"sig")'
    r'(\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)',
    re.IGNORECASE,
)


def _walk(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if _SECRET_KEY.search(k) else _walk(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v) for v in value]
    if isinstance(value, str) and "=" in value:
        return _URL_SIG.sub(r"\1" + REDACTED, value)
    return value


def redact_text(text: str) -> str:
    """The frame's text with its secrets replaced (JSON kept as compact JSON)."""
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    else:
        try:
            return orjson.dumps(_walk(parsed)).decode()
        except TypeError:  # orjson refuses something it parsed (an integer beyond 64 bits): use the patterns
            pass
    return _URL_SIG.sub(r"\1" + REDACTED, _MEMBER.sub(lambda m: f'{m[1]}{m[2]}"{REDACTED}"', text))


def render(payload: bytes | str, *, complete: bool, max_chars: int) -> tuple[str, bool]:
    """The text to store for one frame's payload: redacted, then cut to `max_chars`;
    and whether it was cut. `complete` False: the payload was already cut on capture
    (it is then redacted by pattern only, as JSON that ends early does not parse)."""
    text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
    if complete:
        text = redact_text(text)
    else:
        text = _URL_SIG.sub(r"\1" + REDACTED, _MEMBER.sub(lambda m: f'{m[1]}{m[2]}"{REDACTED}"', text))
    if len(text) > max_chars:
        return text[:max_chars], True
    return text, not complete
