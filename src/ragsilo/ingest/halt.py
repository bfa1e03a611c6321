"""The run-wide stop of an ingest whose Milvus went away.

The store retries every call with backoff (``ingest.retries``,
``ingest.backoff_seconds``). When a call still fails because Milvus is
unreachable, writing each remaining file on its own would only repeat those
retries, file after file, for minutes. Instead the ingest stops: files already
written stay written (and journalled), the files not yet written are reported
failed with the code ``store_unavailable``, and running the same ingest again,
or ``ragsilo ingest --retry-failed``, writes exactly them.

A full disk under Milvus (:class:`~ragsilo.errors.StoreFullError`) stops the
ingest the same way: no later write can succeed until space is freed.
"""

from __future__ import annotations

import logging
import threading

from ragsilo.errors import RagsiloError, StoreError, StoreFullError
from ragsilo.models import FileResult

log = logging.getLogger(__name__)

CODE = "store_unavailable"


def stops_the_ingest(error: BaseException) -> bool:
    """Whether ``error`` means Milvus cannot be reached (after the store's retries), or
    that its disk is full."""
    return isinstance(error, StoreError) and (error.retriable or isinstance(error, StoreFullError))


class Halt:
    """Set once, by any stage, when Milvus is unreachable; read by every stage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.error: RagsiloError | None = None

    def __bool__(self) -> bool:
        return self.error is not None

    def trip(self, error: RagsiloError) -> None:
        with self._lock:
            if self.error is not None:
                return
            self.error = error
        if isinstance(error, StoreFullError):
            log.error(
                "%s; the ingest stops here and the files not yet written are reported "
                "failed: free space, then run it again",
                error.message,
            )
            return
        log.error(
            "Milvus is unavailable (%s); the ingest stops here and the files not yet "
            "written are reported failed: run it again when Milvus is back",
            error.message,
        )

    def result(self, source: str) -> FileResult:
        """The outcome of a file the stopped ingest did not write."""
        assert self.error is not None
        if isinstance(self.error, StoreFullError):
            return FileResult(
                source,
                "failed",
                0,
                StoreFullError.code,
                f"not written: the ingest stopped ({self.error.message}); free space, then "
                "run the ingest again (files already stored are skipped)",
            )
        return FileResult(
            source,
            "failed",
            0,
            CODE,
            f"not written: the ingest stopped because Milvus became unavailable "
            f"({self.error.message}); run the ingest again when Milvus is back "
            "(files already stored are skipped) or use --retry-failed",
        )
