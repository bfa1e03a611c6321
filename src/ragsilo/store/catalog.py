"""What a Milvus holds: its collections, their fields and partitions, and what this store
remembers of each (:class:`CollectionState`, one record per collection)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ragsilo.errors import CapabilityError, CollectionNotFoundError
from ragsilo.store.analysis import EnglishTerms
from ragsilo.store.connection import MilvusConnection
from ragsilo.store.indexes import IndexPlan
from ragsilo.store.schema import (
    CODE_FIELD,
    SCALAR_FIELD_NAMES,
    TENANT_FIELD,
    TERMS_FIELD,
    VECTOR_FIELD,
    has_bm25,
    has_code_field,
    has_tenant_field,
    has_terms_field,
)


@dataclass(frozen=True)
class CollectionState:
    """What the store knows of one collection, read once from Milvus and kept until the
    collection is dropped, renamed or ensured again."""

    #: The dimension of its ``vector`` field (0 when it has none).
    dimension: int
    #: It has the BM25 sparse field, so it answers ``bm25`` and ``hybrid`` queries.
    has_bm25: bool = False
    #: It keeps ragsilo-made BM25 terms in ``bm25_text`` (English on Milvus Lite).
    has_terms: bool = False
    #: It has the ``tenant`` partition key.
    has_tenants: bool = False
    #: It keeps a vector code beside each vector (``vector_code``).
    has_codes: bool = False
    #: The index plan searches use; ``None`` until the collection was ensured.
    plan: IndexPlan | None = None

    @classmethod
    def from_described(
        cls, described: dict[str, Any], plan: IndexPlan | None = None
    ) -> CollectionState:
        """The state of a collection as ``describe_collection`` reports it."""
        return cls(
            dimension=described_dimension(described),
            has_bm25=has_bm25(described),
            has_terms=has_terms_field(described),
            has_tenants=has_tenant_field(described),
            has_codes=has_code_field(described),
            plan=plan,
        )

    @property
    def row_fields(self) -> list[str]:
        """Every field a whole row is written with (the vector included)."""
        extra = [TERMS_FIELD] if self.has_terms else []
        if self.has_tenants:
            extra.append(TENANT_FIELD)
        if self.has_codes:
            extra.append(CODE_FIELD)
        return [*SCALAR_FIELD_NAMES, *extra, VECTOR_FIELD]


def described_dimension(described: dict[str, Any]) -> int:
    """The dimension of the ``vector`` field of a described collection (0 when none)."""
    for f in described.get("fields", []):
        if f["name"] == VECTOR_FIELD:
            return int(f.get("params", {}).get("dim", 0))
    return 0


class MilvusCatalog(MilvusConnection):
    """Collections, their schema facts and partitions, read from Milvus.

    The per-collection facts are one :class:`CollectionState` per name, read on
    first use with one ``describe_collection``; :meth:`_remember`,
    :meth:`_forget` and :meth:`_renamed` are the only places that change them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._states: dict[str, CollectionState] = {}
        self._english: EnglishTerms | None = None

    # ------------------------------------------------------------ per-collection state
    def _state(self, name: str) -> CollectionState:
        """What is known of ``name``, read from Milvus the first time it is asked."""
        state = self._states.get(name)
        if state is None:
            state = CollectionState.from_described(self.describe(name))
            self._states[name] = state
        return state

    def _remember(self, name: str, state: CollectionState) -> None:
        self._states[name] = state

    def _forget(self, name: str) -> None:
        self._states.pop(name, None)

    def _renamed(self, old: str, new: str) -> None:
        self._states.pop(new, None)
        state = self._states.pop(old, None)
        if state is not None:
            self._states[new] = state

    def _set_plan(self, name: str, plan: IndexPlan) -> None:
        self._remember(name, replace(self._state(name), plan=plan))

    def _held_dimension(self, name: str) -> int:
        """The dimension of ``name``'s vectors, as remembered (the write path checks it)."""
        dim = self._state(name).dimension
        if dim <= 0:
            raise CollectionNotFoundError(
                f"collection {name!r} has no vector field {VECTOR_FIELD!r}"
            )
        return dim

    # ---------------------------------------------------------------- collections
    def list_collections(self) -> list[str]:
        return sorted(self._call("list collections", self.client.list_collections))

    def has_collection(self, name: str) -> bool:
        return bool(
            self._call(f"check collection {name!r}", lambda: self.client.has_collection(name))
        )

    def describe(self, name: str) -> dict[str, Any]:
        return dict(
            self._call(
                f"describe collection {name!r}", lambda: self.client.describe_collection(name)
            )
        )

    def dimension_of(self, name: str) -> int:
        """The dimension of ``name``'s vector field, as Milvus describes it now."""
        dim = described_dimension(self.describe(name))
        if dim <= 0:
            raise CollectionNotFoundError(
                f"collection {name!r} has no vector field {VECTOR_FIELD!r}"
            )
        return dim

    def plan_of(self, name: str) -> IndexPlan | None:
        """The index plan searches of ``name`` use (``None`` before it was opened)."""
        state = self._states.get(name)
        return state.plan if state is not None else None

    def has_tenants(self, name: str) -> bool:
        """Whether ``name`` has the tenant partition key."""
        return self._state(name).has_tenants

    def has_bm25(self, name: str) -> bool:
        """Whether collection ``name`` has the BM25 field (and so answers bm25 queries)."""
        return self._state(name).has_bm25

    def has_terms(self, name: str) -> bool:
        """Whether ``name`` keeps ragsilo-made BM25 terms (English on Milvus Lite)."""
        return self._state(name).has_terms

    def has_codes(self, name: str) -> bool:
        """Whether ``name`` keeps a vector code beside each vector."""
        return self._state(name).has_codes

    def candidate_vector_field(self, name: str) -> str:
        """The field a search of ``name`` fetches to compare its hits with each other: the
        vector codes where it has them (a search decodes them into float32 vectors, close
        to the vectors and cheaper to fetch), else the vectors."""
        return CODE_FIELD if self.has_codes(name) else VECTOR_FIELD

    def row_fields(self, name: str) -> list[str]:
        """Every field a whole row of ``name`` is written with (the vector included)."""
        return self._state(name).row_fields

    def bm25_terms(self, text: str) -> str:
        """``text`` as the English BM25 terms ragsilo stores in ``bm25_text``."""
        if self._english is None:
            self._english = EnglishTerms()
        return self._english(text)

    def require_bm25(self, name: str, mode: str) -> None:
        """Raise :class:`CapabilityError` unless ``name`` can answer a ``mode`` query."""
        if not self.capabilities.bm25_function:
            raise CapabilityError(
                f"{mode} search needs Milvus's BM25 function, which {self.info.kind} "
                f"{self.info.version} does not have (it came in Milvus 2.5; Milvus Lite has it)",
                hint="use --mode dense, or connect to Milvus 2.5 or later",
            )
        if not self.has_bm25(name):
            raise CapabilityError(
                f"{mode} search needs a BM25 field, and collection {name!r} was created "
                "without one",
                hint="drop the collection and ingest again to add it",
            )

    # ----------------------------------------------------------------- partitions
    def list_partitions(self, name: str) -> list[str]:
        return sorted(
            self._call(f"list partitions of {name!r}", lambda: self.client.list_partitions(name))
        )

    # ---------------------------------------------------------------- index, load
    def vector_index(self, name: str) -> dict[str, Any]:
        """The vector index of ``name`` as Milvus describes it (type, metric, parameters)."""
        res = self._call(
            f"describe index of {name!r}",
            lambda: self.client.describe_index(name, index_name=VECTOR_FIELD),
        )
        return dict(res or {})

    def _load_state(self, name: str) -> str:
        res = self._call(f"get load state of {name!r}", lambda: self.client.get_load_state(name))
        state = res.get("state") if isinstance(res, dict) else res
        return str(getattr(state, "name", state))


__all__ = ["CollectionState", "MilvusCatalog", "described_dimension"]
