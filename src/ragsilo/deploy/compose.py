"""docker compose: Milvus standalone (etcd, MinIO, Milvus 2.6) and the ragsilo service.

The ``monitoring`` profile adds Prometheus, Loki, Promtail and Grafana
(``docker compose --profile monitoring up -d``). Host ports are bound to
127.0.0.1 only; put a reverse proxy in front to expose anything further.
"""

from __future__ import annotations

from typing import Any

from ragsilo.deploy import monitoring
from ragsilo.deploy.k8s import ATTU_IMAGE
from ragsilo.deploy.params import DeployParams
from ragsilo.deploy.sizing import Sizing

ETCD_IMAGE = "quay.io/coreos/etcd:v3.5.18"
MINIO_IMAGE = "minio/minio:RELEASE.2024-12-18T13-15-44Z"

#: The named volumes of the compose file.
_VOLUMES = (
    "etcd-data",
    "minio-data",
    "milvus-data",
    "prometheus-data",
    "loki-data",
    "promtail-positions",
    "grafana-data",
)


def _health(
    test: list[str], *, interval: str = "30s", start: str = "20s", retries: int = 3
) -> dict[str, Any]:
    return {
        "test": test,
        "interval": interval,
        "timeout": "20s",
        "retries": retries,
        "start_period": start,
    }


def compose_file(p: DeployParams, s: Sizing) -> dict[str, Any]:
    """The compose file: Milvus standalone with etcd and MinIO, ragsilo, Attu, and monitoring."""
    services = {
        "etcd": _etcd_service(),
        "minio": _minio_service(),
        "milvus": _milvus_service(p, s),
        "ragsilo": _ragsilo_service(p),
        "attu": _attu_service(),
        "prometheus": _prometheus_service(),
        "loki": _loki_service(),
        "promtail": _promtail_service(),
        "grafana": _grafana_service(),
    }
    return {"services": services, "volumes": {name: {} for name in _VOLUMES}}


def _milvus_service(p: DeployParams, s: Sizing) -> dict[str, Any]:
    milvus: dict[str, Any] = {
        "image": p.milvus_image,
        "command": ["milvus", "run", "standalone"],
        "security_opt": ["seccomp:unconfined"],
        "environment": {
            "ETCD_ENDPOINTS": "etcd:2379",
            "MINIO_ADDRESS": "minio:9000",
            "MINIO_REGION": "us-east-1",
        },
        "volumes": ["milvus-data:/var/lib/milvus"],
        "ports": ["127.0.0.1:19530:19530", "127.0.0.1:9091:9091"],
        "healthcheck": _health(["CMD", "curl", "-f", "http://localhost:9091/healthz"], start="90s"),
        "depends_on": {
            "etcd": {"condition": "service_healthy"},
            "minio": {"condition": "service_healthy"},
        },
        "restart": "unless-stopped",
    }
    resources: dict[str, Any] = {"limits": {"memory": f"{s.memory_gib}g", "cpus": s.cpu_quantity}}
    if p.gpu:
        resources["reservations"] = {
            "devices": [{"driver": "nvidia", "capabilities": ["gpu"], "device_ids": ["0"]}]
        }
    milvus["deploy"] = {"resources": resources}
    return milvus


def _etcd_service() -> dict[str, Any]:
    return {
        "image": ETCD_IMAGE,
        "environment": {
            "ETCD_AUTO_COMPACTION_MODE": "revision",
            "ETCD_AUTO_COMPACTION_RETENTION": "1000",
            "ETCD_QUOTA_BACKEND_BYTES": "4294967296",
            "ETCD_SNAPSHOT_COUNT": "50000",
        },
        "volumes": ["etcd-data:/etcd"],
        "command": [
            "etcd",
            "-advertise-client-urls=http://etcd:2379",
            "-listen-client-urls=http://0.0.0.0:2379",
            "--data-dir=/etcd",
        ],
        "healthcheck": _health(["CMD", "etcdctl", "endpoint", "health"]),
        "restart": "unless-stopped",
    }


def _minio_service() -> dict[str, Any]:
    return {
        "image": MINIO_IMAGE,
        "environment": {
            "MINIO_ROOT_USER": "${MINIO_ROOT_USER:-minioadmin}",
            "MINIO_ROOT_PASSWORD": "${MINIO_ROOT_PASSWORD:-minioadmin}",
        },
        "volumes": ["minio-data:/minio_data"],
        "command": ["minio", "server", "/minio_data", "--console-address", ":9001"],
        "healthcheck": _health(["CMD", "curl", "-f", "http://localhost:9000/minio/health/live"]),
        "restart": "unless-stopped",
    }


