"""The CLI starts fast: ``--help`` and ``--version`` load neither Milvus, numpy nor the models;
``python -m ragsilo``, ``--version`` and shell completion work."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
import typer.main
from typer.testing import CliRunner

import ragsilo
from ragsilo.cli.main import create_app

# modules that cost seconds to import, or that only a command's body needs (pydantic is not
# here: Typer itself imports it to show a command's help when it is installed)
HEAVY = (
    "pymilvus",
    "milvus_lite",
    "grpc",
    "numpy",
    "pandas",
    "onnxruntime",
    "tokenizers",
    "fastapi",
    "uvicorn",
    "ragsilo.silo",
    "ragsilo.store",
    "ragsilo.settings",
)

PROBE = """
import json, sys
from ragsilo.cli.main import main
heavy = json.loads(sys.argv[2])
sys.argv = ["ragsilo", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m in heavy or m.split(".")[0] in heavy)
sys.stderr.write("LOADED=" + json.dumps(loaded) + "\\n")
"""


def _loaded_after(args: list[str]) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("LOADED=")]
    assert line, proc.stderr
    return json.loads(line[-1].removeprefix("LOADED="))


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["search", "--help"], []])
def test_help_loads_nothing_heavy(args: list[str]) -> None:
    assert _loaded_after(args) == []


def test_import_settings_does_not_load_milvus() -> None:
    code = (
        "import sys, ragsilo.settings; "
        "print(sorted(m for m in ('pymilvus', 'numpy', 'ragsilo.silo') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert out.strip() == "[]"


def test_public_names_still_load_on_first_use() -> None:
    code = (
        "import sys, ragsilo; assert 'ragsilo.silo' not in sys.modules; "
        "print(ragsilo.Silo.__module__, ragsilo.load_settings.__module__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert out.split() == ["ragsilo.silo", "ragsilo.settings"]


def test_python_dash_m_and_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ragsilo", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"ragsilo {ragsilo.__version__}"
    proc = subprocess.run(
        [sys.executable, "-m", "ragsilo", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and "search" in proc.stdout and "ingest" in proc.stdout


def test_one_version_source() -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("ragsilo")
    except PackageNotFoundError:  # running from a source tree that was never installed
        pytest.skip("ragsilo is not installed")
    assert installed == ragsilo.__version__


def test_shell_completion_is_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    res = CliRunner().invoke(create_app(), ["--help"])
    assert "--install-completion" in res.output and "--show-completion" in res.output
    # By default Typer finds the shell by walking up the process tree (a test run whose
    # parent is not a shell finds none and exits 1); this Typer switch makes the option
    # take the shell's name instead, so the script is checked the same way everywhere.
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    res = CliRunner().invoke(create_app(), ["--show-completion", "bash"])
    assert res.exit_code == 0 and "_RAGSILO_COMPLETE" in res.output


def test_create_app_builds_every_command_each_time() -> None:
    a, b = create_app(), create_app()
    assert a is not b
    names = set(typer.main.get_command(a).commands)  # type: ignore[attr-defined]
    for name in ("init", "ingest", "search", "ask", "delete", "serve", "eval", "collections"):
        assert name in names


def test_no_cycle_between_command_modules() -> None:
    """Command modules share helpers through ragsilo.cli.common, never through main."""
    from pathlib import Path

    cli = Path(ragsilo.__file__).parent / "cli"
    for path in cli.glob("*.py"):
        if path.name == "main.py":
            continue
        assert "ragsilo.cli.main" not in path.read_text(encoding="utf-8"), path.name
