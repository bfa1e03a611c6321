"""``POST /ingest``: uploaded files (multipart) or texts (JSON), with the per-file report.

Uploads are checked before anything is written: the count, each file's size,
and its content type as judged from its bytes (the name and the declared
type are not trusted). Files of a kind ragsilo cannot read are reported as
failed without touching the disk; the others are saved in a private temporary
folder and ingested as ``upload://<relative path>``: the claimed name with its
folders kept and each part made safe (see
:func:`~ragsilo.service.limits.sanitize_upload_path`), so ``a/notes.txt`` and
``b/notes.txt`` are two documents, and uploading the same file under the same
name again writes nothing. Reading each file is bounded by the same
``parsing`` budgets as an ingest from disk: a file over one fails alone with
``file_over_budget`` while the others are ingested.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ragsilo.models import FileResult, IngestReport
from ragsilo.parsers import PARSERS, describe_mime, detect_mime
from ragsilo.parsers.image import IMAGE_TYPES
from ragsilo.service.auth import Principal
from ragsilo.service.context import (
    ServiceContext,
    get_context,
    require,
    silo_for,
    tenant_for,
)
from ragsilo.service.errors import ServiceError
from ragsilo.service.limits import MIB, sanitize_upload_path
from ragsilo.service.routes.search import ERRORS
from ragsilo.service.schemas import IngestResponse, TextsRequest
from ragsilo.silo import Silo

router = APIRouter(tags=["ingest"])

UPLOAD_PREFIX = "upload://"
_CHUNK = 1 << 20


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its local ``$defs`` references written out (for an inline body)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.split("/")[-1]]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "The files to ingest",
                        }
                    },
                    "required": ["files"],
                }
            },
            "application/json": {"schema": _inline_refs(TextsRequest.model_json_schema())},
        },
    }
}


@router.post(
    "/ingest",
    response_model=IngestResponse,
    responses={**ERRORS, 415: ERRORS[400]},
    openapi_extra=_BODY,
    summary="Ingest uploaded files or texts",
)
async def ingest(
    request: Request,
    ctx: ServiceContext = Depends(get_context),
    _: Principal = Depends(require("write")),
    silo: Silo = Depends(silo_for),
) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        report = await _ingest_uploads(request, ctx, silo)
    elif kind == "application/json":
        report = await _ingest_texts(request, ctx, silo)
    else:
        raise ServiceError(
            415,
            "unsupported_media_type",
            "send files as multipart/form-data (field 'files') or texts as application/json "
            '({"texts": [...]})',
        )
    ctx.metrics.observe_ingest(report)
    return report.to_dict()


async def _ingest_texts(request: Request, ctx: ServiceContext, silo: Silo) -> IngestReport:
    try:
        body = TextsRequest.model_validate_json(await request.body())
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in e.errors(include_url=False)[:5]
        )
        raise ServiceError(422, "invalid_request", f"the request is invalid: {problems}") from None
    ctx.limits.check_count(len(body.texts), "texts")
    items: list[tuple[str, dict[str, Any]]] = []
    for t in body.texts:
        if isinstance(t, str):
            items.append((t, {}))
            continue
        fields: dict[str, Any] = dict(t.metadata or {})
        if t.name is not None:
            fields["name"] = t.name
        if t.title is not None:
            fields["title"] = t.title
        items.append((t.text, fields))
    tenant = tenant_for(request.state.principal, body.tenant)
    return await _locked(ctx, silo.ingest_texts, items, tenant=tenant)


async def _ingest_uploads(request: Request, ctx: ServiceContext, silo: Silo) -> IngestReport:
    limits = ctx.limits
    async with request.form(
        max_files=limits.max_files + 1, max_fields=limits.max_files + 16
    ) as form:
        uploads = form.getlist("files")
        tenant_field = form.get("tenant")
        if tenant_field is not None and not isinstance(tenant_field, str):
            raise ServiceError(400, "invalid_input", "the field 'tenant' must be text")
        tenant = tenant_for(request.state.principal, tenant_field or None)
        if not uploads:
            raise ServiceError(400, "invalid_input", "no files: send them in the field 'files'")
        if any(not isinstance(u, UploadFile) for u in uploads):
            raise ServiceError(400, "invalid_input", "the field 'files' must hold file uploads")
        limits.check_count(len(uploads), "files")
        files = [u for u in uploads if isinstance(u, UploadFile)]
        names = [sanitize_upload_path(u.filename) for u in files]
        dupes = sorted(n for n, count in Counter(names).items() if count > 1)
        if dupes:
            raise ServiceError(
                400,
                "invalid_input",
                f"two uploads share the name {dupes[0]!r}; rename one or send them in "
                "different folders (a/notes.txt, b/notes.txt)",
            )
        contents = [
            await _read_limited(u, name, limits.max_upload_bytes)
            for u, name in zip(files, names, strict=True)
        ]
    with tempfile.TemporaryDirectory(prefix="ragsilo-upload-") as tmp:
        folder = Path(tmp)
        paths: list[Path] = []
        source_names: dict[str | Path, str] = {}
        rejected: list[FileResult] = []
        for n, (name, data) in enumerate(zip(names, contents, strict=True)):
            source = UPLOAD_PREFIX + name
            reason = _unreadable(data, name)
            if reason is not None:
                rejected.append(FileResult(source, "failed", 0, *reason))
                continue
            # One folder per upload: the client's folders never become ours, so
            # "a" and "a/b.txt" in one request cannot collide.
            (folder / str(n)).mkdir(mode=0o700)
            path = folder / str(n) / name.rsplit("/", 1)[-1]
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            paths.append(path)
            source_names[path] = source
        if paths:
            report = await _locked(
                ctx, silo.ingest, paths, source_names=source_names, tenant=tenant
            )
        else:
            report = IngestReport((), 0, 0, 0.0)
    files_out = tuple(sorted((*report.files, *rejected), key=lambda r: r.path))
    return dataclasses.replace(report, files=files_out)


async def _read_limited(upload: UploadFile, name: str, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ServiceError(
                413,
                "file_too_large",
                f"{name} is over the {limit / MIB:.3g} MB upload limit (service.max_upload_mb)",
            )
        parts.append(chunk)
    return b"".join(parts)


def _unreadable(data: bytes, name: str) -> tuple[str, str] | None:
    """``(code, message)`` when the bytes are of a kind no parser reads, judged from the bytes."""
    if not data:
        return "parse_error", f"{name} is empty"
    mime = detect_mime(data, name)
    if mime in PARSERS or mime in IMAGE_TYPES:
        return None
    return (
        "unsupported_format",
        f"{name} is {describe_mime(mime)} (judged from its bytes), which ragsilo does not read",
    )


async def _locked(ctx: ServiceContext, fn: Any, *args: Any, **kwargs: Any) -> IngestReport:
    """Run one ingest at a time: ingests are heavy, and one after another stay predictable."""

    def run() -> IngestReport:
        with ctx.ingest_lock:
            result = fn(*args, **kwargs)
        assert isinstance(result, IngestReport)
        return result

    return await run_in_threadpool(run)
