"""``POST /ask``: an answer with numbered citations, whole or streamed as server-sent events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from ragsilo.errors import RagsiloError
from ragsilo.retrieval.query import Query
from ragsilo.service.auth import Principal
from ragsilo.service.context import (
    ServiceContext,
    get_context,
    require,
    silo_for,
    tenant_for,
)
from ragsilo.service.routes.search import ERRORS, blame_raw_filter
from ragsilo.service.schemas import AskRequest, AskResponse
from ragsilo.silo import Silo

router = APIRouter(tags=["ask"])

_STREAM_DOC = {
    "content": {
        "text/event-stream": {
            "schema": {"type": "string"},
            "example": 'event: citations\ndata: {"citations": [...]}\n\n'
            'data: {"delta": "Compost heats up [1]"}\n\nevent: done\ndata: {"answer": "..."}\n\n',
        }
    }
}


def _event(data: dict[str, Any], event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={**ERRORS, 200: _STREAM_DOC},
    summary="Answer a question from the collection, citing the hits",
)
def ask(
    body: AskRequest,
    ctx: ServiceContext = Depends(get_context),
    who: Principal = Depends(require("read")),
    silo: Silo = Depends(silo_for),
) -> Any:
    tenant = tenant_for(who, body.tenant)
    ctx.limits.check_text(body.question, "question")
    ctx.limits.check_k(body.k)
    question = Query.of(
        body.question,
        k=body.k,
        where=body.where,
        filter=body.filter,
        consistency_level=body.consistency_level,
        tenant=tenant,
    )
    if not body.stream:
        with blame_raw_filter(body.filter):
            answer = silo.ask(question)
        return answer.to_dict()
    # ask_stream reads the first piece, so an unreachable model is a clean JSON error
    # rather than a stream that breaks off.
    with blame_raw_filter(body.filter):
        stream = silo.ask_stream(question)

    def events() -> Iterator[str]:
        with stream:
            yield _event(stream.to_dict(), "citations")
            try:
                for piece in stream:
                    yield _event({"delta": piece})
            except RagsiloError as e:
                yield _event(e.to_dict(), "error")
                return
            yield _event({"answer": stream.text}, "done")

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
