"""The committed examples and the service image are what the code says they are."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ragsilo.deploy import validate_dir
from ragsilo.deploy.examples import EXAMPLES, render_example

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_is_up_to_date_with_the_renderer(name: str) -> None:
    directory = DEPLOY / "examples" / name
    expected = render_example(name).files
    on_disk = {
        p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }
    stale = sorted(k for k in expected.keys() & on_disk.keys() if expected[k] != on_disk[k])
    hint = "refresh with: python -m ragsilo.deploy.examples deploy/examples"
    assert set(on_disk) == set(expected), hint
    assert not stale, f"{stale} differ; {hint}"


@pytest.mark.deploy
def test_service_image_dockerfile_passes_rules_and_hadolint(
    require_tools: Callable[..., None],
) -> None:
    require_tools("hadolint")
    report = validate_dir(DEPLOY / "docker")
    assert report.ok, "\n".join(report.lines())
    assert {r.check for r in report.results} == {"dockerfile-rules", "hadolint"}


def test_service_image_is_non_root_with_a_python_health_check() -> None:
    text = (DEPLOY / "docker" / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11-slim" in text
    assert "USER 10001" in text
    healthcheck = text[text.index("HEALTHCHECK") :]
    assert "urllib.request" in healthcheck and "http://127.0.0.1:8000/health" in healthcheck
    assert "curl" not in healthcheck
