"""Who may connect and how much: tokens, abuse limits, the gateway, HTTP hardening, cross-origin access."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, Field, IPvAnyNetwork, field_validator
from pydantic_settings import NoDecode


class AccessSettings(BaseModel):
    # --- security
    secret_key: str | None = Field(
        None, min_length=32, description="Token signing key; generated into data_dir when unset. Share it across nodes."
    )
    access_token_ttl_s: int = Field(3600, ge=60, le=30 * 86400, description="Access token lifetime (s)")
    refresh_token_ttl_s: int = Field(30 * 86400, ge=3600, description="Refresh token lifetime (s)")
    self_registration: bool = Field(
        True, description="Allow POST /api/v1/auth/register (until an administrator saves the client configuration, whose value wins)"
    )

    # --- abuse limits (failed logins, registrations), the client IP, password hashing
    abuse_limits: bool = Field(
        True, description="Limit failed logins and registrations per account and client IP (false: all off, for load tests)"
    )
    login_fail_account_max: int = Field(
        5, ge=1, le=10_000, description="Failed logins of one username within the window before it is locked (429)"
    )
    login_fail_account_window_s: int = Field(
        900, ge=1, le=7 * 86400, description="Window (s) of the per-account failed-login count; also the longest lock"
    )
    login_fail_ip_max: int = Field(
        50, ge=1, le=1_000_000, description="Failed logins from one client IP (any usernames) within the window before it is locked"
    )
    login_fail_ip_window_s: int = Field(900, ge=1, le=7 * 86400, description="Window (s) of the per-IP failed-login count")
    register_ip_max: int = Field(10, ge=1, le=1_000_000, description="Registration attempts from one client IP within the window")
    register_ip_window_s: int = Field(3600, ge=1, le=7 * 86400, description="Window (s) of the per-IP registration count")
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Reverse proxies (comma-separated IPs/CIDRs) whose X-Forwarded-For names the client; empty: none",
    )
    password_hash_workers: int = Field(
        0, ge=0, le=256, description="Threads computing argon2 password hashes; 0: half the CPUs (at least 1)"
    )
    password_hash_queue: int = Field(
        64, ge=1, le=100_000, description="Password checks waiting for a hashing thread before more are refused (503)"
    )
    login_check_s: float = Field(
        5.0, gt=0, le=300, description="How long a node trusts a login is still valid before asking the database again"
    )
    login_sweep_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="How often a node re-checks the logins of its open sockets (closes those that ended but whose "
        "bus message it missed)",
    )

    # --- gateway
    heartbeat_s: int = Field(25, ge=1, le=600, description="Server ping interval; silent for 2x this = dropped")
    auth_timeout_s: float = Field(10.0, gt=0, le=120, description="Time allowed for the auth frame")
    max_frame_bytes: int = Field(65536, ge=1024, le=16 * 1024 * 1024, description="Largest accepted frame (1009 above)")
    send_buffer_bytes: int = Field(
        4 * 1024 * 1024, ge=65536, description="Unsent bytes a connection may queue before it is dropped"
    )
    max_devices_per_user: int = Field(20, ge=1, le=1000, description="Concurrent connections per user")
    rate_per_s: float = Field(50.0, gt=0, description="Sustained requests per second per connection")
    rate_burst: int = Field(200, ge=1, description="Request burst per connection before rate_limited")
    rate_close_after: int = Field(
        200, ge=1, description="Refused requests in one flood (not necessarily in a row) before closing with 4429"
    )
    rate_close_after_s: float = Field(
        10.0, gt=0, le=3600, description="Seconds a connection may keep sending faster than rate_per_s before 4429"
    )

    # --- HTTP server hardening, /metrics access, browser protections (docs/security.md)
    http_header_timeout_s: float = Field(
        10.0,
        gt=0,
        le=600,
        description="A request head must be complete this long after connecting (or after its first byte on a "
        "kept-alive connection), else the connection is closed",
    )
    http_body_timeout_s: float = Field(
        30.0, gt=0, le=3600, description="A request body must have arrived this long after its head (408 after)"
    )
    http_keepalive_timeout_s: float = Field(
        75.0, gt=0, le=3600, description="An idle kept-alive HTTP connection is closed after this long"
    )
    http_max_pending_per_ip: int = Field(
        64, ge=0, description="Connections per client address still without a complete request head after a second; more are closed (0: no cap)"
    )
    metrics_allow: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Networks (comma-separated IPs/CIDRs) that may read /metrics; with metrics_token unset too: public",
    )
    metrics_token: str | None = Field(
        None, min_length=16, description="Bearer token that may read /metrics (from any address)"
    )
    frame_ancestors: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (comma-separated, e.g. https://intranet.example.com) that may embed the web pages in a "
        "frame; empty: none (CSP frame-ancestors 'none', X-Frame-Options DENY)",
    )
    csp_extra: str = Field(
        "",
        description="Extra Content-Security-Policy sources, merged per directive "
        "(e.g. \"img-src https://cdn.example.com; connect-src https://api.example.com\")",
    )

    # --- cross-origin access and apps inside the client (api/cors.py, services/app_identity.py; docs/apps.md)
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (comma-separated, e.g. https://shop.example.com) whose pages may call the client API "
        "and load the JS SDK cross-origin (bearer tokens; never with credentials, i.e. cookies); \"*\": any origin. "
        "The server and admin APIs never answer cross-origin",
    )
    cors_max_age_s: int = Field(
        600, ge=0, le=86400, description="How long a browser may cache a CORS preflight answer (Access-Control-Max-Age)"
    )
    app_identity_ttl_s: int = Field(
        300, ge=30, le=3600, description="Lifetime of the identity tokens given to custom pages (apps) in the client"
    )

    @field_validator("trusted_proxies", "metrics_allow", "frame_ancestors", "cors_origins", mode="before")
    @classmethod
    def _comma_list(cls, v: Any) -> Any:
        """In the environment these lists are comma-separated (SEMOT_CORS_ORIGINS=a,b); a TOML file gives a list."""
        if isinstance(v, str):
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    @field_validator("cors_origins")
    @classmethod
    def _cors_origins(cls, v: list[str]) -> list[str]:
        out = []
        for origin in v:
            if origin != "*" and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?", origin):
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], no path) or *")
            out.append(origin.lower())
        return out

    @field_validator("frame_ancestors")
    @classmethod
    def _frame_origins(cls, v: list[str]) -> list[str]:
        for origin in v:
            if not re.fullmatch(r"(https?://)?(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5}|:\*)?|'self'|https:", origin):
                raise ValueError(f"{origin!r} is not an origin (https://host[:port], 'self' or https:)")
        return v

    @field_validator("csp_extra")
    @classmethod
    def _csp_directives(cls, v: str) -> str:
        for part in v.split(";"):
            words = part.split()
            if words and not (re.fullmatch(r"[a-z-]+-src|[a-z-]+-src-(elem|attr)|form-action|base-uri", words[0])):
                raise ValueError(f"{words[0]!r}: only *-src, form-action and base-uri directives can be extended")
            if any(not re.fullmatch(r"[!-~]+", w) or "," in w for w in words):
                raise ValueError("sources are printable ASCII without commas")
        return v
