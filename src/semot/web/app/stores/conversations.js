// Per-conversation settings as the list uses them: the order (pinned first), what is
// hidden, and the actions of the conversation menu (pin, do not disturb, hide / remove),
// each kept in step on every device of the user by `evt conv_settings`.
// See conversations-settings.js for the stored values and docs/protocol.md for the wire.
import { client, closeConv, sortedConvs, state } from "../store.js";
import { applySettings, isDnd, isHidden, pinnedAt } from "./conversations-settings.js";

export { isDnd, isHidden, pinnedAt };

/**
 * The conversations the list shows: pinned ones first (the most recently pinned on top),
 * then the rest by activity (store.js's order). Hidden ones are left out, except the
 * open one and while searching (a hidden chat is found by searching for it).
 */
export function visibleConvs() {
  const searching = !!state.search.trim();
  const list = sortedConvs().filter((c) => searching || c.id === state.activeId || !isHidden(c));
  return list.sort((a, b) => (pinnedAt(b.id) || 0) - (pinnedAt(a.id) || 0)); // stable: activity order stays
}

/** Whether a conversation can still be pinned or muted: not a dismissed group (nobody
 * writes in it any more; it can only be removed from the list). */
export function canConfigure(c) {
  return !(c.type === "group" && c.dismissed);
}

/** Take settings from a reply or a push; `local`: this device asked (an open chat it
 * hides is closed; one hidden on another device stays open here until left). */
function take(wire, local) {
  const done = applySettings(client.userId, wire);
  if (!done) return;
  const id = wire.conv;
  if (done === "removed") {
    // a conversation I am no longer in, removed from the list: nothing of it remains
    if (state.activeId === id) closeConv();
    delete state.convs[id];
    return;
  }
  const c = state.convs[id];
  if (local && c && state.activeId === id && isHidden(c)) closeConv();
}

async function change(c, fields) {
  const reply = await client.setConversation(c.id, fields);
  take(reply, true);
  return reply;
}

export function setPinned(c, on) {
  return change(c, { pinned: on });
}

export function setDnd(c, on) {
  return change(c, { dnd: on });
}

/** Hide from the list (it comes back with the next message); for a group I left or that
 * was dismissed, this removes it from the list for good. */
export function hideConv(c) {
  return change(c, { hidden: true });
}

client.on("event", (e) => {
  if (e && e.evt === "conv_settings") take(e, false);
});
