"""Streaming answers (``Silo.ask_stream``) and the async API (``asearch``, ``aask``,
``aingest_texts``) on Milvus Lite: the event loop keeps running while ragsilo works."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time

import pytest
from tests.integrations.conftest import open_silo
from tests.service.helpers import FakeChatServer

from ragsilo import InputError, Silo
from ragsilo.answer.stream import AnswerStream, AsyncAnswerStream
from ragsilo.models import Hit

pytestmark = pytest.mark.lite

TEXTS = [
    "Hedgehogs eat beetles and worms. They hibernate in winter under leaves.",
    "Otters hold hands while they sleep so that they do not drift apart.",
    "Basaltic lava is runny and flows far from the vent before it cools.",
]


class SlowEmbedder:
    """The hash embedder, taking ``delay`` seconds per call (a model on a busy CPU)."""

    def __init__(self, inner, delay: float) -> None:
        self.inner, self.delay, self.name = inner, delay, "slow-hash"
        self.dimension = inner.dimension

    def embed(self, texts):
        time.sleep(self.delay)
        return self.inner.embed(texts)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


@pytest.fixture
def silo(hash_silo: Silo) -> Silo:
    hash_silo.ingest_texts(TEXTS)
    return hash_silo


def test_ask_stream_gives_citations_first_and_the_same_answer_as_ask(silo) -> None:
    stream = silo.ask_stream(TEXTS[1], k=2)
    assert isinstance(stream, AnswerStream) and len(stream.citations) == 2
    assert isinstance(stream.citations[0], Hit) and "Otters" in stream.citations[0].text
    with pytest.raises(InputError, match="read the stream"):
        _ = stream.text
    pieces = list(stream)
    assert stream.done and "".join(pieces) == stream.text
    whole = silo.ask(TEXTS[1], k=2)
    assert stream.text == whole.text and stream.citations == whole.citations
    assert stream.answer() == whole  # read already: the same answer again


def test_ask_stream_takes_every_keyword_of_ask() -> None:
    ask = inspect.signature(Silo.ask).parameters
    stream = inspect.signature(Silo.ask_stream).parameters
    assert list(ask) == list(stream)
    for name, p in ask.items():
        assert stream[name].default == p.default, name


def test_ask_stream_with_a_language_model_streams_pieces(tmp_path, hash_embedder) -> None:
    with FakeChatServer() as llm:
        silo = open_silo(tmp_path, hash_embedder, llm={"base_url": llm.url, "model": "m"})
        try:
            silo.ingest_texts(TEXTS)
            stream = silo.ask_stream(TEXTS[0], k=1)
            assert (stream.mode, stream.model) == ("llm", "m")
            pieces = list(stream)
            assert len(pieces) > 2
            assert stream.text.strip() == "Hedgehogs eat beetles and worms. [1]"

            async def read() -> tuple[list[str], AsyncAnswerStream]:
                s = await silo.aask(TEXTS[0], k=1, stream=True)
                assert s.citations and s.model == "m"
                return [p async for p in s], s

            apieces, s = asyncio.run(read())
            assert apieces == pieces and s.text == stream.text
        finally:
            silo.close()


def test_an_unreachable_model_fails_before_the_stream(tmp_path, hash_embedder) -> None:
    from ragsilo.errors import AnswerError

    with FakeChatServer(status=503) as llm:
        silo = open_silo(tmp_path, hash_embedder, llm={"base_url": llm.url, "model": "m"})
        try:
            silo.ingest_texts(TEXTS)
            with pytest.raises(AnswerError, match="503"):
                silo.ask_stream(TEXTS[0])
        finally:
            silo.close()


def _ticking(coro_factory):
    """Run a coroutine beside a 10 ms ticker; return its result, the ticks and seconds."""

    async def main():
        ticks = 0
        stop = asyncio.Event()

        async def tick():
            nonlocal ticks
            while not stop.is_set():
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        t = time.perf_counter()
        try:
            result = await coro_factory()
        finally:
            stop.set()
            await ticker
        return result, ticks, time.perf_counter() - t

    return asyncio.run(main())


def test_asearch_and_aask_do_not_block_the_event_loop(tmp_path, hash_embedder) -> None:
    silo = open_silo(tmp_path, SlowEmbedder(hash_embedder, 0.0))
    try:
        silo.ingest_texts(TEXTS)
        silo.embedder.delay = 0.6  # each query now takes 0.6 s to embed
        hits, ticks, seconds = _ticking(lambda: silo.asearch(TEXTS[2], k=1, mode="dense"))
        assert hits[0].text == TEXTS[2] and seconds >= 0.6
        # a blocked loop would tick once or twice; a free one ticks every 10 ms
        assert ticks >= 20, ticks
        answer, ticks, _ = _ticking(lambda: silo.aask(TEXTS[2], k=1))
        assert "lava" in answer.text and ticks >= 20, ticks
    finally:
        silo.close()


def test_cancelling_asearch_returns_at_once_and_the_silo_goes_on(tmp_path, hash_embedder) -> None:
    silo = open_silo(tmp_path, SlowEmbedder(hash_embedder, 0.0))
    try:
        silo.ingest_texts(TEXTS)
        silo.embedder.delay = 1.0

        async def main() -> float:
            task = asyncio.create_task(silo.asearch(TEXTS[0], k=1, mode="dense"))
            await asyncio.sleep(0.1)
            task.cancel()
            t = time.perf_counter()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.perf_counter() - t

        assert asyncio.run(main()) < 0.5
        silo.embedder.delay = 0.0
        assert silo.search(TEXTS[0], k=1, mode="dense")[0].text == TEXTS[0]
    finally:
        silo.close()


def test_aingest_texts_writes_concurrent_calls_one_after_another(hash_silo, monkeypatch) -> None:
    active, most = 0, 0
    ingest_texts = hash_silo.ingest_texts

    def counted(*args, **kwargs):
        nonlocal active, most
        active += 1
        most = max(most, active)
        try:
            time.sleep(0.2)
            return ingest_texts(*args, **kwargs)
        finally:
            active -= 1

    monkeypatch.setattr(hash_silo, "ingest_texts", counted)

    async def main():
        return await asyncio.gather(
            hash_silo.aingest_texts(TEXTS[:2]), hash_silo.aingest_texts(TEXTS[2:])
        )

    first, second = asyncio.run(main())
    assert most == 1
    assert first.chunks_written + second.chunks_written == hash_silo.stats().rows == 3


class _SlowAnswerer:
    """An answerer writing one piece every 50 ms, recording whether its stream was closed."""

    mode = "llm"

    def __init__(self) -> None:
        self.closed = threading.Event()
        self.pieces = 0

    def stream(self, question, hits, *, query_vector=None):
        def pieces():
            try:
                for i in range(100):
                    time.sleep(0.05)
                    self.pieces += 1
                    yield f"piece {i} "
            finally:
                self.closed.set()

        return tuple(hits), pieces()


def test_leaving_an_async_stream_early_closes_the_model(silo, monkeypatch) -> None:
    answerer = _SlowAnswerer()
    monkeypatch.setattr("ragsilo.silo.create_answerer", lambda *a, **k: answerer)

    async def read_two() -> list[str]:
        stream = await silo.aask(TEXTS[0], stream=True)
        out = []
        async for piece in stream:
            out.append(piece)
            if len(out) == 2:
                break
        return out

    assert asyncio.run(read_two()) == ["piece 0 ", "piece 1 "]
    assert answerer.closed.wait(2) and answerer.pieces < 10

    cancelled = _SlowAnswerer()
    monkeypatch.setattr("ragsilo.silo.create_answerer", lambda *a, **k: cancelled)

    async def cancel_midway() -> None:
        stream = await silo.aask(TEXTS[0], stream=True)

        async def read() -> None:
            async for _ in stream:
                pass

        task = asyncio.create_task(read())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_midway())
    assert cancelled.closed.wait(2) and cancelled.pieces < 20


def test_a_stream_that_breaks_off_raises_from_the_loop(silo, monkeypatch) -> None:
    from ragsilo.errors import AnswerError

    class Breaking:
        mode = "llm"

        def stream(self, question, hits, *, query_vector=None):
            def pieces():
                yield "Compost heats "
                raise AnswerError("the stream from the model broke off")

            return tuple(hits), pieces()

    monkeypatch.setattr("ragsilo.silo.create_answerer", lambda *a, **k: Breaking())
    stream = silo.ask_stream(TEXTS[0])
    got = []
    with pytest.raises(AnswerError, match="broke off"):
        for piece in stream:
            got.append(piece)
    assert got == ["Compost heats "] and not stream.done
    with pytest.raises(InputError):
        _ = stream.text
