"""``accgraph serve``, ``accgraph keys ...`` and ``accgraph audit ...``.

The server opens the configured store once (LadybugDB allows one Database per process) and
shares it between request threads. ``--workers N`` runs N processes that each open the
store read-only (see ``api.serve_app`` for the limits). Keys and the audit log live in
``<db>.admin.sqlite`` beside the database, outside the graph.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from cli.context import fail, state_of

if TYPE_CHECKING:
    from graph.store import Store

out = Console()
err = Console(stderr=True)

keys_app = typer.Typer(help="API keys: create (printed once), list, revoke.", no_args_is_help=True)
audit_app = typer.Typer(help="The append-only audit log: list, export.", no_args_is_help=True)


from cli.context import admin_store_path
from cli.context import cli_principal as _cli_principal
from cli.context import open_admin as _open_admin


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    demo: bool = typer.Option(False, "--demo",
                              help="Load the bundled seed-facts graph first (idempotent)."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64,
        help="Worker processes. More than 1 opens the database read-only in each worker "
             "(writes answer 409; restart after a load); memory is per worker."),
    read_only: bool = typer.Option(False, "--read-only",
                                   help="Open the database read-only (implied by --workers > 1)."),
    answer_cache_mib: float = typer.Option(
        0, "--answer-cache-mib", min=0,
        help="Cache rendered JSON answers up to this many MiB per worker, keyed on the store "
             "generation, the caller's role and the full request (0: off)."),
    ready_wait: float = typer.Option(
        5.0, "--ready-wait", min=0,
        help="While the name index is built at start-up, requests that need it wait this "
             "many seconds, then get 503 + Retry-After."),
    threads: int = typer.Option(
        4, "--threads", min=1, max=256,
        help="Request threads per worker (concurrent engine queries); more only contend "
             "on a small machine and raise peak memory."),
    prebuild_gaps: bool = typer.Option(
        False, "--prebuild-gaps",
        help="With --workers > 1: build the sanctions-gap scans before the workers start "
             "(about 90 s per view at a million nodes), so no worker builds one under load."),
    buffer_pool_mib: int = typer.Option(
        0, "--buffer-pool-mib", min=0,
        help="Engine buffer pool per worker, MiB (0: ACCGRAPH_BUFFER_POOL, else 1024, or 128 "
             "for read-only workers, whose caches are read through a pool of their own). The "
             "server's memory grows up to about this much above its start-up size."),
) -> None:
    """Serve the HTTP API, the web pages and the network pictures (http://HOST:PORT/)."""
    import uvicorn

    from api.app import create_app
    from api.serve_app import ENV, ServeConfig, tune_process
    from ingest.formats import ingest_path
    from ingest.seed import seed_data_path
    from queries.prebuild import prebuild

    state = state_of(ctx)
    if buffer_pool_mib:
        os.environ["ACCGRAPH_BUFFER_POOL"] = str(buffer_pool_mib << 20)  # read at each open
    read_only = read_only or workers > 1
    store: Store | None = None
    if demo:
        store = state.open_store()  # the demo load writes: read-write, then reopened if asked
        try:
            report = ingest_path(store, "native", seed_data_path())
        except BaseException:
            store.close()
            raise
        data = report.to_json()
        if report.rejected:
            store.close()
            for problem in data["problems"]:
                sys.stderr.write(problem + "\n")
            fail("the seed-facts graph was rejected; nothing was loaded", 1)
        err.print(f"demo graph: {data['added']} added, {data['updated']} updated, "
                  f"{data['unchanged']} unchanged")
        if read_only:
            store.close()
            store = None
    where = f"http://{host}:{port}/"
    if workers > 1:
        # each worker opens the store itself (read-only) through the app factory; one that
        # cannot be opened is said here, once (0.3 s at scale 1), not by every worker
        state.open_store(read_only=True).close()
        cfg = ServeConfig(db=str(state.db) if state.db else None, store_kind=state.store_kind,
                          admin_path=str(admin_store_path(state)), read_only=True,
                          answer_cache_mib=answer_cache_mib, ready_wait_seconds=ready_wait,
                          threads=threads)
        os.environ[ENV] = cfg.to_env()
        # the shared caches are built by a process of its own, whose memory goes back to
        # the system when it ends, before the workers start (queries.prebuild)
        err.print("building the caches the workers share (name index, hierarchy, paths "
                  "projection: about 40 s at a million nodes the first time"
                  + ("; the sanctions-gap scans: about 90 s more per view" if prebuild_gaps
                     else "") + "; a restart reuses them)...")
        built = prebuild(cfg.db, cfg.store_kind, gaps=prebuild_gaps)
        if built.get("error"):
            err.print(f"[yellow]the shared caches were not built ahead ({built['error']}); "
                      "the workers build them[/yellow]")
        err.print(f"serving on {where} with {workers} read-only workers "
                  f"(API docs: {where}docs)")
        _exec_supervisor(workers, host, port, log_level)
        return
    tune_process()
    if store is None:
        store = state.open_store(read_only=read_only)
    admin = _open_admin(state)
    try:
        app = create_app(store, admin, warm_up=True, read_only=read_only,
                         answer_cache_mib=answer_cache_mib, ready_wait_seconds=ready_wait,
                         threads=threads)
        mode = " (read-only)" if read_only else ""
        err.print(f"serving on {where}{mode}  (API docs: {where}docs)")
        uvicorn.run(app, host=host, port=port, log_level=log_level)
    finally:
        admin.close()
        store.close()


def _exec_supervisor(workers: int, host: str, port: int, log_level: str) -> None:
    """Become the supervisor of ``workers`` processes (``api.supervisor``: uvicorn's, with a
    listening socket per worker so connections spread over them) in the same pid, so
    signals and process managers still reach it, but a fresh interpreter: this one has
    imported the API, the readers and the engine, which a supervisor (it only watches its
    workers) would hold for its whole life; measured at scale 1, 51 MiB of PSS against 17."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [
        sys.executable, "-m", "api.supervisor", "--workers", str(workers), "--host", host,
        "--port", str(port), "--log-level", log_level])


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    role: str = typer.Option(..., "--role", help="researcher, lawyer or admin."),
    label: str = typer.Option("", "--label", help="Who the key is for (shown in lists)."),
    as_json: bool = typer.Option(False, "--json", help="Print the key and its info as JSON."),
) -> None:
    """Create an API key and print it once: only its hash is stored."""
    from api.security import KEY_ROLES, KeyError_

    if role not in [r.value for r in KEY_ROLES]:
        fail(f"--role must be one of {', '.join(r.value for r in KEY_ROLES)}, not '{role}'")
    admin = _open_admin(state_of(ctx))
    try:
        try:
            key, info = admin.create_key(role, label)
        except KeyError_ as exc:
            fail(str(exc))
        admin.audit(_cli_principal(), "key_create", method="CLI",
                    path="accgraph keys create", record_ids=[info.key_id],
                    detail=f"role={info.role} label={label}")
    finally:
        admin.close()
    if as_json:
        print(json.dumps({**info.to_json(), "key": key}))
        return
    print(key)
    err.print(f"key id {info.key_id}, role {info.role}: store it now, it is not shown again. "
              "Send it as 'Authorization: Bearer <key>'.")


@keys_app.command("list")
def keys_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """List keys (id, role, label, dates); the keys themselves are never stored."""
    admin = _open_admin(state_of(ctx))
    try:
        keys = admin.list_keys()
    finally:
        admin.close()
    if as_json:
        print(json.dumps([k.to_json() for k in keys]))
        return
    table = Table(title="API keys")
    for col in ("key id", "role", "label", "created", "revoked", "last used"):
        table.add_column(col)
    for k in keys:
        table.add_row(k.key_id, k.role, k.label, k.created_at, k.revoked_at or "",
                      k.last_used_at or "")
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(ctx: typer.Context, key_id: str = typer.Argument(..., help="The key id.")) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from api.security import KeyError_

    admin = _open_admin(state_of(ctx))
    try:
        try:
            info = admin.revoke_key(key_id)
        except KeyError_ as exc:
            fail(str(exc))
        admin.audit(_cli_principal(), "key_revoke", method="CLI",
                    path="accgraph keys revoke", record_ids=[key_id])
    finally:
        admin.close()
    out.print(f"revoked {info.key_id} ({info.role}) at {info.revoked_at}")


@audit_app.command("list")
def audit_list(
    ctx: typer.Context,
    limit: int = typer.Option(50, help="Show the last N entries."),
    action: str | None = typer.Option(None, help="Only this action (e.g. ingest)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON lines."),
) -> None:
    """Show the most recent audit entries (who, role, when, action, records, from where)."""
    from api.security import export_audit

    admin = _open_admin(state_of(ctx))
    try:
        entries = admin.audit_entries(action=action)[-limit:] if limit > 0 else []
    finally:
        admin.close()
    if as_json:
        sys.stdout.write(export_audit(entries, "jsonl"))
        return
    table = Table(title="audit log")
    for col in ("#", "at", "who", "role", "action", "path", "records", "client"):
        table.add_column(col)
    for e in entries:
        table.add_row(str(e.seq), e.at, e.who, e.role, e.action, e.path,
                      ", ".join(e.record_ids), e.client)
    out.print(table)


@audit_app.command("export")
def audit_export(
    ctx: typer.Context,
    fmt: str = typer.Option("jsonl", "--format", help="jsonl or csv."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default stdout)."),  # noqa: B008
) -> None:
    """Export the whole audit log as JSON lines or CSV."""
    from api.security import export_audit

    if fmt not in ("jsonl", "csv"):
        fail(f"--format must be jsonl or csv, not '{fmt}'")
    admin = _open_admin(state_of(ctx))
    try:
        text = export_audit(admin.audit_entries(), fmt)
    finally:
        admin.close()
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")
    else:
        sys.stdout.write(text)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")
