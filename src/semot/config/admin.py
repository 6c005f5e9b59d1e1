"""Administration: the login log and dashboard, sensitive words, the server API for integrators."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AdminSettings(BaseModel):
    # --- administration: the login log and the dashboard (docs/admin.md)
    login_log_retention_days: int = Field(
        180, ge=1, le=3650, description="Login log entries (every login attempt) are deleted after this many days"
    )
    stats_flush_s: float = Field(
        10.0, gt=0, le=300, description="How often a node adds its per-minute dashboard counters to the database"
    )
    stats_retention_days: int = Field(
        30, ge=2, le=3650, description="Per-minute dashboard counters (messages, logins) are kept this many days"
    )
    dashboard_cache_s: float = Field(
        60.0, ge=0, le=3600, description="How long a node reuses the dashboard's totals (users, files, database size)"
    )

    # --- sensitive words (docs/sensitive-words.md; the words themselves are stored, set on the console)
    sensitive_words: bool = Field(
        True, description="Screen messages, edits, display names, group names and announcements against the "
        "stored sensitive-word list (off: nothing is checked or recorded, whatever the list holds)"
    )
    sensitive_hits_retention_days: int = Field(
        180, ge=0, le=3650, description="Sensitive-word hits are deleted after this many days (swept hourly in "
        "batches of 1,000; 0 keeps them until deleted by hand)"
    )

    # --- the server API for integrators (docs/integration.md)
    api_call_retention_days: int = Field(
        30, ge=1, le=3650, description="Server API call log entries are deleted after this many days"
    )
    public_url: str | None = Field(
        None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="The address users open the web client at (https://im.example.com): the base of SSO ticket "
        "URLs; unset: the scheme and Host of the server API call that asked for the ticket",
    )
