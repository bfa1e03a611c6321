"""The rendered examples committed under ``deploy/examples``, and how to refresh them.

Refresh with ``python -m ragsilo.deploy.examples deploy/examples`` after changing the renderer.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from ragsilo.deploy.params import DeployParams, make_params
from ragsilo.deploy.render import Rendered, render

_S3: dict[str, Any] = {
    "s3_bucket": "example-milvus-data",
    "s3_region": "us-east-1",
    "s3_role_arn": "arn:aws:iam::123456789012:role/example-milvus-s3",
}
_MSK: dict[str, Any] = {
    "message_queue": "kafka",
    "kafka_brokers": (
        "b-1.example.kafka.us-east-1.amazonaws.com:9096",
        "b-2.example.kafka.us-east-1.amazonaws.com:9096",
    ),
}

#: Example directory name → parameters (everything else at its default).
EXAMPLES: dict[str, dict[str, Any]] = {
    "compose": {"target": "compose"},
    "compose-gpu": {"target": "compose", "gpu": True},
    "kind": {"target": "kind"},
    "operator": {"target": "operator"},
    "operator-gpu": {"target": "operator", "gpu": True},
    "eks": {"target": "eks", **_S3},
    "eks-gpu": {"target": "eks", "gpu": True, **_S3},
    "eks-kafka": {"target": "eks", **_S3, **_MSK},
}


def example_params(name: str) -> DeployParams:
    return make_params(**EXAMPLES[name])


def render_example(name: str) -> Rendered:
    return render(example_params(name))


def write_examples(root: Path) -> list[Path]:
    """Render every example into ``root/<name>/``, replacing what was there."""
    written: list[Path] = []
    for name in EXAMPLES:
        target = Path(root) / name
        if target.exists():
            shutil.rmtree(target)
        written += render_example(name).write(target)
    return written


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/examples")
    for path in write_examples(out):
        print(path)
