"""``Silo``: the one public facade. The CLI and the HTTP service are thin layers over it."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import numpy as np

from ragsilo.answer import Answer, create_answerer
from ragsilo.answer.asker import Asker
from ragsilo.chunking import Chunker, create_chunker
from ragsilo.cluster.centroids import CentroidStore
from ragsilo.cluster.model import ClusterModel
from ragsilo.cluster.recluster import (
    ClusterSummary,
    ReclusterReport,
    describe_clusters,
    finish_interrupted_rebuild,
)
from ragsilo.cluster.recluster import recluster as run_recluster
from ragsilo.embedding import Embedder, create_embedder
from ragsilo.errors import (
    CapabilityError,
    CollectionNotFoundError,
    ConfigError,
    InputError,
    NotFoundError,
    StoreError,
)
from ragsilo.ingest import Ingestor, ProgressCallback
from ragsilo.ingest.journal import Journal, journal_path
from ragsilo.ingest.texts import text_sources
from ragsilo.models import CollectionStats, Hit, IngestReport, ServerInfo
from ragsilo.quality import QualityScorer, quarantine_name
from ragsilo.quality.quarantine import Quarantine
from ragsilo.quality.report import QualityReport, QuarantinedChunk
from ragsilo.rerank.groups import HitGroup, group_by_cluster
from ragsilo.retrieval import SearchResult
from ragsilo.retrieval.images import (
    ensure_images_collection,
    images_name,
    read_query_image,
    search_images,
)
from ragsilo.retrieval.query import Query, check_k, check_text, resolve_tenant
from ragsilo.retrieval.searcher import run_query
from ragsilo.settings import IndexSettings, Settings, load_settings
from ragsilo.store import (
    IndexAdmin,
    MilvusStore,
    RetryPolicy,
    VectorStore,
    build_filter,
    plan_index,
)
from ragsilo.store.doctor import DoctorReport, run_doctor
from ragsilo.store.gate import SwapGate
from ragsilo.store.indexes import IndexPlan

if TYPE_CHECKING:
    from ragsilo.admin import Admin
    from ragsilo.answer.stream import AnswerStream

log = logging.getLogger(__name__)


P = ParamSpec("P")
R = TypeVar("R")


def _writer(method: Callable[Concatenate[Silo, P], R]) -> Callable[Concatenate[Silo, P], R]:
    """A method that writes to the silo's collections. Writers run side by side, but not
    beside a recluster (:func:`_alone`), which may copy the whole collection and swap the
    copy in: the rows of a write made meanwhile would be missing from the copy."""

    @functools.wraps(method)
    def wrapper(self: Silo, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._writes.call():
            return method(self, *args, **kwargs)

    return wrapper


def _alone(method: Callable[Concatenate[Silo, P], R]) -> Callable[Concatenate[Silo, P], R]:
    """A writer that waits for the silo's other writes to end and holds new ones back."""

    @functools.wraps(method)
    def wrapper(self: Silo, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._writes.exclusive():
            return method(self, *args, **kwargs)

    return wrapper


class Silo:
    """A retrieval silo: one Milvus collection of chunks, with its embedder and chunker.

    >>> silo = Silo.open()                      # ./ragsilo.db, the defaults
    >>> report = silo.ingest(["samples/"])
    >>> hits = silo.search("how hot should a compost pile get?", k=3)
    >>> silo.close()

    The constructor does no I/O; :meth:`open` connects. The embedding model is
    loaded on first use.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        store: VectorStore | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.settings = settings
        self._store = store
        self._embedder = embedder
        self._chunker: Chunker | None = None
        self._plan: IndexPlan | None = None
        self._ready = False
        self._clusters: ClusterModel | None = None
        self._clusters_loaded = False
        self._journal: Journal | None = None
        self._parsers: Any = None
        self._image_embedder: Any = None
        self._async_writes = threading.Lock()  # async ingests run one at a time
        # writes go side by side, but never beside a recluster (see `_writer`)
        self._writes = SwapGate()
        # parse workers, kept warm between ingests and stopped by close()
        self._parse_pools: Any = None

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        config_file: str | Path | None = None,
        embedder: Embedder | None = None,
        **overrides: Any,
    ) -> Silo:
        """Connect to Milvus as the settings say.

        ``overrides`` are nested section dicts, e.g. ``milvus={"uri": "x.db"}``.
        """
        if settings is None:
            settings = load_settings(config_file, overrides or None)
        elif overrides or config_file:
            raise ConfigError("give either a Settings object or config_file/overrides, not both")
        ingest = settings.ingest
        store = MilvusStore.connect(
            settings.milvus, RetryPolicy(ingest.retries, ingest.backoff_seconds)
        )
        finish_interrupted_rebuild(store, settings.collection.name)
        return cls(settings, store=store, embedder=embedder)

    def close(self) -> None:
        if self._parse_pools is not None:
            self._parse_pools.close()
            self._parse_pools = None
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> Silo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- properties
    @property
    def store(self) -> VectorStore:
        if self._store is None:
            raise StoreError("this Silo is not connected; use Silo.open()")
        return self._store

    @property
    def info(self) -> ServerInfo:
        return self.store.info

    @property
    def collection(self) -> str:
        return self.settings.collection.name

    @property
    def quarantine_collection(self) -> str:
        """Where chunks scoring under ``quality.threshold`` go: ``<collection>_quarantine``."""
        return quarantine_name(self.collection)

    @property
    def journal(self) -> Journal | None:
        """The ingest journal of this collection (``None`` with ``ingest.journal: false``)."""
        if self._journal is None and self.settings.ingest.journal:
            self._journal = Journal(journal_path(self.settings))
        return self._journal

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = create_embedder(self.settings.embedding)
        return self._embedder

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            self._chunker = create_chunker(self.settings.chunking, self.embedder.count_tokens)
        return self._chunker

    @property
    def index_plan(self) -> IndexPlan:
        if self._plan is None:
            self._plan = self._plan_for(self.settings.index)
        return self._plan

    def _plan_for(self, index: IndexSettings, rows: int | None = None) -> IndexPlan:
        """Plan ``index`` for this server. GPU types need ``index.gpu: true``: Milvus does not
        say whether it is a GPU build (a CPU build accepts a GPU index on an empty
        collection and fails only when it builds it), and Milvus Lite has none."""
        gpu = index.gpu and self.store.capabilities.gpu_indexes
        return plan_index(index, self.info, self.embedder.dimension, rows=rows, gpu=gpu)

    # ----------------------------------------------------------------- index
    def index(self) -> dict[str, Any]:
        """The collection's vector index: type, metric, build parameters, row count, and the
        types this server offers."""
        from ragsilo.store.indexes import plan_from_described

        self._ensure_collection(create=False)
        described = self._index_admin().vector_index(self.collection)
        stored = plan_from_described(described)
        return {
            "collection": self.collection,
            "type": str(described.get("index_type", "")),
            "metric": str(described.get("metric_type", "")),
            "params": stored.build if stored else {},
            "search_params": (self.store.plan_of(self.collection) or self.index_plan).search,
            "rows": self.store.count(self.collection),
            "dimension": self.embedder.dimension,
            "server_types": list(self.info.index_types),
        }

    @_writer
    def set_index(
        self,
        type: str | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        search_params: Mapping[str, Any] | None = None,
    ) -> IndexPlan:
        """Replace the vector index (``type`` ``auto`` chooses by the row count now); every row
        is kept. The new index is planned and checked first: a type or parameter the server
        does not take is refused before anything changes. Then: release, drop the index,
        build the new one, load, and check the row count."""
        self._ensure_collection(create=False)
        update: dict[str, Any] = {}
        if type is not None:
            update["type"] = type
            # another type starts from its own defaults, not the configured type's parameters
            update["params"], update["search_params"] = {}, {}
        if params is not None:
            update["params"] = dict(params)
        if search_params is not None:
            update["search_params"] = dict(search_params)
        try:
            index = IndexSettings.model_validate({**self.settings.index.model_dump(), **update})
        except ValueError as e:
            from ragsilo.settings import _describe

            raise ConfigError(_describe(e)) from None  # type: ignore[arg-type]
        rows = self.store.count(self.collection)
        plan = self._plan_for(index, rows)
        if plan.metric != self.index_plan.metric:
            raise ConfigError("the metric cannot change in place; use another collection")
        self._index_admin().replace_vector_index(self.collection, plan)
        self._plan = plan
        return plan

    def rebuild_index(self) -> IndexPlan:
        """Build the vector index again with its type and parameters; every row is kept."""
        info = self.index()
        return self.set_index(info["type"], params=info["params"])

    # ----------------------------------------------------------------- replicas
    def replicas(self) -> list[dict[str, Any]]:
        """The collection's in-memory replicas (id, query nodes, shards)."""
        self._ensure_collection(create=False)
        return self._index_admin().replicas(self.collection)

    def set_replicas(self, n: int) -> int:
        """Load the collection with ``n`` in-memory replicas; returns the count before. More
        than the cluster can host is refused, and the collection stays loaded as before."""
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 64:
            raise InputError(f"replicas must be a whole number from 1 to 64, not {n!r}")
        self._ensure_collection(create=False)
        return self._index_admin().set_replicas(self.collection, n)

    def _index_admin(self) -> IndexAdmin:
        store = self.store
        if not isinstance(store, IndexAdmin):
            raise CapabilityError(
                f"the {self.info.kind} store cannot change replicas or the vector index in place"
            )
        return store

    def _ensure_collection(self, *, create: bool) -> None:
        if self._ready:
            return
        finish_interrupted_rebuild(self.store, self.collection)
        if not create and not self.store.has_collection(self.collection):
            raise CollectionNotFoundError(
                f"collection {self.collection!r} does not exist at "
                f"{self.settings.milvus.display_uri}",
                hint="ingest documents first: ragsilo ingest PATH",
            )
        c = self.settings.collection
        self.store.ensure_collection(
            self.collection,
            dimension=self.embedder.dimension,
            plan=self.index_plan,
            consistency_level=c.consistency_level,
            shards=c.shards,
            description=c.description,
            bm25=self._bm25_spec(),
            tenants=c.tenants,
            tenant_partitions=c.tenant_partitions,
            replicas=c.replicas,
            codes=c.vector_codes,
        )
        if self.settings.quality.enabled and self.store.has_collection(self.quarantine_collection):
            self._create_like(self.quarantine_collection)  # checked and loaded
        self._ready = True

    def _tenant(self, tenant: str | None) -> str | None:
        """The tenant of a call, checked: required when ``collection.tenants`` is on, refused
        when it is off."""
        return resolve_tenant(self.settings, tenant)

    def _scoped(self, expr: str, tenant: str | None) -> str:
        """``expr`` narrowed to ``tenant`` (server-side, on the partition key)."""
        from ragsilo.store.filters import with_tenant

        return with_tenant(expr, tenant) if tenant is not None else expr

    def _bm25_spec(self) -> Any:
        """The BM25 field a new collection gets, or ``None`` where Milvus has no BM25."""
        from ragsilo.store.schema import bm25_spec

        if not self.info.bm25:
            return None
        r = self.settings.retrieval
        return bm25_spec(r.analyzer, self.info, k1=r.bm25_k1, b=r.bm25_b)

    # ---------------------------------------------------------------------- ingest
    @_writer
    def ingest(
        self,
        paths: Sequence[str | Path],
        *,
        prune: bool = False,
        workers: int | None = None,
        progress: ProgressCallback | None = None,
        on_total: Any = None,
        source_names: Mapping[str | Path, str] | None = None,
        retry_failed: bool = False,
        tenant: str | None = None,
    ) -> IngestReport:
        """Ingest files and folders; unchanged files are skipped, changed ones replaced.

        With ``prune``, documents that were ingested from inside the given
        folders but no longer exist on disk are removed. ``source_names`` gives
        files a source name other than their path (``{"/tmp/x/a.md":
        "upload://a.md"}``); documents are stored, found again and reported
        under that name. With ``retry_failed``, only the files the journal
        records as failed (inside ``paths``, or anywhere when ``paths`` is
        empty) are ingested again. ``tenant`` (required when
        ``collection.tenants`` is on) owns the documents: the same file
        ingested for two tenants is two documents.

        Running the same ingest again after a crash, a ``kill -9`` or a Milvus
        restart writes exactly what is missing: chunk ids are content hashes
        and a document counts as stored only when all its chunks are.
        """
        tenant = self._tenant(tenant)
        if retry_failed:
            paths = self._failed_paths(paths)
            if not paths:
                return IngestReport((), 0, 0, 0.0)
        if not paths:
            raise InputError("nothing to ingest: give at least one file or folder")
        if source_names and prune:
            raise InputError(
                "prune works on paths on disk; it cannot be combined with source_names"
            )
        self._ensure_collection(create=True)
        ingest_settings = self.settings.ingest
        if workers is not None:
            ingest_settings = ingest_settings.model_copy(update={"workers": workers})
            if not 1 <= workers <= 64:
                raise InputError(f"workers must be between 1 and 64, not {workers}")
        ingestor = self._ingestor(ingest_settings, tenant)
        names = {Path(p).expanduser().resolve(): n for p, n in (source_names or {}).items()}
        return ingestor.run(
            paths, prune=prune, progress=progress, on_total=on_total, source_names=names
        )

    def _ingestor(self, ingest_settings: Any, tenant: str | None = None) -> Ingestor:
        quality = self.settings.quality
        return Ingestor(
            self.store,
            self.collection,
            self.embedder,
            self.chunker,
            ingest_settings,
            embed_batch=self.settings.embedding.batch_size,
            cluster_assigner=self._cluster_assigner(),
            quality=QualityScorer(quality) if quality.enabled else None,
            quarantine=self.quarantine_collection if quality.enabled else None,
            create_quarantine=lambda: self._create_like(self.quarantine_collection),
            journal=self.journal,
            parsers=self.parsers,
            metric=self.index_plan.metric,
            image_embedder=self.image_embedder,
            images=self.images_collection,
            create_images=self._ensure_images,
            tenant=tenant,
            pools=self._worker_pools(),
        )

    def _worker_pools(self) -> Any:
        """The keeper of this silo's parse workers (started on the first ingest that needs them)."""
        if self._parse_pools is None:
            from ragsilo.ingest.workers import PoolKeeper

            self._parse_pools = PoolKeeper()
        return self._parse_pools

    # -------------------------------------------------------------------- images
    @property
    def images_collection(self) -> str:
        """Where the image vectors live (with ``images.model``): ``<collection>_images``."""
        return images_name(self.collection)

    @property
    def image_embedder(self) -> Any:
        """The CLIP model of ``images.model`` (``None`` without one), loaded on first use."""
        model = self.settings.images.model
        if model is None:
            return None
        if self._image_embedder is None:
            from ragsilo.embedding.clip import ClipEmbedder

            self._image_embedder = ClipEmbedder(model, threads=self.settings.embedding.threads)
        return self._image_embedder

    def _ensure_images(self) -> None:
        ensure_images_collection(self.store, self.collection, self.image_embedder)

    def search_images(
        self,
        query: str | None = None,
        *,
        image: str | Path | bytes | None = None,
        k: int | None = None,
        tenant: str | None = None,
    ) -> list[Hit]:
        """Images nearest a text (text→image) or another image (image→image), by the image
        vectors of ``images.model``; each hit is the image's chunk, ``score`` the cosine
        similarity. With ``collection.tenants`` on, only ``tenant``'s images are found."""
        tenant = self._tenant(tenant)
        return search_images(
            self.store,
            self.collection,
            self.settings,
            lambda: self.image_embedder,
            query=query,
            image=image,
            k=k,
            tenant=tenant,
            ready=lambda: self._ensure_collection(create=False),
        )

    @property
    def parsers(self) -> Any:
        """The parser registry ingest uses: the built-in parsers, with images as set."""
        if self._parsers is None:
            from ragsilo.parsers.budget import ParseBudget
            from ragsilo.parsers.image import parsers_for

            budget = ParseBudget.from_settings(self.settings.parsing)
            self._parsers = parsers_for(self.settings.images, budget)
        return self._parsers

    def _failed_paths(self, paths: Sequence[str | Path]) -> list[Path]:
        """The files the journal records as failed, inside ``paths`` when any are given."""
        journal = self.journal
        if journal is None:
            raise ConfigError("--retry-failed needs the ingest journal (ingest.journal: true)")
        roots = [Path(p).expanduser().resolve() for p in paths]
        out = []
        for source in journal.failed_sources():
            path = Path(source)
            if "://" in source or not path.is_absolute():
                continue  # uploads and texts have no file to read again
            if roots and not any(path == r or r in path.parents for r in roots):
                continue
            out.append(path)
        return out

    # -------------------------------------------------------------------- quality
    def _quarantine(self) -> Quarantine:
        return Quarantine(
            self.store, self.collection, ready=lambda: self._ensure_collection(create=False)
        )

    def quality_report(self) -> QualityReport:
        """Counts of kept and quarantined chunks, by reason and by score band."""
        return self._quarantine().report(self.settings.quality)

    def quarantine_list(
        self, *, limit: int = 100, reason: str | None = None, source: str | None = None
    ) -> list[QuarantinedChunk]:
        """The quarantined chunks (lowest score first), optionally of one reason or source."""
        return self._quarantine().list(limit=limit, reason=reason, source=source)

    @_writer
    def promote(self, ids: Sequence[str]) -> int:
        """Move quarantined chunks into the collection, where search finds them; returns
        how many moved. They stay there when their file is ingested again unchanged."""
        return self._quarantine().promote(ids, clusters=self._cluster_assigner)

    @_writer
    def purge(self, ids: Sequence[str] | None = None) -> int:
        """Delete quarantined chunks (the given ids, or all); returns how many went.

        The journal remembers them, so ingesting their unchanged files again does
        not bring them back.
        """
        return self._quarantine().purge(ids, log=lambda: self.journal)

    def journal_entries(self, state: str | None = None) -> list[Any]:
        """What the ingest journal records per file (``state``: written or failed)."""
        journal = self.journal
        return [] if journal is None else journal.entries(state)

    # ---------------------------------------------------------------------- search
    def search(
        self,
        query: str | Query,
        *,
        k: int | None = None,
        where: Mapping[str, object] | None = None,
        filter: str | None = None,
        output_fields: Sequence[str] | None = None,
        consistency_level: str | None = None,
        mode: str | None = None,
        rerank: str | None = None,
        route: int | None = None,
        query_vector: np.ndarray | None = None,
        tenant: str | None = None,
    ) -> list[Hit]:
        """Top-``k`` hits for ``query``, with optional equality filters and a raw Milvus expression.

        ``mode`` is ``dense``, ``bm25`` or ``hybrid`` (default ``retrieval.mode``);
        ``rerank`` names a reranker (default ``retrieval.rerank``); ``route`` = N
        searches only the N clusters nearest the query (default
        ``retrieval.route_clusters``; 0 searches everything). ``query_vector`` is
        the query's embedding when you already have it. ``tenant`` (required
        when ``collection.tenants`` is on) limits the search to that tenant's
        chunks, on the server. ``query`` may instead be a
        :class:`~ragsilo.retrieval.query.Query` holding all of these.
        """
        return self.retrieve(
            query,
            k=k,
            where=where,
            filter=filter,
            output_fields=output_fields,
            consistency_level=consistency_level,
            mode=mode,
            rerank=rerank,
            route=route,
            query_vector=query_vector,
            tenant=tenant,
        ).hits

    def retrieve(
        self,
        query: str | Query,
        *,
        k: int | None = None,
        where: Mapping[str, object] | None = None,
        filter: str | None = None,
        output_fields: Sequence[str] | None = None,
        consistency_level: str | None = None,
        mode: str | None = None,
        rerank: str | None = None,
        route: int | None = None,
        query_vector: np.ndarray | None = None,
        tenant: str | None = None,
    ) -> SearchResult:
        """Like :meth:`search`, with each hit's cluster id and what was done (mode,
        reranker, clusters routed to)."""
        q = Query.of(
            query,
            k=k,
            where=where,
            filter=filter,
            output_fields=output_fields,
            consistency_level=consistency_level,
            mode=mode,
            rerank=rerank,
            route=route,
            vector=query_vector,
            tenant=tenant,
        )
        return run_query(
            self.store,
            self.collection,
            self.settings,
            q,
            metric=lambda: self.index_plan.metric,
            clusters=self.cluster_model,
            embed=self.embed_query,
            ready=lambda: self._ensure_collection(create=False),
        )

    def search_groups(self, query: str | Query, **kwargs: Any) -> list[HitGroup]:
        """:meth:`search`'s hits grouped by cluster (groups in the order of their best hit),
        with each cluster's keywords: a view for assembling RAG context by topic."""
        result = self.retrieve(query, **kwargs)
        return group_by_cluster(result.hits, result.cluster_ids, self.cluster_model())

    def embed_query(self, query: str) -> np.ndarray:
        self._check_query(query)
        return self.embedder.embed([query])[0]

    def _check_query(self, query: str) -> None:
        check_text(query, self.settings.search)

    def _check_k(self, k: int | None) -> int:
        return check_k(k, self.settings.search)

    def search_vector(
        self,
        vector: np.ndarray | Query,
        *,
        k: int | None = None,
        where: Mapping[str, object] | None = None,
        filter: str | None = None,
        output_fields: Sequence[str] | None = None,
        consistency_level: str | None = None,
        rerank: str | None = None,
        route: int | None = None,
        tenant: str | None = None,
    ) -> list[Hit]:
        """Dense search with a vector you embedded yourself (see :meth:`embed_query`), or
        a :class:`~ragsilo.retrieval.query.Query` that carries one."""
        options = {
            "k": k,
            "where": where,
            "filter": filter,
            "output_fields": output_fields,
            "consistency_level": consistency_level,
            "rerank": rerank,
            "route": route,
            "tenant": tenant,
        }
        if isinstance(vector, Query):
            q = Query.of(vector, **options)
            if q.vector is None:
                raise InputError("search_vector needs a Query with a vector (Query(vector=...))")
        else:
            q = Query.of("", vector=vector, **options)
        return self.retrieve(q.replace(mode="dense")).hits

    # ------------------------------------------------------------- administration
    def admin(self) -> Admin:
        """Users and roles of the server (Milvus access control); the role presets grant
        privileges on this silo's collections. Refuses Milvus Lite, which has none."""
        from ragsilo.admin import Admin

        store = self.store
        if not isinstance(store, MilvusStore):
            raise CapabilityError(f"the {self.info.kind} store has no users or roles")
        return Admin(store, self.own_collections(), self.settings.milvus)

    def own_collections(self) -> list[str]:
        """The collections this silo uses: its chunks, its centroids and a recluster's
        scratch copy."""
        from ragsilo.cluster.recluster import rebuild_name
        from ragsilo.store.centroids import CENTROID_SUFFIX

        return [self.collection, self.collection + CENTROID_SUFFIX, rebuild_name(self.collection)]

    def stats(self) -> CollectionStats:
        return self.store.stats(self.collection)

    def collections(self) -> list[str]:
        return self.store.list_collections()

    @_writer
    def drop_collection(self, name: str | None = None) -> bool:
        """Drop a collection (this silo's when ``name`` is None); False when absent."""
        target = name or self.collection
        dropped = self.store.drop_collection(target)
        if dropped:
            CentroidStore(self.store).drop(target)  # its clusters go with it
        if target == self.collection:
            self.store.drop_collection(self.quarantine_collection)
            self.store.drop_collection(self.images_collection)
            if self.journal is not None:
                self.journal.reset()
            self._ready = False
            self._clusters, self._clusters_loaded = None, False
        return dropped

    @_writer
    def delete(
        self,
        *,
        where: Mapping[str, object] | None = None,
        filter: str | None = None,
        tenant: str | None = None,
    ) -> int:
        """Delete the chunks matching the filter (of ``tenant`` only, when the silo has
        tenants); returns how many were removed."""
        tenant = self._tenant(tenant)
        expr = build_filter(where, filter)
        if not expr and tenant is None:
            raise InputError("delete needs a filter; to remove everything drop the collection")
        expr = self._scoped(expr, tenant)
        self._ensure_collection(create=False)
        ids = [r["id"] for r in self.store.iter_rows(self.collection, expr, ["id"])]
        n = self.store.delete_ids(self.collection, ids)
        if n:
            self.store.commit(self.collection)
        return n

    # ----------------------------------------------------------------- clusters
    @_alone
    def recluster(
        self, *, k: int | None = None, rebuild: bool = False, progress: Any = None
    ) -> ReclusterReport:
        """Fit k-means to every chunk's vector (``k`` default: ``clustering.k``) and reassign
        each chunk's cluster id, rewriting by primary key; nothing is added or lost (checked
        at the end). Stores the centroids in ``<collection>_centroids``. ``rebuild`` copies
        the collection afresh even where few chunks change (on Milvus Lite it drops the old
        copies that upserts leave behind and every search walks past).

        ``progress`` is called as ``progress(stage, done, total)``.
        """
        if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 1):
            raise InputError(f"k must be a whole number of clusters, at least 1, not {k!r}")
        self._ensure_collection(create=False)
        c = self.settings.clustering
        partitioned = (
            c.partitions
            if isinstance(c.partitions, bool)
            # measured: partitions per cluster pay off on Milvus Lite, not on a server
            else self.settings.retrieval.route_clusters > 0
            and self.store.capabilities.routes_by_partition
        )
        if self.store.has_tenants(self.collection):
            if c.partitions is True:
                raise ConfigError(
                    "clustering.partitions cannot be used with tenants: the tenant is the "
                    "collection's partition key, and Milvus allows no other partitions",
                    hint="set clustering.partitions: false (or auto)",
                )
            partitioned = False
        model, report = run_recluster(
            self.store,
            self.collection,
            c,
            metric=self.index_plan.metric,
            partitioned=partitioned,
            create_like=self._create_like,
            k=k,
            rebuild=rebuild,
            progress=progress,
        )
        self._clusters, self._clusters_loaded = model, True
        return report

    def _create_like(self, name: str) -> None:
        """An empty collection with the chunk collection's schema and index (for a recluster
        rebuild): the index it really has, which ``ragsilo index set`` may have changed."""
        c = self.settings.collection
        self.store.ensure_collection(
            name,
            dimension=self.embedder.dimension,
            # the index the collection has (the store reads it when it opens the collection)
            plan=self.store.plan_of(self.collection) or self.index_plan,
            consistency_level=c.consistency_level,
            shards=c.shards,
            description=c.description,
            bm25=self._bm25_spec() if self.store.has_bm25(self.collection) else None,
            tenants=self.store.has_tenants(self.collection),
            tenant_partitions=c.tenant_partitions,
            replicas=c.replicas,
            codes=self.store.has_codes(self.collection),
        )

    def cluster_model(self, *, refresh: bool = False) -> ClusterModel | None:
        """The silo's clusters (``None`` before the first :meth:`recluster`), read once and
        kept; ``refresh`` reads them again (after a recluster in another process)."""
        if refresh or not self._clusters_loaded:
            self._clusters = CentroidStore(self.store).read(self.collection)
            self._clusters_loaded = True
        return self._clusters

    def clusters(self, *, samples: int | None = None) -> list[ClusterSummary]:
        """Every cluster's size now, keywords and representative chunks (largest first)."""
        self._ensure_collection(create=False)
        model = self.cluster_model(refresh=True)
        if model is None:
            raise NotFoundError(
                f"collection {self.collection!r} has no clusters yet",
                hint="run `ragsilo recluster` first",
            )
        n = self.settings.clustering.representatives if samples is None else samples
        return describe_clusters(self.store, self.collection, model, n)

    def _cluster_assigner(self) -> ClusterModel | None:
        """The clusters new chunks are assigned to at ingest, if any and if enabled."""
        if not self.settings.clustering.assign_on_ingest:
            return None
        return self.cluster_model(refresh=True)

    def doctor(self) -> DoctorReport:
        """Check the deployment: probe, then create-insert-index-load-search-drop on a scratch
        collection (like Milvus's hello_milvus)."""
        return run_doctor(self.store)

    @_writer
    def ingest_texts(
        self,
        texts: Sequence[tuple[str, dict[str, Any]]] | Sequence[str],
        *,
        source_prefix: str = "text://",
        tenant: str | None = None,
    ) -> IngestReport:
        """Ingest texts as documents; the report names each by its source.

        A text's source is ``text://<name>`` when its fields carry a ``name``,
        else ``text://`` and the first 16 hex digits of its sha256, so sending
        the same text again writes nothing. ``title`` in the fields sets the
        title; the other fields are metadata, filterable as ``metadata.<key>``.
        """
        tenant = self._tenant(tenant)
        documents = text_sources(texts, source_prefix=source_prefix)
        if not documents:
            raise InputError("nothing to ingest: give at least one text")
        self._ensure_collection(create=True)
        return self._ingestor(self.settings.ingest, tenant).run_documents(documents)

    def ask(
        self,
        question: str | Query,
        *,
        k: int = 5,
        where: Mapping[str, object] | None = None,
        filter: str | None = None,
        consistency_level: str | None = None,
        tenant: str | None = None,
    ) -> Answer:
        """Answer ``question`` from ``k`` hits (see :meth:`ask_context`), citing them as
        ``[1]``, ``[2]`` ...

        With ``llm.base_url`` and ``llm.model`` set, a language model writes the
        answer; otherwise it is made of the hits' best sentences (offline).
        ``tenant`` and ``consistency_level`` are as in :meth:`search`. ``question``
        may be a :class:`~ragsilo.retrieval.query.Query` (its mode, reranker and
        routing are used too; ``k`` is 5 when it names none).
        """
        q = self._ask_query(question, k, where, filter, consistency_level, tenant)
        return self._asker(q).answer(q.text, self._check_k(q.k))

    def ask_stream(
        self,
        question: str | Query,
        *,
        k: int = 5,
        where: Mapping[str, object] | None = None,
        filter: str | None = None,
        consistency_level: str | None = None,
        tenant: str | None = None,
    ) -> AnswerStream:
        """:meth:`ask`, with the answer handed out piece by piece as it is written.

        The citations are known at once (``stream.citations``); iterate the stream for
        the text, then read ``stream.text`` (or call ``stream.answer()``)::

            stream = silo.ask_stream("how hot does a compost pile get?")
            for piece in stream:
                print(piece, end="", flush=True)

        A language model that cannot be reached fails here, before any piece; a stream
        that breaks off later raises :class:`AnswerError` from the loop. An extractive
        answer (no ``llm`` set) comes as one piece.
        """
        q = self._ask_query(question, k, where, filter, consistency_level, tenant)
        return self._asker(q).stream(q.text, self._check_k(q.k))

    # ---------------------------------------------------------------------- async
    # Each runs the blocking call in a worker thread (asyncio.to_thread), so the event
    # loop goes on meanwhile. Cancelling the awaiting task returns at once; the call
    # already under way in its thread runs to its end (a search or a write cannot be
    # taken back half-way), and its result is dropped. Writes are done one at a time.

    async def asearch(self, query: str | Query, **kwargs: Any) -> list[Hit]:
        """:meth:`search` for ``async`` code (same keyword arguments)."""
        import asyncio

        return await asyncio.to_thread(self.search, query, **kwargs)

    async def aretrieve(self, query: str | Query, **kwargs: Any) -> SearchResult:
        """:meth:`retrieve` for ``async`` code (same keyword arguments)."""
        import asyncio

        return await asyncio.to_thread(self.retrieve, query, **kwargs)

    async def aask(self, question: str | Query, *, stream: bool = False, **kwargs: Any) -> Any:
        """:meth:`ask` for ``async`` code (same keyword arguments): an :class:`Answer`, or
        with ``stream=True`` an :class:`AsyncAnswerStream` to read with ``async for``::

            stream = await silo.aask("how hot does a compost pile get?", stream=True)
            print(stream.citations)
            async for piece in stream:
                print(piece, end="")
        """
        import asyncio

        if not stream:
            return await asyncio.to_thread(self.ask, question, **kwargs)
        from ragsilo.answer.stream import AsyncAnswerStream

        return AsyncAnswerStream(await asyncio.to_thread(self.ask_stream, question, **kwargs))

    async def aingest_texts(
        self,
        texts: Sequence[tuple[str, dict[str, Any]]] | Sequence[str],
        **kwargs: Any,
    ) -> IngestReport:
        """:meth:`ingest_texts` for ``async`` code (same keyword arguments)."""
        import asyncio

        return await asyncio.to_thread(self._one_writer, self.ingest_texts, texts, **kwargs)

    async def aingest(self, paths: Sequence[str | Path], **kwargs: Any) -> IngestReport:
        """:meth:`ingest` for ``async`` code (same keyword arguments; a ``progress``
        callback is called from the worker thread)."""
        import asyncio

        return await asyncio.to_thread(self._one_writer, self.ingest, paths, **kwargs)

    def _one_writer(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        with self._async_writes:
            return fn(*args, **kwargs)

    def ask_context(
        self,
        question: str | Query,
        *,
        k: int = 5,
        where: Mapping[str, object] | None = None,
        filter: str | None = None,
        consistency_level: str | None = None,
        tenant: str | None = None,
    ) -> tuple[list[Hit], np.ndarray]:
        """The ``k`` chunks :meth:`ask` answers from, and the question's vector.

        The question is searched as :meth:`search` would (``retrieval.mode``,
        ``retrieval.rerank``) for a pool of several times ``k`` hits, from which
        :func:`~ragsilo.answer.context.select_context` takes ``k``: no near-copies,
        few chunks of one document or one cluster, so the context holds more
        distinct documents.
        """
        q = self._ask_query(question, k, where, filter, consistency_level, tenant)
        return self._asker(q).context(q.text, self._check_k(q.k))

    def _ask_query(self, question: str | Query, k: int, *options: Any) -> Query:
        """The Query of an ask: with a Query, ``k`` is its own (5 when it has none)."""
        where, filter, consistency_level, tenant = options
        if isinstance(question, Query) and k == 5:
            question = question if question.k is not None else question.replace(k=5)
            k = None  # type: ignore[assignment]
        return Query.of(
            question,
            k=k,
            where=where,
            filter=filter,
            consistency_level=consistency_level,
            tenant=tenant,
        )

    def _asker(self, q: Query) -> Asker:
        return Asker(
            embed_query=self.embed_query,
            search=lambda n, vector: self.retrieve(q.replace(k=n, vector=vector)),
            answerer=lambda: create_answerer(self.settings.llm, embed=self.embedder.embed),
            max_k=self.settings.search.max_k,
        )


def _read_query_image(path: Path) -> bytes:
    return read_query_image(path)


def _to_hit(row: dict[str, Any], fields: list[str]) -> Hit:
    return Hit.from_row(row, fields)
