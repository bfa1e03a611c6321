"""The web page: one HTML file, a script and a style sheet, shipped inside the package."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

from ragsilo.service.errors import ServiceError

router = APIRouter(include_in_schema=False)

_ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _asset(name: str) -> bytes:
    return (resources.files("ragsilo.service") / "web" / name).read_bytes()


@router.get("/")
def index() -> Response:
    return Response(
        _asset("index.html"), media_type="text/html; charset=utf-8", headers=_SECURITY_HEADERS
    )


@router.get("/static/{name}")
def static(name: str) -> Response:
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise ServiceError(404, "not_found", f"there is no /static/{name}")
    return Response(_asset(name), media_type=media_type, headers=_SECURITY_HEADERS)
