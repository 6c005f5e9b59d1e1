// The page registry: every page the console knows, loaded from pages/<name>.js when the
// module exists (the server lists them at /admin/pages.json); a missing or broken module
// is left out of the menu and the rest of the console works.
//
// A page module's default export:
//   {
//     name: "users",              // = the file name; the route is /admin/#/users
//     perm: "users.view",         // needed to see it (a name, an array = any of them, or null)
//     icon: "User",               // an @element-plus/icons-vue component name
//     order: 20,                  // menu position (smaller first)
//     title: "menu.users",        // i18n key of the menu entry and page title
//     component: { ... },         // the Vue component (template string, setup, ...)
//     messages: { "zh-CN": { "users.create": "新建用户" }, en: { "users.create": "New user" } },
//   }
import { markRaw, reactive } from "vue";
import { extend } from "../i18n.js";

export const PAGE_NAMES = [
  "dashboard", "users", "user-import", "login-logs", "org", "groups", "client-config", "admins", "audit-log", "devtools",
  "messages", "sensitive-words", "moderation", "retention",
  "api-keys", "webhooks", "sso", "ldap", "customer-service",
];

// order when the module does not say
const DEFAULT_ORDER = Object.fromEntries(PAGE_NAMES.map((n, i) => [n, (i + 1) * 10]));

export const registry = reactive({ loaded: false, pages: [] });

function normalise(name, def) {
  if (!def || typeof def !== "object" || !def.component) throw new Error(`pages/${name}.js has no default export with a component`);
  if (def.name && def.name !== name) console.warn(`semot admin: pages/${name}.js says its name is ${def.name}`);
  if (def.messages) extend(def.messages);
  return {
    name,
    perm: def.perm ?? null,
    icon: def.icon || "Document",
    order: typeof def.order === "number" ? def.order : DEFAULT_ORDER[name] ?? 1000,
    title: def.title || `menu.${name}`,
    component: markRaw(def.component),
  };
}

async function available() {
  try {
    const resp = await fetch("/admin/pages.json", { cache: "no-cache" });
    if (resp.ok) return (await resp.json()).pages;
  } catch {
    /* try every page */
  }
  return null;
}

/** Load every page module that exists (once). */
export async function loadPages() {
  if (registry.loaded) return registry.pages;
  const present = await available();
  const names = present ? PAGE_NAMES.filter((n) => present.includes(n)) : PAGE_NAMES;
  const loaded = await Promise.all(
    names.map(async (name) => {
      try {
        return normalise(name, (await import(`./${name}.js`)).default);
      } catch (error) {
        console.error(`semot admin: the page ${name} could not be loaded`, error);
        return null;
      }
    }),
  );
  registry.pages = loaded.filter(Boolean).sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  registry.loaded = true;
  return registry.pages;
}

export function findPage(name) {
  return registry.pages.find((p) => p.name === name) || null;
}
