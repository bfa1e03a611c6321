"""The "group by cluster" view of a result list, for assembling RAG context by topic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ragsilo.cluster.model import ClusterModel
from ragsilo.errors import InputError
from ragsilo.models import Hit


@dataclass(frozen=True)
class HitGroup:
    """The hits of one cluster, in their ranked order, with the cluster's keywords.

    ``rank`` is the 1-based rank of the group's best hit in the full list;
    ``cluster_id`` is -1 for hits no clustering has reached.
    """

    cluster_id: int
    rank: int
    hits: tuple[Hit, ...]
    keywords: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "cluster_id": self.cluster_id,
            "rank": self.rank,
            "keywords": list(self.keywords),
            "hits": [h.to_dict() for h in self.hits],
        }


def group_by_cluster(
    hits: Sequence[Hit],
    cluster_ids: Sequence[int] | None = None,
    clusters: ClusterModel | None = None,
) -> list[HitGroup]:
    """Hits grouped by cluster; groups ordered by their best hit, hits kept in rank order.

    Cluster ids come from ``cluster_ids`` (aligned with ``hits``) or else from
    each hit's ``fields["cluster_id"]`` (search with ``output_fields=["cluster_id"]``).
    """
    if cluster_ids is None:
        missing = [h.id for h in hits if "cluster_id" not in h.fields]
        if missing:
            raise InputError(
                "grouping by cluster needs each hit's cluster_id; "
                "search with output_fields=['cluster_id']"
            )
        cluster_ids = [int(h.fields["cluster_id"]) for h in hits]
    if len(cluster_ids) != len(hits):
        raise InputError(f"{len(hits)} hits but {len(cluster_ids)} cluster ids")
    members: dict[int, list[Hit]] = {}
    first: dict[int, int] = {}
    for rank, (hit, cid) in enumerate(zip(hits, cluster_ids, strict=True), 1):
        c = int(cid)
        members.setdefault(c, []).append(hit)
        first.setdefault(c, rank)
    out = []
    for c in sorted(members, key=lambda c: first[c]):
        words: tuple[str, ...] = ()
        if clusters is not None and 0 <= c < len(clusters.keywords):
            words = tuple(clusters.keywords[c])
        out.append(HitGroup(cluster_id=c, rank=first[c], hits=tuple(members[c]), keywords=words))
    return out
