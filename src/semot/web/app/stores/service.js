// The customer-service workbench's state (components/service/): my agent state, my
// queues, the sessions waiting, the left messages, my active and recent sessions.
//
// The server is the one source of truth: the workbench is `GET /api/v1/cs/agent/workbench`,
// fetched when the connection opens and again (coalesced) after every `evt cs` that
// concerns me (assigned, waiting, transferred, closed, agent_state), so two tabs of one
// agent, or two agents on one queue, never disagree for longer than one round trip.
// Whether I am an agent comes from `GET /api/v1/me` (`cs_agent`), asked at each connect:
// a user who is not one never calls an agent route (no 403 in their console), never
// loads the queues' list, and never sees the tab.
import { reactive } from "vue";
import { client, openConv, state } from "../store.js";
import { forgetReads } from "./receipts.js";

export const service = reactive({
  isAgent: false,
  loaded: false,
  me: null, // {state, queues, max_concurrent, active_count}
  waiting: [],
  left_messages: [],
  active: [],
  recent: [],
  selectedId: null, // the session shown on the right
  history: [], // the selected visitor's past sessions
  agents: [], // everyone who could take a transfer: [{user_id, display_name, field, state, queue_id}]
  queues: [], // [{queue_id, name}]
  error: "",
  busy: false,
});

const API = "/api/v1/cs";
let reloadTimer = null;
let loading = null;

/** Every session the workbench knows, by id (an evt cs may bring one not listed yet). */
export function findSession(id) {
  for (const list of [service.active, service.waiting, service.left_messages, service.recent]) {
    const hit = list.find((x) => x.session_id === id);
    if (hit) return hit;
  }
  return null;
}

export function selected() {
  return service.selectedId ? findSession(service.selectedId) : null;
}

export async function loadWorkbench() {
  if (loading) return loading;
  loading = (async () => {
    try {
      const wb = await client.http("GET", `${API}/agent/workbench`);
      service.isAgent = true;
      service.me = wb.me || null;
      service.waiting = wb.waiting || [];
      service.left_messages = wb.left_messages || [];
      service.active = wb.active || [];
      service.recent = wb.recent || [];
      service.error = "";
    } catch (error) {
      if (error && (error.status === 403 || error.status === 404)) service.isAgent = false;
      else service.error = String((error && error.serverMessage) || error);
    } finally {
      service.loaded = true;
      loading = null;
    }
  })();
  return loading;
}

function reloadSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => loadWorkbench(), 100);
}

/** Am I an agent (GET /api/v1/me)? Then the workbench and the transfer targets. */
export async function checkAgent() {
  let me;
  try {
    me = await client.me();
  } catch {
    return; // offline again: the next connect asks again
  }
  if (me.user_id !== client.userId) return; // signed out or in as someone else meanwhile
  service.isAgent = !!me.cs_agent;
  if (!service.isAgent) {
    service.loaded = true;
    if (state.tab === "service") state.tab = "chats"; // no longer an agent
    return;
  }
  await Promise.all([loadWorkbench(), loadDirectory()]);
}

/** The agents and queues that a session can be transferred to (the widget's public list). */
export async function loadDirectory() {
  try {
    const w = await client.http("GET", `${API}/widget`, undefined, { auth: false });
    service.queues = (w.queues || []).map((q) => ({ queue_id: q.queue_id, name: q.name }));
    const seen = new Map();
    for (const q of w.queues || []) {
      for (const a of q.agents || []) if (!seen.has(a.user_id)) seen.set(a.user_id, { ...a, queue_id: q.queue_id });
    }
    service.agents = [...seen.values()].filter((a) => a.user_id !== client.userId);
  } catch {
    /* the transfer dialog shows what it has */
  }
}

async function act(fn) {
  service.busy = true;
  try {
    return await fn();
  } catch (error) {
    service.error = String((error && error.serverMessage) || error);
    throw error;
  } finally {
    service.busy = false;
    reloadSoon();
  }
}

export function setAgentState(value) {
  return act(async () => {
    await client.http("PUT", `${API}/agent/state`, { state: value });
    if (service.me) service.me.state = value;
  });
}

/** Open a session's chat on the right (loading its history through the normal chat). */
export async function selectSession(s) {
  service.selectedId = s.session_id;
  service.history = [];
  if (s.conv) await openConv(s.conv);
  const visitor = s.visitor && s.visitor.user_id;
  if (visitor) {
    try {
      const r = await client.http("GET", `${API}/visitors/${encodeURIComponent(visitor)}/sessions`);
      if (service.selectedId === s.session_id) service.history = (r.sessions || r || []).filter((x) => x.session_id !== s.session_id);
    } catch {
      /* the past sessions are a help, not a need */
    }
  }
}

export function accept(s) {
  return act(async () => {
    const r = await client.http("POST", `${API}/sessions/${encodeURIComponent(s.session_id)}/accept`);
    await loadWorkbench();
    await selectSession(findSession(s.session_id) || { ...s, ...(r || {}) });
  });
}

export function transfer(s, target) {
  // leave the chat first: once transferred I am no longer in its group, and an open chat
  // would reload the group's members and read marks (403) on the change that says so
  const wasOpen = state.activeId === s.conv;
  if (service.selectedId === s.session_id) service.selectedId = null;
  if (wasOpen) state.activeId = null;
  // its read marks too: the colleague joins (a reload of them) as I am removed (403)
  forgetReads(s.conv);
  return act(async () => {
    try {
      await client.http("POST", `${API}/sessions/${encodeURIComponent(s.session_id)}/transfer`, target);
    } catch (error) {
      if (wasOpen) await selectSession(s); // still mine
      throw error;
    }
  });
}

export function closeSession(s) {
  return act(async () => {
    await client.http("POST", `${API}/sessions/${encodeURIComponent(s.session_id)}/close`);
  });
}

/** Sessions waiting for me (a badge on the tab). */
export function waitingCount() {
  return service.waiting.length + service.left_messages.length;
}

client.on("event", (e) => {
  if (e.evt !== "cs") return;
  if (service.isAgent) reloadSoon(); // (made an agent meanwhile: the tab shows at the next connect)
});
client.on("state", ({ state: s }) => {
  if (s === "open") checkAgent();
});
if (client.connected) checkAgent();
