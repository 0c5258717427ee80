"""The ``accgraph`` command line.

Exit codes scripts can rely on:
  0  success (a record-list ingest may still list rejected records; use --strict)
  1  input rejected: nothing was written (every problem is listed as file:line: field: reason)
  2  bad usage or reference: unknown id, ambiguous name (candidates listed), bad date
  3  database/store error (cannot open, locked, read-only, disk full)
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from cli.context import EXIT_REJECTED, EXIT_STORE, AppState, audit_cli, fail, state_of
from graph.store import StoreError

app = typer.Typer(
    name="accgraph",
    help="A knowledge graph of perpetrators, victims and institutions of grave human-rights "
    "violations: every link dated and sourced.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

# Command groups that live in their own modules; each has ``register(app)``.
COMMAND_MODULES = (
    "cli.query_commands",
    "cli.serve_commands",
    "cli.export_commands",
    "cli.review_commands",
    "cli.fetch_commands",
    "cli.neo4j_commands",
)


@app.callback()
def main(
    ctx: typer.Context,
    db: Optional[Path] = typer.Option(
        None, "--db", envvar="ACCGRAPH_DB",
        help="Database path (default: the user data directory).", show_default=False),
    store: Optional[str] = typer.Option(
        None, "--store", envvar="ACCGRAPH_STORE", help="embedded (default) or neo4j."),
) -> None:
    ctx.obj = AppState(db=db, store_kind=store)


def print_report(report: Any, as_json: bool) -> None:
    data = report.to_json()
    if as_json:
        out.print_json(json.dumps(data))
        return
    table = Table(title=f"{data['format']} ingest of {data['source']}")
    for col in ("kind / type", "added", "updated", "unchanged"):
        table.add_column(col, justify="right" if col != "kind / type" else "left")
    for name, c in sorted(data["counts"].items()):
        table.add_row(name, str(c["added"]), str(c["updated"]), str(c["unchanged"]))
    table.add_row("[bold]total", str(data["added"]), str(data["updated"]), str(data["unchanged"]))
    if data["counts"]:
        out.print(table)
    for problem in data["problems"]:
        sys.stderr.write(problem + "\n")  # one line each, never wrapped: scripts grep these
    sys.stderr.flush()
    for note in data["notes"]:
        err.print(note, markup=False)
    rate = f", {data['records_per_second']:,} records/s" if data["records_per_second"] else ""
    if report.rejected and not report.written and not data["counts"]:
        err.print(f"[red]rejected:[/] {len(report.rejected)} problem(s); nothing was written.")
    elif report.rejected and not report.written:
        err.print(f"[yellow]unchanged:[/] the graph already holds every valid record; "
                  f"{len(report.rejected)} record(s) rejected ({data['seconds']}s).")
    elif report.rejected:
        err.print(f"[yellow]loaded with {len(report.rejected)} rejected record(s)[/] "
                  f"in {data['seconds']}s{rate}.")
    elif not report.written:
        out.print(f"unchanged: the graph already holds all {data['records']} records "
                  f"({data['seconds']}s).")
    else:
        out.print(f"[green]loaded[/] {data['records']} records in {data['seconds']}s{rate}.")


def _run_ingest(state: AppState, fmt: str, paths: list[Path], as_json: bool, strict: bool,
                quiet: bool) -> None:
    from ingest.formats import UnknownFormat, ingest_path
    from ingest.progress import Progress

    progress = Progress(console=err, enabled=not quiet and not as_json)
    code = 0
    with state.open_store() as store:
        for path in paths:
            try:
                report = ingest_path(store, fmt, path, progress)
            except UnknownFormat as exc:
                fail(str(exc))
            print_report(report, as_json)
            if report.written:
                audit_cli(state, "ingest", f"ingest {fmt} {path}", [],
                          {k: v for k, v in report.to_json().items() if k != "problems"})
            if report.rejected and (not report.written and not report.counts or strict):
                code = EXIT_REJECTED
    if code:
        raise typer.Exit(code)


@app.command()
def ingest(
    ctx: typer.Context,
    fmt: str = typer.Argument(..., metavar="FORMAT",
                              help="native, ofac-csv, un-xml, sema-xml, ftm, iran-memorial"),
    paths: list[Path] = typer.Argument(..., help="File(s) or folder(s) to load."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    strict: bool = typer.Option(False, "--strict",
                                help="Exit 1 if any record was rejected, even if others loaded."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Load files into the graph: validated first, written in one transaction, re-runs are
    no-ops. Prints added / updated / unchanged counts and every rejected record."""
    _run_ingest(state_of(ctx), fmt, paths, as_json, strict, quiet)


@app.command()
def demo(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Load the bundled seed-facts graph (facts from the five NGO statements), idempotently."""
    from ingest.seed import seed_data_path

    _run_ingest(state_of(ctx), "native", [seed_data_path()], as_json, strict=True, quiet=True)


@app.command()
def stats(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print counts as JSON."),
) -> None:
    """Counts of nodes per kind and relations per type, and the number of unsourced claims."""
    with state_of(ctx).open_store() as store:
        counts = store.counts()
    if as_json:
        out.print_json(json.dumps(counts))
        return
    table = Table(title="graph contents")
    table.add_column("kind / type")
    table.add_column("count", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    out.print(table)


def _register_modules() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


_register_modules()


def run() -> None:
    """Console-script entry point: turns store errors into exit code 3 with a clear line."""
    try:
        app()
    except StoreError as exc:
        err.print(f"[red]database error:[/] {exc}", markup=True, highlight=False)
        sys.exit(EXIT_STORE)


if __name__ == "__main__":
    run()
