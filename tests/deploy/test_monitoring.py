"""The Grafana dashboard queries only metrics the service really exposes."""

from __future__ import annotations

import re

import pytest

from ragsilo import metric_names
from ragsilo.deploy.monitoring import grafana_dashboard


def _dashboard_metrics() -> set[str]:
    exprs = [
        t["expr"]
        for panel in grafana_dashboard()["panels"]
        for t in panel["targets"]
        if t["datasource"]["type"] == "prometheus"
    ]
    found = {m for e in exprs for m in re.findall(r"\b(?:ragsilo|process)_[a-z_]+", e)}
    return {re.sub(r"_bucket$", "", m) for m in found}


def test_dashboard_reads_the_service_metrics_by_their_shared_names() -> None:
    used = _dashboard_metrics()
    assert metric_names.counter_total(metric_names.HTTP_REQUESTS) in used
    assert metric_names.HTTP_REQUEST_DURATION in used
    assert metric_names.PROCESS_RESIDENT_MEMORY in used


def test_every_service_metric_the_dashboard_reads_is_exposed() -> None:
    pytest.importorskip("prometheus_client", reason="the service metrics need the http extra")
    from ragsilo.service.metrics import ServiceMetrics

    metrics = ServiceMetrics()
    metrics.observe_request("POST", "/search", 200, 0.01)
    exposed = {
        re.sub(r"_(bucket|count|sum|created)$", "", sample.name)
        for family in metrics.registry.collect()
        for sample in family.samples
    }
    missing = _dashboard_metrics() - exposed
    assert not missing, f"the dashboard queries {sorted(missing)}, which the service never exposes"
