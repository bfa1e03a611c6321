"""A gate that lets calls pass side by side, except while one thread works alone.

A recluster that rebuilds a collection ends by dropping the old one and renaming the
copy into its place; on Milvus Lite the rename takes about a second (4,619 chunks), and
a search made meanwhile would find no collection. A store's calls go through a gate, and
the swap is made inside :meth:`SwapGate.exclusive`: the calls of every other thread wait
until the swap is over, and the swap first waits for the calls already under way. Calls
never wait on each other, and the thread inside ``exclusive`` passes its own calls. A
silo's writes go through a gate of their own, the recluster holding it exclusively, so
that nothing is written while the collection is copied.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ragsilo.errors import InputError


class SwapGate:
    """Many calls at once, or one swap (see the module docstring)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._calls = 0  # threads in a call, the swapping thread not counted
        self._owner: int | None = None  # the thread swapping, if one is
        self._inside = threading.local()  # this thread's depth of nested calls

    @contextmanager
    def call(self) -> Iterator[None]:
        """One call: it waits while another thread swaps. A call made inside another
        call of the same thread passes (it is part of the first)."""
        depth = getattr(self._inside, "depth", 0)
        counted = False
        if depth == 0:
            me = threading.get_ident()
            with self._cond:
                if self._owner != me:
                    while self._owner is not None:
                        self._cond.wait()
                    self._calls += 1
                    counted = True
        self._inside.depth = depth + 1
        try:
            yield
        finally:
            self._inside.depth = depth
            if counted:
                with self._cond:
                    self._calls -= 1
                    if self._calls == 0:
                        self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """A swap: no other thread's call runs until the block ends. Not re-entrant, and
        refused inside a call of the same thread, which it would wait for for ever."""
        if getattr(self._inside, "depth", 0):
            raise InputError(
                "cannot work alone from inside a call of the same thread: it would wait for "
                "that call to end (e.g. a recluster started from an ingest's progress callback)",
                hint="start it after the call returns",
            )
        me = threading.get_ident()
        with self._cond:
            while self._owner is not None:
                self._cond.wait()
            self._owner = me
            while self._calls > 0:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._owner = None
                self._cond.notify_all()


__all__ = ["SwapGate"]
