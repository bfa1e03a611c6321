"""The web page in headless Chromium: a real upload, a real search and a real answer."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

pytestmark = [pytest.mark.service, pytest.mark.browser, pytest.mark.lite, pytest.mark.embed]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000

OTTERS = (
    b"# Sea otters\n\nSea otters hold hands while they sleep so that they do not drift apart. "
    b"They keep a favourite stone in a pouch of skin to crack open shellfish.\n"
)


def _chromium() -> str:
    """Chromium's path; missing, the test is skipped, except in CI where it must be there."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture
def page(tmp_path: Path):
    executable = _chromium()
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            yield page
            assert errors == [], errors
        finally:
            context.close()


def test_upload_search_and_ask_in_the_browser(start_service, page) -> None:
    svc = start_service()
    page.goto(svc.url + "/")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#mode option").all_inner_texts() == ["dense", "bm25", "hybrid"]
    assert page.locator("#reranker option").all_inner_texts()[:2] == ["none", "cluster_smooth"]

    page.set_input_files(
        "#files", files=[{"name": "otters.md", "mimeType": "text/markdown", "buffer": OTTERS}]
    )
    page.click("#upload-button")
    page.wait_for_selector("#report:not([hidden]) tbody tr")
    row = page.locator("#report tbody tr").first.inner_text()
    assert "upload://otters.md" in row and "ingested" in row
    expect(page.locator("#stats")).to_contain_text("1 document,", timeout=TIMEOUT_MS)

    page.fill("#query", "Which animal sleeps holding hands?")
    page.select_option("#mode", "hybrid")
    page.click("#search-button")
    page.wait_for_selector("#results li")
    first = page.locator("#results li").first.inner_text()
    assert "Sea otters" in first and "upload://otters.md" in first
    assert "hits in" in page.inner_text("#search-status")

    page.fill("#question", "How do sea otters open shellfish?")
    page.click("#ask-button")
    page.wait_for_selector("#answer:not([hidden])")
    assert "stone" in page.inner_text("#answer-text") and "[1]" in page.inner_text("#answer-text")
    assert "upload://otters.md" in page.locator("#citations li").first.inner_text()


def test_errors_show_on_the_page(start_service, page) -> None:
    svc = start_service(service={"max_query_chars": 10})
    page.goto(svc.url + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.evaluate("document.querySelector('#query').removeAttribute('maxlength')")
    page.fill("#query", "a question that is far too long")
    page.click("#search-button")
    page.wait_for_selector("#search-status.error")
    assert "service.max_query_chars" in page.inner_text("#search-status")


# ----------------------------------------------------------------- docs, offline
_REF = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""", re.I)
_EXTERNAL = re.compile(r"""["'(]\s*(?:https?:)?//[^"')\s]+""", re.I)


def _refs(html: str) -> list[str]:
    return [a or b for a, b in _REF.findall(html)]


@pytest.mark.parametrize("page_path", ["/docs", "/redoc"])
def test_docs_pages_load_everything_from_the_service(start_service, page_path: str) -> None:
    """/docs and /redoc reference no external URL, and every script, style sheet and icon they
    name is served by the service itself."""
    svc = start_service()
    res = svc.client.get(page_path)
    assert res.status_code == 200 and "text/html" in res.headers["content-type"]
    html = res.text
    assert "cdn.jsdelivr.net" not in html and "fonts.googleapis.com" not in html
    assert "fastapi.tiangolo.com" not in html
    refs = _refs(html)
    assert refs, html
    for ref in refs:
        assert ref.startswith("/"), f"{page_path} references {ref!r}, not a local path"
        asset = svc.client.get(ref)
        assert asset.status_code == 200, ref
        assert len(asset.content) > 1000, ref
    assert not _EXTERNAL.findall(html), _EXTERNAL.findall(html)
    # the page's own script points at the schema on this server
    assert "'/openapi.json'" in html or '"/openapi.json"' in html


def test_docs_assets_have_types_and_unknown_names_are_404(start_service) -> None:
    svc = start_service()
    css = svc.client.get("/docs/static/swagger-ui.css")
    assert css.headers["content-type"].startswith("text/css")
    js = svc.client.get("/docs/static/swagger-ui-bundle.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert svc.client.get("/docs/static/../app.py").status_code == 404
    assert svc.client.get("/docs/static/nothing.js").status_code == 404
    # the web page links the docs, and the schema documents both bodies of POST /ingest
    assert 'href="/docs"' in svc.client.get("/").text
    body = svc.client.get("/openapi.json").json()["paths"]["/ingest"]["post"]["requestBody"]
    assert {"application/json", "multipart/form-data"} <= set(body["content"])


def test_docs_render_in_the_browser_without_network(start_service, page) -> None:
    """Swagger UI draws the operations with every request outside the service refused."""
    svc = start_service()
    outside: list[str] = []

    def only_local(route) -> None:
        if route.request.url.startswith(svc.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(svc.url + "/docs")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/search" in p for p in paths) and any("/ingest" in p for p in paths)
    assert outside == []
