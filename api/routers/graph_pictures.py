"""``GET /graph/{ref}``: an interactive network picture around an entity.

``view=neighbourhood`` (default) draws the entity's neighbourhood to ``depth`` (optionally
only claims that may hold on ``at``); ``view=chain`` draws the chain of command on ``at``;
``view=accountability`` draws the acts, actors and the paths linking them. Restricted nodes
are never drawn for callers who may not see them (the query layer leaves them out, the
guard checks). ``format=json`` gives the nodes and edges instead of the page.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.deps import CurrentPrincipal, Queries
from api.guard import check_answer
from api.pictures import (
    Picture,
    PictureEdge,
    PictureNode,
    edge_label,
    edge_title,
    legend,
    picture_from_subgraph,
    vis_data,
)
from api.problems import ApiProblem
from api.routers.params import AtDate, Ref, check_date, check_text
from graph.model import NODE_KINDS, kind_of_id

router = APIRouter(tags=["pictures"])

View = Literal["neighbourhood", "chain", "accountability"]


def picture_from_answer(data: Any, focus: str, title: str) -> Picture:
    """Draw any answer: every EntityRef is a node, every Claim an edge (chain, accountability)."""
    pic = Picture(title=title, focus=focus)
    claims: dict[str, dict[str, Any]] = {}
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("kind") in NODE_KINDS and isinstance(item.get("id"), str):
                pic.add_node(PictureNode(item["id"], item["kind"], item.get("name") or item["id"],
                                         title=f"{item['kind']}"
                                               f"{' / ' + item['subtype'] if item.get('subtype') else ''}"
                                               f"\n{item['id']}",
                                         focus=item["id"] == focus))
            elif {"type", "from_id", "to_id"} <= item.keys() and isinstance(item.get("id"), str):
                claims[item["id"]] = item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    for c in claims.values():
        for end, name in ((c["from_id"], c.get("from_name")), (c["to_id"], c.get("to_name"))):
            kind = kind_of_id(end) or ""
            pic.add_node(PictureNode(end, kind, name or end, title=f"{kind}\n{end}",
                                     focus=end == focus))
        pic.edges.append(PictureEdge(
            c["from_id"], c["to_id"],
            edge_label(c["type"], c.get("valid_from"), c.get("valid_to"), c.get("role")),
            edge_title(c["type"], c.get("valid_from"), c.get("valid_to"), c.get("confidence"),
                       c.get("source_ids"), c.get("note")),
            dashed=c.get("status") == "dates_unknown"))
    return pic


@router.get("/graph/{ref}", summary="Interactive network picture (HTML) or its data (JSON)",
            response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}, "application/json": {}}}})
def graph_picture(
    request: Request,
    principal: CurrentPrincipal,
    queries: Queries,
    ref: Ref,
    depth: Annotated[int, Query(ge=1, le=3, description="links from the entity")] = 2,
    at: AtDate = None,
    view: View = "neighbourhood",
    limit: Annotated[int, Query(ge=1, le=1000, description="most nodes drawn")] = 300,
    format: Literal["html", "json"] = "html",
) -> Response:
    ref = check_text(ref, "ref")
    at = check_date(at)
    if view == "neighbourhood":
        answer = check_answer(request, principal,
                              queries.neighbourhood(ref, depth=depth, at=at, limit=limit))
        focus = answer["center"]["id"]
        name = answer["center"].get("name") or focus
        title = f"Network around {name}" + (f" on {at}" if at else "")
        pic = picture_from_subgraph(answer, focus, title)
        if answer.get("truncated"):
            pic.note = f"Only the first {limit} nodes are drawn."
    elif view == "chain":
        if not at:
            raise ApiProblem(422, "at: the chain of command is drawn at a date; give 'at'",
                             field="at")
        answer = check_answer(request, principal, queries.chain(ref, at))
        focus = answer["entity"]["id"]
        title = f"Chain of command above {answer['entity'].get('name') or focus} on {at}"
        pic = picture_from_answer(answer, focus, title)
    else:
        answer = check_answer(request, principal, queries.accountability(ref))
        focus = answer["subject"]["id"]
        title = f"Accountability for {answer['subject'].get('name') or focus}"
        pic = picture_from_answer(answer, focus, title)
    data = vis_data(pic)
    if format == "json":
        return JSONResponse({**pic.to_json(), "vis": data})
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "graph.html", {
        "principal": principal, "pic": pic, "vis": data, "legend": legend(), "ref": focus,
        "depth": depth, "at": at or "", "view": view,
    })
