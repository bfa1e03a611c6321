"""Monitoring: Prometheus, Loki, Promtail and Grafana, for compose and for Kubernetes.

Both flavours label things the same way so one Grafana dashboard serves both:
Prometheus jobs are ``ragsilo`` (the service's ``/metrics`` on port 8000) and
``milvus`` (Milvus's metrics port 9091); log streams carry ``app`` =
``ragsilo``, ``milvus``, ``etcd``, ``minio`` or ``attu``.

The dashboard reads these metrics of the ragsilo service (their names come from
:mod:`ragsilo.metric_names`, the contract between the service and this dashboard):

- ``ragsilo_http_requests_total`` — counter, labels ``method``, ``route``, ``status``
- ``ragsilo_http_request_duration_seconds`` — histogram, label ``route``
- ``process_resident_memory_bytes`` — the standard process collector
"""

from __future__ import annotations

from typing import Any

from ragsilo import metric_names
from ragsilo.deploy._yaml import dump, dump_json

MONITORING_NAMESPACE = "monitoring"

PROMETHEUS_IMAGE = "prom/prometheus:v3.2.1"
LOKI_IMAGE = "grafana/loki:3.4.2"
PROMTAIL_IMAGE = "grafana/promtail:3.4.2"
GRAFANA_IMAGE = "grafana/grafana:11.5.2"

REQUESTS_METRIC = metric_names.counter_total(metric_names.HTTP_REQUESTS)
LATENCY_METRIC = metric_names.HTTP_REQUEST_DURATION
MEMORY_METRIC = metric_names.PROCESS_RESIDENT_MEMORY
LOG_APPS = ("ragsilo", "milvus", "etcd", "minio", "attu")

DASHBOARD_UID = "ragsilo-overview"
DASHBOARD_FILE = "ragsilo-dashboard.json"
PROMETHEUS_UID = "prometheus"
LOKI_UID = "loki"

_LOKI_URL = f"http://loki.{MONITORING_NAMESPACE}.svc.cluster.local:3100"
_PROMETHEUS_URL = f"http://prometheus.{MONITORING_NAMESPACE}.svc.cluster.local:9090"
_DASHBOARDS_PATH = "/var/lib/grafana/dashboards"


# ---------------------------------------------------------------- configs


def prometheus_config(*, kubernetes_namespace: str | None) -> dict[str, Any]:
    """Scrape ragsilo's ``/metrics`` and Milvus's metrics port.

    ``kubernetes_namespace`` None means compose: static targets by service name.
    """
    if kubernetes_namespace is None:
        jobs: list[dict[str, Any]] = [
            {
                "job_name": "ragsilo",
                "metrics_path": "/metrics",
                "static_configs": [{"targets": ["ragsilo:8000"]}],
            },
            {
                "job_name": "milvus",
                "metrics_path": "/metrics",
                "static_configs": [{"targets": ["milvus:9091"]}],
            },
        ]
    else:
        jobs = [
            _pod_job("ragsilo", kubernetes_namespace, port_name="http"),
            _pod_job("milvus", kubernetes_namespace, port_name="metrics"),
        ]
    return {
        "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
        "scrape_configs": jobs,
    }


def _pod_job(app: str, namespace: str, *, port_name: str) -> dict[str, Any]:
    return {
        "job_name": app,
        "metrics_path": "/metrics",
        "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [namespace]}}],
        "relabel_configs": [
            {
                "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
                "regex": app,
                "action": "keep",
            },
            {
                "source_labels": ["__meta_kubernetes_pod_container_port_name"],
                "regex": port_name,
                "action": "keep",
            },
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {
                "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_component"],
                "target_label": "component",
            },
        ],
    }


def loki_config() -> dict[str, Any]:
    """Loki 3 in single-binary mode on a filesystem, seven days of retention."""
    return {
        "auth_enabled": False,
        "server": {"http_listen_port": 3100, "grpc_listen_port": 9095},
        "common": {
            "instance_addr": "127.0.0.1",
            "path_prefix": "/loki",
            "storage": {
                "filesystem": {
                    "chunks_directory": "/loki/chunks",
                    "rules_directory": "/loki/rules",
                }
            },
            "replication_factor": 1,
            "ring": {"kvstore": {"store": "inmemory"}},
        },
        "schema_config": {
            "configs": [
                {
                    "from": "2024-01-01",
                    "store": "tsdb",
                    "object_store": "filesystem",
                    "schema": "v13",
                    "index": {"prefix": "index_", "period": "24h"},
                }
            ]
        },
        "limits_config": {"retention_period": "168h"},
        "compactor": {
            "working_directory": "/loki/compactor",
            "retention_enabled": True,
            "delete_request_store": "filesystem",
        },
        "analytics": {"reporting_enabled": False},
    }


