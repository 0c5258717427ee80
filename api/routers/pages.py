"""The web pages (server-side templates, no front-end build): search, entity, chain of
command with a date picker, a printable accountability page with footnotes, login.

Pages call the same queries with the same role rules as the JSON endpoints. A browser can
not send a Bearer header, so /ui/login keeps the key in an HttpOnly, SameSite=Strict
cookie, honoured for GET requests only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import KEY_COOKIE, CurrentPrincipal, Queries, get_admin
from api.guard import check_answer
from api.problems import ApiProblem
from api.routers.params import MAX_TEXT, AtDate, Ref, check_date, check_text
from api.security import Principal
from queries.answers import AUTHORITIES

router = APIRouter(prefix="/ui", include_in_schema=False)


class Footnotes:
    """Numbers each source once, in order of first citation, for a printable page."""

    def __init__(self) -> None:
        self.sources: dict[str, dict[str, Any]] = {}

    def cite(self, claim: dict[str, Any] | None) -> list[int]:
        if not claim:
            return []
        refs = claim.get("sources") or [{"id": s, "missing": True}
                                        for s in claim.get("source_ids") or []]
        out = []
        for src in refs:
            if src["id"] not in self.sources:
                self.sources[src["id"]] = {**src, "n": len(self.sources) + 1}
            out.append(self.sources[src["id"]]["n"])
        return out

    def cite_sources(self, sources: list[dict[str, Any]] | None) -> list[int]:
        return self.cite({"sources": sources or []})

    @property
    def ordered(self) -> list[dict[str, Any]]:
        return sorted(self.sources.values(), key=lambda s: s["n"])


def _render(request: Request, name: str, principal: Principal, **ctx: Any) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, name, {"principal": principal, "authorities": AUTHORITIES, **ctx})


@router.get("/", response_class=HTMLResponse)
def home(request: Request, principal: CurrentPrincipal, queries: Queries,
         q: Annotated[str | None, Query(max_length=MAX_TEXT)] = None) -> Response:
    results = None
    if q is not None and q.strip():
        results = check_answer(request, principal, queries.search(check_text(q, "q"), limit=50))
    return _render(request, "search.html", principal, q=q or "", results=results)


@router.get("/entities/{ref}", response_class=HTMLResponse)
def entity_page(request: Request, principal: CurrentPrincipal, queries: Queries,
                ref: Ref) -> Response:
    p = check_answer(request, principal, queries.profile(check_text(ref, "ref")))
    # posts over time: earliest first, undated last
    p["posts"].sort(key=lambda post: (not post["holds"].get("valid_from"),
                                      post["holds"].get("valid_from") or ""))
    timeline = check_answer(request, principal, queries.timeline(p["entity"]["id"]))
    return _render(request, "entity.html", principal, p=p, timeline=timeline,
                   notes=Footnotes())


@router.get("/entities/{ref}/chain", response_class=HTMLResponse)
def chain_page(request: Request, principal: CurrentPrincipal, queries: Queries, ref: Ref,
               at: AtDate = None) -> Response:
    ref = check_text(ref, "ref")
    at = check_date(at)
    chain = None
    entity = None
    if at:
        chain = check_answer(request, principal, queries.chain(ref, at))
        entity = chain["entity"]
    else:
        entity = check_answer(request, principal, queries.profile(ref))["entity"]
    return _render(request, "chain.html", principal, chain=chain, entity=entity, at=at or "",
                   notes=Footnotes())


@router.get("/entities/{ref}/accountability", response_class=HTMLResponse)
def accountability_page(request: Request, principal: CurrentPrincipal, queries: Queries,
                        ref: Ref) -> Response:
    answer = check_answer(request, principal, queries.accountability(check_text(ref, "ref")))
    return _render(request, "accountability.html", principal, a=answer, notes=Footnotes())


@router.get("/entities/{ref}/linked", response_class=HTMLResponse)
def linked_page(request: Request, principal: CurrentPrincipal, queries: Queries, ref: Ref,
                at: AtDate = None) -> Response:
    answer = check_answer(request, principal,
                          queries.linked(check_text(ref, "ref"), at=check_date(at)))
    return _render(request, "linked.html", principal, a=answer, at=at or "", notes=Footnotes())


@router.get("/sanctions/gaps", response_class=HTMLResponse)
def gaps_page(request: Request, principal: CurrentPrincipal, queries: Queries,
              authority: Annotated[str, Query(min_length=1, max_length=20)] = "EU") -> Response:
    answer = check_answer(request, principal, queries.gaps(check_text(authority, "authority")))
    return _render(request, "gaps.html", principal, a=answer)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, principal: CurrentPrincipal) -> Response:
    return _render(request, "login.html", principal, error="")


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, key: Annotated[str, Form(max_length=300)]) -> Response:
    info = get_admin(request).authenticate(key.strip())
    if info is None:
        raise ApiProblem(401, "the API key is not valid (unknown or revoked)")
    response = RedirectResponse("/ui/", status_code=303)
    response.set_cookie(KEY_COOKIE, key.strip(), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/ui/", status_code=303)
    response.delete_cookie(KEY_COOKIE, path="/")
    return response
