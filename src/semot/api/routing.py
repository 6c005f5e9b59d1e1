"""A typed route table: pydantic models in, JSON out, and an OpenAPI 3 document from both.

Each route declares its body model, reply model and whether it needs a bearer token;
the same declaration validates requests and documents them at /openapi.json, so the
docs cannot drift from what the server accepts.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from semot.errors import BadRequest
from semot.ids import ID_PATTERN

from .models import ID_CHARS, MAX_SAFE_INT, NUL_FREE
from .openapi import build

Handler = Callable[..., Awaitable[Any]]


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@dataclass(frozen=True, slots=True)
class Query:
    """One query or path parameter: what /openapi.json says about it and what the route
    enforces before its handler runs, from the same declaration (anything outside it, or
    a NUL, is a `bad_request`). A pattern must match the whole value."""

    description: str
    type: Literal["integer", "string"] = "integer"
    minimum: int = 0
    maximum: int = MAX_SAFE_INT
    max_length: int = 1024
    min_length: int = 0
    pattern: str | None = None
    required: bool = False

    def schema(self) -> dict[str, Any]:
        if self.type == "integer":
            return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        out: dict[str, Any] = {"type": "string", "maxLength": self.max_length, "pattern": self.pattern or NUL_FREE}
        if self.min_length:
            out["minLength"] = self.min_length
        return out

    def check(self, name: str, raw: str) -> None:
        """Refuse `raw` unless the schema above allows it."""
        if self.type == "integer":
            _parse_int(name, raw, self)
            return
        if not self.min_length <= len(raw) <= self.max_length:
            raise BadRequest(f"{name}: {self.min_length}-{self.max_length} characters")
        if "\x00" in raw:
            raise BadRequest(f"{name}: NUL characters are not allowed")
        if self.pattern is not None and _regex(self.pattern).fullmatch(raw) is None:
            raise BadRequest(f"{name}: {self.description}")


def _parse_int(name: str, raw: str, spec: Query) -> int:
    # ASCII digits only (int() also takes "١٢", "1_0" and " 5"), and never thousands of them
    digits = raw[1:] if raw[:1] == "-" else raw
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 20:
        raise BadRequest(f"{name}: must be an integer from {spec.minimum} to {spec.maximum}")
    value = int(raw)
    if not spec.minimum <= value <= spec.maximum:
        raise BadRequest(f"{name}: must be an integer from {spec.minimum} to {spec.maximum}")
    return value


ID = Query("an id: 1-64 of A-Z a-z 0-9 _ . -", "string", max_length=64, min_length=1, pattern=ID_PATTERN)
_DIRECT = f"d:{ID_CHARS}{{1,64}}:{ID_CHARS}{{1,64}}"
CONV = Query(
    "a conversation id: g:<group id>, or d:<user id>:<user id> (the two ids in byte order)",
    "string", max_length=2 + 64 + 1 + 64, min_length=3, pattern=f"^(g:{ID_CHARS}{{1,64}}|{_DIRECT})$",
)
# every path parameter, by name: the same rules wherever it appears
PATH_PARAMS: dict[str, Query] = {
    "user_id": ID, "group_id": ID, "request_id": ID, "tag_id": ID, "department_id": ID, "conv": CONV, "file_id": ID,
    "role_id": ID, "hold_id": ID, "word_id": ID, "key_id": ID, "seq": Query("a message's seq in its conversation", minimum=1),
}


@dataclass(slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    reply: type[BaseModel] | None = None
    status: int = 200
    auth: str | None = "bearer"  # "bearer", "admin", "server" (a server API key: api/server_auth.py) or None
    perm: str | None = None  # admin routes: the permission the caller's role must grant (services/admin_access.py);
    # server routes: the scope the key must have (services/api_keys.py)
    query: dict[str, Query | str] = field(default_factory=dict)  # name -> spec (a bare description: an integer)
    # a route speaking a header protocol (tus): request headers it reads (documented; the
    # handler checks them, with the protocol's own statuses), a raw body's media type,
    # headers of its success reply, and further statuses it answers (name -> description)
    headers: dict[str, Query] = field(default_factory=dict)
    raw_body: str | None = None
    raw_body_required: bool = False  # tus PATCH: its body (and so its Content-Type) is not optional
    reply_media: str | None = None  # a reply that is not JSON (e.g. "text/csv"): documented as a string of that type
    reply_headers: dict[str, Query] = field(default_factory=dict)
    responses: dict[int, str] = field(default_factory=dict)
    path_specs: dict[str, Query] = field(default_factory=dict)  # a path parameter narrower here than PATH_PARAMS says
    # resolved once: what check_params enforces on every request
    _path: dict[str, Query] = field(init=False, repr=False)
    _query: dict[str, Query] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        names = [seg[1:-1] for seg in self.path.split("/") if seg.startswith("{") and seg.endswith("}")]
        self._path = {n: self.path_specs.get(n) or PATH_PARAMS.get(n, Query(n, "string")) for n in names}
        self._query = {n: spec if isinstance(spec, Query) else Query(spec) for n, spec in self.query.items()}

    def query_spec(self, name: str) -> Query:
        return self._query.get(name) or Query(name)

    def path_params(self) -> dict[str, Query]:
        return self._path

    def check_params(self, query: Mapping[str, str], match_info: Mapping[str, str]) -> None:
        """Every declared path and query parameter within its declared type and bounds."""
        for name, spec in self._path.items():
            spec.check(name, match_info.get(name, ""))
        for name, spec in self._query.items():
            raw = query.get(name)
            if raw is not None:
                spec.check(name, raw)
            elif spec.required:
                raise BadRequest(f"{name}: required ({spec.description})")


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def find_nul(obj: Any) -> str | None:
    """Where a NUL character hides in parsed JSON (a key or a string at any depth), as a
    dotted path, or None. Iterative: orjson nests up to 1,024 levels."""
    stack: list[tuple[Any, str]] = [(obj, "body")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return where
        elif isinstance(value, dict):
            for k, v in value.items():
                if "\x00" in k:
                    return where
                stack.append((v, f"{where}.{k}"))
        elif isinstance(value, list):
            stack.extend((v, f"{where}.{i}") for i, v in enumerate(value))
    return None


async def parse_body(request: web.Request, model: type[BaseModel]) -> Any:
    """Strict JSON into `model`. A NUL character in any string is refused up front: no
    column (PostgreSQL text) stores it, and no name or text needs it. JSON can carry it
    only escaped, so a body without `\\u0000` is not walked at all."""
    raw = await request.read()
    try:
        obj = orjson.loads(raw or b"null")
    except orjson.JSONDecodeError:
        raise BadRequest("request body is not valid JSON") from None
    if b"\\u0000" in raw:
        where = find_nul(obj)
        if where is not None:
            problem = "NUL characters are not allowed"
            raise BadRequest(f"{where}: {problem}", fields=[{"field": where, "error": problem}])
    try:
        return model.model_validate(obj, strict=True)
    except ValidationError as exc:
        errs = exc.errors(include_url=False, include_input=False)
        first = errs[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise BadRequest(
            f"{where}: {first['msg']}",
            fields=[{"field": ".".join(str(p) for p in e["loc"]), "error": e["msg"]} for e in errs[:10]],
        ) from None


class RouteTable:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, route: Route) -> None:
        self.routes.append(route)

    def openapi(self, *, title: str, version: str) -> dict[str, Any]:
        return build(self.routes, title=title, version=version)
