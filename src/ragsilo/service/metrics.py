"""Prometheus metrics of one app, in a registry of its own (no process-wide state).

The names live in :mod:`ragsilo.metric_names`, the contract with the Grafana
dashboard of :mod:`ragsilo.deploy.monitoring`:

- ``ragsilo_http_requests_total{method, route, status}``
- ``ragsilo_http_request_duration_seconds{route}`` (histogram)
- ``ragsilo_ingest_files_total{status}`` and ``ragsilo_ingest_chunks_total``
- ``ragsilo_milvus_errors_total{code}``
- the standard ``process_*`` metrics
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from ragsilo import metric_names as names
from ragsilo.errors import StoreError
from ragsilo.models import IngestReport


def _store_codes() -> frozenset[str]:
    found: set[str] = set()
    todo: list[type[StoreError]] = [StoreError]
    while todo:
        cls = todo.pop()
        found.add(cls.code)
        todo.extend(cls.__subclasses__())
    return frozenset(found)


LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip


class ServiceMetrics:
    """The counters and histograms the service updates, and their exposition."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.requests = Counter(
            names.HTTP_REQUESTS,
            "HTTP requests served, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            names.HTTP_REQUEST_DURATION,
            "Time from request to the last byte of the response, by route template.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            names.HTTP_REQUESTS_IN_FLIGHT,
            "Requests being served right now.",
            registry=self.registry,
        )
        self.ingest_files = Counter(
            names.INGEST_FILES,
            "Files and texts ingested through the service, by outcome.",
            ["status"],
            registry=self.registry,
        )
        self.ingest_chunks = Counter(
            names.INGEST_CHUNKS,
            "Chunks written to Milvus by ingests through the service.",
            registry=self.registry,
        )
        self.milvus_errors = Counter(
            names.MILVUS_ERRORS,
            "Milvus failures met while serving requests, by error code.",
            ["code"],
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method=method, route=route, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)

    def observe_ingest(self, report: IngestReport) -> None:
        """Count an ingest's files by outcome, its chunks, and the Milvus failures of its files."""
        store_codes = _store_codes()
        for f in report.files:
            self.ingest_files.labels(status=f.status).inc()
            if f.error_code is not None and f.error_code in store_codes:
                self.milvus_error(f.error_code)
        self.ingest_chunks.inc(report.chunks_written)

    def milvus_error(self, code: str) -> None:
        self.milvus_errors.labels(code=code).inc()

    def render(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)
