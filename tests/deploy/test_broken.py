"""A deliberately broken file of each kind fails its check (and only a broken file does)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ragsilo.deploy import make_params, render, validate_dir
from ragsilo.deploy.validate import ValidationReport

S3 = {
    "s3_bucket": "my-milvus-data",
    "s3_region": "eu-west-1",
    "s3_role_arn": "arn:aws:iam::123456789012:role/milvus-s3",
}


def _write(root: Path, name: str, data: Any) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    elif name.endswith(".json"):
        path.write_text(json.dumps(data), encoding="utf-8")
    elif isinstance(data, list):
        path.write_text(yaml.safe_dump_all(data, sort_keys=False), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _failed(report: ValidationReport, check: str) -> str:
    failed = [r for r in report.results if r.check == check and r.status == "fail"]
    assert failed, f"{check} did not fail:\n" + "\n".join(report.lines())
    return "\n".join(r.detail for r in failed)


def _file(target: str, name: str, **extra: Any) -> str:
    return render(make_params(target=target, **extra)).files[name]


@pytest.mark.deploy
def test_compose_with_an_invalid_key_fails_schema_and_docker_compose(
    tmp_path: Path, require_tools: Callable[..., None]
) -> None:
    require_tools("check-jsonschema", "docker-compose")
    compose = yaml.safe_load(_file("compose", "docker-compose.yml"))
    compose["services"]["milvus"]["restart_policy"] = "always"  # not a compose key
    _write(tmp_path, "docker-compose.yml", compose)
    report = validate_dir(tmp_path)
    assert "restart_policy" in _failed(report, "compose-spec")
    assert "restart_policy" in _failed(report, "compose-config")


def test_compose_gpu_reservation_without_gpu_image_fails(tmp_path: Path) -> None:
    compose = yaml.safe_load(_file("compose", "docker-compose.yml", gpu=True))
    compose["services"]["milvus"]["image"] = "milvusdb/milvus:v2.6.15"
    _write(tmp_path, "docker-compose.yml", compose)
    report = validate_dir(tmp_path, require_tools=False)
    assert "not a -gpu image" in _failed(report, "compose-rules")


@pytest.mark.deploy
def test_deployment_with_an_unknown_field_fails_kubernetes_validate(
    tmp_path: Path, require_tools: Callable[..., None]
) -> None:
    require_tools("kubernetes-validate")
    docs = [d for d in yaml.safe_load_all(_file("operator", "ragsilo-service.yaml")) if d]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}
    _write(tmp_path, "ragsilo-service.yaml", docs)
    report = validate_dir(tmp_path)
    assert "livenessProbes" in _failed(report, "kubernetes")


@pytest.mark.deploy
def test_unknown_kind_is_not_silently_accepted(
    tmp_path: Path, require_tools: Callable[..., None]
) -> None:
    require_tools("kubernetes-validate")
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "ragsilo", "namespace": "ragsilo"},
        "spec": {"selector": {}, "endpoints": [{"port": "http"}]},
    }
    _write(tmp_path, "servicemonitor.yaml", [monitor])
    report = validate_dir(tmp_path)
    assert "ServiceMonitor" in _failed(report, "kubernetes")


def test_service_whose_selector_matches_nothing_fails(tmp_path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(_file("operator", "ragsilo-service.yaml")) if d]
    service = next(d for d in docs if d["kind"] == "Service")
    service["spec"]["selector"] = {"app.kubernetes.io/name": "ragsilo-typo"}
    _write(tmp_path, "ragsilo-service.yaml", docs)
    report = validate_dir(tmp_path, require_tools=False)
    assert "matches no pod template" in _failed(report, "k8s-references")


def test_request_above_limit_fails(tmp_path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(_file("operator", "ragsilo-service.yaml")) if d]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] = (
        "4Gi"
    )
    _write(tmp_path, "ragsilo-service.yaml", docs)
    report = validate_dir(tmp_path, require_tools=False)
    assert "above its limit" in _failed(report, "k8s-references")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda spec: spec.update(mode="distributed"), "'distributed' is not one of"),
        (
            lambda spec: spec["components"]["queryNode"].update(replica=2),
            "'replica' was unexpected",
        ),
        (lambda spec: spec["dependencies"].update(msgStreamType="rabbitmq"), "rabbitmq"),
        (
            lambda spec: spec["components"].update(image="milvusdb/milvus:v2.6.15"),
            "not a -gpu image",
        ),
        (lambda spec: spec["dependencies"]["kafka"].update(brokerList=[]), "brokerList"),
        (lambda spec: spec["components"].update(indexNode={"replicas": 1}), "mixCoord"),
    ],
)
def test_broken_milvus_resource_fails(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    docs = [
        d
        for d in yaml.safe_load_all(
            _file(
                "operator",
                "milvus.yaml",
                gpu=True,
                message_queue="kafka",
                kafka_brokers=("b-1.msk:9096",),
            )
        )
        if d
    ]
    change(docs[-1]["spec"])
    _write(tmp_path, "milvus.yaml", docs)
    report = validate_dir(tmp_path, require_tools=False)
    assert expected in _failed(report, "milvus-cr")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda v: v["minio"].update(enabled=True), "minio.enabled must be false"),
        (lambda v: v["pulsarv3"].pop("enabled"), "exactly one message queue"),
        (lambda v: v.update(queryNodes={"replicas": 2}), "queryNodes is not a key"),
        (lambda v: v["queryNode"].update(replica=2), "did you mean queryNode.replicas"),
        (lambda v: v["mixCoordinator"]["activeStandby"].update(enabled=False), "activeStandby"),
        (lambda v: v["indexNode"].update(enabled=True), "indexNode.enabled must be false"),
        (lambda v: v["image"]["all"].update(tag="v2.6.15"), "not a -gpu image"),
        (lambda v: v["service"].pop("loadBalancerSourceRanges"), "0.0.0.0/0"),
        (lambda v: v["externalS3"].update(accessKey="AKIA123"), "leave externalS3.accessKey"),
        (lambda v: v["cluster"].update(enabled="yes"), "must be true or false"),
    ],
)
def test_broken_helm_values_fail(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    values = yaml.safe_load(_file("eks", "helm/values-eks.yaml", gpu=True, **S3))
    change(values)
    _write(tmp_path, "helm/values-eks.yaml", values)
    report = validate_dir(tmp_path, require_tools=False)
    assert expected in _failed(report, "helm-values")


def test_kafka_password_in_values_file_fails(tmp_path: Path) -> None:
    values = yaml.safe_load(
        _file(
            "eks",
            "helm/values-eks.yaml",
            message_queue="kafka",
            kafka_brokers=("b-1.msk:9096",),
            **S3,
        )
    )
    values["externalKafka"]["sasl"]["password"] = "hunter2"
    _write(tmp_path, "helm/values-eks.yaml", values)
    report = validate_dir(tmp_path, require_tools=False)
    assert "pass it at install time" in _failed(report, "helm-values")


def test_kind_file_with_a_bad_role_fails(tmp_path: Path) -> None:
    cluster = yaml.safe_load(_file("kind", "kind-cluster.yaml"))
    cluster["nodes"][1]["role"] = "master"
    _write(tmp_path, "kind-cluster.yaml", cluster)
    report = validate_dir(tmp_path, require_tools=False)
    assert "'master' is not one of" in _failed(report, "kind-config")


def test_dashboard_with_an_unprovisioned_datasource_fails(tmp_path: Path) -> None:
    files = render(make_params(target="compose")).files
    dashboard = json.loads(files["monitoring/grafana/ragsilo-dashboard.json"])
    dashboard["panels"][3]["targets"][0]["datasource"]["uid"] = "mimir"
    _write(
        tmp_path,
        "monitoring/grafana/datasources.yaml",
        files["monitoring/grafana/datasources.yaml"],
    )
    _write(tmp_path, "monitoring/grafana/dash.json", dashboard)
    report = validate_dir(tmp_path, require_tools=False)
    assert "'mimir', which is not provisioned" in _failed(report, "grafana-dashboard")


@pytest.mark.parametrize(
    ("name", "check", "edit", "expected"),
    [
        (
            "monitoring/prometheus.yml",
            "prometheus-config",
            lambda c: c["scrape_configs"].append(dict(c["scrape_configs"][0])),
            "appears twice",
        ),
        (
            "monitoring/promtail.yaml",
            "promtail-config",
            lambda c: c["clients"][0].update(url="http://loki:3100/push"),
            "/loki/api/v1/push",
        ),
        (
            "monitoring/loki.yaml",
            "loki-config",
            lambda c: c["schema_config"]["configs"][0].update(store="cassandra"),
            "tsdb",
        ),
    ],
)
def test_broken_monitoring_config_fails(
    tmp_path: Path, name: str, check: str, edit: Callable[[dict[str, Any]], None], expected: str
) -> None:
    config = yaml.safe_load(render(make_params(target="compose")).files[name])
    edit(config)
    _write(tmp_path, name, config)
    report = validate_dir(tmp_path, require_tools=False)
    assert expected in _failed(report, check)


def test_dockerfile_running_as_root_without_healthcheck_fails(tmp_path: Path) -> None:
    _write(tmp_path, "Dockerfile", 'FROM python:3.11-slim\nCMD ["ragsilo", "serve"]\n')
    report = validate_dir(tmp_path, require_tools=False)
    detail = _failed(report, "dockerfile-rules")
    assert "run as root" in detail and "HEALTHCHECK" in detail


@pytest.mark.deploy
def test_dockerfile_lint_failure_fails_hadolint(
    tmp_path: Path, require_tools: Callable[..., None]
) -> None:
    require_tools("hadolint")
    _write(
        tmp_path,
        "Dockerfile",
        (
            "FROM python:3.11-slim\nMAINTAINER someone@example.com\nRUN cd /tmp && pip install x\n"
            'USER 10001\nHEALTHCHECK CMD ["true"]\n'
        ),
    )
    report = validate_dir(tmp_path)
    assert "DL4000" in _failed(report, "hadolint")


def test_shell_script_with_a_syntax_error_fails(tmp_path: Path) -> None:
    _write(tmp_path, "install.sh", "#!/usr/bin/env bash\nif true; then\n  echo half\n")
    report = validate_dir(tmp_path, require_tools=False)
    _failed(report, "shell-syntax")


def test_invalid_yaml_fails(tmp_path: Path) -> None:
    _write(tmp_path, "milvus.yaml", "spec: [unclosed\n")
    report = validate_dir(tmp_path, require_tools=False)
    assert "not valid YAML" in _failed(report, "yaml")


def test_missing_tools_are_reported_not_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    _write(tmp_path, "docker-compose.yml", _file("compose", "docker-compose.yml"))
    strict = validate_dir(tmp_path)
    assert not strict.ok
    assert {r.check for r in strict.results if r.status == "not run"} >= {
        "compose-spec",
        "compose-config",
    }
    assert validate_dir(tmp_path, require_tools=False).ok
