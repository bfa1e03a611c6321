"""Render a deployment: parameters in, a mapping of file name → file text out.

Every file is built from Python data and dumped (YAML, JSON); only the shell
scripts are written as text. Rendering is pure and deterministic, so the
committed examples under ``deploy/examples`` can be checked against it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragsilo.deploy import compose, k8s, milvus, monitoring
from ragsilo.deploy._yaml import dump, dump_all, dump_json, header
from ragsilo.deploy.params import DeployParams
from ragsilo.deploy.sizing import Sizing, estimate
from ragsilo.errors import InputError


@dataclass(frozen=True)
class Rendered:
    """The files of one deployment and the sizing that set their resources."""

    params: DeployParams
    sizing: Sizing
    files: dict[str, str]

    def write(self, out: Path) -> list[Path]:
        """Write every file under ``out`` (created if needed); scripts become executable."""
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise InputError(f"output path {str(out)!r} exists and is not a directory")
        written = []
        for name, text in self.files.items():
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            if name.endswith(".sh"):
                path.chmod(0o755)
            written.append(path)
        return written


def command_line(p: DeployParams) -> str:
    """The CLI call that renders ``p`` (the parameters that differ from the defaults)."""
    parts = ["ragsilo", "deploy", "render", "--target", p.target]
    if p.gpu:
        parts.append("--gpu")
    defaults = DeployParams(target="compose")
    flags = {
        "vectors": "--vectors",
        "dimension": "--dimension",
        "index_type": "--index-type",
        "query_nodes": "--replicas",
        "target_qps": "--qps",
        "load_replicas": "--load-replicas",
        "s3_bucket": "--s3-bucket",
        "s3_region": "--s3-region",
        "s3_role_arn": "--s3-role-arn",
        "kafka_username": "--kafka-user",
        "namespace": "--namespace",
        "image": "--image",
        "attu_host": "--attu-host",
        "milvus_version": "--milvus-version",
        "vpc_cidr": "--vpc-cidr",
    }
    for field, flag in flags.items():
        value = getattr(p, field)
        if value != getattr(defaults, field):
            parts += [flag, str(value)]
    if p.message_queue == "kafka":
        parts += ["--mq", "kafka", "--kafka-brokers", ",".join(p.kafka_brokers)]
    return shlex.join(parts)


def render(p: DeployParams) -> Rendered:
    """All files for ``p.target``."""
    s = estimate(p)
    cmd = command_line(p)
    top = header(cmd)
    files: dict[str, str] = {}

    def yaml_file(name: str, data: Any) -> None:
        files[name] = top + dump(data)

    def manifests(name: str, docs: list[Any]) -> None:
        files[name] = top + dump_all(docs)

    if p.target == "compose":
        yaml_file("docker-compose.yml", compose.compose_file(p, s))
        for name, data in compose.monitoring_files().items():
            yaml_file(name, data)
        files[f"monitoring/grafana/{monitoring.DASHBOARD_FILE}"] = dump_json(
            monitoring.grafana_dashboard()
        )
    else:
        manifests("00-namespace.yaml", [k8s.namespace(p)])
        manifests("ragsilo-service.yaml", k8s.ragsilo_manifests(p))
        node_port = k8s.KIND_NODE_PORTS["grafana"] if p.target == "kind" else None
        for name, docs in monitoring.kubernetes_manifests(
            p.namespace, grafana_node_port=node_port
        ).items():
            manifests(name, docs)
        if p.target in ("kind", "operator"):
            manifests("milvus.yaml", milvus.operator_manifests(p, s))
            manifests("attu.yaml", k8s.attu_manifests(p))
        if p.target == "kind":
            yaml_file("kind-cluster.yaml", milvus.kind_cluster(p))
            yaml_file("helm/values-kind.yaml", milvus.helm_values(p, s, profile="kind"))
            files["setup.sh"] = _kind_script(p, cmd)
        elif p.target == "operator":
            files["install.sh"] = _operator_script(p, cmd)
        else:
            yaml_file("helm/values-eks.yaml", milvus.helm_values(p, s, profile="eks"))
            files["install.sh"] = _eks_script(p, cmd)
    files["SIZING.md"] = _sizing_doc(p, s, cmd)
    return Rendered(params=p, sizing=s, files=dict(sorted(files.items())))


# ---------------------------------------------------------------- documents and scripts


def _sizing_doc(p: DeployParams, s: Sizing, cmd: str) -> str:
    applied = {
        "compose": f"the `milvus` service's memory limit ({s.memory_gib}g) and CPUs "
        f"({s.cpu_quantity})",
        "kind": (
            f"{s.query_nodes} query node(s) with memory limit {s.memory_quantity} "
            "(requests are kept small so the cluster fits on a laptop)"
        ),
        "operator": (
            f"{s.query_nodes} query node(s), each requesting {s.cpu_quantity} CPU and "
            f"{s.memory_quantity} memory (`spec.components.queryNode` in milvus.yaml)"
        ),
        "eks": (
            f"{s.query_nodes} query node(s), each requesting {s.cpu_quantity} CPU and "
            f"{s.memory_quantity} memory (`queryNode` in helm/values-eks.yaml)"
        ),
    }[p.target]
    lines = [
        "# Sizing",
        "",
        f"Rendered by `{cmd}`.",
        "",
        "```text",
        s.text(),
        "```",
        "",
        f"Applied as: {applied}.",
    ]
    if s.gpu_memory_bytes is not None:
        lines.append(
            "Each query node also gets one GPU (`nvidia.com/gpu: 1`); pick a GPU with more "
            "memory than the GPU memory line above."
        )
    if s.disk_quantity is not None:
        lines.append(
            f"DISKANN reads its index from local disk: give each query node at least "
            f"{s.disk_quantity} of fast (NVMe) storage."
        )
    lines += [
        "",
        "This is an estimate from the formula in `ragsilo.deploy.sizing`, not a measurement: "
        "load your data, watch the query nodes' memory in Grafana, and adjust.",
        "",
    ]
    return "\n".join(lines)


def _script(cmd: str, purpose: list[str], body: list[str]) -> str:
    head = [
        "#!/usr/bin/env bash",
        f"# Generated by `{cmd}`.",
        *[f"# {line}" for line in purpose],
        "set -euo pipefail",
        'HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
        "",
    ]
    return "\n".join(head + body) + "\n"


def _need_tools(*tools: str) -> list[str]:
    return [
        f"for tool in {' '.join(tools)}; do",
        '  command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool" >&2; exit 2; }',
        "done",
    ]


def _monitoring_steps() -> list[str]:
    ns = monitoring.MONITORING_NAMESPACE
    return [
        "",
        "# Monitoring: Prometheus, Loki, Promtail, Grafana (admin password kept in a Secret).",
        'kubectl apply -f "$HERE/monitoring/00-namespace.yaml"',
        f"if ! kubectl -n {ns} get secret grafana-admin >/dev/null 2>&1; then",
        f"  kubectl -n {ns} create secret generic grafana-admin \\",
        "    --from-literal=admin-password=\"$(head -c 24 /dev/urandom | base64 | tr -d '/+=')\"",
        "fi",
        'kubectl apply -f "$HERE/monitoring/"',
    ]


_ROOT_PASSWORD_PY = (
    'import os; from pymilvus import MilvusClient; u, n = os.environ["URI"], os.environ["NEW"]\n'
    "try:\n"
    '    MilvusClient(uri=u, token="root:" + n).list_collections(); print("root password '
    'already set")\n'
    "except Exception:\n"
    '    MilvusClient(uri=u, token="root:Milvus").update_password("root", "Milvus", n); '
    'print("root password changed")'
)


_NEED_ROOT_PASSWORD = (
    ': "${MILVUS_ROOT_PASSWORD:?set MILVUS_ROOT_PASSWORD to the new password of Milvus user root}"'
)


def _auth_steps(p: DeployParams) -> list[str]:
    login = f"{p.name}-milvus-login"
    return [
        "",
        "# Milvus runs with authentication on: replace root's default password (once), then give",
        "# ragsilo its login in a Secret. The one-off pod uses the ragsilo image, which "
        "has pymilvus.",
        f"kubectl -n {p.namespace} run milvus-root-password --rm -i --restart=Never --quiet \\",
        f"  --image={shlex.quote(p.image)} --image-pull-policy=IfNotPresent \\",
        f'  --env=URI={k8s.milvus_uri(p)} --env=NEW="$MILVUS_ROOT_PASSWORD" \\',
        f"  --command -- python -c {shlex.quote(_ROOT_PASSWORD_PY)}",
        f"kubectl -n {p.namespace} create secret generic {login} \\",
        '  --from-literal=token="root:$MILVUS_ROOT_PASSWORD" --dry-run=client -o yaml | '
        "kubectl apply -f -",
    ]


def _ragsilo_steps(p: DeployParams) -> list[str]:
    return [
        "",
        "# The ragsilo service.",
        'kubectl apply -f "$HERE/ragsilo-service.yaml"',
        f"kubectl -n {p.namespace} rollout status deployment/{p.name} --timeout=10m",
    ]


def _kind_script(p: DeployParams, cmd: str) -> str:
    images = [p.image, p.milvus_image, k8s.ATTU_IMAGE]
    body = [
        'SRC="${RAGSILO_SRC:-$PWD}"',
        'if [[ ! -f "$SRC/deploy/docker/Dockerfile" ]]; then',
        '  echo "run this from the ragsilo source checkout, or set RAGSILO_SRC to it" >&2',
        "  exit 2",
        "fi",
        *_need_tools("docker", "kind", "kubectl", "helm"),
        "",
        "# The cluster: one control plane and three workers.",
        f"kind get clusters | grep -qx {p.name} || kind create cluster --config "
        '"$HERE/kind-cluster.yaml"',
        f"kubectl config use-context kind-{p.name}",
        "",
        "# Images: build ragsilo, pull Milvus and Attu once, load all into the nodes.",
        f'docker build -f "$SRC/deploy/docker/Dockerfile" -t {shlex.quote(p.image)} "$SRC"',
        f"for image in {' '.join(shlex.quote(i) for i in images[1:])}; do",
        '  docker image inspect "$image" >/dev/null 2>&1 || docker pull "$image"',
        "done",
        f"kind load docker-image --name {p.name} {' '.join(shlex.quote(i) for i in images)}",
        "",
        f"# milvus-operator {milvus.OPERATOR_VERSION}.",
        f"helm upgrade --install milvus-operator {milvus.OPERATOR_CHART_URL} \\",
        "  --namespace milvus-operator --create-namespace --wait --timeout 10m",
        "",
        "# Milvus in cluster mode, then Attu.",
        'kubectl apply -f "$HERE/00-namespace.yaml"',
        'kubectl apply -f "$HERE/milvus.yaml"',
        f"kubectl -n {p.namespace} wait --for=condition=MilvusReady "
        f"milvus/{p.milvus_release} --timeout=20m",
        'kubectl apply -f "$HERE/attu.yaml"',
        *_ragsilo_steps(p),
        *_monitoring_steps(),
        "",
        'echo "Attu:    http://127.0.0.1:3000"',
        'echo "ragsilo: http://127.0.0.1:8000/health"',
        'echo "Grafana: http://127.0.0.1:3001  (admin; password: kubectl -n '
        f"{monitoring.MONITORING_NAMESPACE} "
        'get secret grafana-admin -o jsonpath={.data.admin-password} | base64 -d)"',
        f'echo "Milvus:  kubectl -n {p.namespace} port-forward '
        f'svc/{k8s.milvus_service_name(p)} 19530:19530"',
        "echo '  then: ragsilo --uri http://127.0.0.1:19530 doctor'",
    ]
    return _script(
        cmd,
        [
            "Creates a kind cluster with Milvus (milvus-operator), Attu, ragsilo and monitoring.",
            "Needs docker, kind, kubectl and helm; run it from the ragsilo source checkout.",
        ],
        body,
    )


def _secret_steps(p: DeployParams) -> list[str]:
    steps: list[str] = []
    if p.message_queue == "kafka":
        steps += [
            "",
            "# Kafka SASL/SCRAM login, read by milvus-operator from a Secret (keys "
            "username, password).",
            ': "${KAFKA_SASL_PASSWORD:?set KAFKA_SASL_PASSWORD to the Kafka password}"',
            f"kubectl -n {p.namespace} create secret generic {milvus.kafka_secret_name(p)} \\",
            f"  --from-literal=username={shlex.quote(p.kafka_username)} "
            '--from-literal=password="$KAFKA_SASL_PASSWORD" \\',
            "  --dry-run=client -o yaml | kubectl apply -f -",
        ]
    if p.uses_s3 and not p.s3_role_arn:
        steps += [
            "",
            "# S3 keys, read by milvus-operator from a Secret (keys accesskey, secretkey).",
            ': "${AWS_ACCESS_KEY_ID:?set AWS_ACCESS_KEY_ID}" '
            '"${AWS_SECRET_ACCESS_KEY:?set AWS_SECRET_ACCESS_KEY}"',
            f"kubectl -n {p.namespace} create secret generic {milvus.s3_secret_name(p)} \\",
            '  --from-literal=accesskey="$AWS_ACCESS_KEY_ID" '
            '--from-literal=secretkey="$AWS_SECRET_ACCESS_KEY" \\',
            "  --dry-run=client -o yaml | kubectl apply -f -",
        ]
    return steps


def _operator_script(p: DeployParams, cmd: str) -> str:
    body = [
        *_need_tools("kubectl", "helm"),
        _NEED_ROOT_PASSWORD,
        "",
        f"# milvus-operator {milvus.OPERATOR_VERSION}.",
        f"helm upgrade --install milvus-operator {milvus.OPERATOR_CHART_URL} \\",
        "  --namespace milvus-operator --create-namespace --wait --timeout 10m",
        "",
        'kubectl apply -f "$HERE/00-namespace.yaml"',
        *_secret_steps(p),
        "",
        "# Milvus in cluster mode, then Attu.",
        'kubectl apply -f "$HERE/milvus.yaml"',
        f"kubectl -n {p.namespace} wait --for=condition=MilvusReady "
        f"milvus/{p.milvus_release} --timeout=30m",
        'kubectl apply -f "$HERE/attu.yaml"',
        *_auth_steps(p),
        *_ragsilo_steps(p),
        *_monitoring_steps(),
        "",
        f'echo "Smoke test: kubectl -n {p.namespace} port-forward '
        f'svc/{k8s.milvus_service_name(p)} 19530:19530"',
        "echo '  then: RAGSILO_MILVUS__TOKEN=root:<password> ragsilo --uri "
        "http://127.0.0.1:19530 doctor'",
    ]
    return _script(
        cmd,
        [
            "Installs milvus-operator, Milvus (cluster mode), Attu, ragsilo and monitoring",
            "into the cluster kubectl points at.",
        ],
        body,
    )


def _eks_script(p: DeployParams, cmd: str) -> str:
    helm = [
        f"helm upgrade --install {p.milvus_release} zilliztech/milvus --version "
        f"{milvus.HELM_CHART_VERSION} \\",
        f'  --namespace {p.namespace} -f "$HERE/helm/values-eks.yaml" \\',
    ]
    secrets: list[str] = []
    if p.message_queue == "kafka":
        secrets = [': "${KAFKA_SASL_PASSWORD:?set KAFKA_SASL_PASSWORD to the MSK SCRAM password}"']
        helm.append('  --set-string externalKafka.sasl.password="$KAFKA_SASL_PASSWORD" \\')
    helm.append("  --wait --timeout 30m")
    body = [
        *_need_tools("kubectl", "helm"),
        _NEED_ROOT_PASSWORD,
        *secrets,
        "",
        "# Milvus from the official chart: S3 through IRSA, internal NLB, Attu behind an "
        "internal ALB.",
        f"helm repo add zilliztech {milvus.HELM_REPO_URL} --force-update",
        "helm repo update zilliztech",
        'kubectl apply -f "$HERE/00-namespace.yaml"',
        *helm,
        *_auth_steps(p),
        *_ragsilo_steps(p),
        *_monitoring_steps(),
        "",
        f'echo "Milvus NLB: kubectl -n {p.namespace} get svc {k8s.milvus_service_name(p)} '
        "-o jsonpath='{.status.loadBalancer.ingress[0].hostname}'\"",
        "echo 'Smoke test from inside the VPC: RAGSILO_MILVUS__TOKEN=root:<password> "
        "ragsilo --uri http://<that hostname>:19530 doctor'",
    ]
    return _script(
        cmd,
        [
            "Installs Milvus (official Helm chart), ragsilo and monitoring into the EKS cluster",
            "kubectl points at. Needs the AWS Load Balancer Controller and the S3 IAM role.",
        ],
        body,
    )
