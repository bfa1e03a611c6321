"""POST /ingest: uploads and texts, idempotence, names, content sniffing and limits."""

from __future__ import annotations

import pytest

from ragsilo.service.errors import ServiceError
from ragsilo.service.limits import sanitize_filename, sanitize_upload_path

pytestmark = [pytest.mark.service, pytest.mark.lite, pytest.mark.embed]

OWLS = b"# Owls\n\nOwls hunt at night. Their soft feathers let them fly almost silently.\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ZIP = b"PK\x03\x04" + b"\x00" * 64


def _upload(client, *files):
    return client.post("/ingest", files=[("files", f) for f in files])


def test_upload_then_search_and_reupload_is_idempotent(start_service) -> None:
    svc = start_service()
    c = svc.client
    first = _upload(c, ("owls.md", OWLS, "text/markdown"))
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["ingested"] == 1 and report["chunks_written"] >= 1
    assert report["files"][0]["path"] == "upload://owls.md"
    hit = c.post("/search", json={"query": "which birds fly silently at night?", "k": 1})
    assert hit.json()["hits"][0]["source"] == "upload://owls.md"
    again = _upload(c, ("owls.md", OWLS, "text/markdown")).json()
    assert (again["skipped"], again["ingested"], again["chunks_written"]) == (1, 0, 0)
    changed = _upload(c, ("owls.md", b"Owls swallow prey whole.\n", "text/markdown")).json()
    assert changed["ingested"] == 1
    assert svc.silo.stats().rows == 1  # the old version's chunks were replaced


def test_json_texts_are_ingested_with_names_and_metadata(start_service) -> None:
    c = start_service().client
    r = c.post(
        "/ingest",
        json={
            "texts": [
                "Glaciers are slow rivers of ice that carve valleys.",
                {"text": "Tides follow the moon.", "name": "tides", "metadata": {"lang": "en"}},
            ]
        },
    )
    assert r.status_code == 200, r.text
    paths = sorted(f["path"] for f in r.json()["files"])
    assert paths[1] == "text://tides" and paths[0].startswith("text://")
    hit = c.post("/search", json={"query": "moon", "k": 1, "where": {"metadata.lang": "en"}})
    assert hit.json()["hits"][0]["source"] == "text://tides"
    again = c.post(
        "/ingest", json={"texts": ["Glaciers are slow rivers of ice that carve valleys."]}
    )
    assert again.json()["skipped"] == 1
    bad = c.post("/ingest", json={"texts": []})
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("claimed", "stored"),
    [
        ("/abs/path/.hidden.md", "upload://abs/path/hidden.md"),
        ("reports\\2024\\notes.txt", "upload://reports/2024/notes.txt"),
        ("<script>alert(1)</script>.md", "upload://script_alert(1)/script_.md"),
        ("docs/./été.txt", "upload://docs/été.txt"),
        ("a\x1b[31m/b\nc.txt", "upload://a_31m/b_0Ac.txt"),  # httpx sends the newline as %0A
    ],
)
def test_upload_names_are_sanitised(start_service, claimed, stored) -> None:
    c = start_service().client
    r = _upload(c, (claimed, b"A harmless note about rivers and lakes.", "text/plain"))
    assert r.status_code == 200, r.text
    assert [f["path"] for f in r.json()["files"]] == [stored]


@pytest.mark.parametrize("claimed", ["../../etc/passwd.txt", "..\\..\\win.ini", "..", "a/../b.txt"])
def test_upload_names_that_climb_out_are_refused(start_service, claimed) -> None:
    svc = start_service()
    r = _upload(svc.client, (claimed, b"A harmless note about rivers.", "text/plain"))
    assert r.status_code == 400 and r.json()["error"] == "invalid_input"
    assert "'..'" in r.json()["message"]
    assert svc.silo.stats().rows == 0


def test_same_file_name_in_two_folders_stays_two_documents(start_service) -> None:
    svc = start_service()
    c = svc.client
    a = _upload(c, ("a/notes.txt", b"Herons wade in shallow water to fish.", "text/plain"))
    b = _upload(c, ("b/notes.txt", b"Otters crack shellfish on their bellies.", "text/plain"))
    assert a.json()["files"][0]["path"] == "upload://a/notes.txt"
    assert b.json()["files"][0]["path"] == "upload://b/notes.txt"
    assert a.json()["ingested"] == b.json()["ingested"] == 1
    sources = {
        h["source"]
        for q in ("herons fishing", "otters shellfish")
        for h in c.post("/search", json={"query": q, "k": 2}).json()["hits"]
    }
    assert sources == {"upload://a/notes.txt", "upload://b/notes.txt"}
    # the same relative name again is the same document: replaced, not duplicated
    again = _upload(c, ("a/notes.txt", b"Herons nest in colonies.", "text/plain")).json()
    assert again["ingested"] == 1
    assert svc.silo.stats().rows == 2
    # in one request too, and a file beside a folder of the same name
    both = _upload(
        c,
        ("c/notes.txt", b"Swifts sleep on the wing.", "text/plain"),
        ("d/notes.txt", b"Wrens sing loudly for their size.", "text/plain"),
        ("c", b"Storks return to the same nest each spring.", "text/plain"),
    ).json()
    assert sorted(f["path"] for f in both["files"]) == [
        "upload://c",
        "upload://c/notes.txt",
        "upload://d/notes.txt",
    ]
    assert both["ingested"] == 3 and svc.silo.stats().rows == 5


