"""The checks we run in-process: schemas we wrote, key lists and cross-field rules.

Each function takes parsed data and returns a list of problems, one readable
sentence each (empty when the data passes). External tools (compose-spec,
``docker-compose config``, ``kubernetes-validate``, ``hadolint``) are run by
:mod:`ragsilo.deploy.validate`; these rules cover what those tools cannot
know: the Milvus custom resource, Helm values, relations between resources,
and the monitoring configs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from typing import Any

from ragsilo.deploy import helm_keys
from ragsilo.deploy.schemas import CLUSTER_COMPONENTS, KIND_CLUSTER_SCHEMA, MILVUS_CR_SCHEMA
from ragsilo.errors import MissingDependencyError

# ---------------------------------------------------------------- helpers

_QTY = re.compile(r"^([0-9]*\.?[0-9]+)([eE][0-9]+|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_FACTORS = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}


def quantity(value: Any) -> float | None:
    """A Kubernetes quantity ('500m', '3Gi', 2) as a number; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    m = _QTY.match(value.strip())
    if not m:
        return None
    number, suffix = float(m.group(1)), m.group(2)
    if suffix and suffix[0] in "eE":
        return number * 10 ** int(suffix[1:])
    return number * _FACTORS[suffix]


def resource_problems(resources: Any, where: str) -> list[str]:
    """Requests must not exceed limits; quantities must parse."""
    if not isinstance(resources, dict):
        return []
    problems = []
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    for section, values in (("requests", requests), ("limits", limits)):
        if not isinstance(values, dict):
            problems.append(f"{where}.resources.{section} must be a mapping")
            continue
        for name, value in values.items():
            if quantity(value) is None:
                problems.append(f"{where}.resources.{section}.{name}: {value!r} is not a quantity")
    if isinstance(requests, dict) and isinstance(limits, dict):
        for name, req in requests.items():
            r, lim = quantity(req), quantity(limits.get(name))
            if r is not None and lim is not None and r > lim:
                problems.append(
                    f"{where}.resources: request {name}={req} is above its limit {limits[name]}"
                )
        for name in requests:
            if "gpu" in name and name not in limits:
                problems.append(
                    f"{where}.resources: {name} must be set as a limit (extended resource)"
                )
    return problems


def _get(data: Any, dotted: str, default: Any = None) -> Any:
    node = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def _schema_errors(schema: dict[str, Any], doc: Any, what: str) -> list[str]:
    try:
        import jsonschema
    except ImportError as e:  # pragma: no cover - jsonschema is in the deploy extra
        raise MissingDependencyError("jsonschema", "deploy", f"checking {what}") from e
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in err.absolute_path) or "(top)"
        problems.append(f"{where}: {err.message}")
    return problems


def _gpu_requested(resources: Any) -> bool:
    if not isinstance(resources, dict):
        return False
    return any(
        "gpu" in str(name)
        for section in ("requests", "limits")
        for name in (resources.get(section) or {})
    )


def _milvus_minor(image_or_tag: str) -> tuple[int, int] | None:
    m = re.search(r"v?(\d+)\.(\d+)\.\d+", image_or_tag.rsplit(":", 1)[-1])
    return (int(m.group(1)), int(m.group(2))) if m else None


# ---------------------------------------------------------------- Helm values


