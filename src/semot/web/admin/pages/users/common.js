// What the users page's parts share: times, the department tree for pickers, copying.
import { ref } from "vue";
import { ElMessage } from "element-plus";
import { api } from "../../api.js";
import { i18n, t } from "../../i18n.js";

export function formatTime(ms) {
  if (!ms) return "";
  return new Date(ms).toLocaleString(i18n.locale === "zh-CN" ? "zh-CN" : "en-GB", { hour12: false });
}

export function platformName(p) {
  return p ? t(`users.platform.${p}`) : t("users.unknown");
}

/** The directory's department tree (every signed-in user may read it), nested for
 * Element Plus's tree select: [{value, label, children}]. Loaded once per page visit. */
export function useDepartments() {
  const tree = ref([]);
  const names = ref({});
  async function load() {
    const flat = (await api.get("/api/v1/directory/departments", null, { quiet: true })).departments;
    const nodes = {};
    const roots = [];
    for (const d of flat) nodes[d.department_id] = { value: d.department_id, label: d.name, children: [] };
    for (const d of flat) {
      const parent = d.parent_id && nodes[d.parent_id];
      (parent ? parent.children : roots).push(nodes[d.department_id]);
    }
    tree.value = roots;
    names.value = Object.fromEntries(flat.map((d) => [d.department_id, d.name]));
  }
  load().catch(() => {
    /* no directory: the pickers stay empty */
  });
  return { tree, names, load };
}

/** Copy text to the clipboard (the console runs on https or localhost: a secure context);
 * `fallback` is an input element whose text is selected for a manual copy otherwise. */
export async function copyText(text, fallback = null) {
  try {
    await navigator.clipboard.writeText(text);
    ElMessage({ type: "success", message: t("users.copied"), grouping: true });
    return true;
  } catch {
    if (fallback && fallback.select) fallback.select();
    ElMessage({ type: "warning", message: t("users.copyFailed"), grouping: true });
    return false;
  }
}

/** A readable random password: 16 characters without look-alikes (0/O, 1/l/I). */
export function randomPassword() {
  const chars = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => chars[b % chars.length]).join("");
}
