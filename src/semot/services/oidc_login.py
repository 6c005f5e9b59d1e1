"""Signing in with OpenID Connect, and which sign-in methods are on (docs/sso.md).

A sign-in leaves for the provider with a fresh state, nonce and PKCE verifier, kept in
an HttpOnly cookie this server signs (HMAC over the secret key, so any node can check
it and nobody can forge one); it comes back with a code and the state, which must be
the cookie's. The person is then found by their `(issuer, sub)` link; without one, by
the username claim (a pre-provisioned account: linked now), else created when
`oidc_auto_create` is on. The browser is then signed in by a single-use SSO ticket
(the web client's and the console's `#/sso` landing pages redeem it in cookie mode),
so the refresh token never appears in a URL.

The login-method switch: `password`, `sso` or `both`, the administrator's choice in the
client configuration (`login_methods`) over the setting. With password sign-in off, a
local password is refused (403 `password_login_disabled`), and so is self-registration,
except for full super administrators: the break-glass way in when the provider is down
or misconfigured. Directory (LDAP) accounts keep the password form: their password is
the company's sign-in, checked by the directory, not a local one.

An existing account of the claimed username is linked only when it has no way in of its
own (no local password, not directory-managed, not a visitor, no other link): somebody
who registered the username first cannot receive its owner's sign-in (`conflict`).

Later sign-ins bring the account up to date with the provider: the display name and the
departments of the claim (joined, and left when the claim drops them: the link remembers
which memberships the claim made, never touching one an administrator made).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import orjson

from semot.config import Settings
from semot.domain import admin_perms as rules
from semot.domain.org import ImportSummary
from semot.domain.records import User
from semot.errors import BadRequest, Forbidden, NotFound, SemotError
from semot.ids import now_ms
from semot.services.accounts import AccountService, check_username
from semot.services.admin_access import AdminAccess
from semot.services.api_keys import ApiKeyService
from semot.services.client_settings import ClientSettings
from semot.services.login_log import LoginAttempt
from semot.services.oidc import OidcClient, OidcConfig, OidcError, Pending
from semot.services.org import OrgService
from semot.services.password_links import has_password
from semot.services.user_admin import UserAdmin
from semot.storage import login_logs
from semot.storage.base import Storage
from semot.storage.external_identities import ExternalIdentity
from semot.storage.ldap import LdapStorage

log = logging.getLogger(__name__)

STATE_TTL_MS = 10 * 60 * 1000
TARGETS = ("app", "admin")
MAX_DEPARTMENTS = 20
METHOD = "oidc"
DIRECTORY_METHOD = "ldap"  # the login attempt's method when the directory checked the password (accounts.py)


class PasswordLoginDisabled(Forbidden):
    code = "password_login_disabled"


class SignInRefused(SemotError):
    """The provider vouched for the person but Semot will not sign them in; `reason` is
    what the login page says (not_provisioned, disabled, conflict, bad_claims)."""

    code = "sso_refused"
    http_status = 403

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Started:
    url: str  # the provider's authorization endpoint, with the request
    cookie: str  # the signed state, nonce and verifier


@dataclass(frozen=True, slots=True)
class Finished:
    user_id: str
    target: str  # "app" or "admin": which page the browser goes back to
    ticket: str  # the single-use SSO ticket that signs the browser in


def oidc_config(settings: Settings) -> OidcConfig | None:
    if not settings.oidc_issuer or not settings.oidc_client_id:
        return None
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    return OidcConfig(settings.oidc_issuer, settings.oidc_client_id, secret, settings.oidc_scopes,
                      settings.oidc_timeout_s)


class LoginMethods:
    """Which sign-in methods are on now (the console's choice, else the setting)."""

    def __init__(self, settings: Settings, client_settings: ClientSettings | None, admin: AdminAccess,
                 *, oidc: bool) -> None:
        self._settings = settings
        self._client_settings = client_settings
        self._admin = admin
        self.oidc_configured = oidc

    @property
    def chosen(self) -> str:
        """The administrator's choice ("" when none: the setting applies)."""
        doc = self._client_settings.doc if self._client_settings is not None else {}
        return str(doc.get("login_methods") or "")

    @property
    def mode(self) -> str:
        mode = self.chosen or self._settings.login_methods
        if mode == "sso" and not self.oidc_configured:
            return "password"  # never lock everyone out: without a provider the password form stays
        return mode

    @property
    def password(self) -> bool:
        return self.mode in ("password", "both")

    @property
    def oidc(self) -> bool:
        return self.oidc_configured and self.mode in ("sso", "both")

    async def gate(self, user: User, attempt: LoginAttempt) -> None:
        """AccountService.login's gate, asked once the password was found right: 403
        `password_login_disabled` while password sign-in is off, unless the directory
        (LDAP) checked it or the account is a full super administrator (break-glass).
        Asked after the password, never before: a wrong password is 401 for everyone,
        so the refusal tells nobody which accounts are super administrators."""
        if self.password or attempt.method == DIRECTORY_METHOD:
            return  # a directory password is the corporate sign-in, checked by the directory
        if user.is_admin and not user.disabled:
            grant = await self._admin.stored_grant(user.id)
            if rules.is_full_super(user.is_admin, user.disabled, grant):
                return
        raise PasswordLoginDisabled("password sign-in is switched off on this server: use single sign-on")

    def check_registration(self) -> None:
        """Self-registration makes a local password: refused while password sign-in is off."""
        if not self.password:
            raise PasswordLoginDisabled(
                "password sign-in is switched off on this server, and with it self-registration: "
                "accounts come from single sign-on"
            )


class StateCookie:
    """The pending sign-in, signed: `<base64url JSON>.<base64url HMAC-SHA256>`."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"semot-oidc-state\x00" + secret.encode()).digest()

    def _mac(self, body: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, body, hashlib.sha256).digest()).rstrip(b"=").decode()

    def dump(self, pending: Pending, target: str) -> str:
        body = base64.urlsafe_b64encode(orjson.dumps(
            {"s": pending.state, "n": pending.nonce, "v": pending.verifier, "to": target, "at": now_ms()}
        )).rstrip(b"=")
        return body.decode() + "." + self._mac(body)

    def load(self, value: str | None) -> tuple[Pending, str] | None:
        """The pending sign-in and its target; None when missing, forged or stale."""
        if not value or len(value) > 2048 or "." not in value:
            return None
        body, _, mac = value.partition(".")
        if not hmac.compare_digest(mac.encode(), self._mac(body.encode()).encode()):
            return None
        try:
            data = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            pending = Pending(state=str(data["s"]), nonce=str(data["n"]), verifier=str(data["v"]))
            target, at = str(data["to"]), int(data["at"])
        except (ValueError, KeyError, TypeError):
            return None
        if target not in TARGETS or not 0 <= now_ms() - at <= STATE_TTL_MS:
            return None
        return pending, target


def _claim_str(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def department_paths(value: Any) -> list[list[str]]:
    """A departments claim: one path or a list of them, "/"-separated ("Sales/East")."""
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    paths = []
    for item in items[:MAX_DEPARTMENTS]:
        if isinstance(item, str):
            names = [n.strip() for n in item.split("/") if n.strip()]
            if names and all(len(n) <= 128 for n in names):
                paths.append(names)
    return paths


class OidcLogin:
    def __init__(self, settings: Settings, client: OidcClient, storage: Storage, accounts: AccountService,
                 org: OrgService | None, tickets: ApiKeyService, user_admin: UserAdmin | None = None,
                 ldap: LdapStorage | None = None) -> None:
        self._settings = settings
        self.client = client
        self._users = storage.users
        self._links = storage.external_identities
        self._visitors = storage.customer_service
        self._ldap = ldap  # directory-managed accounts (when LDAP is on): never linked to a provider
        self._accounts = accounts
        self._org = org
        self._tickets = tickets
        self._user_admin = user_admin  # later sign-ins' display names (evt profile, directory search)
        self._cookies = StateCookie(settings.resolved_secret())

    @property
    def provider(self) -> str:
        return self.client.config.issuer

    async def close(self) -> None:
        await self.client.close()

    async def start(self, target: str, redirect_uri: str) -> Started:
        if target not in TARGETS:
            raise BadRequest("to: app or admin")
        pending = self.client.new_pending()
        return Started(await self.client.authorize_url(pending, redirect_uri), self._cookies.dump(pending, target))

    def target_of(self, cookie: str | None) -> str:
        loaded = self._cookies.load(cookie)
        return loaded[1] if loaded else "app"

    async def finish(self, code: str, state: str, cookie: str | None, redirect_uri: str,
                     attempt: LoginAttempt, *, iss: str | None = None) -> Finished:
        """The provider's answer -> a signed-in user (a ticket for the browser). A refusal
        after the provider vouched for someone goes to the login log (method "oidc")."""
        loaded = self._cookies.load(cookie)
        if loaded is None or not hmac.compare_digest(loaded[0].state.encode(), state.encode()):
            raise OidcError("this sign-in was not started here, took too long or was already used: start again")
        pending, target = loaded
        if iss is not None and iss != self.provider:  # RFC 9207: the answer of another provider (mix-up)
            raise OidcError(f"the answer names issuer {iss!r}, not {self.provider!r}")
        claims = await self.client.finish(code, pending, redirect_uri)
        attempt.method = METHOD
        attempt.username = (_claim_str(claims, self._settings.oidc_username_claim) or claims["sub"])[:64]
        attempt.reason = login_logs.ERROR
        try:
            user_id = await self._user_for(claims, attempt)
            await self._accounts_check(user_id, attempt)
            await self._refresh_name(user_id, claims)
            await self._place(user_id, claims["sub"], claims)
            ticket = await self._tickets.issue_ticket(user_id, method=METHOD)
        except SemotError:
            # a refusal is logged here; a success once, when the browser redeems the ticket
            # (POST /api/v1/auth/sso logs it with the ticket's method "oidc", announces user.login)
            if self._accounts.login_log is not None:
                self._accounts.login_log(attempt)
            raise
        await self._links.touch_identity(self.provider, claims["sub"], now_ms())
        return Finished(user_id, target, ticket)

    async def _accounts_check(self, user_id: str, attempt: LoginAttempt) -> None:
        user = await self._users.get_user(user_id)
        attempt.user_id = user_id
        if user is None:
            attempt.reason = login_logs.UNKNOWN_USER
            raise SignInRefused("not_provisioned", "the linked account no longer exists")
        if user.disabled:
            attempt.reason = login_logs.DISABLED
            raise SignInRefused("disabled", "this account is disabled")

    async def _user_for(self, claims: dict[str, Any], attempt: LoginAttempt) -> str:
        sub: str = claims["sub"]
        if len(sub) > 255:
            raise SignInRefused("bad_claims", "the provider's subject is too long")
        linked = await self._links.get_identity(self.provider, sub)
        if linked is not None:
            return linked.user_id
        username = _claim_str(claims, self._settings.oidc_username_claim)
        try:
            check_username(username)
        except BadRequest:
            raise SignInRefused(
                "bad_claims", f"the provider's {self._settings.oidc_username_claim!r} claim is not a usable username"
            ) from None
        user = await self._users.get_user_by_username(username)
        if user is None:
            if not self._settings.oidc_auto_create:
                attempt.reason = login_logs.UNKNOWN_USER
                raise SignInRefused("not_provisioned", f"there is no account {username!r} on this server")
            name = _claim_str(claims, self._settings.oidc_display_name_claim)[:128] or None
            # a random password nobody knows: the account signs in through the provider
            user = await self._accounts.create_user(username, secrets.token_urlsafe(32), name)
            log.info("created account %r at its first OIDC sign-in (%s)", username, self.provider)
        elif reason := await self._not_linkable(user):
            attempt.user_id = user.id
            log.warning("OIDC sign-in of %r (%s) not linked to the account %r: %s", sub[:64], self.provider,
                        user.id, reason)
            raise SignInRefused("conflict", f"the account {username!r} cannot be linked to single sign-on: "
                                            "ask an administrator")
        if not await self._links.link_identity(ExternalIdentity(self.provider, sub, user.id, now_ms())):
            attempt.user_id = user.id
            raise SignInRefused("conflict", f"the account {username!r} is linked to another person at the provider")
        return user.id

    async def _not_linkable(self, user: User) -> str:
        """Why an existing account of the claimed username must not become this person's
        ("" when it may): only an account with no way in of its own is adopted (made by an
        administrator, an import or the server API, waiting for its person), as a
        directory login adopts one (ldap_accounts.claims). Someone who registered the
        username first, or anyone with a password, keeps the account to themselves."""
        if has_password(user):
            return "it has a local password"
        if await self._visitors.visitor_ids([user.id]):
            return "it is a customer-service visitor"
        if await self._visitors.customer_ids([user.id]):  # a shop's buyer (server API "external")
            return "it is an external customer"
        if self._ldap is not None and await self._ldap.ldap_user(user.id) is not None:
            return "the directory (LDAP) manages it"
        if await self._links.user_identities(user.id):
            return "it is linked to a sign-in identity already"
        return ""

    async def _refresh_name(self, user_id: str, claims: dict[str, Any]) -> None:
        """The provider's display name, when it sends one: the account's from now on."""
        name = _claim_str(claims, self._settings.oidc_display_name_claim)[:128]
        user = await self._users.get_user(user_id)
        if not name or self._user_admin is None or user is None or user.display_name == name:
            return
        try:
            await self._user_admin.set_display_name(user, name)
        except SemotError as exc:  # e.g. a blocked sensitive word: the old name stays, the sign-in goes on
            log.info("OIDC display name of %r not taken: %s", user_id, exc.message)

    async def _place(self, user_id: str, sub: str, claims: dict[str, Any]) -> None:
        """The departments of the claim, at every sign-in: joined, and those an earlier
        claim gave but this one no longer lists are left. Only memberships the claim
        made are remembered (on the link), so one an administrator made stays."""
        claim = self._settings.oidc_departments_claim
        if not claim or self._org is None or claim not in claims:
            return  # no claim in this token: nothing known, nothing changed
        link = await self._links.get_identity(self.provider, sub)
        before = set(link.departments) if link is not None else set()
        given: list[str] = []
        summary = ImportSummary()
        for path in department_paths(claims[claim]):
            try:
                dept_id = await self._org.ensure_path(path, summary)
                if await self._org.add_member(dept_id, user_id) or dept_id in before:
                    given.append(dept_id)  # new now, or the claim's from before
            except SemotError as exc:  # a bad name: the sign-in goes on without that department
                log.warning("OIDC departments claim %r not applied: %s", path, exc)
        for dept_id in before - set(given):
            try:
                await self._org.remove_member(dept_id, user_id)
            except NotFound:  # gone already (an administrator removed it, or the department)
                pass
        if set(given) != before:
            await self._links.set_departments(self.provider, sub, tuple(dict.fromkeys(given))[:MAX_DEPARTMENTS])
