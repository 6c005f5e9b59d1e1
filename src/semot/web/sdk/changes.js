// Semot JavaScript SDK: message edits and reactions (docs/protocol.md, "Edits and reactions").
//
// An edit or a reaction changes a stored message in place: no message is added, so the
// conversation's seq and unread counts do not move. Each conversation counts its changes
// in `change_seq`; this module keeps the device's cursor per conversation (persisted with
// lastSeq) and makes sure the app hears of every change exactly as it is now:
//
// - live: `evt edit` / `evt reaction` carry the new change_seq. The next one (cursor + 1)
//   just moves the cursor; a jump means one was missed: the changes in between are
//   fetched with `changes` first; an event at or below the cursor is stale (already
//   covered by a fetch) and is not passed on;
// - catch-up: `sync` sends the cursors (`changes`); a conversation whose change_seq
//   moved past its cursor has its changed messages fetched, each announced as
//   {t:"evt", evt:"changed", conv, seq, message, source:"sync"} (the message in full:
//   current body, edited_ts, reactions). A conversation new to this device starts at
//   its current change_seq: its history already shows every message as it is now.

export class ChangeTracker {
  constructor(client) {
    this.client = client;
    this.cursors = {}; // conv -> change_seq this device has applied
  }

  load() {
    const raw = this.client._loadJSON("changeseq", true) || {};
    this.cursors = {};
    for (const [k, v] of Object.entries(raw)) if (Number.isInteger(v) && v >= 0) this.cursors[k] = v;
  }

  save() {
    if (this.client.userId) this.client._saveJSON("changeseq", this.cursors, true);
  }

  /** The `changes` field of a `sync` request. */
  syncField() {
    return { ...this.cursors };
  }

  /** After `sync` (`known`: the lastSeq it was asked with): fetch what changed. */
  async afterSync(states, known) {
    for (const st of states) {
      if (!Number.isInteger(st.change_seq)) continue;
      const cur = this.cursors[st.conv];
      if (cur === undefined && !(st.conv in known)) {
        this.cursors[st.conv] = st.change_seq; // new here: its history shows it as it is now
      } else if (st.change_seq > (cur || 0)) {
        await this._fetch(st.conv, "sync");
      }
    }
    this.save();
  }

  /** A change this device made itself (the reply of edit / react). */
  own(conv, changeSeq) {
    if (!Number.isInteger(changeSeq)) return;
    const cur = this.cursors[conv];
    if (cur !== undefined && changeSeq === cur + 1) this.cursors[conv] = changeSeq;
    else if (cur !== undefined && changeSeq > cur + 1) this._fetch(conv, "gap").catch((e) => this.client._report(e, "changes"));
  }

  /** A live `evt edit` / `evt reaction`: pass it on unless stale, fill a gap first. */
  onEvent(frame) {
    const { conv, change_seq: cs } = frame;
    const cur = this.cursors[conv];
    if (cur === undefined || !Number.isInteger(cs)) {
      this.client._emit("event", frame);
      return;
    }
    if (cs <= cur) return; // already applied (a fetch covered it)
    if (cs === cur + 1) {
      this.cursors[conv] = cs;
      this.client._emit("event", frame);
      this.client._saveSoon();
      return;
    }
    this._fetch(conv, "gap").catch((e) => this.client._report(e, "changes"));
  }

  _fetch(conv, source) {
    return this.client._locks.run(`changes:${conv}`, async () => {
      for (let guard = 0; guard < 1000; guard++) {
        const after = this.cursors[conv] || 0;
        const page = await this.client.changes(conv, { after });
        for (const message of page.messages) {
          this.client._emit("event", { t: "evt", evt: "changed", conv, seq: message.seq, message, source });
        }
        this.cursors[conv] = Math.max(after, page.change_seq);
        if (!page.more || !page.messages.length) break;
      }
      this.client._saveSoon();
    });
  }
}
