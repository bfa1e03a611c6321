"""Opt-in: render the official milvus chart with our values and check the manifests it makes.

Needs a local copy of the chart (``charts/milvus`` of zilliztech/milvus-helm, with its
``charts/*.tgz`` subcharts) named by ``RAGSILO_MILVUS_CHART``, and helm-python-sdk.
CI has no copy of the chart (it is not fetched at test time), so there this test skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ragsilo.deploy import make_params, render

CHART = os.environ.get("RAGSILO_MILVUS_CHART")
S3 = {
    "s3_bucket": "my-milvus-data",
    "s3_region": "us-east-1",
    "s3_role_arn": "arn:aws:iam::123456789012:role/milvus-s3",
}
CASES = {
    "kind": ({"target": "kind"}, "helm/values-kind.yaml"),
    "eks": ({"target": "eks", **S3}, "helm/values-eks.yaml"),
    "eks-gpu-kafka": (
        {
            "target": "eks",
            "gpu": True,
            "message_queue": "kafka",
            "kafka_brokers": ("b-1.msk:9096",),
            **S3,
        },
        "helm/values-eks.yaml",
    ),
}


@pytest.mark.deploy
@pytest.mark.skipif(not CHART, reason="set RAGSILO_MILVUS_CHART to a local milvus chart directory")
@pytest.mark.parametrize("case", sorted(CASES))
def test_official_chart_renders_valid_manifests(case: str, tmp_path: Path) -> None:
    helm = pytest.importorskip("helm_python")
    if shutil.which("kubernetes-validate") is None:
        pytest.skip("kubernetes-validate is not installed")
    params, name = CASES[case]
    values = yaml.safe_load(render(make_params(**params)).files[name])
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values=values, name="milvus", namespace="ragsilo")
    written = []
    for path, text in manifests.items():
        # Offline rendering has no API capabilities, so the chart falls back to an old Ingress API.
        if not path.endswith(".yaml") or "attu-ingress" in path:
            continue
        if any(yaml.safe_load_all(text)):
            target = tmp_path / path.replace("/", "_")
            target.write_text(text, encoding="utf-8")
            written.append(str(target))
    config = yaml.safe_load(
        yaml.safe_load(manifests["milvus/templates/configmap.yaml"])["data"]["default.yaml"]
    )
    assert config["mq"]["type"] == ("kafka" if "kafka" in case else "woodpecker")
    proc = subprocess.run(
        ["kubernetes-validate", "--strict", "-k", "1.32.0", "--quiet", *written],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
