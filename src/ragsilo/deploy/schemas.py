"""JSON Schemas for the two non-Kubernetes-core documents we render.

- The milvus-operator ``Milvus`` resource (``milvus.io/v1beta1``), written from
  the operator's documented fields (``docs/CRD/milvus.md``). Where the prose
  and the CRD disagree the CRD's spelling wins (``kafka.brokerList``,
  ``pulsar.endpoint``). Unknown fields are rejected at every level we model;
  ``spec.config`` (a free-form overlay of ``milvus.yaml``) and the
  ``inCluster.values`` of each dependency (Helm values of etcd, MinIO, Pulsar
  or Kafka) are not modelled and accepted as any mapping.
- The kind cluster file (``kind.x-k8s.io/v1alpha4``, ``kind: Cluster``).
"""

from __future__ import annotations

from typing import Any

_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_ANY_MAP = {"type": "object"}
_ANY_LIST = {"type": "array"}
_DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

_QUANTITY = {
    "anyOf": [
        {"type": "string", "pattern": r"^[0-9.]+([eE][0-9]+|[mkMGTPE]i?|[KMGTPE]i)?$"},
        {"type": "number"},
    ]
}
_RESOURCES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "limits": {"type": "object", "additionalProperties": _QUANTITY},
        "requests": {"type": "object", "additionalProperties": _QUANTITY},
        "claims": _ANY_LIST,
    },
}
_ENV = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "value": {"type": "string"},
            "valueFrom": _ANY_MAP,
        },
    },
}
_PULL_POLICY = {"enum": ["Always", "IfNotPresent", "Never"]}
_IMAGE = {"type": "string", "minLength": 1}

# Fields that every component (and the global components section) accepts.
_POD_FIELDS: dict[str, Any] = {
    "image": _IMAGE,
    "imagePullPolicy": _PULL_POLICY,
    "imagePullSecrets": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}},
        },
    },
    "env": _ENV,
    "nodeSelector": _STR_MAP,
    "tolerations": {"type": "array", "items": _ANY_MAP},
    "affinity": _ANY_MAP,
    "resources": _RESOURCES,
    "volumes": {"type": "array", "items": _ANY_MAP},
    "volumeMounts": {"type": "array", "items": _ANY_MAP},
    "serviceAccountName": {"type": "string"},
    "securityContext": _ANY_MAP,
    "podLabels": _STR_MAP,
    "podAnnotations": _STR_MAP,
    "priorityClassName": {"type": "string"},
    "schedulerName": {"type": "string"},
    "topologySpreadConstraints": {"type": "array", "items": _ANY_MAP},
    "probes": _ANY_MAP,
    "paused": {"type": "boolean"},
    "commands": {"type": "array", "items": {"type": "string"}},
    "runWithSubProcess": {"type": "boolean"},
    "hostNetwork": {"type": "boolean"},
    "dnsPolicy": {"type": "string"},
}
_COMPONENT_FIELDS: dict[str, Any] = {
    **_POD_FIELDS,
    "replicas": {"type": "integer", "minimum": -1},
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "version": {"type": "string"},
    "initContainers": {"type": "array", "items": _ANY_MAP},
    "sidecars": {"type": "array", "items": _ANY_MAP},
}
_GROUPS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["name", "replicas"],
        "properties": {
            "name": {"type": "string", "pattern": _DNS_LABEL},
            "replicas": {"type": "integer", "minimum": -1},
        },
    },
}
_SERVICE_FIELDS: dict[str, Any] = {
    "serviceType": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
    "serviceAnnotations": _STR_MAP,
    "serviceLabels": _STR_MAP,
    "serviceRestfulPort": {"type": "integer"},
    "ingress": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "annotations": _STR_MAP,
            "labels": _STR_MAP,
            "hosts": {"type": "array", "items": {"type": "string"}},
            "ingressClassName": {"type": "string"},
            "tlsSecretRefs": _ANY_MAP,
        },
    },
}


def _component(*, service: bool = False, groups: bool = False) -> dict[str, Any]:
    props = dict(_COMPONENT_FIELDS)
    if service:
        props.update(_SERVICE_FIELDS)
    if groups:
        props["groups"] = _GROUPS
    return {"type": "object", "additionalProperties": False, "properties": props}


CLUSTER_COMPONENTS = (
    "proxy",
    "rootCoord",
    "indexCoord",
    "dataCoord",
    "queryCoord",
    "mixCoord",
    "indexNode",
    "dataNode",
    "queryNode",
    "streamingNode",
)

_IN_CLUSTER = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "deletionPolicy": {"enum": ["Delete", "Retain"]},
        "pvcDeletion": {"type": "boolean"},
        "values": _ANY_MAP,
        "chartVersion": {"type": "string"},
    },
}


def _dependency(props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {"external": {"type": "boolean"}, "inCluster": _IN_CLUSTER, **props},
    }


