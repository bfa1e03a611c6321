"""Rerankers plugged in by import path in the tests (``custom:tests.rerank.plugins:<name>``)."""

from __future__ import annotations


def reverse(hits, ctx):
    return list(reversed(hits))


def by_length(hits, ctx):
    return [float(len(h.text)) for h in hits]


def explode(hits, ctx):
    raise ValueError("boom")


def wrong_shape(hits, ctx):
    return "not a list"


def too_few_scores(hits, ctx):
    return [1.0]


def stranger(hits, ctx):
    from dataclasses import replace

    return [replace(hits[0], id="not-given")]


class NeedsClusters:
    needs_clusters = True

    def rerank(self, hits, ctx):
        return sorted(hits, key=lambda h: -int(ctx.clusters is not None))


NOT_CALLABLE = 42
