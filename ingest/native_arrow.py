"""The fast path of the native format: CSV files read, validated and converted as Arrow
columns, then appended with ``COPY`` in one transaction, with no Python object per record.

Why: the record path (``ingest.native``) builds a ``NodeRecord``/``RelRecord`` per row and
tops out near 10,000 records/s and 12 GB of memory at benchmark scale 1 (4.3M records).
Here each column is converted once, as a whole: text cells are stripped with a vectorised
test that sends only the rare cells that need it to Python's own ``str.strip``; low
cardinality columns (dates, enums, booleans, numbers, confidence) are converted by calling
the record path's own ``convert_field`` on each *distinct* value and mapping back; ids are
checked with the same pattern as ``graph.ids.check_id``; relation ends with ``is_in``
against the node id arrays. Only ``names``/``name_keys`` are computed per node row, with a
per-token cache.

Scope and error semantics: the fast path applies when every data file is CSV and every
node id of the folder is new to the graph. It produces no problem messages of its own: when
*anything* is off (a bad cell, a duplicate id, a missing reference, a file it does not
handle, an id already stored), it gives up and the caller runs the record path, which
reports every problem as ``file:line: field: reason`` exactly as before, or diffs against
the stored records. So it only has to be fast for valid, new data, and it only has to be
*conservative* (never accept what the record path would reject, never store a value the
record path would store differently: tests/ingest/test_native_arrow.py compares full dumps
of both).
"""

from __future__ import annotations

import csv
import itertools
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from graph.dates import MAX_DAY, MIN_DAY
from graph.ids import MAX_ID_LENGTH, claim_id
from graph.model import (
    CONFIDENCE,
    NODE_KINDS,
    PREFIX_TO_KIND,
    RELATION_TYPES,
    Field,
    FieldType,
)
from graph.names import _DIGRAPHS, _SKELETON_DROP, script_of, skeleton, tokens
from graph.records import Problem
from graph.schema import node_columns, rel_columns
from ingest.build import DEFAULT_CONFIDENCE, MAX_CELL, Where, convert_field, finish_names
from ingest.native import IGNORED_SUFFIXES, NAMES_FILE, SUFFIXES, classify, read_rows

_BOM = b"\xef\xbb\xbf"
# A cell a spreadsheet protected with an apostrophe (ingest.native.unprotect_cell).
_PROTECTED_RE = r"^'+[=+\-@\t\r]"
# Cells whose first or last character might be whitespace to Python's str.strip: anything
# but printable ASCII, letters and digits. Only these go through Python's own strip.
_MAYBE_PADDED_RE = r"^[^!-~\p{L}\p{N}]|[^!-~\p{L}\p{N}]$"
_VALID_ID_RE = r"^[a-z]+:[a-z0-9][a-z0-9._\-/]*$"
_CLAIM_COLUMNS = ("id", "from", "to", "valid_from", "valid_to", "confidence", "source_ids",
                  "note")


class NotApplicable(Exception):
    """The fast path cannot (or must not) take this input; the record path will."""


# -- cells ---------------------------------------------------------------------------------

def _all(mask: Any) -> bool:
    """Every value true (an empty column passes: a part of a file may have no rows)."""
    return bool(pc.all(mask, min_count=0).as_py())


def _any(mask: Any) -> bool:
    return bool(pc.any(mask, min_count=0).as_py())


def _fix(arr: pa.Array, pattern: str, fn: Callable[[str], str]) -> pa.Array:
    """Apply ``fn`` to the cells matching ``pattern`` (few, by construction) and keep the
    others: exact Python semantics at vectorised cost."""
    mask = pc.match_substring_regex(arr, pattern)
    if not _any(mask):
        return arr
    idx = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
    fixed = [fn(v) for v in arr.take(pa.array(idx)).to_pylist()]
    return pc.replace_with_mask(arr, mask, pa.array(fixed, type=pa.string()))


def _unprotect(arr: pa.Array) -> pa.Array:
    return _fix(arr, _PROTECTED_RE, lambda v: v[1:])


def _strip(arr: pa.Array) -> pa.Array:
    return _fix(arr, _MAYBE_PADDED_RE, str.strip)


def _empty_to_null(arr: pa.Array) -> pa.Array:
    empty = pc.equal(pc.binary_length(arr), 0)
    if not _any(empty):
        return arr
    return pc.if_else(empty, pa.scalar(None, pa.string()), arr)


def _split_list(arr: pa.Array) -> pa.Array:
    """``ingest.build.split_list`` on a column: ``;``-separated, items stripped, blanks
    dropped."""
    lists = pc.split_pattern(arr, ";")
    flat = _strip(pc.list_flatten(lists))
    parents = pc.list_parent_indices(lists)
    keep = pc.greater(pc.binary_length(flat), 0)
    if not _all(keep):
        flat, parents = flat.filter(keep), parents.filter(keep)
    counts = np.bincount(parents.to_numpy(), minlength=len(arr))
    offsets = np.zeros(len(arr) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), flat)


