"""``GET /search``: names in any script, matched across transliterations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import CurrentPrincipal, Queries
from api.guard import answer_response
from api.routers.params import MAX_TEXT, check_text
from graph.model import NODE_KINDS
from queries.answers import SearchAnswer

router = APIRouter(tags=["search"])

KindParam = Annotated[list[str] | None, Query(
    description=f"restrict to node kinds ({', '.join(NODE_KINDS)}); repeat for several")]


def check_kinds(kinds: list[str] | None) -> list[str] | None:
    from api.problems import ApiProblem

    if not kinds:
        return None
    bad = [k for k in kinds if k not in NODE_KINDS]
    if bad:
        raise ApiProblem(422, f"kind: '{bad[0][:50]}' is not one of {', '.join(NODE_KINDS)}",
                         field="kind")
    return kinds


@router.get("/search", response_model=SearchAnswer, summary="Search names in any script")
def search(
    request: Request,
    principal: CurrentPrincipal,
    queries: Queries,
    q: Annotated[str, Query(min_length=1, max_length=MAX_TEXT, description="a name, any script",
                            examples=["Mohseni-Ejei"])],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    kind: KindParam = None,
) -> Response:
    """Persian is normalised (Arabic yeh/kaf, ZWNJ, diacritics) and matched across
    transliterations: "Mohseni-Ejei", "Mohseni Ezhei" and "محسنی اژه‌ای" find one person."""
    return answer_response(request, principal, lambda: queries.search(
        check_text(q, "q"), limit=limit, kinds=check_kinds(kind)))