MILVUS_CR_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "milvus-operator Milvus (milvus.io/v1beta1)",
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "milvus.io/v1beta1"},
        "kind": {"const": "Milvus"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": _DNS_LABEL, "maxLength": 63},
                "namespace": {"type": "string", "pattern": _DNS_LABEL, "maxLength": 63},
                "labels": _STR_MAP,
                "annotations": _STR_MAP,
            },
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "mode": {"enum": ["standalone", "cluster"]},
                "components": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        **_POD_FIELDS,
                        "enableRollingUpdate": {"type": "boolean"},
                        "imageUpdateMode": {
                            "enum": ["rollingUpgrade", "rollingDowngrade", "all", "force"]
                        },
                        "disableMetric": {"type": "boolean"},
                        "metricInterval": {"type": "string"},
                        "metricLabels": _STR_MAP,
                        "toolImage": {"type": "string"},
                        "dummyImage": {"type": "string"},
                        "updateToolImage": {"type": "boolean"},
                        "updateConfigMapOnly": {"type": "boolean"},
                        "enableManualMode": {"type": "boolean"},
                        "activeConfigMap": {"type": "string"},
                        "streamingMode": {"type": ["boolean", "null"]},
                        "rollingMode": {"type": "integer"},
                        "runAsNonRoot": {"type": "boolean"},
                        "targetPortType": {"type": "string"},
                        "version": {"type": "string"},
                        "proxy": _component(service=True, groups=True),
                        "standalone": _component(service=True),
                        "rootCoord": _component(),
                        "indexCoord": _component(),
                        "dataCoord": _component(),
                        "queryCoord": _component(),
                        "mixCoord": _component(),
                        "indexNode": _component(),
                        "dataNode": _component(groups=True),
                        "queryNode": _component(groups=True),
                        "streamingNode": _component(groups=True),
                        "cdc": _ANY_MAP,
                    },
                },
                "dependencies": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "msgStreamType": {
                            "enum": [
                                "pulsar",
                                "kafka",
                                "woodpecker",
                                "rocksmq",
                                "natsmq",
                                "custom",
                                "",
                            ]
                        },
                        "etcd": _dependency(
                            {"endpoints": {"type": "array", "items": {"type": "string"}}}
                        ),
                        "storage": _dependency(
                            {
                                "type": {"enum": ["MinIO", "S3", "Azure", ""]},
                                "secretRef": {"type": "string"},
                                "endpoint": {"type": "string"},
                                "ssl": _ANY_MAP,
                            }
                        ),
                        "pulsar": _dependency({"endpoint": {"type": "string"}}),
                        "kafka": _dependency(
                            {
                                "brokerList": {"type": "array", "items": {"type": "string"}},
                                "secretRef": {"type": "string"},
                            }
                        ),
                        "woodpecker": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "external": {"type": "boolean"},
                                "persistence": _ANY_MAP,
                                "quorumBufferPools": {"type": "array", "items": _ANY_MAP},
                            },
                        },
                        "rocksmq": _ANY_MAP,
                        "natsmq": _ANY_MAP,
                        "customMsgStream": _ANY_MAP,
                        "tei": _ANY_MAP,
                    },
                },
                "config": _ANY_MAP,
                "hookConfig": _ANY_MAP,
            },
        },
    },
}


_PORT = {"type": "integer", "minimum": 0, "maximum": 65535}

KIND_CLUSTER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "kind cluster configuration (kind.x-k8s.io/v1alpha4)",
    "type": "object",
    "required": ["kind", "apiVersion"],
    "additionalProperties": False,
    "properties": {
        "kind": {"const": "Cluster"},
        "apiVersion": {"const": "kind.x-k8s.io/v1alpha4"},
        "name": {"type": "string", "pattern": _DNS_LABEL},
        "nodes": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["role"],
                "additionalProperties": False,
                "properties": {
                    "role": {"enum": ["control-plane", "worker"]},
                    "image": {"type": "string"},
                    "labels": _STR_MAP,
                    "extraPortMappings": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["containerPort"],
                            "additionalProperties": False,
                            "properties": {
                                "containerPort": _PORT,
                                "hostPort": _PORT,
                                "listenAddress": {"type": "string"},
                                "protocol": {"enum": ["TCP", "UDP", "SCTP"]},
                            },
                        },
                    },
                    "extraMounts": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["hostPath", "containerPath"],
                            "additionalProperties": False,
                            "properties": {
                                "hostPath": {"type": "string"},
                                "containerPath": {"type": "string"},
                                "readOnly": {"type": "boolean"},
                                "selinuxRelabel": {"type": "boolean"},
                                "propagation": {
                                    "enum": ["None", "HostToContainer", "Bidirectional"]
                                },
                            },
                        },
                    },
                    "kubeadmConfigPatches": {"type": "array", "items": {"type": "string"}},
                    "kubeadmConfigPatchesJSON6902": _ANY_LIST,
                },
            },
        },
        "networking": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "ipFamily": {"enum": ["ipv4", "ipv6", "dual"]},
                "apiServerAddress": {"type": "string"},
                "apiServerPort": _PORT,
                "podSubnet": {"type": "string"},
                "serviceSubnet": {"type": "string"},
                "disableDefaultCNI": {"type": "boolean"},
                "kubeProxyMode": {"enum": ["iptables", "ipvs", "nftables", "none"]},
                "dnsSearch": {"type": "array", "items": {"type": "string"}},
            },
        },
        "featureGates": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "runtimeConfig": _STR_MAP,
        "kubeadmConfigPatches": {"type": "array", "items": {"type": "string"}},
        "kubeadmConfigPatchesJSON6902": _ANY_LIST,
        "containerdConfigPatches": {"type": "array", "items": {"type": "string"}},
        "containerdConfigPatchesJSON6902": _ANY_LIST,
    },
}
