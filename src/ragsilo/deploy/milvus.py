"""Milvus itself: the milvus-operator ``Milvus`` resource, Helm values and the kind cluster file.

Written for the Milvus 2.6 line: coordinators run as one ``mixCoord``, index
building happens on data nodes (no index node), a streaming node carries the
write-ahead log, and Woodpecker is the default log store (on the same object
storage as the data). Kafka is the alternative for teams that already run
one (MSK with SASL/SCRAM on EKS).
"""

from __future__ import annotations

from typing import Any

from ragsilo.deploy.k8s import KIND_NODE_PORTS
from ragsilo.deploy.params import DeployParams
from ragsilo.deploy.sizing import Sizing

OPERATOR_VERSION = "1.3.8"
OPERATOR_CHART_URL = (
    "https://github.com/zilliztech/milvus-operator/releases/download/"
    f"v{OPERATOR_VERSION}/milvus-operator-{OPERATOR_VERSION}.tgz"
)
HELM_REPO_URL = "https://zilliztech.github.io/milvus-helm/"
HELM_CHART_VERSION = "5.0.19"
ATTU_TAG = "v2.6.5"
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def _resources(
    cpu_request: str,
    memory_request: str,
    memory_limit: str,
    cpu_limit: str | None = None,
    gpus: int = 0,
) -> dict[str, Any]:
    requests: dict[str, str] = {"cpu": cpu_request, "memory": memory_request}
    limits: dict[str, str] = {"memory": memory_limit}
    if cpu_limit is not None:
        limits["cpu"] = cpu_limit
    if gpus:
        requests["nvidia.com/gpu"] = str(gpus)
        limits["nvidia.com/gpu"] = str(gpus)
    return {"requests": requests, "limits": limits}


def query_node_resources(p: DeployParams, s: Sizing) -> dict[str, Any]:
    """Query node resources from the sizing; kind asks little so it schedules on a laptop."""
    gpus = 1 if p.gpu else 0
    if p.target == "kind":
        return _resources("250m", "512Mi", s.memory_quantity, gpus=gpus)
    return _resources(
        s.cpu_quantity, s.memory_quantity, s.memory_quantity, s.cpu_quantity, gpus=gpus
    )


def _small(p: DeployParams) -> bool:
    return p.target == "kind"


def _ha_replicas(p: DeployParams) -> int:
    return 1 if _small(p) else 2


def _data_node_gpus(p: DeployParams) -> int:
    # Milvus 2.6 builds indexes on data nodes; a GPU index is built on a GPU.
    return 1 if p.gpu and p.resolved_index_type.startswith("GPU_") else 0


# ---------------------------------------------------------------- milvus-operator


def s3_service_account_name(p: DeployParams) -> str:
    return f"{p.milvus_release}-s3"


def kafka_secret_name(p: DeployParams) -> str:
    return f"{p.milvus_release}-kafka-sasl"


def s3_secret_name(p: DeployParams) -> str:
    return f"{p.milvus_release}-s3-keys"