def _walk_keys(data: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        yield path, value
        if isinstance(value, dict) and path not in helm_keys.OPEN_PATHS:
            yield from _walk_keys(value, path)


def _suggest(path: str) -> str:
    close = difflib.get_close_matches(
        path, sorted(helm_keys.LEAF_PATHS | helm_keys.MAPPING_PATHS), n=1
    )
    return f" (did you mean {close[0]}?)" if close else ""


def helm_values_problems(values: Any) -> list[str]:
    """Known keys of the official chart, value types, and the cross-field rules."""
    if not isinstance(values, dict):
        return ["Helm values must be a mapping"]
    problems = _helm_key_problems(values)
    v = _HelmValues(values)
    for rule in _HELM_RULES:
        problems += rule(v)
    return problems


def _helm_key_problems(values: dict[str, Any]) -> list[str]:
    """Every key is one the chart knows, and typed keys hold the right kind of value."""
    problems: list[str] = []
    for path, value in _walk_keys(values):
        top = path.split(".", 1)[0]
        if top in helm_keys.OPEN_PATHS and path != top:
            # Inside a subchart or open mapping: only `enabled` is typed by the parent chart.
            if path == f"{top}.enabled" and not isinstance(value, bool):
                problems.append(f"{path} must be true or false")
            continue
        if path in helm_keys.OPEN_PATHS:
            if value is not None and not isinstance(value, dict):
                problems.append(f"{path} must be a mapping")
            continue
        if path in helm_keys.LEAF_PATHS:
            if path.endswith(
                (".enabled", ".create", ".useIAM", ".useSSL", ".embedded")
            ) and not isinstance(value, bool):
                problems.append(f"{path} must be true or false, not {value!r}")
            if path.endswith((".replicas", ".replicaCount")) and (
                not isinstance(value, int) or isinstance(value, bool) or value < -1
            ):
                problems.append(f"{path} must be a whole number, not {value!r}")
            continue
        if path in helm_keys.MAPPING_PATHS:
            if not isinstance(value, dict):
                problems.append(f"{path} must be a mapping")
            continue
        problems.append(
            f"{path} is not a key of the {helm_keys.CHART} chart {helm_keys.CHART_VERSION}"
            f"{_suggest(path)}"
        )
    return problems


class _HelmValues:
    """Helm values as written (:meth:`get`) and with the chart's defaults (:meth:`eff`)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, dotted: str, default: Any = None) -> Any:
        return _get(self.values, dotted, default)

    def eff(self, dotted: str) -> Any:
        return _get(self.values, dotted, helm_keys.DEFAULTS.get(dotted))


def _helm_object_storage(v: _HelmValues) -> list[str]:
    problems = []
    if v.eff("externalS3.enabled") and v.eff("minio.enabled"):
        problems.append(
            "externalS3.enabled is true, so minio.enabled must be false "
            "(in-cluster MinIO would run unused)"
        )
    if (
        not v.eff("externalS3.enabled")
        and not v.eff("minio.enabled")
        and not v.get("externalGcs.bucketName")
    ):
        problems.append("no object storage: enable minio or externalS3")
    return problems


def _helm_etcd(v: _HelmValues) -> list[str]:
    if v.eff("externalEtcd.enabled") and v.eff("etcd.enabled"):
        return ["externalEtcd.enabled is true, so etcd.enabled must be false"]
    return []


def _helm_s3_access(v: _HelmValues) -> list[str]:
    problems = []
    if v.eff("externalS3.enabled") and v.eff("externalS3.useIAM"):
        if v.eff("externalS3.accessKey") or v.eff("externalS3.secretKey"):
            problems.append(
                "externalS3.useIAM is true: leave externalS3.accessKey and secretKey empty"
            )
        role = v.get("serviceAccount.annotations", {}) or {}
        if not (
            v.eff("serviceAccount.create") and "eks.amazonaws.com/role-arn" in role
        ) and not v.get("serviceAccount.name"):
            problems.append(
                "externalS3.useIAM needs a service account with an IAM role: "
                "serviceAccount.create true with annotation eks.amazonaws.com/role-arn, "
                "or serviceAccount.name of an existing one"
            )
    if v.eff("externalS3.enabled") and not v.get("externalS3.bucketName"):
        problems.append("externalS3.enabled needs externalS3.bucketName")
    return problems


def _helm_message_queue(v: _HelmValues) -> list[str]:
    problems = []
    if v.eff("cluster.enabled"):
        queues = [q for q in helm_keys.MESSAGE_QUEUES if v.eff(f"{q}.enabled")]
        if len(queues) != 1:
            hint = ""
            if "pulsarv3" in queues:
                hint = " (pulsarv3 is on by default: set pulsarv3.enabled false)"
            problems.append(
                f"exactly one message queue must be enabled in cluster mode, found "
                f"{', '.join(queues) or 'none'}{hint}"
            )
        if v.eff("woodpecker.enabled") and not v.eff("streaming.enabled"):
            problems.append(
                "woodpecker.enabled needs streaming.enabled true (the streaming node hosts it)"
            )
    elif v.eff("standalone.messageQueue") not in (
        "woodpecker",
        "rocksmq",
        "natsmq",
        "pulsar",
        "kafka",
    ):
        problems.append(
            f"standalone.messageQueue {v.eff('standalone.messageQueue')!r} is not one of "
            "woodpecker, rocksmq, natsmq, pulsar, kafka"
        )
    return problems


def _helm_external_kafka(v: _HelmValues) -> list[str]:
    if not v.eff("externalKafka.enabled"):
        return []
    problems = []
    brokers = str(v.eff("externalKafka.brokerList") or "")
    if not brokers or brokers == "localhost:9092":
        problems.append("externalKafka.brokerList must list the real brokers (host:port,host:port)")
    protocol = v.eff("externalKafka.securityProtocol")
    if protocol not in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"):
        problems.append(
            f"externalKafka.securityProtocol {protocol!r} is not one of "
            "PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"
        )
    if str(protocol).startswith("SASL"):
        mech = v.eff("externalKafka.sasl.mechanisms")
        if mech not in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
            problems.append(
                f"externalKafka.sasl.mechanisms {mech!r} is not one of "
                "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"
            )
        if not v.eff("externalKafka.sasl.username"):
            problems.append("externalKafka.sasl.username is empty but the protocol uses SASL")
    if v.eff("externalKafka.sasl.password"):
        problems.append(
            "externalKafka.sasl.password is written in the values file; leave it empty and "
            "pass it at install time (--set-string externalKafka.sasl.password=…)"
        )
    return problems


def _helm_mix_coordinator(v: _HelmValues) -> list[str]:
    if not (v.eff("cluster.enabled") and v.eff("mixCoordinator.enabled")):
        return []
    problems = []
    on = [
        c
        for c in ("rootCoordinator", "queryCoordinator", "dataCoordinator", "indexCoordinator")
        if v.eff(f"{c}.enabled")
    ]
    if on:
        problems.append(f"mixCoordinator.enabled runs every coordinator; disable {', '.join(on)}")
    replicas = v.eff("mixCoordinator.replicas")
    if (
        isinstance(replicas, int)
        and replicas > 1
        and not v.eff("mixCoordinator.activeStandby.enabled")
    ):
        problems.append(
            "mixCoordinator.replicas > 1 needs mixCoordinator.activeStandby.enabled true"
        )
    return problems


def _helm_milvus_26(v: _HelmValues) -> list[str]:
    problems = []
    minor = _milvus_minor(str(v.eff("image.all.tag")))
    if minor is not None and minor >= (2, 6):
        cluster = v.eff("cluster.enabled")
        if cluster and v.eff("indexNode.enabled"):
            problems.append(
                "Milvus 2.6 builds indexes on data nodes: indexNode.enabled must be false"
            )
        if cluster and not v.eff("streaming.enabled"):
            problems.append(
                "Milvus 2.6 in cluster mode needs streaming.enabled true (streaming node)"
            )
    return problems


def _helm_resources(v: _HelmValues) -> list[str]:
    problems = []
    tag = str(v.eff("image.all.tag"))
    for component in helm_keys.COMPONENTS_WITH_RESOURCES:
        res = v.get(f"{component}.resources")
        problems += resource_problems(res, component)
        if _gpu_requested(res) and component != "attu" and not tag.endswith("-gpu"):
            problems.append(
                f"{component} requests GPUs but image.all.tag {tag!r} is not a -gpu image"
            )
    return problems


def _helm_autoscaling(v: _HelmValues) -> list[str]:
    problems = []
    for component in ("proxy", "queryNode", "indexNode", "dataNode"):
        lo, hi = v.get(f"{component}.hpa.minReplicas"), v.get(f"{component}.hpa.maxReplicas")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            problems.append(f"{component}.hpa.minReplicas ({lo}) is above maxReplicas ({hi})")
    return problems


def _helm_attu_ingress(v: _HelmValues) -> list[str]:
    problems = []
    if v.eff("attu.ingress.enabled"):
        if not v.eff("attu.enabled"):
            problems.append("attu.ingress.enabled needs attu.enabled true")
        if not v.get("attu.ingress.hosts"):
            problems.append("attu.ingress.enabled needs at least one host in attu.ingress.hosts")
    return problems


def _helm_service_monitor(v: _HelmValues) -> list[str]:
    if v.eff("metrics.serviceMonitor.enabled") and not v.eff("metrics.enabled"):
        return ["metrics.serviceMonitor.enabled needs metrics.enabled true"]
    return []


def _helm_load_balancer(v: _HelmValues) -> list[str]:
    if v.eff("service.type") == "LoadBalancer" and "0.0.0.0/0" in (
        v.eff("service.loadBalancerSourceRanges") or []
    ):
        return [
            "service.type LoadBalancer is open to 0.0.0.0/0 (the chart default); "
            "set service.loadBalancerSourceRanges to your network"
        ]
    return []


#: The cross-field rules of :func:`helm_values_problems`, in the order they report.
_HELM_RULES: tuple[Callable[[_HelmValues], list[str]], ...] = (
    _helm_object_storage,
    _helm_etcd,
    _helm_s3_access,
    _helm_message_queue,
    _helm_external_kafka,
    _helm_mix_coordinator,
    _helm_milvus_26,
    _helm_resources,
    _helm_autoscaling,
    _helm_attu_ingress,
    _helm_service_monitor,
    _helm_load_balancer,
)


# ---------------------------------------------------------------- milvus-operator Milvus


def milvus_cr_problems(doc: Any) -> list[str]:
    """Our schema of the ``Milvus`` resource, then the rules between its fields."""
    problems = _schema_errors(MILVUS_CR_SCHEMA, doc, "Milvus custom resources")
    if problems or not isinstance(doc, dict):
        return problems
    spec = _MilvusSpec(doc["spec"])
    for rule in _MILVUS_CR_RULES:
        problems += rule(spec)
    return problems


class _MilvusSpec:
    """The parts of a ``Milvus`` resource's spec that the rules read."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.mode = spec.get("mode", "standalone")
        self.comps = spec.get("components") or {}
        self.deps = spec.get("dependencies") or {}
        self.config = spec.get("config") or {}
        self.stream = self.deps.get("msgStreamType", "")
        self.image = str(self.comps.get("image", ""))


def _cr_message_stream(s: _MilvusSpec) -> list[str]:
    problems = []
    if s.stream == "kafka":
        kafka = s.deps.get("kafka") or {}
        if kafka.get("external") and not kafka.get("brokerList"):
            problems.append("dependencies.kafka.external needs dependencies.kafka.brokerList")
    for other in ("kafka", "pulsar"):
        if s.stream != other and (s.deps.get(other) or {}).get("external"):
            problems.append(
                f"dependencies.{other}.external is set but msgStreamType is "
                f"{s.stream or 'the default'}"
            )
    if s.stream in ("rocksmq", "natsmq") and s.mode == "cluster":
        problems.append(f"msgStreamType {s.stream} works in standalone mode only")
    return problems


def _cr_storage(s: _MilvusSpec) -> list[str]:
    problems = []
    storage = s.deps.get("storage") or {}
    if storage.get("external"):
        if not storage.get("endpoint"):
            problems.append("dependencies.storage.external needs dependencies.storage.endpoint")
        minio = s.config.get("minio") or {}
        if not minio.get("bucketName"):
            problems.append("external storage needs config.minio.bucketName")
        if storage.get("type") == "S3" and not storage.get("secretRef") and not minio.get("useIAM"):
            problems.append(
                "S3 storage needs dependencies.storage.secretRef or config.minio.useIAM true"
            )
        if minio.get("useIAM") and not s.comps.get("serviceAccountName"):
            problems.append(
                "config.minio.useIAM needs components.serviceAccountName "
                "(a service account with an IAM role)"
            )
    elif storage.get("type") not in (None, "", "MinIO"):
        problems.append(
            "in-cluster storage is MinIO only; set dependencies.storage.external for S3 or Azure"
        )
    return problems


def _cr_etcd(s: _MilvusSpec) -> list[str]:
    etcd = s.deps.get("etcd") or {}
    if etcd.get("external") and not etcd.get("endpoints"):
        return ["dependencies.etcd.external needs dependencies.etcd.endpoints"]
    return []


def _cr_mode_components(s: _MilvusSpec) -> list[str]:
    problems = []
    present = [c for c in CLUSTER_COMPONENTS if c in s.comps]
    if s.mode == "standalone" and present:
        problems.append(f"mode standalone ignores cluster components: {', '.join(present)}")
    if s.mode == "cluster" and "standalone" in s.comps:
        problems.append("mode cluster ignores components.standalone")
    return problems


def _cr_milvus_26(s: _MilvusSpec) -> list[str]:
    minor = _milvus_minor(s.image) if s.image else None
    if minor is not None and minor >= (2, 6) and s.mode == "cluster":
        legacy = [
            c
            for c in ("rootCoord", "dataCoord", "queryCoord", "indexCoord", "indexNode")
            if (s.comps.get(c) or {}).get("replicas", 1) != 0 and c in s.comps
        ]
        if legacy:
            return [
                f"Milvus 2.6 runs coordinators as mixCoord and builds indexes on data nodes; "
                f"remove {', '.join(legacy)}"
            ]
    return []


def _cr_mix_coord(s: _MilvusSpec) -> list[str]:
    mix = s.comps.get("mixCoord") or {}
    if mix.get("replicas", 1) > 1 and s.comps.get("enableRollingUpdate") is False:
        return [
            "mixCoord.replicas > 1 needs active-standby, which enableRollingUpdate false turns off"
        ]
    return []


def _cr_resources(s: _MilvusSpec) -> list[str]:
    problems = []
    for name in ("standalone", *CLUSTER_COMPONENTS):
        comp = s.comps.get(name)
        if not isinstance(comp, dict):
            continue
        problems += resource_problems(comp.get("resources"), f"components.{name}")
        own = str(comp.get("image") or s.image)
        if _gpu_requested(comp.get("resources")) and not own.endswith("-gpu"):
            problems.append(
                f"components.{name} requests GPUs but runs {own or 'the default image'}, "
                "not a -gpu image"
            )
    problems += resource_problems(s.comps.get("resources"), "components")
    return problems


#: The rules of :func:`milvus_cr_problems`, in the order they report.
_MILVUS_CR_RULES: tuple[Callable[[_MilvusSpec], list[str]], ...] = (
    _cr_message_stream,
    _cr_storage,
    _cr_etcd,
    _cr_mode_components,
    _cr_milvus_26,
    _cr_mix_coord,
    _cr_resources,
)


# ---------------------------------------------------------------- kind


def kind_cluster_problems(doc: Any) -> list[str]:
    problems = _schema_errors(KIND_CLUSTER_SCHEMA, doc, "kind cluster files")
    if problems or not isinstance(doc, dict):
        return problems
    nodes = doc.get("nodes") or [{"role": "control-plane"}]
    if not any(n.get("role") == "control-plane" for n in nodes):
        problems.append("a kind cluster needs at least one control-plane node")
    seen: dict[tuple[str, int], int] = {}
    for node in nodes:
        for m in node.get("extraPortMappings") or []:
            key = (m.get("listenAddress", "0.0.0.0"), m.get("hostPort", 0))
            if key[1] and key in seen:
                problems.append(f"host port {key[1]} is mapped twice")
            seen[key] = 1
    return problems


# ---------------------------------------------------------------- Kubernetes relations

_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")
_BUILTIN_ROLES = ("view", "edit", "admin", "cluster-admin")


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    spec = _get(doc, "spec.template.spec")
    return spec if isinstance(spec, dict) else None


#: (namespace, pod template labels, pod spec) of each workload.
_PodTemplate = tuple[str, dict[str, Any], dict[str, Any]]
#: (kind, namespace, name) of every object in the files.
_Names = set[tuple[Any, str, Any]]


def kubernetes_reference_problems(docs: list[tuple[str, dict[str, Any]]]) -> dict[str, list[str]]:
    """Relations kubernetes-validate cannot see: selectors, named ports, referenced objects.

    ``docs`` are (file, document) pairs of one deployment. Secrets are expected to
    be created outside the files and are not looked for.
    """
    out: dict[str, list[str]] = {}

    def add(file: str, problems: list[str]) -> None:
        for problem in problems:
            out.setdefault(file, []).append(problem)

    names = {(d.get("kind"), _namespace(d), _get(d, "metadata.name")) for _, d in docs}
    pods: list[_PodTemplate] = []
    for file, doc in docs:
        if doc.get("kind") in _WORKLOADS:
            labels = _get(doc, "spec.template.metadata.labels", {}) or {}
            pods.append((_namespace(doc), labels, _pod_spec(doc) or {}))
            add(file, _selector_problems(doc, labels))
    for file, doc in docs:
        kind = doc.get("kind")
        if kind == "Service" and _get(doc, "spec.selector"):
            add(file, _service_problems(doc, pods))
        if kind == "HorizontalPodAutoscaler":
            add(file, _autoscaler_problems(doc, names))
        if kind in ("RoleBinding", "ClusterRoleBinding"):
            add(file, _binding_problems(doc, names))
        if kind in _WORKLOADS:
            add(file, _workload_problems(doc, docs, names))
    return out


def _namespace(doc: dict[str, Any]) -> str:
    return str(_get(doc, "metadata.namespace", "default"))


def _selector_problems(doc: dict[str, Any], labels: dict[str, Any]) -> list[str]:
    selector = _get(doc, "spec.selector.matchLabels", {}) or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        return [
            f"{doc['kind']} {_get(doc, 'metadata.name')}: spec.selector does not match "
            "the pod template labels"
        ]
    return []


def _service_problems(doc: dict[str, Any], pods: list[_PodTemplate]) -> list[str]:
    """A Service selects some pod template here, and its named target ports exist there."""
    name, space = _get(doc, "metadata.name"), _namespace(doc)
    selector = doc["spec"]["selector"]
    matched = [
        spec
        for pns, labels, spec in pods
        if pns == space and all(labels.get(k) == v for k, v in selector.items())
    ]
    if not matched:
        return [f"Service {name}: its selector matches no pod template in these files"]
    problems = []
    port_names = {
        p.get("name")
        for spec in matched
        for c in spec.get("containers", [])
        for p in c.get("ports", [])
    }
    for port in _get(doc, "spec.ports", []) or []:
        target = port.get("targetPort")
        if isinstance(target, str) and target not in port_names:
            problems.append(f"Service {name}: targetPort {target!r} is not a container port name")
    return problems


def _autoscaler_problems(doc: dict[str, Any], names: _Names) -> list[str]:
    name, space = _get(doc, "metadata.name"), _namespace(doc)
    problems = []
    ref = _get(doc, "spec.scaleTargetRef", {}) or {}
    if (ref.get("kind"), space, ref.get("name")) not in names:
        problems.append(
            f"HorizontalPodAutoscaler {name}: target {ref.get('kind')} {ref.get('name')} "
            "is not in these files"
        )
    lo, hi = _get(doc, "spec.minReplicas", 1), _get(doc, "spec.maxReplicas", 1)
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        problems.append(
            f"HorizontalPodAutoscaler {name}: minReplicas {lo} is above maxReplicas {hi}"
        )
    return problems


def _binding_problems(doc: dict[str, Any], names: _Names) -> list[str]:
    """A (Cluster)RoleBinding's role and service accounts are in the files (or built in)."""
    kind, name, space = doc.get("kind"), _get(doc, "metadata.name"), _namespace(doc)
    problems = []
    ref = doc.get("roleRef") or {}
    ref_ns = space if ref.get("kind") == "Role" else "default"
    builtin = str(ref.get("name", "")).startswith("system:") or ref.get("name") in _BUILTIN_ROLES
    if (ref.get("kind"), ref_ns, ref.get("name")) not in names and not builtin:
        problems.append(f"{kind} {name}: {ref.get('kind')} {ref.get('name')} is not in these files")
    for subject in doc.get("subjects") or []:
        if (
            subject.get("kind") == "ServiceAccount"
            and ("ServiceAccount", subject.get("namespace", space), subject.get("name"))
            not in names
        ):
            problems.append(
                f"{kind} {name}: service account {subject.get('name')} is not in these files"
            )
    return problems


def _workload_problems(
    doc: dict[str, Any], docs: list[tuple[str, dict[str, Any]]], names: _Names
) -> list[str]:
    """A workload's service account, volumes and containers refer to what is there."""
    spec = _pod_spec(doc)
    if spec is None:
        return []
    kind, name, space = doc.get("kind"), _get(doc, "metadata.name"), _namespace(doc)
    problems = []
    account = spec.get("serviceAccountName")
    if account and account != "default" and ("ServiceAccount", space, account) not in names:
        problems.append(f"{kind} {name}: service account {account} is not in these files")
    for volume in spec.get("volumes") or []:
        problems += _volume_problems(f"{kind} {name}", volume, space, docs, names)
    mounts_ok = {v.get("name") for v in spec.get("volumes") or []}
    mounts_ok |= {
        _get(t, "metadata.name") for t in _get(doc, "spec.volumeClaimTemplates", []) or []
    }
    for container in spec.get("containers") or []:
        problems += _container_problems(f"{kind} {name}", container, mounts_ok)
    return problems


def _volume_problems(
    owner: str,
    volume: dict[str, Any],
    space: str,
    docs: list[tuple[str, dict[str, Any]]],
    names: _Names,
) -> list[str]:
    problems = []
    cm = volume.get("configMap")
    if cm and not cm.get("optional") and ("ConfigMap", space, cm.get("name")) not in names:
        problems.append(f"{owner}: ConfigMap {cm.get('name')} is not in these files")
    if cm and ("ConfigMap", space, cm.get("name")) in names:
        data = next(
            (
                d.get("data") or {}
                for _, d in docs
                if d.get("kind") == "ConfigMap"
                and _namespace(d) == space
                and _get(d, "metadata.name") == cm.get("name")
            ),
            {},
        )
        for item in cm.get("items") or []:
            if item.get("key") not in data:
                problems.append(
                    f"{owner}: ConfigMap {cm.get('name')} has no key {item.get('key')!r}"
                )
    claim = _get(volume, "persistentVolumeClaim.claimName")
    if claim and ("PersistentVolumeClaim", space, claim) not in names:
        problems.append(f"{owner}: PersistentVolumeClaim {claim} is not in these files")
    return problems


def _container_problems(owner: str, container: dict[str, Any], mounts_ok: set[Any]) -> list[str]:
    """Resources parse and fit, mounts have volumes, probes use named ports that exist."""
    where = f"{owner} container {container.get('name')}"
    problems = resource_problems(container.get("resources"), where)
    for mount in container.get("volumeMounts") or []:
        if mount.get("name") not in mounts_ok:
            problems.append(f"{where}: volumeMount {mount.get('name')!r} has no volume")
    port_names = {p.get("name") for p in container.get("ports") or []}
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        port = _get(container, f"{probe}.httpGet.port") or _get(
            container, f"{probe}.tcpSocket.port"
        )
        if isinstance(port, str) and port not in port_names:
            problems.append(
                f"{where}: {probe} uses port {port!r}, which is not a container port name"
            )
    return problems


# ---------------------------------------------------------------- monitoring configs

_RELABEL_ACTIONS = {
    "replace",
    "keep",
    "drop",
    "keepequal",
    "dropequal",
    "hashmod",
    "labelmap",
    "labeldrop",
    "labelkeep",
    "lowercase",
    "uppercase",
}
_SD_KEYS = (
    "static_configs",
    "kubernetes_sd_configs",
    "docker_sd_configs",
    "file_sd_configs",
    "dns_sd_configs",
    "ec2_sd_configs",
    "consul_sd_configs",
    "http_sd_configs",
)


def _relabel_problems(rules: Any, where: str) -> list[str]:
    problems = []
    for i, rule in enumerate(rules or []):
        action = rule.get("action", "replace")
        if action not in _RELABEL_ACTIONS:
            problems.append(f"{where}.relabel_configs[{i}]: unknown action {action!r}")
        try:
            re.compile(str(rule.get("regex", "(.*)")))
        except re.error as e:
            problems.append(f"{where}.relabel_configs[{i}]: regex does not compile ({e})")
        if action == "replace" and "target_label" not in rule:
            problems.append(f"{where}.relabel_configs[{i}]: replace needs target_label")
    return problems


def _scrape_jobs(config: dict[str, Any], what: str) -> list[str]:
    jobs = config.get("scrape_configs")
    if not isinstance(jobs, list) or not jobs:
        return [f"{what} has no scrape_configs"]
    problems, seen = [], set()
    for i, job in enumerate(jobs):
        name = job.get("job_name")
        if not name:
            problems.append(f"scrape_configs[{i}] has no job_name")
        elif name in seen:
            problems.append(f"job_name {name!r} appears twice")
        seen.add(name)
        if not any(k in job for k in _SD_KEYS):
            problems.append(f"job {name!r} has no targets or service discovery")
        problems += _relabel_problems(job.get("relabel_configs"), f"job {name!r}")
    return problems


def prometheus_problems(config: Any) -> list[str]:
    if not isinstance(config, dict):
        return ["the Prometheus config must be a mapping"]
    return _scrape_jobs(config, "the Prometheus config")


def promtail_problems(config: Any) -> list[str]:
    if not isinstance(config, dict):
        return ["the Promtail config must be a mapping"]
    problems = _scrape_jobs(config, "the Promtail config")
    clients = config.get("clients")
    if not isinstance(clients, list) or not clients:
        problems.append("the Promtail config has no clients (Loki push URLs)")
    else:
        for client in clients:
            if not str(client.get("url", "")).endswith("/loki/api/v1/push"):
                problems.append(f"client url {client.get('url')!r} must end in /loki/api/v1/push")
    if not _get(config, "positions.filename"):
        problems.append(
            "positions.filename is not set (Promtail would re-read logs after a restart)"
        )
    return problems


def loki_problems(config: Any) -> list[str]:
    if not isinstance(config, dict):
        return ["the Loki config must be a mapping"]
    problems = []
    if not isinstance(_get(config, "server.http_listen_port"), int):
        problems.append("server.http_listen_port must be a port number")
    configs = _get(config, "schema_config.configs")
    if not isinstance(configs, list) or not configs:
        problems.append("schema_config.configs is empty")
    else:
        for i, c in enumerate(configs):
            if not re.match(r"^\d{4}-\d{2}-\d{2}$", str(c.get("from", ""))):
                problems.append(f"schema_config.configs[{i}].from must be a YYYY-MM-DD date")
            if c.get("store") not in ("tsdb", "boltdb-shipper"):
                problems.append(f"schema_config.configs[{i}].store must be tsdb or boltdb-shipper")
            if not str(c.get("schema", "")).startswith("v"):
                problems.append(f"schema_config.configs[{i}].schema must be like v13")
    if _get(config, "compactor.retention_enabled") and not _get(
        config, "compactor.delete_request_store"
    ):
        problems.append("compactor.retention_enabled needs compactor.delete_request_store")
    return problems


def grafana_datasource_problems(config: Any) -> tuple[list[str], set[str]]:
    """Problems, and the uids the file provisions."""
    if not isinstance(config, dict) or config.get("apiVersion") != 1:
        return ["a Grafana provisioning file needs apiVersion: 1"], set()
    problems, uids = [], set()
    for i, ds in enumerate(config.get("datasources") or []):
        for key in ("name", "type", "uid", "url"):
            if not ds.get(key):
                problems.append(f"datasources[{i}] has no {key}")
        if ds.get("uid") in uids:
            problems.append(f"datasource uid {ds.get('uid')!r} appears twice")
        uids.add(ds.get("uid"))
    if not uids:
        problems.append("no datasources are provisioned")
    return problems, {u for u in uids if u}


def grafana_provider_problems(config: Any) -> list[str]:
    if not isinstance(config, dict) or config.get("apiVersion") != 1:
        return ["a Grafana provisioning file needs apiVersion: 1"]
    problems = []
    for i, provider in enumerate(config.get("providers") or []):
        if not _get(provider, "options.path"):
            problems.append(f"providers[{i}] has no options.path")
    return problems or ([] if config.get("providers") else ["no dashboard providers"])


def dashboard_problems(dashboard: Any, known_uids: set[str] | None) -> list[str]:
    """Structure of a Grafana dashboard; datasource uids must be provisioned ones."""
    if not isinstance(dashboard, dict):
        return ["a dashboard must be a JSON object"]
    problems = [f"dashboard has no {k}" for k in ("uid", "title", "panels") if not dashboard.get(k)]
    ids: set[Any] = set()
    for panel in dashboard.get("panels") or []:
        title = panel.get("title", panel.get("id"))
        if panel.get("id") in ids:
            problems.append(f"panel id {panel.get('id')} appears twice")
        ids.add(panel.get("id"))
        grid = panel.get("gridPos") or {}
        if not all(isinstance(grid.get(k), int) for k in ("x", "y", "w", "h")):
            problems.append(f"panel {title!r}: gridPos needs whole numbers x, y, w, h")
        elif grid["x"] + grid["w"] > 24:
            problems.append(f"panel {title!r} is wider than the 24-column grid")
        if panel.get("type") == "row":
            continue
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"panel {title!r} has no queries")
        for target in targets:
            source = target.get("datasource") or panel.get("datasource") or {}
            uid = source.get("uid")
            if known_uids is not None and uid not in known_uids:
                problems.append(
                    f"panel {title!r} uses datasource {uid!r}, which is not provisioned"
                )
            expr = str(target.get("expr", ""))
            if not expr:
                problems.append(f"panel {title!r} has a query without expr")
            if source.get("type") == "loki" and not expr.startswith("{"):
                problems.append(
                    f"panel {title!r}: a LogQL query starts with a stream selector {{…}}"
                )
            if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}"):
                problems.append(f"panel {title!r}: unbalanced brackets in {expr!r}")
    return problems


