"""LangChain on a ragsilo silo: a ``VectorStore`` and a ``BaseRetriever``.

Needs the ``langchain`` extra (``pip install "ragsilo[langchain]"``)::

    from ragsilo import Silo
    from ragsilo.integrations.langchain import RagsiloRetriever, RagsiloVectorStore

    silo = Silo.open(milvus={"uri": "./ragsilo.db"})
    store = RagsiloVectorStore(silo=silo)
    store.add_texts(["Compost heats up as microbes work."], metadatas=[{"topic": "soil"}])
    docs = store.similarity_search("why does compost get hot?", k=3)
    retriever = RagsiloRetriever(silo=silo, k=5, mode="hybrid", rerank="mmr")

Both are built around an open :class:`~ragsilo.Silo` and search the way it does: the
search mode (``dense``, ``bm25``, ``hybrid``), reranker, cluster routing, tenant and
consistency level are set on the store or retriever and can be given per call; a
``filter`` is a dict of ``field=value`` filters (a key that is no ragsilo field means
``metadata.<key>``) or a raw Milvus expression.

Embeddings: the silo embeds with its own embedder (``embedding`` in its settings). A
LangChain ``Embeddings`` model can be that embedder instead: open the silo with
``embedder=langchain_embedder(embeddings)``, or let :meth:`RagsiloVectorStore.from_texts`
do it. A store given an ``embedding`` that is not its silo's embedder refuses it,
rather than mixing two models' vectors in one collection.

Texts added through the store are stored one row each under their ids, as LangChain
expects (see :mod:`ragsilo.integrations._rows`); files go in with ``silo.ingest``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

try:
    from langchain_core.callbacks import (
        AsyncCallbackManagerForRetrieverRun,
        CallbackManagerForRetrieverRun,
    )
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.vectorstores import VectorStore
    from pydantic import ConfigDict, Field
except ImportError as e:  # pragma: no cover - depends on the installation
    from ragsilo.errors import MissingDependencyError

    raise MissingDependencyError("langchain-core", "langchain", "the LangChain integration") from e

import numpy as np

from ragsilo.errors import ConfigError, InputError
from ragsilo.integrations import _rows
from ragsilo.models import Hit
from ragsilo.retrieval.query import Query
from ragsilo.silo import Silo

__all__ = ["RagsiloEmbeddings", "RagsiloRetriever", "RagsiloVectorStore", "langchain_embedder"]

SOURCE_PREFIX = "langchain://"
# per-call search options a store or retriever passes on to Silo.search
_SEARCH_OPTIONS = ("mode", "rerank", "route", "tenant", "consistency_level", "output_fields")


def langchain_embedder(embeddings: Embeddings, *, dimension: int | None = None) -> Any:
    """A LangChain ``Embeddings`` model as a ragsilo embedder, for
    ``Silo.open(..., embedder=langchain_embedder(embeddings))``. Stored texts go through
    ``embed_documents``, queries through ``embed_query``; vectors are scaled to length 1."""
    if not isinstance(embeddings, Embeddings):
        raise InputError(f"expected a LangChain Embeddings object, not {type(embeddings).__name__}")
    return _rows.FrameworkEmbedder(
        embeddings.embed_documents,
        embeddings.embed_query,
        name=f"langchain:{type(embeddings).__name__}",
        dimension=dimension,
        source=embeddings,
    )


class RagsiloEmbeddings(Embeddings):
    """A silo's own embedder as a LangChain ``Embeddings`` model (what
    :attr:`RagsiloVectorStore.embeddings` gives when the silo uses ragsilo's embedder)."""

    def __init__(self, silo: Silo) -> None:
        self.silo = silo

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return _rows.embed_in_batches(self.silo, texts).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return _query_vector(self.silo, text).tolist()


def _query_vector(silo: Silo, query: str) -> np.ndarray:
    embedder = silo.embedder
    if isinstance(embedder, _rows.FrameworkEmbedder):
        silo._check_query(query)
        return embedder.embed_query_vector(query)
    return silo.embed_query(query)


def _needs_query_vector(silo: Silo, mode: str | None) -> bool:
    """Whether a LangChain model must embed the query itself (its ``embed_query`` may
    differ from ``embed_documents``); ragsilo's own embedders are left to the silo."""
    chosen = silo.settings.retrieval.mode if mode is None else mode
    return isinstance(silo.embedder, _rows.FrameworkEmbedder) and chosen != "bm25"


