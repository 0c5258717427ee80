"""``GET /analytics/{measure}``: centrality, brokers and communities on the graph."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.deps import CurrentPrincipal, Queries
from api.guard import check_answer
from api.problems import ApiProblem
from api.routers.params import MAX_REF, AtDate, check_date
from api.routers.search import KindParam, check_kinds
from queries.answers import AnalyticsAnswer

router = APIRouter(prefix="/analytics", tags=["analytics"])


@router.get("/{measure}", response_model=AnalyticsAnswer,
            summary="A network measure (e.g. degree, betweenness, brokers, communities)")
def analytics(
    request: Request,
    principal: CurrentPrincipal,
    queries: Queries,
    measure: Annotated[str, "measure name"],
    kind: KindParam = None,
    at: AtDate = None,
    group_a: Annotated[list[str] | None, Query(
        max_length=100, description="brokers: first group of organisations (ids or names; "
                                    "repeat the parameter)")] = None,
    group_b: Annotated[list[str] | None, Query(
        max_length=100, description="brokers: second group (ids or names)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> Any:
    """Computed on the subgraph of the given node kinds (and claims that may hold on
    ``at``); an unknown measure is a 422 that lists the known ones."""
    for value in (group_a or []) + (group_b or []):
        if len(value) > MAX_REF:
            raise ApiProblem(422, f"group: at most {MAX_REF} characters per member",
                             field="group_a")
    answer = queries.analytics(measure[:50], kinds=check_kinds(kind), at=check_date(at),
                               group_a=group_a, group_b=group_b, limit=limit)
    return check_answer(request, principal, answer)