def operator_manifests(p: DeployParams, s: Sizing) -> list[dict[str, Any]]:
    """The ``Milvus`` custom resource in cluster mode (and its S3 service account when used)."""
    small = _small(p)
    components = _operator_components(p, s)
    keep = (
        {"deletionPolicy": "Delete", "pvcDeletion": True}
        if small
        else {"deletionPolicy": "Retain", "pvcDeletion": False}
    )
    dependencies: dict[str, Any] = {
        "etcd": {"inCluster": {**keep, "values": {"replicaCount": 1 if small else 3}}},
    }
    config: dict[str, Any] = {}
    docs: list[dict[str, Any]] = []
    if p.uses_s3:
        dependencies["storage"], config["minio"] = _operator_s3(p)
        if p.s3_role_arn:
            components["serviceAccountName"] = s3_service_account_name(p)
            docs.append(_s3_service_account(p))
    else:
        values: dict[str, Any] = (
            {
                "mode": "standalone",
                "persistence": {"size": "20Gi"},
                "resources": {"requests": {"memory": "512Mi"}},
            }
            if small
            else {"mode": "distributed", "persistence": {"size": "500Gi"}}
        )
        dependencies["storage"] = {"inCluster": {**keep, "values": values}}
    if not small:
        # Authentication on; install.sh replaces root's default password before ragsilo connects.
        config["common"] = {"security": {"authorizationEnabled": True}}
    if p.message_queue == "kafka":
        dependencies["msgStreamType"] = "kafka"
        dependencies["kafka"] = {
            "external": True,
            "brokerList": list(p.kafka_brokers),
            "secretRef": kafka_secret_name(p),
        }
        config["kafka"] = {"securityProtocol": "SASL_SSL", "saslMechanisms": p.kafka_sasl_mechanism}
    else:
        dependencies["msgStreamType"] = "woodpecker"
    cr = {
        "apiVersion": "milvus.io/v1beta1",
        "kind": "Milvus",
        "metadata": {
            "name": p.milvus_release,
            "namespace": p.namespace,
            "labels": {"app": "milvus", "app.kubernetes.io/part-of": "ragsilo"},
        },
        "spec": {
            "mode": "cluster",
            "components": components,
            "dependencies": dependencies,
            "config": config,
        },
    }
    return [*docs, cr]


def _operator_components(p: DeployParams, s: Sizing) -> dict[str, Any]:
    """The image and the Milvus 2.6 components; query nodes sized by ``s``."""
    small = _small(p)
    ha = _ha_replicas(p)
    components: dict[str, Any] = {
        "image": p.milvus_image,
        "imagePullPolicy": "IfNotPresent",
        "enableRollingUpdate": True,
        "mixCoord": {
            "replicas": ha,
            "resources": _resources(
                "250m" if small else "1", "512Mi" if small else "2Gi", "2Gi" if small else "4Gi"
            ),
        },
        "proxy": {
            "replicas": ha,
            "serviceType": "ClusterIP",
            "resources": _resources(
                "250m" if small else "1", "256Mi" if small else "1Gi", "1Gi" if small else "4Gi"
            ),
        },
        "dataNode": {
            "replicas": ha,
            "resources": _resources(
                "250m" if small else "2",
                "512Mi" if small else "4Gi",
                "2Gi" if small else "8Gi",
                gpus=_data_node_gpus(p),
            ),
        },
        "streamingNode": {
            "replicas": ha,
            "resources": _resources(
                "250m" if small else "1", "512Mi" if small else "2Gi", "2Gi" if small else "4Gi"
            ),
        },
        "queryNode": {"replicas": s.query_nodes, "resources": query_node_resources(p, s)},
    }
    if p.gpu:
        components["queryNode"]["tolerations"] = [GPU_TOLERATION]
        if _data_node_gpus(p):
            components["dataNode"]["tolerations"] = [GPU_TOLERATION]
    return components


def _operator_s3(p: DeployParams) -> tuple[dict[str, Any], dict[str, Any]]:
    """S3 as the external storage, and its ``config.minio``: through an IAM role or a secret."""
    storage: dict[str, Any] = {
        "external": True,
        "type": "S3",
        "endpoint": f"s3.{p.s3_region}.amazonaws.com:443",
    }
    minio: dict[str, Any] = {
        "bucketName": p.s3_bucket,
        "rootPath": p.milvus_release,
        "useSSL": True,
        "cloudProvider": "aws",
        "region": p.s3_region,
    }
    if p.s3_role_arn:
        minio["useIAM"] = True
    else:
        minio["useIAM"] = False
        storage["secretRef"] = s3_secret_name(p)
    return storage, minio