def promtail_config(*, loki_url: str, kubernetes_namespace: str | None) -> dict[str, Any]:
    """Collect Milvus and ragsilo logs (and their etcd, MinIO, Attu) into Loki."""
    apps = "|".join(LOG_APPS)
    if kubernetes_namespace is None:
        job: dict[str, Any] = {
            "job_name": "compose",
            "docker_sd_configs": [
                {"host": "unix:///var/run/docker.sock", "refresh_interval": "10s"}
            ],
            "relabel_configs": [
                {
                    "source_labels": ["__meta_docker_container_label_com_docker_compose_service"],
                    "regex": apps,
                    "action": "keep",
                },
                {
                    "source_labels": ["__meta_docker_container_label_com_docker_compose_service"],
                    "target_label": "app",
                },
                {
                    "source_labels": ["__meta_docker_container_name"],
                    "regex": "/(.*)",
                    "target_label": "container",
                },
            ],
        }
    else:
        job = {
            "job_name": "pods",
            "pipeline_stages": [{"cri": {}}],
            "kubernetes_sd_configs": [{"role": "pod"}],
            "relabel_configs": [
                {"source_labels": ["__meta_kubernetes_pod_node_name"], "target_label": "__host__"},
                {
                    "source_labels": ["__meta_kubernetes_namespace"],
                    "regex": kubernetes_namespace,
                    "action": "keep",
                },
                # The app is app.kubernetes.io/name, or the older `app` label (MinIO's chart).
                {"source_labels": ["__meta_kubernetes_pod_label_app"], "target_label": "__tmp_app"},
                {
                    "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
                    "regex": "(.+)",
                    "target_label": "__tmp_app",
                },
                {"source_labels": ["__tmp_app"], "regex": apps, "action": "keep"},
                {"source_labels": ["__tmp_app"], "target_label": "app"},
                {
                    "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_component"],
                    "target_label": "component",
                },
                {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
                {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
                {
                    "source_labels": ["__meta_kubernetes_pod_container_name"],
                    "target_label": "container",
                },
                {
                    "source_labels": [
                        "__meta_kubernetes_pod_uid",
                        "__meta_kubernetes_pod_container_name",
                    ],
                    "separator": "/",
                    "target_label": "__path__",
                    "replacement": "/var/log/pods/*$1/*.log",
                },
            ],
        }
    return {
        "server": {"http_listen_port": 9080, "grpc_listen_port": 0},
        "positions": {"filename": "/run/promtail/positions.yaml"},
        "clients": [{"url": loki_url}],
        "scrape_configs": [job],
    }


def grafana_datasources(*, prometheus_url: str, loki_url: str) -> dict[str, Any]:
    """Prometheus and Loki provisioned as Grafana data sources, with fixed uids."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "type": "prometheus",
                "uid": PROMETHEUS_UID,
                "access": "proxy",
                "url": prometheus_url,
                "isDefault": True,
            },
            {
                "name": "Loki",
                "type": "loki",
                "uid": LOKI_UID,
                "access": "proxy",
                "url": loki_url,
            },
        ],
    }


def grafana_dashboard_provider(path: str) -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "ragsilo",
                "folder": "ragsilo",
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "options": {"path": path},
            }
        ],
    }


def _prom(expr: str, legend: str) -> dict[str, Any]:
    return {
        "datasource": {"type": "prometheus", "uid": PROMETHEUS_UID},
        "expr": expr,
        "legendFormat": legend,
        "refId": "A",
    }


def _panel(
    pid: int,
    title: str,
    kind: str,
    grid: tuple[int, int, int, int],
    targets: list[dict[str, Any]],
    *,
    unit: str | None = None,
    source: str = PROMETHEUS_UID,
) -> dict[str, Any]:
    x, y, w, h = grid
    panel: dict[str, Any] = {
        "id": pid,
        "title": title,
        "type": kind,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "datasource": {"type": "loki" if source == LOKI_UID else "prometheus", "uid": source},
        "targets": targets,
    }
    if unit is not None:
        panel["fieldConfig"] = {"defaults": {"unit": unit}, "overrides": []}
    if kind == "logs":
        panel["options"] = {"showTime": True, "wrapLogMessage": True, "sortOrder": "Descending"}
    return panel


def grafana_dashboard() -> dict[str, Any]:
    """The ragsilo dashboard: service traffic, errors and latency, Milvus search, and logs."""
    req = f'{REQUESTS_METRIC}{{job="ragsilo"}}'
    panels = [
        _panel(
            1, "ragsilo replicas up", "stat", (0, 0, 4, 4), [_prom('sum(up{job="ragsilo"})', "up")]
        ),
        _panel(2, "Milvus pods up", "stat", (4, 0, 4, 4), [_prom('sum(up{job="milvus"})', "up")]),
        _panel(
            3,
            "ragsilo error ratio (5xx)",
            "stat",
            (8, 0, 8, 4),
            [
                _prom(
                    f'sum(rate({REQUESTS_METRIC}{{job="ragsilo",status=~"5.."}}[5m]))'
                    f" / clamp_min(sum(rate({req}[5m])), 1e-9)",
                    "5xx",
                )
            ],
            unit="percentunit",
        ),
        _panel(
            4,
            "ragsilo requests per second by route",
            "timeseries",
            (0, 4, 12, 8),
            [_prom(f"sum by (route) (rate({req}[5m]))", "{{route}}")],
            unit="reqps",
        ),
        _panel(
            5,
            "ragsilo p95 latency by route",
            "timeseries",
            (12, 4, 12, 8),
            [
                _prom(
                    "histogram_quantile(0.95, sum by (le, route) "
                    f'(rate({LATENCY_METRIC}_bucket{{job="ragsilo"}}[5m])))',
                    "{{route}}",
                )
            ],
            unit="s",
        ),
        _panel(
            6,
            "Milvus requests per second by function",
            "timeseries",
            (0, 12, 12, 8),
            [
                _prom(
                    'sum by (function_name) (rate(milvus_proxy_req_count{job="milvus"}[5m]))',
                    "{{function_name}}",
                )
            ],
            unit="reqps",
        ),
        _panel(
            7,
            "Milvus search/query p99 latency",
            "timeseries",
            (12, 12, 12, 8),
            [
                _prom(
                    "histogram_quantile(0.99, sum by (le, query_type) "
                    '(rate(milvus_proxy_sq_latency_bucket{job="milvus"}[5m])))',
                    "{{query_type}}",
                )
            ],
            unit="ms",
        ),
        _panel(
            8,
            "Resident memory by pod",
            "timeseries",
            (0, 20, 24, 8),
            [
                _prom(
                    f'sum by (job, pod) ({MEMORY_METRIC}{{job=~"ragsilo|milvus"}})',
                    "{{job}} {{pod}}",
                )
            ],
            unit="bytes",
        ),
        _panel(
            9,
            "ragsilo logs",
            "logs",
            (0, 28, 24, 10),
            [
                {
                    "datasource": {"type": "loki", "uid": LOKI_UID},
                    "expr": '{app="ragsilo"}',
                    "refId": "A",
                }
            ],
            source=LOKI_UID,
        ),
        _panel(
            10,
            "Milvus warnings and errors",
            "logs",
            (0, 38, 24, 10),
            [
                {
                    "datasource": {"type": "loki", "uid": LOKI_UID},
                    "expr": '{app="milvus"} |~ "(?i)(warn|error)"',
                    "refId": "A",
                }
            ],
            source=LOKI_UID,
        ),
    ]
    return {
        "uid": DASHBOARD_UID,
        "title": "ragsilo: service and Milvus",
        "tags": ["ragsilo", "milvus"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "panels": panels,
    }


# ---------------------------------------------------------------- Kubernetes manifests


def _meta(name: str, app: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": MONITORING_NAMESPACE,
        "labels": {
            "app.kubernetes.io/name": app,
            "app.kubernetes.io/part-of": "ragsilo-monitoring",
        },
    }


def _restricted(user: int) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": user,
        "runAsGroup": user,
        "fsGroup": user,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


_NO_ESCALATION = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def _cluster_reader(name: str, resources: list[str]) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, name)},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": f"ragsilo-{name}", "labels": {"app.kubernetes.io/name": name}},
            "rules": [
                {"apiGroups": [""], "resources": resources, "verbs": ["get", "list", "watch"]}
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"ragsilo-{name}", "labels": {"app.kubernetes.io/name": name}},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": f"ragsilo-{name}",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": name, "namespace": MONITORING_NAMESPACE}
            ],
        },
    ]


def _service(name: str, port: int, node_port: int | None = None) -> dict[str, Any]:
    ports: dict[str, Any] = {"name": "http", "port": port, "targetPort": "http"}
    spec: dict[str, Any] = {"type": "ClusterIP", "selector": {"app.kubernetes.io/name": name}}
    if node_port is not None:
        spec["type"] = "NodePort"
        ports["nodePort"] = node_port
    spec["ports"] = [ports]
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, name), "spec": spec}


def _http_probe(path: str, delay: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "initialDelaySeconds": delay,
        "periodSeconds": 15,
    }


def kubernetes_manifests(
    app_namespace: str, *, grafana_node_port: int | None = None
) -> dict[str, list[Any]]:
    """Monitoring manifests by file name (``monitoring/*.yaml``), as lists of documents.

    ``grafana_node_port`` publishes Grafana on a node port (kind maps it to the host).
    """
    return {
        "monitoring/00-namespace.yaml": [_monitoring_namespace()],
        "monitoring/prometheus.yaml": _prometheus_manifests(app_namespace),
        "monitoring/loki.yaml": _loki_manifests(),
        "monitoring/promtail.yaml": _promtail_manifests(app_namespace),
        "monitoring/grafana.yaml": _grafana_manifests(grafana_node_port),
    }


def _monitoring_namespace() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": MONITORING_NAMESPACE,
            "labels": {"app.kubernetes.io/part-of": "ragsilo-monitoring"},
        },
    }


def _prometheus_manifests(app_namespace: str) -> list[Any]:
    """Prometheus: its service account, config, volume, deployment and service."""
    return [
        *_cluster_reader("prometheus", ["pods", "services", "endpoints", "nodes"]),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("prometheus-config", "prometheus"),
            "data": {"prometheus.yml": dump(prometheus_config(kubernetes_namespace=app_namespace))},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": _meta("prometheus-data", "prometheus"),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "20Gi"}},
            },
        },
        _prometheus_deployment(),
        _service("prometheus", 9090),
    ]


def _prometheus_deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta("prometheus", "prometheus"),
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "prometheus"}},
                "spec": {
                    "serviceAccountName": "prometheus",
                    "securityContext": _restricted(65534),
                    "containers": [
                        {
                            "name": "prometheus",
                            "image": PROMETHEUS_IMAGE,
                            "args": [
                                "--config.file=/etc/prometheus/prometheus.yml",
                                "--storage.tsdb.path=/prometheus",
                                "--storage.tsdb.retention.time=7d",
                            ],
                            "ports": [{"name": "http", "containerPort": 9090}],
                            "readinessProbe": _http_probe("/-/ready", 5),
                            "livenessProbe": _http_probe("/-/healthy", 30),
                            "resources": {
                                "requests": {"cpu": "250m", "memory": "512Mi"},
                                "limits": {"memory": "2Gi"},
                            },
                            "securityContext": _NO_ESCALATION,
                            "volumeMounts": [
                                {"name": "config", "mountPath": "/etc/prometheus"},
                                {"name": "data", "mountPath": "/prometheus"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "config", "configMap": {"name": "prometheus-config"}},
                        {
                            "name": "data",
                            "persistentVolumeClaim": {"claimName": "prometheus-data"},
                        },
                    ],
                },
            },
        },
    }


def _loki_manifests() -> list[Any]:
    """Loki: its config, service and stateful set."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("loki-config", "loki"),
            "data": {"loki.yaml": dump(loki_config())},
        },
        _service("loki", 3100),
        _loki_statefulset(),
    ]


def _loki_statefulset() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta("loki", "loki"),
        "spec": {
            "serviceName": "loki",
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "loki"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "loki"}},
                "spec": {
                    "securityContext": _restricted(10001),
                    "containers": [
                        {
                            "name": "loki",
                            "image": LOKI_IMAGE,
                            "args": ["-config.file=/etc/loki/loki.yaml"],
                            "ports": [
                                {"name": "http", "containerPort": 3100},
                                {"name": "grpc", "containerPort": 9095},
                            ],
                            "readinessProbe": _http_probe("/ready", 15),
                            "resources": {
                                "requests": {"cpu": "250m", "memory": "512Mi"},
                                "limits": {"memory": "2Gi"},
                            },
                            "securityContext": _NO_ESCALATION,
                            "volumeMounts": [
                                {"name": "config", "mountPath": "/etc/loki"},
                                {"name": "data", "mountPath": "/loki"},
                                {"name": "tmp", "mountPath": "/tmp"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "config", "configMap": {"name": "loki-config"}},
                        {"name": "tmp", "emptyDir": {}},
                    ],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "20Gi"}},
                    },
                }
            ],
        },
    }


def _promtail_manifests(app_namespace: str) -> list[Any]:
    """Promtail on every node: its service account, config and daemon set."""
    return [
        *_cluster_reader("promtail", ["pods", "nodes", "namespaces"]),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("promtail-config", "promtail"),
            "data": {
                "promtail.yaml": dump(
                    promtail_config(
                        loki_url=f"{_LOKI_URL}/loki/api/v1/push", kubernetes_namespace=app_namespace
                    )
                )
            },
        },
        _promtail_daemonset(),
    ]


def _promtail_daemonset() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": _meta("promtail", "promtail"),
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "promtail"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "promtail"}},
                "spec": {
                    "serviceAccountName": "promtail",
                    # Reading other pods' log files under /var/log/pods needs root.
                    "securityContext": {
                        "runAsUser": 0,
                        "runAsGroup": 0,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
                    "containers": [
                        {
                            "name": "promtail",
                            "image": PROMTAIL_IMAGE,
                            "args": ["-config.file=/etc/promtail/promtail.yaml"],
                            "env": [
                                {
                                    "name": "HOSTNAME",
                                    "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}},
                                }
                            ],
                            "ports": [{"name": "http", "containerPort": 9080}],
                            "readinessProbe": _http_probe("/ready", 10),
                            "resources": {
                                "requests": {"cpu": "50m", "memory": "64Mi"},
                                "limits": {"memory": "256Mi"},
                            },
                            "securityContext": _NO_ESCALATION,
                            "volumeMounts": [
                                {"name": "config", "mountPath": "/etc/promtail"},
                                {"name": "run", "mountPath": "/run/promtail"},
                                {
                                    "name": "pods",
                                    "mountPath": "/var/log/pods",
                                    "readOnly": True,
                                },
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "config", "configMap": {"name": "promtail-config"}},
                        {
                            "name": "run",
                            "hostPath": {"path": "/run/promtail", "type": "DirectoryOrCreate"},
                        },
                        {
                            "name": "pods",
                            "hostPath": {"path": "/var/log/pods", "type": "Directory"},
                        },
                    ],
                },
            },
        },
    }


def _grafana_manifests(node_port: int | None) -> list[Any]:
    """Grafana: provisioning, the dashboard, the deployment and its service."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("grafana-provisioning", "grafana"),
            "data": {
                "datasources.yaml": dump(
                    grafana_datasources(prometheus_url=_PROMETHEUS_URL, loki_url=_LOKI_URL)
                ),
                "dashboards.yaml": dump(grafana_dashboard_provider(_DASHBOARDS_PATH)),
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("grafana-dashboards", "grafana"),
            "data": {DASHBOARD_FILE: dump_json(grafana_dashboard())},
        },
        _grafana_deployment(),
        _service("grafana", 3000, node_port),
    ]


def _grafana_deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta("grafana", "grafana"),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "grafana"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "grafana"}},
                "spec": {
                    "securityContext": _restricted(472),
                    "containers": [
                        {
                            "name": "grafana",
                            "image": GRAFANA_IMAGE,
                            "env": [
                                {"name": "GF_SECURITY_ADMIN_USER", "value": "admin"},
                                {
                                    "name": "GF_SECURITY_ADMIN_PASSWORD",
                                    "valueFrom": {
                                        "secretKeyRef": {
                                            "name": "grafana-admin",
                                            "key": "admin-password",
                                        }
                                    },
                                },
                                {
                                    "name": "GF_PATHS_PROVISIONING",
                                    "value": "/etc/grafana/provisioning",
                                },
                                {"name": "GF_ANALYTICS_REPORTING_ENABLED", "value": "false"},
                            ],
                            "ports": [{"name": "http", "containerPort": 3000}],
                            "readinessProbe": _http_probe("/api/health", 10),
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "256Mi"},
                                "limits": {"memory": "1Gi"},
                            },
                            "securityContext": _NO_ESCALATION,
                            "volumeMounts": [
                                {
                                    "name": "datasources",
                                    "mountPath": "/etc/grafana/provisioning/datasources",
                                },
                                {
                                    "name": "providers",
                                    "mountPath": "/etc/grafana/provisioning/dashboards",
                                },
                                {"name": "dashboards", "mountPath": _DASHBOARDS_PATH},
                                {"name": "data", "mountPath": "/var/lib/grafana"},
                                {"name": "tmp", "mountPath": "/tmp"},
                            ],
                        }
                    ],
                    "volumes": [
                        {
                            "name": "datasources",
                            "configMap": {
                                "name": "grafana-provisioning",
                                "items": [{"key": "datasources.yaml", "path": "datasources.yaml"}],
                            },
                        },
                        {
                            "name": "providers",
                            "configMap": {
                                "name": "grafana-provisioning",
                                "items": [{"key": "dashboards.yaml", "path": "dashboards.yaml"}],
                            },
                        },
                        {"name": "dashboards", "configMap": {"name": "grafana-dashboards"}},
                        {"name": "data", "emptyDir": {}},
                        {"name": "tmp", "emptyDir": {}},
                    ],
                },
            },
        },
    }
