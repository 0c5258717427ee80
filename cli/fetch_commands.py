"""``accgraph fetch ofac|un``: download the current official list and ingest it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.context import EXIT_REJECTED, fail, state_of


def register(app: typer.Typer) -> None:
    @app.command()
    def fetch(
        ctx: typer.Context,
        which: str = typer.Argument(..., metavar="LIST", help="ofac or un"),
        url: Optional[str] = typer.Option(
            None, "--url", help="Download from this address instead of the official one "
            "(or set ACCGRAPH_OFAC_URL / ACCGRAPH_UN_URL). For OFAC, the address of sdn.csv; "
            "add.csv, alt.csv and sdn_comments.csv are fetched from the same folder."),
        downloads: Optional[Path] = typer.Option(
            None, "--downloads", envvar="ACCGRAPH_DOWNLOADS",
            help="Where downloads are kept (default: beside the database)."),
        timeout: float = typer.Option(120.0, "--timeout", help="Seconds per request."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
        strict: bool = typer.Option(False, "--strict",
                                    help="Exit 1 if any record was rejected."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """Download the current OFAC or UN list from its published address and ingest it
        (each download is kept with its address, date and sha256)."""
        from cli.main import err, print_report
        from ingest.fetch import LISTS, FetchError, fetch_and_ingest
        from ingest.progress import Progress

        if which not in LISTS:
            fail(f"unknown list '{which}' (expected one of {', '.join(LISTS)})")
        progress = Progress(console=err, enabled=not quiet and not as_json)
        with state_of(ctx).open_store() as store:
            try:
                report = fetch_and_ingest(store, which, url, progress, downloads, timeout)
            except FetchError as exc:
                fail(f"download failed: {exc}", EXIT_REJECTED)
        print_report(report, as_json)
        if report.rejected and (strict or (not report.written and not report.counts)):
            raise typer.Exit(EXIT_REJECTED)
