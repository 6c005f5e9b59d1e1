"""Edits and reactions (docs/protocol.md, "Edits and reactions"; why this design:
docs/architecture.md).

A change rewrites the stored message and bumps its conversation's `change_seq`; it
never stores a message, so seqs, `last` and unread counts are untouched. Online devices
get `evt edit` / `evt reaction` (with the new change_seq, so a device that sees a jump
knows it missed one); a device that was offline finds the conversation in `sync` (its
`changes` cursor) and fetches the changed messages, in their current state, with
`changes`. `history` always returns messages as they are now, so a page is complete on
its own.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

from semot.domain.conversations import ConvRef, parse_conv
from semot.domain.groups import check_send
from semot.domain.messages import BURNED, RECALLED, SYSTEM, Message
from semot.domain.moderation import is_held
from semot.errors import BadRequest, Blocked, Forbidden, NotFound
from semot.ids import now_ms
from semot.protocol.events import EditEvent, ReactionEvent
from semot.services.attachments import Attachments
from semot.services.events import EventPublisher
from semot.services.features import FeatureGate
from semot.services.membership import MembershipCache
from semot.services.sensitive_words import SensitiveWords
from semot.storage.base import MessageStorage

MAX_EMOJI_CODEPOINTS = 16  # the longest emoji sequences (families, subdivision flags) are 7-10
_ZWJ = "\u200d"
_TAGS = range(0xE0020, 0xE0080)  # tag characters of subdivision flags (🏴 + tags + cancel tag)
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def validate_emoji(emoji: str) -> str:
    """One emoji (or a short emoji sequence): at most 16 code points, no control,
    format (but ZWJ and flag tags), space, private-use, unassigned or surrogate
    characters, so a reaction can neither hide text nor break a layout."""
    if not 1 <= len(emoji) <= MAX_EMOJI_CODEPOINTS:
        raise BadRequest(f"emoji: 1 to {MAX_EMOJI_CODEPOINTS} characters")
    for ch in emoji:
        cat = unicodedata.category(ch)
        if cat in _REFUSED_CATEGORIES or (cat == "Cf" and ch != _ZWJ and ord(ch) not in _TAGS):
            raise BadRequest(f"emoji: character U+{ord(ch):04X} is not allowed in a reaction")
    if emoji.isascii() and emoji.isalnum():
        raise BadRequest("emoji: letters and digits alone are not a reaction")
    return emoji


class MessageChanges:
    """The `edit`, `react` and `changes` requests."""

    def __init__(
        self,
        store: MessageStorage,
        events: EventPublisher,
        membership: MembershipCache,
        attachments: Attachments,
        direct_check: Callable[[], Callable[[str, str], Awaitable[None]] | None],
        *,
        edit_window_s: int,
        max_text_chars: int,
        max_emoji: int,
    ) -> None:
        self._store = store
        self._events = events
        self._members = membership
        self._attachments = attachments
        self._direct_check = direct_check  # read at call time: the composition root sets it late
        self.features = FeatureGate()  # the client configuration's switches (services/client_settings.py)
        self.edit_window_s = edit_window_s
        self._max_text_chars = max_text_chars
        self._max_emoji = max_emoji
        self.sensitive: SensitiveWords | None = None  # sensitive words (services/sensitive_words.py)

    async def _member(self, user_id: str, conv: str, *, speaking: bool) -> tuple[ConvRef, frozenset[str]]:
        """The conversation's members; refuses non-members, dismissed groups and (for an
        edit, which is speaking again) muted members and blocked direct chats."""
        ref = parse_conv(conv)
        members = await self._members.members(ref)
        if user_id not in members:
            raise Forbidden("you are not a member of this conversation")
        if ref.kind == "g":
            state = await self._members.state(ref.group_id)
            if state.group.dismissed_at is not None:
                raise Forbidden("this group has been dismissed")
            if speaking:
                member = state.members.get(user_id)
                check_send(member.role if member else None, member.muted_until if member else None,
                           state.group.settings, now_ms())
                if is_held(member.role if member else None, state.group.settings):  # docs/moderation.md
                    raise Forbidden("messages in this group are reviewed: a member's edit would skip the review")
        elif speaking:
            check = self._direct_check()
            if check is not None:
                await check(user_id, ref.peer_of(user_id))
        return ref, members

    async def _message(self, conv: str, seq: int) -> Message:
        msg = await self._store.get_message(conv, seq)
        if msg is None:
            raise NotFound(f"no message {seq} in {conv}")
        return msg

    async def edit(
        self, user_id: str, session_id: str | None, conv: str, seq: int, text: str, *, ip: str | None = None
    ) -> dict[str, Any]:
        if self.edit_window_s == 0:
            raise Forbidden("editing messages is switched off on this server")
        self.features.require("edit")
        if len(text) > self._max_text_chars:
            raise BadRequest(f"text: longer than {self._max_text_chars} characters")
        _, members = await self._member(user_id, conv, speaking=True)
        msg = await self._message(conv, seq)
        if msg.kind in (RECALLED, BURNED):
            raise Forbidden(f"this message has been {msg.kind}: it cannot be edited")
        if msg.sender != user_id:
            raise Forbidden("only the sender can edit a message")
        if msg.kind != "text":
            raise Forbidden("only text messages can be edited")
        now = now_ms()
        sent_after = now - self.edit_window_s * 1000
        if msg.ts < sent_after:
            raise Forbidden(f"messages can only be edited within {self.edit_window_s} seconds of sending")
        if self.sensitive is not None:  # block: refused as a send would be; replace: starred
            text = self.sensitive.screen_text(text, user_id=user_id, target="edit", conv=conv, ip=ip, error=Blocked)
        if msg.body.get("text") == text:
            return {"conv": conv, "seq": seq, "edited_ts": msg.edited_ts, "changed": False}
        edited = await self._store.edit_text(conv, seq, sender=user_id, text=text, now=now, sent_after=sent_after)
        if edited is None or edited.change_seq is None or edited.edited_ts is None:
            raise Forbidden("this message was recalled or burned meanwhile: it cannot be edited")
        evt = EditEvent(conv=conv, seq=seq, body=edited.body, edited_ts=edited.edited_ts, by=user_id,
                        change_seq=edited.change_seq)
        self._events.publish(members, evt, exclude_session=session_id)
        return {"conv": conv, "seq": seq, "edited_ts": edited.edited_ts, "change_seq": edited.change_seq,
                "changed": True}

    async def react(
        self, user_id: str, session_id: str | None, conv: str, seq: int, emoji: str, on: bool
    ) -> dict[str, Any]:
        self.features.require("reactions")
        emoji = validate_emoji(unicodedata.normalize("NFC", emoji))
        _, members = await self._member(user_id, conv, speaking=False)
        msg = await self._message(conv, seq)  # a clear not_found / forbidden before writing
        if msg.kind in (RECALLED, BURNED, SYSTEM):
            raise Forbidden(f"a {msg.kind} message cannot carry reactions")
        changed = await self._store.set_reaction(
            conv, seq, user=user_id, emoji=emoji, on=on, now=now_ms(), max_emoji=self._max_emoji
        )
        if changed is None or changed.change_seq is None:  # already so: nothing to tell anyone
            return {"conv": conv, "seq": seq, "reactions": msg.reactions or [], "changed": False}
        reactions = changed.reactions or []
        evt = ReactionEvent(conv=conv, seq=seq, emoji=emoji, user=user_id, on=on, reactions=reactions,  # type: ignore[arg-type]
                            change_seq=changed.change_seq)
        self._events.publish(members, evt, exclude_session=session_id)
        return {"conv": conv, "seq": seq, "reactions": reactions, "change_seq": changed.change_seq, "changed": True}

    async def changes(self, user_id: str, conv: str, after: int, limit: int) -> dict[str, Any]:
        """The messages changed after cursor `after`, as they are now, and the cursor to
        keep: the last one's change_seq while `more`, else the conversation's."""
        await self._member(user_id, conv, speaking=False)
        msgs, top, more = await self._store.changed_messages(conv, after, limit)
        cursor = (msgs[-1].change_seq or after) if more and msgs else max(top, after)
        wire = [m.to_wire() for m in self._attachments.decorate_all(msgs)]
        return {"messages": wire, "change_seq": cursor, "more": more}