# ---------------------------------------------------------------- compose and Dockerfile


def compose_problems(compose: Any) -> list[str]:
    """What the compose schema cannot say: GPU reservations need a GPU image."""
    if not isinstance(compose, dict):
        return ["a compose file must be a mapping"]
    problems = []
    for name, service in (compose.get("services") or {}).items():
        devices = _get(service, "deploy.resources.reservations.devices", []) or []
        wants_gpu = any(
            "gpu" in (d.get("capabilities") or []) for d in devices if isinstance(d, dict)
        )
        image = str(service.get("image", ""))
        if wants_gpu and image.startswith("milvusdb/milvus") and not image.endswith("-gpu"):
            problems.append(f"service {name} reserves a GPU but runs {image}, not a -gpu image")
        for dep in service.get("depends_on") or []:
            if dep not in (compose.get("services") or {}):
                problems.append(f"service {name} depends on unknown service {dep}")
    return problems


def dockerfile_problems(text: str) -> list[str]:
    """A service image must drop root and declare a health check."""
    lines = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    instructions = [
        (ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln else "") for ln in lines
    ]
    problems = []
    if not instructions or instructions[0][0] not in ("FROM", "ARG"):
        problems.append("a Dockerfile starts with FROM")
    users = [arg.strip() for op, arg in instructions if op == "USER"]
    if not users:
        problems.append("no USER instruction: the container would run as root")
    elif users[-1].split(":")[0] in ("root", "0"):
        problems.append(f"the last USER is {users[-1]}: the container would run as root")
    checks = [arg for op, arg in instructions if op == "HEALTHCHECK"]
    if not checks or checks[-1].strip().upper() == "NONE":
        problems.append("no HEALTHCHECK instruction")
    return problems
