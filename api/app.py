"""The FastAPI application: JSON endpoints for every question, pictures, web pages.

``create_app(store, admin)`` takes an open store (injected, so tests pass a real temporary
LadybugDB and the server passes the one it opened) and the key/audit store. Routers only
call ``queries/``; nothing here holds Cypher (except the guard's one scan for restricted ids).

The server (``accgraph serve``) also asks for ``warm_up`` (build the name index and the
restricted-id set in the background at start, see ``api.warmup``), may mark the app
``read_only`` (a multi-worker server opens the store read-only: writes answer 409) and may
turn on the bounded answer cache (``answer_cache_mib``, see ``api.guard.AnswerCache``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from api import problems
from api.gaps_gate import GapsGate
from api.guard import AnswerCache
from api.security import AdminStore
from api.warmup import DEFAULT_WAIT_SECONDS, WarmUp
from graph.store import Store

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

DESCRIPTION = """
A knowledge graph of perpetrators, victims and institutions of grave human-rights
violations. Every answer carries its evidence: the dates, sources and confidence of every
link. Anonymous callers get the public graph; send `Authorization: Bearer <key>` for the
researcher, lawyer or admin role. Restricted records (victims and witnesses at risk) are only
ever returned to lawyers and admins. Errors are `application/problem+json`.
"""


def vis_assets_dir() -> Path:
    """vis-network as shipped inside the pyvis package: pictures work with no internet."""
    import pyvis

    return Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2"


class SecurityHeaders:
    """Security and caching headers on every response, as a plain ASGI middleware.

    (It was an ``@app.middleware("http")`` function: Starlette's ``BaseHTTPMiddleware``
    runs each request in an extra task with memory streams, a measurable share of a
    4 ms answer.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        keyed = False
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                keyed = True
            elif name == b"cookie" and b"accgraph_key" in value:
                keyed = "accgraph_key" in cookie_parser(value.decode("latin-1"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if keyed:
                    # answers for a key may hold restricted records: never kept by a cache
                    headers["Cache-Control"] = "no-store"
                headers.setdefault("Vary", "Authorization, Cookie")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
            await send(message)

        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send_with_headers(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            # Starlette's catch-all handler answers 500 and then re-raises, and uvicorn then
            # drops the connection: clients saw resets. Answer here and keep the connection.
            if started:
                raise
            response = problems.internal_error(Request(scope), exc)
            await response(scope, receive, send_with_headers)


def create_app(store: Store, admin: AdminStore, *, title: str = "accountability-graph",
               warm_up: bool = False, read_only: bool = False, answer_cache_mib: float = 0,
               ready_wait_seconds: float = DEFAULT_WAIT_SECONDS,
               threads: int | None = None) -> FastAPI:
    from api.routers import admin as admin_router
    from api.routers import (
        analytics,
        entities,
        exports,
        graph_pictures,
        pages,
        paths,
        reconcile,
        sanctions,
        search,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if threads:
            # Route functions run in anyio's thread pool (40 threads by default). On a
            # 2-core machine 40 concurrent engine queries only contend, and each holds
            # engine memory (buffer-pool frames for its intermediate results): the high-water
            # mark of concurrent queries is what the server's RSS grew to. A few threads
            # keep both bounded; the others wait in the event loop, costing nothing.
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = FastAPI(title=title, version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None,  # served below from local files: no CDN needed offline
                  openapi_tags=[
                      {"name": "entities", "description": "profile, chain, accountability, "
                                                          "linked officials, timeline"},
                      {"name": "search", "description": "names in any script"},
                      {"name": "sanctions", "description": "sanctions gaps per authority"},
                      {"name": "paths", "description": "how two entities are connected"},
                      {"name": "analytics", "description": "centrality and brokers"},
                      {"name": "pictures", "description": "interactive network pictures"},
                      {"name": "reconcile", "description": "OpenRefine reconciliation"},
                      {"name": "exports", "description": "RDF, GraphML/GEXF, native CSV, "
                                                         "FollowTheMoney, dossiers"},
                      {"name": "admin", "description": "ingest, keys, audit log (admin only)"},
                  ])
    app.state.store = store
    app.state.admin = admin
    app.state.templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    app.state.queries_cache = {}
    app.state.read_only = read_only
    app.state.answer_cache = (AnswerCache(int(answer_cache_mib * 2**20))
                              if answer_cache_mib > 0 else None)
    app.state.warmup = WarmUp(ready_wait_seconds)
    app.state.gaps_gate = GapsGate(ready_wait_seconds)
    if warm_up:
        app.state.warmup.start(store)
    else:
        app.state.warmup.open()
    problems.install(app)

    for router in (search.router, entities.router, sanctions.router, paths.router,
                   analytics.router, graph_pictures.router, reconcile.router, exports.router,
                   admin_router.router, pages.router):
        app.include_router(router)

    app.mount("/static/vis", StaticFiles(directory=str(vis_assets_dir())), name="vis")
    app.mount("/static/swagger", StaticFiles(directory=str(swagger_ui_path)), name="swagger")
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        """Swagger UI from the swagger-ui-bundle wheel (FastAPI's default loads it from a
        CDN, which an air-gapped deployment or this machine cannot reach)."""
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{title}: API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png")

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/ui/", status_code=307)

    @app.get("/health", include_in_schema=False)
    async def health() -> Response:
        """Liveness: the process serves HTTP (cheap: also the load generator's yardstick)."""
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get("/ready", include_in_schema=False)
    def ready(request: Request) -> Response:
        """Readiness: 200 once the start-up caches are built, 503 + Retry-After before."""
        warm: WarmUp = request.app.state.warmup
        # the worker's pid: with --workers N each connection lands on one of N processes,
        # each with its own caches, and a client can tell when every one is ready
        body: dict[str, Any] = {**warm.status(), "read_only": request.app.state.read_only,
                                "worker_pid": os.getpid()}
        cache: AnswerCache | None = request.app.state.answer_cache
        if cache is not None:
            body["answer_cache"] = cache.stats()
        if warm.ready.is_set():
            return JSONResponse(body)
        return problems.problem(request, 503, "the server is starting (building the name index)",
                                headers={"Retry-After": "2"}, **body)

    app.add_middleware(SecurityHeaders)

    logging.getLogger("accgraph.api").setLevel(logging.INFO)
    return app
