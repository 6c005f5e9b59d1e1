// Multi-select in a chat's message list (message menu -> Select): which messages are
// picked, for forwarding them one by one or merged into one chat-history card.
//
// The state lives here, not in the rows: the message list is virtual, so a row is
// created and destroyed as it scrolls in and out of view, and a checkbox's state kept
// in the row would be lost. One selection at a time (the open chat's); switching chats
// or pressing Esc ends it.
import { reactive } from "vue";
import { canForward } from "./forward.js";

/** At most this many messages per selection (a merged forward holds at most 100 items). */
export const MAX_SELECTED = 100;

export const selection = reactive({
  convId: "", // the conversation in selection mode, "" when none
  seqs: new Set(), // the picked messages' seqs
});

/** Whether a row can be picked: stored, forwardable messages only (not system notices,
 * tombstones, burn-after-reading or pending sends: canForward rules them out). */
export function canSelect(msg, pending = null) {
  return canForward(msg, pending);
}

export function isSelecting(conv) {
  return !!conv && selection.convId === conv.id;
}

export function isPicked(conv, seq) {
  return isSelecting(conv) && selection.seqs.has(seq);
}

/** Enter selection mode in `conv`, with `msg` (the row whose menu started it) picked. */
export function startSelect(conv, msg = null) {
  selection.convId = conv.id;
  selection.seqs.clear();
  if (msg && canSelect(msg)) selection.seqs.add(msg.seq);
}

/** Pick or unpick a message; false when the selection is full. */
export function togglePick(conv, msg) {
  if (!isSelecting(conv) || !canSelect(msg)) return true;
  if (selection.seqs.has(msg.seq)) {
    selection.seqs.delete(msg.seq);
    return true;
  }
  if (selection.seqs.size >= MAX_SELECTED) return false;
  selection.seqs.add(msg.seq);
  return true;
}

export function endSelect() {
  selection.convId = "";
  selection.seqs.clear();
}

/** The picked messages still forwardable (one may have been recalled meanwhile), in
 * seq order: the order they were said in, whatever the order they were clicked in. */
export function pickedMessages(conv) {
  if (!isSelecting(conv)) return [];
  return conv.messages.filter((m) => m && selection.seqs.has(m.seq) && canSelect(m)).sort((a, b) => a.seq - b.seq);
}
