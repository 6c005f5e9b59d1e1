"""Administrator permissions, the built-in roles and the rules that combine them.

A permission names one menu of the admin console and one action on it ("users.write");
the catalogue below is the only list of them (routes name theirs in `Route.perm`, the
console's role editor shows this list grouped by menu, with zh-CN and English labels).
A role is a set of permissions: four are built in and read-only, administrators build
more. An administrator's grant is some roles plus, optionally, the departments their
scope is limited to (each with its whole subtree). Pure rules, no I/O: the service
(services/admin_access.py) and the stores apply them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from semot.errors import BadRequest

MAX_ROLE_NAME = 64
MAX_ROLE_DESCRIPTION = 500
MAX_GRANT_ROLES = 20
MAX_GRANT_DEPARTMENTS = 100
SUPER_ADMIN = "super_admin"
ROLE_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Perm:
    name: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Menu:
    """One menu of the console (its page name) and the actions on it."""

    key: str
    zh: str
    en: str
    perms: tuple[Perm, ...]
    reserved: bool = False  # pages of the compliance issue: named now so roles can carry them


MENUS: tuple[Menu, ...] = (
    Menu("dashboard", "信息中心", "Dashboard", (Perm("dashboard.view", "查看", "View"),)),
    Menu(
        "users",
        "用户管理",
        "Users",
        (
            Perm("users.view", "查看", "View"),
            Perm("users.write", "新建、编辑、停用", "Create, edit, disable"),
            Perm("users.import", "批量导入", "Bulk import"),
        ),
    ),
    Menu("login-logs", "登录日志", "Login logs", (Perm("login_logs.view", "查看", "View"),)),
    Menu("org", "组织架构", "Organisation", (Perm("org.view", "查看", "View"), Perm("org.write", "编辑", "Edit"))),
    Menu(
        "groups",
        "群组管理",
        "Groups",
        (
            Perm("groups.view", "查看", "View"),
            Perm("groups.write", "管理", "Manage"),
            Perm("groups.history", "查看聊天记录", "Read history"),
        ),
    ),
    Menu("client-config", "终端配置", "Client configuration", (Perm("config.write", "编辑", "Edit"),)),
    Menu(
        "admins",
        "管理员与角色",
        "Administrators and roles",
        (Perm("admins.view", "查看", "View"), Perm("admins.write", "授权、编辑角色", "Grant, edit roles")),
    ),
    Menu("audit-log", "操作日志", "Audit log", (Perm("audit.view", "查看", "View"),)),
    Menu(
        "devtools",
        "开发者工具",
        "Developer tools",
        (Perm("devtools.view", "查看", "View"), Perm("devtools.write", "开启协议日志", "Start protocol logs")),
    ),
    Menu(
        "messages",
        "消息审计",
        "Message audit",
        (
            Perm("messages.audit", "搜索、导出聊天记录", "Search, export messages"),
            Perm("messages.recall", "撤回消息", "Recall messages"),
        ),
    ),
    Menu(
        "sensitive-words",
        "敏感词",
        "Sensitive words",
        (
            Perm("sensitive.view", "查看词库与命中记录", "View words and hits"),
            Perm("sensitive.write", "管理词库", "Manage words"),
        ),
    ),
    Menu("moderation", "内容审核", "Moderation", (Perm("moderation.review", "审核", "Review"),)),
    Menu(
        "retention",
        "消息保留",
        "Retention",
        (
            Perm("retention.view", "查看", "View"),
            Perm("retention.write", "编辑策略与法律保留", "Edit the policy and legal holds"),
        ),
    ),
    Menu(
        "api-keys",
        "服务端接口",
        "Server API",
        (
            Perm("api_keys.view", "查看密钥与调用日志", "View keys and the call log"),
            Perm("api_keys.write", "创建、吊销密钥", "Create, revoke keys"),
        ),
    ),
    Menu(
        "webhooks",
        "事件回调",
        "Webhooks",
        (
            Perm("webhooks.view", "查看回调与投递记录", "View hooks and deliveries"),
            Perm("webhooks.write", "注册、删除、重放", "Register, delete, replay"),
        ),
    ),
    Menu(
        "sso",
        "登录方式",
        "Sign-in methods",
        (Perm("sso.view", "查看", "View"), Perm("sso.write", "编辑登录方式", "Edit sign-in methods")),
    ),
    Menu(
        "ldap",
        "目录同步",
        "Directory sync",
        (Perm("ldap.view", "查看", "View"), Perm("ldap.write", "立即同步、编辑映射", "Sync now, edit mappings")),
    ),
    Menu(
        "customer-service",
        "客服",
        "Customer service",
        (
            Perm("cs.view", "查看队列、客服与统计", "View queues, agents and statistics"),
            Perm("cs.write", "管理队列、客服与插件设置", "Manage queues, agents and the widget"),
        ),
    ),
)

ALL_PERMS: frozenset[str] = frozenset(p.name for m in MENUS for p in m.perms)
PERM_ORDER: dict[str, int] = {p.name: i for i, p in enumerate(p for m in MENUS for p in m.perms)}


@dataclass(frozen=True, slots=True)
class Role:
    """A set of permissions under a name; `perms` None means every permission (super admin).
    A built-in role's name is its id (stable, for scripts); people read its labels."""

    id: str
    name: str
    description: str
    perms: frozenset[str] | None
    built_in: bool = False
    zh: str = ""  # built-in roles: their names in both languages
    en: str = ""
    created_at: int = 0
    updated_at: int = 0


