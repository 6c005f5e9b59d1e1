"""Webhooks over HTTP (PROTOCOL.md §4, docs/integration.md).

- `POST /api/admin/v1/webhooks` `{"url","events":[...],"timeout_ms"?,"on_timeout"?}` ->
  201 `{"webhook_id","secret"}` (the secret is shown this once) — perm webhooks.write;
- `GET /api/admin/v1/webhooks` -> `{"webhooks":[...],"events":[...]}` — webhooks.view;
- `DELETE /api/admin/v1/webhooks/{webhook_id}` -> `{}` (its outbox goes too) — webhooks.write;
- `GET /api/admin/v1/webhook-deliveries?webhook_id=&status=&event=&offset=&limit=` ->
  `{"deliveries":[...],"total"}` newest first — webhooks.view;
- `POST /api/admin/v1/webhook-deliveries/{delivery_id}/replay` -> the delivery, pending
  again with its tries reset (same id, same signed body) — webhooks.write.
Registrations, removals and replays are audited (`webhook.create`, `webhook.delete`,
`webhook.replay`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from semot.domain.webhooks import (
    DEFAULT_TIMEOUT_MS,
    HOOK_EVENTS,
    MAX_TIMEOUT_MS,
    MAX_URL,
    MIN_TIMEOUT_MS,
    STATUSES,
)
from semot.errors import NotFound
from semot.ids import ID_RE
from semot.services.webhooks import WebhookService

from .http import Call
from .models import INTEGRAL
from .routing import ID, Query, Route, RouteTable

MAX_PAGE = 200
_PORT = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
URL_PATTERN = rf"^https?://[A-Za-z0-9][A-Za-z0-9.-]{{0,252}}(:{_PORT})?([/?][!-~]*)?$"
EventName = Literal[HOOK_EVENTS]  # type: ignore[valid-type]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(min_length=8, max_length=MAX_URL, pattern=URL_PATTERN)] = Field(
        description="http:// or https:// URL (a host name or IPv4 address, printable ASCII); loopback and "
        "private addresses are allowed (intranets)"
    )
    events: list[EventName] = Field(min_length=1, max_length=len(HOOK_EVENTS))
    timeout_ms: Annotated[int, Field(ge=MIN_TIMEOUT_MS, le=MAX_TIMEOUT_MS), INTEGRAL] = Field(
        DEFAULT_TIMEOUT_MS, description="per request (deliveries and message.before_send)"
    )
    on_timeout: Literal["allow", "block"] = Field(
        "allow", description="message.before_send: what a timeout (or a failed answer) does to the send"
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        try:
            parts = urlsplit(v)
            port = parts.port  # raises on a bad port
        except ValueError:
            raise ValueError("not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http:// or https:// URL with a host")
        if port == 0 or any(c.isspace() or ord(c) < 32 for c in v):
            raise ValueError("not a valid URL")
        return v


class WebhookCreatedOut(BaseModel):
    webhook_id: str
    secret: str = Field(description="signs every request (X-Semot-Signature); shown once")


class WebhookOut(BaseModel):
    webhook_id: str
    url: str
    events: list[str]
    timeout_ms: int
    on_timeout: str
    created_at: int
    created_by: str | None


class WebhookListOut(BaseModel):
    webhooks: list[WebhookOut]
    events: list[str] = Field(description="every event a hook may register for")


class WebhookDeletedOut(BaseModel):
    """`{}`."""


class DeliveryOut(BaseModel):
    id: str = Field(description="the `id` posted, the same on every try")
    webhook_id: str
    event: str
    key: str = Field(description="deliveries with the same key (conversation, user) are made in order")
    status: str = Field(description=", ".join(STATUSES))
    tries: int
    next_at: int = Field(description="ms: a pending delivery is not tried before")
    last_error: str | None
    last_status: int | None = Field(description="HTTP status of the last try (null: no answer)")
    created_at: int
    updated_at: int


class DeliveryListOut(BaseModel):
    deliveries: list[DeliveryOut]
    total: int


def _service(call: Call) -> WebhookService:
    service = call.services.webhooks
    assert service is not None, "the composition root sets it"
    return service


def _path_id(call: Call, name: str, what: str) -> str:
    value = call.request.match_info[name]
    if not ID_RE.fullmatch(value):
        raise NotFound(f"no {what} {value!r}")
    return value


async def webhook_create(call: Call) -> dict[str, Any]:
    b: WebhookIn = call.body
    hook = await _service(call).register(
        b.url, list(b.events), timeout_ms=b.timeout_ms, on_timeout=b.on_timeout, by=call.me.id
    )
    await call.audit("webhook.create", hook.webhook_id, after=hook.to_wire())
    return {"webhook_id": hook.webhook_id, "secret": hook.secret}


async def webhook_list(call: Call) -> dict[str, Any]:
    hooks = await _service(call).hooks()
    return {"webhooks": [h.to_wire() for h in hooks], "events": list(HOOK_EVENTS)}


async def webhook_delete(call: Call) -> dict[str, Any]:
    hook = await _service(call).delete(_path_id(call, "webhook_id", "webhook"))
    await call.audit("webhook.delete", hook.webhook_id, before=hook.to_wire())
    return {}


async def delivery_list(call: Call) -> dict[str, Any]:
    found, total = await _service(call).deliveries(
        webhook_id=call.query_str("webhook_id"), status=call.query_str("status"), event=call.query_str("event"),
        offset=call.query_int("offset") or 0, limit=call.query_int("limit") or 50,
    )
    return {"deliveries": [d.to_wire() for d in found], "total": total}


async def delivery_replay(call: Call) -> dict[str, Any]:
    service = _service(call)
    delivery_id = _path_id(call, "delivery_id", "delivery")
    before = await service.replay(delivery_id)
    await call.audit("webhook.replay", delivery_id, after={"webhook_id": before.webhook_id, "event": before.event})
    return before.to_wire()


def routes() -> RouteTable:
    t = RouteTable()
    base = "/api/admin/v1/webhooks"
    tag = "admin: webhooks"
    view, write = "webhooks.view", "webhooks.write"
    page: dict[str, Query | str] = {
        "webhook_id": ID,
        "status": Query(f"one of {', '.join(STATUSES)}", "string", max_length=16, min_length=1,
                        pattern="^(" + "|".join(STATUSES) + ")$"),
        "event": Query("an event name", "string", max_length=64, min_length=1, pattern=r"^[a-z_]+\.[a-z_]+$"),
        "offset": Query("skip this many (default 0)"),
        "limit": Query(f"1-{MAX_PAGE}, default 50", minimum=1, maximum=MAX_PAGE),
    }
    t.add(Route("POST", base, webhook_create, "Register a webhook (its secret is shown once)", tag,
                WebhookIn, WebhookCreatedOut, status=201, auth="admin", perm=write))
    t.add(Route("GET", base, webhook_list, "The registered webhooks", tag, None, WebhookListOut, auth="admin",
                perm=view))
    t.add(Route("DELETE", base + "/{webhook_id}", webhook_delete, "Remove a webhook and its deliveries", tag,
                None, WebhookDeletedOut, auth="admin", perm=write))
    t.add(Route("GET", "/api/admin/v1/webhook-deliveries", delivery_list, "Webhook deliveries, newest first", tag,
                None, DeliveryListOut, auth="admin", perm=view, query=page))
    t.add(Route("POST", "/api/admin/v1/webhook-deliveries/{delivery_id}/replay", delivery_replay,
                "Deliver again (same id and body; tries reset)", tag, None, DeliveryOut, auth="admin", perm=write))
    return t
