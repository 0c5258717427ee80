"""``accgraph export FORMAT OUT``: the graph (or one dossier) written for other tools.

Formats: ``ttl`` and ``jsonld`` (RDF), ``graphml`` and ``gexf`` (Gephi and friends),
``native`` (the CSV folder ``accgraph ingest native`` reads back), ``ftm``
(FollowTheMoney JSON lines) and ``dossier`` (HTML or PDF for one question; needs ``--ref``).
The CLI is the local administrator, so restricted records are included unless ``--public``
is given; every export is recorded in the audit log beside the database.
See docs/exports.md.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from cli.context import EXIT_USAGE, audit_cli, fail, state_of

FORMATS = ("ttl", "jsonld", "graphml", "gexf", "native", "ftm", "dossier")

out = Console()
err = Console(stderr=True)


def run_export(store: Any, fmt: str, target: Path, *, ref: str | None = None,
               at: str | None = None, include_restricted: bool = True) -> dict[str, Any]:
    """Write one export; returns its report (a dict). Shared by the CLI and the API."""
    if fmt in ("ttl", "jsonld"):
        from exports.rdf import export_rdf

        return export_rdf(store, target, fmt, include_restricted)
    if fmt in ("graphml", "gexf"):
        from exports.network import export_network

        return export_network(store, target, fmt, include_restricted)
    if fmt == "native":
        from exports.native import export_native

        return export_native(store, target, include_restricted).to_json()
    if fmt == "dossier":
        from exports.dossier import export_dossier

        if not ref:
            raise ValueError("a dossier needs --ref (a victim, incident or case; or with --at "
                             "a person, position or organisation)")
        return export_dossier(store, target, ref, at, include_restricted)
    if fmt == "ftm":
        try:
            module = importlib.import_module("exports.ftm")
        except ModuleNotFoundError as exc:
            if exc.name != "exports.ftm":
                raise
            raise LookupError("the FollowTheMoney export (exports/ftm.py) is not available in "
                              "this build yet") from exc
        export_ftm = getattr(module, "export_ftm", None)
        if export_ftm is None:
            raise LookupError("exports.ftm has no export_ftm(store, out, include_restricted)")
        result = export_ftm(store, target, include_restricted)
        if hasattr(result, "to_json"):
            result = result.to_json()
        return result if isinstance(result, dict) else {"format": "ftm", "out": str(target)}
    raise ValueError(f"unknown export format '{fmt}' (expected one of {', '.join(FORMATS)})")


def _audit(ctx: typer.Context, report: dict[str, Any], fmt: str, ref: str | None) -> None:
    """Record the export in the audit log (best effort: the export itself is already written)."""
    detail = {k: report.get(k) for k in ("format", "out", "include_restricted",
                                         "content_sha256", "answer_sha256")}
    audit_cli(state_of(ctx), "export", f"export {fmt}", [ref] if ref else [], detail)


def export(
    ctx: typer.Context,
    fmt: str = typer.Argument(..., metavar="FORMAT", help=", ".join(FORMATS)),
    target: Path = typer.Argument(..., metavar="OUT",
                                  help="Output file; a new or empty folder for native; "
                                       ".html or .pdf for a dossier."),
    ref: str | None = typer.Option(None, "--ref",
                                      help="Dossier subject: an id or a name."),
    at: str | None = typer.Option(None, "--at",
                                     help="Dossier date (YYYY, YYYY-MM or YYYY-MM-DD): a "
                                          "chain-of-command dossier on that date."),
    include_restricted: bool = typer.Option(
        True, "--include-restricted/--public",
        help="Include restricted records (default, as the local administrator) or leave "
             "them out, as for a public caller."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Export the graph as RDF, GraphML/GEXF, the native CSV folder or FollowTheMoney, or a
    dossier (HTML/PDF) for one accountability or chain-of-command question."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        fail(f"unknown export format '{fmt}' (expected one of {', '.join(FORMATS)})")
    if fmt != "dossier" and (ref or at):
        fail("--ref and --at are for the dossier format only")
    from exports.dossier import DossierError
    from exports.native import ExportError
    from queries.errors import QueryError

    state = state_of(ctx)
    with state.open_store(read_only=True) as store:
        try:
            report = run_export(store, fmt, target, ref=ref, at=at,
                                include_restricted=include_restricted)
        except LookupError as exc:
            fail(str(exc), EXIT_USAGE)
        except (ValueError, ExportError, DossierError, QueryError) as exc:
            fail(str(exc), EXIT_USAGE)
    _audit(ctx, report, fmt, ref)
    if as_json:
        out.print_json(json.dumps(report, default=str))
        return
    who = "including restricted records" if include_restricted else "public: restricted " \
                                                                    "records left out"
    out.print(f"[green]exported[/] {fmt} to {target} ({who}).", highlight=False)
    for key in ("triples", "nodes", "edges", "statements", "sources"):
        if key in report:
            out.print(f"  {key}: {report[key]}", highlight=False)
    if report.get("counts"):
        out.print("  " + ", ".join(f"{k} {v}" for k, v in sorted(report["counts"].items())),
                  highlight=False, soft_wrap=True)
    for key in ("content_sha256", "answer_sha256"):
        if report.get(key):
            out.print(f"  {key}: {report[key]}", highlight=False, soft_wrap=True)
    for warning in report.get("warnings") or []:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command(name="export")(export)
