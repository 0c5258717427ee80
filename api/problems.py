"""Errors as ``application/problem+json`` (RFC 9457), the same words the CLI prints.

Bad input is the caller's to fix, so it gets a 4xx that says what to change: an unknown id
404, an ambiguous name 409 with the candidates, a bad date or parameter 422. Anything else is
a bug: a 500 with a reference the operator can find in the server log, never a stack trace.
Requests for the web pages (``/ui``) get the same status with a small HTML page instead.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph.dates import DateError
from queries.errors import Ambiguous, BadParameter, NotFound, QueryError

log = logging.getLogger("accgraph.api")

PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
    405: "Method not allowed", 409: "Ambiguous reference", 413: "Payload too large",
    415: "Unsupported media type", 422: "Invalid parameter", 500: "Internal server error",
    503: "Service unavailable",
}  # fmt: skip


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


class ApiProblem(Exception):
    """Raise from routers for a problem that is not a query error (auth, admin input)."""

    def __init__(self, status: int, detail: str, *, title: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers
        self.extra = extra


def _clip(value: Any, n: int = 200) -> Any:
    """Echo at most ``n`` characters of caller input back (a 1 MB name stays out of logs)."""
    if isinstance(value, str) and len(value) > n:
        return value[:n] + "…"
    return value


def problem(request: Request, status: int, detail: str, *, title: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": _clip(detail, 1000),
        "instance": _clip(request.url.path, 300),
    }
    body.update(extra)
    if request.url.path.startswith("/ui"):
        return _html_problem(request, body, headers)
    return ProblemResponse(body, status_code=status, headers=headers)


def _html_problem(request: Request, body: dict[str, Any],
                  headers: dict[str, str] | None) -> Response:
    templates = getattr(request.app.state, "templates", None)
    if templates is None:  # pragma: no cover - the app always sets them
        return HTMLResponse(f"<h1>{body['status']}</h1>", status_code=body["status"])
    return templates.TemplateResponse(request, "error.html", {"problem": body, "principal": None},
                                      status_code=body["status"], headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem response."""

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> Response:
        return problem(request, exc.status, exc.detail, title=exc.title, headers=exc.headers,
                       **exc.extra)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return problem(request, 404, str(exc), ref=_clip(exc.ref))

    @app.exception_handler(Ambiguous)
    async def _ambiguous(request: Request, exc: Ambiguous) -> Response:
        return problem(request, 409, str(exc), ref=_clip(exc.ref),
                       candidates=[_candidate(c) for c in exc.candidates])

    @app.exception_handler(BadParameter)
    async def _bad_parameter(request: Request, exc: BadParameter) -> Response:
        return problem(request, 422, str(exc), field=exc.field, reason=_clip(exc.reason, 500))

    @app.exception_handler(QueryError)
    async def _query_error(request: Request, exc: QueryError) -> Response:
        return problem(request, 422, str(exc))

    @app.exception_handler(DateError)
    async def _date_error(request: Request, exc: DateError) -> Response:
        return problem(request, 422, str(exc), field="at")

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": _clip(str(e.get("msg", "")), 300),
             "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:10])
        return problem(request, 422, detail or "invalid request", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such resource: {_clip(request.url.path, 200)}"
        return problem(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        return internal_error(request, exc)


def internal_error(request: Request, exc: BaseException) -> Response:
    """A 500 with a reference to the log entry holding the stack trace (never sent)."""
    ref = uuid.uuid4().hex[:12]
    log.error("unhandled error %s on %s %s", ref, request.method, request.url.path,
              exc_info=(type(exc), exc, exc.__traceback__))
    return problem(request, 500, f"an internal error occurred (reference {ref}); "
                                 "this is a bug, please report it with the reference",
                   reference=ref)


def _candidate(c: dict[str, Any]) -> dict[str, Any]:
    return {k: c.get(k) for k in ("id", "name", "kind", "score") if k in c}
