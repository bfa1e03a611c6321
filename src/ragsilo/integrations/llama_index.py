"""LlamaIndex on a ragsilo silo: a retriever, a vector store and an embedding model.

Needs the ``llama-index`` extra (``pip install "ragsilo[llama-index]"``)::

    from llama_index.core import VectorStoreIndex
    from ragsilo import Silo
    from ragsilo.integrations.llama_index import (
        RagsiloEmbedding, RagsiloRetriever, RagsiloVectorStore,
    )

    silo = Silo.open(milvus={"uri": "./ragsilo.db"})
    silo.ingest(["samples/"])
    retriever = RagsiloRetriever(silo=silo, similarity_top_k=5, mode="hybrid")
    nodes = retriever.retrieve("how hot should a compost pile get?")  # NodeWithScore

    # or as the vector store of an index, embedding with the silo's own model
    index = VectorStoreIndex.from_vector_store(
        RagsiloVectorStore(silo=silo), embed_model=RagsiloEmbedding(silo=silo)
    )

The retriever searches the way :meth:`ragsilo.Silo.search` does (search mode,
reranker, cluster routing, tenant, ``where``/``filter``). The vector store keeps each
node as one row under its node id, with LlamaIndex's node record in the row's metadata
so that an index reads back the very nodes it wrote; chunks ingested by ragsilo come
back as text nodes whose metadata says where they come from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

try:
    from llama_index.core.base.base_retriever import BaseRetriever
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.bridge.pydantic import PrivateAttr
    from llama_index.core.callbacks import CallbackManager
    from llama_index.core.schema import BaseNode, NodeWithScore, QueryBundle, TextNode
    from llama_index.core.vector_stores.types import (
        BasePydanticVectorStore,
        FilterCondition,
        FilterOperator,
        MetadataFilter,
        MetadataFilters,
        VectorStoreQuery,
        VectorStoreQueryMode,
        VectorStoreQueryResult,
    )
    from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
except ImportError as e:  # pragma: no cover - depends on the installation
    from ragsilo.errors import MissingDependencyError

    raise MissingDependencyError(
        "llama-index-core", "llama-index", "the LlamaIndex integration"
    ) from e

import numpy as np

from ragsilo.errors import FilterError, InputError
from ragsilo.integrations import _rows
from ragsilo.models import Hit
from ragsilo.retrieval.query import Query
from ragsilo.silo import Silo

__all__ = ["RagsiloEmbedding", "RagsiloRetriever", "RagsiloVectorStore", "filters_to_expr"]

SOURCE_PREFIX = "llamaindex://"
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,127}$")
_MODES = {
    VectorStoreQueryMode.DEFAULT: None,
    VectorStoreQueryMode.HYBRID: "hybrid",
    VectorStoreQueryMode.SEMANTIC_HYBRID: "hybrid",
    VectorStoreQueryMode.SPARSE: "bm25",
    VectorStoreQueryMode.TEXT_SEARCH: "bm25",
}
_COMPARISONS = {
    FilterOperator.EQ: "==",
    FilterOperator.NE: "!=",
    FilterOperator.GT: ">",
    FilterOperator.LT: "<",
    FilterOperator.GTE: ">=",
    FilterOperator.LTE: "<=",
}


def _check_silo(silo: Any) -> Silo:
    if not isinstance(silo, Silo):
        raise InputError(f"silo must be an open ragsilo Silo, not {type(silo).__name__}")
    return silo


def to_node(hit: Hit) -> BaseNode:
    """A hit as a LlamaIndex node: the node an index stored, or a text node of an
    ingested chunk (metadata: its metadata and where it comes from)."""
    if hit.source.startswith(SOURCE_PREFIX) and "_node_content" in hit.metadata:
        node = metadata_dict_to_node(hit.metadata, text=hit.text)
        node.set_content(hit.text)
        return node
    meta = _rows.provenance(hit)
    return TextNode(id_=hit.id, text=hit.text, metadata=meta)


def _literal(value: Any) -> str:
    from ragsilo.store.filters import quote

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FilterError(f"filter value {value!r} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    raise FilterError(f"filter value {value!r} is not a string, number or boolean")


def filters_to_expr(filters: MetadataFilters | None) -> str:
    """LlamaIndex metadata filters as a Milvus expression on the metadata JSON field.

    Operators: ``==``, ``!=``, ``>``, ``<``, ``>=``, ``<=``, ``in``, ``nin``, with
    ``and``/``or`` (nested filters too); other operators are refused by name."""
    if filters is None or not filters.filters:
        return ""
    parts: list[str] = []
    for f in filters.filters:
        if isinstance(f, MetadataFilters):
            inner = filters_to_expr(f)
            if inner:
                parts.append(f"({inner})")
            continue
        parts.append(_one_filter(f))
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.NOT:
        return f"not ({' and '.join(parts)})"
    return f" {condition.value} ".join(parts)


def _one_filter(f: MetadataFilter) -> str:
    from ragsilo.store.filters import quote

    if not _KEY.match(f.key):
        raise FilterError(
            f"metadata key {f.key!r} is invalid: use letters, digits, '_' or '-' (at most 128)"
        )
    ref = f"metadata[{quote(f.key)}]"
    op = f.operator
    if op in _COMPARISONS:
        return f"{ref} {_COMPARISONS[op]} {_literal(f.value)}"
    if op in (FilterOperator.IN, FilterOperator.NIN):
        values = f.value if isinstance(f.value, (list, tuple)) else [f.value]
        if not values:
            raise FilterError(f"filter on {f.key!r} has no values")
        word = "in" if op == FilterOperator.IN else "not in"
        return f"{ref} {word} [{', '.join(_literal(v) for v in values)}]"
    raise FilterError(
        f"filter operator {op.value!r} is not supported here; use ==, !=, >, <, >=, <=, in or nin"
    )


def _id_list(field: str, ids: Sequence[str]) -> str:
    from ragsilo.store.filters import quote

    return f"{field} in [{', '.join(quote(str(i)) for i in ids)}]"


def _and(*exprs: str) -> str:
    return " and ".join(f"({e})" for e in exprs if e)


class RagsiloEmbedding(BaseEmbedding):
    """A silo's own embedder as a LlamaIndex embedding model (so an index embeds its
    nodes and queries as the silo does)."""

    _silo: Silo = PrivateAttr()

    def __init__(self, silo: Silo, **kwargs: Any) -> None:
        super().__init__(model_name=f"ragsilo:{getattr(silo.embedder, 'name', 'embedder')}")
        self._silo = _check_silo(silo)

    @classmethod
    def class_name(cls) -> str:
        return "RagsiloEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._silo.embed_query(query).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return _rows.embed_in_batches(self._silo, texts).tolist() if texts else []

    async def _aget_query_embedding(self, query: str) -> list[float]:
        import asyncio

        return await asyncio.to_thread(self._get_query_embedding, query)


class RagsiloRetriever(BaseRetriever):
    """A LlamaIndex retriever over a :class:`~ragsilo.Silo`: the ``similarity_top_k``
    hits of ``silo.search`` as ``NodeWithScore``.

    ``mode``, ``rerank``, ``route``, ``tenant``, ``consistency_level``, ``where`` and
    ``filter`` (a Milvus expression) are passed to every search.
    """

    def __init__(
        self,
        silo: Silo,
        *,
        similarity_top_k: int = 5,
        mode: str | None = None,
        rerank: str | None = None,
        route: int | None = None,
        tenant: str | None = None,
        consistency_level: str | None = None,
        where: dict[str, Any] | None = None,
        filter: str | None = None,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(callback_manager=callback_manager, verbose=verbose)
        self.silo = _check_silo(silo)
        self.similarity_top_k = silo._check_k(similarity_top_k)
        silo._tenant(tenant)
        self.search_options: dict[str, Any] = {
            "mode": mode,
            "rerank": rerank,
            "route": route,
            "tenant": tenant,
            "consistency_level": consistency_level,
            "where": where,
            "filter": filter,
        }

    def _search(self, query_bundle: QueryBundle) -> Query:
        options = {"k": self.similarity_top_k, **self.search_options}
        if query_bundle.embedding is not None and options["mode"] in (None, "dense", "hybrid"):
            options["vector"] = np.asarray(query_bundle.embedding, dtype=np.float32)
        return Query.of(query_bundle.query_str, **options)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.silo.search(self._search(query_bundle))
        return [NodeWithScore(node=to_node(h), score=h.score) for h in hits]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = await self.silo.asearch(self._search(query_bundle))
        return [NodeWithScore(node=to_node(h), score=h.score) for h in hits]


class RagsiloVectorStore(BasePydanticVectorStore):
    """A LlamaIndex vector store over a :class:`~ragsilo.Silo`'s collection.

    Nodes are stored one row each under their node id (their ``ref_doc_id`` is the
    row's ``doc_id``), with the embedding the index gives them, or the silo's own when
    they have none. Queries use the query's embedding (dense), its text (``sparse`` /
    ``text_search``: BM25; ``hybrid``: both), and ``mode``, ``rerank``, ``route`` and
    ``tenant`` of the store; metadata filters become a Milvus expression. The silo's
    collection is created if it does not exist yet.
    """

    stores_text: bool = True
    flat_metadata: bool = False
    mode: str | None = None
    rerank: str | None = None
    route: int | None = None
    tenant: str | None = None

    _silo: Silo = PrivateAttr()

    def __init__(
        self,
        silo: Silo,
        *,
        mode: str | None = None,
        rerank: str | None = None,
        route: int | None = None,
        tenant: str | None = None,
    ) -> None:
        super().__init__(stores_text=True, mode=mode, rerank=rerank, route=route, tenant=tenant)
        self._silo = _check_silo(silo)
        silo._tenant(tenant)
        silo._ensure_collection(create=True)

    @classmethod
    def class_name(cls) -> str:
        return "RagsiloVectorStore"

    @property
    def client(self) -> Silo:
        """The silo this store writes to."""
        return self._silo

    # -------------------------------------------------------------------- writes
    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """Store the nodes (one row each, under ``node_id``); returns their ids."""
        if not nodes:
            return []
        with_vectors = [n.embedding is not None for n in nodes]
        if any(with_vectors) and not all(with_vectors):
            raise InputError("some nodes have embeddings and some not: embed all or none")
        metadatas = [
            node_to_metadata_dict(n, remove_text=True, flat_metadata=self.flat_metadata)
            for n in nodes
        ]
        return _rows.write_texts(
            self._silo,
            [n.get_content() for n in nodes],
            metadatas,
            [n.node_id for n in nodes],
            source_prefix=SOURCE_PREFIX,
            vectors=[list(n.embedding or ()) for n in nodes] if all(with_vectors) else None,
            tenant=self.tenant,
            doc_ids=[n.ref_doc_id or n.node_id for n in nodes],
        )

    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        import asyncio

        return await asyncio.to_thread(self.add, nodes, **kwargs)

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Delete every node of the document ``ref_doc_id``."""
        self._delete_where(_id_list("doc_id", [ref_doc_id]))

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        import asyncio

        await asyncio.to_thread(self.delete, ref_doc_id)

    def delete_nodes(
        self,
        node_ids: list[str] | None = None,
        filters: MetadataFilters | None = None,
        **delete_kwargs: Any,
    ) -> None:
        """Delete nodes by id and/or metadata filters (at least one of them)."""
        expr = _and(_id_list("id", node_ids) if node_ids else "", filters_to_expr(filters))
        if node_ids is not None and not node_ids:
            return
        if not expr:
            raise InputError("delete_nodes needs node ids or filters; clear() removes all")
        self._delete_where(expr)

    def _delete_where(self, expr: str) -> None:
        self._silo.delete(filter=expr, tenant=self.tenant)

    def clear(self) -> None:
        """Remove every node (of the store's tenant, when the silo has tenants)."""
        if self.tenant is not None:
            self._silo.delete(tenant=self.tenant)
            return
        self._silo.drop_collection()
        self._silo._ensure_collection(create=True)

    # --------------------------------------------------------------------- reads
    def get_nodes(
        self,
        node_ids: list[str] | None = None,
        filters: MetadataFilters | None = None,
    ) -> list[BaseNode]:
        """The stored nodes with these ids and/or matching these filters."""
        if node_ids is not None and filters is None:
            return [to_node(h) for h in _rows.get_hits(self._silo, node_ids, tenant=self.tenant)]
        expr = _and(_id_list("id", node_ids) if node_ids else "", filters_to_expr(filters))
        if not expr:
            raise InputError("get_nodes needs node ids or filters")
        from ragsilo.silo import _to_hit
        from ragsilo.store import DEFAULT_OUTPUT_FIELDS

        silo = self._silo
        fields = list(DEFAULT_OUTPUT_FIELDS)
        rows = silo.store.query(
            silo.collection, silo._scoped(expr, silo._tenant(self.tenant)), ["id", *fields]
        )
        return [to_node(_to_hit({**r, "distance": 0.0}, fields)) for r in rows]

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """The ``similarity_top_k`` nodes nearest the query."""
        hits = self._silo.search(self._search(query))
        return _result(hits)

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        hits = await self._silo.asearch(self._search(query))
        return _result(hits)

    def _search(self, query: VectorStoreQuery) -> Query:
        if query.mode not in _MODES:
            raise InputError(
                f"query mode {query.mode.value!r} is not supported; use default, hybrid, "
                "sparse or text_search (and rerank='mmr' on the store for MMR)"
            )
        mode = _MODES[query.mode] or self.mode
        expr = _and(
            filters_to_expr(query.filters),
            _id_list("doc_id", query.doc_ids) if query.doc_ids else "",
            _id_list("id", query.node_ids) if query.node_ids else "",
        )
        options: dict[str, Any] = {
            "k": query.similarity_top_k,
            "mode": mode,
            "rerank": self.rerank,
            "route": self.route,
            "tenant": self.tenant,
            "filter": expr or None,
        }
        chosen = mode or self._silo.settings.retrieval.mode
        if query.query_embedding is not None and chosen != "bm25":
            options["vector"] = np.asarray(query.query_embedding, dtype=np.float32)
        elif not query.query_str:
            raise InputError("the query has neither an embedding nor a text")
        return Query.of(query.query_str or "", **options)


def _result(hits: list[Hit]) -> VectorStoreQueryResult:
    return VectorStoreQueryResult(
        nodes=[to_node(h) for h in hits],
        similarities=[h.score for h in hits],
        ids=[h.id for h in hits],
    )
