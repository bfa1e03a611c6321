"""Answers handed out piece by piece as they are written: :class:`AnswerStream` (for a
plain loop) and :class:`AsyncAnswerStream` (for ``async for``).

Both know their citations before the first piece, so a caller can show the sources
while the answer is still being written. The text is complete once the pieces are
all read; :meth:`AnswerStream.answer` then gives the whole :class:`Answer`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from ragsilo.answer.models import Answer, AnswerMode
from ragsilo.errors import InputError
from ragsilo.models import Hit

_END = object()


class AnswerStream:
    """An answer being written: iterate it for the pieces of text.

    ``citations`` (the hits the answer cites as ``[1]``, ``[2]`` ...), ``question``,
    ``mode`` and ``model`` are known at once; ``text`` is the whole answer once every
    piece has been read (``done`` says whether they have). A stream is read once.
    Closing it early (``close()``, or leaving a ``with`` block) stops the model.
    """

    def __init__(
        self,
        question: str,
        citations: tuple[Hit, ...],
        pieces: Iterator[str],
        *,
        mode: AnswerMode,
        model: str | None = None,
        first: str | None = None,
    ) -> None:
        self.question = question
        self.citations = citations
        self.mode = mode
        self.model = model
        self._pieces = pieces
        self._first = first
        self._parts: list[str] = []
        self._done = False
        self._started = False

    @property
    def done(self) -> bool:
        """Whether every piece has been read."""
        return self._done

    @property
    def text(self) -> str:
        """The whole answer; only once the stream is read to its end."""
        if not self._done:
            raise InputError(
                "the answer is still being written: read the stream to its end "
                "(for piece in stream: ...) before asking for its text"
            )
        return "".join(self._parts)

    def answer(self) -> Answer:
        """The whole :class:`Answer`, reading what is left of the stream first."""
        for _ in self:
            pass
        return Answer(self.question, self.text, self.citations, self.mode, self.model)

    def __iter__(self) -> Iterator[str]:
        if self._started:
            if self._done:
                return
            raise InputError("this answer stream is being read already; read it once")
        self._started = True
        try:
            if self._first:
                self._parts.append(self._first)
                yield self._first
            for piece in self._pieces:
                if piece:
                    self._parts.append(piece)
                    yield piece
            self._done = True
        finally:
            if not self._done:
                self.close()

    def close(self) -> None:
        """Stop reading: the model's reply (an open HTTP stream) is closed."""
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> AnswerStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def to_dict(self) -> dict[str, Any]:
        """What is known before the first piece: the question, mode, model and citations."""
        return {
            "question": self.question,
            "mode": self.mode,
            "model": self.model,
            "citations": [{"n": i, **h.to_dict()} for i, h in enumerate(self.citations, 1)],
        }


class AsyncAnswerStream:
    """:class:`AnswerStream` for ``async for``: each piece is waited for in a worker
    thread, so the event loop goes on while the model writes.

    Cancelling the task that reads it, breaking out of the loop, or ``await
    stream.aclose()`` stops the model (the worker thread ends with the piece it is
    waiting for).
    """

    def __init__(self, stream: AnswerStream) -> None:
        self._stream = stream
        self._iter = iter(stream)
        self._stop = threading.Event()
        self._busy = False
        self._lock = threading.Lock()
        self.question = stream.question
        self.citations = stream.citations
        self.mode = stream.mode
        self.model = stream.model

    @property
    def done(self) -> bool:
        return self._stream.done

    @property
    def text(self) -> str:
        """The whole answer; only once the stream is read to its end."""
        return self._stream.text

    async def answer(self) -> Answer:
        """The whole :class:`Answer`, reading what is left of the stream first."""
        async for _ in self:
            pass
        return Answer(self.question, self.text, self.citations, self.mode, self.model)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        import asyncio

        try:
            while True:
                piece = await asyncio.to_thread(self._next)
                if piece is _END:
                    return
                yield piece  # type: ignore[misc]
        finally:
            if not self._stream.done:
                await self.aclose()

    def _next(self) -> object:
        with self._lock:
            if self._stop.is_set():
                return _END
            self._busy = True
        try:
            piece = next(self._iter, _END)
        finally:
            with self._lock:
                self._busy = False
                stopped = self._stop.is_set()
        if stopped:  # cancelled while this piece was on its way: this thread closes it
            self._close()
            return _END
        return piece

    async def aclose(self) -> None:
        """Stop reading: the model's reply is closed."""
        with self._lock:
            self._stop.set()
            busy = self._busy
        if not busy:
            import asyncio

            await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with contextlib.suppress(ValueError):  # ValueError: still running in another thread
            close = getattr(self._iter, "close", None)
            if close is not None:
                close()
            self._stream.close()

    def to_dict(self) -> dict[str, Any]:
        return self._stream.to_dict()
