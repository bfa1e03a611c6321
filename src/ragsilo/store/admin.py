"""Administering Milvus collections: create or check, load, replicas, the vector index,
partitions, renames and drops, and their statistics."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ragsilo.errors import (
    AuthenticationError,
    CapabilityError,
    CollectionNotFoundError,
    DimensionMismatchError,
    InputError,
    SchemaMismatchError,
    StoreError,
)
from ragsilo.models import CollectionStats
from ragsilo.store.catalog import CollectionState, described_dimension
from ragsilo.store.indexes import CATALOGUE, IndexPlan, plan_from_described
from ragsilo.store.reads import MilvusReads
from ragsilo.store.schema import (
    DEFAULT_PARTITION,
    MAX_LENGTHS,
    TERMS_FIELD,
    VECTOR_FIELD,
    BM25Spec,
    build_centroid_schema,
    build_index_params,
    build_schema,
    build_side_vector_schema,
    check_schema,
    flat_index_params,
    vector_index_params,
)

log = logging.getLogger(__name__)

_LOAD_WAIT_SECONDS = 120.0


class MilvusAdmin(MilvusReads):
    """Collection administration. Creating, ensuring, renaming and dropping a collection
    are what change its :class:`~ragsilo.store.catalog.CollectionState`."""

    # ---------------------------------------------------------------- collections
    def drop_collection(self, name: str) -> bool:
        """Drop ``name``; ``False`` when it did not exist."""
        if not self.has_collection(name):
            return False
        self._call(f"drop collection {name!r}", lambda: self.client.drop_collection(name))
        self._forget(name)
        return True

    def ensure_collection(
        self,
        name: str,
        *,
        dimension: int,
        plan: IndexPlan,
        consistency_level: str,
        shards: int = 1,
        description: str = "",
        bm25: BM25Spec | None = None,
        tenants: bool = False,
        tenant_partitions: int = 16,
        replicas: int = 1,
        codes: bool = False,
    ) -> bool:
        """Create the chunk collection, or check that the existing one matches.

        With ``tenants`` a new collection gets the ``tenant`` partition key
        (hashed into ``tenant_partitions`` partitions); an existing one must
        have it exactly when ``tenants`` is set. ``replicas`` is the number of
        in-memory replicas it is loaded with when it is not loaded yet.

        With ``bm25`` and a Milvus that has the BM25 function, a new collection
        gets the analysed text and BM25 sparse field; without either it gets
        none. An existing collection is accepted with or without it. With ``codes`` a
        new collection keeps vector codes (:mod:`ragsilo.store.codes`); an existing one
        is accepted with or without them. Either way
        the collection ends indexed and loaded, which is verified. Returns
        ``True`` when it was created.
        """
        created = False
        if self.has_collection(name):
            described = self.describe(name)
            check_schema(name, described, dimension, bm25, tenants=tenants)
            self._check_metric(name, plan)
            plan = self._stored_plan(name, plan)
            state = CollectionState.from_described(described, plan)
        else:
            spec = bm25 if self.capabilities.bm25_function else None
            schema = build_schema(dimension, description, spec, tenants=tenants, codes=codes)
            index_params = build_index_params(plan, self.info, spec)
            extra: dict[str, Any] = {"num_partitions": tenant_partitions} if tenants else {}
            self._create_indexed(
                name,
                schema,
                index_params,
                consistency_level=consistency_level,
                num_shards=shards,
                **extra,
            )
            created = True
            state = CollectionState(
                dimension=dimension,
                has_bm25=spec is not None,
                has_terms=spec is not None and spec.input_field == TERMS_FIELD,
                has_tenants=tenants,
                has_codes=codes,
                plan=plan,
            )
        self._remember(name, state)
        self.ensure_loaded(name, replicas=replicas)
        return created

    def _stored_plan(self, name: str, plan: IndexPlan) -> IndexPlan:
        """The plan of the index ``name`` really has (after ``ragsilo index set`` it may
        differ from ``plan``, the settings'): its type and build parameters, so that a copy
        of the collection gets the same index, and, for another type, that type's search
        parameters. ``plan`` where Milvus cannot say."""
        try:
            described = self.vector_index(name)
        except StoreError:
            return plan
        kind = str(described.get("index_type", ""))
        stored = plan_from_described(described)
        if not kind or kind not in CATALOGUE or stored is None:
            return plan
        if kind == plan.type:
            return replace(plan, build=stored.build or plan.build)
        log.info("collection %r has a %s index; searching it as such", name, kind)
        search = dict(CATALOGUE[kind].search)
        if "nprobe" in search and isinstance(stored.build.get("nlist"), int):
            search["nprobe"] = max(1, min(int(search["nprobe"]), stored.build["nlist"]))
        return IndexPlan(kind, plan.metric, stored.build, search, "the collection's index")

    def _check_metric(self, name: str, plan: IndexPlan) -> None:
        try:
            idx = self.vector_index(name)
        except StoreError:
            return  # no vector index yet: ensure_loaded will report it
        metric = idx.get("metric_type")
        if metric and metric != plan.metric:
            raise SchemaMismatchError(
                f"collection {name!r} uses metric {metric} but index.metric is {plan.metric}",
                hint=f"set index.metric: {metric}, or use another collection.name",
            )

    def ensure_vector_collection(
        self, name: str, *, dimension: int, metric: str = "COSINE"
    ) -> None:
        """A side collection of one vector per chunk id (``id``, ``doc_id``, ``source``,
        ``vector``), created if needed and loaded; the image vectors of a silo live in one."""
        if self.has_collection(name):
            got = self.dimension_of(name)
            if got != dimension:
                raise DimensionMismatchError(
                    f"collection {name!r} holds vectors of dimension {got}, "
                    f"but the image model gives {dimension}",
                    hint=f"drop {name!r} (ragsilo collections drop {name}) and ingest again",
                )
        else:
            schema = build_side_vector_schema(dimension, MAX_LENGTHS["source"])
            self._create_side_collection(name, schema, metric)
        self._remember(name, CollectionState(dimension=dimension))
        self.ensure_loaded(name)

    def ensure_centroid_collection(self, name: str, *, dimension: int, metric: str) -> bool:
        """A collection of one row per cluster (``cluster_id``, ``vector``, ``size``,
        ``detail``, ``info``), created if needed and loaded; one whose vectors have another
        dimension is dropped and created again. ``True`` when it was created."""
        exists = self.has_collection(name)
        if exists and described_dimension(self.describe(name)) != dimension:
            self.drop_collection(name)
            exists = False
        if not exists:
            self._create_side_collection(name, build_centroid_schema(dimension), metric)
        self._remember(name, CollectionState(dimension=dimension))
        self.ensure_loaded(name)
        return not exists

    def _create_side_collection(self, name: str, schema: Any, metric: str) -> None:
        self._create_indexed(name, schema, flat_index_params(metric), consistency_level="Strong")

    def _create_indexed(self, name: str, schema: Any, index_params: Any, **kwargs: Any) -> None:
        """Create ``name`` with its indexes; the caller loads it.

        pymilvus's ``create_collection(index_params=...)`` waits for each index it creates
        and sleeps 0.5 s before it first looks (1-2 s for a collection with a vector and a
        BM25 index). A new collection has no rows, so its indexes have nothing to build:
        they are created without that wait, and loading the collection (which the caller
        does and verifies) is what says the collection is ready."""
        self._call(
            f"create collection {name!r}",
            lambda: self.client.create_collection(name, schema=schema, **kwargs),
        )
        self._call(
            f"create the indexes of {name!r}",
            lambda: self.client.create_index(name, index_params, sync=False),
        )

    def rename_collection(self, old: str, new: str) -> None:
        self._call(
            f"rename collection {old!r} to {new!r}",
            lambda: self.client.rename_collection(old, new),
        )
        self._renamed(old, new)

    def stats(self, name: str) -> CollectionStats:
        if not self.has_collection(name):
            raise CollectionNotFoundError(
                f"collection {name!r} does not exist", hint="ingest something first"
            )
        self.ensure_loaded(name)  # Milvus Lite opens a collection released
        described = self.describe(name)
        idx = self.vector_index(name)
        docs = {r["doc_id"] for r in self.iter_rows(name, "", ["doc_id"])}
        return CollectionStats(
            name=name,
            rows=self.count(name),
            documents=len(docs),
            dimension=described_dimension(described),
            index_type=str(idx.get("index_type", "")),
            metric_type=str(idx.get("metric_type", "")),
            consistency_level=str(
                described.get("consistency_level_name") or described.get("consistency_level", "")
            ),
            load_state=self._load_state(name),
        )

    # ----------------------------------------------------------------------- load
    def ensure_loaded(self, name: str, *, replicas: int | None = None) -> None:
        """Load ``name`` if needed (with ``replicas`` in-memory replicas, on a server) and wait
        until Milvus reports it loaded."""
        state = self._load_state(name)
        if state == "Loaded":
            return
        self._load(name, replicas)

    def _load(self, name: str, replicas: int | None) -> None:
        kwargs: dict[str, Any] = {}
        if replicas is not None and replicas != 1:
            self._require_replicas(replicas)
            kwargs["replica_number"] = replicas
        try:
            self._call(
                f"load collection {name!r}", lambda: self.client.load_collection(name, **kwargs)
            )
        except StoreError as e:
            if not kwargs or isinstance(e, (AuthenticationError, CapabilityError)):
                raise
            raise CapabilityError(
                f"cannot load collection {name!r} with {replicas} replicas: {e.message}",
                hint="a replica needs its own query node: add query nodes, or lower "
                "collection.replicas",
            ) from None
        deadline = time.monotonic() + _LOAD_WAIT_SECONDS
        state = ""
        while time.monotonic() < deadline:
            state = self._load_state(name)
            if state == "Loaded":
                return
            time.sleep(0.2)
        raise StoreError(f"collection {name!r} did not finish loading (state {state})")

    def _require_replicas(self, replicas: int) -> None:
        if replicas != 1 and not self.capabilities.replicas:
            raise CapabilityError(
                f"Milvus Lite holds one in-process copy of a collection; it cannot load "
                f"{replicas} replicas",
                hint="set collection.replicas: 1, or use a Milvus cluster",
            )

    # ------------------------------------------------------------------- replicas
    def replicas(self, name: str) -> list[dict[str, Any]]:
        """The in-memory replicas of loaded collection ``name``: id, query nodes, shards."""
        if not self.capabilities.replicas:
            return [{"id": 0, "nodes": ["in-process"], "shards": 1, "resource_group": ""}]
        if self._load_state(name) != "Loaded":
            return []
        res = self._call(
            f"describe replicas of {name!r}", lambda: self.client.describe_replica(name)
        )
        return [
            {
                "id": int(getattr(r, "replica_id", 0) or 0),
                "nodes": [str(n) for n in (getattr(r, "node_ids", None) or ())],
                "shards": len(getattr(r, "shards", None) or ()),
                "resource_group": str(getattr(r, "resource_group", "") or ""),
            }
            for r in res or []
        ]

    def set_replicas(self, name: str, replicas: int) -> int:
        """Load ``name`` with ``replicas`` in-memory replicas; returns the count before.

        Milvus changes the replica count of a loaded collection only by releasing
        and loading it again. When the cluster cannot host that many (not enough
        query nodes), the collection is loaded again as it was and
        :class:`CapabilityError` says so.
        """
        if replicas < 1:
            raise InputError(f"replicas must be at least 1, not {replicas}")
        self._require_replicas(replicas)
        before = len(self.replicas(name)) or 1
        if not self.capabilities.replicas or (
            before == replicas and self._load_state(name) == "Loaded"
        ):
            return before
        self._call(f"release collection {name!r}", lambda: self.client.release_collection(name))
        try:
            self._load(name, replicas)
        except StoreError as e:
            with contextlib.suppress(StoreError):
                self._call(
                    f"release collection {name!r}",
                    lambda: self.client.release_collection(name),
                )
            self._load(name, before)
            raise CapabilityError(
                f"{e.message}; it is loaded again with {before}",
                hint="a replica needs its own query node: add query nodes, or ask for fewer",
            ) from None
        return before

    # --------------------------------------------------------------------- index
    def replace_vector_index(self, name: str, plan: IndexPlan) -> None:
        """Build ``plan`` as the vector index of ``name``, keeping every row.

        Release, drop the vector index, create the new one, load again (with
        the replicas it had), and check that the row count did not change. If the
        new index cannot be built, the old one is built again before the error
        is raised.
        """
        replicas = len(self.replicas(name)) or 1
        rows = self.count(name)
        old = self.vector_index(name)
        self._call(f"release collection {name!r}", lambda: self.client.release_collection(name))
        self._call(
            f"drop the vector index of {name!r}",
            lambda: self.client.drop_index(name, index_name=VECTOR_FIELD),
        )
        try:
            self._call(
                f"build a {plan.type} index on {name!r}",
                lambda: self.client.create_index(name, vector_index_params(plan, self.info)),
            )
        except StoreError:
            restore = plan_from_described(old)
            if restore is not None:
                self._call(
                    f"rebuild the previous index of {name!r}",
                    lambda: self.client.create_index(name, vector_index_params(restore, self.info)),
                )
            self._load(name, replicas)
            raise
        self._load(name, replicas)
        self._set_plan(name, plan)
        after = self.count(name)
        if after != rows:
            raise StoreError(
                f"collection {name!r} held {rows} rows before the index was rebuilt and {after} "
                "after"
            )

    # ----------------------------------------------------------------- partitions
    def ensure_partitions(self, name: str, partitions: Sequence[str]) -> list[str]:
        """Create the partitions that do not exist yet, loaded; returns those created."""
        existing = set(self.list_partitions(name))
        created = [p for p in partitions if p not in existing]
        for part in created:
            self._call(
                f"create partition {part!r} of {name!r}",
                lambda p=part: self.client.create_partition(name, p),
            )
        if created and self.capabilities.loads_partitions:
            self._call(
                f"load partitions of {name!r}",
                lambda: self.client.load_partitions(name, list(created)),
            )
        return created

    def drop_partitions(self, name: str, partitions: Sequence[str]) -> int:
        """Release and drop partitions (never ``_default``); returns how many were dropped."""
        dropped = 0
        for part in partitions:
            if part == DEFAULT_PARTITION:
                continue
            if self.capabilities.loads_partitions:
                self._call(
                    f"release partition {part!r} of {name!r}",
                    lambda p=part: self.client.release_partitions(name, [p]),
                )
            self._call(
                f"drop partition {part!r} of {name!r}",
                lambda p=part: self.client.drop_partition(name, p),
            )
            dropped += 1
        return dropped


__all__ = ["MilvusAdmin"]
