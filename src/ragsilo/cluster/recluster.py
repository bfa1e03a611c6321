"""Refitting a silo's clusters and reassigning every chunk, through the store.

:func:`recluster` reads every chunk's id, cluster id and vector, fits k-means,
and gives each chunk its new cluster id by primary key, so nothing is added or
lost; then it stores the centroids with each cluster's size, keywords and
representative chunks, and checks that the collection holds exactly the ids it
held before. Running it twice on the same data changes nothing the second time
(the fit is seeded).

How chunks are rewritten depends on the layout:

* one partition (the default): the chunks whose cluster changed are upserted
  in place, except on a store that keeps an upserted row's old copy
  (``Capabilities.keeps_replaced_rows``: Milvus Lite) when at least half of the
  chunks change (the first clustering changes them all): every search would walk
  past the dead copies (searches 29-43 % slower, measured), so the collection
  is rebuilt as below, which leaves none;
* one partition per cluster (before or after): Milvus keeps a primary key per
  partition, so a row cannot be moved between partitions by an upsert (Milvus
  2.3 keeps both copies; Milvus Lite goes on showing the old one in partition
  searches, and can bring it back when a partition is dropped). So the
  collection is rebuilt: every chunk is copied into ``<collection>__rebuild``
  in its new partition, the copy is checked, the old collection is dropped and
  the copy renamed. A crash leaves either the old collection whole or the
  checked copy, which the next open of the silo renames into place. Searches
  through the same store while the copy is swapped in wait for the swap.

A silo's own writes (ingest, delete, ...) and its recluster take turns (``Silo``
holds the recluster until the writes under way end, and new ones until it ends).
Writes from another process are not held back: on a Milvus server, do not ingest
from elsewhere while a recluster runs (a Milvus Lite file is open in one process).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ragsilo.cluster import auto_k
from ragsilo.cluster.centroids import CentroidStore
from ragsilo.cluster.keywords import KeywordCounter
from ragsilo.cluster.kmeans import KMeansClusterer, assign
from ragsilo.cluster.model import ClusterModel
from ragsilo.errors import CollectionNotFoundError, InputError, StoreError
from ragsilo.settings import ClusteringSettings
from ragsilo.store.protocol import VectorStore
from ragsilo.store.schema import UNASSIGNED, VECTOR_FIELD, cluster_partition

log = logging.getLogger(__name__)

#: Rows rewritten per round trip.
MOVE_BATCH = 500
#: Rows written between flushes during a rewrite.
FLUSH_EVERY = 20_000
#: Rows per page when the whole collection is read.
SCAN_PAGE = 2000
REBUILD_SUFFIX = "__rebuild"
#: On a store that keeps replaced rows, the share of changed chunks from which the
#: collection is rebuilt rather than upserted in place.
REBUILD_SHARE = 0.5
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ReclusterReport:
    """What a recluster did."""

    collection: str
    rows: int
    k: int
    moved: int
    partitioned: bool
    rebuilt: bool
    inertia: float
    algorithm: str
    iterations: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "rows": self.rows,
            "k": self.k,
            "moved": self.moved,
            "partitioned": self.partitioned,
            "rebuilt": self.rebuilt,
            "inertia": round(self.inertia, 6),
            "algorithm": self.algorithm,
            "iterations": self.iterations,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class ClusterSummary:
    """One cluster as ``ragsilo clusters`` shows it.

    ``size`` is the number of chunks it holds now, ``fitted_size`` the number at
    the last fit; ``representatives`` are the chunks nearest its centre (id,
    source and text). Cluster id -1 gathers chunks no clustering has reached.
    """

    cluster_id: int
    size: int
    fitted_size: int
    keywords: tuple[str, ...]
    representatives: tuple[dict[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster_id": self.cluster_id,
            "size": self.size,
            "fitted_size": self.fitted_size,
            "keywords": list(self.keywords),
            "representatives": list(self.representatives),
        }


def describe_clusters(
    store: VectorStore, collection: str, model: ClusterModel, samples: int
) -> list[ClusterSummary]:
    """Every cluster's live size, keywords and up to ``samples`` representative chunks,
    largest first (unassigned chunks, if any, last)."""
    live = Counter(
        int(r.get("cluster_id", UNASSIGNED))
        for r in store.iter_rows(collection, "", ["cluster_id"], batch_size=5000)
    )
    wanted = [rid for reps in model.representatives for rid in reps[: max(samples, 0)]]
    found = (
        {str(r["id"]): r for r in store.get_rows(collection, wanted, ["id", "source", "text"])}
        if wanted
        else {}
    )
    out: list[ClusterSummary] = []
    for c in range(model.k):
        reps = []
        chosen = model.representatives[c] if c < len(model.representatives) else ()
        for rid in chosen[: max(samples, 0)]:
            row = found.get(rid)
            if row is not None:
                reps.append({"id": rid, "source": str(row["source"]), "text": str(row["text"])})
        out.append(
            ClusterSummary(
                cluster_id=c,
                size=live.get(c, 0),
                fitted_size=int(model.sizes[c]),
                keywords=tuple(model.keywords[c]) if c < len(model.keywords) else (),
                representatives=tuple(reps),
            )
        )
    out.sort(key=lambda s: (-s.size, s.cluster_id))
    stray = sum(n for c, n in live.items() if not 0 <= c < model.k)
    if stray:
        out.append(ClusterSummary(UNASSIGNED, stray, 0, (), ()))
    return out


def recluster(
    store: VectorStore,
    collection: str,
    settings: ClusteringSettings,
    *,
    metric: str,
    partitioned: bool,
    create_like: Callable[[str], None],
    k: int | None = None,
    rebuild: bool = False,
    progress: ProgressFn | None = None,
) -> tuple[ClusterModel, ReclusterReport]:
    """Fit ``k`` clusters (default: ``settings.k``) to ``collection`` and reassign its chunks.

    ``create_like(name)`` creates an empty collection with ``collection``'s schema
    and index (used when the collection has to be rebuilt). ``rebuild`` copies the
    collection afresh whatever changes (on Milvus Lite this drops the replaced copies an
    earlier in-place recluster or re-ingest left behind).
    """
    started = time.perf_counter()
    step = progress or (lambda stage, done, total: None)
    if not store.has_collection(collection):
        raise CollectionNotFoundError(
            f"collection {collection!r} does not exist", hint="ingest documents first"
        )
    centroids_store = CentroidStore(store)
    previous = centroids_store.read(collection)
    was_partitioned = previous.partitioned if previous is not None else False

    ids, old_labels, vectors = _read_vectors(store, collection, step)
    n = len(ids)
    if n == 0:
        raise InputError(
            f"nothing to cluster: collection {collection!r} has no chunks",
            hint="ingest documents first",
        )
    wanted = k if k is not None else settings.k
    if wanted == "auto":
        chosen = auto_k(n, settings.max_k)
    else:
        chosen = int(wanted)
        if chosen < 1:
            raise InputError(f"k must be at least 1, not {chosen}")
        if chosen > n:
            raise InputError(
                f"k ({chosen}) is larger than the number of chunks ({n}) in {collection!r}",
                hint=f"use k of at most {n}, or k: auto",
            )
    step("fit", 0, n)
    fit = KMeansClusterer(
        metric=metric,
        seed=settings.seed,
        max_iter=settings.max_iter,
        tol=settings.tol,
        sample_size=settings.sample_size,
        batch_size=settings.batch_size,
        full_batch_max=settings.full_batch_max,
    ).fit(vectors, chosen)
    labels, dist = assign(vectors, fit.centroids, metric)
    sizes = np.bincount(labels, minlength=chosen).astype(np.int64)
    new_labels = dict(zip(ids, labels.tolist(), strict=True))

    changed = np.flatnonzero(labels != old_labels)
    relayout = (partitioned or was_partitioned) and (
        partitioned != was_partitioned or changed.size > 0
    )
    # in place, most chunks would leave a dead copy behind that every search walks past
    rewrites_most = (
        store.capabilities.keeps_replaced_rows
        and changed.size > 0
        and changed.size >= REBUILD_SHARE * n
    )
    rebuilt = rebuild or relayout or rewrites_most
    # the keywords are counted during a full pass over the rows when there is one anyway
    counter = KeywordCounter(chosen) if settings.keywords > 0 else None
    if rebuilt:
        moved = _rebuild(
            store, collection, new_labels, partitioned, create_like, step, counter=counter
        )
        scanned = True
    else:
        moved, scanned = _rewrite(
            store,
            collection,
            [ids[i] for i in changed],
            labels[changed],
            step,
            total=n,
            all_labels=new_labels,
            counter=counter,
        )
    if counter is None:
        keywords: list[list[str]] = [[] for _ in range(chosen)]
    elif scanned:
        keywords = counter.top(settings.keywords)
    else:
        keywords = _keywords(store, collection, new_labels, chosen, settings.keywords, step)
    reps = _representatives(ids, labels, dist, chosen, settings.representatives)
    model = ClusterModel(
        centroids=fit.centroids,
        sizes=sizes,
        metric=metric,
        partitioned=partitioned,
        keywords=tuple(tuple(w) for w in keywords),
        representatives=reps,
        info={
            "k": chosen,
            "rows": n,
            "seed": settings.seed,
            "algorithm": fit.algorithm,
            "iterations": fit.iterations,
            "fitted_on": fit.fitted_on,
            "inertia": fit.inertia,
            "fitted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )
    centroids_store.write(collection, model)
    store.flush(collection)
    _verify(store, collection, set(ids), step)
    report = ReclusterReport(
        collection=collection,
        rows=n,
        k=chosen,
        moved=moved,
        partitioned=partitioned,
        rebuilt=bool(rebuilt),
        inertia=fit.inertia,
        algorithm=fit.algorithm,
        iterations=fit.iterations,
        seconds=time.perf_counter() - started,
    )
    log.info("reclustered %s: %s", collection, report.to_dict())
    return model, report


def rebuild_name(collection: str) -> str:
    """The scratch collection a rebuilding recluster copies ``collection`` into."""
    return f"{collection}{REBUILD_SUFFIX}"


def finish_interrupted_rebuild(store: VectorStore, collection: str) -> bool:
    """Rename a checked rebuild into place when a recluster stopped between dropping the
    old collection and renaming the copy; ``True`` when it did."""
    scratch = rebuild_name(collection)
    if store.has_collection(collection) or not store.has_collection(scratch):
        return False
    log.warning("finishing an interrupted recluster: renaming %s to %s", scratch, collection)
    store.rename_collection(scratch, collection)
    store.ensure_loaded(collection)
    return True


def _read_vectors(
    store: VectorStore, collection: str, step: ProgressFn
) -> tuple[list[str], np.ndarray, np.ndarray]:
    ids: list[str] = []
    labels: list[int] = []
    vectors: list[list[float]] = []
    seen: set[str] = set()
    total = store.count(collection)
    for row in store.iter_rows(collection, "", ["id", "cluster_id", VECTOR_FIELD], batch_size=2000):
        rid = str(row["id"])
        if rid in seen:  # a copy left in a second partition by an interrupted move
            continue
        seen.add(rid)
        ids.append(rid)
        labels.append(int(row.get("cluster_id", UNASSIGNED)))
        vectors.append(row[VECTOR_FIELD])
        if len(ids) % 10_000 == 0:
            step("read", len(ids), total)
    step("read", len(ids), total)
    # in primary-key order, whatever order the store reads partitions in: the same rows
    # give the same fit
    order = sorted(range(len(ids)), key=ids.__getitem__)
    ids = [ids[i] for i in order]
    vec = np.asarray(vectors, dtype=np.float32)[order] if vectors else np.zeros((0, 0), np.float32)
    return ids, np.asarray(labels, dtype=np.int64)[order], vec


def _rewrite(
    store: VectorStore,
    collection: str,
    ids: list[str],
    labels: np.ndarray,
    step: ProgressFn,
    *,
    total: int,
    all_labels: dict[str, int],
    counter: KeywordCounter | None,
) -> tuple[int, bool]:
    """Upsert the chunks whose cluster changed with their new cluster id, by primary key;
    returns (rows written, whether every row was read and fed to ``counter``).

    Few changes are fetched by id; many (the first clustering changes every chunk)
    are picked out of one pass over the collection.
    """
    fields = store.row_fields(collection)
    new = dict(zip(ids, labels.tolist(), strict=True))
    if not new:
        return 0, False
    done = 0
    scanning = len(new) * 10 >= total
    if not scanning:
        pages = (
            store.get_rows(collection, ids[start : start + MOVE_BATCH], fields)
            for start in range(0, len(ids), MOVE_BATCH)
        )
    else:
        pages = _pages(store.iter_rows(collection, "", fields, batch_size=SCAN_PAGE), SCAN_PAGE)
    seen: set[str] = set()
    counted: set[str] = set()
    for page in pages:
        out = []
        for row in page:
            rid = str(row["id"])
            if scanning and counter is not None and rid not in counted and rid in all_labels:
                counted.add(rid)
                counter.add(all_labels[rid], str(row.get("text", "")))
            if rid in new and rid not in seen:
                seen.add(rid)
                out.append({**{f: row[f] for f in fields if f in row}, "cluster_id": new[rid]})
        if out:
            store.write_rows(collection, out)
            done += len(out)
            step("reassign", done, len(new))
            if done % FLUSH_EVERY < len(out):
                # a large unflushed buffer makes every further page of the scan slower
                store.flush(collection)
    missing = set(new) - seen
    if missing:
        raise StoreError(
            f"{len(missing)} chunks of {collection!r} disappeared during the recluster "
            f"(e.g. {sorted(missing)[0]!r}); the others have their new cluster ids",
            hint="do not ingest or delete while reclustering; run recluster again",
        )
    return done, scanning


def _pages(rows: Any, size: int = MOVE_BATCH) -> Any:
    page: list[dict[str, Any]] = []
    for row in rows:
        page.append(row)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def _rebuild(
    store: VectorStore,
    collection: str,
    labels: dict[str, int],
    partitioned: bool,
    create_like: Callable[[str], None],
    step: ProgressFn,
    *,
    counter: KeywordCounter | None = None,
) -> int:
    """Copy every chunk into a new collection laid out by ``labels``, check the copy, then
    put it in the old one's place."""
    scratch = rebuild_name(collection)
    store.drop_collection(scratch)  # a copy left by an earlier, interrupted attempt
    create_like(scratch)
    if partitioned:
        store.ensure_partitions(
            scratch, [cluster_partition(c) for c in sorted(set(labels.values()))]
        )
    fields = store.row_fields(collection)
    done = 0
    seen: set[str] = set()
    try:
        batch: list[dict[str, Any]] = []
        for row in store.iter_rows(collection, "", fields, batch_size=SCAN_PAGE):
            rid = str(row["id"])
            if rid in seen or rid not in labels:
                continue  # a second copy of one id, or a chunk added since the read
            seen.add(rid)
            if counter is not None:
                counter.add(labels[rid], str(row.get("text", "")))
            batch.append({**{f: row[f] for f in fields if f in row}, "cluster_id": labels[rid]})
            if len(batch) >= MOVE_BATCH:
                done += _insert_placed(store, scratch, batch, partitioned)
                batch = []
                step("rebuild", done, len(labels))
                if done % FLUSH_EVERY < MOVE_BATCH:
                    store.flush(scratch)
        if batch:
            done += _insert_placed(store, scratch, batch, partitioned)
        step("rebuild", done, len(labels))
        store.flush(scratch)
        _verify(store, scratch, set(labels), step)
    except Exception:
        store.drop_collection(scratch)
        raise
    # searches from other threads wait the swap out rather than find no collection
    with store.exclusive():
        store.drop_collection(collection)
        store.rename_collection(scratch, collection)
        store.ensure_loaded(collection)
    return done


