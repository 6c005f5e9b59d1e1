"""Talking to the LDAP / Active Directory server (ldap3), off the event loop.

ldap3 is blocking, so every operation runs in a worker thread (at most `MAX_PARALLEL`
at once, so a slow directory cannot take every thread) on a connection of its own,
opened and closed per operation: logins are rare next to messages, and a fresh
connection never carries a stale bind.

A password is checked the way directories expect: the service account (or an
anonymous bind) searches the user with the configured filter, the typed username
escaped (RFC 4515, so `*` or `)(` match nothing but themselves); exactly one entry must
come back; then a second connection binds as that entry's DN with the typed password.
An empty password is refused before anything is sent: an LDAP simple bind with a DN
and no password is an "unauthenticated bind", which many servers accept.
"""

from __future__ import annotations

import asyncio
import logging
import math
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from semot.errors import Conflict, Unavailable

log = logging.getLogger(__name__)

MAX_PARALLEL = 4
PAGE_SIZE = 500  # paged searches: Active Directory answers at most 1,000 entries per page
MAX_ATTR = 256  # characters kept of a display name, e-mail or phone


@dataclass(frozen=True, slots=True)
class LdapConfig:
    url: str
    user_base: str
    user_filter: str  # contains {username}
    bind_dn: str | None = None
    bind_password: str | None = None
    start_tls: bool = False
    ca_file: Path | None = None
    attr_username: str = "uid"
    attr_display_name: str = "cn"
    attr_email: str = "mail"
    attr_phone: str = "telephoneNumber"
    timeout_s: float = 5.0


@dataclass(frozen=True, slots=True)
class DirUser:
    dn: str
    username: str
    display_name: str
    email: str = ""
    phone: str = ""
    ou_path: tuple[str, ...] = ()  # organisational units from the user base down to the user's


def norm_dn(dn: str) -> str:
    """A DN compared regardless of letter case and spaces around separators."""
    try:
        return ",".join(f"{a.strip().lower()}={v.strip().lower()}" for a, v, _ in parse_dn(dn, strip=True))
    except LDAPException:
        return dn.strip().lower()


def ou_path(dn: str, base: str, *, own: bool = False) -> tuple[str, ...]:
    """The `ou=` names between `base` and the entry, top-down (the entry's own RDN only
    when `own`: the path of an organisational unit itself)."""
    try:
        parts, base_parts = parse_dn(dn, strip=True), parse_dn(base, strip=True)
    except LDAPException:
        return ()
    inner = parts[0 if own else 1 : len(parts) - len(base_parts)]
    return tuple(v.strip() for a, v, _ in reversed(inner) if a.strip().lower() == "ou" and v.strip())


def _first(attrs: dict[str, Any], name: str) -> str:
    for key, value in attrs.items():
        if key.lower() == name.lower():
            if isinstance(value, list):
                value = value[0] if value else ""
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            return str(value or "").strip()[:MAX_ATTR]
    return ""


