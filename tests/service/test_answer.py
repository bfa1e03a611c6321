"""Answers: the extractive answerer, the chat-completions client, and /ask with a real LLM
protocol served by a small OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import re

import pytest

from ragsilo.answer import (
    ChatCompletionsClient,
    ExtractiveAnswerer,
    approximate_tokens,
    build_messages,
)
from ragsilo.errors import AnswerError
from ragsilo.models import Hit

from .helpers import FakeChatServer


def _hit(n: int, text: str, source: str = "doc.md") -> Hit:
    return Hit(f"id{n}", 0.9 - n / 10, text, source, f"Doc {n}", None, None, 0, f"d{n}")


HITS = [
    _hit(1, "Basaltic lava is runny. It flows far from the vent before it cools.", "lava.md"),
    _hit(2, "Rhyolitic magma is thick. Its eruptions are explosive and throw out ash.", "magma.md"),
    _hit(3, "Bees dance to tell each other where flowers are.", "bees.md"),
]


def test_extractive_answer_picks_matching_sentences_and_cites_them() -> None:
    answer = ExtractiveAnswerer().answer("Which magma has explosive eruptions?", HITS)
    assert answer.mode == "extractive" and answer.citations == tuple(HITS)
    assert "explosive" in answer.text and "[2]" in answer.text
    assert "Bees" not in answer.text


def test_extractive_answer_with_embeddings(embedder) -> None:
    answer = ExtractiveAnswerer(embedder.embed, max_sentences=1).answer(
        "How do bees communicate?", HITS
    )
    assert answer.text == "Bees dance to tell each other where flowers are. [3]"


def test_extractive_answer_embeds_a_bounded_number_of_sentences(embedder) -> None:
    calls: list[int] = []

    def counting_embed(texts):
        calls.append(len(texts))
        return embedder.embed(texts)

    many = [
        _hit(i, " ".join(f"Sentence {j} of hit {i} is here." for j in range(20))) for i in range(5)
    ]
    many.append(_hit(9, "Basaltic lava is runny and flows far."))
    answer = ExtractiveAnswerer(counting_embed).answer("Is basaltic lava runny?", many)
    assert max(calls) <= 8 and "runny" in answer.text and "[6]" in answer.text


def test_extractive_answer_skips_headings_questions_and_cut_off_pieces() -> None:
    chunk = (
        "wrung-out sponge and turned weekly.\n\nHot composting\n\nA hot pile reaches 55 to\n"
        "65 degrees in its centre within days.\n\nHow hot does a pile get?\n\nThe heat kills"
    )
    answer = ExtractiveAnswerer(max_sentences=5).answer(
        "How hot does a pile get?", [_hit(1, chunk)]
    )
    assert answer.text == "A hot pile reaches 55 to 65 degrees in its centre within days. [1]"


def test_extractive_answer_without_hits() -> None:
    answer = ExtractiveAnswerer().answer("anything?", [])
    assert answer.citations == () and "Nothing" in answer.text


def test_prompt_numbers_sources_and_keeps_to_the_budget() -> None:
    messages, cited = build_messages("What is lava like?", HITS, max_context_tokens=10_000)
    user = messages[1]["content"]
    assert cited == tuple(HITS)
    assert "[1] Doc 1 (lava.md)\nBasaltic lava is runny." in user and "[3] Doc 3" in user
    assert user.endswith("Question: What is lava like?")
    assert "square brackets" in messages[0]["content"]
    small, cited_small = build_messages("What is lava like?", HITS, max_context_tokens=110)
    assert len(cited_small) == 1 and "[2]" not in small[1]["content"]
    long = [_hit(1, "Lava flows. " * 200), *HITS]
    cut, cited_cut = build_messages("What is lava like?", long, max_context_tokens=200)
    assert len(cited_cut) == 1 and "…" in cut[1]["content"]
    assert sum(approximate_tokens(m["content"]) for m in cut) <= 200


def test_chat_client_complete_and_stream() -> None:
    with FakeChatServer(key="sk-test") as server:
        client = ChatCompletionsClient(server.url, "tiny", api_key="sk-test", max_tokens=50)
        messages, _ = build_messages("What is lava like?", HITS, max_context_tokens=2000)
        assert client.complete(messages) == "Basaltic lava is runny. [1]"
        sent = server.requests[-1]
        assert sent["headers"]["Authorization"] == "Bearer sk-test"
        assert sent["body"]["model"] == "tiny" and sent["body"]["max_tokens"] == 50
        assert "".join(client.stream(messages)).strip() == "Basaltic lava is runny. [1]"
        assert server.requests[-1]["body"]["stream"] is True


def test_chat_client_errors_are_clear_and_hide_the_key() -> None:
    with FakeChatServer(key="sk-right") as server:
        wrong = ChatCompletionsClient(server.url, "tiny", api_key="sk-wrong")
        with pytest.raises(AnswerError) as e:
            wrong.complete([{"role": "user", "content": "hi"}])
        assert "HTTP 401" in str(e.value) and "llm.api_key" in str(e.value)
        assert "sk-wrong" not in str(e.value)
        with pytest.raises(AnswerError, match="HTTP 404"):
            ChatCompletionsClient(server.url + "/nope", "m").complete([])
    with pytest.raises(AnswerError, match="cannot reach"):
        ChatCompletionsClient(server.url, "m", timeout=2).complete([])
    with pytest.raises(AnswerError, match="user and password"):
        ChatCompletionsClient("http://u:p@127.0.0.1/v1", "m")


@pytest.mark.service
@pytest.mark.lite
@pytest.mark.embed
def test_ask_uses_the_configured_llm(start_service) -> None:
    with FakeChatServer(key="sk-llm") as llm:
        svc = start_service(
            llm={
                "base_url": llm.url,
                "model": "tiny-chat",
                "api_key": "sk-llm",
                "max_context_tokens": 400,
            }
        )
        c = svc.client
        c.post(
            "/ingest",
            json={
                "texts": [
                    "Hedgehogs eat beetles and worms. They hibernate in winter.",
                    "Otters hold hands while they sleep so they do not drift apart.",
                ]
            },
        )
        r = c.post("/ask", json={"question": "What do hedgehogs eat?", "k": 2})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["mode"] == "llm" and body["model"] == "tiny-chat"
        assert body["answer"] == "Hedgehogs eat beetles and worms. [1]"
        assert body["citations"][0]["n"] == 1 and "Hedgehogs" in body["citations"][0]["text"]
        prompt = llm.requests[-1]["body"]["messages"][1]["content"]
        assert "[1]" in prompt and "Question: What do hedgehogs eat?" in prompt
        assert c.get("/options").json()["answer_mode"] == "llm"

        with c.stream(
            "POST", "/ask", json={"question": "What do hedgehogs eat?", "stream": True}
        ) as s:
            text = "".join(s.iter_text())
        events = re.findall(r"(?:event: (\w+)\n)?data: (.*)\n\n", text)
        assert events[0][0] == "citations"
        assert json.loads(events[0][1])["model"] == "tiny-chat"
        deltas = [json.loads(d)["delta"] for e, d in events if not e]
        assert len(deltas) > 2
        assert json.loads(events[-1][1])["answer"].strip() == "Hedgehogs eat beetles and worms. [1]"


@pytest.mark.service
@pytest.mark.lite
@pytest.mark.embed
def test_ask_reports_an_llm_failure_as_json(start_service) -> None:
    with FakeChatServer(status=503) as llm:
        c = start_service(llm={"base_url": llm.url, "model": "m"}).client
        c.post("/ingest", json={"texts": ["Moles dig tunnels under lawns."]})
        r = c.post("/ask", json={"question": "What do moles dig?"})
        assert r.status_code == 502
        assert r.json()["error"] == "answer_error" and "HTTP 503" in r.json()["message"]
        s = c.post("/ask", json={"question": "What do moles dig?", "stream": True})
        assert s.status_code == 502 and s.json()["error"] == "answer_error"


@pytest.mark.lite
@pytest.mark.embed
def test_silo_ask_extractive_and_llm(tmp_path, embedder) -> None:
    from ragsilo.silo import Silo

    from .helpers import make_settings

    texts = ["Hedgehogs eat beetles and worms. They hibernate in winter.", "Otters hold hands."]
    with Silo.open(make_settings(str(tmp_path / "a.db")), embedder=embedder) as silo:
        silo.ingest_texts(texts)
        answer = silo.ask("When do hedgehogs hibernate?", k=2)
        assert answer.mode == "extractive" and "winter" in answer.text and "[1]" in answer.text
        assert answer.to_dict()["citations"][0]["n"] == 1
    with FakeChatServer() as llm:
        settings = make_settings(str(tmp_path / "b.db"), llm={"base_url": llm.url, "model": "m"})
        with Silo.open(settings, embedder=embedder) as silo:
            silo.ingest_texts(texts)
            answer = silo.ask("What do hedgehogs eat?", k=1)
            assert (answer.mode, answer.model) == ("llm", "m")
            assert answer.text == "Hedgehogs eat beetles and worms. [1]"
            assert len(answer.citations) == 1


# ------------------------------------------------------------- context and sentences
def test_context_selection_drops_near_copies_and_spreads_documents() -> None:
    from ragsilo.answer.context import select_context

    def h(i: str, score: float, text: str, doc: str) -> Hit:
        return Hit(i, score, text, f"/{doc}.md", "", None, None, 0, doc)

    pool = [
        h("a1", 0.90, "Compost heats to 60 degrees within a week of turning.", "a"),
        h("a1copy", 0.89, "Compost heats to 60 degrees within a week of turning!", "copy"),
        h("a2", 0.88, "Turning the pile weekly keeps it hot and aerobic.", "a"),
        h("b1", 0.80, "A pile that is too wet smells of ammonia.", "b"),
        h("c1", 0.70, "Leaves and straw are carbon-rich browns.", "c"),
    ]
    assert [x.id for x in pool[:3]] == ["a1", "a1copy", "a2"]  # what plain top-3 would give
    # the near-copy is dropped; the chosen keep the pool's order
    assert [x.id for x in select_context(pool, 3)] == ["a1", "a2", "b1"]
    # a heavier penalty for a document's second chunk brings in a third document
    assert [x.id for x in select_context(pool, 3, same_document=0.95)] == ["a1", "b1", "c1"]
    # chunks of a cluster already drawn on count against a chunk
    ids = [0, 0, 0, 0, 1]
    chosen = select_context(pool, 2, cluster_ids=ids, same_document=0, same_cluster=1.0)
    assert [x.id for x in chosen] == ["a1", "c1"]
    assert select_context(pool, 0) == [] and select_context([], 3) == []


def test_a_heading_is_not_glued_to_the_sentence_under_it() -> None:
    chunk = "Installation\nRun pip install ragsilo to get the library and its command line.\n"
    answer = ExtractiveAnswerer().answer("How do I install ragsilo?", [_hit(1, chunk)])
    assert answer.text == "Run pip install ragsilo to get the library and its command line. [1]"
    md = "## Hot composting\nA hot pile reaches 60 degrees in its centre within days."
    answer = ExtractiveAnswerer().answer("How hot does a pile get?", [_hit(1, md)])
    assert answer.text.startswith("A hot pile reaches")


def test_the_best_hits_sentences_are_always_considered(embedder) -> None:
    embedded: list[str] = []

    def recording_embed(texts):
        embedded.extend(texts)
        return embedder.embed(texts)

    top = _hit(0, "Their winter sleep lasts from November until March, about five months.")
    # sentences sharing the question's words, but about something else
    wordy = [
        _hit(i, f"Hibernate is a Java library that maps objects to database tables, version {i}.")
        for i in range(1, 6)
    ] + [
        _hit(i, f"The Hedgehogs were the name of a rock band that toured in 19{i}0.")
        for i in range(6, 10)
    ]
    question = "How long do hedgehogs hibernate?"
    answer = ExtractiveAnswerer(recording_embed, max_sentences=1).answer(
        question, [top, *wordy], query_vector=embedder.embed([question])[0]
    )
    assert top.text in embedded and len(embedded) <= 8
    assert answer.text == f"{top.text} [1]"


@pytest.mark.lite
def test_ask_searches_the_configured_mode_and_skips_near_copies(tmp_path, hash_embedder) -> None:
    from ragsilo.silo import Silo

    from .helpers import make_settings

    texts = [
        ("Part XQ-7781 is the replacement gasket for the pump housing.", {"name": "gasket"}),
        ("Part XQ-7781 is the replacement gasket for the pump housing!", {"name": "gasket2"}),
        ("The XQ-7781 gasket ships in packs of ten.", {"name": "packs"}),
    ] + [
        (f"Unrelated note number {i} about gardening and weather.", {"name": f"n{i}"})
        for i in range(8)
    ]
    settings = make_settings(str(tmp_path / "m.db"), retrieval={"mode": "bm25"})
    with Silo.open(settings, embedder=hash_embedder) as silo:
        silo.ingest_texts(texts)
        question = "Which part is the XQ-7781 gasket?"
        dense = silo.search(question, k=2, mode="dense")
        assert {h.source.rsplit("/", 1)[-1] for h in dense} != {"gasket", "packs"}
        answer = silo.ask(question, k=2)
        names = [h.source.rsplit("/", 1)[-1] for h in answer.citations]
        assert names[0] in ("gasket", "gasket2") and "packs" in names, names
