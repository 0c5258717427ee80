"""Request dependencies: the store, the caller (role from the API key), the queries.

The store is injected (``app.state.store``), never opened by a router, so tests run the app
over a real temporary database and the server shares one store across threads (LadybugDB
allows one Database object per process; the store pools its connections).
The queries object is built per request with ``include_restricted`` set from the caller's
role, so the query layer hides restricted records for public and researcher callers in
every method.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from api.gaps_gate import GapsGate
from api.problems import ApiProblem
from api.security import AdminStore, Principal, Role
from api.warmup import WarmUp
from graph.store import Store
from queries.service import GraphQueries

KEY_COOKIE = "accgraph_key"


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_admin(request: Request) -> AdminStore:
    admin: AdminStore = request.app.state.admin
    return admin


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def get_principal(request: Request) -> Principal:
    """The caller: anonymous (public) without a key; 401 for a key that is not valid.

    The key comes from ``Authorization: Bearer``; the web pages may also carry it in a cookie
    set by /ui/login, honoured for GET and HEAD only so a cross-site form cannot write.
    """
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    client = client_address(request)
    header = request.headers.get("authorization", "")
    key = ""
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiProblem(401, "use 'Authorization: Bearer <key>'",
                             headers={"WWW-Authenticate": "Bearer"})
        key = value.strip()
    elif request.method in ("GET", "HEAD"):
        key = request.cookies.get(KEY_COOKIE, "")
    principal = Principal(Role.PUBLIC, None, client)
    if key:
        info = get_admin(request).authenticate(key)
        if info is None:
            raise ApiProblem(401, "the API key is not valid (unknown or revoked)",
                             headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        principal = Principal(Role(info.role), info.key_id, client, info.label)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_admin(principal: CurrentPrincipal) -> Principal:
    if not principal.role.can_write:
        if principal.role is Role.PUBLIC:
            raise ApiProblem(401, "an admin API key is required",
                             headers={"WWW-Authenticate": "Bearer"})
        raise ApiProblem(403, "this operation is for admins only")
    return principal


AdminPrincipal = Annotated[Principal, Depends(require_admin)]


def served_queries(store: Store, *, include_restricted: bool, gate: WarmUp,
                   gaps_gate: GapsGate | None = None) -> GraphQueries:
    """``GraphQueries`` behind the start-up gates: a search (and so resolving an entity
    given by name) first waits, bounded, for the name index's background build
    (``api.warmup``), and a gaps question for the scan's (``api.gaps_gate``), so no
    request builds either itself or hangs behind a build."""
    return GraphQueries(store, include_restricted=include_restricted,
                        before_search=gate.wait,
                        before_gaps=gaps_gate.wait if gaps_gate is not None else None)


def get_queries(request: Request, principal: CurrentPrincipal) -> Any:
    """A ``GraphQueries`` over the shared store that sees restricted records only if the
    caller's role may."""
    store = get_store(request)
    include = principal.role.sees_restricted
    cache: dict[bool, tuple[int, Any]] = request.app.state.queries_cache
    hit = cache.get(include)
    if hit is None or hit[0] != store.generation:
        hit = (store.generation, served_queries(store, include_restricted=include,
                                                gate=request.app.state.warmup,
                                                gaps_gate=request.app.state.gaps_gate))
        cache[include] = hit
    return hit[1]


Queries = Annotated[Any, Depends(get_queries)]
