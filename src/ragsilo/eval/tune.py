"""``ragsilo tune``: choose the retrieval settings on the user's own labelled queries.

The labelled queries are a BEIR dataset (its corpus is ingested into an eval
collection, as ``ragsilo eval`` does) or a CSV of ``question,source`` rows
(searched in the configured collection; a hit is right when its source is the
expected one, or ends with it after a ``/``).

Every query is embedded once and searched once per leg (dense and, where the
collection has it, BM25) for ``retrieval.candidates`` chunks, with their
vectors; each candidate setting (mode, fusion, weights, ``cluster_smooth`` and
its ``cluster_weight``) then ranks those chunks the way a search with that
setting would, without asking Milvus again. Settings are scored by nDCG@10 over
documents.

So that the choice does not fit the queries it is scored on, it is
cross-validated: the queries are cut into folds, the best setting on the other
folds is scored on each fold, and the held-out gain over the current settings is
reported with a 95 % bootstrap confidence interval. A setting is recommended only
when that held-out gain is positive; each setting's gain on all queries is
reported with its own interval.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ragsilo.errors import InputError
from ragsilo.eval.metrics import dedupe, mean, ndcg_at_k
from ragsilo.rerank.base import DEFAULT_CLUSTER_WEIGHT
from ragsilo.rerank.strategies import cluster_smooth_scores
from ragsilo.retrieval.searcher import fuse_rows
from ragsilo.store.schema import VECTOR_FIELD

CLUSTER_WEIGHTS = (0.1, 0.2, 0.25, 0.35)
DENSE_WEIGHTS = (0.3, 0.5, 0.7)
MIN_QUERIES = 10
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TuneSetting:
    """One candidate ``retrieval`` setting."""

    mode: str
    fusion: str = "rrf"
    dense_weight: float = 0.5
    rerank: str = "none"
    cluster_weight: float = DEFAULT_CLUSTER_WEIGHT

    @property
    def label(self) -> str:
        parts = [self.mode]
        if self.mode == "hybrid":
            parts.append(f"{self.fusion} dense={self.dense_weight:g}")
        if self.rerank == "cluster_smooth":
            parts.append(f"cluster_smooth w={self.cluster_weight:g}")
        elif self.rerank != "none":
            parts.append(self.rerank)
        return " ".join(parts)

    def retrieval_section(self) -> dict[str, Any]:
        """What to write under ``retrieval:`` in ragsilo.yaml."""
        out: dict[str, Any] = {"mode": self.mode, "rerank": self.rerank}
        if self.mode == "hybrid":
            w = round(self.dense_weight, 4)
            out["fusion"] = self.fusion
            out["weights"] = {"dense": w, "bm25": round(1.0 - w, 4)}
        if self.rerank == "cluster_smooth":
            out["cluster_weight"] = self.cluster_weight
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, **self.retrieval_section()}


@dataclass(frozen=True)
class LabelledQueries:
    """Questions and what counts as a right answer to each: judged document ids (BEIR) or
    expected sources (CSV)."""

    name: str
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    by_source: bool  # True: keys are expected sources; False: BEIR document ids


@dataclass(frozen=True)
class SettingScore:
    """One setting's mean nDCG@10 and its gain over the current settings (95 % interval)."""

    setting: TuneSetting
    ndcg_at_10: float
    gain: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.setting.to_dict(),
            "ndcg@10": round(self.ndcg_at_10, 4),
            "gain": round(self.gain, 4),
            "ci95": [round(self.low, 4), round(self.high, 4)],
        }


