"""The layers hold and the types check: import-linter contracts and mypy, set in pyproject.toml.

Both tools come with the ``dev`` extra. Where one is missing the test skips, saying so
(in CI, where ``CI=true``, it fails instead). mypy keeps its cache in ``.mypy_cache``:
a first run takes about a minute on two cores, later runs a few seconds.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def _require(module: str, extra_hint: str) -> None:
    if importlib.util.find_spec(module) is not None:
        return
    message = f"{module} is not installed ({extra_hint})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _env() -> dict[str, str]:
    # Analyse this checkout's sources, whatever ragsilo is installed.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    return env


def test_import_linter_contracts_hold() -> None:
    _require("importlinter", "pip install -e '.[dev]'")
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
        "lint-imports"
    )
    if exe is None:
        pytest.skip("the lint-imports command is not on PATH (pip install -e '.[dev]')")
    run = subprocess.run(
        [exe, "--no-logo", "--no-cache"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_mypy_is_clean() -> None:
    _require("mypy", "pip install -e '.[dev]'")
    run = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _ragsilo_imports(package: str) -> set[tuple[str, str]]:
    """(file, imported module) for every ``ragsilo.*`` import in ``package``, lazy ones too."""
    found = set()
    base = SRC / "ragsilo" / package
    files = [base.with_suffix(".py")] if base.with_suffix(".py").exists() else base.rglob("*.py")
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found |= {(path.name, n) for n in names if n.startswith("ragsilo.")}
    return found


@pytest.mark.parametrize(
    ("package", "must_not_import"),
    [
        ("settings", "ragsilo.service"),
        ("answer", "ragsilo.service"),
        ("store", "ragsilo.cluster"),
    ],
)
def test_lower_layers_do_not_import_higher_ones(package: str, must_not_import: str) -> None:
    """The arrows that used to run upwards, checked without import-linter."""
    bad = sorted(
        (f, m)
        for f, m in _ragsilo_imports(package)
        if m == must_not_import or m.startswith(must_not_import + ".")
    )
    assert not bad, f"ragsilo.{package} imports {must_not_import}: {bad}"


def test_search_modes_and_index_types_have_one_definition() -> None:
    from ragsilo import settings
    from ragsilo.deploy.params import DeployParams
    from ragsilo.retrieval import modes

    assert modes.SEARCH_MODES is settings.SEARCH_MODES
    assert settings.SEARCH_MODES == ("dense", "bm25", "hybrid")
    for name in ("hnsw", " ivf_flat ", "Auto", "GPU_CAGRA"):
        gpu = name.strip().upper().startswith("GPU")
        assert (
            DeployParams(target="operator", gpu=gpu, index_type=name).index_type
            == settings.IndexSettings(type=name).type
        )
    with pytest.raises(ValueError, match="index type 'ANNOY' is unknown; choose auto or one of"):
        DeployParams(target="compose", index_type="ANNOY")
    with pytest.raises(ValueError, match="index.type 'ANNOY' is unknown; choose auto or one of"):
        settings.IndexSettings(type="ANNOY")
