"""Replies checked against the models /openapi.json declares for them.

Handlers build their replies as plain dicts (the cheap path: services hand out wire
dicts, orjson writes them), and the document describes them with pydantic models. With
`validate_replies` on (SEMOT_VALIDATE_REPLIES, on in the test servers) every JSON reply
of a route is parsed back into its model, strictly, and must come out unchanged: a
missing field, a wrong type or a field the model does not declare becomes a 500 and an
ERROR log line naming the route, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from semot.errors import Internal

from .models import ErrorOut

log = logging.getLogger(__name__)


def problem(model: type[BaseModel], body: bytes) -> str | None:
    """Why `body` is not exactly an instance of `model`, or None when it is."""
    try:
        parsed = model.model_validate_json(body, strict=True)
    except ValidationError as exc:
        errs = exc.errors(include_url=False)
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'reply'}: {e['msg']}" for e in errs[:5])
    sent = orjson.loads(body)
    back = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return _diff(sent, back, "reply")


def _diff(sent: Any, back: Any, where: str) -> str | None:
    if isinstance(sent, dict) and isinstance(back, dict):
        for key, value in sent.items():
            if key not in back:
                return f"{where}.{key} is not in the model"
            found = _diff(value, back[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(sent, list) and isinstance(back, list) and len(sent) == len(back):
        for i, (a, b) in enumerate(zip(sent, back, strict=True)):
            found = _diff(a, b, f"{where}.{i}")
            if found:
                return found
        return None
    return None if sent == back else f"{where}: sent {str(sent)[:80]}, the model reads {str(back)[:80]}"


def check(route: str, status: int, expected: int, model: type[BaseModel] | None, body: bytes) -> None:
    """Refuse (Internal, logged) a JSON reply that its route's declaration does not describe."""
    if 200 <= status < 300:
        if status != expected:
            found: str | None = f"status {status}, declared {expected}"
        elif model is None:
            found = "the route declares no reply model"
        else:
            found = problem(model, body)
    else:
        found = problem(ErrorOut, body)
    if found:
        log.error("reply of %s does not match its declaration: %s", route, found)
        raise Internal(f"reply does not match its declaration: {found}")
