"""The deployment parameters: one validated, frozen object per render.

A handful of numbers and names decide every file ``ragsilo deploy render``
writes: where it runs (the target), how much it holds (vector count,
dimension, index type), how it is made highly available (replicas), where
its data lives (S3 or in-cluster MinIO) and how its write-ahead log travels
(Woodpecker, the Milvus 2.6 default, or an external Kafka such as MSK).

Every rule that can be checked before rendering is checked here, so a bad
combination fails with one sentence instead of a broken manifest.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ragsilo.errors import ConfigError
from ragsilo.settings import GPU_INDEX_TYPES, check_index_type

Target = Literal["compose", "kind", "operator", "eks"]
MessageQueue = Literal["woodpecker", "kafka"]

TARGETS: tuple[str, ...] = ("compose", "kind", "operator", "eks")
KUBERNETES_TARGETS: tuple[str, ...] = ("kind", "operator", "eks")

#: The Milvus line these files are written for (Woodpecker default, streaming node, mixCoord).
MILVUS_VERSION = "2.6.15"

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
_BROKER = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:\d{1,5}$")
_CIDR = re.compile(r"^(\d{1,3}\.){3}\d{1,3}/\d{1,2}$")
_VERSION = re.compile(r"^2\.6\.\d+$")
_IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$")
_SQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


class DeployParams(BaseModel):
    """What a deployment is made from. Build it with :func:`make_params`.

    ``query_nodes`` left as ``None`` is decided by the sizing (enough query
    nodes that none needs more memory than the target's per-node budget).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: Target
    gpu: bool = False
    name: str = "ragsilo"
    namespace: str = "ragsilo"
    milvus_release: str = "milvus"
    milvus_version: str = MILVUS_VERSION
    image: str = "ragsilo:local"
    collection: str = "ragsilo"

    vectors: int = Field(default=1_000_000, ge=1, le=100_000_000_000)
    dimension: int = Field(default=384, ge=2, le=32768)
    index_type: str = "auto"
    index_params: dict[str, Any] = Field(default_factory=dict)
    scalar_bytes_per_row: int = Field(default=1024, ge=0, le=1_048_576)
    load_replicas: int = Field(default=1, ge=1, le=10)
    query_nodes: int | None = Field(default=None, ge=1, le=256)
    target_qps: float | None = Field(default=None, gt=0, le=10_000_000)

    message_queue: MessageQueue = "woodpecker"
    kafka_brokers: tuple[str, ...] = ()
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_username: str = "milvus"

    s3_bucket: str | None = None
    s3_region: str | None = None
    s3_role_arn: str | None = None
    vpc_cidr: str = "10.0.0.0/16"
    attu_host: str = "attu.milvus.internal"

    service_replicas: int = Field(default=2, ge=1, le=100)
    service_max_replicas: int = Field(default=6, ge=1, le=500)

    @field_validator("name", "namespace", "milvus_release")
    @classmethod
    def _dns_label(cls, v: str) -> str:
        if not _DNS_LABEL.match(v) or len(v) > 40:
            raise ValueError(
                f"{v!r} is not a valid Kubernetes name: use at most 40 lowercase letters, "
                "digits and '-', starting with a letter"
            )
        return v

    @field_validator("collection")
    @classmethod
    def _collection(cls, v: str) -> str:
        if not _SQL_NAME.match(v):
            raise ValueError(
                f"collection name {v!r} must start with a letter or '_' (then letters, digits, '_')"
            )
        return v

    @field_validator("milvus_version")
    @classmethod
    def _version(cls, v: str) -> str:
        v = v.removeprefix("v")
        if not _VERSION.match(v):
            raise ValueError(
                f"Milvus version {v!r} is outside the 2.6 line these files are written for (2.6.x)"
            )
        return v

    @field_validator("image")
    @classmethod
    def _image(cls, v: str) -> str:
        if not _IMAGE.match(v) or ":" not in v.rsplit("/", 1)[-1] and "@" not in v:
            raise ValueError(
                f"image {v!r} must be a reference with a tag, like registry/ragsilo:1.0"
            )
        return v

    @field_validator("index_type")
    @classmethod
    def _index_type(cls, v: str) -> str:
        return check_index_type(v, field="index type")

    @field_validator("kafka_brokers")
    @classmethod
    def _brokers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [b for b in v if not _BROKER.match(b) or not 0 < int(b.rsplit(":", 1)[1]) < 65536]
        if bad:
            raise ValueError(f"Kafka broker(s) {', '.join(bad)} must be written host:port")
        return v

    @field_validator("s3_bucket")
    @classmethod
    def _bucket(cls, v: str | None) -> str | None:
        if v is not None and (not _BUCKET.match(v) or ".." in v):
            raise ValueError(
                f"S3 bucket name {v!r} is invalid (3-63 lowercase letters, digits, '.', '-')"
            )
        return v

    @field_validator("s3_region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        if v is not None and not _REGION.match(v):
            raise ValueError(f"AWS region {v!r} is invalid (like us-east-1)")
        return v

    @field_validator("s3_role_arn")
    @classmethod
    def _role(cls, v: str | None) -> str | None:
        if v is not None and not _ROLE_ARN.match(v):
            raise ValueError(
                f"IAM role {v!r} must be an ARN like arn:aws:iam::123456789012:role/milvus-s3"
            )
        return v

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        if not _CIDR.match(v):
            raise ValueError(f"VPC CIDR {v!r} must look like 10.0.0.0/16")
        return v

    @field_validator("attu_host")
    @classmethod
    def _host(cls, v: str) -> str:
        if not _DNS_NAME.match(v):
            raise ValueError(f"Attu host {v!r} is not a DNS name")
        return v

    @field_validator("kafka_username")
    @classmethod
    def _user(cls, v: str) -> str:
        if not v or any(c.isspace() for c in v):
            raise ValueError("Kafka user name must be non-empty without spaces")
        return v

    @model_validator(mode="after")
    def _check_combination(self) -> DeployParams:
        t = self.target
        if self.gpu and t == "kind":
            raise ValueError(
                "kind nodes cannot hand GPUs to pods; use --target operator or eks with --gpu"
            )
        if self.index_type in GPU_INDEX_TYPES and not self.gpu:
            raise ValueError(f"index type {self.index_type} runs on GPUs only; add --gpu")
        if self.message_queue == "kafka":
            if t in ("compose", "kind"):
                raise ValueError(
                    f"--target {t} keeps the write-ahead log in Woodpecker; "
                    "Kafka applies to the operator and eks targets"
                )
            if not self.kafka_brokers:
                raise ValueError(
                    "the Kafka message queue needs --kafka-brokers host:port[,host:port]"
                )
        elif self.kafka_brokers:
            raise ValueError(
                "--kafka-brokers is set but the message queue is woodpecker; use --mq kafka"
            )
        s3 = (self.s3_bucket, self.s3_region, self.s3_role_arn)
        if t in ("compose", "kind") and any(s3):
            raise ValueError(
                f"--target {t} stores data in its own MinIO; --s3-* applies to operator and eks"
            )
        if t == "eks":
            missing = [
                flag
                for flag, value in zip(
                    ("--s3-bucket", "--s3-region", "--s3-role-arn"), s3, strict=True
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    "the eks target keeps data in S3 through an IAM role; missing "
                    + ", ".join(missing)
                )
        if t == "operator" and (self.s3_bucket is None) != (self.s3_region is None):
            raise ValueError("give both --s3-bucket and --s3-region, or neither (in-cluster MinIO)")
        if t == "operator" and self.s3_role_arn and not self.s3_bucket:
            raise ValueError("--s3-role-arn needs --s3-bucket and --s3-region")
        if self.service_max_replicas < self.service_replicas:
            raise ValueError(
                f"service max replicas ({self.service_max_replicas}) is below its minimum "
                f"({self.service_replicas})"
            )
        return self

    @property
    def resolved_index_type(self) -> str:
        """The index the sizing assumes: ``auto`` means HNSW on CPU, GPU_CAGRA on GPU."""
        if self.index_type == "auto":
            return "GPU_CAGRA" if self.gpu else "HNSW"
        return self.index_type

    @property
    def uses_s3(self) -> bool:
        return self.s3_bucket is not None

    @property
    def milvus_image(self) -> str:
        suffix = "-gpu" if self.gpu else ""
        return f"milvusdb/milvus:v{self.milvus_version}{suffix}"

    @property
    def label(self) -> str:
        """The name of this parameter set's flavour: ``eks``, ``eks-gpu``, ``operator-kafka``…"""
        parts: list[str] = [self.target]
        if self.gpu:
            parts.append("gpu")
        if self.message_queue == "kafka":
            parts.append("kafka")
        return "-".join(parts)


def make_params(**values: Any) -> DeployParams:
    """Build :class:`DeployParams`, turning every validation problem into a :class:`ConfigError`.

    ``None`` values are dropped so that unset CLI options keep their defaults.
    """
    clean = {k: v for k, v in values.items() if v is not None}
    try:
        return DeployParams(**clean)
    except ValidationError as e:
        raise ConfigError(describe_validation_error(e)) from None


def describe_validation_error(e: ValidationError) -> str:
    """One line naming every invalid deployment parameter."""
    lines = []
    for err in e.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err["loc"] if not isinstance(p, int))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown deployment parameter"
        lines.append(f"{where}: {msg}" if where else msg)
    return "invalid deployment parameters: " + "; ".join(lines)