def _by_distinct(arr: pa.Array, fn: Callable[[str], tuple[Any, ...] | None],
                 types: Sequence[pa.DataType]) -> list[pa.Array]:
    """Convert a low-cardinality column by calling ``fn`` once per distinct value; ``fn``
    returns one value per output column, or None when the value has a problem."""
    enc = pc.dictionary_encode(arr)
    outs: list[list[Any]] = [[] for _ in types]
    for value in enc.dictionary.to_pylist():
        got = fn(value)
        if got is None:
            raise NotApplicable("a value has a problem")
        for out, v in zip(outs, got):
            out.append(v)
    return [pa.array(out, type=t).take(enc.indices) for out, t in zip(outs, types)]


def _check_cell_sizes(table: pa.Table) -> None:
    for col in table.columns:
        if len(col) and pc.max(pc.binary_length(col)).as_py() > MAX_CELL:
            raise NotApplicable("a cell longer than the limit")


def _check_ids(arr: pa.Array, allowed_prefixes: set[str]) -> pa.Array:
    """``graph.ids.check_id`` on a column (stripped already); returns the prefixes."""
    if not _all(pc.match_substring_regex(arr, _VALID_ID_RE)):
        raise NotApplicable("an invalid id")
    if len(arr) and pc.max(pc.utf8_length(arr)).as_py() > MAX_ID_LENGTH:
        raise NotApplicable("an id too long")
    prefixes = pc.dictionary_encode(pc.replace_substring_regex(arr, ":.*$", ""))
    if not set(prefixes.dictionary.to_pylist()) <= allowed_prefixes:
        raise NotApplicable("an id of the wrong kind")
    return prefixes


# -- reading -------------------------------------------------------------------------------

def read_csv_table(path: Path) -> pa.Table:
    """One CSV file as a table of string columns (no nulls: empty cells are ''), with the
    record path's header rules; raises ``NotApplicable`` for anything unusual."""
    data = path.read_bytes()
    data = data.removeprefix(_BOM)
    if b"\x00" in data:
        raise NotApplicable("NUL byte")
    end = data.find(b"\n")
    header_raw = data if end < 0 else data[:end]
    if b'"' in header_raw or not header_raw.strip():
        raise NotApplicable("unusual header")
    try:
        header = [h.strip() for h in header_raw.decode("utf-8").rstrip("\r").split(",")]
    except UnicodeDecodeError as exc:
        raise NotApplicable("not UTF-8") from exc
    if len(set(header)) != len(header) or any(not h for h in header):
        raise NotApplicable("bad header")
    if b'"' in data:
        _check_quoting(path)
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=header,
                                           use_threads=False, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=False,
                quoted_strings_can_be_null=False, check_utf8=True))
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise NotApplicable(f"CSV: {exc}") from exc
    return table.combine_chunks()


def _check_quoting(path: Path) -> None:
    """Quoted cells: let Python's csv module (what the record path uses) judge the file, so
    a quoting error it would report is never accepted here."""
    for _line, _row, problem in read_rows(path):
        if problem is not None:
            raise NotApplicable("malformed CSV")


# -- nodes ---------------------------------------------------------------------------------

def _date_fn(allow_open: bool, name: str) -> Callable[[str], tuple[Any, ...] | None]:
    f = Field(name, FieldType.DATE)

    def conv(value: str) -> tuple[Any, ...] | None:
        problems: list[Problem] = []
        out = convert_field(f, value, _NOWHERE, problems, allow_open=allow_open)
        if problems:
            return None
        return out[name], out[name + "_lo"], out[name + "_hi"]
    return conv


def _field_fn(f: Field) -> Callable[[str], tuple[Any, ...] | None]:
    def conv(value: str) -> tuple[Any, ...] | None:
        problems: list[Problem] = []
        out = convert_field(f, value, _NOWHERE, problems)
        if problems:
            return None
        return (out[f.name],)
    return conv


_NOWHERE = Where("-", 0)
_ARROW_TYPES = {FieldType.INT: pa.int64(), FieldType.FLOAT: pa.float64(),
                FieldType.BOOL: pa.bool_()}


