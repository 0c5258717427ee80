"""``GET /export/{format}``: the graph (or one dossier) for other tools, per role.

The exports themselves live in ``exports/`` (shared with ``accgraph export``); this router
chooses ``include_restricted`` from the caller's role, so public and researcher callers get
the public snapshot, and checks text outputs once more for restricted ids before they leave
(fail closed, like the JSON guard). Exports by lawyers and admins, which include restricted
records, are recorded in the audit log.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from api.deps import CurrentPrincipal, get_admin, get_store
from api.guard import restricted_ids
from api.problems import ApiProblem
from api.routers.params import MAX_REF, AtDate, check_date

router = APIRouter(prefix="/export", tags=["exports"])

ExportFormat = Literal["ttl", "jsonld", "graphml", "gexf", "native", "ftm", "dossier"]
SUFFIX = {"ttl": ".ttl", "jsonld": ".jsonld", "graphml": ".graphml", "gexf": ".gexf",
          "ftm": ".ftm.jsonl"}
MEDIA = {"ttl": "text/turtle", "jsonld": "application/ld+json", "graphml": "application/xml",
         "gexf": "application/xml", "ftm": "application/x-ndjson", "native": "application/zip",
         "html": "text/html; charset=utf-8", "pdf": "application/pdf"}
_ID_RE = re.compile(r"\b(?:person|org|position|case|incident|sanction|location|source):"
                    r"[a-z0-9][a-z0-9._~-]*")


def _scan(paths: list[Path]) -> set[str]:
    ids: set[str] = set()
    for p in paths:
        if p.is_file() and p.suffix.lower() != ".pdf":
            ids.update(_ID_RE.findall(p.read_text(encoding="utf-8", errors="replace")))
    return ids


@router.get("/{fmt}", summary="Export the graph (RDF, GraphML/GEXF, native zip, FtM) or a "
                              "dossier; restricted records only for lawyers and admins",
            response_class=Response,
            responses={200: {"content": {m: {} for m in sorted(set(MEDIA.values()))}}})
def export(
    request: Request,
    principal: CurrentPrincipal,
    fmt: ExportFormat,
    ref: Annotated[str | None, Query(max_length=MAX_REF,
                                     description="dossier subject: id or name")] = None,
    at: AtDate = None,
    as_: Annotated[Literal["html", "pdf"], Query(alias="as", description="dossier as")] = "html",
) -> Response:
    from cli.export_commands import run_export
    from exports.dossier import DossierError
    from exports.native import ExportError

    at = check_date(at)
    if fmt != "dossier" and (ref or at):
        raise ApiProblem(422, "ref and at are for the dossier format only", field="ref")
    if fmt == "dossier" and not ref:
        raise ApiProblem(422, "a dossier needs ref (a victim, incident or case; or with at a "
                              "person, position or organisation)", field="ref")
    include = principal.role.sees_restricted
    store = get_store(request)
    tmp = Path(tempfile.mkdtemp(prefix="accgraph-export-"))
    cleanup = BackgroundTask(shutil.rmtree, tmp, ignore_errors=True)
    try:
        if fmt == "native":
            target = tmp / "native"
        elif fmt == "dossier":
            target = tmp / f"dossier.{as_}"
        else:
            target = tmp / f"accgraph{SUFFIX[fmt]}"
        try:
            report = run_export(store, fmt, target, ref=ref, at=at, include_restricted=include)
        except LookupError as exc:
            raise ApiProblem(501, str(exc), title="Not implemented") from exc
        except (DossierError, ExportError, ValueError) as exc:
            if exc.__class__.__module__.startswith("queries"):
                raise
            raise ApiProblem(422, str(exc)) from exc
        files = sorted(p for p in target.rglob("*")) if target.is_dir() else [target]
        if not include:
            leaked = restricted_ids(store, _scan(files))
            if leaked:
                raise ApiProblem(500, "the export could not be produced; this is a bug, "
                                      "please report it")
        else:
            get_admin(request).audit(
                principal, "export", method="GET",
                path=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                record_ids=[ref] if ref else [],
                detail=f"format={fmt} include_restricted=True "
                       f"sha256={report.get('content_sha256') or report.get('answer_sha256')}")
        if fmt == "native":
            archive = tmp / "accgraph-native.zip"
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
                for f in files:
                    if f.is_file():
                        zf.write(f, f"accgraph-native/{f.relative_to(target)}")
            target = archive
        media = MEDIA["native" if fmt == "native" else as_ if fmt == "dossier" else fmt]
        return FileResponse(target, media_type=media, filename=target.name, background=cleanup)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
