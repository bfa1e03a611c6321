"""One query, end to end: route → dense / BM25 / hybrid search with filters → rerank → hits.

Dense results score by the index metric (cosine by default), BM25 results by
their BM25 score, and hybrid results by the fused score (RRF or weighted). A
reranker changes only the order: it reorders the best ``candidates`` hits and
the first ``k`` are kept.

Routing: with ``route`` = N > 0, the query searches only the N clusters whose
centroids are nearest to its vector (plus chunks no clustering has reached).
When the clusters are stored one per partition, those partitions are searched;
otherwise the search is filtered on ``cluster_id``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ragsilo.cluster.model import ClusterModel
from ragsilo.errors import InputError
from ragsilo.models import Hit
from ragsilo.rerank import RerankContext, create_reranker
from ragsilo.retrieval.fusion import rrf, weighted
from ragsilo.retrieval.modes import check_mode, needs_text_index, needs_vector
from ragsilo.settings import RetrievalSettings, Settings
from ragsilo.store.milvus import DEFAULT_OUTPUT_FIELDS, DEFAULT_PARTITION, cluster_partition
from ragsilo.store.protocol import VectorStore
from ragsilo.store.schema import UNASSIGNED

if TYPE_CHECKING:
    from ragsilo.retrieval.query import Query

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchOptions:
    """One query's options, already checked by the caller (``k``, filters, fields).

    ``rerank_given`` and ``route_given`` tell whether the caller asked for them
    (an error when the silo has no clusters) or they came from the settings'
    defaults (then a silo without clusters searches everything, unreranked).
    """

    k: int
    mode: str
    rerank: str
    route: int
    filter: str = ""
    output_fields: tuple[str, ...] = DEFAULT_OUTPUT_FIELDS
    consistency_level: str | None = None
    rerank_given: bool = False
    route_given: bool = False


@dataclass(frozen=True)
class SearchResult:
    """The hits with their cluster ids (aligned; -1 when unknown) and what was done."""

    hits: list[Hit]
    cluster_ids: list[int]
    mode: str
    reranker: str
    routed_to: tuple[int, ...] = ()
    partitions: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)


class Retriever:
    """Runs queries against one chunk collection."""

    def __init__(
        self,
        store: VectorStore,
        collection: str,
        settings: RetrievalSettings,
        *,
        metric: str,
        clusters: Callable[[], ClusterModel | None],
        to_hit: Callable[[dict[str, Any], list[str]], Hit],
    ) -> None:
        self._store = store
        self._collection = collection
        self._settings = settings
        self._metric = metric
        self._clusters = clusters
        self._to_hit = to_hit

    def search(self, query: str, vector: np.ndarray | None, opts: SearchOptions) -> SearchResult:
        mode = check_mode(opts.mode)
        reranker = create_reranker(opts.rerank)
        if opts.route < 0:
            raise InputError(f"route must be 0 (search everything) or more, not {opts.route}")
        if needs_text_index(mode):
            self._store.require_bm25(self._collection, mode)
        if needs_vector(mode) and vector is None:
            raise InputError(f"{mode} search needs the query's vector")

        model: ClusterModel | None = None
        route = opts.route
        if route > 0 or reranker.needs_clusters:
            model = self._clusters()
        if model is None:
            if reranker.needs_clusters:
                if opts.rerank_given:
                    raise InputError(
                        f"reranker {opts.rerank!r} needs clusters and collection "
                        f"{self._collection!r} has none",
                        hint="run `ragsilo recluster` first",
                    )
                log.info("reranker %s needs clusters; none yet, so not reranking", opts.rerank)
                reranker = create_reranker("none")
            if route > 0:
                if opts.route_given:
                    raise InputError(
                        f"routing to {route} clusters needs clusters and collection "
                        f"{self._collection!r} has none",
                        hint="run `ragsilo recluster` first",
                    )
                route = 0

        expr = opts.filter
        partitions: list[str] = []
        routed: list[int] = []
        if route > 0 and model is not None and route < model.k:
            if vector is None:
                raise InputError("routing needs the query's vector")
            routed = model.nearest(vector, route)
            if model.partitioned:
                partitions = [cluster_partition(c) for c in routed] + [DEFAULT_PARTITION]
            else:
                clause = f"cluster_id in {[*routed, UNASSIGNED]}"
                expr = f"({expr}) and {clause}" if expr else clause

        reranking = reranker.name != "none"
        fetch = max(opts.k, self._settings.candidates) if reranking else opts.k
        wanted = list(opts.output_fields)
        fields = list(dict.fromkeys([*wanted, "cluster_id"]))
        # a reranker that says it needs no vectors (needs_vectors = False) spares their fetch
        vectors_needed = reranking and bool(getattr(reranker, "needs_vectors", True))
        vector_field = ""
        if vectors_needed:  # the codes, where the collection keeps them, else the vectors
            vector_field = self._store.candidate_vector_field(self._collection)
            fields.append(vector_field)
        rows = self._rows(query, vector, mode, fetch, expr, fields, partitions, opts)

        hits = [self._to_hit(r, wanted) for r in rows]
        cluster_ids = np.asarray(
            [int(r.get("cluster_id", UNASSIGNED)) for r in rows], dtype=np.int64
        )
        if reranking and hits:
            # the reranker reorders the best `candidates` hits; any beyond keep their order
            head = min(self._settings.candidates, len(hits))
            ctx = RerankContext(
                query=query,
                query_vector=vector,
                vectors=(
                    np.asarray([r[vector_field] for r in rows[:head]], dtype=np.float32)
                    if vectors_needed
                    else np.zeros((head, 0), dtype=np.float32)
                ),
                cluster_ids=cluster_ids[:head],
                clusters=model,
                metric=self._metric,
                mmr_lambda=self._settings.mmr_lambda,
                cluster_weight=self._settings.cluster_weight,
            )
            position = {h.id: i for i, h in enumerate(hits)}
            hits = reranker.rerank(hits[:head], ctx) + hits[head:]
            cluster_ids = cluster_ids[[position[h.id] for h in hits]] if hits else cluster_ids[:0]
        hits = hits[: opts.k]
        return SearchResult(
            hits=hits,
            cluster_ids=[int(c) for c in cluster_ids[: len(hits)]],
            mode=mode,
            reranker=reranker.name,
            routed_to=tuple(routed),
            partitions=tuple(partitions),
        )

    # ---------------------------------------------------------------- internals
    def _rows(
        self,
        query: str,
        vector: np.ndarray | None,
        mode: str,
        k: int,
        expr: str,
        fields: list[str],
        partitions: Sequence[str],
        opts: SearchOptions,
    ) -> list[dict[str, Any]]:
        common: dict[str, Any] = {
            "filter": expr,
            "output_fields": fields,
            "consistency_level": opts.consistency_level,
            "partitions": list(partitions) or None,
        }
        if mode == "dense":
            assert vector is not None
            return self._store.search(
                self._collection, np.asarray([vector], dtype=np.float32), k=k, **common
            )[0]
        if mode == "bm25":
            return self._store.search_bm25(self._collection, [query], k=k, **common)[0]
        assert vector is not None
        # hybrid: each leg brings at least `candidates` hits so fusion sees the same depth
        depth = max(k, self._settings.candidates)
        dense = self._store.search(
            self._collection, np.asarray([vector], dtype=np.float32), k=depth, **common
        )[0]
        sparse = self._store.search_bm25(self._collection, [query], k=depth, **common)[0]
        return fuse_rows(dense, sparse, self._settings, metric=self._metric)[:k]


def fuse_rows(
    dense: list[dict[str, Any]],
    sparse: list[dict[str, Any]],
    settings: RetrievalSettings,
    *,
    metric: str = "COSINE",
) -> list[dict[str, Any]]:
    """One list of rows from a dense and a BM25 result list, ``distance`` set to the fused
    score, as ``settings.fusion`` says (an L2 distance counts as its negative)."""
    sign = -1.0 if metric == "L2" else 1.0
    rows: dict[str, dict[str, Any]] = {}
    for r in (*sparse, *dense):  # dense rows win when both have an id (same stored fields)
        rows[str(r["id"])] = r
    weights = [settings.weights["dense"], settings.weights["bm25"]]
    if settings.fusion == "rrf":
        fused = rrf(
            [[str(r["id"]) for r in dense], [str(r["id"]) for r in sparse]],
            k=settings.rrf_k,
            weights=weights,
        )
    else:
        fused = weighted(
            [
                [(str(r["id"]), sign * float(r["distance"])) for r in dense],
                [(str(r["id"]), float(r["distance"])) for r in sparse],
            ],
            weights=weights,
        )
    return [{**rows[i], "distance": score} for i, score in fused]


# rerankers that use no query vector: a bm25 query with them is not embedded
VECTORLESS_RERANKERS = ("none", "mmr", "cluster_size", "cluster_distance", "cluster_smooth")


def run_query(
    store: VectorStore,
    collection: str,
    settings: Settings,
    query: Query,
    *,
    metric: Callable[[], str],
    clusters: Callable[[], ClusterModel | None],
    embed: Callable[[str], np.ndarray],
    ready: Callable[[], None],
) -> SearchResult:
    """Check ``query`` under ``settings``, then run it on ``collection``.

    The checks come first and cost nothing: the options (:meth:`Query.options`),
    then whether the store can answer a BM25 query. ``ready`` opens the
    collection; the text is embedded only when the mode, routing or reranker
    needs its vector and the query carries none.
    """
    opts = query.options(settings)
    if needs_text_index(opts.mode) and not store.info.bm25:
        store.require_bm25(collection, opts.mode)  # refused before any work
    ready()
    vector = query.vector
    if vector is None and (
        needs_vector(opts.mode) or opts.route > 0 or opts.rerank not in VECTORLESS_RERANKERS
    ):
        vector = embed(query.text)
    retriever = Retriever(
        store,
        collection,
        settings.retrieval,
        metric=metric(),
        clusters=clusters,
        to_hit=Hit.from_row,
    )
    return retriever.search(
        query.text, None if vector is None else np.asarray(vector, dtype=np.float32), opts
    )
