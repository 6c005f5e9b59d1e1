// The user's own settings of each conversation (pinned, do not disturb, hidden), as the
// server keeps them for all of the user's devices (docs/protocol.md, "Conversation
// settings"). A leaf module (it imports nothing of the app) so that store.js can ask it
// "is this conversation muted?" without an import cycle; the actions and the list order
// live in conversations.js.
//
// Hidden is a seq, not a flag: a conversation hidden at seq N shows again as soon as a
// message after N arrives (its maxSeq passes N), on every device, with nothing to clear.
import { reactive } from "vue";

const DEFAULT = Object.freeze({ pinnedAt: null, dnd: false, hiddenSeq: null });

export const convSettings = reactive({
  owner: null, // the user these belong to: another sign-in starts afresh
  by: {}, // conv -> {pinnedAt, dnd, hiddenSeq}
});

function mine(userId) {
  if (convSettings.owner !== userId) {
    convSettings.owner = userId;
    convSettings.by = {};
  }
}

/**
 * Take the settings a `sync` entry, a `conv_set` reply or an `evt conv_settings` carries.
 * Returns "removed" for a conversation the user is no longer in that they removed from
 * the list (hidden, with no seq: the caller drops it), true when applied, false when the
 * server sent no settings (an older server).
 */
export function applySettings(userId, wire) {
  if (!wire || !wire.conv || typeof wire.dnd !== "boolean") return false;
  mine(userId);
  if (wire.hidden && wire.hidden_seq == null) {
    delete convSettings.by[wire.conv];
    return "removed";
  }
  const next = {
    pinnedAt: Number.isInteger(wire.pinned_at) ? wire.pinned_at : null,
    dnd: wire.dnd,
    hiddenSeq: wire.hidden && Number.isInteger(wire.hidden_seq) ? wire.hidden_seq : null,
  };
  if (next.pinnedAt === null && !next.dnd && next.hiddenSeq === null) delete convSettings.by[wire.conv];
  else convSettings.by[wire.conv] = next;
  return true;
}

export function settingsOf(conv) {
  return convSettings.by[conv] || DEFAULT;
}

/** Do not disturb: no sound, no desktop notification, a grey badge, not in the title count. */
export function isDnd(conv) {
  return settingsOf(conv).dnd;
}

export function pinnedAt(conv) {
  return settingsOf(conv).pinnedAt;
}

/** Hidden while nothing came after the message it was hidden at. */
export function isHidden(c) {
  const seq = settingsOf(c.id).hiddenSeq;
  return seq !== null && (c.maxSeq || 0) <= seq;
}
