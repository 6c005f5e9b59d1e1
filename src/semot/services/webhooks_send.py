"""The synchronous `message.before_send` hook (PROTOCOL.md §4): the integrator sees a
message before it is stored and answers allow, block (with a reason) or replace (a new
body, validated like a client's). It is `MessageService.before_send`
(services/send_hooks.py says where it runs: after the sensitive-word screen, before
pre-moderation).

Each hook registered for `message.before_send` is called in registration order (a
replaced body is what the next one sees), over the pooled keep-alive session, within
the hook's `timeout_ms`. A hook that does not answer in time, or answers something
that is not one of the three actions (an error status, a bad body, an answer too
large), gets its `on_timeout`: `allow` sends the message unchanged, `block` refuses it
with `blocked`. With no such hook registered, a send costs one dict lookup.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Protocol

import orjson

from semot.domain.messages import MEDIA_KINDS, validate_body
from semot.domain.records import NewMessage
from semot.domain.webhooks import BEFORE_SEND, Webhook
from semot.errors import Blocked, SemotError
from semot.ids import now_ms
from semot.services.attachments import Attachments
from semot.services.webhook_http import HookFailed
from semot.services.webhooks import WebhookService

log = logging.getLogger(__name__)

BodyCheck = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]
"""(sender, kind, body) -> the body as stored (raises like a client's send would)."""

MAX_REASON = 500


class BodyLimits(Protocol):
    max_text_chars: int
    max_custom_depth: int
    max_custom_bytes: int


class _BadAnswer(Exception):
    pass


def body_check(limits: BodyLimits, attachments: Attachments) -> BodyCheck:
    """A replaced body is checked as a client's send is: its kind's rules and limits,
    and for a file message, a file the sender may send (services/attachments.py)."""

    async def check(sender: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        clean = validate_body(kind, body, max_text_chars=limits.max_text_chars,
                              max_custom_depth=limits.max_custom_depth, max_custom_bytes=limits.max_custom_bytes)
        if kind in MEDIA_KINDS:
            clean = await attachments.resolve(sender, kind, clean) | (
                {"reply_to": clean["reply_to"]} if "reply_to" in clean else {}
            )
        return clean

    return check


class WebhookBeforeSend:
    """services/send_hooks.BeforeSendHook over the registered webhooks."""

    def __init__(self, webhooks: WebhookService, check_body: BodyCheck) -> None:
        self._webhooks = webhooks
        self._check_body = check_body

    async def before_send(self, item: NewMessage) -> NewMessage:
        hooks = self._webhooks.hooks_for(BEFORE_SEND)
        for hook in hooks:
            item = await self._one(hook, item)
        return item

    async def _one(self, hook: Webhook, item: NewMessage) -> NewMessage:
        m = self._webhooks.metrics
        data = {"from": item.sender, "conv": item.conv, "kind": item.kind, "body": item.body, "opts": item.opts,
                "mid": item.mid, "cid": item.cid}
        body = orjson.dumps({"id": "bs_" + secrets.token_hex(12), "event": BEFORE_SEND, "ts": now_ms(), "data": data})
        started = time.perf_counter()
        try:
            _, answer = await self._webhooks.poster.post(hook.url, body, hook.secret, hook.timeout_ms / 1000)
            action, value = self._parse(answer)
            if action == "replace":
                try:
                    value = await self._check_body(item.sender, item.kind, value)
                except SemotError as exc:
                    raise _BadAnswer(f"the replaced body is invalid: {exc}") from None
        except (HookFailed, _BadAnswer) as exc:
            m.before_send.observe(time.perf_counter() - started)
            outcome = "failed_" + hook.on_timeout
            m.before_send_outcomes.labels(outcome).inc()
            log.warning("message.before_send hook %s (%s) failed: %s; %s", hook.webhook_id, hook.url, exc,
                        hook.on_timeout)
            if hook.on_timeout == "block":
                raise Blocked("the message could not be checked by the integrator's hook") from None
            return item
        m.before_send.observe(time.perf_counter() - started)
        m.before_send_outcomes.labels(action).inc()
        if action == "block":
            raise Blocked(value or "blocked by the integrator's hook")
        if action == "replace":
            return replace(item, body=value)
        return item

    @staticmethod
    def _parse(answer: bytes) -> tuple[str, Any]:
        try:
            doc = orjson.loads(answer)
        except orjson.JSONDecodeError:
            raise _BadAnswer("the answer is not JSON") from None
        if not isinstance(doc, dict):
            raise _BadAnswer("the answer is not a JSON object")
        action = doc.get("action")
        if action == "allow":
            return "allow", None
        if action == "block":
            reason = doc.get("reason")
            return "block", reason[:MAX_REASON] if isinstance(reason, str) else None
        if action == "replace":
            new = doc.get("body")
            if not isinstance(new, dict):
                raise _BadAnswer("replace without an object `body`")
            return "replace", new
        raise _BadAnswer(f"unknown action {str(action)[:40]!r}")
