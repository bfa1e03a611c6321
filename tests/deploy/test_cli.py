"""``ragsilo deploy`` through its runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ragsilo.cli.deploy import deploy_app

runner = CliRunner()


def test_render_writes_files_and_prints_the_sizing(tmp_path: Path) -> None:
    out = tmp_path / "op"
    result = runner.invoke(
        deploy_app,
        [
            "render",
            "--target",
            "operator",
            "--gpu",
            "--out",
            str(out),
            "--vectors",
            "20000000",
            "--dimension",
            "768",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "milvus.yaml").is_file() and (out / "install.sh").is_file()
    assert "20,000,000 × 768 × 4 B" in result.output
    assert "ragsilo deploy validate" in result.output


def test_settings_file_gives_collection_index_and_dimension(tmp_path: Path) -> None:
    config = tmp_path / "ragsilo.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "collection": {"name": "manuals"},
                "index": {"type": "IVF_SQ8", "params": {"nlist": 2048}},
                "embedding": {
                    "provider": "sentence-transformers",
                    "model": "bge-base",
                    "dimension": 768,
                },
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "c"
    result = runner.invoke(
        deploy_app, ["render", "-t", "compose", "--config", str(config), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (
        "index IVF_SQ8" in result.output
        and "nlist=2048" in result.output
        and "× 768 ×" in result.output
    )
    compose = yaml.safe_load((out / "docker-compose.yml").read_text(encoding="utf-8"))
    assert compose["services"]["ragsilo"]["environment"]["RAGSILO_COLLECTION__NAME"] == "manuals"


def test_unknown_dimension_asks_for_it(tmp_path: Path) -> None:
    config = tmp_path / "ragsilo.yaml"
    config.write_text(
        yaml.safe_dump({"embedding": {"provider": "sentence-transformers", "model": "bge-base"}}),
        encoding="utf-8",
    )
    result = runner.invoke(
        deploy_app, ["render", "-t", "compose", "-c", str(config), "-o", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--dimension" in result.output


def test_bad_parameters_exit_with_one_line(tmp_path: Path) -> None:
    result = runner.invoke(deploy_app, ["render", "--target", "eks", "--out", str(tmp_path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "--s3-bucket" in lines[0]
    assert not any(tmp_path.iterdir())


def test_kafka_brokers_select_kafka(tmp_path: Path) -> None:
    result = runner.invoke(
        deploy_app,
        [
            "render",
            "-t",
            "eks",
            "-o",
            str(tmp_path),
            "--kafka-brokers",
            "b-1.msk:9096,b-2.msk:9096",
            "--s3-bucket",
            "my-milvus-data",
            "--s3-region",
            "us-east-1",
            "--s3-role-arn",
            "arn:aws:iam::123456789012:role/milvus-s3",
        ],
    )
    assert result.exit_code == 0, result.output
    values = yaml.safe_load((tmp_path / "helm" / "values-eks.yaml").read_text(encoding="utf-8"))
    assert values["externalKafka"]["brokerList"] == "b-1.msk:9096,b-2.msk:9096"


@pytest.mark.deploy
def test_validate_passes_rendered_and_fails_broken(
    tmp_path: Path, require_tools: Callable[..., None]
) -> None:
    require_tools("kubernetes-validate", "hadolint")
    out = tmp_path / "kind"
    assert runner.invoke(deploy_app, ["render", "-t", "kind", "-o", str(out)]).exit_code == 0
    ok = runner.invoke(deploy_app, ["validate", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "FAIL" not in ok.output
    (out / "milvus.yaml").write_text(
        (out / "milvus.yaml").read_text().replace("mode: cluster", "mode: big")
    )
    bad = runner.invoke(deploy_app, ["validate", str(out)])
    assert bad.exit_code == 1
    assert "FAIL     milvus-cr" in bad.output


def test_validate_refuses_a_missing_directory(tmp_path: Path) -> None:
    result = runner.invoke(deploy_app, ["validate", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "is not a directory" in result.output
