"""Export to the native format: the folder ``accgraph ingest native`` reads (see
docs/native-format.md), so that export then import into an empty database reproduces the
same graph, record for record, column for column.

What makes the round trip exact:
- every node column that is not derived is written (dates as the text the source gave, so
  precision is kept; the day bounds are recomputed identically on import);
- every relation is written with its own ``id``;
- names that carry their own provenance (``names`` entries beyond ``name``/``aliases``) go
  to ``names.csv`` in their stored order;
- a table where a list item itself contains ``;`` (which a CSV list cell cannot hold) is
  written as JSON lines instead of CSV.

Formula injection: a CSV cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is run as a formula by spreadsheet applications. Such cells are written with a
leading apostrophe (``'=1+1``), the spreadsheet convention for "this is text"; the native
importer removes exactly one leading apostrophe from a cell that starts with apostrophes
followed by one of those characters (``unprotect_cell``), so the value comes back as it was.
A value that already starts with ``'=`` gains a second apostrophe and loses one on import,
so every value survives. JSON-lines files are not opened by spreadsheets and are written
as they are.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exports.snapshot import Snapshot, software_version, take_snapshot
from graph.model import CLAIM_FIELDS, NODE_KINDS, RELATION_TYPES, FieldType
from graph.records import NodeRecord, RelRecord
from graph.store import Store

NAMES_FILE = "names"
NAMES_COLUMNS = ("entity", "name", "lang", "confidence", "source_ids", "note")

# Cells a spreadsheet would evaluate: = + - @ and tab / CR (OWASP "CSV injection").
_DANGEROUS = re.compile(r"^'*[=+\-@\t\r]")
_PROTECTED = re.compile(r"^'+[=+\-@\t\r]")


def protect_cell(text: str) -> str:
    """Prefix a formula-like cell with an apostrophe (reversed by ``unprotect_cell``)."""
    return "'" + text if _DANGEROUS.match(text) else text


def unprotect_cell(text: str) -> str:
    """Undo ``protect_cell``: drop one leading apostrophe before ``= + - @``, tab or CR.

    The native importer applies this to every CSV cell (a person typing ``'=x`` in a
    spreadsheet means the text ``=x`` too: the apostrophe is the spreadsheet's text marker).
    """
    return text[1:] if _PROTECTED.match(text) else text


class ExportError(RuntimeError):
    """The export cannot be written as asked; the message is meant for the user."""


@dataclass
class ExportReport:
    """What an export wrote, and anything the target format could not hold exactly."""

    format: str
    out: str
    counts: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    content_sha256: str = ""
    include_restricted: bool = True

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _cell(value: Any, ftype: FieldType | None) -> str:
    """The CSV text of a stored value, such that the importer reads back the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return str(value)


def _json_value(value: Any, ftype: FieldType | None) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _node_columns(kind: str) -> list[tuple[str, FieldType]]:
    return [(f.name, f.type) for f in NODE_KINDS[kind].fields if not f.derived]


def _rel_columns(rel_type: str) -> list[tuple[str, FieldType]]:
    cols = [(f.name, f.type) for f in CLAIM_FIELDS]
    cols += [(f.name, f.type) for f in RELATION_TYPES[rel_type].fields]
    return cols


def _node_row(node: NodeRecord, columns: list[tuple[str, FieldType]]) -> dict[str, Any]:
    return {c: node.props.get(c) if c != "id" else node.id for c, _ in columns}


def _rel_row(rel: RelRecord, columns: list[tuple[str, FieldType]]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for c, _ in columns:
        if c == "from":
            row[c] = rel.from_id
        elif c == "to":
            row[c] = rel.to_id
        elif c == "id":
            row[c] = rel.id
        else:
            row[c] = rel.props.get(c)
    return row


def _needs_jsonl(rows: list[dict[str, Any]]) -> bool:
    """A list item containing ';' cannot be written in a ';'-separated CSV cell."""
    for row in rows:
        for value in row.values():
            if isinstance(value, (list, tuple)) and any(";" in str(v) for v in value):
                return True
    return False


def _write_table(folder: Path, stem: str, columns: list[tuple[str, FieldType]],
                 rows: list[dict[str, Any]], report: ExportReport) -> None:
    if _needs_jsonl(rows):
        path = folder / f"{stem}.jsonl"
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            for row in rows:
                obj = {c: _json_value(row.get(c), t) for c, t in columns}
                fh.write(json.dumps({k: v for k, v in obj.items() if v is not None},
                                    ensure_ascii=False) + "\n")
        report.warnings.append(f"{path.name}: written as JSON lines because a list value "
                               "contains ';'")
    else:
        path = folder / f"{stem}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow([c for c, _ in columns])
            for row in rows:
                writer.writerow([protect_cell(_cell(row.get(c), t)) for c, t in columns])
    report.files.append(path.name)


def _expected_primary_names(node: NodeRecord) -> list[dict[str, Any]]:
    """The ``names`` entries the importer derives from ``name`` and ``aliases``."""
    from ingest.build import DEFAULT_CONFIDENCE, name_entry

    conf = node.props.get("confidence") or DEFAULT_CONFIDENCE
    sources = list(node.props.get("source_ids") or [])
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n in [node.props.get("name") or ""] + list(node.props.get("aliases") or []):
        if n and n not in seen:
            seen.add(n)
            out.append(name_entry(n, lang=None, confidence=conf, source_ids=sources))
    return out


def _extra_names(node: NodeRecord, report: ExportReport) -> list[dict[str, Any]]:
    """Names with their own provenance, for names.csv; warns where a name of the row itself
    carries provenance the native format cannot express (e.g. a language on an alias)."""
    entries = json.loads(node.props.get("names") or "[]")
    primary = _expected_primary_names(node)
    primary_names = {e["name"] for e in primary}
    stored_primary = [e for e in entries if e["name"] in primary_names]
    if sorted(json.dumps(e, sort_keys=True) for e in stored_primary) != sorted(
            json.dumps(e, sort_keys=True) for e in primary):
        report.warnings.append(
            f"{node.id}: the language/confidence/sources of its name or aliases differ from "
            "the row's; the native format keeps them as the row's")
    return [e for e in entries if e["name"] not in primary_names]


def write_native(snap: Snapshot, out: Path, *, report: ExportReport | None = None) -> ExportReport:
    """Write ``snap`` as a native-format folder at ``out`` (created; must be empty)."""
    report = report or ExportReport("native", str(out))
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} exists and is not an empty folder; the importer reads every "
                          "file of a folder, so the export needs a new or empty one")
    out.mkdir(parents=True, exist_ok=True)
    names_rows: list[dict[str, Any]] = []
    for kind in NODE_KINDS:
        nodes = snap.nodes_of(kind)
        if not nodes:
            continue
        cols = _node_columns(kind)
        _write_table(out, kind, cols, [_node_row(n, cols) for n in nodes], report)
        report.counts[kind] = len(nodes)
        for node in nodes:
            for e in _extra_names(node, report):
                names_rows.append({"entity": node.id, "name": e.get("name"),
                                   "lang": e.get("lang"), "confidence": e.get("confidence"),
                                   "source_ids": list(e.get("source_ids") or []),
                                   "note": None})
    for rel_type in RELATION_TYPES:
        rels = snap.rels_of(rel_type)
        if not rels:
            continue
        cols = _rel_columns(rel_type)
        _write_table(out, rel_type, cols, [_rel_row(r, cols) for r in rels], report)
        report.counts[rel_type] = len(rels)
    if names_rows:
        name_cols = [(c, FieldType.LIST if c == "source_ids" else FieldType.STRING)
                     for c in NAMES_COLUMNS]
        _write_table(out, NAMES_FILE, name_cols, names_rows, report)
        report.counts[NAMES_FILE] = len(names_rows)
    report.content_sha256 = snap.content_hash()
    report.include_restricted = snap.include_restricted
    (out / "README.md").write_text(_readme(snap, report), encoding="utf-8")
    return report


def _readme(snap: Snapshot, report: ExportReport) -> str:
    lines = [
        "# accountability-graph native export",
        "",
        "Load with `accgraph ingest native THIS_FOLDER` (this README is ignored by the importer).",
        "",
        f"- produced (UTC): {snap.taken_at}",
        f"- from database: {snap.database}",
        f"- data sha256: {report.content_sha256}",
        f"- restricted records: {'included' if snap.include_restricted else 'excluded'}",
        f"- software: accountability-graph {software_version()}",
        "",
        ("Cells that begin with = + - @ are written with a leading apostrophe so spreadsheet "
         "applications show them as text; the importer removes it."),
        "",
    ]
    return "\n".join(lines)


def export_native(store: Store, out: Path, include_restricted: bool = True) -> ExportReport:
    snap = take_snapshot(store, include_restricted=include_restricted)
    return write_native(snap, out)
