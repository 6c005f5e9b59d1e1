"""Which sign-in methods the login pages offer, and the console's switch (docs/sso.md).

- `GET /api/v1/auth/methods` (no sign-in) -> `{"password": bool, "oidc": {"label",
  "start_url", "admin_start_url"} | null, "ldap": bool}`: what the web client's and the
  console's login pages show. `ldap`: the password form also checks the directory.
- `GET /api/admin/v1/sso` (sso.view) -> the switch, the setting it overrides, what is in
  force, and the OpenID Connect provider settings (never the client secret).
- `PUT /api/admin/v1/sso` (sso.write) `{"login_methods": "password"|"sso"|"both"|""}`
  ("": back to the setting) -> the same; audited as `sso.update`. Stored in the client
  configuration, so every node applies it at once.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from semot.errors import Conflict, Unavailable
from semot.protocol.client_config import ClientConfigEdit
from semot.services.oidc_login import LoginMethods

from .http import Call
from .oidc_api import redirect_uri
from .routing import Route, RouteTable

START = "/api/v1/auth/oidc/start"


class OidcButtonOut(BaseModel):
    label: str = Field(description="the button's text; empty: the page's own (\"Sign in with SSO\")")
    start_url: str = Field(description="open it (a navigation) to sign in to the web client")
    admin_start_url: str = Field(description="the same for the admin console")


class AuthMethodsOut(BaseModel):
    password: bool = Field(description="the username/password form is offered")
    oidc: OidcButtonOut | None = Field(description="the OpenID Connect button; null: none")
    ldap: bool = Field(description="the password form checks the LDAP / Active Directory directory too")


class SsoAdminIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login_methods: Literal["", "password", "sso", "both"] = Field(
        description="what the login pages offer; empty: the server's setting (SEMOT_LOGIN_METHODS)"
    )


class OidcSettingsOut(BaseModel):
    configured: bool = Field(description="issuer and client id are set (SEMOT_OIDC_ISSUER, SEMOT_OIDC_CLIENT_ID)")
    issuer: str | None
    client_id: str | None
    client_secret_set: bool
    scopes: str
    username_claim: str
    display_name_claim: str
    departments_claim: str | None
    auto_create: bool
    button_label: str
    redirect_uri: str = Field(description="register this callback URL at the provider")


class SsoAdminOut(BaseModel):
    login_methods: str = Field(description="the administrator's choice; empty: the setting applies")
    setting: str = Field(description="SEMOT_LOGIN_METHODS, the default")
    effective: AuthMethodsOut = Field(description="what the login pages offer now")
    oidc: OidcSettingsOut
    ldap: bool = Field(description="LDAP sign-in is on (SEMOT_LDAP_ENABLED)")


def _methods(call: Call) -> LoginMethods:
    methods = call.services.login_methods
    if methods is None:
        raise Unavailable("sign-in methods are not wired on this node")
    return methods


def methods_wire(call: Call) -> dict[str, Any]:
    methods = _methods(call)
    settings = call.services.settings
    oidc = None
    if methods.oidc:
        oidc = {"label": settings.oidc_button_label, "start_url": f"{START}?to=app",
                "admin_start_url": f"{START}?to=admin"}
    return {"password": methods.password, "oidc": oidc, "ldap": bool(getattr(settings, "ldap_enabled", False))}


async def auth_methods(call: Call) -> dict[str, Any]:
    return methods_wire(call)


def _admin_view(call: Call) -> dict[str, Any]:
    methods = _methods(call)
    s = call.services.settings
    return {
        "login_methods": methods.chosen,
        "setting": s.login_methods,
        "effective": methods_wire(call),
        "oidc": {
            "configured": methods.oidc_configured, "issuer": s.oidc_issuer, "client_id": s.oidc_client_id,
            "client_secret_set": s.oidc_client_secret is not None, "scopes": s.oidc_scopes,
            "username_claim": s.oidc_username_claim, "display_name_claim": s.oidc_display_name_claim,
            "departments_claim": s.oidc_departments_claim, "auto_create": s.oidc_auto_create,
            "button_label": s.oidc_button_label, "redirect_uri": redirect_uri(call.request, s),
        },
        "ldap": bool(getattr(s, "ldap_enabled", False)),
    }


async def get_sso(call: Call) -> dict[str, Any]:
    return _admin_view(call)


async def put_sso(call: Call) -> dict[str, Any]:
    b: SsoAdminIn = call.body
    methods = _methods(call)
    config = call.services.client_settings
    if config is None:
        raise Unavailable("the client configuration is not wired on this node")
    if b.login_methods == "sso" and not methods.oidc_configured:
        raise Conflict("SSO only needs an OpenID Connect provider (SEMOT_OIDC_ISSUER, SEMOT_OIDC_CLIENT_ID) first")
    before = methods.chosen
    await config.update(ClientConfigEdit.model_validate({"login_methods": b.login_methods}), admin=call.me.id)
    await call.audit("sso.update", "login_methods", before={"login_methods": before},
                     after={"login_methods": methods.chosen})
    return _admin_view(call)


def routes() -> RouteTable:
    t = RouteTable()
    t.add(Route("GET", "/api/v1/auth/methods", auth_methods,
                "The sign-in methods the login pages offer (password form, OpenID Connect button, LDAP)", "auth",
                None, AuthMethodsOut, auth=None))
    t.add(Route("GET", "/api/admin/v1/sso", get_sso,
                "The login-method switch and the OpenID Connect settings (never the client secret)", "admin",
                None, SsoAdminOut, auth="admin", perm="sso.view"))
    t.add(Route("PUT", "/api/admin/v1/sso", put_sso,
                "Set the login-method switch: password, sso, both, or empty for the server's setting", "admin",
                SsoAdminIn, SsoAdminOut, auth="admin", perm="sso.write",
                responses={409: "SSO only without an OpenID Connect provider configured"}))
    return t
