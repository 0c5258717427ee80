"""``GET /sanctions/gaps``: implicated persons an authority has not designated."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.deps import CurrentPrincipal, Queries
from api.guard import check_answer
from api.routers.params import check_text
from queries.answers import GapsAnswer

router = APIRouter(prefix="/sanctions", tags=["sanctions"])


@router.get("/gaps", response_model=GapsAnswer, summary="Sanctions gaps for one authority")
def gaps(
    request: Request,
    principal: CurrentPrincipal,
    queries: Queries,
    authority: Annotated[str, Query(min_length=1, max_length=20,
                                    description="OFAC, EU, UK, UN, CA, AU...", examples=["EU"])],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Persons implicated in incidents or cases (with why) who have no active listing by
    ``authority``, and their listings by other authorities."""
    return check_answer(request, principal,
                        queries.gaps(check_text(authority, "authority"), limit=limit))