@dataclass(frozen=True)
class TuneReport:
    """What tuning found: every setting's score, the cross-validated gain, the recommendation."""

    dataset: str
    queries: int
    folds: int
    baseline: TuneSetting
    baseline_ndcg: float
    scores: tuple[SettingScore, ...]
    best: TuneSetting
    cv_gain: float
    cv_low: float
    cv_high: float
    fold_choices: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def recommended(self) -> TuneSetting | None:
        """The best setting when its held-out gain is positive, else ``None`` (keep the
        current settings)."""
        if self.best == self.baseline or self.cv_gain <= 0:
            return None
        return self.best

    def to_dict(self) -> dict[str, Any]:
        rec = self.recommended
        return {
            "dataset": self.dataset,
            "queries": self.queries,
            "folds": self.folds,
            "baseline": {**self.baseline.to_dict(), "ndcg@10": round(self.baseline_ndcg, 4)},
            "best": self.best.to_dict(),
            "cross_validated_gain": round(self.cv_gain, 4),
            "cross_validated_ci95": [round(self.cv_low, 4), round(self.cv_high, 4)],
            "fold_choices": list(self.fold_choices),
            "recommended": None if rec is None else rec.retrieval_section(),
            "settings": [s.to_dict() for s in self.scores],
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- input
def load_question_csv(path: str | Path) -> LabelledQueries:
    """A CSV with a header naming a question column (``question`` or ``query``) and an
    expected-source column (``source``, ``expected_source`` or ``expected``); a question
    may have several rows, one per right source."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(f"{str(p)!r} does not exist")
    with p.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        q_col = next((h for h in ("question", "query") if h in header), None)
        s_col = next((h for h in ("source", "expected_source", "expected") if h in header), None)
        if q_col is None or s_col is None:
            raise InputError(
                f"{str(p)!r} needs a header with a 'question' and a 'source' column, "
                f"not {', '.join(header) or 'nothing'}",
                hint="e.g. question,source / How do I reset it?,docs/reset.md",
            )
        queries: dict[str, str] = {}
        qrels: dict[str, dict[str, int]] = {}
        ids: dict[str, str] = {}
        for n, row in enumerate(reader, 2):
            clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            question, source = clean.get(q_col, ""), clean.get(s_col, "")
            if not question and not source:
                continue
            if not question or not source:
                raise InputError(f"{p}:{n}: both a question and an expected source are needed")
            qid = ids.setdefault(question, f"q{len(ids) + 1}")
            queries[qid] = question
            qrels.setdefault(qid, {})[source] = 1
    if not queries:
        raise InputError(f"{str(p)!r} holds no questions")
    return LabelledQueries(p.stem, queries, qrels, by_source=True)


def default_grid(*, bm25: bool) -> list[TuneSetting]:
    """The settings tried: dense, BM25 and hybrid (both fusions, three weightings) when the
    collection has BM25, each without and with ``cluster_smooth`` at each of
    ``CLUSTER_WEIGHTS``."""
    bases = [TuneSetting("dense")]
    if bm25:
        bases.append(TuneSetting("bm25"))
        bases += [
            TuneSetting("hybrid", fusion=f, dense_weight=w)
            for f in ("rrf", "weighted")
            for w in DENSE_WEIGHTS
        ]
    out: list[TuneSetting] = []
    for b in bases:
        out.append(b)
        out += [
            TuneSetting(b.mode, b.fusion, b.dense_weight, "cluster_smooth", w)
            for w in CLUSTER_WEIGHTS
        ]
    return out


# ------------------------------------------------------------------------ ranking
@dataclass(frozen=True)
class QueryPool:
    """One query's candidate chunks from each leg, best first."""

    vector: np.ndarray | None
    dense: list[dict[str, Any]]
    sparse: list[dict[str, Any]]


def rank_documents(
    pool: QueryPool,
    setting: TuneSetting,
    base: Any,
    key: Callable[[str], str],
    *,
    metric: str = "COSINE",
) -> list[str]:
    """The document ranking a search with ``setting`` gives from this pool of chunks
    (``base`` is the silo's :class:`~ragsilo.settings.RetrievalSettings`)."""
    depth = base.candidates
    if setting.mode == "dense":
        rows = pool.dense[:depth]
    elif setting.mode == "bm25":
        rows = pool.sparse[:depth]
    else:
        fused = base.model_copy(
            update={
                "fusion": setting.fusion,
                "weights": {"dense": setting.dense_weight, "bm25": 1.0 - setting.dense_weight},
            }
        )
        rows = fuse_rows(pool.dense, pool.sparse, fused, metric=metric)[:depth]
    if setting.rerank == "cluster_smooth" and len(rows) > 1:
        scores = cluster_smooth_scores(
            np.asarray([float(r["distance"]) for r in rows]),
            row_vectors(rows),
            setting.cluster_weight,
        )
        rows = [rows[int(i)] for i in np.argsort(-scores, kind="stable")]
    return dedupe([key(str(r.get("source", ""))) for r in rows])


def row_vectors(rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """The rows' vectors, one row each (as :func:`collect_pools` fetches them)."""
    if any(VECTOR_FIELD not in r for r in rows):
        raise InputError(
            "cluster_smooth needs the candidates' vectors: collect the pools with "
            "collect_pools, which fetches them"
        )
    return np.asarray([r[VECTOR_FIELD] for r in rows], dtype=np.float32)


def source_key(expected: Sequence[str]) -> Callable[[str], str]:
    """A hit's source → the expected source it matches (exactly or as a ``/``-suffix), else
    the source itself."""
    wanted = sorted(set(expected), key=len, reverse=True)

    def key(source: str) -> str:
        for e in wanted:
            if source == e or source.endswith("/" + e.lstrip("/")):
                return e
        return source

    return key


# ------------------------------------------------------------------------ statistics
def bootstrap_ci(
    deltas: Sequence[float], *, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """The 95 % percentile bootstrap interval of the mean of ``deltas``."""
    d = np.asarray(deltas, dtype=np.float64)
    if len(d) == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(resamples, len(d)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def cross_validate(
    per_query: Mapping[TuneSetting, Sequence[float]],
    baseline: TuneSetting,
    *,
    folds: int,
    seed: int = 0,
) -> tuple[list[float], list[TuneSetting]]:
    """Held-out per-query gains of "pick the best setting on the other folds" over
    ``baseline``, and the setting each fold picked. Ties go to the baseline, then to the
    setting listed first."""
    settings = list(per_query)
    n = len(per_query[baseline])
    order = list(range(n))
    random.Random(seed).shuffle(order)
    parts = [order[i::folds] for i in range(folds)]
    scores = np.asarray([per_query[s] for s in settings], dtype=np.float64)  # (S, n)
    base_i = settings.index(baseline)
    gains: list[float] = []
    chosen: list[TuneSetting] = []
    for part in parts:
        held = np.zeros(n, dtype=bool)
        held[part] = True
        train = scores[:, ~held].mean(axis=1)
        best = base_i
        for i in range(len(settings)):
            if train[i] > train[best] + 1e-12:
                best = i
        chosen.append(settings[best])
        gains.extend((scores[best, held] - scores[base_i, held]).tolist())
    return gains, chosen


# ---------------------------------------------------------------------------- run
def run_tune(
    silo: Any,
    labelled: LabelledQueries,
    *,
    folds: int = 5,
    grid: Sequence[TuneSetting] | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> TuneReport:
    """Score every setting of ``grid`` (default: :func:`default_grid`) on ``labelled``,
    searched in ``silo``'s collection, and cross-validate the choice."""
    n = len(labelled.qrels)
    if n < MIN_QUERIES:
        raise InputError(
            f"tuning needs at least {MIN_QUERIES} labelled queries to cross-validate; "
            f"{labelled.name} has {n}",
            hint="label more questions",
        )
    if folds < 2 or folds > n:
        raise InputError(f"--folds must be from 2 to the number of queries ({n}), not {folds}")
    step = progress or (lambda stage, done, total: None)
    store, collection = silo.store, silo.collection
    if not store.has_collection(collection):
        raise InputError(
            f"collection {collection!r} does not exist", hint="ingest your documents first"
        )
    store.ensure_loaded(collection)
    base = silo.settings.retrieval
    metric = silo.index_plan.metric
    notes: list[str] = []
    bm25 = bool(silo.info.bm25) and _has_bm25(store, collection)
    if not bm25:
        notes.append("no BM25 here: only dense search tried")
    settings = list(grid) if grid is not None else default_grid(bm25=bm25)
    baseline = _baseline(base, bm25=bm25, notes=notes)
    if baseline not in settings:
        settings.insert(0, baseline)
    settings = [s for s in settings if (s.mode == "dense" or bm25)]

    key = (
        source_key([s for q in labelled.qrels.values() for s in q])
        if labelled.by_source
        else doc_key
    )
    pools = collect_pools(silo, labelled, bm25=bm25, progress=step)
    per_query = score_settings(pools, labelled, settings, base, key, metric=metric)
    base_scores = per_query[baseline]
    scores = []
    for s in settings:
        deltas = [a - b for a, b in zip(per_query[s], base_scores, strict=True)]
        lo, hi = bootstrap_ci(deltas, seed=seed)
        scores.append(SettingScore(s, mean(per_query[s]), mean(deltas), lo, hi))
    scores.sort(key=lambda x: -x.ndcg_at_10)
    best = max(settings, key=lambda s: (mean(per_query[s]), s == baseline))
    gains, chosen = cross_validate(per_query, baseline, folds=folds, seed=seed)
    lo, hi = bootstrap_ci(gains, seed=seed)
    return TuneReport(
        dataset=labelled.name,
        queries=n,
        folds=folds,
        baseline=baseline,
        baseline_ndcg=mean(base_scores),
        scores=tuple(scores),
        best=best,
        cv_gain=mean(gains),
        cv_low=lo,
        cv_high=hi,
        fold_choices=tuple(c.label for c in chosen),
        notes=tuple(notes),
    )


def collect_pools(
    silo: Any, labelled: LabelledQueries, *, bm25: bool, progress: ProgressFn | None = None
) -> list[QueryPool]:
    """Each query's ``retrieval.candidates`` best chunks from dense search (and BM25), with
    their vectors (``cluster_smooth`` uses them), in the order of ``labelled.qrels``."""
    store, collection = silo.store, silo.collection
    store.ensure_loaded(collection)
    depth = silo.settings.retrieval.candidates
    # what a search compares its hits by: the vector codes where the collection has them
    field = store.candidate_vector_field(collection)
    fields = ["source", field]
    qids = list(labelled.qrels)
    pools = []
    for i, qid in enumerate(qids):
        text = labelled.queries[qid]
        vector = np.asarray(silo.embed_query(text), dtype=np.float32)
        dense = store.search(collection, vector[None, :], k=depth, output_fields=fields)[0]
        sparse = (
            store.search_bm25(collection, [text], k=depth, output_fields=fields)[0] if bm25 else []
        )
        if field != VECTOR_FIELD:
            for row in (*dense, *sparse):
                row[VECTOR_FIELD] = row.pop(field)
        pools.append(QueryPool(vector, dense, sparse))
        if progress is not None and ((i + 1) % 25 == 0 or i + 1 == len(qids)):
            progress("queries", i + 1, len(qids))
    return pools


def score_settings(
    pools: Sequence[QueryPool],
    labelled: LabelledQueries,
    settings: Sequence[TuneSetting],
    base: Any,
    key: Callable[[str], str],
    *,
    metric: str = "COSINE",
) -> dict[TuneSetting, list[float]]:
    """Each setting's nDCG@10 per query (aligned with ``pools``)."""
    out: dict[TuneSetting, list[float]] = {s: [] for s in settings}
    for pool, qid in zip(pools, labelled.qrels, strict=True):
        for s in settings:
            ranked = rank_documents(pool, s, base, key, metric=metric)
            out[s].append(ndcg_at_k(ranked, labelled.qrels[qid], 10))
    return out


def _baseline(base: Any, *, bm25: bool, notes: list[str]) -> TuneSetting:
    mode = base.mode if (base.mode == "dense" or bm25) else "dense"
    if mode != base.mode:
        notes.append(f"retrieval.mode {base.mode} cannot run here: the baseline is dense")
    total = base.weights["dense"] + base.weights["bm25"]
    weight = round(base.weights["dense"] / total, 4) if total > 0 else 0.5
    rerank = base.rerank
    if rerank not in ("none", "cluster_smooth"):
        if rerank != "none":
            notes.append(f"retrieval.rerank {rerank} is not tuned: the baseline has no reranker")
        rerank = "none"
    smooth = {"rerank": rerank, "cluster_weight": base.cluster_weight} if rerank != "none" else {}
    if mode != "hybrid":
        return TuneSetting(mode, **smooth)
    return TuneSetting(mode, base.fusion, weight, **smooth)


def _has_bm25(store: Any, collection: str) -> bool:
    try:
        store.require_bm25(collection, "hybrid")
    except Exception:  # noqa: BLE001 - any refusal means: no BM25 leg to tune
        return False
    return True


def doc_key(source: str) -> str:
    """``beir://scifact/4983`` → ``4983``."""
    return source.rsplit("/", 1)[-1]
