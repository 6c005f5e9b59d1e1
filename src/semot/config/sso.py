"""Single sign-on: OpenID Connect and LDAP / Active Directory (docs/sso.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator


class OidcSettings(BaseModel):
    # --- sign-in methods and OpenID Connect (docs/sso.md; services/oidc*.py)
    login_methods: Literal["password", "sso", "both"] = Field(
        "both", description="What the login pages offer: password, sso (OpenID Connect only; full super "
        "administrators may still use their password) or both; an administrator's choice on the console wins",
    )
    oidc_issuer: str | None = Field(
        None, pattern=r"^https?://[^\s?#]+$", description="OpenID Connect: the provider's issuer URL (its "
        "discovery document is <issuer>/.well-known/openid-configuration); unset: OIDC login is off",
    )
    oidc_client_id: str | None = Field(None, max_length=255, description="OpenID Connect: this server's client id")
    oidc_client_secret: SecretStr | None = Field(
        None, description="OpenID Connect: the client secret (unset: a public client, PKCE only; never logged)"
    )
    oidc_scopes: str = Field(
        "openid profile email", pattern=r"^[!#-\[\]-~]+( [!#-\[\]-~]+)*$",
        description="OpenID Connect: the scopes asked for (space-separated; openid is added when missing)",
    )
    oidc_username_claim: str = Field(
        "preferred_username", min_length=1, max_length=64, description="OpenID Connect: the claim with the username"
    )
    oidc_display_name_claim: str = Field(
        "name", min_length=1, max_length=64, description="OpenID Connect: the claim with the display name"
    )
    oidc_departments_claim: str | None = Field(
        None, max_length=64, description="OpenID Connect: a claim listing department paths (\"Sales/East\"); the "
        "user is put in each at every sign-in (departments created when missing) and taken out of those an earlier "
        "claim gave that it no longer lists; unset: departments untouched",
    )
    oidc_auto_create: bool = Field(
        False, description="OpenID Connect: create an account at a person's first sign-in (false: only accounts "
        "that exist already, with the same username, can sign in)",
    )
    oidc_button_label: str = Field(
        "", max_length=64, description="OpenID Connect: the login button's text (empty: \"Sign in with SSO\")"
    )
    oidc_timeout_s: float = Field(
        10.0, gt=0, le=120, description="OpenID Connect: timeout of each request to the provider (s)"
    )


class LdapSettings(BaseModel):
    # --- LDAP / Active Directory (services/ldap_*.py, docs/sso.md)
    ldap_enabled: bool = Field(
        False, description="LDAP: check passwords of directory users against the directory (the password form "
        "of the login pages), create them at their first login; needs ldap_url and ldap_user_base"
    )
    ldap_url: str | None = Field(
        None, pattern=r"^ldaps?://[^\s/?#]+/?$", description="LDAP: the directory server, ldap://host:389 or "
        "ldaps://host:636"
    )
    ldap_start_tls: bool = Field(False, description="LDAP: upgrade ldap:// connections with StartTLS")
    ldap_tls_ca_file: Path | None = Field(
        None, description="LDAP: CA certificates (PEM) that sign the directory's certificate (ldaps:// or "
        "StartTLS); unset: the system's trusted CAs"
    )
    ldap_bind_dn: str | None = Field(
        None, max_length=1024, description="LDAP: the service account that searches the directory (unset: "
        "anonymous search)"
    )
    ldap_bind_password: SecretStr | None = Field(None, description="LDAP: the service account's password")
    ldap_user_base: str = Field(
        "", max_length=1024, description="LDAP: where users are searched (subtree), e.g. ou=People,dc=example,dc=com; "
        "its organisational units become departments when syncing"
    )
    ldap_user_filter: str = Field(
        "(&(objectClass=inetOrgPerson)(uid={username}))", max_length=1024,
        description="LDAP: the search filter of one user; {username} is replaced by the typed username, escaped "
        "(Active Directory: (&(objectClass=user)(sAMAccountName={username})))",
    )
    ldap_attr_username: str = Field("uid", max_length=64, description="LDAP: attribute holding the username "
                                    "(AD: sAMAccountName)")
    ldap_attr_display_name: str = Field("cn", max_length=64, description="LDAP: attribute of the display name "
                                        "(AD: displayName)")
    ldap_attr_email: str = Field("mail", max_length=64, description="LDAP: attribute of the e-mail address")
    ldap_attr_phone: str = Field("telephoneNumber", max_length=64, description="LDAP: attribute of the phone number")
    ldap_timeout_s: float = Field(5.0, gt=0, le=120, description="LDAP: connect and answer timeout (s)")
    ldap_group_roles: dict[str, str] = Field(
        default_factory=dict, description="LDAP: directory group DN -> administrator role id (super_admin, "
        "user_admin, auditor, org_admin or a custom role's id), JSON; members get the roles at login and sync, "
        "and lose them when they leave the groups. The console can change it"
    )
    ldap_sync_interval_s: float = Field(
        0.0, ge=0, le=7 * 86400, description="LDAP: sync users and departments from the directory every this many "
        "seconds (0: only when an administrator presses 'sync now')"
    )

    @field_validator("ldap_user_filter")
    @classmethod
    def _ldap_filter(cls, v: str) -> str:
        if "{username}" not in v or not (v.startswith("(") and v.endswith(")")):
            raise ValueError("ldap_user_filter: a filter in parentheses containing {username}")
        return v

    @model_validator(mode="after")
    def _ldap_needs_a_server(self) -> Self:
        if self.ldap_enabled and not (self.ldap_url and self.ldap_user_base):
            raise ValueError("ldap_enabled needs ldap_url and ldap_user_base (SEMOT_LDAP_URL, SEMOT_LDAP_USER_BASE)")
        return self
