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
MAX_UNPACKED = 2 * 1024 * 1024 * 1024  # a zip bomb is refused before anything is unpacked
MAX_MEMBERS = 10_000


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
        members = zf.infolist()
        if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED:
            raise ApiProblem(413, f"the archive unpacks to more than {MAX_MEMBERS} files or "
                                  f"{MAX_UNPACKED >> 30} GB", field="file")
        for member in members:
            name = PurePosixPath(member.filename)
            if name.is_absolute() or ".." in name.parts:
                raise ApiProblem(422, f"archive member '{member.filename[:200]}' is not allowed",
                                 field="file")
        zf.extractall(dest)


def refuse_if_read_only(request: Request) -> None:
    """409 on a server whose workers opened the database read-only (``--workers N``): the
    engine allows one writer, so writes go through a single-worker server or the CLI."""
    if getattr(request.app.state, "read_only", False):
        raise ApiProblem(409, "this server opened the database read-only (accgraph serve "
                              "--workers N); write with `accgraph ingest` / `accgraph review` "
                              "or a single-worker server, then restart the readers",
                         title="Read-only server")


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

    refuse_if_read_only(request)
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
               since: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
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



# -- merges: the entity-matching review queue (as ``accgraph review``) ---------------------


class ReviewDecision(BaseModel):
    a: str = Field(min_length=3, max_length=300, description="id of one record")
    b: str = Field(min_length=3, max_length=300, description="id of the other record")
    note: str | None = Field(None, max_length=2000, description="why (kept with the link)")


@router.get("/review", summary="Pairs of records that may be one entity (merge candidates)")
def review_list(request: Request, principal: AdminPrincipal,
                status: Literal["pending", "accepted", "rejected", "all"] = "pending",
                limit: Annotated[int, Query(ge=1, le=10_000)] = 200) -> Any:
    from ingest.review import ReviewQueue

    store = get_store(request)
    with ReviewQueue.for_store(store) as queue:
        pairs = queue.list(None if status == "all" else status, limit)
    nodes = store.get_nodes({p.a for p in pairs} | {p.b for p in pairs})
    rows = []
    for p in pairs:
        row = p.to_json()
        row["a_name"] = nodes[p.a].props.get("name") if p.a in nodes else None
        row["b_name"] = nodes[p.b].props.get("name") if p.b in nodes else None
        rows.append(row)
    return rows


def _decide(request: Request, principal: Any, body: ReviewDecision, status: str) -> Any:
    from ingest.matching import accepted_links, delete_same_as, same_as_id, same_as_record
    from ingest.review import ACCEPTED, ReviewQueue

    refuse_if_read_only(request)
    if body.a == body.b:
        raise ApiProblem(422, "a record cannot be paired with itself", field="b")
    store = get_store(request)
    nodes = store.get_nodes([body.a, body.b])
    for node_id, fld in ((body.a, "a"), (body.b, "b")):
        if node_id not in nodes:
            raise ApiProblem(404, f"no record with id '{node_id}' in the graph", field=fld)
    if nodes[body.a].kind != nodes[body.b].kind:
        raise ApiProblem(422, f"'{body.a}' is a {nodes[body.a].kind} and '{body.b}' a "
                              f"{nodes[body.b].kind}: only records of one kind can be the "
                              "same entity", field="b")
    who = f"api:{principal.key_id}"
    with ReviewQueue.for_store(store) as queue:
        pair = queue.decide(body.a, body.b, status, who, kind=nodes[body.a].kind,
                            note=body.note)
        if status == ACCEPTED:
            rels = [r for r in accepted_links(store, queue, {body.a, body.b})
                    if r.id == same_as_id(body.a, body.b)]
            store.write([], rels)
        else:
            probe = same_as_record(body.a, body.b, score=0.0, method="probe", judged_by="probe",
                                   judged_at="2000-01-01", confidence="low", source_ids=[])
            if store.get_rels([probe]):
                delete_same_as(store, same_as_id(body.a, body.b))
    get_admin(request).audit(principal, f"merge_{'accept' if status == ACCEPTED else 'reject'}",
                             method="POST", path=_path_of(request),
                             record_ids=[body.a, body.b], detail=body.note or "")
    request.app.state.queries_cache.clear()
    return pair.to_json()


@router.post("/review/accept", summary="Judge two records one entity (SAME_AS); admin only")
def review_accept(request: Request, principal: AdminPrincipal, body: ReviewDecision) -> Any:
    from ingest.review import ACCEPTED

    return _decide(request, principal, body, ACCEPTED)


@router.post("/review/reject", summary="Judge two records different entities; admin only")
def review_reject(request: Request, principal: AdminPrincipal, body: ReviewDecision) -> Any:
    from ingest.review import REJECTED

    return _decide(request, principal, body, REJECTED)