def test_sanitize_filename_unit() -> None:
    assert sanitize_filename("na\x00me\x1f.txt") == "name.txt"
    assert sanitize_filename("a/b/../../c.md") == "c.md"
    assert sanitize_filename("   ") == "upload" and sanitize_filename(None) == "upload"
    long = sanitize_filename("x" * 500 + ".pdf")
    assert len(long) == 120 and long.endswith(".pdf")


def test_sanitize_upload_path_unit() -> None:
    assert sanitize_upload_path("a/notes.txt") != sanitize_upload_path("b/notes.txt")
    assert sanitize_upload_path("\\\\server\\share\\x.md") == "server/share/x.md"
    assert sanitize_upload_path("na\x00me\x1f.txt") == "name.txt"
    assert sanitize_upload_path("C:\\Users\\me\\notes.txt") == "Users/me/notes.txt"
    assert sanitize_upload_path("dir/") == "dir/upload" and sanitize_upload_path(None) == "upload"
    assert sanitize_upload_path("d/" + "x" * 500 + ".pdf") == "d/" + "x" * 116 + ".pdf"
    for bad in (
        "../x",
        "a/../../x",
        "a/ .. /x",
        "/".join(["d"] * 20) + "/x",
        ("y" * 100 + "/") * 3 + "x",
    ):
        with pytest.raises(ServiceError) as info:
            sanitize_upload_path(bad)
        assert info.value.status_code == 400


def test_content_type_is_judged_from_the_bytes(start_service) -> None:
    c = start_service().client
    r = _upload(
        c,
        ("photo.txt", PNG, "text/plain"),  # an image whatever its name says
        ("notes.bin", b"Plain words about clouds and rain.", "application/octet-stream"),
        ("data.txt", ZIP, "text/plain"),  # an archive whatever its name says
    )
    assert r.status_code == 200
    files = {f["path"]: f for f in r.json()["files"]}
    # images are read (this one is only a PNG signature, so it cannot be decoded)
    assert files["upload://photo.txt"]["status"] == "failed"
    assert files["upload://photo.txt"]["error_code"] == "parse_error"
    assert "could not be decoded as an image" in files["upload://photo.txt"]["message"]
    assert files["upload://data.txt"]["error_code"] == "unsupported_format"
    assert "ZIP archive" in files["upload://data.txt"]["message"]
    assert files["upload://notes.bin"]["status"] == "ingested"


def test_upload_limits(start_service) -> None:
    c = start_service(service={"max_files": 2, "max_upload_mb": 0.01, "max_body_mb": 0.05}).client
    many = _upload(c, *[(f"f{i}.txt", b"some words here", "text/plain") for i in range(3)])
    assert many.status_code == 413 and many.json()["error"] == "too_many_files"
    big = _upload(c, ("big.txt", b"word " * 4000, "text/plain"))
    assert big.status_code == 413 and big.json()["error"] == "file_too_large"
    huge = c.post("/ingest", json={"texts": ["x" * 60_000]})
    assert huge.status_code == 413 and huge.json()["error"] == "request_too_large"
    dupes = _upload(
        c, ("a/x.txt", b"one two three", "text/plain"), ("a//x.txt", b"four", "text/plain")
    )
    assert dupes.status_code == 400 and "a/x.txt" in dupes.json()["message"]
    wrong = c.post("/ingest", content=b"hello", headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 415 and wrong.json()["error"] == "unsupported_media_type"
    none = c.post("/ingest", files={"other": ("a.txt", b"x", "text/plain")})
    assert none.status_code == 400 and "'files'" in none.json()["message"]


def test_chunked_body_over_the_limit_is_refused(start_service) -> None:
    c = start_service(service={"max_body_mb": 0.01}).client

    def body():
        for _ in range(40):
            yield b"x" * 1024

    r = c.post("/ingest", content=body(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "request_too_large"


def test_query_and_k_limits(start_service) -> None:
    c = start_service(service={"max_k": 10, "max_query_chars": 50}).client
    c.post("/ingest", json={"texts": ["Rivers flow to the sea."]})
    assert c.post("/search", json={"query": "rivers", "k": 10}).status_code == 200
    over = c.post("/search", json={"query": "rivers", "k": 11})
    assert over.status_code == 400 and "service.max_k" in over.json()["message"]
    long = c.post("/search", json={"query": "r" * 51})
    assert long.status_code == 400 and "service.max_query_chars" in long.json()["message"]
    blank = c.post("/ask", json={"question": "   "})
    assert blank.status_code == 400 and blank.json()["message"] == "the question is empty"
    assert c.post("/search", json={"query": "rivers", "k": 0}).status_code == 422


def test_upload_over_a_parsing_budget_fails_alone(start_service) -> None:
    svc = start_service(parsing={"max_columns": 50})
    wide = (",".join(f"c{i}" for i in range(5000)) + "\n" + ",".join("x" * 5000) + "\n").encode()
    r = _upload(
        svc.client,
        ("wide.csv", wide, "text/csv"),
        ("notes.txt", b"Kingfishers dive for small fish.", "text/plain"),
    )
    assert r.status_code == 200, r.text
    files = {f["path"]: f for f in r.json()["files"]}
    assert files["upload://notes.txt"]["status"] == "ingested"
    failed = files["upload://wide.csv"]
    assert failed["status"] == "failed" and failed["error_code"] == "file_over_budget"
    assert "5,000 columns" in failed["message"] and "parsing.max_columns" in failed["message"]
