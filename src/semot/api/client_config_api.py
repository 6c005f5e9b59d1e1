"""The client configuration (终端配置) over HTTP (PROTOCOL.md §7).

`GET /api/v1/client-config` and its logo are public: the login page shows the product
name, the logo and whether anyone may sign up before anyone has signed in, so nothing
secret may ever be put in the configuration. Administrators with `config.write` read
the stored fields and change them with `PUT /api/admin/v1/client-config` (audited with
before and after); a change reaches every connected client at once as `evt config`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from semot.errors import NotFound, Unavailable
from semot.protocol.client_config import (
    ClientConfigEdit,
    DmPolicy,
    LoginMethods,
    PageOut,
    Place,
    PublicClientConfig,
)
from semot.services.client_settings import LOGO_PATH, ClientSettings

from .http import Call
from .routing import Query, Route, RouteTable

TAG = "client configuration"


class ClientConfigDoc(BaseModel):
    """The stored fields, as PUT takes them (logo_file_id and logo_url as set)."""

    model_config = ConfigDict(extra="forbid")
    product_name: str
    tagline: str
    login_notice: str
    logo_file_id: str | None
    logo_url: str | None
    features: dict[str, bool]
    default_friend_groups: list[str]
    quick_phrases: list[str]
    pages: list[PageOut]
    self_registration: bool
    direct_message_policy: DmPolicy
    watermark: bool
    max_upload_bytes: int = Field(description="0: the server's limit")
    login_methods: LoginMethods = Field("", description="password, sso, both; empty: the server's setting (docs/sso.md)")
    places: list[Place] = Field([], description="the organisation's places the location picker finds (GET /api/v1/geo/search)")


class ClientConfigLimits(BaseModel):
    file_max_bytes: int = Field(description="the server's upload limit (max_upload_bytes may only lower it)")
    max_logo_bytes: int


class AdminClientConfigOut(BaseModel):
    version: int = Field(description="send it back in PUT to be refused (409) after someone else's change")
    updated_at: int | None
    updated_by: str | None
    config: ClientConfigDoc
    public: PublicClientConfig = Field(description="what clients see (GET /api/v1/client-config)")
    limits: ClientConfigLimits


def settings_of(call: Call) -> ClientSettings:
    service = call.services.client_settings
    if service is None:
        raise Unavailable("the client configuration is not available on this server")
    return service


async def public_client_config(call: Call) -> web.StreamResponse:
    service = settings_of(call)
    etag = f'"cfg-{service.version}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if call.request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=service.public_json, content_type="application/json", headers=headers)


async def client_logo(call: Call) -> web.StreamResponse:
    """The uploaded logo; a `v` other than the current logo's is still answered (a page
    loaded before a change), but only the current one may be cached for long."""
    found = await settings_of(call).logo()
    if found is None:
        raise NotFound("no uploaded logo (the configuration has none, or names an outside URL)")
    data, mime, sha = found
    etag = f'"{sha}-logo"'
    current = call.request.query.get("v") == settings_of(call).doc["logo_file_id"]
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=86400, immutable" if current else "no-cache",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if call.request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=data, content_type=mime, headers=headers)


async def admin_client_config(call: Call) -> dict[str, Any]:
    return settings_of(call).admin_view()


async def put_client_config(call: Call) -> dict[str, Any]:
    edit: ClientConfigEdit = call.body
    if edit.login_methods is not None and edit.login_methods != settings_of(call).doc.get("login_methods", ""):
        await call.services.admin.authorize(call.me, "sso.write")  # the login-method switch is sso.write's
    before, after = await settings_of(call).update(edit, admin=call.me.id)
    changed = {k: after[k] for k in after if before.get(k) != after[k]}
    await call.audit(
        "client_config.update",
        "client-config",
        before={k: before.get(k) for k in changed},
        after=changed,
    )
    return settings_of(call).admin_view()


def routes() -> RouteTable:
    t = RouteTable()
    t.add(
        Route(
            "GET",
            "/api/v1/client-config",
            public_client_config,
            "The client configuration: product name, logo, feature switches, quick phrases, pages... (no sign-in needed)",
            TAG,
            None,
            PublicClientConfig,
            auth=None,
            responses={304: "Not modified (If-None-Match with the ETag held)"},
        )
    )
    t.add(
        Route(
            "GET",
            LOGO_PATH,
            client_logo,
            "The uploaded logo picture (no sign-in needed: the login page shows it)",
            TAG,
            auth=None,
            query={
                "v": Query(
                    "the logo's file id (from logo_url); cache key",
                    "string",
                    max_length=64,
                    pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                )
            },
            responses={304: "Not modified (If-None-Match with the ETag held)", 404: "No uploaded logo"},
        )
    )
    t.add(
        Route(
            "GET",
            "/api/admin/v1/client-config",
            admin_client_config,
            "The client configuration as stored (what PUT takes), with its version and the server's limits",
            "admin",
            None,
            AdminClientConfigOut,
            auth="admin",
            perm="config.write",
        )
    )
    t.add(
        Route(
            "PUT",
            "/api/admin/v1/client-config",
            put_client_config,
            "Change the client configuration (fields left out keep their value); every connected client gets evt config",
            "admin",
            ClientConfigEdit,
            AdminClientConfigOut,
            auth="admin",
            perm="config.write",
            responses={409: "`version` was given and someone changed the configuration since"},
        )
    )
    return t
