"""Every target and flag combination renders files that pass every offline check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ragsilo.deploy import make_params, render, validate_dir
from ragsilo.deploy.examples import EXAMPLES, render_example
from ragsilo.deploy.params import DeployParams

S3_IRSA = {
    "s3_bucket": "my-milvus-data",
    "s3_region": "eu-west-1",
    "s3_role_arn": "arn:aws:iam::123456789012:role/milvus-s3",
}
S3_KEYS = {"s3_bucket": "my-milvus-data", "s3_region": "eu-west-1"}
MSK = {
    "message_queue": "kafka",
    "kafka_brokers": ("b-1.msk.example.com:9096", "b-2.msk.example.com:9096"),
}

MATRIX: dict[str, dict[str, Any]] = {
    "compose": {"target": "compose"},
    "compose-gpu": {"target": "compose", "gpu": True},
    "kind": {"target": "kind"},
    "operator": {"target": "operator"},
    "operator-gpu": {"target": "operator", "gpu": True},
    "operator-kafka-s3keys": {"target": "operator", **MSK, **S3_KEYS},
    "operator-gpu-kafka-irsa": {"target": "operator", "gpu": True, **MSK, **S3_IRSA},
    "eks": {"target": "eks", **S3_IRSA},
    "eks-gpu": {"target": "eks", "gpu": True, **S3_IRSA},
    "eks-kafka": {"target": "eks", **S3_IRSA, **MSK},
    "eks-gpu-kafka": {"target": "eks", "gpu": True, **S3_IRSA, **MSK},
}


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def _params(name: str) -> DeployParams:
    return make_params(**MATRIX[name])


@pytest.mark.deploy
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_rendered_files_pass_every_check(
    name: str, tmp_path: Path, require_tools: Callable[..., None]
) -> None:
    require_tools("check-jsonschema", "docker-compose", "kubernetes-validate")
    rendered = render(_params(name))
    rendered.write(tmp_path)
    report = validate_dir(tmp_path)
    assert report.ok, "\n".join(report.lines())
    checks = {r.check for r in report.results}
    if name.startswith("compose"):
        assert {"compose-spec", "compose-config", "compose-rules", "grafana-dashboard"} <= checks
    else:
        assert {"kubernetes", "k8s-references", "shell-syntax", "prometheus-config"} <= checks
        assert ("milvus-cr" in checks) == name.startswith(("kind", "operator"))
        assert ("helm-values" in checks) == name.startswith(("kind", "eks"))
    assert not report.unchecked


def test_rendering_is_deterministic() -> None:
    for name in MATRIX:
        assert render(_params(name)).files == render(_params(name)).files


def test_eks_values_follow_the_cross_field_rules() -> None:
    values = yaml.safe_load(render(_params("eks-gpu-kafka")).files["helm/values-eks.yaml"])
    assert values["minio"]["enabled"] is False
    assert values["externalS3"]["enabled"] is True and values["externalS3"]["useIAM"] is True
    assert values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(
        "role/milvus-s3"
    )
    assert values["pulsarv3"]["enabled"] is False and values["woodpecker"]["enabled"] is False
    assert values["externalKafka"]["sasl"]["mechanisms"] == "SCRAM-SHA-512"
    assert values["externalKafka"]["sasl"]["password"] == ""
    assert (
        values["service"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-scheme"]
        == "internal"
    )
    assert values["attu"]["ingress"]["ingressClassName"] == "alb"
    assert (
        values["mixCoordinator"]["replicas"] == 2
        and values["mixCoordinator"]["activeStandby"]["enabled"]
    )
    assert values["image"]["all"]["tag"].endswith("-gpu")
    assert values["queryNode"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert values["indexNode"]["enabled"] is False


def test_woodpecker_is_the_default_message_queue() -> None:
    values = yaml.safe_load(render(_params("eks")).files["helm/values-eks.yaml"])
    assert values["woodpecker"]["enabled"] is True
    assert values["streaming"]["enabled"] is True
    assert "externalKafka" not in values
    cr = _docs(render(_params("operator")).files["milvus.yaml"])[-1]
    assert cr["spec"]["dependencies"]["msgStreamType"] == "woodpecker"
    assert cr["spec"]["mode"] == "cluster"


def test_sizing_sets_the_query_node_resources() -> None:
    params = make_params(target="operator", vectors=50_000_000, dimension=768)
    rendered = render(params)
    cr = _docs(rendered.files["milvus.yaml"])[-1]
    query = cr["spec"]["components"]["queryNode"]
    assert query["replicas"] == rendered.sizing.query_nodes
    assert query["resources"]["limits"]["memory"] == rendered.sizing.memory_quantity
    assert "raw vectors       n × dim × 4 B = 50,000,000 × 768 × 4 B" in rendered.files["SIZING.md"]


def test_compose_gpu_reserves_a_device_for_the_gpu_image() -> None:
    compose = yaml.safe_load(render(_params("compose-gpu")).files["docker-compose.yml"])
    milvus = compose["services"]["milvus"]
    assert milvus["image"] == "milvusdb/milvus:v2.6.15-gpu"
    assert milvus["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    assert compose["services"]["ragsilo"]["depends_on"]["milvus"]["condition"] == "service_healthy"
    assert all(
        p.startswith("127.0.0.1:") for s in compose["services"].values() for p in s.get("ports", [])
    )


def test_kind_cluster_has_one_control_plane_three_workers_and_the_ui_port() -> None:
    files = render(_params("kind")).files
    cluster = yaml.safe_load(files["kind-cluster.yaml"])
    roles = [n["role"] for n in cluster["nodes"]]
    assert roles == ["control-plane", "worker", "worker", "worker"]
    assert {m["hostPort"] for m in cluster["nodes"][0]["extraPortMappings"]} >= {3000, 8000}
    assert "kind load docker-image" in files["setup.sh"]
    assert "milvus-operator" in files["setup.sh"]


def test_ragsilo_service_is_non_root_with_probes_and_autoscaling() -> None:
    docs = _docs(render(_params("eks")).files["ragsilo-service.yaml"])
    kinds = {d["kind"]: d for d in docs}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"} <= set(kinds)
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["RAGSILO_MILVUS__URI"] == "http://milvus.ragsilo.svc.cluster.local:19530"


def test_monitoring_scrapes_ragsilo_and_milvus_and_ships_their_logs() -> None:
    files = render(_params("operator")).files
    prom_cm = _docs(files["monitoring/prometheus.yaml"])
    config = yaml.safe_load(
        next(d for d in prom_cm if d["kind"] == "ConfigMap")["data"]["prometheus.yml"]
    )
    assert {j["job_name"] for j in config["scrape_configs"]} == {"ragsilo", "milvus"}
    promtail = next(d for d in _docs(files["monitoring/promtail.yaml"]) if d["kind"] == "ConfigMap")
    assert "ragsilo|milvus" in promtail["data"]["promtail.yaml"]
    grafana = next(
        d
        for d in _docs(files["monitoring/grafana.yaml"])
        if d["metadata"]["name"] == "grafana-provisioning"
    )
    assert "type: loki" in grafana["data"]["datasources.yaml"]
    assert all(
        d["metadata"].get("namespace", "monitoring") == "monitoring"
        for name in files
        if name.startswith("monitoring/")
        for d in _docs(files[name])
        if d["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding")
    )


@pytest.mark.parametrize(
    "values",
    [{"target": "kind", "gpu": True}, {"target": "compose", **MSK}, {"target": "kind", **MSK}],
)
def test_combinations_that_cannot_work_are_refused(values: dict[str, Any]) -> None:
    from ragsilo.errors import ConfigError

    with pytest.raises(ConfigError):
        make_params(**values)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_sizing_doc_states_the_applied_numbers_without_template_braces(name: str) -> None:
    rendered = render_example(name)
    doc = rendered.files["SIZING.md"]
    applied = next(line for line in doc.splitlines() if line.startswith("Applied as: "))
    assert "{" not in applied and "}" not in applied, applied
    if rendered.params.target == "compose":
        compose = yaml.safe_load(rendered.files["docker-compose.yml"])
        cpus = compose["services"]["milvus"]["deploy"]["resources"]["limits"]["cpus"]
        assert f"CPUs ({cpus})" in applied
