"""The names of the service's Prometheus metrics, in one place.

They are the contract between the service, which registers them
(:mod:`ragsilo.service.metrics`), and the Grafana dashboard, which queries them
(:mod:`ragsilo.deploy.monitoring`). Counters are registered under the names
below; Prometheus exposes them with ``_total`` appended (:func:`counter_total`).
"""

from __future__ import annotations

#: Counter, labels ``method``, ``route``, ``status``.
HTTP_REQUESTS = "ragsilo_http_requests"
#: Histogram, label ``route``.
HTTP_REQUEST_DURATION = "ragsilo_http_request_duration_seconds"
#: Gauge.
HTTP_REQUESTS_IN_FLIGHT = "ragsilo_http_requests_in_flight"
#: Counter, label ``status``.
INGEST_FILES = "ragsilo_ingest_files"
#: Counter.
INGEST_CHUNKS = "ragsilo_ingest_chunks"
#: Counter, label ``code``.
MILVUS_ERRORS = "ragsilo_milvus_errors"
#: Gauge of the standard process collector.
PROCESS_RESIDENT_MEMORY = "process_resident_memory_bytes"


def counter_total(name: str) -> str:
    """The exposed sample name of counter ``name``."""
    return f"{name}_total"
