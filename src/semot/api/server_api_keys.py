"""Admin API of the server API (docs/integration.md, docs/admin.md "Server API"):
its keys and its call log, and the public redemption of SSO tickets.

`POST /api/admin/v1/api-keys` creates a key (201 `{"key_id","key",...}`: the key is
shown this once), `GET` lists them, `PATCH .../{key_id}` changes one (name, scopes,
allowlist, rate, expiry; `revoked: true`), `DELETE .../{key_id}` revokes it. Reads need
`api_keys.view`, changes `api_keys.write`; every change is audited (api_key.create,
api_key.update, api_key.revoke). `GET /api/admin/v1/api-calls` lists the call log with
filters. `POST /api/v1/auth/sso` trades a ticket for a login (the web client's landing
page `/#/sso?ticket=...` calls it in cookie mode).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from semot.errors import NotFound, SemotError
from semot.services.api_keys import MAX_ALLOW_IPS, MAX_KEY
from semot.storage.api_keys import MAX_NAME, SCOPES, ApiCallQuery, ApiKey

from .auth_http import error_response as auth_error
from .auth_http import login_attempt, require_json, token_response
from .client_api import LoginDeviceIn, TokenOut
from .http import Call
from .models import MAX_SAFE_INT, NUL_FREE
from .routing import Query, Route, RouteTable
from .server_api import keys

A = "/api/admin/v1"
MAX_PAGE = 200
Scope = Literal["users", "messages", "notifications", "groups", "org"]
Cidr = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NUL_FREE)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME, pattern=NUL_FREE)]
When = Annotated[int, Field(ge=0, le=MAX_SAFE_INT)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApiKeyIn(_In):
    name: Name
    allow_ips: Annotated[list[Cidr], Field(max_length=MAX_ALLOW_IPS)] = Field(
        default_factory=list, description="CIDRs (v4 or v6) the key may be used from; empty: anywhere"
    )
    scopes: list[Scope] | None = Field(None, description=f"What the key may call; omitted: all ({', '.join(SCOPES)})")
    rate_per_min: Annotated[int, Field(ge=0, le=1_000_000)] = Field(0, description="Calls a minute; 0: unlimited")
    expires_at: When | None = Field(None, description="When the key stops working (ms); null: never")


class ApiKeyPatchIn(_In):
    name: Name | None = None
    allow_ips: Annotated[list[Cidr], Field(max_length=MAX_ALLOW_IPS)] | None = None
    scopes: list[Scope] | None = None
    rate_per_min: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    expires_at: When | None = Field(None, description="ms; send `clear_expiry: true` to make it never expire")
    clear_expiry: bool = False
    revoked: Literal[True] | None = Field(None, description="true: revoke (for good)")


class ApiKeyOut(BaseModel):
    key_id: str
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it")
    scopes: list[str]
    allow_ips: list[str]
    rate_per_min: int
    expires_at: int | None
    created_at: int
    created_by: str | None
    revoked_at: int | None
    last_used_at: int | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The key itself: shown this once (only its hash is stored)")


class ApiKeysOut(BaseModel):
    keys: list[ApiKeyOut]
    total: int


class ApiRevokedOut(BaseModel):
    status: str = Field(description="revoked")


class ApiCallOut(BaseModel):
    key_id: str | None
    ip: str
    method: str
    path: str
    status: int
    duration_ms: int
    ts: int


class ApiCallsOut(BaseModel):
    calls: list[ApiCallOut]
    total: int


class ApiSsoIn(_In):
    ticket: Annotated[str, StringConstraints(min_length=1, max_length=MAX_KEY)]
    cookie: bool = Field(False, description="Browsers: the refresh token in an HttpOnly cookie, not in the reply")
    device: LoginDeviceIn | None = None


def _audit_view(k: ApiKey) -> dict[str, Any]:
    return {"name": k.name, "scopes": list(k.scopes), "allow_ips": list(k.allow_ips), "rate_per_min": k.rate_per_min,
            "expires_at": k.expires_at, "revoked_at": k.revoked_at}


async def create_key(call: Call) -> web.Response | dict[str, Any]:
    b: ApiKeyIn = call.body
    key, secret = await keys(call).create(b.name, scopes=b.scopes, allow_ips=b.allow_ips,
                                          rate_per_min=b.rate_per_min, expires_at=b.expires_at, created_by=call.me.id)
    await call.audit("api_key.create", key.id, after=_audit_view(key))
    return key.to_wire() | {"key": secret}


async def list_keys(call: Call) -> dict[str, Any]:
    found = await keys(call).keys()
    return {"keys": [k.to_wire() for k in found], "total": len(found)}


async def patch_key(call: Call) -> dict[str, Any]:
    b: ApiKeyPatchIn = call.body
    svc = keys(call)
    key_id = call.request.match_info["key_id"]
    before = await svc.get(key_id)
    if before.revoked_at is not None:  # revoked for good: listed for the record, never changed again
        raise NotFound(f"key {key_id!r} is revoked")
    expires: int | bool | None = None if b.clear_expiry else (b.expires_at if b.expires_at is not None else False)
    after = await svc.update(key_id, name=b.name, scopes=b.scopes, allow_ips=b.allow_ips,
                             rate_per_min=b.rate_per_min, expires_at=expires, revoked=b.revoked)
    action = "api_key.revoke" if before.revoked_at is None and after.revoked_at is not None else "api_key.update"
    if action == "api_key.revoke":
        await call.audit("api_key.revoke", key_id, before=_audit_view(before), after=_audit_view(after))
    else:
        await call.audit("api_key.update", key_id, before=_audit_view(before), after=_audit_view(after))
    return after.to_wire()


async def revoke_key(call: Call) -> dict[str, Any]:
    svc = keys(call)
    key_id = call.request.match_info["key_id"]
    before = await svc.get(key_id)
    if before.revoked_at is not None:  # revoked already: gone, as far as changes go
        raise NotFound(f"key {key_id!r} is revoked")
    after = await svc.revoke(key_id)
    await call.audit("api_key.revoke", key_id, before=_audit_view(before), after=_audit_view(after))
    return {"status": "revoked"}


async def list_calls(call: Call) -> dict[str, Any]:
    status = call.query_int("status")
    klass = call.query_int("status_class")  # 2, 4, 5: 2xx, 4xx, 5xx
    lo, hi = (status, status) if status is not None else ((klass * 100, klass * 100 + 99) if klass else (None, None))
    query = ApiCallQuery(
        key_id=call.query_str("key_id") or None, ip=call.query_str("ip") or None,
        method=(call.query_str("method") or "").upper() or None, path=call.query_str("path") or None,
        min_status=lo, max_status=hi, since=call.query_int("since"), until=call.query_int("until"),
    )
    svc = keys(call)
    await svc.flush()  # what was just called is listed
    found, total = await svc.calls(query, offset=call.query_int("offset") or 0, limit=call.query_int("limit") or 50)
    return {"calls": [c.to_wire() for c in found], "total": total}


async def redeem_sso(call: Call) -> web.Response:
    b: ApiSsoIn = call.body
    settings = call.services.settings
    try:
        if b.cookie:
            require_json(call.request)
        user_id = await keys(call).redeem(b.ticket)
        device = (b.device.id, b.device.platform) if b.device else None
        attempt = login_attempt(call.request, settings, user_id, device)
        attempt.method = keys(call).ticket_method(b.ticket)  # "oidc" for an OpenID Connect sign-in's ticket
        pair = await call.services.accounts.login_as(user_id, attempt)
    except SemotError as exc:
        return auth_error(exc)
    return token_response(pair, call.request, settings, cookie=b.cookie)


_CALL_QUERY: dict[str, Query | str] = {
    "key_id": Query("one key's calls", "string", max_length=64),
    "ip": Query("calls from this address", "string", max_length=64),
    "method": Query("GET, POST, PUT, PATCH or DELETE", "string", max_length=8),
    "path": Query("paths starting with this", "string", max_length=512),
    "status": Query("calls answered with this status", minimum=100, maximum=599),
    "status_class": Query("2: 2xx, 4: 4xx, 5: 5xx", minimum=1, maximum=5),
    "since": "from this time (ms, inclusive)",
    "until": "before this time (ms)",
    "offset": "skip this many (default 0)",
    "limit": Query(f"1-{MAX_PAGE}, default 50", minimum=1, maximum=MAX_PAGE),
}


def routes() -> RouteTable:
    t = RouteTable()
    t.add(Route("POST", f"{A}/api-keys", create_key, "Create a server API key (the key is in this reply only)",
                "admin", ApiKeyIn, ApiKeyCreatedOut, status=201, auth="admin", perm="api_keys.write"))
    t.add(Route("GET", f"{A}/api-keys", list_keys, "Every server API key, newest first (never the keys themselves)",
                "admin", None, ApiKeysOut, auth="admin", perm="api_keys.view"))
    t.add(Route("PATCH", f"{A}/api-keys/{{key_id}}", patch_key,
                "Change a key: name, scopes, allowlist, rate, expiry; revoked: true revokes it", "admin",
                ApiKeyPatchIn, ApiKeyOut, auth="admin", perm="api_keys.write", responses={404: "No such key"}))
    t.add(Route("DELETE", f"{A}/api-keys/{{key_id}}", revoke_key, "Revoke a key (it stays listed, revoked)",
                "admin", None, ApiRevokedOut, auth="admin", perm="api_keys.write", responses={404: "No such key"}))
    t.add(Route("GET", f"{A}/api-calls", list_calls, "The server API call log, newest first, with filters",
                "admin", None, ApiCallsOut, auth="admin", perm="api_keys.view", query=_CALL_QUERY))
    t.add(Route("POST", "/api/v1/auth/sso", redeem_sso,
                "Sign in with a single-use SSO ticket from the server API (401: invalid, used or expired)", "auth",
                ApiSsoIn, TokenOut, auth=None))
    return t
