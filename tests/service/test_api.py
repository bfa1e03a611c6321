"""The HTTP API over real HTTP on 127.0.0.1, against Milvus Lite and the real embedder."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.service, pytest.mark.lite, pytest.mark.embed]


def test_health_ready_and_openapi(seeded) -> None:
    c = seeded.client
    assert c.get("/health").json() == {"status": "ok", "version": "0.1.0"}
    ready = c.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True and ready.json()["milvus"]["kind"] == "lite"
    schema = c.get("/openapi.json").json()
    for path in (
        "/health",
        "/ready",
        "/metrics",
        "/search",
        "/ingest",
        "/ask",
        "/collections",
        "/stats",
    ):
        assert path in schema["paths"], path
    body = schema["paths"]["/ingest"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(body)
    assert c.get("/docs").status_code == 200


def test_search_finds_the_right_document_with_sources(seeded) -> None:
    r = seeded.client.post("/search", json={"query": "how do bees tell where food is?", "k": 2})
    assert r.status_code == 200
    body = r.json()
    assert body["mode"] == "dense" and len(body["hits"]) == 2
    top = body["hits"][0]
    assert top["source"] == "text://bees" and top["title"] == "Honey bees"
    assert "waggle dance" in top["text"] and top["metadata"]["topic"] == "insects"
    assert body["hits"][0]["score"] >= body["hits"][1]["score"]


def test_search_filters(seeded) -> None:
    c = seeded.client
    r = c.post("/search", json={"query": "bees", "k": 5, "where": {"metadata.topic": "geology"}})
    assert [h["source"] for h in r.json()["hits"]] == ["text://volcano"]
    r = c.post("/search", json={"query": "bees", "k": 5, "filter": 'source == "text://compost"'})
    assert [h["source"] for h in r.json()["hits"]] == ["text://compost"]
    bad = c.post("/search", json={"query": "bees", "where": {"no_such_field": "x"}})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_filter"
    syntax = c.post("/search", json={"query": "bees", "filter": "source == (("})
    assert syntax.status_code == 400 and syntax.json()["error"] == "invalid_filter"
    assert "the filter expression is invalid" in syntax.json()["message"]


@pytest.mark.parametrize(
    ("extra", "code", "words"),
    [
        ({"mode": "sparse"}, "unsupported_mode", "available modes: dense, bm25, hybrid"),
        (
            {"reranker": "best"},
            "unsupported_reranker",
            "available: none, cluster_smooth, cluster_distance",
        ),
        ({"reranker": "custom:os:system"}, "unsupported_reranker", "not available"),
    ],
)
def test_options_the_service_lacks_are_refused_clearly(seeded, extra, code, words) -> None:
    r = seeded.client.post("/search", json={"query": "bees", **extra})
    assert r.status_code == 400
    assert r.json()["error"] == code and words in r.json()["message"]


def test_route_must_be_a_whole_number(seeded) -> None:
    r = seeded.client.post("/search", json={"query": "bees", "route": -1})
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    assert "route" in r.json()["message"]


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_finds_the_right_document(seeded, mode) -> None:
    r = seeded.client.post(
        "/search", json={"query": "waggle dance of honey bees", "k": 2, "mode": mode}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mode"] == mode and body["reranker"] == "cluster_smooth"  # the default
    assert body["hits"][0]["source"] == "text://bees"


@pytest.mark.parametrize("reranker", ["none", "mmr"])
def test_rerankers_pass_through(seeded, reranker) -> None:
    r = seeded.client.post(
        "/search", json={"query": "lava", "k": 3, "mode": "hybrid", "reranker": reranker}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reranker"] == reranker and len(body["hits"]) == 3
    assert {h["source"] for h in body["hits"]} == {
        "text://bees",
        "text://volcano",
        "text://compost",
    }


def test_cluster_rerankers_and_routing_over_http(start_service) -> None:
    from .conftest import CORPUS

    svc = start_service()
    svc.silo.ingest_texts(CORPUS)
    early = svc.client.post("/search", json={"query": "lava", "reranker": "cluster_size"})
    assert early.status_code == 400 and "run `ragsilo recluster` first" in early.json()["message"]
    svc.silo.recluster(k=2)
    for reranker in ("cluster_distance", "cluster_size", "centroid_query"):
        r = svc.client.post("/search", json={"query": "lava", "k": 3, "reranker": reranker})
        assert r.status_code == 200, r.text
        assert r.json()["reranker"] == reranker
        assert all(h["cluster_id"] in (0, 1) for h in r.json()["hits"])
    routed = svc.client.post("/search", json={"query": "basaltic lava", "k": 3, "route": 1})
    body = routed.json()
    assert routed.status_code == 200 and len(body["routed_to"]) == 1
    assert body["hits"][0]["source"] == "text://volcano"
    assert {h["cluster_id"] for h in body["hits"]} == set(body["routed_to"])


def test_dense_and_no_reranker_are_accepted(seeded) -> None:
    for extra in ({"mode": "dense"}, {"reranker": "none"}, {"reranker": None, "tenant": None}):
        assert seeded.client.post("/search", json={"query": "lava", **extra}).status_code == 200


def test_errors_are_json_with_code_and_message(seeded) -> None:
    c = seeded.client
    missing = c.post("/search", json={"k": 3})
    assert missing.status_code == 422 and missing.json()["error"] == "invalid_request"
    assert "query" in missing.json()["message"]
    unknown = c.get("/no/such/route")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    wrong_method = c.get("/search")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"] == "method_not_allowed"
    not_json = c.post("/search", content=b"{not json", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422 and set(not_json.json()) >= {"error", "message"}


def test_request_id_is_echoed_or_made(seeded) -> None:
    c = seeded.client
    mine = c.get("/health", headers={"X-Request-ID": "trace-42"})
    assert mine.headers["X-Request-ID"] == "trace-42"
    made = c.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    assert c.get("/nope").headers["X-Request-ID"]


def test_collections_and_stats(seeded) -> None:
    c = seeded.client
    assert c.get("/collections").json() == {"collections": ["ragsilo"], "current": "ragsilo"}
    stats = c.get("/stats").json()
    assert stats["rows"] >= 3 and stats["load_state"] == "Loaded"
    assert stats["server"]["kind"] == "lite"


def test_ask_extractive_answer_cites_the_hits(seeded) -> None:
    r = seeded.client.post("/ask", json={"question": "How hot does a compost pile get?", "k": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["mode"] == "extractive" and body["model"] is None
    assert "55 to 65 degrees" in body["answer"]
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", body["answer"])}
    assert cited and all(1 <= n <= len(body["citations"]) for n in cited)
    first = body["citations"][min(cited) - 1]
    assert first["n"] == min(cited) and first["source"] == "text://compost"


def test_ask_stream_sends_citations_then_text(seeded) -> None:
    with seeded.client.stream(
        "POST", "/ask", json={"question": "What is basaltic lava like?", "stream": True}
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    events = re.findall(r"(?:event: (\w+)\n)?data: (.*)\n\n", text)
    assert events[0][0] == "citations" and events[-1][0] == "done"
    assert "runny" in events[-1][1]


def test_metrics_count_requests_per_route(seeded) -> None:
    c = seeded.client
    c.post("/search", json={"query": "volcano"})
    c.post("/search", json={"query": "volcano", "mode": "sparse"})
    text = c.get("/metrics").text
    assert re.search(
        r'ragsilo_http_requests_total\{method="POST",route="/search",status="200"\} [1-9]', text
    )
    assert 'route="/search",status="400"' in text
    assert 'ragsilo_http_request_duration_seconds_bucket{le="0.5",route="/search"}' in text
    assert "process_resident_memory_bytes" in text
    assert "ragsilo_milvus_errors_total" in text
    c.get("/no/such/thing/12345")
    assert "/no/such/thing" not in c.get("/metrics").text  # unmatched paths share one label


def test_web_page_and_assets_are_served(seeded) -> None:
    c = seeded.client
    page = c.get("/")
    assert page.status_code == 200 and 'id="search-form"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "fetch(" in c.get("/static/app.js").text
    assert c.get("/static/style.css").headers["content-type"].startswith("text/css")
    assert c.get("/static/../app.py").status_code == 404
    assert c.get("/static/secrets.json").status_code == 404
    options = c.get("/options").json()
    assert options["modes"] == ["dense", "bm25", "hybrid"] and options["auth_required"] is False
    assert options["rerankers"][:6] == [
        "none",
        "cluster_smooth",
        "cluster_distance",
        "cluster_size",
        "centroid_query",
        "mmr",
    ]
    assert options["default_mode"] == "dense" and options["default_reranker"] == "cluster_smooth"
