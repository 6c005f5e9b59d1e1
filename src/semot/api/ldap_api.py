"""LDAP / Active Directory administration over HTTP (docs/sso.md "LDAP / Active Directory").

- `GET /api/admin/v1/ldap` -> the directory settings in use (no password), the newest
  sync runs (status, counts, errors), how many users the directory manages, the group
  -> role mapping — perm ldap.view; `{"enabled": false, ...}` when LDAP is off;
- `POST /api/admin/v1/ldap/sync` -> 202, the run started in the background ("sync
  now"); 409 while one runs (on any node) and when LDAP is off — ldap.write;
- `PUT /api/admin/v1/ldap/group-roles` `{"group_roles": {group DN: role id}}` -> the
  mapping stored (it replaces the `ldap_group_roles` setting; 409 when LDAP is off) — ldap.write;
  403 when a group added, changed or removed names a role with permissions the caller
  does not hold, or the caller's grant has a department limit (group roles are org-wide).
Both writes are audited (`ldap.sync`, `ldap.group_roles`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from semot.domain.admin_perms import ROLE_ID_RE
from semot.errors import Conflict
from semot.services.ldap_accounts import MAX_MAPPINGS
from semot.services.ldap_sync import LdapSync
from semot.storage.ldap import MAX_DN

from .http import Call
from .routing import Route, RouteTable

BASE = "/api/admin/v1/ldap"
DN_PATTERN = r"^[^\x00]*=[^\x00]*$"
GroupDn = Annotated[str, StringConstraints(min_length=3, max_length=MAX_DN, pattern=DN_PATTERN)]
RoleId = Annotated[str, StringConstraints(pattern=ROLE_ID_RE.pattern)]
# said outright: pydantic's patternProperties would leave keys that miss the pattern unconstrained
_MAPPING_SCHEMA: dict[str, Any] = {
    "type": "object", "maxProperties": MAX_MAPPINGS,
    "propertyNames": {"minLength": 3, "maxLength": MAX_DN, "pattern": DN_PATTERN},
    "additionalProperties": {"type": "string", "pattern": ROLE_ID_RE.pattern},
}


class LdapGroupRolesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group_roles: Annotated[dict[GroupDn, RoleId], Field(max_length=MAX_MAPPINGS), WithJsonSchema(_MAPPING_SCHEMA)] = Field(
        description="directory group DN -> administrator role id (super_admin, user_admin, auditor, org_admin or "
        "a custom role's id); {} maps no group"
    )


class LdapGroupRolesOut(BaseModel):
    group_roles: dict[str, str]


class LdapSyncRunOut(BaseModel):
    run_id: int
    trigger: str = Field(description="schedule or manual")
    by: str | None = Field(description="manual: the administrator who started it")
    started_at: int
    finished_at: int | None = Field(description="null: running")
    ok: bool | None = Field(description="null: running; false: the run failed (see errors)")
    counts: dict[str, int] = Field(description="users, created, unchanged, disabled, enabled, departments, "
                                   "departments_created, errors")
    errors: list[str]


class LdapStatusOut(BaseModel):
    enabled: bool
    url: str | None = Field(description="the directory server (ldap_url)")
    user_base: str
    user_filter: str
    start_tls: bool
    interval_s: float = Field(description="scheduled sync every this many seconds; 0: only on demand")
    running: bool
    runs: list[LdapSyncRunOut] = Field(description="the newest runs, newest first")
    managed_users: int = Field(description="accounts whose password the directory checks")
    disabled_by_sync: int = Field(description="of those, disabled because the directory no longer has them")
    group_roles: dict[str, str]


def _ldap(call: Call) -> LdapSync:
    service = call.services.ldap
    if service is None:  # a state of this server, not an outage: 409, not 503
        raise Conflict("LDAP is not enabled on this server (ldap_enabled)")
    return service


async def ldap_status(call: Call) -> dict[str, Any]:
    s = call.services.settings
    out: dict[str, Any] = {
        "enabled": call.services.ldap is not None, "url": s.ldap_url, "user_base": s.ldap_user_base,
        "user_filter": s.ldap_user_filter, "start_tls": s.ldap_start_tls, "interval_s": s.ldap_sync_interval_s,
        "running": False, "runs": [], "managed_users": 0, "disabled_by_sync": 0, "group_roles": {},
    }
    if call.services.ldap is not None:
        out.update(await call.services.ldap.status())
    return out


async def ldap_sync_now(call: Call) -> dict[str, Any]:
    run = await _ldap(call).start_run(call.me.id)
    await call.audit("ldap.sync", str(run.id), after={"run_id": run.id})
    return run.to_wire()


async def ldap_set_group_roles(call: Call) -> dict[str, Any]:
    b: LdapGroupRolesIn = call.body
    accounts = _ldap(call).accounts
    before = await accounts.group_roles()
    assert call.grant is not None  # an admin route: the caller's roles and department limit
    after = await accounts.set_group_roles(call.grant, b.group_roles)
    await call.audit("ldap.group_roles", "group_roles", before=before, after=after)
    return {"group_roles": after}


def routes() -> RouteTable:
    t = RouteTable()
    tag = "admin: LDAP"
    t.add(Route("GET", BASE, ldap_status, "LDAP / Active Directory: settings, sync runs, group -> role mapping", tag,
                None, LdapStatusOut, auth="admin", perm="ldap.view"))
    t.add(Route("POST", BASE + "/sync", ldap_sync_now, "Sync users and departments from the directory now", tag,
                None, LdapSyncRunOut, status=202, auth="admin", perm="ldap.write"))
    t.add(Route("PUT", BASE + "/group-roles", ldap_set_group_roles, "Map directory groups to administrator roles", tag,
                LdapGroupRolesIn, LdapGroupRolesOut, auth="admin", perm="ldap.write"))
    return t
