"""Reader for the native format: a folder of CSV / JSON-lines files, one per node kind and
one per relation type (see docs/native-format.md).

Reading never stops at the first problem: a documentation officer fixing a spreadsheet
wants every problem in one pass, each as ``file:line: field: reason``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from graph.model import CONFIDENCE, NODE_KINDS, RELATION_TYPES
from graph.records import Problem
from ingest.build import (
    DEFAULT_CONFIDENCE,
    MAX_CELL,
    Where,
    build_node,
    build_rel,
    name_entry,
    split_list,
)
from ingest.bundle import Bundle
from ingest.progress import Progress

NAMES_FILE = "names"
NAMES_COLUMNS = ("entity", "name", "lang", "confidence", "source_ids", "note")
SUFFIXES = (".csv", ".jsonl")
IGNORED_SUFFIXES = (".md", ".txt")
MAX_JSON_LINE = 10 * MAX_CELL

_PROTECTED = re.compile(r"^'+[=+\-@\t\r]")

csv.field_size_limit(MAX_CELL)


def unprotect_cell(text: str) -> str:
    """Drop the apostrophe a spreadsheet (or ``accgraph export native``) puts before a cell
    starting with = + - @, tab or CR to keep it text, so exported data round-trips."""
    return text[1:] if _PROTECTED.match(text) else text


def _decode(path: Path, data: bytes) -> tuple[str | None, Problem | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, Problem(path.name, line, "-", f"not valid UTF-8 (byte 0x{data[exc.start]:02x} "
                                                    f"at offset {exc.start}); save the file as UTF-8")


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, Problem | None]]:
    """Yield ``(line, row, problem)`` for each record of a CSV or JSON-lines file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        yield 0, None, Problem(path.name, 0, "-", f"cannot read: {exc.strerror}")
        return
    text, problem = _decode(path, data)
    if problem or text is None:
        yield 0, None, problem
        return
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        yield line, None, Problem(path.name, line, "-", "contains a NUL byte (binary file?)")
        return
    if path.suffix == ".jsonl":
        yield from _jsonl_rows(path, text)
    else:
        yield from _csv_rows(path, text)


def _jsonl_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any] | None, Problem | None]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_JSON_LINE:
            yield number, None, Problem(path.name, number, "-", "line too long")
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError) as exc:
            reason = "JSON nested too deeply" if isinstance(exc, RecursionError) else f"not JSON: {exc}"
            yield number, None, Problem(path.name, number, "-", reason)
            continue
        if not isinstance(value, dict):
            yield number, None, Problem(path.name, number, "-", "each line must be a JSON object")
            continue
        yield number, value, None


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any] | None, Problem | None]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        yield 1, None, Problem(path.name, 1, "-", "empty file (a header row is required)")
        return
    except csv.Error as exc:
        yield 1, None, Problem(path.name, 1, "-", f"malformed CSV: {exc}")
        return
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        yield 1, None, Problem(path.name, 1, "-", "duplicate column names in the header")
        return
    if any(not h for h in header):
        yield 1, None, Problem(path.name, 1, "-", "empty column name in the header")
        return
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, None, Problem(path.name, line, "-", f"malformed CSV: {exc}")
            return
        start, line = line, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield start, None, Problem(
                path.name, start, "-",
                f"row has {len(cells)} fields but the header has {len(header)}")
            continue
        yield start, dict(zip(header, [unprotect_cell(c) for c in cells])), None


def classify(path: Path) -> str | None:
    """The node kind or relation type a file holds (by its name), ``names``, or None."""
    stem = path.stem
    if stem == NAMES_FILE or stem in NODE_KINDS or stem in RELATION_TYPES:
        return stem
    return None


def read_native(folder: Path, progress: Progress | None = None) -> Bundle:
    """Read and validate every file of a native-format folder into a bundle."""
    progress = progress or Progress.quiet()
    bundle = Bundle()
    if not folder.exists():
        bundle.problems.append(Problem(str(folder), 0, "-", "no such file or folder"))
        return bundle
    files = [folder] if folder.is_file() else sorted(p for p in folder.iterdir() if p.is_file())
    data_files: list[tuple[Path, str]] = []
    for path in files:
        if path.suffix in IGNORED_SUFFIXES or path.name.startswith("."):
            continue
        what = classify(path)
        if path.suffix not in SUFFIXES or what is None:
            kinds = ", ".join(list(NODE_KINDS) + [NAMES_FILE])
            bundle.problems.append(Problem(
                path.name, 0, "-", "unknown file: name it after a node kind "
                f"({kinds}) or a relation type (HOLDS, PART_OF, ...), ending .csv or .jsonl"))
            continue
        data_files.append((path, what))
    # Nodes first, so duplicate detection reports the earlier file.
    data_files.sort(key=lambda pw: (pw[1] in RELATION_TYPES, pw[1] == NAMES_FILE, pw[0].name))
    with progress.task("reading", total=len(data_files)) as tick:
        for path, what in data_files:
            _read_file(path, what, bundle)
            tick(1)
    return bundle


def _read_file(path: Path, what: str, bundle: Bundle) -> None:
    for line, row, problem in read_rows(path):
        if problem:
            bundle.problems.append(problem)
            continue
        assert row is not None
        where = Where(path.name, line)
        if what in NODE_KINDS:
            node, problems = build_node(what, row, where)
            bundle.problems.extend(problems)
            if node:
                bundle.add_node(node, where)
            elif isinstance(row.get("id"), str):
                bundle.rejected_ids.add(row["id"].strip())
        elif what in RELATION_TYPES:
            rel, problems = build_rel(what, row, where)
            bundle.problems.extend(problems)
            if rel:
                bundle.add_rel(rel, where)
        else:
            _read_name(row, where, bundle)


def _read_name(row: dict[str, Any], where: Where, bundle: Bundle) -> None:
    problems: list[Problem] = []
    for col in row:
        if col not in NAMES_COLUMNS:
            problems.append(where.problem(str(col), "unknown column for names"))
    entity = str(row.get("entity") or "").strip()
    name = str(row.get("name") or "").strip()
    if not entity:
        problems.append(where.problem("entity", "required, but empty"))
    if not name:
        problems.append(where.problem("name", "required, but empty"))
    conf = str(row.get("confidence") or "").strip().lower() or DEFAULT_CONFIDENCE
    if conf not in CONFIDENCE:
        problems.append(where.problem("confidence", f"'{conf}' is not one of high, medium, low"))
    if problems:
        bundle.problems.extend(problems)
        return
    entry = name_entry(name, lang=str(row.get("lang") or "").strip() or None, confidence=conf,
                       source_ids=split_list(row.get("source_ids")))
    bundle.add_name(entity, entry, where)
