"""The keys the official ``milvus`` Helm chart reads, and the defaults our cross-field rules need.

Taken from chart ``milvus`` 5.0.19 (appVersion 2.6.15, zilliztech/milvus-helm):
its ``values.yaml`` plus the keys its templates read that ``values.yaml`` only
mentions in comments (``service.clusterIP``, ``image.all.pullSecrets``, …).

A path ending in ``/`` is an open mapping (annotations, resources, affinity…):
anything below it is accepted. The chart's subcharts (etcd, minio, kafka,
pulsar, pulsarv3, tei) have far more keys than the parent lists, so they are
open too. Everything else must be on the list: a misspelt key is silently
ignored by Helm, and this list is what catches it.
"""

from __future__ import annotations

from typing import Any

CHART = "milvus"
CHART_VERSION = "5.0.19"
APP_VERSION = "2.6.15"

_PROBE = (
    "enabled",
    "initialDelaySeconds",
    "periodSeconds",
    "timeoutSeconds",
    "successThreshold",
    "failureThreshold",
)
_PVC = ("existingClaim", "storageClass", "accessModes", "size", "subPath")
_POD = (
    "replicas",
    "resources/",
    "nodeSelector/",
    "affinity/",
    "tolerations",
    "securityContext/",
    "containerSecurityContext/",
    "extraEnv",
    "heaptrack.enabled",
    "profiling.enabled",
    "strategy/",
)
_COMPONENT = (*_POD, "enabled", "topologySpreadConstraints", "annotations/")
_COORD = (
    *_COMPONENT,
    "activeStandby.enabled",
    "service.port",
    "service.annotations/",
    "service.labels/",
    "service.clusterIP",
)
_HPA = ("hpa.enabled", "hpa.minReplicas", "hpa.maxReplicas", "hpa.cpuUtilization")
_DISK = ("disk.enabled", "disk.size.enabled")
_IMAGE = ("image.repository", "image.tag", "image.pullPolicy")


def _under(prefix: str, keys: tuple[str, ...]) -> list[str]:
    return [f"{prefix}.{k}" for k in keys]


_PATHS: list[str] = [
    "nameOverride",
    "fullnameOverride",
    "replicaResourceGroups",
    "customConfigMap",
    "tolerations",
    "topologySpreadConstraints",
    "volumes",
    "volumeMounts",
    "nodeSelector/",
    "affinity/",
    "containerSecurityContext/",
    "securityContext/",
    "labels/",
    "annotations/",
    "extraConfigFiles/",
    "global/",
    "cluster.enabled",
    "image.all.repository",
    "image.all.tag",
    "image.all.pullPolicy",
    "image.all.pullSecrets",
    "streaming.enabled",
    "streaming.woodpecker.embedded",
    "streaming.woodpecker.storage.type",
    *_under(
        "service",
        (
            "type",
            "port",
            "portName",
            "nodePort",
            "annotations/",
            "labels/",
            "externalIPs",
            "loadBalancerSourceRanges",
            "clusterIP",
            "loadBalancerIP",
        ),
    ),
    *_under("ingress", ("enabled", "ingressClassName", "annotations/", "labels/", "rules", "tls")),
    *_under("serviceAccount", ("create", "name", "annotations/", "labels/")),
    "metrics.enabled",
    "metrics.serviceMonitor.enabled",
    "metrics.serviceMonitor.interval",
    "metrics.serviceMonitor.scrapeTimeout",
    "metrics.serviceMonitor.additionalLabels/",
    *_under("livenessProbe", _PROBE),
    *_under("readinessProbe", _PROBE),
    "log.level",
    "log.format",
    "log.file.maxSize",
    "log.file.maxAge",
    "log.file.maxBackups",
    "log.persistence.mountPath",
    "log.persistence.enabled",
    "log.persistence.annotations/",
    *_under("log.persistence.persistentVolumeClaim", _PVC),
    *_under("heaptrack", _IMAGE),
    *_under(
        "standalone",
        (
            *_POD,
            "topologySpreadConstraints",
            *_DISK,
            "messageQueue",
            "persistence.mountPath",
            "persistence.enabled",
            "persistence.annotations/",
        ),
    ),
    *_under("standalone.persistence.persistentVolumeClaim", _PVC),
    *_under(
        "proxy",
        (
            *_COMPONENT,
            *_HPA,
            "http.enabled",
            "http.debugMode.enabled",
            "tls.enabled",
            "tls.secretName",
            "tls.crt",
            "tls.key",
            "volumes",
            "volumeMounts",
        ),
    ),
    *_under("rootCoordinator", _COORD),
    *_under("queryCoordinator", _COORD),
    *_under("indexCoordinator", _COORD),
    *_under("dataCoordinator", _COORD),
    *_under(
        "mixCoordinator",
        (
            *_COMPONENT,
            "activeStandby.enabled",
            "service.annotations/",
            "service.labels/",
            "service.clusterIP",
        ),
    ),
    *_under("queryNode", (*_COMPONENT, *_HPA, *_DISK, "runtimeClassName", "hpa.memoryUtilization")),
    *_under("indexNode", (*_COMPONENT, *_HPA, *_DISK, "runtimeClassName")),
    *_under("dataNode", (*_COMPONENT, *_HPA)),
    *_under("streamingNode", (*_POD, "topologySpreadConstraints")),
    *_under("cdc", _COMPONENT),
    *_under(
        "attu",
        (
            "enabled",
            "name",
            *_IMAGE,
            "image.pullSecrets",
            "resources/",
            "securityContext/",
            "containerSecurityContext/",
            "podLabels/",
            "annotations/",
            "nodeSelector/",
            "affinity/",
            "tolerations",
        ),
    ),
    *_under(
        "attu.service",
        (
            "annotations/",
            "labels/",
            "type",
            "port",
            "clusterIP",
            "loadBalancerIP",
            "loadBalancerSourceRanges",
        ),
    ),
    *_under(
        "attu.ingress", ("enabled", "ingressClassName", "annotations/", "labels/", "hosts", "tls")
    ),
    *_under(
        "attu.route",
        (
            "enabled",
            "host",
            "annotations/",
            "labels/",
            "tls.termination",
            "tls.insecureEdgeTerminationPolicy",
        ),
    ),
    *_under(
        "woodpecker",
        (
            "enabled",
            "replicaCount",
            *_IMAGE,
            "resourceGroup",
            "ports.service",
            "ports.gossip",
            "podManagementPolicy",
            "persistence.enabled",
            "persistence.accessModes",
            "persistence.size",
            "persistence.storageClass",
            "minio.address",
            "minio.port",
            "minio.accessKey",
            "minio.secretKey",
            "minio.bucketName",
            "profiling.enabled",
            "logging.level",
            "resources/",
            "extraEnv",
            "nodeSelector/",
            "tolerations",
            "affinity/",
            "topologySpreadConstraints",
            "securityContext/",
            "containerSecurityContext/",
            "podAnnotations/",
        ),
    ),
    *_under(
        "externalS3",
        (
            "enabled",
            "host",
            "port",
            "accessKey",
            "secretKey",
            "useSSL",
            "bucketName",
            "rootPath",
            "useIAM",
            "cloudProvider",
            "iamEndpoint",
            "region",
            "useVirtualHost",
        ),
    ),
    "externalGcs.bucketName",
    "externalEtcd.enabled",
    "externalEtcd.endpoints",
    *_under(
        "externalPulsar",
        (
            "enabled",
            "host",
            "port",
            "maxMessageSize",
            "tenant",
            "namespace",
            "authPlugin",
            "authParams",
        ),
    ),
    *_under(
        "externalKafka",
        (
            "enabled",
            "brokerList",
            "securityProtocol",
            "sasl.mechanisms",
            "sasl.username",
            "sasl.password",
        ),
    ),
    # Subcharts: open below their name.
    "etcd/",
    "minio/",
    "kafka/",
    "pulsar/",
    "pulsarv3/",
    "tei/",
]

