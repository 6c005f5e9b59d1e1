// What the administrators page's parts share: the roles (loaded once per visit), their
// names in the current language, the department tree for the scope picker, and a
// confirmation box. Everything shown goes through Vue's text interpolation (escaped).
import { reactive } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { SemotAPIError } from "semot";
import { api, notifyError } from "../../api.js";
import { i18n, t } from "../../i18n.js";
import { session } from "../../session.js";

export const store = reactive({ roles: [], menus: [], loaded: false });

/** Roles and the permission catalogue (GET /roles, GET /permissions). */
export async function loadRoles() {
  const [roles, cat] = await Promise.all([api.get("/roles"), api.get("/permissions")]);
  store.roles = roles.roles;
  store.menus = cat.menus;
  store.loaded = true;
}

export function label(labels, fallback = "") {
  if (!labels) return fallback;
  return labels[i18n.locale] || labels["zh-CN"] || labels.en || fallback;
}

export function roleName(roleId) {
  const role = store.roles.find((r) => r.role_id === roleId);
  return role ? label(role.labels, role.name) : roleId;
}

/** A permission's name as "menu · action" in the current language. */
export function permName(perm) {
  for (const m of store.menus) {
    const p = m.perms.find((x) => x.perm === perm);
    if (p) return `${label(m.labels)} · ${label(p.labels)}`;
  }
  return perm;
}

/** Whether the caller may hand out `perms` (null: every permission): nobody grants more than they hold. */
export function mayGive(perms) {
  if (session.perms === null) return true;
  if (perms === null) return false;
  return perms.every((p) => session.perms.includes(p));
}

/** The flat directory tree (parent_id, depth) as nested nodes for el-tree-select;
 * nodes outside `allowed` (a Set, or null for all) are disabled. */
export function nestTree(flat, allowed) {
  const byId = new Map();
  for (const d of flat) byId.set(d.department_id, { value: d.department_id, label: d.name, children: [], disabled: !!allowed && !allowed.has(d.department_id) });
  const roots = [];
  for (const d of flat) {
    const node = byId.get(d.department_id);
    const parent = d.parent_id && byId.get(d.parent_id);
    (parent ? parent.children : roots).push(node);
  }
  return roots;
}

/** The departments `roots` name and every one below them. */
export function subtree(flat, roots) {
  const kids = new Map();
  for (const d of flat) {
    if (!kids.has(d.parent_id)) kids.set(d.parent_id, []);
    kids.get(d.parent_id).push(d.department_id);
  }
  const out = new Set();
  const stack = [...roots];
  while (stack.length) {
    const id = stack.pop();
    if (out.has(id)) continue;
    out.add(id);
    stack.push(...(kids.get(id) || []));
  }
  return out;
}

/** Ask before a change; false when cancelled. */
export async function confirmed(message, title, button) {
  try {
    await ElMessageBox.confirm(message, title, {
      type: "warning", confirmButtonText: button, cancelButtonText: t("common.cancel"), confirmButtonClass: "el-button--danger",
    });
    return true;
  } catch {
    return false;
  }
}

/** Run an administrators API call quietly and explain a failure: the last super
 * administrator (409 on a grant or revoke) in the console's words, the rest as api.js
 * would. Resolves undefined on failure. */
export async function explained(action) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof SemotAPIError)) throw error;
    if (error.status === 409 && /last super administrator/.test(error.message)) ElMessage.error(t("admins.lastSuper"));
    else if (error.status === 409 && /hold this role/.test(error.message)) ElMessage.error(t("admins.roleInUse"));
    else if (error.status !== 401) notifyError(error);
    return undefined;
  }
}

/** Run an action whose failure api.js already showed. */
export async function quietly(action) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof SemotAPIError)) throw error;
    return undefined;
  }
}

export function formatTime(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