def _convert_fields(fields: Sequence[Field], table: pa.Table, n: int,
                    cols: dict[str, pa.Array]) -> None:
    """Storage columns of ``fields`` into ``cols`` (cells unprotected already)."""
    for f in fields:
        raw = (table.column(f.name).combine_chunks() if f.name in table.column_names
               else None)
        if f.type is FieldType.DATE:
            if raw is None:
                cols[f.name] = pa.nulls(n, pa.string())
                cols[f.name + "_lo"] = pa.array(np.full(n, MIN_DAY, dtype=np.int64))
                cols[f.name + "_hi"] = pa.array(np.full(n, MAX_DAY, dtype=np.int64))
                continue
            text, lo, hi = _by_distinct(raw, _date_fn(False, f.name),
                                        (pa.string(), pa.int64(), pa.int64()))
            cols.update({f.name: text, f.name + "_lo": lo, f.name + "_hi": hi})
        elif f.type is FieldType.LIST:
            cols[f.name] = (_split_list(raw) if raw is not None
                            else pa.array([[]] * n, type=pa.list_(pa.string())))
        elif raw is None:
            if f.required:
                raise NotApplicable("a required column is missing")
            cols[f.name] = pa.nulls(n, _ARROW_TYPES.get(f.type, pa.string()))
        elif f.type in (FieldType.ENUM, FieldType.BOOL, FieldType.INT, FieldType.FLOAT):
            (cols[f.name],) = _by_distinct(raw, _field_fn(f),
                                           (_ARROW_TYPES.get(f.type, pa.string()),))
        else:  # STRING, TEXT
            value = _empty_to_null(_strip(raw))
            if f.required and value.null_count:
                raise NotApplicable("a required value is empty")
            cols[f.name] = value


class _Tokens:
    """``graph.names.tokens`` of a name, with the tokens of each space-separated piece
    cached (the same words recur across thousands of names).

    Exact because normalisation never joins across a space: NFC composition and mark
    reordering stop at a starter (U+0020 is one and composes with nothing), the letter
    folds and apostrophe removal are per character, and ``normalise`` splits on the space.
    """

    def __init__(self) -> None:
        self._cache: dict[str, list[str]] = {}

    def __call__(self, name: str) -> list[str]:
        out: list[str] = []
        cache = self._cache
        for piece in name.split(" "):
            got = cache.get(piece)
            if got is None:
                got = cache[piece] = tokens(piece)
                if len(cache) > 500_000:
                    cache.clear()
            out.extend(got)
        return out


def _ascii_skeletons(grams: pa.Array) -> pa.Array:
    """``graph.names.skeleton`` of ASCII tokens, vectorised: for those, ``latinise`` is the
    identity, and the rest is the same sequence of replacements (digraphs left to right,
    vowels dropped, runs collapsed one letter at a time: RE2 has no backreferences)."""
    out = pc.replace_substring_regex(pc.ascii_lower(grams), "[^a-z]", "")
    for a, b in _DIGRAPHS:
        out = pc.replace_substring(out, a, b)
    out = pc.replace_substring_regex(out, _SKELETON_DROP.pattern, "")
    for ch in sorted(set("abcdefghijklmnopqrstuvwxyzSCXQJ") - set("aeiouyhwv")):
        out = pc.replace_substring_regex(out, ch + "{2,}", ch)
    return pc.ascii_lower(out)


def _name_keys_column(grams: list[str], counts: np.ndarray) -> pa.Array:
    """``name_keys`` per row from each row's grams (tokens and adjacent pairs): the keys
    ``t:<gram>`` and ``k:<skeleton>`` (skeletons of 2+ letters), de-duplicated and sorted
    per row, computed once per distinct gram and assembled with integer sorts."""
    n = len(counts)
    enc = pc.dictionary_encode(pa.array(grams, type=pa.string()))
    del grams
    uniq = enc.dictionary
    is_ascii = pc.string_is_ascii(uniq)
    sk = _ascii_skeletons(uniq)
    if not _all(is_ascii):
        other = np.flatnonzero(~is_ascii.to_numpy(zero_copy_only=False))
        py = [skeleton(g) for g in uniq.take(pa.array(other)).to_pylist()]
        sk = pc.replace_with_mask(sk, pc.invert(is_ascii), pa.array(py, type=pa.string()))
    has_k = pc.greater_equal(pc.utf8_length(sk), 2)
    t_keys = pc.binary_join_element_wise("t:", uniq, "")
    k_keys = pc.if_else(has_k, pc.binary_join_element_wise("k:", sk, ""),
                        pa.scalar(None, pa.string()))
    every = pa.concat_arrays([t_keys, k_keys])
    keys = pc.unique(every.drop_null())
    order = pc.sort_indices(keys).to_numpy()
    keys = keys.take(pa.array(order))  # sorted as Python sorts str (code point order)
    rank = pc.index_in(every, value_set=keys).to_numpy(zero_copy_only=False)
    nu = len(uniq)
    t_rank = rank[:nu].astype(np.int64)
    k_rank = np.where(np.isnan(rank[nu:]), -1, rank[nu:]).astype(np.int64)
    codes = enc.indices.to_numpy()
    rows = np.repeat(np.arange(n, dtype=np.int64), counts)
    width = np.int64(len(keys) + 1)
    kr = k_rank[codes]
    combined = np.concatenate([rows * width + t_rank[codes], (rows * width + kr)[kr >= 0]])
    combined.sort()
    if len(combined):
        distinct = np.empty(len(combined), dtype=bool)
        distinct[0] = True
        np.not_equal(combined[1:], combined[:-1], out=distinct[1:])
        combined = combined[distinct]
    out_rows, out_ranks = combined // width, combined % width
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(out_rows, minlength=n), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), keys.take(pa.array(out_ranks)))