BUILT_IN_ROLES: dict[str, Role] = {
    r.id: r
    for r in (
        Role(
            SUPER_ADMIN,
            SUPER_ADMIN,
            "Everything, everywhere",
            None,
            True,
            "超级管理员",
            "Super administrator",
        ),
        Role(
            "user_admin",
            "user_admin",
            "Accounts, their login logs and the organisation (read)",
            frozenset({"dashboard.view", "users.view", "users.write", "users.import", "login_logs.view", "org.view"}),
            True,
            "用户管理员",
            "User administrator",
        ),
        Role(
            "auditor",
            "auditor",
            "Reads users, login logs, groups and their history, the audit log",
            frozenset(
                {
                    "dashboard.view",
                    "users.view",
                    "login_logs.view",
                    "groups.view",
                    "groups.history",
                    "audit.view",
                    "messages.audit",
                    "sensitive.view",
                    "retention.view",
                }
            ),
            True,
            "审计员",
            "Auditor",
        ),
        Role(
            "org_admin",
            "org_admin",
            "The department tree and who is in it",
            frozenset({"dashboard.view", "org.view", "org.write", "users.view", "groups.view"}),
            True,
            "组织管理员",
            "Organisation administrator",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Grant:
    """What one administrator holds: roles, and departments (None: the whole organisation)."""

    user_id: str
    roles: tuple[str, ...]
    departments: tuple[str, ...] | None = None
    updated_at: int = 0
    updated_by: str = ""


# --- rules


def sorted_perms(perms: Iterable[str]) -> list[str]:
    """In catalogue order (menus as the console shows them)."""
    return sorted(set(perms), key=lambda p: (PERM_ORDER.get(p, len(PERM_ORDER)), p))


def check_perms(perms: Iterable[str]) -> frozenset[str]:
    """A custom role's permissions: known names, at least one."""
    out = frozenset(perms)
    unknown = sorted(out - ALL_PERMS)
    if unknown:
        raise BadRequest(f"unknown permissions: {', '.join(unknown[:10])}")
    if not out:
        raise BadRequest("a role needs at least one permission")
    return out


def clean_role_name(name: str) -> str:
    """Trimmed, NFC, 1-64 characters without control characters."""
    name = unicodedata.normalize("NFC", name).strip()
    if not 1 <= len(name) <= MAX_ROLE_NAME:
        raise BadRequest(f"name: 1-{MAX_ROLE_NAME} characters")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise BadRequest("name: no control characters")
    return name


def clean_description(text: str) -> str:
    text = unicodedata.normalize("NFC", text).strip()
    if len(text) > MAX_ROLE_DESCRIPTION:
        raise BadRequest(f"description: at most {MAX_ROLE_DESCRIPTION} characters")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        raise BadRequest("description: no control characters")
    return text


def grant_perms(role_ids: Iterable[str], roles: Mapping[str, Role]) -> frozenset[str] | None:
    """The union of the roles' permissions; None (everything) if one of them is super admin.
    A role id no longer defined grants nothing."""
    out: set[str] = set()
    for rid in role_ids:
        role = roles.get(rid)
        if role is None:
            continue
        if role.perms is None:
            return None
        out |= role.perms
    return frozenset(out)


def is_full_super(is_admin: bool, disabled: bool, grant: Grant | None) -> bool:
    """An administrator who can do everything everywhere: `is_admin` with no grant (as
    `semot create-admin` makes them) or with the super admin role and no department
    limit. The last enabled one can be neither removed, demoted nor disabled."""
    if not is_admin or disabled:
        return False
    return grant is None or (SUPER_ADMIN in grant.roles and grant.departments is None)


def removes_last_super(
    other_supers: int, disabled: bool, before: tuple[bool, Grant | None], after: tuple[bool, Grant | None]
) -> bool:
    """Whether changing a user's (is_admin, grant) from `before` to `after` leaves no
    enabled full super administrator, `other_supers` being how many others there are."""
    return (
        other_supers == 0
        and is_full_super(before[0], disabled, before[1])
        and not is_full_super(after[0], disabled, after[1])
    )


def children_map(parents: Mapping[str, str | None]) -> dict[str | None, list[str]]:
    kids: dict[str | None, list[str]] = {}
    for dept, parent in parents.items():
        kids.setdefault(parent, []).append(dept)
    return kids


def subtrees(roots: Iterable[str], parents: Mapping[str, str | None]) -> frozenset[str]:
    """The departments `roots` name (those that exist) and every department below them."""
    kids = children_map(parents)
    out: set[str] = set()
    stack = [r for r in roots if r in parents]
    while stack:
        d = stack.pop()
        if d in out:
            continue
        out.add(d)
        stack.extend(kids.get(d, ()))
    return frozenset(out)


def within(perms: frozenset[str] | None, wanted: frozenset[str] | None) -> bool:
    """Whether a holder of `perms` may hand out `wanted` (nobody grants more than they hold)."""
    if perms is None:
        return True
    return wanted is not None and wanted <= perms


def departments_within(scope: frozenset[str] | None, wanted: Iterable[str] | None) -> bool:
    """Whether an admin whose scope is `scope` (departments incl. subtrees; None: all)
    may give out the department limit `wanted` (None: the whole organisation)."""
    if scope is None:
        return True
    return wanted is not None and all(d in scope for d in wanted)


def catalogue() -> list[dict[str, object]]:
    """The permissions grouped by menu, labelled in both languages (the role editor)."""
    return [
        {
            "menu": m.key,
            "labels": {"zh-CN": m.zh, "en": m.en},
            "reserved": m.reserved,
            "perms": [{"perm": p.name, "labels": {"zh-CN": p.zh, "en": p.en}} for p in m.perms],
        }
        for m in MENUS
    ]
