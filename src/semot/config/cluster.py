"""Several nodes sharing one deployment through Redis: the connection, how a hung or
lost Redis is noticed, the bus's buffer through an outage, when a node counts as dead
(docs/operations.md, "Redis outages")."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ClusterSettings(BaseModel):
    redis_url: str | None = Field(None, description="Redis URL: set it (with PostgreSQL) to run several nodes behind a load balancer")
    redis_namespace: str = Field(
        "semot", pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Prefix of this deployment's Redis keys and channels"
    )
    node_timeout_s: float = Field(
        15.0, ge=1, le=600, description="A node silent this long is taken as dead: its users' sessions stop counting"
    )
    # A Redis that hangs keeps its connections open: without these a request (or the bus
    # subscription) would wait for it forever instead of meeting the outage path.
    redis_socket_timeout_s: float = Field(
        5.0, gt=0, le=300, description="A Redis connect or command (bus publish, presence) not answered within this "
        "long fails like an outage: 503 `unavailable`, publishes buffered"
    )
    redis_health_check_s: float = Field(
        5.0, gt=0, le=3600, description="A Redis connection idle this long is pinged before use, and the bus "
        "subscription is pinged this often: a hung Redis is noticed within this plus redis_socket_timeout_s"
    )
    redis_bus_buffer_max: int = Field(
        100_000, ge=1, le=10_000_000, description="Cross-node publishes a node buffers while Redis is unreachable; "
        "beyond it the oldest are dropped (logged, counted in semot_redis_bus_dropped_total) and every node's "
        "clients catch up by sync"
    )
    redis_bus_buffer_max_age_s: float = Field(
        120.0, gt=0, le=86400, description="Buffered cross-node publishes older than this are dropped the same way"
    )