def _to_document(hit: Hit) -> Document:
    return Document(id=hit.id, page_content=hit.text, metadata=_rows.provenance(hit))


class RagsiloVectorStore(VectorStore):
    """A LangChain ``VectorStore`` over a :class:`~ragsilo.Silo`'s collection.

    ``mode``, ``rerank``, ``route``, ``tenant`` and ``consistency_level`` are the
    defaults of every search (``None``: the silo's settings); each search call may
    override them, and takes ``filter`` (a dict of ``field=value`` filters or a Milvus
    expression). ``tenant`` also owns what :meth:`add_texts` writes and limits what
    :meth:`delete` and :meth:`get_by_ids` reach. The silo's collection is created if
    it does not exist yet.
    """

    def __init__(
        self,
        silo: Silo,
        *,
        embedding: Embeddings | None = None,
        mode: str | None = None,
        rerank: str | None = None,
        route: int | None = None,
        tenant: str | None = None,
        consistency_level: str | None = None,
        close_silo: bool = False,
    ) -> None:
        if not isinstance(silo, Silo):
            raise InputError(f"silo must be an open ragsilo Silo, not {type(silo).__name__}")
        if embedding is not None:
            current = silo.embedder
            if getattr(current, "source", None) is not embedding:
                raise ConfigError(
                    f"the silo embeds with {getattr(current, 'name', type(current).__name__)!r}, "
                    f"not with the {type(embedding).__name__} given",
                    hint="open the silo with Silo.open(..., embedder=langchain_embedder("
                    "embedding)), or give no embedding to use the silo's own",
                )
        self.silo = silo
        self.defaults: dict[str, Any] = {
            "mode": mode,
            "rerank": rerank,
            "route": route,
            "tenant": tenant,
            "consistency_level": consistency_level,
        }
        self.tenant = tenant
        self._close_silo = close_silo
        silo._tenant(tenant)  # checked now, not at the first search
        silo._ensure_collection(create=True)

    # ----------------------------------------------------------------- properties
    @property
    def embeddings(self) -> Embeddings:
        """The model that embeds this store's texts and queries, as LangChain sees it."""
        source = getattr(self.silo.embedder, "source", None)
        return source if isinstance(source, Embeddings) else RagsiloEmbeddings(self.silo)

    def close(self) -> None:
        """Close the silo when this store opened it (:meth:`from_texts`)."""
        if self._close_silo:
            self.silo.close()

    # -------------------------------------------------------------------- writes
    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embed and store each text as one row under its id (a new UUID where none is
        given); a text added again under its id replaces the old one."""
        _no_extra(kwargs, "add_texts", ("tenant",))
        return _rows.write_texts(
            self.silo,
            list(texts),
            metadatas,
            ids,
            source_prefix=SOURCE_PREFIX,
            tenant=kwargs.get("tenant", self.tenant),
        )

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Store the documents (their ``id`` is kept; ``ids=`` overrides it)."""
        ids = kwargs.pop("ids", None)
        if ids is None:
            ids = [doc.id for doc in documents]
        return self.add_texts(
            [doc.page_content for doc in documents],
            [doc.metadata for doc in documents],
            ids=ids,
            **kwargs,
        )

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete by id; ids not stored are no error. Without ids, ``where``/``filter``
        (as in ``Silo.delete``) say what goes; deleting everything is refused."""
        _no_extra(kwargs, "delete", ("tenant", "where", "filter"))
        tenant = kwargs.get("tenant", self.tenant)
        if ids is None:
            if kwargs.get("where") is None and kwargs.get("filter") is None:
                raise InputError(
                    "delete needs ids or a filter; to remove everything, drop the collection "
                    "(silo.drop_collection())"
                )
            where, expr = _rows.where_of(kwargs.get("filter"))
            where = {**(where or {}), **(kwargs.get("where") or {})} or None
            self.silo.delete(where=where, filter=expr, tenant=tenant)
            return True
        _rows.delete_ids(self.silo, ids, tenant=tenant)
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The stored documents with these ids, in the order asked; missing ids are left
        out."""
        return [_to_document(h) for h in _rows.get_hits(self.silo, ids, tenant=self.tenant)]

    # -------------------------------------------------------------------- search
    def _search_kwargs(self, k: int, filter: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        _no_extra(kwargs, "search", (*_SEARCH_OPTIONS, "where"))
        where, expr = _rows.where_of(filter)
        if kwargs.get("where") is not None:
            where = {**(where or {}), **kwargs["where"]}
        options = {**self.defaults, **{k_: v for k_, v in kwargs.items() if k_ != "where"}}
        return {"k": k, "where": where, "filter": expr, **options}

    def _hits(self, query: str, search: dict[str, Any]) -> list[Hit]:
        if _needs_query_vector(self.silo, search.get("mode")):
            search["vector"] = _query_vector(self.silo, query)
        return self.silo.search(Query.of(query, **search))

    def similarity_search(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[Document]:
        """The ``k`` documents nearest ``query`` (by the store's search mode)."""
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """Documents with their scores, best first: cosine similarity for ``dense``
        search, the BM25 score for ``bm25``, the rank-fusion score for ``hybrid``."""
        hits = self._hits(query, self._search_kwargs(k, filter, kwargs))
        return [(_to_document(h), h.score) for h in hits]

    async def asimilarity_search_with_score(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        search = self._search_kwargs(k, filter, kwargs)
        if _needs_query_vector(self.silo, search.get("mode")):
            import asyncio

            search["vector"] = await asyncio.to_thread(_query_vector, self.silo, query)
        hits = await self.silo.asearch(Query.of(query, **search))
        return [(_to_document(h), h.score) for h in hits]

    async def asimilarity_search(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[Document]:
        found = await self.asimilarity_search_with_score(query, k, filter, **kwargs)
        return [doc for doc, _ in found]

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[Document]:
        """Dense search with a query vector you embedded yourself."""
        search = self._search_kwargs(k, filter, kwargs)
        if search.get("mode") not in (None, "dense"):
            raise InputError("a search by vector is a dense search; leave mode unset or 'dense'")
        search["mode"] = "dense"
        hits = self.silo.search(Query.of("", vector=np.asarray(embedding, np.float32), **search))
        return [_to_document(h) for h in hits]

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Any = None,
        **kwargs: Any,
    ) -> list[Document]:
        """``k`` of the ``fetch_k`` documents nearest the vector, chosen for relevance and
        diversity (``lambda_mult``: 1 relevance only, 0 diversity only)."""
        from langchain_core.vectorstores.utils import maximal_marginal_relevance

        from ragsilo.store.schema import VECTOR_FIELD

        if not 0 <= lambda_mult <= 1:
            raise InputError(f"lambda_mult must be between 0 and 1, not {lambda_mult!r}")
        search = self._search_kwargs(max(k, fetch_k), filter, kwargs)
        if search.get("mode") not in (None, "dense"):
            raise InputError("MMR search is a dense search; leave mode unset or 'dense'")
        query = np.asarray(embedding, np.float32)
        search["mode"] = "dense"
        hits = self.silo.search(Query.of("", vector=query, **search))
        if not hits:
            return []
        rows = self.silo.store.get_rows(
            self.silo.collection, [h.id for h in hits], ["id", VECTOR_FIELD]
        )
        vectors = {str(r["id"]): r[VECTOR_FIELD] for r in rows}
        hits = [h for h in hits if h.id in vectors]
        chosen = maximal_marginal_relevance(
            query, [vectors[h.id] for h in hits], lambda_mult=lambda_mult, k=k
        )
        return [_to_document(hits[i]) for i in chosen]

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Any = None,
        **kwargs: Any,
    ) -> list[Document]:
        """:meth:`max_marginal_relevance_search_by_vector` for a query text."""
        return self.max_marginal_relevance_search_by_vector(
            _query_vector(self.silo, query).tolist(), k, fetch_k, lambda_mult, filter, **kwargs
        )

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        """Scores as 0..1 relevance; only a dense search has a fixed scale for that."""
        chosen = self.defaults["mode"] or self.silo.settings.retrieval.mode
        if chosen != "dense":
            raise InputError(
                f"relevance scores need dense search; this store searches in {chosen!r} mode",
                hint="create the store with mode='dense', or use similarity_search_with_score",
            )
        metric = self.silo.index_plan.metric
        if metric == "COSINE":
            return lambda s: (1.0 + s) / 2.0
        if metric == "IP":
            return self._max_inner_product_relevance_score_fn
        return self._euclidean_relevance_score_fn

    # ----------------------------------------------------------------- creation
    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | None = None,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        silo: Silo | None = None,
        settings: Any = None,
        uri: str | None = None,
        collection: str | None = None,
        **kwargs: Any,
    ) -> RagsiloVectorStore:
        """A store holding ``texts``: on ``silo`` when given, else on a silo opened from
        ``settings`` (a :class:`~ragsilo.Settings`, or the config file and
        ``RAGSILO_*`` variables when none) with ``uri`` and ``collection`` applied.
        ``embedding`` (optional) becomes the opened silo's embedder. The other keyword
        arguments are the store's (``mode``, ``rerank``, ``tenant`` ...)."""
        if silo is None:
            silo = _open_silo(embedding, settings, uri, collection)
            kwargs.setdefault("close_silo", True)
        elif settings is not None or uri is not None or collection is not None:
            raise ConfigError("give either an open silo or settings/uri/collection, not both")
        store = cls(silo, embedding=embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store


def _open_silo(
    embedding: Embeddings | None, settings: Any, uri: str | None, collection: str | None
) -> Silo:
    from ragsilo.settings import Settings, load_settings

    if settings is None:
        settings = load_settings()
    elif not isinstance(settings, Settings):
        raise InputError(f"settings must be a ragsilo Settings, not {type(settings).__name__}")
    update: dict[str, Any] = {}
    if uri is not None:
        update["milvus"] = settings.milvus.model_copy(update={"uri": uri})
    if collection is not None:
        update["collection"] = settings.collection.model_copy(update={"name": collection})
    if update:
        settings = settings.model_copy(update=update)
    embedder = None if embedding is None else langchain_embedder(embedding)
    return Silo.open(settings, embedder=embedder)


class RagsiloRetriever(BaseRetriever):
    """A LangChain retriever over a :class:`~ragsilo.Silo`: the top ``k`` hits of
    ``silo.search`` as ``Document`` objects (metadata: the hit's metadata and where it
    comes from, plus ``score``).

    ``mode``, ``rerank``, ``route``, ``tenant``, ``consistency_level``, ``where`` and
    ``filter`` are passed to every search.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    silo: Any
    k: int = 4
    mode: str | None = None
    rerank: str | None = None
    route: int | None = None
    tenant: str | None = None
    consistency_level: str | None = None
    where: dict[str, Any] | None = None
    filter: Any = None
    search_kwargs: dict[str, Any] = Field(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        if not isinstance(self.silo, Silo):
            raise InputError(f"silo must be an open ragsilo Silo, not {type(self.silo).__name__}")
        _no_extra(self.search_kwargs, "search_kwargs", ("output_fields",))
        self.silo._tenant(self.tenant)

    def _search(self) -> dict[str, Any]:
        where, expr = _rows.where_of(self.filter)
        if self.where:
            where = {**(where or {}), **self.where}
        return {
            "k": self.k,
            "where": where,
            "filter": expr,
            "mode": self.mode,
            "rerank": self.rerank,
            "route": self.route,
            "tenant": self.tenant,
            "consistency_level": self.consistency_level,
            **self.search_kwargs,
        }

    @staticmethod
    def _documents(hits: list[Hit]) -> list[Document]:
        out = []
        for h in hits:
            doc = _to_document(h)
            doc.metadata["score"] = h.score
            out.append(doc)
        return out

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        search = self._search()
        if _needs_query_vector(self.silo, self.mode):
            search["vector"] = _query_vector(self.silo, query)
        return self._documents(self.silo.search(Query.of(query, **search)))

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        import asyncio

        search = self._search()
        if _needs_query_vector(self.silo, self.mode):
            search["vector"] = await asyncio.to_thread(_query_vector, self.silo, query)
        return self._documents(await self.silo.asearch(Query.of(query, **search)))


def _no_extra(kwargs: dict[str, Any], where: str, allowed: Sequence[str]) -> None:
    extra = sorted(set(kwargs) - set(allowed))
    if extra:
        raise InputError(
            f"{where} does not take {', '.join(map(repr, extra))}; "
            f"it takes {', '.join(allowed) or 'no other keyword arguments'}"
        )
