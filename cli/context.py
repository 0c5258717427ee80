"""State shared by every command (which database, which store) and the exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

from graph.config import open_store
from graph.store import Store

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
