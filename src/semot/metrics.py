"""Prometheus metrics of one node, in a registry of their own (served at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, PlatformCollector, ProcessCollector


class Metrics:
    """One instance per app, so several servers in one process keep separate figures."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        self.connections = Gauge("semot_connections", "Authenticated WebSocket connections", registry=r)
        self.messages_stored = Counter("semot_messages_stored", "Messages durably stored", registry=r)
        self.deliveries = Counter("semot_deliveries", "Frames pushed to connections", registry=r)
        self.requests = Counter("semot_ws_requests", "WebSocket requests handled", ["t"], registry=r)
        self.errors = Counter("semot_ws_errors", "WebSocket error replies", ["code"], registry=r)
        self.dropped_slow = Counter("semot_slow_consumers_dropped", "Connections dropped for a full send buffer", registry=r)
        self.send_ack = Histogram(
            "semot_send_ack_seconds",
            "Time from receiving a send frame to writing its acknowledgement",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=r,
        )
        self.batch_size = Histogram(
            "semot_write_batch_size",
            "Messages committed per group-commit transaction",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
            registry=r,
        )
