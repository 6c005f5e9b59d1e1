"""The Grafana dashboard and the Prometheus rules of deploy/monitoring name only series
that a real server exports at /metrics (a renamed metric breaks this test, not the
operator's dashboard), and the dashboard shows the main ones."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.operations.deploy_support import DEPLOY
from tests.support.server import ServerProcess

MONITORING = DEPLOY / "monitoring"
# Series named by Prometheus itself, not by the server
PROMETHEUS_OWN = {"up"}
# What the dashboard must show (more may be exported)
CORE = {
    "semot_connections", "semot_messages_stored_total", "semot_deliveries_total", "semot_send_ack_seconds_bucket",
    "semot_ws_requests_total", "semot_ws_errors_total", "semot_slow_consumers_dropped_total",
    "semot_write_batch_size_sum", "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
}
NAME = re.compile(r"(?<![A-Za-z0-9_:$\"'])((?:semot|process|python)_[A-Za-z0-9_]+|up)\b(?!\s*\()")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[set[str]]:
    """Every series name the server's /metrics declares (from its # TYPE lines, so
    labelled series without samples yet count too)."""
    server = ServerProcess(tmp_path_factory.mktemp("metrics") / "data").start()
    try:
        with urllib.request.urlopen(server.base + "/metrics", timeout=10) as r:
            text = r.read().decode()
    finally:
        server.stop()
    names: set[str] = set()
    for line in text.splitlines():
        if not line.startswith("# TYPE "):
            continue
        _, _, name, kind = line.split()
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        elif kind == "summary":
            names |= {name, f"{name}_sum", f"{name}_count"}
        else:
            names.add(name)
    assert "semot_connections" in names and "semot_messages_stored_total" in names
    yield names


def _names(expr: str) -> set[str]:
    return set(NAME.findall(expr))


def _dashboard_exprs() -> list[str]:
    dash = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    exprs += [v["query"] for v in dash["templating"]["list"] if v.get("type") == "query"]
    return exprs


def _rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((MONITORING / "prometheus-alerts.yaml").read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def test_dashboard_queries_only_exported_series(exported: set[str]) -> None:
    exprs = _dashboard_exprs()
    assert len(exprs) >= 10
    used: set[str] = set()
    for expr in exprs:
        assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), expr
        names = _names(expr)
        assert names, f"a query naming no series: {expr}"
        unknown = names - exported - PROMETHEUS_OWN
        assert not unknown, f"{expr}: the server exports no {unknown}"
        used |= names
    assert used >= CORE, f"the dashboard does not show {CORE - used}"


def test_alert_rules_name_exported_series_and_are_complete(exported: set[str]) -> None:
    rules = _rules()
    assert {"SemotNodeDown", "SemotSendAckSlow", "SemotFileDescriptors"} <= {r["alert"] for r in rules}
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
        names = _names(rule["expr"])
        assert names and not names - exported - PROMETHEUS_OWN, (rule["alert"], names - exported)
    prom = yaml.safe_load((MONITORING / "prometheus.yaml").read_text())
    assert prom["rule_files"] == ["prometheus-alerts.yaml"]
    assert prom["scrape_configs"][0]["job_name"] == "semot"  # the job the rules and dashboard select