def _s3_service_account(p: DeployParams) -> dict[str, Any]:
    """The service account Milvus reaches S3 through, bound to the IAM role by annotation."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": s3_service_account_name(p),
            "namespace": p.namespace,
            "annotations": {"eks.amazonaws.com/role-arn": p.s3_role_arn},
        },
    }


# ---------------------------------------------------------------- Helm (official chart)


def helm_values(p: DeployParams, s: Sizing, *, profile: str) -> dict[str, Any]:
    """Values for the official ``milvus`` chart; ``profile`` is ``kind`` or ``eks``."""
    small = profile == "kind"
    tag = f"v{p.milvus_version}" + ("-gpu" if p.gpu else "")
    v: dict[str, Any] = {
        "cluster": {"enabled": True},
        "image": {
            "all": {"repository": "milvusdb/milvus", "tag": tag, "pullPolicy": "IfNotPresent"}
        },
        "metrics": {"enabled": True, "serviceMonitor": {"enabled": False}},
        "log": {"level": "info", "format": "text"},
    }
    v.update(_helm_access(p, small=small))
    v.update(_helm_coordinators(small=small))
    v.update(_helm_nodes(p, s, small=small))
    v.update(_helm_message_queue(p))
    v.update(_helm_dependencies(p, small=small))
    return v


def _helm_access(p: DeployParams, *, small: bool) -> dict[str, Any]:
    """Authentication, the service account (IAM role for S3) and the Milvus service."""
    v: dict[str, Any] = {}
    if small:
        v["service"] = {"type": "ClusterIP", "port": 19530}
        return v
    # Authentication on; install.sh replaces root's default password before ragsilo connects.
    v["extraConfigFiles"] = {"user.yaml": "common:\n  security:\n    authorizationEnabled: true\n"}
    v["serviceAccount"] = {
        "create": True,
        "name": s3_service_account_name(p),
        "annotations": {"eks.amazonaws.com/role-arn": p.s3_role_arn},
    }
    v["service"] = {
        "type": "LoadBalancer",
        "port": 19530,
        "annotations": {
            "service.beta.kubernetes.io/aws-load-balancer-type": "external",
            "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
            "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
        },
        "loadBalancerSourceRanges": [p.vpc_cidr],
    }
    return v


def _helm_coordinators(*, small: bool) -> dict[str, Any]:
    """One mixCoord (active-standby pair outside kind) in place of the four coordinators."""
    ha = 1 if small else 2
    v: dict[str, Any] = {
        "mixCoordinator": {
            "enabled": True,
            "replicas": ha,
            "activeStandby": {"enabled": ha > 1},
            "resources": _resources(
                "250m" if small else "1", "512Mi" if small else "2Gi", "2Gi" if small else "4Gi"
            ),
        }
    }
    for coordinator in (
        "rootCoordinator",
        "queryCoordinator",
        "dataCoordinator",
        "indexCoordinator",
    ):
        v[coordinator] = {"enabled": False}
    return v


def _helm_nodes(p: DeployParams, s: Sizing, *, small: bool) -> dict[str, Any]:
    """Proxy, query, data and streaming nodes; query nodes sized by ``s``."""
    ha = 1 if small else 2
    v: dict[str, Any] = {}
    v["proxy"] = {
        "enabled": True,
        "replicas": ha,
        "resources": _resources(
            "250m" if small else "1", "256Mi" if small else "1Gi", "1Gi" if small else "4Gi"
        ),
    }
    query_node: dict[str, Any] = {
        "enabled": True,
        "replicas": s.query_nodes,
        "resources": query_node_resources(p, s),
        "disk": {"enabled": True},
    }
    if p.gpu:
        query_node["tolerations"] = [GPU_TOLERATION]
    v["queryNode"] = query_node
    data_node: dict[str, Any] = {
        "enabled": True,
        "replicas": ha,
        "resources": _resources(
            "250m" if small else "2",
            "512Mi" if small else "4Gi",
            "2Gi" if small else "8Gi",
            gpus=_data_node_gpus(p),
        ),
    }
    if _data_node_gpus(p):
        data_node["tolerations"] = [GPU_TOLERATION]
    v["dataNode"] = data_node
    v["indexNode"] = {"enabled": False}
    v["streamingNode"] = {
        "replicas": ha,
        "resources": _resources(
            "250m" if small else "1", "512Mi" if small else "2Gi", "2Gi" if small else "4Gi"
        ),
    }
    return v


def _helm_message_queue(p: DeployParams) -> dict[str, Any]:
    """The streaming node with Woodpecker, or an external Kafka; the chart's own queues off."""
    v: dict[str, Any] = {
        "streaming": {
            "enabled": True,
            "woodpecker": {"embedded": True, "storage": {"type": "minio"}},
        },
        "pulsarv3": {"enabled": False},
        "pulsar": {"enabled": False},
        "kafka": {"enabled": False},
    }
    if p.message_queue == "kafka":
        v["woodpecker"] = {"enabled": False}
        v["externalKafka"] = {
            "enabled": True,
            "brokerList": ",".join(p.kafka_brokers),
            "securityProtocol": "SASL_SSL",
            "sasl": {
                "mechanisms": p.kafka_sasl_mechanism,
                "username": p.kafka_username,
                "password": "",
            },
        }
    else:
        v["woodpecker"] = {"enabled": True}
    return v


