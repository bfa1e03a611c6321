"""Deployment parameters: bad combinations fail with one sentence that says what to do."""

from __future__ import annotations

import pytest

from ragsilo.deploy import make_params
from ragsilo.errors import ConfigError

S3 = {
    "s3_bucket": "my-milvus-data",
    "s3_region": "eu-west-1",
    "s3_role_arn": "arn:aws:iam::123456789012:role/milvus-s3",
}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"target": "kind", "gpu": True}, "kind nodes cannot hand GPUs"),
        ({"target": "eks"}, "missing --s3-bucket, --s3-region, --s3-role-arn"),
        (
            {"target": "eks", "s3_bucket": "my-milvus-data", "s3_region": "eu-west-1"},
            "--s3-role-arn",
        ),
        (
            {"target": "compose", "message_queue": "kafka", "kafka_brokers": ("b:9092",)},
            "Woodpecker",
        ),
        ({"target": "operator", "message_queue": "kafka"}, "needs --kafka-brokers"),
        ({"target": "operator", "kafka_brokers": ("b:9092",)}, "use --mq kafka"),
        ({"target": "operator", "index_type": "GPU_CAGRA"}, "runs on GPUs only"),
        ({"target": "kind", "s3_bucket": "my-milvus-data"}, "stores data in its own MinIO"),
        ({"target": "operator", "s3_bucket": "my-milvus-data"}, "both --s3-bucket and --s3-region"),
        ({"target": "eks", **S3, "s3_bucket": "Bad_Bucket"}, "S3 bucket name"),
        ({"target": "eks", **S3, "s3_role_arn": "milvus-role"}, "must be an ARN"),
        ({"target": "operator", "milvus_version": "2.5.4"}, "outside the 2.6 line"),
        ({"target": "operator", "index_type": "ANNOY"}, "index type 'ANNOY' is unknown"),
        (
            {"target": "operator", "kafka_brokers": ("no-port",), "message_queue": "kafka"},
            "host:port",
        ),
        ({"target": "swarm"}, "target"),
        ({"target": "operator", "vectors": 0}, "vectors"),
    ],
)
def test_bad_parameters_fail_with_a_readable_line(values: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_params(**values)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_defaults_resolve_auto_index_by_hardware() -> None:
    assert make_params(target="operator").resolved_index_type == "HNSW"
    assert make_params(target="operator", gpu=True).resolved_index_type == "GPU_CAGRA"
    assert make_params(target="operator", gpu=True).milvus_image == "milvusdb/milvus:v2.6.15-gpu"


def test_none_values_keep_defaults() -> None:
    p = make_params(target="eks", namespace=None, image=None, **S3)
    assert p.namespace == "ragsilo"
    assert p.label == "eks"
