"""The ``service`` and ``llm`` settings sections.

They import only pydantic, so :mod:`ragsilo.settings` includes them without
pulling in FastAPI, and the service and the answerers read them from here,
below both of them. Environment variables follow the usual pattern:
``RAGSILO_SERVICE__PORT``, ``RAGSILO_LLM__BASE_URL``, ``RAGSILO_LLM__API_KEY``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ServiceSettings(_Section):
    """The HTTP service (``ragsilo serve``): where it listens, who may call it, its limits.

    API keys live in ``api_keys_file`` (salted hashes only; manage them with
    ``ragsilo keys``). Keys are required when ``require_api_key`` is true or
    when that file holds at least one active key; otherwise the service is
    open, which suits a service on 127.0.0.1.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    api_keys_file: Path = Path("ragsilo-keys.json")
    require_api_key: bool = False
    milvus_passthrough: bool = False
    max_body_mb: float = Field(default=100.0, gt=0, le=4096)
    max_upload_mb: float = Field(default=50.0, gt=0, le=4096)
    max_files: int = Field(default=20, ge=1, le=1000)
    max_k: int = Field(default=100, ge=1, le=16384)
    max_query_chars: int = Field(default=2000, ge=1, le=100_000)
    cors_origins: list[str] = Field(default_factory=list)
    log_level: str = "info"

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, v: str) -> str:
        level = v.strip().lower()
        if level not in ("debug", "info", "warning", "error"):
            raise ValueError(
                f"service.log_level {v!r} is unknown; use debug, info, warning or error"
            )
        return level

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, v: list[str]) -> list[str]:
        for origin in v:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(
                    f"service.cors_origins entry {origin!r} must be '*' or start with "
                    "http:// or https://"
                )
        return v


class LlmSettings(_Section):
    """The language model that writes answers for ``ask``.

    Any server speaking the OpenAI chat-completions protocol works: OpenAI,
    vLLM, Ollama (``http://localhost:11434/v1``), LocalAI, llama.cpp. With no
    ``base_url``, answers are extractive: the best sentences of the hits, with
    citations, computed offline.
    """

    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = None
    timeout: float = Field(default=60.0, gt=0, le=3600)
    max_context_tokens: int = Field(default=3000, ge=64, le=1_000_000)
    max_answer_tokens: int = Field(default=512, ge=1, le=100_000)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip()
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"llm.base_url {v!r} must start with http:// or https://")
        return v

    @model_validator(mode="after")
    def _check_model(self) -> LlmSettings:
        if self.base_url and not self.model:
            raise ValueError("llm.base_url is set but llm.model is not; name the model to use")
        return self

    @property
    def configured(self) -> bool:
        """Whether a language model is set up (else answers are extractive)."""
        return bool(self.base_url and self.model)