class LdapDirectory:
    def __init__(self, config: LdapConfig) -> None:
        self.config = config
        self._slots = asyncio.Semaphore(MAX_PARALLEL)

    # --- connections (worker threads)
    def _server(self) -> ldap3.Server:
        c = self.config
        tls = None
        if c.url.startswith("ldaps://") or c.start_tls:
            tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(c.ca_file) if c.ca_file else None)
        return ldap3.Server(c.url, use_ssl=c.url.startswith("ldaps://"), tls=tls, connect_timeout=c.timeout_s,
                            get_info=ldap3.NONE)

    def _connect(self, user: str | None, password: str | None) -> tuple[ldap3.Connection, bool]:
        """An open connection (StartTLS done) and whether the bind succeeded."""
        conn = ldap3.Connection(self._server(), user=user, password=password, auto_bind=ldap3.AUTO_BIND_NONE,
                                receive_timeout=math.ceil(self.config.timeout_s),  # ldap3 packs it as an int
                                read_only=True, raise_exceptions=False)
        conn.open()
        if self.config.start_tls and not conn.start_tls():
            conn.unbind()
            raise Unavailable("the directory refused StartTLS")
        return conn, bool(conn.bind())

    def _service(self) -> ldap3.Connection:
        c = self.config
        conn, ok = self._connect(c.bind_dn, c.bind_password) if c.bind_dn else self._connect(None, None)
        if not ok:
            result = conn.result.get("description") if conn.result else "?"
            conn.unbind()
            log.warning("the LDAP service account could not bind: %s", result)
            raise Unavailable("the directory refused the service account (ldap_bind_dn / ldap_bind_password)")
        return conn

    def _attributes(self) -> list[str]:
        c = self.config
        return [c.attr_username, c.attr_display_name, c.attr_email, c.attr_phone]

    def _user(self, dn: str, attrs: dict[str, Any], fallback: str = "") -> DirUser:
        c = self.config
        username = _first(attrs, c.attr_username) or fallback
        return DirUser(
            dn=dn, username=username, display_name=_first(attrs, c.attr_display_name) or username,
            email=_first(attrs, c.attr_email), phone=_first(attrs, c.attr_phone), ou_path=ou_path(dn, c.user_base),
        )

    def _check(self, username: str, password: str) -> DirUser | None:
        flt = self.config.user_filter.replace("{username}", escape_filter_chars(username))
        conn = self._service()
        try:
            conn.search(self.config.user_base, flt, ldap3.SUBTREE, attributes=self._attributes(), size_limit=2)
            entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
        finally:
            conn.unbind()
        if len(entries) != 1:
            return None  # nobody, or an ambiguous filter: never guess which one
        dn, attrs = entries[0]["dn"], dict(entries[0].get("attributes") or {})
        user_conn, ok = self._connect(dn, password)
        user_conn.unbind()
        return self._user(dn, attrs, username) if ok else None

    def _paged(self, base: str, flt: str, attributes: list[str]) -> Iterator[dict[str, Any]]:
        """Every entry, page by page; Conflict when the directory stops early (its size or
        time limit for the service account): a partial list must never look like a
        complete one, or the sync would disable everybody past the limit."""
        conn = self._service()
        seen = 0
        try:
            for entry in conn.extend.standard.paged_search(
                base, flt, ldap3.SUBTREE, attributes=attributes, paged_size=PAGE_SIZE, generator=True
            ):
                if entry.get("type") == "searchResEntry":
                    seen += 1
                    yield entry
            result = conn.result or {}
        finally:
            conn.unbind()
        if result.get("result", 0) != 0:
            raise Conflict(f"the directory stopped the search after {seen} entries ({result.get('description')}): "
                           "raise the size limit of the service account (ldap_bind_dn)")

    def _all_users(self) -> list[DirUser]:
        flt = self.config.user_filter.replace("{username}", "*")
        return [self._user(e["dn"], dict(e.get("attributes") or {})) for e in
                self._paged(self.config.user_base, flt, self._attributes())]

    def _all_ous(self) -> list[tuple[str, ...]]:
        base = self.config.user_base
        found = [ou_path(e["dn"], base, own=True) for e in self._paged(base, "(objectClass=organizationalUnit)", ["ou"])]
        return sorted({p for p in found if p})

    def _members(self, group_dn: str) -> set[str] | None:
        """Normalised member DNs of a group (member / uniqueMember); None: no such group."""
        conn = self._service()
        try:
            conn.search(group_dn, "(objectClass=*)", ldap3.BASE, attributes=["member", "uniqueMember"])
            entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
        finally:
            conn.unbind()
        if not entries:
            return None
        attrs = entries[0].get("attributes") or {}
        out: set[str] = set()
        for key in ("member", "uniqueMember"):
            values = attrs.get(key) or []
            out.update(norm_dn(str(v)) for v in (values if isinstance(values, list) else [values]))
        return out

    async def _run(self, fn: Any, *args: Any) -> Any:
        async with self._slots:
            try:
                return await asyncio.to_thread(fn, *args)
            except (LDAPException, OSError) as exc:
                log.warning("LDAP %s failed: %s", getattr(fn, "__name__", "call"), exc)
                raise Unavailable("the directory cannot be reached; try again later") from exc

    # --- the service's operations
    async def check_password(self, username: str, password: str) -> DirUser | None:
        """The directory's user when `password` is theirs; None when it is not, or when
        the username matches nobody (or more than one entry)."""
        if not password or not username:
            return None
        found: DirUser | None = await self._run(self._check, username, password)
        return found

    async def users(self) -> list[DirUser]:
        """Every user the filter finds under the user base (paged)."""
        found: list[DirUser] = await self._run(self._all_users)
        return found

    async def ous(self) -> list[tuple[str, ...]]:
        """The path of every organisational unit under the user base, top-down."""
        found: list[tuple[str, ...]] = await self._run(self._all_ous)
        return found

    async def members(self, group_dn: str) -> set[str] | None:
        found: set[str] | None = await self._run(self._members, group_dn)
        return found