def _ragsilo_service(p: DeployParams) -> dict[str, Any]:
    probe = (
        "import urllib.request,sys; "
        "r = urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=3); "
        "sys.exit(0 if r.status == 200 else 1)"
    )
    return {
        "image": "${RAGSILO_IMAGE:-" + p.image + "}",
        "environment": {
            "RAGSILO_MILVUS__URI": "http://milvus:19530",
            "RAGSILO_COLLECTION__NAME": p.collection,
            "RAGSILO_INDEX__TYPE": p.index_type,
        },
        "ports": ["127.0.0.1:8000:8000"],
        "healthcheck": _health(["CMD", "python", "-c", probe], start="60s"),
        "depends_on": {"milvus": {"condition": "service_healthy"}},
        "restart": "unless-stopped",
    }


def _attu_service() -> dict[str, Any]:
    return {
        "image": ATTU_IMAGE,
        "environment": {"MILVUS_URL": "milvus:19530"},
        "ports": ["127.0.0.1:3000:3000"],
        "depends_on": {"milvus": {"condition": "service_healthy"}},
        "restart": "unless-stopped",
    }


def _prometheus_service() -> dict[str, Any]:
    return {
        "image": monitoring.PROMETHEUS_IMAGE,
        "profiles": ["monitoring"],
        "command": [
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
            "--storage.tsdb.retention.time=7d",
        ],
        "volumes": [
            "./monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro",
            "prometheus-data:/prometheus",
        ],
        "ports": ["127.0.0.1:9090:9090"],
        "restart": "unless-stopped",
    }


def _loki_service() -> dict[str, Any]:
    return {
        "image": monitoring.LOKI_IMAGE,
        "profiles": ["monitoring"],
        "command": ["-config.file=/etc/loki/loki.yaml"],
        "volumes": ["./monitoring/loki.yaml:/etc/loki/loki.yaml:ro", "loki-data:/loki"],
        "restart": "unless-stopped",
    }


def _promtail_service() -> dict[str, Any]:
    return {
        "image": monitoring.PROMTAIL_IMAGE,
        "profiles": ["monitoring"],
        "command": ["-config.file=/etc/promtail/promtail.yaml"],
        "volumes": [
            "./monitoring/promtail.yaml:/etc/promtail/promtail.yaml:ro",
            "/var/run/docker.sock:/var/run/docker.sock:ro",
            "promtail-positions:/run/promtail",
        ],
        "depends_on": ["loki"],
        "restart": "unless-stopped",
    }


def _grafana_service() -> dict[str, Any]:
    return {
        "image": monitoring.GRAFANA_IMAGE,
        "profiles": ["monitoring"],
        "environment": {
            "GF_SECURITY_ADMIN_USER": "admin",
            "GF_SECURITY_ADMIN_PASSWORD": "${GRAFANA_ADMIN_PASSWORD:-admin}",
            "GF_ANALYTICS_REPORTING_ENABLED": "false",
        },
        "volumes": [
            "./monitoring/grafana/datasources.yaml:/etc/grafana/provisioning/datasources/datasources.yaml:ro",
            "./monitoring/grafana/dashboards.yaml:/etc/grafana/provisioning/dashboards/dashboards.yaml:ro",
            f"./monitoring/grafana/{monitoring.DASHBOARD_FILE}:/var/lib/grafana/dashboards/{monitoring.DASHBOARD_FILE}:ro",
            "grafana-data:/var/lib/grafana",
        ],
        "ports": ["127.0.0.1:3001:3000"],
        "depends_on": ["prometheus", "loki"],
        "restart": "unless-stopped",
    }


def monitoring_files() -> dict[str, Any]:
    """The monitoring configs the compose file mounts, by relative path (as data, not text)."""
    return {
        "monitoring/prometheus.yml": monitoring.prometheus_config(kubernetes_namespace=None),
        "monitoring/loki.yaml": monitoring.loki_config(),
        "monitoring/promtail.yaml": monitoring.promtail_config(
            loki_url="http://loki:3100/loki/api/v1/push", kubernetes_namespace=None
        ),
        "monitoring/grafana/datasources.yaml": monitoring.grafana_datasources(
            prometheus_url="http://prometheus:9090", loki_url="http://loki:3100"
        ),
        "monitoring/grafana/dashboards.yaml": monitoring.grafana_dashboard_provider(
            "/var/lib/grafana/dashboards"
        ),
    }
