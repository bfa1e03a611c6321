"""Rerankers by name: the built-ins, ``custom:module:callable``, and entry points.

Names are looked up in this order: the built-ins (``none``, ``cluster_smooth``,
``cluster_distance``, ``cluster_size``, ``centroid_query``, ``mmr``); ``custom:<module>:<callable>``
(``<callable>`` may be a dotted path inside the module); then the entry points of
the group ``ragsilo.rerankers`` that installed packages declare, e.g. in a
``pyproject.toml``::

    [project.entry-points."ragsilo.rerankers"]
    freshness = "mypkg.rerank:FreshnessReranker"
"""

from __future__ import annotations

import importlib
import re
from importlib.metadata import entry_points
from typing import Any

from ragsilo.errors import InputError
from ragsilo.rerank.base import Reranker
from ragsilo.rerank.custom import CustomReranker
from ragsilo.rerank.strategies import (
    CentroidQueryReranker,
    ClusterDistanceReranker,
    ClusterSizeReranker,
    ClusterSmoothReranker,
    MMRReranker,
    NoReranker,
)

ENTRY_POINT_GROUP = "ragsilo.rerankers"
CUSTOM_PREFIX = "custom:"
BUILTIN: dict[str, type] = {
    "none": NoReranker,
    "cluster_smooth": ClusterSmoothReranker,
    "cluster_distance": ClusterDistanceReranker,
    "cluster_size": ClusterSizeReranker,
    "centroid_query": CentroidQueryReranker,
    "mmr": MMRReranker,
}
_CUSTOM_RE = re.compile(r"^custom:([A-Za-z_][\w.]*):([A-Za-z_][\w.]*)$")


def available_rerankers() -> list[str]:
    """The built-in names and the installed entry points' names."""
    return [*BUILTIN, *sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))]


def reranker_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a reranker, or ``None`` when it can (without importing it)."""
    if not isinstance(name, str) or not name.strip():
        return "the reranker name is empty"
    if name in BUILTIN:
        return None
    if name.startswith(CUSTOM_PREFIX):
        if _CUSTOM_RE.match(name):
            return None
        return f"reranker {name!r} must look like custom:package.module:function"
    if any(ep.name == name for ep in entry_points(group=ENTRY_POINT_GROUP)):
        return None
    return (
        f"reranker {name!r} is unknown; choose one of {', '.join(available_rerankers())}, "
        "custom:module:callable, or an entry point of the group ragsilo.rerankers"
    )


def check_reranker_name(name: str, *, where: str = "rerank") -> None:
    """Raise ``ValueError`` (for settings validation) when ``name`` names no reranker."""
    problem = reranker_name_problem(name)
    if problem is not None:
        raise ValueError(f"{where}: {problem}")


def create_reranker(name: str) -> Reranker:
    """The reranker called ``name``; :class:`InputError` when there is none."""
    problem = reranker_name_problem(name)
    if problem is not None:
        raise InputError(problem)
    if name in BUILTIN:
        return BUILTIN[name]()
    if name.startswith(CUSTOM_PREFIX):
        m = _CUSTOM_RE.match(name)
        assert m is not None
        return _wrap(name, _import(name, m.group(1), m.group(2)))
    ep = next(ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name)
    try:
        target = ep.load()
    except Exception as e:  # noqa: BLE001 - a broken plug-in is reported by name
        raise InputError(f"reranker {name!r} (entry point {ep.value}) cannot be loaded: {e}") from e
    return _wrap(name, target)


def _import(name: str, module: str, attr: str) -> Any:
    try:
        obj: Any = importlib.import_module(module)
    except Exception as e:  # noqa: BLE001 - an import error in user code is reported
        raise InputError(f"reranker {name!r}: cannot import module {module!r}: {e}") from e
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"reranker {name!r}: module {module!r} has no {attr!r}")
        obj = getattr(obj, part)
    return obj


def _wrap(name: str, target: Any) -> Reranker:
    if isinstance(target, type):
        try:
            target = target()
        except Exception as e:  # noqa: BLE001
            raise InputError(f"reranker {name!r}: cannot create {target.__name__}(): {e}") from e
    if not callable(target) and not callable(getattr(target, "rerank", None)):
        raise InputError(
            f"reranker {name!r} is a {type(target).__name__}, not a callable or an object "
            "with a rerank(hits, ctx) method"
        )
    return CustomReranker(name, target)
