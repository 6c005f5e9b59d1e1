// The console's address: /admin/#/<page>[/<more>][?key=value...]. A hash route needs no
// server support, survives the login page (a deep link opens once signed in) and
// keeps the browser's back button working between pages.
import { reactive } from "vue";

export const route = reactive({ name: "", path: "", rest: [], query: {} });

function parse() {
  const hash = location.hash.replace(/^#\/?/, "");
  const cut = hash.indexOf("?");
  const path = cut < 0 ? hash : hash.slice(0, cut);
  const parts = path.split("/").filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  route.path = path;
  route.name = parts[0] || "";
  route.rest = parts.slice(1);
  route.query = Object.fromEntries(new URLSearchParams(cut < 0 ? "" : hash.slice(cut + 1)));
}

function build(name, rest = [], query = undefined) {
  const path = [name, ...rest].map((p) => encodeURIComponent(p)).join("/");
  const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== "")).toString() : "";
  return `#/${path}${q ? `?${q}` : ""}`;
}

/** Go to a page (a new history entry). */
export function navigate(name, { rest = [], query = undefined } = {}) {
  const target = build(name, rest, query);
  if (location.hash === target) return;
  location.hash = target;
}

/** Change the current page's query (filters, paging) without a new history entry. */
export function setQuery(query) {
  history.replaceState(history.state, "", build(route.name, route.rest, query));
  parse();
}

window.addEventListener("hashchange", parse);
parse();
