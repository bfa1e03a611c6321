"""``ragsilo deploy``: render deployment files from a few parameters and check them offline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ragsilo.errors import ConfigError, InputError, RagsiloError

if TYPE_CHECKING:
    from ragsilo.settings import Settings

deploy_app = typer.Typer(
    help=(
        "Deploy Milvus and the ragsilo service: render docker compose, kind, milvus-operator or "
        "EKS (Helm) files sized for your data, then validate them offline."
    ),
    no_args_is_help=True,
)

#: Dimension of the default embedding model (all-MiniLM-L6-v2), used when the settings give none.
DEFAULT_DIMENSION = 384


def _fail(e: RagsiloError) -> typer.Exit:
    typer.echo(f"error: {e}", err=True)
    return typer.Exit(e.exit_code)


def _dimension(settings: Settings, given: int | None) -> int:
    if given is not None:
        return given
    if settings.embedding.dimension is not None:
        return settings.embedding.dimension
    if settings.embedding.provider == "onnx" and settings.embedding.model == "all-MiniLM-L6-v2":
        return DEFAULT_DIMENSION
    raise ConfigError(
        f"the dimension of embedding model {settings.embedding.model!r} is not in the settings",
        hint="pass --dimension or set embedding.dimension",
    )


def _next_steps(target: str, out: Path) -> list[str]:
    validate = f"check:  ragsilo deploy validate {out}"
    return {
        "compose": [
            validate,
            f"start:  docker compose -f {out}/docker-compose.yml up -d"
            "  (add --profile monitoring for Grafana, Loki, Prometheus)",
        ],
        "kind": [validate, f"start:  bash {out}/setup.sh   (from the ragsilo source checkout)"],
        "operator": [validate, f"start:  bash {out}/install.sh"],
        "eks": [validate, f"start:  bash {out}/install.sh"],
    }[target]


@deploy_app.command("render")
def render_command(
    target: Annotated[str, typer.Option("--target", "-t", help="compose, kind, operator or eks")],
    gpu: Annotated[
        bool, typer.Option("--gpu", help="GPU Milvus image and GPU query nodes")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Directory to write [default: ./deploy-<target>]"),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="ragsilo settings YAML (collection, index, embedding dimension)"
        ),
    ] = None,
    vectors: Annotated[
        int, typer.Option("--vectors", help="How many vectors (chunks) to plan for")
    ] = 1_000_000,
    dimension: Annotated[
        int | None,
        typer.Option("--dimension", help="Vector dimension [default: from the settings]"),
    ] = None,
    index_type: Annotated[
        str | None,
        typer.Option("--index-type", help="HNSW, IVF_SQ8, DISKANN, GPU_CAGRA… [default: settings]"),
    ] = None,
    replicas: Annotated[
        int | None, typer.Option("--replicas", help="Query nodes [default: from the sizing]")
    ] = None,
    load_replicas: Annotated[
        int, typer.Option("--load-replicas", help="In-memory replicas of the collection")
    ] = 1,
    qps: Annotated[
        float | None, typer.Option("--qps", help="Target searches per second (sizes CPU)")
    ] = None,
    mq: Annotated[
        str | None,
        typer.Option("--mq", help="Message queue: woodpecker or kafka [default: woodpecker]"),
    ] = None,
    kafka_brokers: Annotated[
        str | None, typer.Option("--kafka-brokers", help="Kafka/MSK brokers, host:port,host:port")
    ] = None,
    kafka_user: Annotated[
        str | None, typer.Option("--kafka-user", help="Kafka SASL/SCRAM user")
    ] = None,
    s3_bucket: Annotated[
        str | None, typer.Option("--s3-bucket", help="S3 bucket for Milvus data")
    ] = None,
    s3_region: Annotated[
        str | None, typer.Option("--s3-region", help="AWS region of the bucket")
    ] = None,
    s3_role_arn: Annotated[
        str | None, typer.Option("--s3-role-arn", help="IAM role Milvus assumes for S3 (IRSA)")
    ] = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", help="Kubernetes namespace")
    ] = None,
    image: Annotated[str | None, typer.Option("--image", help="ragsilo service image")] = None,
    attu_host: Annotated[
        str | None, typer.Option("--attu-host", help="Host name for Attu's ALB")
    ] = None,
    vpc_cidr: Annotated[
        str | None, typer.Option("--vpc-cidr", help="Network allowed to reach the internal NLB/ALB")
    ] = None,
    milvus_version: Annotated[
        str | None, typer.Option("--milvus-version", help="Milvus 2.6.x release")
    ] = None,
) -> None:
    """Write ready-to-apply files for one target, with a sizing estimate that sets the resources."""
    from ragsilo.deploy import make_params, render
    from ragsilo.settings import load_settings

    try:
        settings = load_settings(config)
        brokers = (
            tuple(b.strip() for b in kafka_brokers.split(",") if b.strip()) if kafka_brokers else ()
        )
        params = make_params(
            target=target,
            gpu=gpu,
            vectors=vectors,
            dimension=_dimension(settings, dimension),
            index_type=index_type or settings.index.type,
            index_params=dict(settings.index.params) if index_type is None else {},
            collection=settings.collection.name,
            query_nodes=replicas,
            load_replicas=load_replicas,
            target_qps=qps,
            message_queue=mq or ("kafka" if brokers else "woodpecker"),
            kafka_brokers=brokers,
            kafka_username=kafka_user,
            s3_bucket=s3_bucket,
            s3_region=s3_region,
            s3_role_arn=s3_role_arn,
            namespace=namespace,
            image=image,
            attu_host=attu_host,
            vpc_cidr=vpc_cidr,
            milvus_version=milvus_version,
        )
        rendered = render(params)
        directory = out if out is not None else Path(f"deploy-{params.label}")
        written = rendered.write(directory)
    except RagsiloError as e:
        raise _fail(e) from None
    except OSError as e:
        raise _fail(InputError(f"cannot write {e.filename or out}: {e.strerror}")) from None
    typer.echo(f"wrote {len(written)} files to {directory}/")
    for path in written:
        typer.echo(f"  {path.relative_to(directory).as_posix()}")
    typer.echo("")
    typer.echo(rendered.sizing.text())
    typer.echo("")
    for line in _next_steps(params.target, directory):
        typer.echo(line)


@deploy_app.command("validate")
def validate_command(
    directory: Annotated[
        Path, typer.Argument(help="Directory of rendered (or hand-written) files")
    ],
    allow_missing_tools: Annotated[
        bool,
        typer.Option(
            "--allow-missing-tools", help="Pass even when a checking tool is not installed"
        ),
    ] = False,
    kubernetes_version: Annotated[
        str, typer.Option("--kubernetes-version", help="Kubernetes API version to check against")
    ] = "1.32.0",
) -> None:
    """Check every file offline: compose-spec, docker-compose, kubernetes-validate, our rules."""
    from ragsilo.deploy import validate_dir

    if not directory.is_dir():
        raise _fail(InputError(f"{str(directory)!r} is not a directory"))
    report = validate_dir(
        directory, require_tools=not allow_missing_tools, kubernetes_version=kubernetes_version
    )
    for line in report.lines():
        typer.echo(line)
    counts = {s: sum(r.status == s for r in report.results) for s in ("pass", "fail", "not run")}
    typer.echo(
        f"\nchecks: {counts['pass']} pass, {counts['fail']} fail, {counts['not run']} not run; "
        f"{len(report.unchecked)} file(s) without a check"
    )
    if not report.ok:
        raise typer.Exit(1)
