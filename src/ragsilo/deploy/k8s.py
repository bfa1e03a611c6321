"""Kubernetes manifests for the ragsilo service (Deployment, Service, HPA, PDB) and Attu."""

from __future__ import annotations

from typing import Any

from ragsilo.deploy.params import DeployParams

ATTU_IMAGE = "zilliz/attu:v2.6.5"
SERVICE_PORT = 8000
#: Node ports that the kind cluster file maps to the host.
KIND_NODE_PORTS = {"attu": 30030, "ragsilo": 30800, "grafana": 30300}


def milvus_service_name(p: DeployParams) -> str:
    """The Service in front of Milvus's proxy, as the operator or the Helm chart names it."""
    if p.target == "eks":
        # The chart's fullname is the release name when that already contains "milvus".
        return p.milvus_release if "milvus" in p.milvus_release else f"{p.milvus_release}-milvus"
    return f"{p.milvus_release}-milvus"


def milvus_uri(p: DeployParams) -> str:
    return f"http://{milvus_service_name(p)}.{p.namespace}.svc.cluster.local:19530"


def namespace(p: DeployParams) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": p.namespace, "labels": {"app.kubernetes.io/part-of": "ragsilo"}},
    }


def _labels(p: DeployParams, name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": p.name,
        "app.kubernetes.io/part-of": "ragsilo",
    }


def _probe(path: str, *, delay: int, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "initialDelaySeconds": delay,
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def ragsilo_manifests(p: DeployParams) -> list[dict[str, Any]]:
    """ServiceAccount, Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget."""
    meta = {"name": p.name, "namespace": p.namespace, "labels": _labels(p, "ragsilo")}
    selector = {"app.kubernetes.io/name": "ragsilo", "app.kubernetes.io/instance": p.name}
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": meta,
            "automountServiceAccountToken": False,
        },
        _ragsilo_deployment(p, meta, selector),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": _ragsilo_service_spec(p, selector),
        },
        _ragsilo_autoscaler(p, meta),
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta,
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}},
        },
    ]


def _ragsilo_container(p: DeployParams) -> dict[str, Any]:
    env: list[dict[str, Any]] = [
        {"name": "RAGSILO_MILVUS__URI", "value": milvus_uri(p)},
        {
            "name": "RAGSILO_MILVUS__TOKEN",
            "valueFrom": {
                "secretKeyRef": {"name": f"{p.name}-milvus-login", "key": "token", "optional": True}
            },
        },
        {"name": "RAGSILO_COLLECTION__NAME", "value": p.collection},
        {"name": "RAGSILO_INDEX__TYPE", "value": p.index_type},
        {"name": "HOME", "value": "/tmp"},
    ]
    container = {
        "name": "ragsilo",
        "image": p.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": SERVICE_PORT, "protocol": "TCP"}],
        "env": env,
        "startupProbe": _probe("/health", delay=5, period=5, failures=36),
        "readinessProbe": _probe("/ready", delay=0, period=10, failures=3),
        "livenessProbe": _probe("/health", delay=0, period=20, failures=3),
        "resources": {
            "requests": {"cpu": "500m", "memory": "1Gi"},
            "limits": {"memory": "2Gi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return container


def _ragsilo_deployment(
    p: DeployParams, meta: dict[str, Any], selector: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": p.service_replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {"labels": _labels(p, "ragsilo")},
                "spec": {
                    "serviceAccountName": p.name,
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "fsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": selector},
                        }
                    ],
                    "terminationGracePeriodSeconds": 30,
                    "containers": [_ragsilo_container(p)],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
                },
            },
        },
    }


def _ragsilo_service_spec(p: DeployParams, selector: dict[str, str]) -> dict[str, Any]:
    service_spec: dict[str, Any] = {
        "selector": selector,
        "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}],
    }
    if p.target == "kind":
        service_spec["type"] = "NodePort"
        service_spec["ports"][0]["nodePort"] = KIND_NODE_PORTS["ragsilo"]
    else:
        service_spec["type"] = "ClusterIP"
    return service_spec


def _ragsilo_autoscaler(p: DeployParams, meta: dict[str, Any]) -> dict[str, Any]:
    """Scale on CPU between the service's minimum and maximum replicas, down one pod a minute."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": p.name},
            "minReplicas": p.service_replicas,
            "maxReplicas": p.service_max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
            "behavior": {
                "scaleDown": {
                    "stabilizationWindowSeconds": 300,
                    "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
                }
            },
        },
    }


def attu_manifests(p: DeployParams) -> list[dict[str, Any]]:
    """Attu, the Milvus web UI, for the operator-based targets (the operator does not ship it)."""
    labels = _labels(p, "attu")
    selector = {"app.kubernetes.io/name": "attu", "app.kubernetes.io/instance": p.name}
    meta = {"name": "attu", "namespace": p.namespace, "labels": labels}
    port: dict[str, Any] = {"name": "http", "port": 3000, "targetPort": "http", "protocol": "TCP"}
    spec: dict[str, Any] = {"selector": selector, "ports": [port]}
    if p.target == "kind":
        spec["type"] = "NodePort"
        port["nodePort"] = KIND_NODE_PORTS["attu"]
    else:
        spec["type"] = "ClusterIP"
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "automountServiceAccountToken": False,
                        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                        "containers": [
                            {
                                "name": "attu",
                                "image": ATTU_IMAGE,
                                "imagePullPolicy": "IfNotPresent",
                                "env": [
                                    {
                                        "name": "MILVUS_URL",
                                        "value": f"{milvus_service_name(p)}:19530",
                                    }
                                ],
                                "ports": [
                                    {"name": "http", "containerPort": 3000, "protocol": "TCP"}
                                ],
                                "readinessProbe": {
                                    "tcpSocket": {"port": "http"},
                                    "initialDelaySeconds": 5,
                                    "periodSeconds": 10,
                                },
                                "resources": {
                                    "requests": {"cpu": "100m", "memory": "128Mi"},
                                    "limits": {"memory": "512Mi"},
                                },
                                "securityContext": {
                                    "allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]},
                                },
                            }
                        ],
                    },
                },
            },
        },
        {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec},
    ]
