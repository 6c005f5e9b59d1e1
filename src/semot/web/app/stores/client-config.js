// The administrator's client configuration (终端配置), applied live: product name and
// logo (login page, About, the tab's title and favicon), feature switches (the UI of a
// switched-off feature disappears; the server refuses it anyway), quick phrases, custom
// H5 pages, the watermark.
//
// Where it comes from: GET /api/v1/client-config at start (public: the login page needs
// it before anyone signs in), the auth reply's `config.client` on every (re)connect, and
// `evt config`, which carries the new configuration itself (a change reaches every open
// client at once, without a reload and without a hundred thousand fetches at once).
import { reactive } from "vue";
import { client, state, updateTitle } from "../store.js";
import { overrides } from "../i18n.js";

const DEFAULT_ICON = "/web/icons/icon.svg";
const CSS = "/web/app/components/client-config.css";

export const clientConfig = reactive({
  loaded: false,
  version: -1,
  product_name: "Semot",
  tagline: "",
  login_notice: "",
  logo_url: null,
  features: {},
  default_friend_groups: [],
  quick_phrases: [],
  pages: [],
  self_registration: true,
  direct_message_policy: "anyone",
  watermark: false,
  max_upload_bytes: 0,
});

/** Is `name` switched on? (Unknown or not yet loaded: on, as the server defaults.) */
export function feature(name) {
  return clientConfig.features[name] !== false;
}

/** The logo to show: the configured one, or Semot's. */
export function logoSrc() {
  return clientConfig.logo_url || DEFAULT_ICON;
}

/** Take a configuration object (GET, auth reply, evt config); an older one is ignored. */
export function applyClientConfig(cfg) {
  if (!cfg || typeof cfg !== "object" || typeof cfg.version !== "number") return;
  if (cfg.version < clientConfig.version) return;
  for (const key of Object.keys(clientConfig)) {
    if (key !== "loaded" && key in cfg) clientConfig[key] = cfg[key];
  }
  clientConfig.loaded = true;
  applyPage();
}

/** Fetch it again (when an `evt config` comes without the configuration in it). */
export async function loadClientConfig() {
  try {
    const r = await fetch("/api/v1/client-config", { credentials: "same-origin", cache: "no-cache" });
    if (r.ok) applyClientConfig(await r.json());
  } catch {
    /* offline: the auth reply brings it on connecting */
  }
}

// --- what the page itself shows: names, title, favicon, switches as classes on <html>
function applyPage() {
  const name = (clientConfig.product_name || "").trim();
  if (name && name !== "Semot") overrides.appName = name;
  else delete overrides.appName;
  if (clientConfig.tagline) overrides.tagline = clientConfig.tagline;
  else delete overrides.tagline;
  updateTitle();
  const href = logoSrc();
  for (const link of document.querySelectorAll('link[rel="icon"], link[rel="apple-touch-icon"]')) {
    if (link.getAttribute("href") !== href) link.setAttribute("href", href);
    if (href === DEFAULT_ICON) {
      if (link.rel === "icon") link.setAttribute("type", "image/svg+xml");
    } else link.removeAttribute("type");
  }
  // components/client-config.css hides the controls of switched-off features
  const root = document.documentElement;
  for (const [name, on] of Object.entries(clientConfig.features || {})) root.classList.toggle(`cfg-off-${name}`, on === false);
  root.dataset.cfgVersion = String(clientConfig.version);
  // a page tab that no longer exists, or the directory switched off while open
  if (String(state.tab).startsWith("h5:") && !clientConfig.pages[Number(state.tab.slice(3))]) state.tab = "chats";
  if (state.tab === "directory" && !feature("directory")) state.tab = "chats";
}

function linkStyles() {
  if (document.querySelector(`link[href="${CSS}"]`)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = CSS;
  document.head.appendChild(link);
}

let started = false;
/** Start following the configuration (main.js calls it once). */
export function startClientConfig() {
  if (started) return;
  started = true;
  linkStyles();
  loadClientConfig();
  client.on("event", (e) => {
    if (e && e.evt === "config") {
      if (e.config) applyClientConfig(e.config);
      else loadClientConfig();
    }
  });
  client.on("state", ({ state: s }) => {
    if (s === "open") applyClientConfig(client.serverConfig && client.serverConfig.client);
  });
}
