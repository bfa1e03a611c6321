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
from typing import Any, Literal, get_args

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
from ragsilo.settings_sections import LlmSettings, ServiceSettings

CPU_INDEX_TYPES = ("AUTOINDEX", "FLAT", "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "HNSW", "DISKANN", "SCANN")
GPU_INDEX_TYPES = ("GPU_CAGRA", "GPU_IVF_FLAT", "GPU_IVF_PQ", "GPU_BRUTE_FORCE")


def check_index_type(value: str, *, field: str) -> str:
    """``value`` as an index type: ``auto`` or a known type in upper case.

    Raises :class:`ValueError` naming ``field`` and the choices, for pydantic validators.
    """
    u = value.strip().upper()
    if u == "AUTO":
        return "auto"
    known = CPU_INDEX_TYPES + GPU_INDEX_TYPES
    if u not in known:
        raise ValueError(f"{field} {value!r} is unknown; choose auto or one of {', '.join(known)}")
    return u


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

    TLS: ``tls: true`` (or an ``https://`` URI) encrypts the connection;
    ``ca_file`` is the certificate (or CA) to trust, ``server_name`` the name
    to check it against when it differs from the URI's host, and
    ``client_cert_file`` + ``client_key_file`` (with ``ca_file``) log in with
    a client certificate (mutual TLS).
    """

    uri: str = "./ragsilo.db"
    token: SecretStr | None = None
    token_file: Path | None = None
    user: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    db_name: str = ""
    timeout: float = Field(default=30.0, gt=0, le=3600)
    tls: bool = False
    server_name: str | None = None
    ca_file: Path | None = None
    client_cert_file: Path | None = None
    client_key_file: Path | None = None

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
        tls_given = self.tls or any(
            v is not None
            for v in (self.server_name, self.ca_file, self.client_cert_file, self.client_key_file)
        )
        if tls_given and self.is_lite:
            raise ValueError(
                "milvus.tls and its files apply to a server URI, not a Milvus Lite file"
            )
        if (self.client_cert_file is None) != (self.client_key_file is None):
            raise ValueError("milvus.client_cert_file and milvus.client_key_file go together")
        if self.client_cert_file is not None and self.ca_file is None:
            raise ValueError("a client certificate (mutual TLS) needs milvus.ca_file as well")
        return self

    @property
    def uses_tls(self) -> bool:
        return self.tls or self.uri.startswith("https://") or self.ca_file is not None

    def tls_options(self) -> dict[str, Any]:
        """The TLS keyword arguments for ``MilvusClient`` (empty without TLS); checks that the
        files can be read."""
        if not self.uses_tls:
            return {}
        opts: dict[str, Any] = {"secure": True}
        if self.server_name:
            opts["server_name"] = self.server_name
        for what, path in (
            ("milvus.ca_file", self.ca_file),
            ("milvus.client_cert_file", self.client_cert_file),
            ("milvus.client_key_file", self.client_key_file),
        ):
            if path is not None and not path.expanduser().is_file():
                raise ConfigError(f"{what} {str(path)!r} does not exist or is not a file")
        if self.client_cert_file is not None and self.client_key_file is not None:
            opts["ca_pem_path"] = str(self.ca_file.expanduser()) if self.ca_file else ""
            opts["client_pem_path"] = str(self.client_cert_file.expanduser())
            opts["client_key_path"] = str(self.client_key_file.expanduser())
        elif self.ca_file is not None:
            opts["server_pem_path"] = str(self.ca_file.expanduser())
        return opts

    @property
    def is_lite(self) -> bool:
        return "://" not in self.uri

    @property
    def display_uri(self) -> str:
        """The URI to show or log: a password in it is masked."""
        from ragsilo.redact import mask_uri

        return mask_uri(self.uri)

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
    """The collection the silo lives in.

    ``tenants: true`` gives a new collection a ``tenant`` field that is its
    Milvus partition key (hashed into ``tenant_partitions`` partitions); every
    ingest, search, ask and delete then names its tenant, and sees only that
    tenant's chunks. It is fixed when the collection is created. ``replicas``
    is how many in-memory copies a Milvus cluster loads (one per query node
    group; a single server holds one).

    ``vector_codes`` gives a new collection an 8-bit copy of each vector
    (``vector_code``, dimension + 4 bytes in base64: 520 characters a row at
    dimension 384), which a reranking search fetches instead of the float
    vectors: fetching 50 vectors costs a search about 1 ms on Milvus Lite and 2
    ms on a Milvus server. Also fixed at creation; a collection without codes is
    reranked with its vectors.
    """

    name: str = "ragsilo"
    consistency_level: ConsistencyLevel = "Strong"
    shards: int = Field(default=1, ge=1, le=16)
    description: str = "ragsilo chunks"
    tenants: bool = False
    tenant_partitions: int = Field(default=16, ge=1, le=1024)
    replicas: int = Field(default=1, ge=1, le=64)
    vector_codes: bool = True

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
    """The vector index. ``type: auto`` lets ragsilo choose and say why.

    ``auto`` picks among the CPU types the server has: HNSW for a new
    collection, FLAT for a small one, and, when HNSW would not fit
    ``memory_budget_mb``, DISKANN, IVF_SQ8 or IVF_PQ. ``recall_target`` tunes the
    search parameters it picks (HNSW ef, IVF nprobe). ``gpu: true`` says the
    server is a Milvus GPU build, which the GPU types (GPU_CAGRA, GPU_IVF_FLAT,
    GPU_IVF_PQ, GPU_BRUTE_FORCE) need; Milvus does not report it itself.
    """

    type: str = "auto"
    metric: Literal["COSINE", "IP", "L2"] = "COSINE"
    params: dict[str, Any] = Field(default_factory=dict)
    search_params: dict[str, Any] = Field(default_factory=dict)
    memory_budget_mb: float | None = Field(default=None, gt=0)
    recall_target: float = Field(default=0.95, gt=0, le=1)
    gpu: bool = False

    @field_validator("type")
    @classmethod
    def _check_type(cls, v: str) -> str:
        return check_index_type(v, field="index.type")


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
    # ONNX on the CPU: padded tokens per model batch (unset: 256 per intra-op thread)
    batch_tokens: int | None = Field(default=None, ge=1, le=1_048_576)
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
                f"chunking.overlap ({self.overlap}) must be smaller than "
                f"chunking.size ({self.size})"
            )
        return self


class IngestSettings(_Section):
    """Ingestion limits and concurrency."""

    # parse workers (processes): by default one per core this process may use
    workers: int = Field(default_factory=lambda: _cores(), ge=1, le=64)
    max_file_mb: float = Field(default=50.0, gt=0, le=4096)
    retries: int = Field(default=5, ge=0, le=50)
    backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    batch_mb: float = Field(default=16.0, gt=0, le=60)
    follow_symlinks: bool = False
    journal: bool = True
    state_dir: Path | None = None
    queue_files: int = Field(default=64, ge=1, le=4096)
    # hard limits per file, enforced in the parse worker: the file fails alone (file_too_costly)
    file_timeout_s: float = Field(default=120.0, gt=0, le=86_400)
    file_memory_mb: float = Field(default=2048.0, gt=0, le=1_048_576)


def _cores() -> int:
    """The cores this process may use, from 1 to 64 (the bounds of ``ingest.workers``)."""
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(64, cores))


class ParsingSettings(_Section):
    """Per-file budgets the parsers enforce, so one crafted file costs bounded time and memory.

    A file over one of them fails alone with the error ``file_over_budget``,
    which names the limit and this setting; the rest of the ingest goes on.
    ``max_text_chars``: text extracted from one file. ``max_pdf_pages``: pages
    of one PDF. ``max_page_content_mb`` and ``max_pdf_content_mb``: decoded
    content streams (and form XObjects) of one PDF page, and of all its pages
    together, a stream shared by many pages counted once per page.
    ``max_unpacked_mb``: a Word file's ZIP members, inflated. ``max_columns``:
    columns of one CSV/TSV row. ``max_line_chars``: one line of a CSV, TSV or
    JSON Lines file. ``max_metadata_fields`` and ``max_metadata_bytes``: the
    fields a CSV row or JSON record carries into each of its chunks (the rest
    stay in the text; ``metadata_truncated`` counts what was left out).
    """

    max_text_chars: int = Field(default=50_000_000, ge=1)
    max_pdf_pages: int = Field(default=5000, ge=1)
    max_page_content_mb: float = Field(default=4.0, gt=0)
    max_pdf_content_mb: float = Field(default=256.0, gt=0)
    max_unpacked_mb: float = Field(default=64.0, gt=0)
    max_columns: int = Field(default=1000, ge=1)
    max_line_chars: int = Field(default=1_000_000, ge=1)
    max_metadata_fields: int = Field(default=64, ge=0)
    max_metadata_bytes: int = Field(default=8192, ge=0)


class QualitySettings(_Section):
    """Chunk quality scoring and the quarantine collection.

    Every chunk gets a score in [0, 1] and the reasons that lowered it. Chunks
    scoring under ``threshold`` go to ``<collection>_quarantine`` instead of
    the collection. ``near_duplicate_similarity`` is the cosine similarity
    above which a chunk counts as a near-duplicate of a stored chunk of
    another document (0 turns that check off).
    """

    enabled: bool = True
    threshold: float = Field(default=0.5, ge=0, le=1)
    min_chars: int = Field(default=12, ge=0, le=10_000)
    near_duplicate_similarity: float = Field(default=0.97, ge=0, le=1)
    exact_duplicates: bool = True
    boilerplate: list[str] = Field(default_factory=list)


class ImageSettings(_Section):
    """Images (png, jpg, webp, gif, tiff, bmp): OCR text, metadata, thumbnail, image vectors.

    ``ocr`` reads text with Tesseract in ``ocr_language`` (Tesseract codes,
    ``eng+deu``). ``pdf_images`` and ``docx_images`` also OCR the images
    embedded in PDF and Word files. ``max_pixels`` refuses larger images
    (decompression bombs). ``thumbnail_px`` > 0 stores a small JPEG thumbnail
    in the chunk metadata. ``model`` (a local CLIP directory or a name in the
    local Hugging Face cache) adds an image vector to each image chunk, which
    ``search --image`` and text-to-image search use.
    """

    ocr: bool = True
    ocr_language: str = "eng"
    pdf_images: bool = False
    docx_images: bool = False
    max_pixels: int = Field(default=50_000_000, ge=1)
    thumbnail_px: int = Field(default=96, ge=0, le=512)
    ocr_timeout: float = Field(default=60.0, gt=0)
    model: str | None = None

    @field_validator("ocr_language")
    @classmethod
    def _check_language(cls, v: str) -> str:
        if not re.match(r"^[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*$", v):
            raise ValueError(
                f"images.ocr_language {v!r} is not a Tesseract language code (eng, eng+deu)"
            )
        return v


class SearchSettings(_Section):
    """Search defaults."""

    top_k: int = Field(default=5, ge=1, le=1024)
    max_k: int = Field(default=1024, ge=1, le=16384)
    max_query_chars: int = Field(default=4000, ge=1)


ANALYZER_NAMES = ("english", "chinese", "standard")
SearchMode = Literal["dense", "bm25", "hybrid"]
SEARCH_MODES: tuple[str, ...] = get_args(SearchMode)


class RetrievalSettings(_Section):
    """How a query is answered: search mode, fusion, reranking and routing to clusters.

    ``mode`` is the default search mode (``dense``, ``bm25`` or ``hybrid``);
    ``hybrid`` fuses a dense and a BM25 result list by reciprocal rank
    (``fusion: rrf``, constant ``rrf_k``) or by min-max normalised scores
    (``fusion: weighted`` with ``weights``). ``analyzer`` is how the BM25 field
    cuts text into terms (``english``, ``chinese``, ``standard``, or Milvus
    ``analyzer_params`` as a mapping); it is fixed when the collection is
    created. ``rerank`` is the default reranker (``none``, ``cluster_smooth``,
    ``cluster_distance``, ``cluster_size``, ``centroid_query``, ``mmr``,
    ``custom:module:callable`` or an entry point of the group
    ``ragsilo.rerankers``); it reorders the top ``candidates`` hits.
    ``cluster_weight`` (0 to 1) is how much of a hit's score ``cluster_smooth``
    takes from its query-specific cluster (its nearest candidates).
    ``route_clusters`` > 0 searches only the nearest N clusters (0: search
    everything).
    """

    mode: SearchMode = "dense"
    fusion: Literal["rrf", "weighted"] = "rrf"
    rrf_k: int = Field(default=60, ge=1, le=100_000)
    weights: dict[str, float] = Field(default_factory=lambda: {"dense": 0.5, "bm25": 0.5})
    analyzer: str | dict[str, Any] = "english"
    bm25_k1: float = Field(default=1.2, gt=0, le=10)
    bm25_b: float = Field(default=0.75, ge=0, le=1)
    rerank: str = "cluster_smooth"
    mmr_lambda: float = Field(default=0.7, ge=0, le=1)
    candidates: int = Field(default=50, ge=1, le=16384)
    route_clusters: int = Field(default=0, ge=0, le=4096)
    # cluster_smooth: how much of a hit's score is its neighbours' evidence (0: none, 1: all)
    cluster_weight: float = 0.25

    @field_validator("cluster_weight", mode="before")
    @classmethod
    def _check_cluster_weight(cls, v: Any) -> Any:
        import math

        if isinstance(v, str):  # from an environment variable
            try:
                v = float(v)
            except ValueError:
                raise ValueError(
                    f"retrieval.cluster_weight must be a number from 0 to 1, not {v!r}"
                ) from None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"retrieval.cluster_weight must be a number from 0 to 1, not {v!r}")
        if not 0 <= v <= 1:
            raise ValueError(
                f"retrieval.cluster_weight must be from 0 (the search's own order) to 1 "
                f"(cluster evidence only), not {v}"
            )
        return float(v)

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, v: dict[str, float]) -> dict[str, float]:
        if set(v) != {"dense", "bm25"}:
            raise ValueError(
                f"retrieval.weights needs exactly the keys dense and bm25, not {sorted(v)}"
            )
        if any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("retrieval.weights must be non-negative and not both zero")
        return v

    @field_validator("analyzer")
    @classmethod
    def _check_analyzer(cls, v: str | dict[str, Any]) -> str | dict[str, Any]:
        if isinstance(v, str) and v not in ANALYZER_NAMES:
            raise ValueError(
                f"retrieval.analyzer {v!r} is unknown; choose {', '.join(ANALYZER_NAMES)} "
                "or give Milvus analyzer_params as a mapping"
            )
        if isinstance(v, dict) and not v:
            raise ValueError("retrieval.analyzer is an empty mapping")
        return v

    @field_validator("rerank")
    @classmethod
    def _check_rerank(cls, v: str) -> str:
        from ragsilo.rerank.registry import check_reranker_name

        check_reranker_name(v, where="retrieval.rerank")
        return v


class ClusteringSettings(_Section):
    """k-means over the chunk vectors: centroids stored with the silo, a cluster id per chunk.

    ``k: auto`` picks about the square root of the number of chunks. Fitting
    uses at most ``sample_size`` vectors (mini-batches of ``batch_size`` when
    there are more than ``full_batch_max``), seeded by ``seed`` so the same data
    gives the same clusters. New chunks get the nearest centroid's id at ingest
    (``assign_on_ingest``). ``partitions`` stores each cluster in its own
    partition. ``auto`` does what measured fastest for routed queries (see
    BENCHMARKS.md): partitions on Milvus Lite when ``retrieval.route_clusters``
    > 0 (16x faster than searching everything at 100k chunks), and a
    ``cluster_id`` filter on a Milvus server, where a partition per cluster made
    every search slower.
    """

    k: int | Literal["auto"] = "auto"
    max_k: int = Field(default=1024, ge=1, le=4000)
    seed: int = Field(default=0, ge=0)
    sample_size: int = Field(default=100_000, ge=10)
    max_iter: int = Field(default=100, ge=1, le=10_000)
    tol: float = Field(default=1e-4, ge=0)
    batch_size: int = Field(default=2048, ge=16, le=1_000_000)
    full_batch_max: int = Field(default=30_000, ge=1)
    assign_on_ingest: bool = True
    partitions: bool | Literal["auto"] = "auto"
    keywords: int = Field(default=6, ge=0, le=50)
    representatives: int = Field(default=3, ge=0, le=50)

    @field_validator("k")
    @classmethod
    def _check_k(cls, v: int | str) -> int | str:
        if isinstance(v, int) and not 1 <= v <= 4000:
            raise ValueError(f"clustering.k must be auto or a whole number from 1 to 4000, not {v}")
        return v


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
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    clustering: ClusteringSettings = Field(default_factory=ClusteringSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    parsing: ParsingSettings = Field(default_factory=ParsingSettings)
    images: ImageSettings = Field(default_factory=ImageSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)

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
        data = self.model_dump(mode="json")  # SecretStr dumps as '**********'
        data["milvus"]["uri"] = self.milvus.display_uri  # a login inside the URI
        return data


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
