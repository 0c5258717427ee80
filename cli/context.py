"""State shared by every command (which database, which store) and the exit codes."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from graph.config import open_store, resolve_db_path
from graph.store import Store

if TYPE_CHECKING:
    from api.security import AdminStore, Principal

EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_STORE = 3

_err = Console(stderr=True)


@dataclass
class AppState:
    db: Path | None = None
    store_kind: str | None = None

    def open_store(self, *, read_only: bool = False) -> Store:
        return open_store(self.db, self.store_kind, read_only=read_only)


def state_of(ctx: typer.Context) -> AppState:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, AppState) else AppState()


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print a clear one-line error and exit with ``code`` (2: bad usage or reference)."""
    _err.print(f"[red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def admin_store_path(state: AppState) -> Path:
    """The key/audit file for the configured database (``ACCGRAPH_ADMIN_DB`` overrides)."""
    from api.security import admin_path_for

    override = os.environ.get("ACCGRAPH_ADMIN_DB")
    return Path(override) if override else admin_path_for(resolve_db_path(state.db))


def open_admin(state: AppState) -> AdminStore:
    from api.security import AdminStore

    return AdminStore(admin_store_path(state))


def cli_principal() -> Principal:
    """The local operator, for the audit log: writes from the shell are admin acts."""
    from api.security import Principal, Role

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Principal(Role.ADMIN, f"cli:{user}", "local")


def audit_cli(state: AppState, action: str, path: str, record_ids: Sequence[str] = (),
              detail: dict[str, Any] | None = None) -> None:
    """Record a write done from the shell in the append-only audit log. Best effort: the
    write has happened; a log that cannot be opened is reported, not fatal."""
    try:
        admin = open_admin(state)
        try:
            admin.audit(cli_principal(), action, method="cli", path=path, record_ids=record_ids,
                        detail=json.dumps(detail or {}, default=str))
        finally:
            admin.close()
    except Exception as exc:  # noqa: BLE001 - say so, but the write stands
        _err.print(f"[yellow]warning:[/] not recorded in the audit log: {exc}", highlight=False)