def _insert_placed(
    store: VectorStore, name: str, rows: list[dict[str, Any]], partitioned: bool
) -> int:
    if not partitioned:
        return store.write_rows(name, rows, insert=True)
    by_partition: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_partition.setdefault(cluster_partition(int(r["cluster_id"])), []).append(r)
    return sum(
        store.write_rows(name, part_rows, partition=part, insert=True)
        for part, part_rows in sorted(by_partition.items())
    )


def _keywords(
    store: VectorStore,
    collection: str,
    labels: dict[str, int],
    k: int,
    n: int,
    step: ProgressFn,
) -> list[list[str]]:
    if n <= 0:
        return [[] for _ in range(k)]
    counter = KeywordCounter(k)
    for row in store.iter_rows(collection, "", ["id", "text"], batch_size=2000):
        cid = labels.get(str(row["id"]))
        if cid is not None:
            counter.add(cid, str(row.get("text", "")))
    step("keywords", k, k)
    return counter.top(n)


def _representatives(
    ids: list[str], labels: np.ndarray, dist: np.ndarray, k: int, n: int
) -> tuple[tuple[str, ...], ...]:
    """The ``n`` chunks nearest each centre."""
    if n <= 0:
        return tuple(() for _ in range(k))
    order = np.lexsort((dist, labels))  # by cluster, then by distance
    out: list[list[str]] = [[] for _ in range(k)]
    for i in order:
        c = int(labels[i])
        if len(out[c]) < n:
            out[c].append(ids[i])
    return tuple(tuple(x) for x in out)


def _verify(store: VectorStore, collection: str, expected: set[str], step: ProgressFn) -> None:
    count = store.count(collection)
    seen: set[str] = set()
    dupes = 0
    for row in store.iter_rows(collection, "", ["id"], batch_size=5000):
        rid = str(row["id"])
        if rid in seen:
            dupes += 1
        seen.add(rid)
    if count != len(expected) or seen != expected or dupes:
        raise StoreError(
            f"recluster of {collection!r} ended with {count} rows ({len(seen)} distinct ids, "
            f"{dupes} repeated) where there were {len(expected)}",
            hint="run recluster again; re-ingest the source files if chunks are missing",
        )
    step("verify", count, count)