def _helm_dependencies(p: DeployParams, *, small: bool) -> dict[str, Any]:
    """etcd, object storage (MinIO on kind, S3 through IAM on EKS) and Attu."""
    attu: dict[str, Any] = {
        "enabled": True,
        "image": {"repository": "zilliz/attu", "tag": ATTU_TAG},
        "service": {"type": "ClusterIP", "port": 3000},
    }
    if small:
        return {
            "etcd": {"enabled": True, "replicaCount": 1, "persistence": {"size": "5Gi"}},
            "minio": {
                "enabled": True,
                "mode": "standalone",
                "persistence": {"size": "20Gi"},
                "resources": {"requests": {"memory": "512Mi"}},
            },
            "attu": attu,
        }
    attu["ingress"] = {
        "enabled": True,
        "ingressClassName": "alb",
        "annotations": {
            "alb.ingress.kubernetes.io/scheme": "internal",
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}]',
            "alb.ingress.kubernetes.io/inbound-cidrs": p.vpc_cidr,
            "alb.ingress.kubernetes.io/healthcheck-path": "/",
        },
        "hosts": [p.attu_host],
    }
    return {
        "etcd": {"enabled": True, "replicaCount": 3, "persistence": {"size": "20Gi"}},
        "minio": {"enabled": False},
        "externalS3": {
            "enabled": True,
            "host": f"s3.{p.s3_region}.amazonaws.com",
            "port": "443",
            "useSSL": True,
            "bucketName": p.s3_bucket,
            "rootPath": p.milvus_release,
            "useIAM": True,
            "cloudProvider": "aws",
            "iamEndpoint": "",
            "region": p.s3_region,
            "accessKey": "",
            "secretKey": "",
        },
        "attu": attu,
    }


# ---------------------------------------------------------------- kind


def kind_cluster(p: DeployParams) -> dict[str, Any]:
    """One control plane and three workers; Attu, ragsilo and Grafana reachable from the host."""
    mappings = [
        {
            "containerPort": KIND_NODE_PORTS["attu"],
            "hostPort": 3000,
            "listenAddress": "127.0.0.1",
            "protocol": "TCP",
        },
        {
            "containerPort": KIND_NODE_PORTS["ragsilo"],
            "hostPort": 8000,
            "listenAddress": "127.0.0.1",
            "protocol": "TCP",
        },
        {
            "containerPort": KIND_NODE_PORTS["grafana"],
            "hostPort": 3001,
            "listenAddress": "127.0.0.1",
            "protocol": "TCP",
        },
    ]
    return {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": p.name,
        "nodes": [
            {"role": "control-plane", "extraPortMappings": mappings},
            {"role": "worker"},
            {"role": "worker"},
            {"role": "worker"},
        ],
    }
