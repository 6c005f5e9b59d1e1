// The customer mode: anonymous visitors and external customers (a site's users synced
// with `external: true`, e.g. the sample shop's buyers opening "Messages") may use
// customer service only; the server answers 403 to the rest (docs/customer-service.md,
// "Customers and visitors are limited"). `GET /api/v1/me` says `restricted`
// (state.restricted, store.js), and the client then shows only what they can use:
// their chats, sending, their own profile and settings, sign-out, and a button to reach
// an agent. Views left out (contacts, directory, H5 pages, '+' menu) are v-if'd by
// their components; controls of components shared with staff are hidden by
// `html.customer-mode` (customer-mode.css), and the background lookups of those
// components (a sender's directory entry, a group's details) are answered here
// locally, as the server would, so the page makes no doomed requests.
import { watch } from "vue";
import { ElMessage } from "element-plus";
import { SemotAPIError } from "semot";
import { t } from "../i18n.js";
import { client, describeError, openConv, state } from "../store.js";

const CSS = "/web/app/components/customer-mode.css";
if (typeof document !== "undefined" && !document.querySelector(`link[href="${CSS}"]`)) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = CSS;
  document.head.appendChild(link);
}

/** Whether the signed-in user is a visitor or a customer (reactive). */
export function customerMode() {
  return state.restricted;
}

const STAFF_TABS = new Set(["contacts", "directory", "service"]);
watch(() => [state.restricted, state.tab], ([on, tab]) => {
  document.documentElement.classList.toggle("customer-mode", on);
  if (on && (STAFF_TABS.has(tab) || String(tab).startsWith("h5:"))) state.tab = "chats"; // e.g. the tab before signing in
}, { immediate: true });

const closed = () => new SemotAPIError("forbidden", "customer service only", 403);
// the profile card's directory entry: none for a customer (the card shows the profile);
// a group's details: closed (the composer's and banner's lookups are best effort)
const searchPeople = client.searchPeople.bind(client);
client.searchPeople = (q, limit) => (state.restricted ? Promise.resolve([]) : searchPeople(q, limit));
const getGroup = client.getGroup.bind(client);
client.getGroup = (groupId) => (state.restricted ? Promise.reject(closed()) : getGroup(groupId));

let starting = false;
/** Start (or resume) a customer-service session and open its chat (POST /api/v1/cs/sessions
 * without a queue: the server's first queue, or the open session of this user). */
export async function contactSupport() {
  if (starting) return;
  starting = true;
  try {
    const s = await client.http("POST", "/api/v1/cs/sessions", {});
    await openConv(s.conv);
  } catch (error) {
    ElMessage.error(error instanceof SemotAPIError && error.status === 409 ? t("customer.noService") : describeError(error));
  } finally {
    starting = false;
  }
}
