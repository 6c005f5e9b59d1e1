"""Directory-managed accounts: LDAP / Active Directory passwords at login, and what a
directory entry makes of a Semot account (the part the login and the sync share).

AccountService asks `claims(user)` for every password login: the directory checks the
password of a username Semot does not know (the account is created at the first
successful bind), of a directory-managed account (a row in `ldap_users`), and of an
account with no way in yet: no local password and no linked sign-in identity (adopted:
pre-provisioned accounts, e.g. from a CSV import, sign in with their directory password).
A local account with a password of its own, or one linked to an OIDC provider, is never
checked against the directory, so a directory entry with the same username cannot take
it over; and a directory-managed account never falls back to a local password, so a
disabled or removed directory account cannot sign in. The entry must be the account's:
a filter that also matches other attributes (AD's userPrincipalName, mail) can find an
entry whose username is not the typed one, and that entry never signs in as the typed
account. Whatever refuses a login after the bind (a local account of that name, a
username Semot cannot use) is a failed login, like a wrong password.

Directory groups give administrator roles (`ldap_group_roles`: group DN -> role id,
from the settings until an administrator changes it on the console). The roles a
group gave are remembered with the account, so leaving the group takes away exactly
those, never a role an administrator granted by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from semot.domain import admin_perms as rules
from semot.domain.admin_perms import Grant
from semot.domain.org import ImportSummary
from semot.domain.records import User
from semot.domain.users import username_key
from semot.errors import BadRequest, Conflict, Forbidden, NotFound, SemotError
from semot.ids import is_valid_id, now_ms
from semot.services.accounts import check_username
from semot.services.admin_access import AdminAccess, AdminGrant
from semot.services.admin_roles import grant_state
from semot.services.ldap_client import DirUser, LdapDirectory, norm_dn
from semot.services.org import OrgService
from semot.services.password_links import has_password
from semot.services.profiles import MAX_DISPLAY_NAME
from semot.services.user_admin import UserAdmin
from semot.storage.base import UserStorage
from semot.storage.external_identities import ExternalIdentityStorage
from semot.storage.ldap import MAX_DN, MAX_EMAIL, MAX_PHONE, LdapStorage, LdapUser

log = logging.getLogger(__name__)

GROUP_ROLES = "group_roles"  # the console's mapping, stored (storage/ldap.py get_config)
MAX_MAPPINGS = 100
BY = "ldap"  # Grant.updated_by of roles the directory gave, and the audit log's "administrator"


def check_mapping(mapping: Mapping[str, str], known_roles: set[str]) -> dict[str, str]:
    """A group -> role mapping: DNs up to MAX_DN characters, known role ids."""
    if len(mapping) > MAX_MAPPINGS:
        raise BadRequest(f"group_roles: at most {MAX_MAPPINGS} groups")
    out: dict[str, str] = {}
    for dn, role in mapping.items():
        dn = dn.strip()
        if not dn or len(dn) > MAX_DN or "=" not in dn:
            raise BadRequest(f"group_roles: {dn[:80]!r} is not a group DN")
        if role not in known_roles:
            raise NotFound(f"group_roles: unknown role {role!r}")
        out[dn] = role
    return out


def wanted_roles(dn: str, mapping: Mapping[str, str], groups: Mapping[str, set[str] | None]) -> tuple[str, ...]:
    """The roles the mapped groups give the entry `dn` (sorted)."""
    me = norm_dn(dn)
    return tuple(sorted({role for g, role in mapping.items() if me in (groups.get(g) or set())}))


def unchanged(found: DirUser, user: User, link: LdapUser, roles: tuple[str, ...]) -> bool:
    """Nothing of the account would change if `found` were adopted again (the sync's
    fast path; the department is the caller's to compare)."""
    name = found.display_name[:MAX_DISPLAY_NAME]
    return (
        link.dn == found.dn[:MAX_DN] and link.email == found.email[:MAX_EMAIL] and link.phone == found.phone[:MAX_PHONE]
        and (not name or name == user.display_name) and not link.disabled_by_sync and link.roles == roles
    )


class LdapAccounts:
    def __init__(
        self,
        directory: LdapDirectory,
        store: LdapStorage,
        users: UserStorage,
        user_admin: UserAdmin,
        org: OrgService,
        admin: AdminAccess,
        *,
        identities: ExternalIdentityStorage,
        group_roles: Mapping[str, str],
    ) -> None:
        self.directory = directory
        self.store = store
        self._users = users
        self._user_admin = user_admin
        self._org = org
        self._admin = admin
        self._identities = identities
        self._default_roles = dict(group_roles)

    # --- the AccountService seam (services/accounts.py DirectoryLogin)
    async def claims(self, user: User | None) -> bool:
        if user is None or await self.store.ldap_user(user.id) is not None:
            return True
        # adopted only with no other way in: an OIDC-linked account is its provider's person
        return not has_password(user) and not await self._identities.user_identities(user.id)

    async def verify(self, username: str, password: str, user: User | None) -> User | None:
        """The account (made or brought up to date) when the directory accepts the
        password; None when it refuses it, or when the entry cannot be this login's
        account (logged). Unavailable when it cannot be reached."""
        found = await self.directory.check_password(username, password)
        if found is None:
            return None
        try:
            return await self.adopt(found, user, memberships=None)
        except (BadRequest, Conflict, Forbidden, NotFound) as exc:
            # the reply says "wrong password": no account id, nothing told about what exists
            log.warning("directory login of %r as %s refused: %s", username[:64], found.dn[:200], exc.message)
            return None

    # --- a directory entry -> a Semot account
    async def adopt(
        self, found: DirUser, user: User | None, *, memberships: Mapping[str, set[str] | None] | None,
        departments: Mapping[tuple[str, ...], str] | None = None,
    ) -> User:
        """Create or update the account of `found` (display name, link row, department,
        roles); `memberships` (group DN -> member DNs) when the caller read the groups
        already (the sync), `departments` (OU path -> department id) likewise. Conflict
        when `user` is not the entry's account (another username)."""
        if user is not None and username_key(user.username) != username_key(found.username):
            raise Conflict(f"the directory entry's username {found.username[:64]!r} is not {user.username!r}")
        if user is None:
            user = await self._users.get_user_by_username(found.username)
            if user is not None and not await self.claims(user):
                raise Conflict(f"{user.id!r} is a local account with its own password or sign-in: "
                               "not linked to the directory")
        if user is None:
            try:
                check_username(found.username)
            except BadRequest:
                raise Forbidden(f"the directory username {found.username[:64]!r} cannot be used here "
                                "(2-32 characters from A-Z a-z 0-9 _ . -)") from None
            try:
                user = await self._make(found)
            except Conflict:  # made meanwhile (another node, a parallel login)
                user = await self._users.get_user_by_username(found.username)
                if user is None:
                    raise
        elif found.display_name and found.display_name[:MAX_DISPLAY_NAME] != user.display_name:
            try:
                user = await self._user_admin.set_display_name(user, found.display_name[:MAX_DISPLAY_NAME])
            except BadRequest as exc:  # e.g. a sensitive word: keep the old name
                log.info("directory name of %r not taken: %s", user.id, exc.message)
        now = now_ms()
        link = await self.store.ldap_user(user.id)
        link = LdapUser(
            user_id=user.id, dn=found.dn[:MAX_DN], email=found.email[:MAX_EMAIL], phone=found.phone[:MAX_PHONE],
            roles=link.roles if link else (), disabled_by_sync=link.disabled_by_sync if link else False,
            seen_at=now, created_at=link.created_at if link else now,
        )
        if link.disabled_by_sync:
            if user.disabled:  # back in the directory: the sync's disabling ends (an administrator's stays)
                user = await self._user_admin.set_disabled(user.id, False)
            link = replace(link, disabled_by_sync=False)
        link = replace(link, roles=await self.apply_roles(user.id, found.dn, link.roles, memberships))
        await self.store.put_ldap_user(link)
        if found.ou_path:
            try:
                await self._place(user.id, found.ou_path, departments)
            except SemotError as exc:  # an OU name Semot refuses: the login goes on (the sync lists it)
                log.info("department %r of %r not taken: %s", "/".join(found.ou_path), user.id, exc.message)
        return await self._user_admin.get(user.id)

    async def _make(self, found: DirUser) -> User:
        """A new account without a local password; a directory name Semot refuses (too
        long, a blocked sensitive word) leaves the username as the name."""
        try:
            return await self._user_admin.create(found.username, None, found.display_name[:MAX_DISPLAY_NAME])
        except BadRequest as exc:
            log.info("directory name of %r not taken: %s", found.username, exc.message)
            return await self._user_admin.create(found.username, None, None)

    async def _place(self, user_id: str, path: tuple[str, ...], departments: Mapping[tuple[str, ...], str] | None) -> None:
        dept = departments.get(path) if departments is not None else None
        if dept is None:
            dept = await self._org.ensure_path(list(path), ImportSummary())
        mine = await self._admin.org.user_memberships([user_id])
        if all(m.department_id != dept for m in mine.get(user_id, [])):
            await self._org.add_member(dept, user_id)

    # --- groups -> administrator roles
    async def group_roles(self) -> dict[str, str]:
        stored = await self.store.get_config(GROUP_ROLES)
        return dict(stored) if isinstance(stored, dict) else dict(self._default_roles)

    async def set_group_roles(self, by: AdminGrant, mapping: Mapping[str, str]) -> dict[str, str]:
        """Store the mapping `by` asks for. A mapped group grants its role over the whole
        organisation to whoever the directory lists, so (as for a grant by hand) a role
        added or taken out of the mapping must be within what `by` holds, and `by` must
        administer the whole organisation; groups left as they were need nothing."""
        roles = await self._admin.roles()
        clean = check_mapping(mapping, set(roles))
        before = await self.group_roles()
        changed = {r for g, r in clean.items() if before.get(g) != r} | {r for g, r in before.items() if clean.get(g) != r}
        if changed:
            if not rules.within(by.perms, rules.grant_perms(changed, roles)):
                raise Forbidden("you cannot map groups to roles with permissions you do not hold")
            if await self._admin.scope_departments(by) is not None:
                raise Forbidden("directory groups give roles over the whole organisation: "
                                "only an administrator without a department limit can map them")
        await self.store.set_config(GROUP_ROLES, clean)
        return clean

    async def read_groups(self) -> dict[str, set[str] | None]:
        """Members of every mapped group (None: the group does not exist)."""
        return {dn: await self.directory.members(dn) for dn in await self.group_roles()}

    async def apply_roles(
        self, user_id: str, dn: str, before: tuple[str, ...], memberships: Mapping[str, set[str] | None] | None
    ) -> tuple[str, ...]:
        mapping = await self.group_roles()
        if not mapping and not before:
            return before
        groups = memberships if memberships is not None else await self.read_groups()
        wanted = wanted_roles(dn, mapping, groups)
        if wanted == before:
            return before
        user = await self._users.get_user(user_id)
        grant = await self._admin.rbac.get_grant(user_id)
        if user is not None and user.is_admin and grant is None:
            return wanted  # a full super administrator already: nothing to add or take
        held = grant.roles if grant is not None else ()
        by_hand = [r for r in held if r not in before]
        roles = tuple(dict.fromkeys([*by_hand, *wanted]))
        was = grant_state(bool(user and user.is_admin), grant)
        try:
            # in the audit log as done by "ldap" (no person: the directory's group membership)
            if roles:
                departments = grant.departments if grant is not None and by_hand else None
                new = Grant(user_id, roles, departments, now_ms(), BY)
                await self._admin.rbac.set_admin(user_id, new, admin=True)
                await self._admin.audit(BY, "admin.grant", user_id, "", before=was, after=grant_state(True, new))
            elif user is not None and user.is_admin:
                await self._admin.rbac.set_admin(user_id, None, admin=False)
                await self._admin.audit(BY, "admin.revoke", user_id, "", before=was, after=grant_state(False, None))
        except (Conflict, NotFound) as exc:  # e.g. the last super administrator keeps the role
            log.warning("directory roles of %r not changed: %s", user_id, exc)
            return before
        finally:
            self._admin.changed()
        return wanted

    # --- the console
    async def describe(self, user_id: str) -> dict[str, Any] | None:
        if not is_valid_id(user_id):
            return None
        link = await self.store.ldap_user(user_id)
        return link.to_wire() if link else None
