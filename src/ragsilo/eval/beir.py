"""Reading a dataset in BEIR layout: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``.

``corpus.jsonl`` holds ``{"_id", "title", "text"}`` per line, ``queries.jsonl``
``{"_id", "text"}``, and the qrels file ``query-id<TAB>corpus-id<TAB>score`` with
a header line (or without one; split by spaces, or in TREC's four columns). Only
queries with at least one judged document are kept.

Documents with neither title nor text (classic collections have a few; a ``text``
that is absent or null counts as none) are left out and counted in
``empty_documents``; judgements of them are dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ragsilo.errors import InputError


@dataclass(frozen=True)
class BeirDataset:
    """A BEIR dataset (or a slice of one) in memory."""

    name: str
    path: Path
    corpus: dict[str, tuple[str, str]]  # doc id → (title, text)
    queries: dict[str, str]  # query id → text
    qrels: dict[str, dict[str, int]]  # query id → {doc id: relevance}
    empty_documents: tuple[str, ...] = ()  # ids of documents left out for having no text

    @property
    def judged_pairs(self) -> int:
        return sum(len(d) for d in self.qrels.values())


def load_beir(
    path: str | Path,
    *,
    split: str = "test",
    limit_docs: int | None = None,
    limit_queries: int | None = None,
) -> BeirDataset:
    """Load a BEIR dataset folder, optionally a slice of it.

    ``limit_queries`` keeps the first N judged queries. ``limit_docs`` keeps N
    documents: first every document judged for the kept queries, then others in
    file order; judgements of documents left out are dropped, and so are queries
    left with none. Raises :class:`InputError` naming what is missing or malformed.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise InputError(f"dataset folder {str(root)!r} does not exist")
    corpus_file = root / "corpus.jsonl"
    queries_file = root / "queries.jsonl"
    qrels_file = root / "qrels" / f"{split}.tsv"
    for f in (corpus_file, queries_file, qrels_file):
        if not f.is_file():
            raise InputError(
                f"{str(f)!r} is missing: a BEIR dataset has corpus.jsonl, queries.jsonl "
                f"and qrels/{split}.tsv"
            )
    corpus: dict[str, tuple[str, str]] = {}
    empty: list[str] = []
    for n, rec in _jsonl(corpus_file):
        doc_id = _field(rec, "_id", corpus_file, n)
        text = rec.get("text")
        if text is None:  # absent or null: the document is its title, or empty
            text = ""
        if not isinstance(text, str):
            raise InputError(f"{corpus_file}:{n}: 'text' is not a string")
        title = rec.get("title") or ""
        if not text.strip() and not str(title).strip():
            empty.append(doc_id)
            continue
        corpus[doc_id] = (str(title), text)
    if not corpus:
        raise InputError(
            f"{str(corpus_file)!r} holds no documents"
            + (f" with text ({len(empty)} are empty)" if empty else "")
        )
    queries = {
        _field(rec, "_id", queries_file, n): _field(rec, "text", queries_file, n)
        for n, rec in _jsonl(queries_file)
    }
    qrels = _read_qrels(qrels_file)

    kept = [q for q in qrels if q in queries]
    if limit_queries is not None:
        if limit_queries < 1:
            raise InputError(f"limit_queries must be at least 1, not {limit_queries}")
        kept = kept[:limit_queries]
    if limit_docs is not None:
        if limit_docs < 1:
            raise InputError(f"limit_docs must be at least 1, not {limit_docs}")
        chosen: dict[str, None] = {}
        for q in kept:
            for d in qrels[q]:
                if d in corpus and len(chosen) < limit_docs:
                    chosen[d] = None
        for d in corpus:
            if len(chosen) >= limit_docs:
                break
            chosen.setdefault(d, None)
        corpus = {d: corpus[d] for d in chosen}
    final_qrels: dict[str, dict[str, int]] = {}
    for q in kept:
        judged = {d: r for d, r in qrels[q].items() if d in corpus and r > 0}
        if judged:
            final_qrels[q] = judged
    if not final_qrels:
        raise InputError(f"no query of {str(root)!r} has a judged document in the corpus")
    return BeirDataset(
        name=root.name,
        path=root,
        corpus=corpus,
        queries={q: queries[q] for q in final_qrels},
        qrels=final_qrels,
        empty_documents=tuple(empty),
    )


def _jsonl(path: Path) -> list[tuple[int, dict[str, object]]]:
    out = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{n}: not valid JSON ({e.msg})") from None
            if not isinstance(rec, dict):
                raise InputError(f"{path}:{n}: each line must be a JSON object")
            out.append((n, rec))
    return out


def _field(rec: dict[str, object], key: str, path: Path, n: int) -> str:
    value = rec.get(key)
    if not isinstance(value, (str, int)) or (isinstance(value, str) and not value.strip()):
        raise InputError(f"{path}:{n}: {key!r} is missing or empty")
    return str(value)


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """``query-id, corpus-id, score`` per line, split by tabs (BEIR) or by spaces; the
    four columns of a TREC qrels file (``query-id iteration corpus-id score``) too."""
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) != 3:
                parts = line.split()
            if n == 1 and parts and not _whole(parts[-1]):
                continue  # the header
            if len(parts) == 4:
                parts = [parts[0], parts[2], parts[3]]
            if len(parts) != 3:
                raise InputError(
                    f"{path}:{n}: expected query-id, corpus-id and score "
                    "(tab-separated, or the four columns of a TREC qrels file)"
                )
            score = _whole(parts[2])
            if score is None:
                raise InputError(f"{path}:{n}: score {parts[2]!r} is not a whole number")
            qrels.setdefault(parts[0].strip(), {})[parts[1].strip()] = score
    return qrels


def _whole(text: str) -> int | None:
    """``text`` as a whole number ("2", "-1", "1.0"), else None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None