def _names_columns(name: pa.Array, aliases: pa.Array, conf: pa.Array,
                   sources: pa.Array) -> tuple[pa.Array, pa.Array]:
    """``names`` (JSON) and ``name_keys`` per row, as ``ingest.build.finish_names`` makes
    them: the JSON is assembled from ``json.dumps`` pieces in ``sort_keys`` order."""
    toks_of = _Tokens()
    dumps = json.dumps
    conf_json = {c: dumps(c) for c in CONFIDENCE}
    names_out: list[str] = []
    grams: list[str] = []
    counts = np.zeros(len(name), dtype=np.int64)
    src_cache: dict[tuple[str, ...], str] = {}
    for i, (n, al, c, src) in enumerate(zip(name.to_pylist(), aliases.to_pylist(),
                                            conf.to_pylist(), sources.to_pylist())):
        entries: list[str] = []
        for x in [n or ""] + al:
            if x and x not in entries:
                entries.append(x)
        key = tuple(src)
        sj = src_cache.get(key)
        if sj is None:
            sj = src_cache[key] = dumps(src, ensure_ascii=False)
            if len(src_cache) > 200_000:
                src_cache.clear()
        head = '{"confidence": ' + conf_json[c] + ', "lang": null, "name": '
        tail = '", "source_ids": ' + sj + "}"
        names_out.append("[" + ", ".join(
            head + dumps(x, ensure_ascii=False) + ', "script": "' + script_of(x) + tail
            for x in entries) + "]")
        before = len(grams)
        for x in entries:
            toks = toks_of(x)
            grams.extend(toks)
            grams.extend([a + b for a, b in itertools.pairwise(toks)])
        counts[i] = len(grams) - before
    return (pa.array(names_out, type=pa.string()), _name_keys_column(grams, counts))


def convert_nodes(kind: str, table: pa.Table) -> pa.Table:
    """A node file's table -> its storage columns, or ``NotApplicable``."""
    nk = NODE_KINDS[kind]
    allowed = {f.name for f in nk.fields if not f.derived}
    if not set(table.column_names) <= allowed or "id" not in table.column_names:
        raise NotApplicable("unknown or missing columns")
    _check_cell_sizes(table)
    n = table.num_rows
    table = pa.table({c: _unprotect(table.column(c).combine_chunks())
                      for c in table.column_names})
    ids = _strip(table.column("id").combine_chunks())
    _check_ids(ids, {nk.prefix})
    if pc.count_distinct(ids).as_py() != n:
        raise NotApplicable("duplicate ids")
    if kind == "Source" and "title" in table.column_names:
        name = (table.column("name").combine_chunks() if "name" in table.column_names
                else pa.array([""] * n, type=pa.string()))
        blank = pc.equal(pc.binary_length(_strip(name)), 0)
        table = table.drop_columns([c for c in ("name",) if c in table.column_names])
        title = table.column("title").combine_chunks()
        table = table.append_column("name", pc.if_else(blank, title, name))
    cols: dict[str, pa.Array] = {"id": ids}
    _convert_fields([f for f in nk.fields if not f.derived and f.name != "id"], table, n, cols)
    cols["confidence"] = pc.fill_null(cols["confidence"], DEFAULT_CONFIDENCE)
    cols["restricted"] = pc.fill_null(cols["restricted"], False)
    cols["names"], cols["name_keys"] = _names_columns(
        cols["name"], cols["aliases"], cols["confidence"], cols["source_ids"])
    return pa.table({c: cols[c] for c, _ in [("id", "")] + node_columns(kind) if c in cols})


# -- relations -----------------------------------------------------------------------------

def _confidence(value: str) -> tuple[Any, ...] | None:
    text = value.strip().lower()
    if not text:
        return (DEFAULT_CONFIDENCE,)
    return (text,) if text in CONFIDENCE else None


