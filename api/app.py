"""The FastAPI application: JSON endpoints for every question, pictures, web pages.

``create_app(store, admin)`` takes an open store (injected, so tests pass a real temporary
LadybugDB and the server passes the one it opened) and the key/audit store. Routers only
call ``queries/``; nothing here holds Cypher.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from api import problems
from api.security import AdminStore
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


def create_app(store: Store, admin: AdminStore, *, title: str = "accountability-graph") -> FastAPI:
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

    app = FastAPI(title=title, version="0.1.0", description=DESCRIPTION,
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
    problems.install(app)

    for router in (search.router, entities.router, sanctions.router, paths.router,
                   analytics.router, graph_pictures.router, reconcile.router, exports.router,
                   admin_router.router, pages.router):
        app.include_router(router)

    app.mount("/static/vis", StaticFiles(directory=str(vis_assets_dir())), name="vis")
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/ui/", status_code=307)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        if "authorization" in request.headers or "accgraph_key" in request.cookies:
            # answers for a key may hold restricted records: never kept by a cache
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Vary", "Authorization, Cookie")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response

    logging.getLogger("accgraph.api").setLevel(logging.INFO)
    return app
