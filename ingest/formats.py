"""The ingest formats by name, and the one function every ingest goes through.

A reader turns a path into a bundle. ``atomic`` readers (the native format: one team's
spreadsheet) reject the whole load on any problem; record-list readers (sanctions lists,
the memorial archive: independent records) load the good records and list every rejected
one. Readers are imported lazily, so the CLI starts fast and a missing optional reader does
not break the others.
"""

from __future__ import annotations

import importlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from graph.records import Problem
from graph.store import Store
from ingest.bundle import Bundle
from ingest.loader import LoadReport
from ingest.progress import Progress


class Reader(Protocol):
    name: str
    atomic: bool

    def read(self, path: Path, progress: Progress) -> Bundle: ...


@dataclass
class NativeReader:
    name: str = "native"
    atomic: bool = True

    def read(self, path: Path, progress: Progress) -> Bundle:
        from ingest.native import read_native

        return read_native(path, progress)


# format name -> "module:attribute" of a Reader instance or class.
FORMATS: dict[str, str] = {
    "native": "ingest.formats:NativeReader",
    "ofac-csv": "ingest.ofac:OfacReader",
    "un-xml": "ingest.un_xml:UnReader",
    "sema-xml": "ingest.sema_xml:SemaReader",
    "ftm": "ingest.ftm:FtmReader",
    "iran-memorial": "ingest.memorial:MemorialReader",
}


class UnknownFormat(ValueError):
    pass


def get_reader(fmt: str) -> Reader:
    target = FORMATS.get(fmt)
    if target is None:
        raise UnknownFormat(f"unknown format '{fmt}' (expected one of {', '.join(FORMATS)})")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise UnknownFormat(f"the '{fmt}' reader is not available in this build") from exc
        raise
    obj = getattr(module, attr)
    reader: Reader = obj() if isinstance(obj, type) else obj
    return reader


def available_formats() -> list[str]:
    out = []
    for fmt in FORMATS:
        try:
            get_reader(fmt)
        except UnknownFormat:
            continue
        out.append(fmt)
    return out


def _problem_order(p: Problem) -> tuple[str, int, str]:
    return (p.file, p.line if isinstance(p.line, int) else 0, p.field)


def _fast_native(store: Store, path: Path, report: LoadReport, progress: Progress,
                 timings: dict[str, float]) -> bool:
    """The Arrow path of the native format (ingest.native_arrow): a folder of CSV files
    whose nodes are all new, into the embedded store. It declines (False, nothing
    written) whenever the record path must take the folder: problems to report, JSON
    lines, names.csv, ids already stored (a re-ingest or an update). ACCGRAPH_FAST_NATIVE=0
    turns it off."""
    if os.environ.get("ACCGRAPH_FAST_NATIVE", "1") == "0" or not path.is_dir():
        return False
    from graph.embedded import EmbeddedStore

    if not isinstance(store, EmbeddedStore):
        return False
    try:
        from ingest.native_arrow import ingest_native_fast
    except ImportError:  # pyarrow missing: the record path still works
        return False
    return ingest_native_fast(store, path, report, progress, timings)


def ingest_path(store: Store, fmt: str, path: Path, progress: Progress | None = None,
                timings: dict[str, float] | None = None) -> LoadReport:
    """Read ``path`` as ``fmt`` and load it; see ``LoadReport`` for what happened. The
    report's ``seconds`` run from reading the first byte to the last commit (matching
    included), so its records/s is an end-to-end figure. ``timings``, when given, receives
    the seconds of each stage the path took (for the benchmark)."""
    started = time.perf_counter()
    progress = progress or Progress.quiet()
    reader = get_reader(fmt)
    report = LoadReport(source=str(path), format=fmt)
    timings = timings if timings is not None else {}
    if fmt == "native" and _fast_native(store, path, report, progress, timings):
        report.seconds = time.perf_counter() - started
        return report
    timings["fast_path_declined_s"] = time.perf_counter() - started
    bundle = reader.read(path, progress)
    timings["parse_validate_s"] = time.perf_counter() - started - timings["fast_path_declined_s"]
    if bundle.problems and reader.atomic:
        bundle.check_references(store)  # so every problem is listed in one pass
        report.rejected.extend(sorted(set(bundle.problems), key=_problem_order))
        report.records = bundle.record_count
        report.seconds = time.perf_counter() - started
        return report
    rejected, bundle.problems = bundle.problems, []
    report.notes.extend(bundle.notes)  # readers' remarks (records skipped, conversions)
    # the load, and entity matching (docs/sanctions.md: SAME_AS links and the review
    # queue) for its records when it was accepted: the matcher scores them while the
    # engine writes (ingest.matching.load_and_link)
    from ingest.matching import load_and_link

    stages: dict[str, float] = {}
    load_and_link(store, bundle, report, progress,
                  match=os.environ.get("ACCGRAPH_MATCH", "1") != "0", timings=stages)
    timings["check_diff_write_s"] = stages.get("load_s", 0.0)
    if "link_s" in stages:
        timings["match_s"] = stages["link_s"]
    report.rejected = rejected + report.rejected
    if rejected and not report.written and not bundle.nodes and not bundle.rels:
        report.notes.append("no valid record found")
    report.seconds = time.perf_counter() - started
    return report
