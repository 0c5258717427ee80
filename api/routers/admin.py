"""Admin-only endpoints: ingest, API keys, the audit log. Every write is audited.

The audit log is only ever appended to (the SQLite triggers refuse edits); admins can list
and export it, nobody can change it through the API.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from api.deps import AdminPrincipal, get_admin, get_store
from api.problems import ApiProblem
from api.security import KeyError_, export_audit

router = APIRouter(prefix="/admin", tags=["admin"])

MAX_UPLOAD = 200 * 1024 * 1024


class LoadReportModel(BaseModel):
    """What an ingest did (the JSON of ``accgraph ingest --json``)."""

    source: str
    format: str
    written: bool
    records: int
    seconds: float
    records_per_second: int | None = None
    added: int
    updated: int
    unchanged: int
    rejected: int
    counts: dict[str, dict[str, int]]
    problems: list[str]
    notes: list[str]


class KeyModel(BaseModel):
    key_id: str
    role: str
    label: str = ""
    created_at: str
    revoked_at: str | None = None
    last_used_at: str | None = None


class NewKeyModel(KeyModel):
    key: str = Field(description="the API key; shown once, only its hash is stored")


class KeyRequest(BaseModel):
    role: Literal["researcher", "lawyer", "admin"]
    label: str = Field("", max_length=200)


class AuditEntryModel(BaseModel):
    seq: int
    at: str
    who: str
    role: str
    action: str
    method: str
    path: str
    record_ids: list[str]
    client: str
    detail: str


def _path_of(request: Request) -> str:
    q = request.url.query
    return request.url.path + (f"?{q}" if q else "")


def _safe_extract(archive: Path, dest: Path) -> None:
    """Unpack a zip upload without letting a member escape ``dest`` (zip-slip)."""
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            name = PurePosixPath(member.filename)
            if name.is_absolute() or ".." in name.parts:
                raise ApiProblem(422, f"archive member '{member.filename[:200]}' is not allowed",
                                 field="file")
        zf.extractall(dest)


@router.post("/ingest", response_model=LoadReportModel,
             summary="Load a file or folder (server-side path or upload); admin only")
async def ingest(
    request: Request,
    principal: AdminPrincipal,
    format: Annotated[str, Form(max_length=50)],
    path: Annotated[str | None, Form(max_length=4000)] = None,
    file: Annotated[UploadFile | None, File()] = None,
) -> Any:
    """Validate then load in one transaction, like ``accgraph ingest``. Give either ``path``
    (a file or folder on the server) or ``file`` (an upload; a ``.zip`` is unpacked, for the
    native folder format). Returns the load report; rejected records are listed there."""
    from ingest.formats import FORMATS, UnknownFormat, ingest_path

    if format not in FORMATS:
        raise ApiProblem(422, f"unknown format '{format}' (expected one of {', '.join(FORMATS)})",
                         field="format")
    if (path is None) == (file is None):
        raise ApiProblem(422, "give exactly one of 'path' or 'file'", field="path")
    admin = get_admin(request)
    store = get_store(request)
    tmp: Path | None = None
    try:
        if file is not None:
            tmp = Path(tempfile.mkdtemp(prefix="accgraph-upload-"))
            fname = PurePosixPath(file.filename or "upload").name or "upload"
            target = tmp / fname
            size = 0
            with target.open("wb") as fh:
                while chunk := await file.read(1 << 20):
                    size += len(chunk)
                    if size > MAX_UPLOAD:
                        raise ApiProblem(413, "the upload is larger than 200 MB")
                    fh.write(chunk)
            source = target
            if fname.lower().endswith(".zip"):
                unpacked = tmp / "unpacked"
                unpacked.mkdir()
                try:
                    _safe_extract(target, unpacked)
                except zipfile.BadZipFile as exc:
                    raise ApiProblem(422, "the upload is not a valid zip file",
                                     field="file") from exc
                entries = list(unpacked.iterdir())
                source = entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked
            described = f"upload {fname}"
        else:
            source = Path(path or "")
            if not source.exists():
                raise ApiProblem(422, f"no file or folder at '{path}' on the server", field="path")
            described = str(source)
        try:
            report = await run_in_threadpool(ingest_path, store, format, source)
        except UnknownFormat as exc:
            raise ApiProblem(422, str(exc), field="format") from exc
        data = report.to_json()
        if file is not None:
            data["source"] = described
        admin.audit(principal, "ingest", method="POST", path=_path_of(request),
                    detail=f"format={format} source={described} written={data['written']} "
                           f"added={data['added']} updated={data['updated']} "
                           f"rejected={data['rejected']}")
        request.app.state.queries_cache.clear()
        return data
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


@router.get("/keys", response_model=list[KeyModel], summary="List API keys (never the keys)")
def list_keys(request: Request, principal: AdminPrincipal) -> Any:
    return [k.to_json() for k in get_admin(request).list_keys()]


@router.post("/keys", response_model=NewKeyModel, status_code=201,
             summary="Create an API key; the key is in the answer, once")
def create_key(request: Request, principal: AdminPrincipal, body: KeyRequest) -> Any:
    admin = get_admin(request)
    key, info = admin.create_key(body.role, body.label)
    admin.audit(principal, "key_create", method="POST", path=_path_of(request),
                record_ids=[info.key_id], detail=f"role={info.role} label={info.label}")
    return {**info.to_json(), "key": key}


@router.delete("/keys/{key_id}", response_model=KeyModel, summary="Revoke an API key")
def revoke_key(request: Request, principal: AdminPrincipal, key_id: str) -> Any:
    admin = get_admin(request)
    try:
        info = admin.revoke_key(key_id)
    except KeyError_ as exc:
        raise ApiProblem(404, str(exc)) from exc
    admin.audit(principal, "key_revoke", method="DELETE", path=_path_of(request),
                record_ids=[key_id])
    return info.to_json()


@router.get("/audit", response_model=list[AuditEntryModel], summary="List the audit log")
def list_audit(request: Request, principal: AdminPrincipal,
               since: Annotated[int, Query(ge=0)] = 0,
               limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
               action: Annotated[str | None, Query(max_length=100)] = None) -> Any:
    return [e.to_json() for e in get_admin(request).audit_entries(
        since_seq=since, limit=limit, action=action)]


@router.get("/audit/export", summary="Export the whole audit log (JSON lines or CSV)",
            response_class=PlainTextResponse)
def export_audit_log(request: Request, principal: AdminPrincipal,
                     format: Literal["jsonl", "csv"] = "jsonl") -> Response:
    admin = get_admin(request)
    text = export_audit(admin.audit_entries(), format)
    admin.audit(principal, "audit_export", method="GET", path=_path_of(request),
                detail=f"format={format}")
    media = "application/x-ndjson" if format == "jsonl" else "text/csv"
    return Response(text, media_type=f"{media}; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="accgraph-audit.{format}"'})

