"""Settings: one validated object built from a YAML file, ``RAGSILO_*`` env vars and CLI options.

Precedence, highest first: explicit overrides (CLI flags, keyword arguments),
environment variables (``RAGSILO_MILVUS__URI``, ``RAGSILO_INGEST__WORKERS`` —
sections and fields joined by a double underscore), the YAML file, defaults.

Settings are loaded once at the edge (CLI, service, or the caller of
:func:`load_settings`) and passed down; nothing deeper reads the environment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from ragsilo.errors import ConfigError

CPU_INDEX_TYPES = ("AUTOINDEX", "FLAT", "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "HNSW", "DISKANN", "SCANN")
GPU_INDEX_TYPES = ("GPU_CAGRA", "GPU_IVF_FLAT", "GPU_IVF_PQ", "GPU_BRUTE_FORCE")
ConsistencyLevel = Literal["Strong", "Bounded", "Session", "Eventually"]

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class MilvusSettings(_Section):
    """Where Milvus is and how to log in.

    ``uri`` ending in ``.db`` is an embedded Milvus Lite file; ``http(s)://host:19530``
    is a Milvus server. ``token`` is ``user:password`` or an API key; ``user`` +
    ``password`` is the alternative. Secret files hold a token or password on
    their first line, for container secrets.
    """

    uri: str = "./ragsilo.db"
    token: SecretStr | None = None
    token_file: Path | None = None
    user: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    db_name: str = ""
    timeout: float = Field(default=30.0, gt=0, le=3600)

    @field_validator("uri")
    @classmethod
    def _check_uri(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError(
                "milvus.uri is empty; use a file path ending in .db or http://host:19530"
            )
        if "://" in v and not v.startswith(("http://", "https://", "tcp://", "unix://", "grpc://")):
            raise ValueError(
                f"milvus.uri scheme of {v.split('://')[0]!r} is not supported; "
                "use http://, https:// or a path ending in .db"
            )
        if "://" not in v and not v.endswith(".db"):
            raise ValueError(
                f"milvus.uri {v!r} is neither a server URL nor a Milvus Lite file; "
                "a Lite file name must end in .db"
            )
        return v

    @model_validator(mode="after")
    def _check_login(self) -> MilvusSettings:
        if (self.token or self.token_file) and (self.user or self.password or self.password_file):
            raise ValueError("give either milvus.token or milvus.user + milvus.password, not both")
        if (self.password or self.password_file) and not self.user:
            raise ValueError("milvus.password is set but milvus.user is not")
        return self

    @property
    def is_lite(self) -> bool:
        return "://" not in self.uri

    def resolved_token(self) -> str:
        """The login as one token string ('' when none); reads secret files."""
        if self.token is not None:
            return self.token.get_secret_value()
        if self.token_file is not None:
            return _read_secret(self.token_file, "milvus.token_file")
        if self.user:
            if self.password is not None:
                password = self.password.get_secret_value()
            elif self.password_file is not None:
                password = _read_secret(self.password_file, "milvus.password_file")
            else:
                password = ""
            return f"{self.user}:{password}"
        return ""

    @property
    def login_user(self) -> str | None:
        """The user name to mention in messages (never the password)."""
        if self.user:
            return self.user
        if self.token is not None:
            head = self.token.get_secret_value().split(":", 1)
            return head[0] if len(head) == 2 else "(api key)"
        return None


def _read_secret(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8").splitlines()[0].strip()
    except (OSError, IndexError) as e:
        raise ConfigError(f"{what} {str(path)!r} cannot be read or is empty") from e


class CollectionSettings(_Section):
    """The collection the silo lives in."""

    name: str = "ragsilo"
    consistency_level: ConsistencyLevel = "Strong"
    shards: int = Field(default=1, ge=1, le=16)
    description: str = "ragsilo chunks"

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        if not _NAME_RE.match(v):
            raise ValueError(
                f"collection.name {v!r} is invalid: start with a letter or underscore, "
                "then letters, digits or underscores (at most 255)"
            )
        return v


class IndexSettings(_Section):
    """The vector index. ``type: auto`` lets ragsilo choose and say why."""

    type: str = "auto"
    metric: Literal["COSINE", "IP", "L2"] = "COSINE"
    params: dict[str, Any] = Field(default_factory=dict)
    search_params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _check_type(cls, v: str) -> str:
        u = v.strip().upper()
        if u == "AUTO":
            return "auto"
        known = CPU_INDEX_TYPES + GPU_INDEX_TYPES
        if u not in known:
            raise ValueError(
                f"index.type {v!r} is unknown; choose auto or one of {', '.join(known)}"
            )
        return u


class EmbeddingSettings(_Section):
    """The text embedding model.

    ``provider: onnx`` with ``model: all-MiniLM-L6-v2`` is the offline default.
    ``sentence-transformers`` takes a local directory or a model name;
    ``openai`` calls an OpenAI-compatible ``/v1/embeddings`` endpoint.
    """

    provider: Literal["onnx", "sentence-transformers", "openai"] = "onnx"
    model: str = "all-MiniLM-L6-v2"
    model_path: Path | None = None
    tokenizer_path: Path | None = None
    dimension: int | None = Field(default=None, ge=1, le=32768)
    batch_size: int = Field(default=32, ge=1, le=4096)
    max_tokens: int = Field(default=256, ge=8, le=8192)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int | None = Field(default=None, ge=1, le=256)
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _check_provider(self) -> EmbeddingSettings:
        if self.provider == "openai" and not self.base_url:
            raise ValueError("embedding.provider openai needs embedding.base_url (…/v1)")
        return self


class ChunkingSettings(_Section):
    """How documents are cut into chunks (sizes in model tokens)."""

    size: int = Field(default=200, ge=16, le=8192)
    overlap: int = Field(default=32, ge=0)

    @model_validator(mode="after")
    def _check_overlap(self) -> ChunkingSettings:
        if self.overlap >= self.size:
            raise ValueError(
                f"chunking.overlap ({self.overlap}) must be smaller than chunking.size ({self.size})"
            )
        return self


class IngestSettings(_Section):
    """Ingestion limits and concurrency."""

    workers: int = Field(default=2, ge=1, le=64)
    max_file_mb: float = Field(default=50.0, gt=0, le=4096)
    retries: int = Field(default=5, ge=0, le=50)
    backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    batch_mb: float = Field(default=16.0, gt=0, le=60)
    follow_symlinks: bool = False


class SearchSettings(_Section):
    """Search defaults."""

    top_k: int = Field(default=5, ge=1, le=1024)
    max_k: int = Field(default=1024, ge=1, le=16384)
    max_query_chars: int = Field(default=4000, ge=1)


class Settings(BaseSettings):
    """All of ragsilo's settings."""

    model_config = SettingsConfigDict(
        env_prefix="RAGSILO_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_assignment=True,
    )

    milvus: MilvusSettings = Field(default_factory=MilvusSettings)
    collection: CollectionSettings = Field(default_factory=CollectionSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)

    @model_validator(mode="after")
    def _check_cross(self) -> Settings:
        if self.embedding.provider == "onnx" and self.chunking.size > self.embedding.max_tokens - 2:
            raise ValueError(
                f"chunking.size ({self.chunking.size}) must leave room for the model's two special "
                f"tokens within embedding.max_tokens ({self.embedding.max_tokens})"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("yaml_file"):
            sources.append(YamlConfigSettingsSource(settings_cls))
        return tuple(sources)

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict with every secret replaced by '***'."""
        return self.model_dump(mode="json")  # SecretStr dumps as '**********'


def load_settings(
    config_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Build validated settings from a YAML file, the environment and overrides.

    ``overrides`` is a nested dict (``{"milvus": {"uri": ...}}``) that wins over
    everything else; ``None`` values in it are ignored. Raises
    :class:`~ragsilo.errors.ConfigError` with every problem listed.
    """
    cls: type[Settings] = Settings
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(
                f"config file {str(path)!r} not found", hint="create one with: ragsilo init"
            )
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            raise ConfigError(f"config file {str(path)!r} is not valid YAML: {e}") from e
        if data is not None and not isinstance(data, dict):
            raise ConfigError(f"config file {str(path)!r} must hold a mapping of sections")
        cls = type(
            "Settings",
            (Settings,),
            {"model_config": {**Settings.model_config, "yaml_file": str(path)}},
        )
    try:
        return cls(**_drop_none(overrides or {}))
    except ValidationError as e:
        raise ConfigError(_describe(e)) from None


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            inner = _drop_none(v)
            if inner:
                out[k] = inner
        elif v is not None:
            out[k] = v
    return out


def _describe(e: ValidationError) -> str:
    lines = []
    for err in e.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown setting (check the spelling; `ragsilo init` writes every known one)"
        lines.append(f"{where}: {msg}")
    return "invalid settings: " + "; ".join(lines)
