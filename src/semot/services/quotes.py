"""Replies: the quote (`reply_to`) a message carries, filled and kept honest by the server.

A client sends `reply_to: {"seq": N}`; the server checks that message N exists in the
same conversation and stores an excerpt of it (`{seq, from, kind, text?}`) taken from
the stored original, never from the client, so every device shows the quote even when
the original is far outside the history it has loaded. When the original is recalled
afterwards, the excerpts of its replies lose their text too (they read as "recalled"):
a recall must not live on in the quotes of it.
"""

from __future__ import annotations

import logging
from typing import Any

from semot.domain.messages import RECALLED, Message, check_reply_target, reply_excerpt
from semot.storage.base import MessageStorage

log = logging.getLogger(__name__)

PAGE = 200
# Replies written after a recall quote "recalled" already; the ones written before it
# fall within the recall window after the original (plus the time a send may take
# between prepare and commit). The scan stops there, however busy the conversation.
SCAN_SLACK_MS = 30_000
SCAN_MAX = 20_000  # a hard stop for a conversation flooded within that window


async def fill_reply(store: MessageStorage, conv: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body to store: its `reply_to` replaced by the excerpt of the stored original.

    not_found when no message has that seq in this conversation (which also means it is
    beyond the current last seq), bad_request for a system notice."""
    reply = body.get("reply_to")
    if not isinstance(reply, dict):
        return body
    seq = int(reply["seq"])
    original = await store.get_message(conv, seq)
    check_reply_target(original, seq)
    assert original is not None  # check_reply_target raised otherwise
    return {**body, "reply_to": reply_excerpt(original)}


async def forget_recalled(store: MessageStorage, original: Message, window_s: int) -> int:
    """After `original` was recalled: strip its text from the excerpts of its replies.

    Returns how many replies were rewritten."""
    deadline = original.ts + window_s * 1000 + SCAN_SLACK_MS
    recalled = {"seq": original.seq, "from": original.sender, "kind": RECALLED}
    after, seen, found = original.seq, 0, {}
    while seen < SCAN_MAX:
        page, more = await store.history(original.conv, after=after, before=None, limit=PAGE)
        for m in page:
            quote = m.body.get("reply_to")
            if isinstance(quote, dict) and quote.get("seq") == original.seq and quote.get("kind") != RECALLED:
                found[m.seq] = recalled
        seen += len(page)
        if not more or not page or page[-1].ts > deadline:
            break
        after = page[-1].seq
    else:
        log.warning("recall of %s#%d: stopped looking for replies after %d messages", original.conv, original.seq, seen)
    if found:
        await store.set_reply_excerpts(original.conv, found)
    return len(found)
