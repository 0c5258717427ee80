"""The OpenRefine reconciliation service (Reconciliation Service API v0.2), as yente and
Wikidata offer: a researcher matches a spreadsheet column of names against the graph.

``GET /reconcile`` without queries is the service manifest; ``queries`` (a JSON object of
``{"q0": {"query": "...", "type": "Person", "limit": 3}}``, in the query string or a POST
form) is answered with candidates per query. Matching uses the same name search as
``/search`` (scripts and transliterations), and the same role rules: restricted records are
never candidates for callers who may not see them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from api.deps import CurrentPrincipal, Queries
from api.guard import check_answer
from api.problems import ApiProblem
from api.routers.params import MAX_REF
from graph.model import NODE_KINDS

router = APIRouter(prefix="/reconcile", tags=["reconcile"])

MAX_QUERIES = 100
MAX_LIMIT = 50
MATCH_SCORE = 95.0  # auto-match only a near-exact name that clearly beats the next one
MATCH_MARGIN = 10.0
RECONCILE_KINDS = tuple(k for k in NODE_KINDS if k != "Source")


class ReconType(BaseModel):
    id: str
    name: str


class ReconCandidate(BaseModel):
    id: str
    name: str
    score: float
    match: bool
    type: list[ReconType]
    description: str | None = None


class ReconResult(BaseModel):
    result: list[ReconCandidate] = Field(default_factory=list)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def manifest(request: Request) -> dict[str, Any]:
    base = _base(request)
    return {
        "versions": ["0.1", "0.2"],
        "name": "accountability-graph",
        "identifierSpace": f"{base}/entities/",
        "schemaSpace": f"{base}/openapi.json#kinds",
        "defaultTypes": [{"id": k, "name": k} for k in RECONCILE_KINDS],
        "view": {"url": f"{base}/ui/entities/{{{{id}}}}"},
        "preview": {"url": f"{base}/reconcile/preview?id={{{{id}}}}", "width": 420,
                    "height": 160},
    }


def _parse_queries(raw: str) -> dict[str, dict[str, Any]]:
    if len(raw) > 200_000:
        raise ApiProblem(413, "queries: at most 200000 characters", field="queries")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ApiProblem(422, f"queries: not valid JSON ({exc.__class__.__name__})",
                         field="queries") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ApiProblem(422, 'queries: expected {"q0": {"query": "..."}, ...}', field="queries")
    if len(data) > MAX_QUERIES:
        raise ApiProblem(422, f"queries: at most {MAX_QUERIES} per request", field="queries")
    return data


def _kinds_of(value: Any, key: str) -> list[str] | None:
    if value is None or value == "":
        return None
    kinds = [value] if isinstance(value, str) else value
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise ApiProblem(422, f"queries.{key[:50]}.type: a kind or a list of kinds",
                         field="queries")
    bad = [k for k in kinds if k not in NODE_KINDS]
    if bad:
        raise ApiProblem(422, f"queries.{key[:50]}.type: '{bad[0][:50]}' is not one of "
                              f"{', '.join(NODE_KINDS)}", field="queries")
    return kinds


def reconcile_one(queries: Any, key: str, q: dict[str, Any]) -> tuple[ReconResult, Any]:
    text = q.get("query")
    if not isinstance(text, str) or not text.strip():
        raise ApiProblem(422, f"queries.{key[:50]}.query: a non-empty string is required",
                         field="queries")
    if len(text) > MAX_REF or "\x00" in text:
        raise ApiProblem(422, f"queries.{key[:50]}.query: at most {MAX_REF} characters, no NUL",
                         field="queries")
    limit = q.get("limit", 5)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise ApiProblem(422, f"queries.{key[:50]}.limit: an integer 1..{MAX_LIMIT}",
                         field="queries")
    # without a type, every kind a spreadsheet column can name (not the source documents)
    kinds = _kinds_of(q.get("type"), key) or list(RECONCILE_KINDS)
    answer = queries.search(text, limit=limit, kinds=kinds)
    hits = answer.hits
    out = []
    for i, hit in enumerate(hits):
        nxt = hits[i + 1].score if i + 1 < len(hits) else None
        prev = hits[i - 1].score if i > 0 else None
        match = (i == 0 and hit.score >= MATCH_SCORE
                 and (nxt is None or hit.score - nxt >= MATCH_MARGIN) and prev is None)
        e = hit.entity
        desc = " / ".join(x for x in (e.subtype, e.date, f"matched: {hit.matched}") if x)
        out.append(ReconCandidate(id=e.id, name=e.name or e.id, score=round(hit.score, 2),
                                  match=match, type=[ReconType(id=e.kind, name=e.kind)],
                                  description=desc))
    return ReconResult(result=out), answer


def _answer(request: Request, principal: Any, queries: Any,
            raw_queries: str | None, query: str | None) -> Response | dict[str, Any]:
    if raw_queries is None and query is None:
        return manifest(request)
    batch: dict[str, dict[str, Any]]
    if raw_queries is not None:
        batch = _parse_queries(raw_queries)
    else:
        text = query or ""
        single: Any
        try:
            single = json.loads(text) if text.lstrip().startswith("{") else {"query": text}
        except ValueError:
            single = {"query": text}
        batch = {"q0": single if isinstance(single, dict) else {"query": text}}
    results: dict[str, Any] = {}
    for key, one in batch.items():
        result, _answer_obj = reconcile_one(queries, key, one)
        results[key] = result.model_dump(mode="json")
    checked: dict[str, Any] = check_answer(request, principal, results, action="reconcile")
    if raw_queries is None:  # the old single-query form answers with the result itself
        return dict(checked["q0"])
    return checked


@router.get("", summary="Service manifest, or answers to `queries` (OpenRefine)")
def reconcile_get(
    request: Request,
    principal: CurrentPrincipal,
    queries: Queries,
    queries_param: Annotated[str | None, Query(alias="queries",
                                               description='{"q0": {"query": "..."}}')] = None,
    query: Annotated[str | None, Query(max_length=10_000)] = None,
) -> Any:
    return _answer(request, principal, queries, queries_param, query)


@router.post("", summary="Answers to `queries` sent as a form (OpenRefine)")
def reconcile_post(
    request: Request,
    principal: CurrentPrincipal,
    queries: Queries,
    queries_form: Annotated[str | None, Form(alias="queries")] = None,
    query: Annotated[str | None, Form(max_length=10_000)] = None,
) -> Any:
    return _answer(request, principal, queries, queries_form, query)


@router.get("/preview", response_class=HTMLResponse, summary="A small preview card (OpenRefine)")
def preview(request: Request, principal: CurrentPrincipal, queries: Queries,
            id: Annotated[str, Query(min_length=1, max_length=MAX_REF)]) -> Response:
    data = check_answer(request, principal, queries.profile(id))
    return request.app.state.templates.TemplateResponse(
        request, "preview.html", {"p": data, "principal": principal})