def convert_rels(rel_type: str, table: pa.Table) -> dict[tuple[str, str], pa.Table]:
    """A relation file's table -> storage tables per (from kind, to kind)."""
    rt = RELATION_TYPES[rel_type]
    allowed = set(_CLAIM_COLUMNS) | set(rt.field_names)
    if not set(table.column_names) <= allowed or not {"from", "to"} <= set(table.column_names):
        raise NotApplicable("unknown or missing columns")
    _check_cell_sizes(table)
    n = table.num_rows
    table = pa.table({c: _unprotect(table.column(c).combine_chunks())
                      for c in table.column_names})
    ends = {}
    prefixes = {}
    for end in ("from", "to"):
        ends[end] = _strip(table.column(end).combine_chunks())
        prefixes[end] = _check_ids(ends[end], set(PREFIX_TO_KIND))
    cols: dict[str, pa.Array] = {}
    for name, allow_open, short in (("valid_from", False, "from"), ("valid_to", True, "to")):
        if name in table.column_names:
            text, lo, hi = _by_distinct(table.column(name).combine_chunks(), _date_fn(allow_open, name),
                                        (pa.string(), pa.int64(), pa.int64()))
        else:
            text = pa.nulls(n, pa.string())
            lo = pa.array(np.full(n, MIN_DAY, dtype=np.int64))
            hi = pa.array(np.full(n, MAX_DAY, dtype=np.int64))
        cols.update({name: text, short + "_lo": lo, short + "_hi": hi})
    if _any(pc.greater(cols["from_lo"], cols["to_hi"])):
        raise NotApplicable("a claim ends before it starts")
    if "confidence" in table.column_names:
        (cols["confidence"],) = _by_distinct(table.column("confidence").combine_chunks(), _confidence,
                                             (pa.string(),))
    else:
        cols["confidence"] = pa.array([DEFAULT_CONFIDENCE] * n, type=pa.string())
    extra = [Field("source_ids", FieldType.LIST), Field("note", FieldType.TEXT), *rt.fields]
    _convert_fields(extra, table, n, cols)
    ids = (_strip(table.column("id").combine_chunks()) if "id" in table.column_names
           else pa.array([""] * n))
    missing = pc.equal(pc.binary_length(ids), 0)
    if _any(missing):
        idx = pa.array(np.flatnonzero(missing.to_numpy(zero_copy_only=False)))
        role = cols.get("role", pa.nulls(n, pa.string()))
        made = [claim_id(rel_type, f, t, vf, vt, r) for f, t, vf, vt, r in zip(
            *(a.take(idx).to_pylist() for a in (ends["from"], ends["to"], cols["valid_from"],
                                                 cols["valid_to"], role)))]
        ids = pc.replace_with_mask(ids, missing, pa.array(made, type=pa.string()))
    cols["id"] = ids
    layout = ["from", "to"] + [c for c, _ in rel_columns(rel_type)]
    cols["from"], cols["to"] = ends["from"], ends["to"]
    full = pa.table({c: cols[c] for c in layout})
    # group by the kinds of the ends (the COPY target of each group)
    fdict, tdict = prefixes["from"].dictionary.to_pylist(), prefixes["to"].dictionary.to_pylist()
    code = (prefixes["from"].indices.to_numpy().astype(np.int64) * len(tdict)
            + prefixes["to"].indices.to_numpy())
    out: dict[tuple[str, str], pa.Table] = {}
    for c in np.unique(code):
        fk = PREFIX_TO_KIND[fdict[int(c) // len(tdict)]]
        tk = PREFIX_TO_KIND[tdict[int(c) % len(tdict)]]
        if not rt.allows(fk, tk):
            raise NotApplicable("a relation joins kinds its type does not allow")
        out[(fk, tk)] = full if len(np.unique(code)) == 1 else full.filter(pa.array(code == c))
    return out


# -- the folder ----------------------------------------------------------------------------

def _convert_file(path: Path, what: str, part: int = 0, parts: int = 1) -> tuple[str, Any]:
    """Worker: one file (or its ``part``-th of ``parts`` row ranges: a big node file is
    shared by the workers, names being the costly part) -> ('node', table) or
    ('rel', {(fk, tk): table}) or ('skip', why)."""
    try:
        table = read_csv_table(path)
        if parts > 1:
            size = -(-table.num_rows // parts)
            table = table.slice(part * size, size)
        if what in NODE_KINDS:
            return "node", convert_nodes(what, table)
        return "rel", convert_rels(what, table)
    except NotApplicable as exc:
        return "skip", f"{path.name}: {exc}"
    except (pa.ArrowException, ValueError, TypeError, KeyError, IndexError) as exc:
        # a case this path does not foresee: the record path (slow, but exact) takes it
        logging.getLogger("accgraph.ingest").warning(
            "native Arrow path: %s: unexpected %r; using the record path", path.name, exc)
        return "skip", f"{path.name}: unexpected {exc!r}"


def data_files(folder: Path) -> list[tuple[Path, str]]:
    """The folder's data files, or ``NotApplicable`` when the record path must read it
    (JSON lines, unknown files: the record path reports those)."""
    if not folder.is_dir():
        raise NotApplicable("not a folder")
    out: list[tuple[Path, str]] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.suffix in IGNORED_SUFFIXES or path.name.startswith("."):
            continue
        what = classify(path)
        if path.suffix != ".csv" or what is None or path.suffix not in SUFFIXES:
            raise NotApplicable(f"{path.name} is not a CSV node or relation file")
        out.append((path, what))
    if not out:
        raise NotApplicable("no data files")
    return out


_PARALLEL_BYTES = 16 << 20  # below this, starting worker processes costs more than it saves


def _workers(files: list[tuple[Path, str]]) -> int:
    """Worker processes for converting: ACCGRAPH_INGEST_WORKERS, else up to 2 (the
    target machine's cores) for a folder big enough to repay their start-up (~1 s)."""
    wanted = os.environ.get("ACCGRAPH_INGEST_WORKERS")
    if wanted:
        return max(1, int(wanted))
    if sum(p.stat().st_size for p, _ in files) < _PARALLEL_BYTES:
        return 1
    return min(2, os.cpu_count() or 1)


@dataclass
class _Names:
    """``names.csv``, read by the record path's own code (it is small)."""

    by_kind: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    rows: int = 0
    cited: set[str] = field(default_factory=set)


def _read_names(path: Path) -> _Names:
    from ingest.bundle import Bundle
    from ingest.native import _read_file

    small = Bundle()
    _read_file(path, NAMES_FILE, small)
    if small.problems:
        raise NotApplicable("a problem in names.csv")
    out = _Names()
    for entity, entries in small.extra_names.items():
        kind = PREFIX_TO_KIND.get(entity.partition(":")[0])
        if kind is None:
            raise NotApplicable("a name for an entity of no kind")
        out.by_kind.setdefault(kind, {})[entity] = [e for e, _ in entries]
        out.rows += len(entries)
        for e, _ in entries:
            out.cited.update(e.get("source_ids") or [])
    return out


def _apply_names(table: pa.Table, extra: dict[str, list[dict[str, Any]]]) -> pa.Table:
    """Fold names.csv entries into the names of this folder's nodes, as
    ``Bundle.apply_extra_names`` does. A name for a node only in the graph is an update:
    the record path's job."""
    mask = pc.is_in(table.column("id"), value_set=pa.array(list(extra), type=pa.string()))
    if pc.sum(mask).as_py() != len(extra):
        raise NotApplicable("a name for an entity outside the folder")
    rows = table.filter(mask).select(
        ["id", "name", "aliases", "confidence", "source_ids"]).to_pylist()
    names, keys = [], []
    for row in rows:
        props = {k: v for k, v in row.items() if k != "id"}
        finish_names(props, extra[row["id"]])
        names.append(props["names"])
        keys.append(props["name_keys"])
    flags = (mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask)
    hit = np.flatnonzero(flags.to_numpy(zero_copy_only=False))
    for col, values, typ in (("names", names, pa.string()),
                             ("name_keys", keys, pa.list_(pa.string()))):
        old = table.column(col).combine_chunks()
        order = np.arange(len(old))
        order[hit] = len(old) + np.arange(len(hit))
        new = pa.concat_arrays([old, pa.array(values, type=typ)]).take(pa.array(order))
        table = table.set_column(table.column_names.index(col), col, new)
    return table


def _cited(table: pa.Table) -> set[str]:
    return set(pc.unique(pc.list_flatten(table.column("source_ids"))).to_pylist())


# -- loading -------------------------------------------------------------------------------

_LOOKUP_CHUNK = 20_000


def _any_stored(store: Any, kind: str, ids: pa.Array) -> bool:
    """Whether any of ``ids`` (of one kind) is already a stored node; stops at the first."""
    from graph.embedded import _label

    cypher = f"UNWIND $ids AS i MATCH (n:{_label(kind)} {{id: i}}) RETURN count(n) AS c"
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids.slice(start, _LOOKUP_CHUNK).to_pylist()
        if store.execute(cypher, {"ids": chunk})[0]["c"]:
            return True
    return False


def _quick_overlap(store: Any, files: list[tuple[Path, str]]) -> None:
    """Decline at once, before reading anything else, when the first node of any node
    file is stored already: a re-ingest or an update, which the record path diffs. (The
    exact check, every id, runs as each file is loaded.)"""
    firsts: list[str] = []
    for path, what in files:
        if what not in NODE_KINDS:
            continue
        with path.open("rb") as fh:
            head = fh.read(1 << 16).decode("utf-8-sig", errors="replace").splitlines()[:2]
        try:
            rows = list(csv.reader(head))
        except csv.Error:
            continue
        if len(rows) == 2 and "id" in [h.strip() for h in rows[0]]:
            cells = dict(zip([h.strip() for h in rows[0]], rows[1]))
            firsts.append(cells.get("id", "").strip())
    if store.get_nodes(i for i in firsts if i):
        raise NotApplicable("the folder's nodes are stored already (re-ingest or update)")


def _node_records(kind: str, table: pa.Table) -> list[Any]:
    from graph.records import NodeRecord

    return [NodeRecord(kind, row["id"], row) for row in table.to_pylist()]


class _Results:
    """The converted files, nodes first: in worker processes (spawned, not forked: the
    parent holds an open database with engine threads) or, with one worker, here."""

    def __init__(self, files: list[tuple[Path, str]], workers: int) -> None:
        # biggest first within nodes and within relations, so the workers end together
        nodes = sorted((f for f in files if f[1] in NODE_KINDS), key=lambda f: -f[0].stat().st_size)
        rels = sorted((f for f in files if f[1] not in NODE_KINDS),
                      key=lambda f: -f[0].stat().st_size)
        self.order: list[tuple[Path, str, int, int]] = []
        split = int(os.environ.get("ACCGRAPH_INGEST_SPLIT_BYTES", _SPLIT_BYTES))
        for path, what in nodes + rels:
            parts = workers if what in NODE_KINDS and path.stat().st_size > split else 1
            self.order.extend((path, what, i, parts) for i in range(parts))
        self.pool: ProcessPoolExecutor | None = None
        if workers > 1 and len(self.order) > 1:
            try:
                self.pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
            except OSError:
                self.pool = None

    def __iter__(self) -> Any:
        if self.pool is None:
            for path, what, part, parts in self.order:
                yield what, part + 1 == parts, _convert_file(path, what, part, parts)
            return
        futures = [self.pool.submit(_convert_file, *task) for task in self.order]
        try:
            for (_path, what, part, parts), fut in zip(self.order, futures):
                yield what, part + 1 == parts, fut.result()
        except BrokenProcessPool as exc:  # e.g. a __main__ that cannot be re-imported
            raise _PoolFailed from exc

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


_SPLIT_BYTES = 4 << 20  # node files bigger than this are converted by every worker, in parts


class _PoolFailed(Exception):
    pass


def ingest_native_fast(store: Any, folder: Path, report: Any, progress: Any,
                       timings: dict[str, float] | None = None) -> bool:
    """Load a native folder through the Arrow path into an ``EmbeddedStore``, filling the
    ``LoadReport``; False (nothing written, nothing reported) when the record path must
    take the folder. Stage times go to ``timings``.

    Reading and writing overlap: the transaction opens first and each file is copied as
    soon as a worker has converted it (nodes before relations), so the engine works while
    the workers parse. Whatever declines the folder after that (a problem in a later
    file, an id already stored, a missing end or source) rolls the transaction back, and
    the record path starts from scratch: nothing of the fast attempt remains.
    """
    from graph.bulk import is_empty
    from graph.store import StoreError

    timings = timings if timings is not None else {}
    started = time.perf_counter()
    try:
        files = data_files(folder)
        names = _Names()
        for path in [p for p, w in files if w == NAMES_FILE]:
            names = _read_names(path)
        files = [(p, w) for p, w in files if w != NAMES_FILE]
        prior_empty = is_empty(store)
        if not prior_empty:
            _quick_overlap(store, files)
    except NotApplicable as exc:
        logging.getLogger("accgraph.ingest").info("native Arrow path declined: %s", exc)
        return False
    try:
        try:
            return _load(store, files, names, prior_empty, report, progress, timings, started,
                         _workers(files))
        except _PoolFailed:  # rolled back; convert in this process instead
            return _load(store, files, names, prior_empty, report, progress, timings, started,
                         1)
    except (NotApplicable, StoreError) as exc:
        if "buffer pool" in str(exc).lower():
            raise  # the record path would run out of memory the same way: say it now
        logging.getLogger("accgraph.ingest").info("native Arrow path declined: %s", exc)
        report.counts.clear()
        return False


def _load(store: Any, files: list[tuple[Path, str]], names: _Names, prior_empty: bool,
          report: Any, progress: Any, timings: dict[str, float], started: float,
          workers: int) -> bool:
    from graph.bulk import copy_tables_in_transaction

    node_ids: dict[str, pa.Array] = {}
    rel_ids: list[pa.Array] = []
    cited: set[str] = set(names.cited)
    records = names.rows
    matched: list[Any] = []
    added: dict[str, int] = {}
    wait = copy = 0.0
    results = _Results(files, workers)
    try:
        with progress.task("reading and writing (arrow)", total=len(files)) as tick, \
                store.transaction():
            t = time.perf_counter()
            pending: list[pa.Table] = []
            for what, last, (tag, value) in results:
                wait += time.perf_counter() - t
                if tag == "skip":
                    raise NotApplicable(value)
                t = time.perf_counter()
                if tag == "node" and not last:
                    pending.append(value)  # the other parts of this file are coming
                    continue
                if tag == "node":
                    if pending:
                        value = pa.concat_tables([*pending, value])
                        pending = []
                        if pc.count_distinct(value.column("id")).as_py() != value.num_rows:
                            raise NotApplicable(f"duplicate {what} ids")
                    if what in names.by_kind:
                        value = _apply_names(value, names.by_kind.pop(what))
                    ids = value.column("id").combine_chunks()
                    if not prior_empty and _any_stored(store, what, ids):
                        raise NotApplicable(f"some {what} ids are stored already")
                    node_ids[what] = ids
                    cited |= _cited(value)
                    if not prior_empty and what in ("Person", "Organization"):
                        matched.extend(_node_records(what, value))
                    tables: tuple[dict[str, Any], dict[Any, Any]] = ({what: value}, {})
                    added[what] = added.get(what, 0) + value.num_rows
                    records += value.num_rows
                else:
                    if names.by_kind:
                        raise NotApplicable("a name for an entity outside the folder")
                    for (fk, tk), table in value.items():
                        rel_ids.append(table.column("id").combine_chunks())
                        cited |= _cited(table)
                        if not prior_empty:
                            _check_ends_outside(table, node_ids.get(fk), node_ids.get(tk))
                        added[what] = added.get(what, 0) + table.num_rows
                        records += table.num_rows
                    tables = ({}, {(what, fk, tk): tb for (fk, tk), tb in value.items()})
                del value
                copy_tables_in_transaction(store, *tables)
                del tables
                copy += time.perf_counter() - t
                tick(1)
                t = time.perf_counter()
            if names.by_kind:
                raise NotApplicable("a name for an entity outside the folder")
            t = time.perf_counter()
            _check_folder(store, rel_ids, cited, node_ids.get("Source"))
            timings["final_checks_s"] = time.perf_counter() - t
            timings["read_write_s"] = time.perf_counter() - started
            t = time.perf_counter()
        timings["commit_s"] = time.perf_counter() - t
    finally:
        results.close()
    timings["waiting_for_workers_s"] = wait
    timings["copy_s"] = copy
    timings["write_commit_s"] = time.perf_counter() - started
    report.records = records
    for name, n in added.items():
        report.bump(name, "added", n)
    report.written = True
    report.notes.append("loaded by the Arrow path (every record new)")
    _match(store, matched, prior_empty, report, progress, timings)
    return True


def _check_ends_outside(table: pa.Table, from_ids: pa.Array | None,
                        to_ids: pa.Array | None) -> None:
    """A claim with both ends outside the folder may be stored already (the record path
    diffs it); one with an end in the folder is new, as the record path counts it."""
    empty = pa.array([], type=pa.string())
    out_from = pc.invert(pc.is_in(table.column("from"), value_set=from_ids or empty))
    out_to = pc.invert(pc.is_in(table.column("to"), value_set=to_ids or empty))
    if _any(pc.and_(out_from, out_to)):
        raise NotApplicable("claims between stored nodes (may be stored already)")


def _check_folder(store: Any, rel_ids: list[pa.Array], cited: set[str],
                  sources: pa.Array | None) -> None:
    """Checks across files, before the commit: claim ids unique, cited sources exist (in
    the folder or the graph). Relation ends were checked by the engine: ``COPY`` fails on
    an end that exists nowhere."""
    if rel_ids:
        every = pa.chunked_array(rel_ids, type=pa.string())
        if pc.count_distinct(every).as_py() != len(every):
            raise NotApplicable("duplicate claim ids")
    for sid in cited:
        if not sid.startswith("source:") or len(sid) == len("source:"):
            raise NotApplicable("a cited id is not a source id")
    if cited:
        wanted = pa.array(sorted(cited), type=pa.string())
        known = sources if sources is not None else pa.array([], type=pa.string())
        found = pc.is_in(wanted, value_set=known).to_pylist()
        outside = [s for s, ok in zip(wanted.to_pylist(), found) if not ok]
        if outside and len(store.get_nodes(outside)) != len(outside):
            raise NotApplicable("a cited source exists nowhere")


def _match(store: Any, matched: list[Any], prior_empty: bool, report: Any, progress: Any,
           timings: dict[str, float]) -> None:
    """Entity matching after the load, as ``ingest_path`` runs it for the record path.
    Matching compares the load's records with the graph's *other* records: when the graph
    held nothing before, only accepted review decisions could link anything."""
    if os.environ.get("ACCGRAPH_MATCH", "1") == "0":
        return
    started = time.perf_counter()
    if prior_empty and not _has_review_decisions(store):
        report.notes.append("matching skipped: the graph held nothing before this load "
                            "and no review decision exists, so there is nothing to match")
    else:
        from ingest.matching import link_after_load

        if not matched:  # an empty graph with review decisions: read the load back
            matched = [r for r in store.get_nodes(
                i for k in ("Person", "Organization") for i in _ids_of(store, k)).values()]
        with progress.task("matching with the graph", total=None):
            link_after_load(store, matched, report)
    timings["match_s"] = time.perf_counter() - started


def _ids_of(store: Any, kind: str) -> list[str]:
    from graph.embedded import _label

    return [r["id"] for r in store.execute(f"MATCH (n:{_label(kind)}) RETURN n.id AS id")]


def _has_review_decisions(store: Any) -> bool:
    from ingest.review import ReviewQueue

    queue = ReviewQueue.for_store(store)
    try:
        return bool(queue.decisions())
    finally:
        queue.close()
