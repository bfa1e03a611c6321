"""What the connected Milvus can do, decided once at open from its kind and version."""

from __future__ import annotations

import re

from ragsilo.models import ServerInfo

LITE_INDEX_TYPES = ("AUTOINDEX", "FLAT", "IVF_FLAT", "IVF_SQ8", "HNSW")
SERVER_INDEX_TYPES = (
    "AUTOINDEX",
    "FLAT",
    "IVF_FLAT",
    "IVF_SQ8",
    "IVF_PQ",
    "HNSW",
    "DISKANN",
    "SCANN",
)

_VERSION_RE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str) -> tuple[int, int, int]:
    """``'v2.3.5-lite'`` → ``(2, 3, 5)``; unknown → ``(0, 0, 0)``."""
    m = _VERSION_RE.search(text or "")
    if not m:
        return (0, 0, 0)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def capabilities_for(kind: str, version: str, uri: str) -> ServerInfo:
    """The feature set of a Milvus of this kind and version.

    Milvus Lite (the embedded engine) has BM25, sparse vectors and hybrid search
    but no RBAC and only the in-memory CPU index types. A server gains sparse
    vectors and hybrid search in 2.4, the BM25 function and INVERTED on VARCHAR
    in 2.5 (INVERTED on numbers in 2.4).
    """
    if kind == "lite":
        return ServerInfo(
            kind="lite",
            version=version,
            uri=uri,
            bm25=True,
            sparse=True,
            hybrid_search=True,
            rbac=False,
            inverted_index=True,
            index_types=LITE_INDEX_TYPES,
        )
    v = parse_version(version)
    return ServerInfo(
        kind="server",
        version=version,
        uri=uri,
        bm25=v >= (2, 5, 0),
        sparse=v >= (2, 4, 0),
        hybrid_search=v >= (2, 4, 0),
        rbac=True,
        inverted_index=v >= (2, 4, 0),
        index_types=SERVER_INDEX_TYPES,
    )
