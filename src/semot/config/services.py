"""Background services: pre-moderation, webhooks, customer service; checks for tests and debugging."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ModerationWebhookSettings(BaseModel):
    # --- pre-moderation (docs/moderation.md; the timeout itself is stored, set on the console)
    moderation_sweep_s: float = Field(
        30.0, gt=0, le=3600, description="How often a node looks for held messages past the review timeout"
    )
    moderation_rejected_days: int = Field(
        7, ge=1, le=365, description="How long a sender's client still lists their rejected messages (reloads)"
    )

    # --- webhooks (services/webhooks.py, docs/integration.md)
    webhook_retry_s: float = Field(
        5.0, gt=0, le=3600, description="Webhooks: wait this long before the first retry of a failed delivery (s)"
    )
    webhook_retry_factor: float = Field(
        4.0, ge=1, le=100, description="Webhooks: each further retry waits this many times longer than the one before"
    )
    webhook_retry_max_s: float = Field(
        3600.0, gt=0, le=86400, description="Webhooks: the longest wait between two tries (s)"
    )
    webhook_max_tries: int = Field(
        8, ge=5, le=100, description="Webhooks: tries of a delivery before it is dead-lettered (replayable on the "
        "console)"
    )
    webhook_poll_s: float = Field(
        1.0, gt=0, le=60, description="Webhooks: how often a node looks in the shared outbox for due deliveries "
        "(its own new events wake it at once)"
    )
    webhook_max_answer_bytes: int = Field(
        65536, ge=256, le=16 * 1024 * 1024, description="Webhooks: a hook's answer larger than this fails the try"
    )
    webhook_concurrency: int = Field(
        64, ge=1, le=1000, description="Webhooks: requests a node has in flight at most (deliveries)"
    )
    webhook_delivery_retention_days: int = Field(
        7, ge=1, le=3650, description="Webhooks: delivered and dead deliveries are deleted after this many days"
    )
    test_webhook_hold_outbox: bool = Field(
        False,
        description="TEST ONLY, never set in production: webhook events stay in the event outbox, never fanned "
        "out to deliveries (to test that events written with their change survive a crash)",
    )


class CustomerServiceSettings(BaseModel):
    # --- customer service (services/customer_service*.py, docs/customer-service.md)
    cs_visitor_ip_max: int = Field(
        30, ge=0, le=1_000_000, description="Customer service: new anonymous visitors one address may create per "
        "cs_visitor_ip_window_s (0, or abuse_limits off: no limit); a visitor coming back with its key is not counted"
    )
    cs_visitor_ip_window_s: float = Field(
        3600.0, gt=0, le=7 * 86400, description="Customer service: the window of cs_visitor_ip_max, in seconds"
    )
    cs_drain_s: float = Field(
        5.0, ge=0, le=3600, description="Customer service: how often a node gives waiting sessions to agents who "
        "became available (an agent who connected); closes, transfers and state changes do it at once (0: only those)"
    )
    cs_visitor_idle_days: float = Field(
        90.0, ge=0, le=36500, description="Customer service: anonymous visitors not seen for this many days, with no "
        "open session, are forgotten (their key resumes nobody, the account is disabled and its name erased; their "
        "chats' messages follow the message retention policy); 0: never"
    )
    cs_visitor_purge_interval_s: float = Field(
        3600.0, gt=0, le=7 * 86400, description="Customer service: how often a node forgets idle visitors (seconds)"
    )
    cs_session_start_max: int = Field(
        60, ge=0, le=1_000_000, description="Customer service: new sessions plus context changes (each posts a card) "
        "one user may make per cs_session_start_window_s, then 429 (0, or abuse_limits off: no limit)"
    )
    cs_session_start_window_s: float = Field(
        3600.0, gt=0, le=7 * 86400, description="Customer service: the window of cs_session_start_max, in seconds"
    )


class DiagnosticsSettings(BaseModel):
    # --- events (services/events.py)
    validate_events: bool = Field(
        False,
        description="Check every push against its strict model (protocol/events.py) before sending it, and refuse "
        "one that does not fit, logging 'event failed its schema'. For tests and debugging: it costs CPU per push",
    )

    # --- HTTP API replies (api/replies.py)
    validate_replies: bool = Field(
        False,
        description="Check every JSON reply of the HTTP API against the model /openapi.json declares for it, and "
        "answer 500 (logging 'reply of ... does not match') when it does not fit. For tests and debugging: it "
        "costs CPU per request",
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level")