#: Dotted paths whose value is free-form below them.
OPEN_PATHS: frozenset[str] = frozenset(p[:-1] for p in _PATHS if p.endswith("/"))
#: Dotted paths of known leaf values.
LEAF_PATHS: frozenset[str] = frozenset(p for p in _PATHS if not p.endswith("/"))
#: Every dotted path that may hold a mapping (parents of known paths).
MAPPING_PATHS: frozenset[str] = frozenset(
    ".".join(p.rstrip("/").split(".")[:i])
    for p in _PATHS
    for i in range(1, p.rstrip("/").count(".") + 1)
)

#: Chart defaults that the cross-field rules read when a values file does not set them.
DEFAULTS: dict[str, Any] = {
    "cluster.enabled": True,
    "image.all.tag": f"v{APP_VERSION}",
    "streaming.enabled": True,
    "minio.enabled": True,
    "etcd.enabled": True,
    "externalS3.enabled": False,
    "externalS3.useIAM": False,
    "externalS3.accessKey": "",
    "externalS3.secretKey": "",
    "externalEtcd.enabled": False,
    "pulsarv3.enabled": True,
    "pulsar.enabled": False,
    "kafka.enabled": False,
    "woodpecker.enabled": False,
    "externalKafka.enabled": False,
    "externalKafka.brokerList": "localhost:9092",
    "externalKafka.securityProtocol": "SASL_SSL",
    "externalKafka.sasl.mechanisms": "PLAIN",
    "externalKafka.sasl.username": "",
    "externalKafka.sasl.password": "",
    "externalPulsar.enabled": False,
    "mixCoordinator.enabled": True,
    "mixCoordinator.replicas": 1,
    "mixCoordinator.activeStandby.enabled": False,
    "rootCoordinator.enabled": False,
    "queryCoordinator.enabled": False,
    "dataCoordinator.enabled": False,
    "indexCoordinator.enabled": False,
    "indexNode.enabled": False,
    "service.type": "ClusterIP",
    "service.loadBalancerSourceRanges": ["0.0.0.0/0"],
    "serviceAccount.create": False,
    "attu.enabled": False,
    "attu.ingress.enabled": False,
    "metrics.enabled": True,
    "metrics.serviceMonitor.enabled": False,
    "standalone.messageQueue": "woodpecker",
}

MESSAGE_QUEUES = ("pulsarv3", "pulsar", "kafka", "woodpecker", "externalKafka", "externalPulsar")
COMPONENTS_WITH_RESOURCES = (
    "standalone",
    "proxy",
    "rootCoordinator",
    "queryCoordinator",
    "indexCoordinator",
    "dataCoordinator",
    "mixCoordinator",
    "queryNode",
    "indexNode",
    "dataNode",
    "streamingNode",
    "cdc",
    "attu",
    "woodpecker",
)
