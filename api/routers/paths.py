"""``GET /paths``: how two entities are connected, each link with its evidence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import CurrentPrincipal, Queries
from api.guard import answer_response
from api.routers.params import MAX_REF, AtDate, check_date, check_text
from queries.answers import PathsAnswer

router = APIRouter(tags=["paths"])


@router.get("/paths", response_model=PathsAnswer, summary="Shortest paths between two entities")
def paths(
    request: Request,
    principal: CurrentPrincipal,
    queries: Queries,
    from_: Annotated[str, Query(alias="from", min_length=1, max_length=MAX_REF,
                                description="id or name")],
    to: Annotated[str, Query(min_length=1, max_length=MAX_REF, description="id or name")],
    at: AtDate = None,
    max_len: Annotated[int, Query(ge=1, le=10)] = 6,
) -> Response:
    """The shortest paths (up to ``max_len`` links), optionally only through claims that may
    hold on ``at``; ``length`` is null when there is none."""
    return answer_response(request, principal, lambda: queries.paths(
        check_text(from_, "from"), check_text(to, "to"), at=check_date(at), max_len=max_len))
