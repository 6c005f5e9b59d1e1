"""What storing one batch of messages means, apart from how a database is spoken to.

Every append path runs the same plan (the SQLite and PostgreSQL appenders, the
SQLAlchemy path that numbers a group write's notices, the in-memory store): drop
(sender, cid) pairs stored before or repeated in the batch, create direct chats on
their first message, reserve seqs per conversation, number the rows, and list the
file_refs rows of new file messages (written in the same transaction as the messages,
so a file message never exists without the reference that grants its readers access).
It is also where the test-only fault hook sits, so every path fails the same way.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from semot.domain.files import REF_MESSAGE
from semot.domain.messages import Message, message_file_id
from semot.domain.records import AppendResult, NewMessage
from semot.errors import NotFound

Key = tuple[str, str]
ROW_COLUMNS = ("conv", "seq", "mid", "cid", "sender", "kind", "body", "opts", "ts", "burn_s", "ip")
REF_COLUMNS = ("file_id", "kind", "ref", "conv", "created_at")


class InjectedFault(ValueError):
    """The test-only fault hook's stand-in for a value the database refuses."""


class BatchPlan:
    # Test-only (SEMOT_TEST_FAULT_CID_PREFIX, set by the composition root): numbering a
    # new message whose cid starts with this raises, as a value the database refuses
    # would, so tests can send a poison that validation lets through over a real socket.
    fault_cid_prefix: ClassVar[str | None] = None

    def __init__(self, batch: list[NewMessage]) -> None:
        self.batch = batch
        self.results: list[AppendResult | Exception | None] = [None] * len(batch)
        self._first: dict[Key, int] = {}
        self._fresh: list[int] = []
        self._by_conv: dict[str, list[int]] = {}

    def keys(self) -> list[Key]:
        """The (sender, cid) pairs whose earlier copies must be looked up."""
        return list({(n.sender, n.cid) for n in self.batch})

    def take_existing(self, existing: dict[Key, Message]) -> None:
        """Answer repeats with the stored original; keep the first of each new pair."""
        for idx, n in enumerate(self.batch):
            key = (n.sender, n.cid)
            if key in existing:
                self.results[idx] = AppendResult(existing[key], created=False)
            elif key not in self._first:
                self._first[key] = idx
                self._fresh.append(idx)
                self._by_conv.setdefault(n.conv, []).append(idx)

    def new_direct_chats(self, known: set[str]) -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        for i in self._fresh:
            n = self.batch[i]
            if n.direct_users and n.conv not in known:
                out[n.conv] = n.direct_users
        return out

    def seq_needs(self) -> dict[str, tuple[int, int]]:
        """conv -> (how many seqs, newest ts) for the conversations row update."""
        return {c: (len(ix), max(self.batch[i].ts for i in ix)) for c, ix in self._by_conv.items()}

    def number(self, tops: dict[str, int]) -> list[tuple[Any, ...]]:
        """Give seqs below each conversation's new max_seq; rows in ROW_COLUMNS order."""
        rows: list[tuple[Any, ...]] = []
        for conv in sorted(self._by_conv):
            idxs = self._by_conv[conv]
            top = tops.get(conv)
            if top is None:
                for i in idxs:
                    self.results[i] = NotFound(f"conversation {conv} does not exist")
                continue
            seq = top - len(idxs)
            for i in idxs:
                seq += 1
                n = self.batch[i]
                if self.fault_cid_prefix and n.cid.startswith(self.fault_cid_prefix):
                    raise InjectedFault(f"injected test fault for cid {n.cid!r}")
                self.results[i] = AppendResult(
                    Message(n.conv, seq, n.mid, n.cid, n.sender, n.kind, n.body, n.ts, n.opts), created=True
                )
                rows.append(
                    (
                        n.conv,
                        seq,
                        n.mid,
                        n.cid,
                        n.sender,
                        n.kind,
                        orjson.dumps(n.body).decode(),
                        orjson.dumps(n.opts).decode(),
                        n.ts,
                        n.opts.get("burn_s"),
                        n.ip,  # the sending device's address (audit search: docs/search.md)
                    )
                )
        return rows

    def file_refs(self) -> list[tuple[str, str, str, str, int]]:
        """After `number`: the file_refs rows (REF_COLUMNS order) of the new file messages
        it numbered, `ref` = the message's mid, `created_at` = its ts (when it was sent:
        what decides whether a former member saw it)."""
        out: list[tuple[str, str, str, str, int]] = []
        for r in self.results:
            if isinstance(r, AppendResult) and r.created:
                m = r.message
                file_id = message_file_id(m.kind, m.body)
                if file_id is not None:
                    out.append((file_id, REF_MESSAGE, m.mid, m.conv, m.ts))
        return out

    def finish(self) -> list[AppendResult | Exception]:
        """Repeats inside the batch get the result of their first copy."""
        for idx, n in enumerate(self.batch):
            if self.results[idx] is None:
                first = self.results[self._first[(n.sender, n.cid)]]
                self.results[idx] = (
                    AppendResult(first.message, created=False) if isinstance(first, AppendResult) else first
                )
        return self.results  # type: ignore[return-value]
