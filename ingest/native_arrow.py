"""The fast path of the native format: CSV files read, validated and converted as Arrow
columns, then appended with ``COPY``, with no Python object per record.

Why: the record path (``ingest.native``) builds a ``NodeRecord``/``RelRecord`` per row and
tops out near 10,000 records/s and 12 GB of memory at benchmark scale 1 (4.3M records).
Here each column is converted once, as a whole: text cells are stripped with a vectorised
test that sends only the rare cells that need it to Python's own ``str.strip``; low
cardinality columns (dates, enums, booleans, numbers, confidence) are converted by calling
the record path's own ``convert_field`` on each *distinct* value and mapping back; ids are
checked with the same pattern as ``graph.ids.check_id``; relation ends with ``is_in``
against the node id arrays. ``names`` and ``name_keys`` (what ``finish_names`` makes) are
built column-wise too: the JSON from ``json.dumps`` pieces, tokens once per distinct
space-separated piece, skeletons on the bytes of all distinct grams at once.

Loading: worker processes convert the files (a big node file in parts) and, with more
than one worker, write each table as a Parquet file beside the database; the parent has
the engine copy each file as soon as it is ready (a relation table once the node kinds at
its ends are in). Into an empty graph, a folder of ``_FRESH_BYTES`` or more goes into a
new database file, one auto-commit ``COPY`` per table, which then replaces the empty one
with one rename (``EmbeddedStore.first_load``): the load stays atomic, and memory stays
bounded (graph/bulk.py). Otherwise everything is copied in one transaction.

Scope and error semantics: the fast path applies when every data file is CSV and every
node id of the folder is new to the graph. It produces no problem messages of its own: when
*anything* is off (a bad cell, a duplicate id, a missing reference, a file it does not
handle, an id already stored), it gives up and the caller runs the record path, which
reports every problem as ``file:line: field: reason`` exactly as before, or diffs against
the stored records. So it only has to be fast for valid, new data, and it only has to be
*conservative* (never accept what the record path would reject, never store a value the
record path would store differently: tests/ingest/test_native_arrow*.py compare full dumps
of both, and the vectorised names code with ``finish_names`` on random names).
"""

from __future__ import annotations

import csv
import itertools
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
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
from graph.names import _DIGRAPHS, skeleton, tokens
from graph.names import _PERSIAN_LATIN as _PERSIAN_LATIN_TABLE
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

def read_csv_table(path: Path, part: int = 0, parts: int = 1) -> pa.Table:
    """One CSV file as a table of string columns (no nulls: empty cells are ''), with the
    record path's header rules; raises ``NotApplicable`` for anything unusual.

    With ``parts`` > 1, only the ``part``-th of its rows (the parts, in order, are the
    whole file): a file without quotes is cut at line ends and only that byte range is
    parsed (a line end never occurs inside a cell there, nor inside a UTF-8 character);
    otherwise the whole file is parsed and sliced."""
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
    if parts > 1 and end >= 0 and b'"' not in data:
        body = end + 1
        cuts = [body]
        for k in range(1, parts):
            at = data.find(b"\n", max(cuts[-1], body + k * (len(data) - body) // parts))
            cuts.append(len(data) if at < 0 else at + 1)
        cuts.append(len(data))
        return _parse_csv(data[cuts[part]:cuts[part + 1]], header, 0)
    if b'"' in data:
        _check_quoting(path)
    table = _parse_csv(data, header, 1)
    if parts > 1:
        size = -(-table.num_rows // parts)
        table = table.slice(part * size, size)
    return table


def _parse_csv(data: bytes, header: list[str], skip: int) -> pa.Table:
    if not data or data.isspace():  # a part with no rows
        return pa.table({h: pa.array([], type=pa.string()) for h in header})
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(skip_rows=skip, column_names=header,
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


# Characters ``json.dumps(x, ensure_ascii=False)`` escapes; every other string is dumped
# as itself between quotes.
_JSON_ESCAPED_RE = r'[\x00-\x1f"\\]'
_ARABIC_RE = "[\u0600-\u06ff]"  # graph.names.has_persian


def _json_strings(arr: pa.Array) -> pa.Array:
    """``json.dumps(x, ensure_ascii=False)`` of each cell: the rare cells with a character
    JSON escapes go through ``json.dumps`` itself."""
    body = _fix(arr, _JSON_ESCAPED_RE, lambda v: json.dumps(v, ensure_ascii=False)[1:-1])
    return pc.binary_join_element_wise('"', body, '"', "")


def _lists(offsets: np.ndarray, values: pa.Array) -> pa.ListArray:
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)


def _offsets_of(rows: np.ndarray, n: int) -> np.ndarray:
    """List offsets for flat values whose (sorted) row numbers are ``rows``."""
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=offsets[1:])
    return offsets


def _entries(name: pa.Array, aliases: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The names of each row as ``finish_names`` lists them: the name, then the aliases,
    empty ones dropped, each distinct text once, first occurrence first. Returns the
    flat texts and the row of each (ascending)."""
    n = len(name)
    name = pc.fill_null(name, "")
    name_ok = pc.greater(pc.binary_length(name), 0).to_numpy(zero_copy_only=False)
    al_len = pc.fill_null(pc.list_value_length(aliases), 0).to_numpy().astype(np.int64)
    al_flat = pc.list_flatten(aliases)
    counts = name_ok.astype(np.int64) + al_len
    starts = np.cumsum(counts) - counts
    idx = np.empty(int(counts.sum()), dtype=np.int64)
    name_rows = np.flatnonzero(name_ok)
    idx[starts[name_rows]] = name_rows
    al_rows = np.repeat(np.arange(n, dtype=np.int64), al_len)
    within = np.arange(len(al_flat), dtype=np.int64) - np.repeat(np.cumsum(al_len) - al_len,
                                                                 al_len)
    idx[(starts + name_ok)[al_rows] + within] = n + np.arange(len(al_flat), dtype=np.int64)
    values = pa.concat_arrays([name, al_flat.cast(pa.string())]).take(pa.array(idx))
    rows = np.repeat(np.arange(n, dtype=np.int64), counts)
    keep = pc.greater(pc.binary_length(values), 0).to_numpy(zero_copy_only=False)
    enc = pc.dictionary_encode(values)
    key = rows * np.int64(len(enc.dictionary) + 1) + enc.indices.to_numpy().astype(np.int64)
    _, first = np.unique(key, return_index=True)
    distinct = np.zeros(len(key), dtype=bool)
    distinct[first] = True
    keep &= distinct
    return values.filter(pa.array(keep)), rows[keep]


def _grams(entries: pa.Array, entry_rows: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """The grams of each name (``graph.names.name_keys``: its tokens and each pair of
    adjacent tokens joined) and the row of each. Tokens are computed once per distinct
    space-separated piece: exact, because normalisation never joins across a space (NFC
    composition and mark reordering stop at a starter, and U+0020 is one that composes
    with nothing; the letter folds and apostrophe removal are per character; ``normalise``
    splits on the space)."""
    pieces = pc.split_pattern(entries, " ")
    piece_entry = pc.list_parent_indices(pieces).to_numpy().astype(np.int64)
    enc = pc.dictionary_encode(pc.list_flatten(pieces))
    per_piece = [tokens(p) for p in enc.dictionary.to_pylist()]
    tok_len = np.fromiter((len(t) for t in per_piece), dtype=np.int64, count=len(per_piece))
    tok_flat = pa.array(list(itertools.chain.from_iterable(per_piece)), type=pa.string())
    del per_piece
    tok_start = np.cumsum(tok_len) - tok_len
    codes = enc.indices.to_numpy().astype(np.int64)
    occ_len = tok_len[codes]
    occ = np.repeat(np.arange(len(codes), dtype=np.int64), occ_len)
    within = np.arange(len(occ), dtype=np.int64) - np.repeat(np.cumsum(occ_len) - occ_len,
                                                             occ_len)
    toks = tok_flat.take(pa.array(tok_start[codes][occ] + within))
    tok_entry = piece_entry[occ]
    pair = np.flatnonzero(tok_entry[1:] == tok_entry[:-1])
    pairs = pc.binary_join_element_wise(toks.take(pa.array(pair)),
                                        toks.take(pa.array(pair + 1)), "")
    grams = pa.concat_arrays([toks, pairs])
    return grams, entry_rows[np.concatenate([tok_entry, tok_entry[pair]])]


class _AsciiCells:
    """An array of ASCII strings as one byte array and offsets, for edits that every
    cell undergoes (``_ascii_skeletons``)."""

    def __init__(self, arr: pa.Array) -> None:
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        if arr.null_count:
            raise ValueError("nulls in a skeleton column")
        self.n = n = len(arr)
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset:arr.offset + n + 1]
        base = int(offsets[0]) if n else 0
        data = arr.buffers()[2]
        self.data = (np.frombuffer(data, dtype=np.uint8)[base:int(offsets[-1])].copy()
                     if data is not None and n else np.zeros(0, dtype=np.uint8))
        self.offsets = (offsets - base).astype(np.int64) if n else np.zeros(1, dtype=np.int64)

    def same_cell_as_previous(self) -> np.ndarray:
        """For each byte but the first: whether it is in the cell of the byte before."""
        starts = np.zeros(len(self.data) + 1, dtype=bool)
        starts[self.offsets[:-1]] = True
        return ~starts[1:len(self.data)]

    def keep(self, mask: np.ndarray) -> None:
        kept = np.zeros(len(self.data) + 1, dtype=np.int64)
        np.cumsum(mask, out=kept[1:])
        self.offsets = kept[self.offsets]
        self.data = self.data[mask]

    def array(self) -> pa.Array:
        return pa.StringArray.from_buffers(
            self.n, pa.py_buffer(self.offsets.astype(np.int32).tobytes()),
            pa.py_buffer(self.data.tobytes()))


_VOWELS = np.frombuffer(b"aeiouyhwv", dtype=np.uint8)  # graph.names._SKELETON_DROP


def _ascii_skeletons(grams: pa.Array) -> pa.Array:
    """``graph.names.skeleton`` of ASCII tokens, vectorised over the bytes of all of them:
    for those, ``latinise`` is the identity, and the rest is the same sequence of edits:
    lower case, drop all but a-z, the digraphs in order (each is two different letters,
    so its matches never overlap and replacing all at once is ``str.replace``), drop the
    vowels, collapse runs of one character (``(.)\1+``), lower case."""
    cells = _AsciiCells(pc.ascii_lower(grams))
    d = cells.data
    cells.keep((d >= ord("a")) & (d <= ord("z")))
    for pattern, repl in _DIGRAPHS:
        d = cells.data
        if len(pattern) == 1:
            d[d == ord(pattern)] = ord(repl)
            continue
        hit = np.flatnonzero((d[:-1] == ord(pattern[0])) & (d[1:] == ord(pattern[1]))
                             & cells.same_cell_as_previous())
        if not len(hit):
            continue
        d[hit] = ord(repl)
        mask = np.ones(len(d), dtype=bool)
        mask[hit + 1] = False
        cells.keep(mask)
    cells.keep(~np.isin(cells.data, _VOWELS))
    d = cells.data
    mask = np.ones(len(d), dtype=bool)
    if len(d) > 1:
        mask[1:] = ~((d[1:] == d[:-1]) & cells.same_cell_as_previous())
    cells.keep(mask)
    d = cells.data
    upper = (d >= ord("A")) & (d <= ord("Z"))
    d[upper] += 32
    return cells.array()


# Arabic letters that ``_PERSIAN_LATIN`` leaves to ICU's transliteration (via
# ``normality.ascii_text``) and for which ICU's Arabic-Latin rules are one plain letter,
# with no context: beh, dal, reh, feh, lam, meem, noon. A token made only of these and of
# the letters ``_PERSIAN_LATIN`` maps is latinised character by character (checked
# exhaustively against ``graph.names.latinise`` in tests/ingest/test_native_arrow.py).
_ICU_PLAIN = "\u0628\u062f\u0631\u0641\u0644\u0645\u0646"
_PLAIN_PERSIAN_RE = ("^[" + "".join(sorted({chr(k) for k in _PERSIAN_LATIN_TABLE} | set(_ICU_PLAIN)))
                     + "]+$")


def _persian_latin_table() -> dict[int, str]:
    from normality import ascii_text

    table = {int(k): str(v or "") for k, v in _PERSIAN_LATIN_TABLE.items()}
    for ch in _ICU_PLAIN:
        table[ord(ch)] = ascii_text(ch)
    return table


_PLAIN_TABLE: dict[int, str] = {}


def _skeletons(uniq: pa.Array) -> pa.Array:
    """``graph.names.skeleton`` of each distinct gram: vectorised for ASCII grams and for
    Persian grams of plain letters (the bulk of the work), Python's own for the rest."""
    is_ascii = pc.string_is_ascii(uniq)
    if _all(is_ascii):
        return _ascii_skeletons(uniq)
    plain = pc.and_(pc.invert(is_ascii), pc.match_substring_regex(uniq, _PLAIN_PERSIAN_RE))
    other = pc.invert(pc.or_(is_ascii, plain))
    latin = uniq
    if _any(plain):
        if not _PLAIN_TABLE:
            _PLAIN_TABLE.update(_persian_latin_table())
        idx = np.flatnonzero(plain.to_numpy(zero_copy_only=False))
        py = [g.translate(_PLAIN_TABLE) for g in uniq.take(pa.array(idx)).to_pylist()]
        latin = pc.replace_with_mask(uniq, plain, pa.array(py, type=pa.string()))
    if _any(other):  # their skeletons come from Python; a placeholder meanwhile
        latin = pc.if_else(other, pa.scalar("", pa.string()), latin)
    sk = _ascii_skeletons(latin)
    if _any(other):
        idx = np.flatnonzero(other.to_numpy(zero_copy_only=False))
        py = [skeleton(g) for g in uniq.take(pa.array(idx)).to_pylist()]
        sk = pc.replace_with_mask(sk, other, pa.array(py, type=pa.string()))
    return sk


def _name_keys_column(grams: pa.Array, rows: np.ndarray, n: int) -> pa.Array:
    """``name_keys`` per row from each row's grams (tokens and adjacent pairs; ``rows``:
    the row of each gram): the keys ``t:<gram>`` and ``k:<skeleton>`` (skeletons of 2+
    letters), de-duplicated and sorted per row, computed once per distinct gram and
    assembled with integer sorts."""
    enc = pc.dictionary_encode(grams)
    uniq = enc.dictionary
    sk = _skeletons(uniq)
    # Every "k:" key sorts before every "t:" key; within each group, by the text after the
    # prefix (byte order of UTF-8 = code point order = Python's str order). So the rank of
    # a key is its skeleton's rank among the distinct skeletons (of 2+ letters), or the
    # number of those plus its gram's rank among the distinct grams.
    has_k = pc.greater_equal(pc.utf8_length(sk), 2).to_numpy(zero_copy_only=False)
    sk_enc = pc.dictionary_encode(sk)
    sk_uniq = sk_enc.dictionary
    sk_order = pc.sort_indices(sk_uniq).to_numpy()
    sk_keep = sk_order[pc.greater_equal(pc.utf8_length(sk_uniq), 2).to_numpy(
        zero_copy_only=False)[sk_order]]
    sk_rank = np.full(len(sk_uniq), -1, dtype=np.int64)
    sk_rank[sk_keep] = np.arange(len(sk_keep), dtype=np.int64)
    k_rank = np.where(has_k, sk_rank[sk_enc.indices.to_numpy().astype(np.int64)], -1)
    g_order = pc.sort_indices(uniq).to_numpy()
    t_rank = np.empty(len(uniq), dtype=np.int64)
    t_rank[g_order] = len(sk_keep) + np.arange(len(uniq), dtype=np.int64)
    keys = pa.concat_arrays([
        pc.binary_join_element_wise("k:", sk_uniq.take(pa.array(sk_keep)), ""),
        pc.binary_join_element_wise("t:", uniq.take(pa.array(g_order)), "")])
    codes = enc.indices.to_numpy().astype(np.int64)
    rows = rows.astype(np.int64)
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
    return _lists(_offsets_of(out_rows, n), keys.take(pa.array(out_ranks)))


def _names_columns(name: pa.Array, aliases: pa.Array, conf: pa.Array,
                   sources: pa.Array) -> tuple[pa.Array, pa.Array]:
    """``names`` (JSON) and ``name_keys`` per row, as ``ingest.build.finish_names`` makes
    them, as whole columns: each entry's JSON object is assembled from ``json.dumps``
    pieces in ``sort_keys`` order (confidence, lang, name, script, source_ids)."""
    n = len(name)
    entries, rows = _entries(name, aliases)
    conf_enc = pc.dictionary_encode(conf)
    conf_json = pa.array([json.dumps(c) for c in conf_enc.dictionary.to_pylist()],
                         type=pa.string()).take(conf_enc.indices)
    src_len = pc.fill_null(pc.list_value_length(sources), 0).to_numpy().astype(np.int64)
    src_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(src_len, out=src_offsets[1:])
    src_items = _json_strings(pc.list_flatten(sources).cast(pa.string()))
    src_json = pc.binary_join_element_wise(
        "[", pc.binary_join(_lists(src_offsets, src_items), ", "), "]", "")
    script = pc.if_else(pc.match_substring_regex(entries, _ARABIC_RE), "Arab", "Latn")
    take = pa.array(rows)
    objects = pc.binary_join_element_wise(
        '{"confidence": ', conf_json.take(take), ', "lang": null, "name": ',
        _json_strings(entries), ', "script": "', script, '", "source_ids": ',
        src_json.take(take), "}", "")
    names = pc.binary_join_element_wise(
        "[", pc.binary_join(_lists(_offsets_of(rows, n), objects), ", "), "]", "")
    grams, gram_rows = _grams(entries, rows)
    return names, _name_keys_column(grams, gram_rows, n)


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

@dataclass
class _Converted:
    """A converted file (or part of one): ``tables`` maps None (a node file) or (from
    kind, to kind) (a relation file) to the Arrow table, or to the ``_Spooled`` file it
    was written to; ``cited`` is every source id its claims and names cite."""

    tables: dict[Any, Any]
    cited: set[str]


@dataclass
class _Spooled:
    """A converted table in a Parquet file of the spool directory, and what the parent
    checks of it (it travels back through the pipe, the rest stays on disk): the ids of a
    node table, the id hashes (``_id_hashes``) of a relation table."""

    path: str
    ids: Any


def _id_hashes(ids: pa.Array) -> np.ndarray:
    """A 64-bit hash of each id, to check that claim ids are unique across the files of a
    folder without holding 3 million strings (and a hash table of them) in the parent.

    Equal ids hash equal, so distinct hashes prove distinct ids. The hash mixes the id's
    8-byte words one after the other (multiply and xor-shift, each step a bijection),
    seeded with its length; two different ids collide with odds of about 2^-64 (about
    3e-7 for the 4.6e12 pairs of 3 million ids), and a collision only makes the fast path
    decline: the record path then checks the ids exactly."""
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    n = len(ids)
    if not n:
        return np.zeros(0, dtype=np.uint64)
    if ids.null_count:
        raise NotApplicable("an empty claim id")
    offsets = np.frombuffer(ids.buffers()[1], dtype=np.int32)[ids.offset:ids.offset + n + 1]
    offsets = offsets.astype(np.int64)
    lens = np.diff(offsets)
    data = ids.buffers()[2]
    raw = (np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]] if data is not None
           else np.zeros(0, dtype=np.uint8))
    width = max(8, int(-(-int(lens.max()) // 8) * 8))
    cells = np.zeros((n, width), dtype=np.uint8)
    cells[np.repeat(np.arange(n), lens),
          np.arange(len(raw)) - np.repeat(offsets[:-1] - offsets[0], lens)] = raw
    words = cells.view("<u8")
    count = (lens + 7) // 8  # each id's own words: the hash does not depend on its neighbours
    h = lens.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for j in range(words.shape[1]):
        step = h ^ words[:, j]
        step *= np.uint64(0xBF58476D1CE4E5B9)
        step ^= step >> np.uint64(31)
        h = np.where(count > j, step, h)
    return h


def _convert_file(path: Path, what: str, part: int = 0, parts: int = 1,
                  spool: str | None = None,
                  layout: list[tuple[str, str]] | None = None) -> tuple[str, Any]:
    """Worker: one file (or its ``part``-th of ``parts`` row ranges: a big node file is
    shared by the workers, names being the costly part) -> ('node', _Converted) or
    ('rel', _Converted) or ('skip', why).

    With ``spool`` (a directory) and ``layout`` (the target table's stored columns), each
    table is written there as a Parquet file in that layout and only its path travels
    back: the parent has the engine copy the file itself (no pickling, no copy through
    Python, bounded memory: ``graph.bulk.write_copy_file``), and what the workers finish
    ahead of the parent's copies waits on disk, not in the parent's memory."""
    try:
        table = read_csv_table(path, part, parts)
        tables: dict[Any, Any]
        if what in NODE_KINDS:
            tag, tables = "node", {None: convert_nodes(what, table)}
        else:
            tag, tables = "rel", dict(convert_rels(what, table))
        del table
        cited: set[str] = set()
        for t in tables.values():
            cited |= _cited(t)
        if spool is not None and layout is not None:
            from graph.bulk import arrange, write_copy_file

            for i, key in enumerate(list(tables)):
                out = Path(spool) / f"{what}.{part}.{i}.parquet"
                write_copy_file(arrange(tables[key], what, layout), out)
                ids = tables[key].column("id").combine_chunks()
                tables[key] = _Spooled(str(out), ids if tag == "node" else _id_hashes(ids))
        return tag, _Converted(tables, cited)
    except NotApplicable as exc:
        return "skip", f"{path.name}: {exc}"
    except (pa.ArrowException, ValueError, TypeError, KeyError, IndexError) as exc:
        # a case this path does not foresee: the record path (slow, but exact) takes it
        logging.getLogger("accgraph.ingest").warning(
            "native Arrow path: %s: unexpected %r; using the record path", path.name, exc)
        return "skip", f"{path.name}: unexpected {exc!r}"


def _table(ref: Any, columns: list[str] | None = None) -> pa.Table:
    """A converted table (or some of its columns): in memory, or read from its spool file."""
    if isinstance(ref, _Spooled):
        import pyarrow.parquet as pq

        return pq.read_table(ref.path, columns=columns)
    return ref if columns is None else ref.select(columns)


def _ref_ids(ref: Any) -> pa.Array:
    if isinstance(ref, _Spooled):
        return ref.ids
    return ref.column("id").combine_chunks()


def _unspool(ref: Any) -> None:
    if isinstance(ref, _Spooled):
        Path(ref.path).unlink(missing_ok=True)


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
    """Fold names.csv entries into the names of this table's nodes, as
    ``Bundle.apply_extra_names`` does; the entries applied are removed from ``extra`` (what
    is left at the end names an entity outside the folder: an update, the record path's
    job)."""
    mask = pc.is_in(table.column("id"), value_set=pa.array(list(extra), type=pa.string()))
    if not _any(mask):
        return table
    rows = table.filter(mask).select(
        ["id", "name", "aliases", "confidence", "source_ids"]).to_pylist()
    names, keys = [], []
    for row in rows:
        props = {k: v for k, v in row.items() if k != "id"}
        finish_names(props, extra.pop(row["id"]))
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
    """The converted files, in the order they finish: in worker processes (spawned, not
    forked: the parent holds an open database with engine threads) or, with one worker,
    here, in order.

    Order of the work: the node files but the biggest, then the relation files, then the
    biggest node file in parts (big node files are cut into byte ranges, a few per
    worker). The parent copies whatever is ready while the workers convert (all parts of a
    node file in one ``COPY``); a relation table waits for the node kinds at its ends, so
    the relations that do not touch the biggest kind (at benchmark scale: Person, whose
    names cost most of the conversion) are copied while it is being converted. Measured at
    scale 1, the order "biggest node file first" was as fast (within the noise)."""

    def __init__(self, files: list[tuple[Path, str]], workers: int, spool: Path | None,
                 layouts: dict[str, list[tuple[str, str]]] | None = None) -> None:
        nodes = sorted((f for f in files if f[1] in NODE_KINDS), key=lambda f: -f[0].stat().st_size)
        rels = sorted((f for f in files if f[1] not in NODE_KINDS),
                      key=lambda f: -f[0].stat().st_size)
        split = int(os.environ.get("ACCGRAPH_INGEST_SPLIT_BYTES", _SPLIT_BYTES))
        tasks: list[tuple[Path, str, int, int]] = []
        for path, what in nodes:
            size = path.stat().st_size
            parts = (workers * max(1, -(-size // (workers * _PART_BYTES))) if size > split
                     else 1)
            tasks.extend((path, what, i, parts) for i in range(parts))
        big = [t for t in tasks if t[3] > 1 and t[0] == nodes[0][0]] if nodes else []
        self.order = ([t for t in tasks if t not in big] + [(p, w, 0, 1) for p, w in rels]
                      + big)
        self.parts: dict[str, int] = {}
        for _path, what, _part, _parts in self.order:
            if what in NODE_KINDS:
                self.parts[what] = self.parts.get(what, 0) + 1
        self.pool: ProcessPoolExecutor | None = None
        self.spool: str | None = None
        self.layouts = layouts or {}
        if workers > 1 and len(self.order) > 1:
            try:
                self.pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
                self.spool = str(spool) if spool is not None and layouts else None
            except OSError:
                self.pool = None

    def __iter__(self) -> Any:
        if self.pool is None:
            for path, what, part, parts in self.order:
                yield what, _convert_file(path, what, part, parts)
            return
        futures = {self.pool.submit(_convert_file, *task, spool=self.spool,
                                    layout=self.layouts.get(task[1])): task[1]
                   for task in self.order}
        try:
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
        except BrokenProcessPool as exc:  # e.g. a __main__ that cannot be re-imported
            raise _PoolFailed from exc

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


_SPLIT_BYTES = 4 << 20  # node files bigger than this are converted by every worker, in parts
# ... of at most about this many bytes each (a multiple of the workers): a worker's memory
# is about ten times its part (the names of 140,000 persons: about 650 MB), and smaller
# parts cost no more CPU in all
_PART_BYTES = 24 << 20
# Folders at least this big (CSV bytes) are loaded into a new database file when the graph
# is empty (EmbeddedStore.first_load); smaller ones in one transaction, as before.
_FRESH_BYTES = 16 << 20


class _PoolFailed(Exception):
    pass


def ingest_native_fast(store: Any, folder: Path, report: Any, progress: Any,
                       timings: dict[str, float] | None = None) -> bool:
    """Load a native folder through the Arrow path into an ``EmbeddedStore``, filling the
    ``LoadReport``; False (nothing written, nothing reported) when the record path must
    take the folder. Stage times go to ``timings``.

    Reading and writing overlap: each converted table is copied as soon as it is ready
    (a relation table once the node kinds at its ends are in), so the engine works while
    the workers parse. Into an empty graph, a big folder is copied table by table into a
    new database file that replaces the empty one when everything is in
    (``EmbeddedStore.first_load``); otherwise everything is copied in one transaction.
    Whatever declines the folder on the way (a problem in a later file, an id already
    stored, a missing end or source) discards the new file or rolls the transaction back,
    and the record path starts from scratch: nothing of the fast attempt remains.
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
    workers, load_pool = _workers(files), None
    try:
        while True:
            try:
                return _load(store, files, names, prior_empty, report, progress, timings,
                             started, workers, load_pool)
            except _PoolFailed:  # undone; convert in this process instead
                workers = 1
            except StoreError as exc:
                # A first load's new database has a smaller pool than the store (it only
                # holds one table's COPY at a time): if a table did not fit, the new file
                # was discarded; load once more with the store's own pool.
                fresh = prior_empty and _fresh_wanted(files)
                if ("buffer pool" not in str(exc).lower() or not fresh or load_pool
                        or store.load_buffer_pool() >= store.buffer_pool):
                    raise
                logging.getLogger("accgraph.ingest").warning(
                    "a table did not fit in the new database's buffer pool (%d MiB); loading "
                    "again with %d MiB", store.load_buffer_pool() >> 20,
                    store.buffer_pool >> 20)
                load_pool = store.buffer_pool
    except (NotApplicable, StoreError) as exc:
        if "not enough free space" in str(exc):
            raise  # the record path would be refused the same way (graph/space.py)
        if "buffer pool" in str(exc).lower():
            # the record path would run out of memory the same way: say it now
            raise StoreError(f"{exc} (nothing was written; a bigger ACCGRAPH_BUFFER_POOL, "
                             "or ACCGRAPH_LOAD_BUFFER_POOL for a first load, in bytes, "
                             "lets this load fit)") from exc
        logging.getLogger("accgraph.ingest").info("native Arrow path declined: %s", exc)
        report.counts.clear()
        return False


def _room_needed(files: list[tuple[Path, str]]) -> int:
    """Disk a first load may use beside the database at its peak: the new database file
    (about 2.2x the CSV bytes at benchmark scale 1) plus spooled tables not yet copied
    (up to 2.5x); 5x leaves a margin."""
    return 5 * sum(p.stat().st_size for p, _ in files)


def _fresh_wanted(files: list[tuple[Path, str]]) -> bool:
    floor = int(os.environ.get("ACCGRAPH_FRESH_LOAD_BYTES", _FRESH_BYTES))
    return sum(p.stat().st_size for p, _ in files) >= floor


@contextmanager
def _spool_dir(store: Any, workers: int) -> Iterator[Path | None]:
    """Where the workers leave their tables: a scratch directory beside the database, or
    None (tables come back through the pipe) when there are no workers or no room."""
    if workers <= 1:
        yield None
        return
    try:
        cm = store.scratch_dir()
        where = cm.__enter__()
    except OSError:
        yield None
        return
    try:
        yield where
    finally:
        cm.__exit__(None, None, None)


def _load(store: Any, files: list[tuple[Path, str]], names: _Names, prior_empty: bool,
          report: Any, progress: Any, timings: dict[str, float], started: float,
          workers: int, load_pool: int | None = None) -> bool:
    from graph.bulk import (
        copy_file,
        copy_tables_autocommit,
        copy_tables_in_transaction,
        is_empty,
        stored_layout,
    )

    node_ids: dict[str, list[pa.Array]] = {}
    rel_ids: list[np.ndarray] = []  # id hashes of the claims copied
    cited: set[str] = set(names.cited)
    records = names.rows
    matched: list[Any] = []
    added: dict[str, int] = {}
    extra = {kind: dict(by_id) for kind, by_id in names.by_kind.items()}
    wait = copy = 0.0
    fresh = False
    with ExitStack() as stack:
        target = None
        if prior_empty and _fresh_wanted(files):
            target = stack.enter_context(store.first_load(load_pool, _room_needed(files)))
            if target is None:  # written meanwhile: an ordinary load into what is there
                prior_empty = is_empty(store)
        if target is None:
            fresh, copy_tables = False, copy_tables_in_transaction
        else:
            fresh, copy_tables = True, copy_tables_autocommit
        spool = stack.enter_context(_spool_dir(store, workers))
        layouts = ({w: stored_layout(target or store, w) for w in {w for _, w in files}}
                   if spool is not None else None)
        results = _Results(files, workers, spool, layouts)
        stack.callback(results.close)
        if target is None:
            stack.enter_context(store.transaction())
            target = store
        pending = dict(results.parts)  # node kind -> parts not yet converted
        parts: dict[str, list[Any]] = {}  # node kind -> its parts converted so far
        waiting: list[tuple[str, str, str, Any]] = []  # relation tables waiting for their ends

        def copy_rel(what: str, fk: str, tk: str, ref: Any) -> None:
            nonlocal records
            hashes = ref.ids if isinstance(ref, _Spooled) else _id_hashes(_ref_ids(ref))
            rel_ids.append(hashes)
            if not prior_empty:
                _check_ends_outside(_table(ref, ["from", "to"]), _ids(node_ids, fk),
                                    _ids(node_ids, tk))
            added[what] = added.get(what, 0) + len(hashes)
            records += len(hashes)
            if isinstance(ref, _Spooled):
                copy_file(target, what, ref.path, (fk, tk))
            else:
                copy_tables(target, {}, {(what, fk, tk): ref})
            _unspool(ref)

        def copy_node(what: str, refs: list[Any]) -> None:
            """All the parts of one node file, checked, in one ``COPY``."""
            nonlocal records
            spooled = [r for r in refs if isinstance(r, _Spooled)]
            if extra.get(what) or len(spooled) != len(refs):
                # in memory: several parts, or names.csv entries the files lack
                table = pa.concat_tables([_table(r) for r in refs]) if len(refs) > 1 else (
                    _table(refs[0]))
                if extra.get(what):
                    table = _apply_names(table, extra[what])
                refs = [table]
            ids = (pa.concat_arrays([_ref_ids(r) for r in refs]) if len(refs) > 1
                   else _ref_ids(refs[0]))
            if results.parts.get(what, 1) > 1 and pc.count_distinct(ids).as_py() != len(ids):
                raise NotApplicable(f"duplicate {what} ids")
            if not prior_empty and _any_stored(store, what, ids):
                raise NotApplicable(f"some {what} ids are stored already")
            if what == "Source" or not prior_empty:
                node_ids[what] = [ids if spooled else _owned(ids)]
            if not prior_empty and what in ("Person", "Organization"):
                for r in refs:
                    matched.extend(_node_records(what, _table(r)))
            added[what] = added.get(what, 0) + len(ids)
            records += len(ids)
            del ids
            if all(isinstance(r, _Spooled) for r in refs):
                copy_file(target, what, [r.path for r in refs])
            else:
                for r in refs:
                    copy_tables(target, {what: r}, {})
            for r in spooled:
                _unspool(r)

        with progress.task("reading and writing (arrow)", total=len(results.order)) as tick:
            t = time.perf_counter()
            try:
                for what, (tag, value) in results:
                    wait += time.perf_counter() - t
                    t = time.perf_counter()
                    if tag == "skip":
                        raise NotApplicable(value)
                    cited |= value.cited
                    if tag == "node":
                        parts.setdefault(what, []).append(value.tables[None])
                        pending[what] -= 1
                        if not pending[what]:
                            copy_node(what, parts.pop(what))
                            still = []
                            for w, fk, tk, ref in waiting:
                                if pending.get(fk) or pending.get(tk):
                                    still.append((w, fk, tk, ref))
                                else:
                                    copy_rel(w, fk, tk, ref)
                            waiting = still
                    else:
                        for (fk, tk), ref in value.tables.items():
                            if pending.get(fk) or pending.get(tk):
                                waiting.append((what, fk, tk, ref))
                            else:
                                copy_rel(what, fk, tk, ref)
                    del value
                    copy += time.perf_counter() - t
                    tick(1)
                    t = time.perf_counter()
            except BaseException:
                for _w, _fk, _tk, ref in waiting:
                    _unspool(ref)
                for refs in parts.values():
                    for ref in refs:
                        _unspool(ref)
                raise
        if waiting or any(extra.values()):  # (neither can happen with a complete folder)
            raise NotApplicable("a name or a claim for an entity outside the folder")
        t = time.perf_counter()
        _check_folder(store, rel_ids, cited, _ids(node_ids, "Source") if "Source" in node_ids
                      else None)
        timings["final_checks_s"] = time.perf_counter() - t
        timings["read_write_s"] = time.perf_counter() - started
        t = time.perf_counter()
    timings["commit_s"] = time.perf_counter() - t
    timings["waiting_for_workers_s"] = wait
    timings["copy_s"] = copy
    timings["write_commit_s"] = time.perf_counter() - started
    report.records = records
    for name, n in added.items():
        report.bump(name, "added", n)
    report.written = True
    report.notes.append("loaded by the Arrow path (every record new)")
    if fresh:
        report.notes.append("the graph was empty: loaded into a new database file, then "
                            "swapped in for the empty one")
    _match(store, matched, prior_empty, report, progress, timings)
    return True


def _owned(col: Any) -> pa.Array:
    """A copy of a column in this process's memory (not a view of a spool file's map)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return pa.concat_arrays([arr, pa.array([], type=arr.type)])


def _ids(node_ids: dict[str, list[pa.Array]], kind: str) -> pa.Array | None:
    parts = node_ids.get(kind)
    if not parts:
        return None
    if len(parts) > 1:
        node_ids[kind] = parts = [pa.concat_arrays(parts)]
    return parts[0]


def _check_ends_outside(table: pa.Table, from_ids: pa.Array | None,
                        to_ids: pa.Array | None) -> None:
    """A claim with both ends outside the folder may be stored already (the record path
    diffs it); one with an end in the folder is new, as the record path counts it."""
    empty = pa.array([], type=pa.string())
    out_from = pc.invert(pc.is_in(table.column("from"), value_set=from_ids or empty))
    out_to = pc.invert(pc.is_in(table.column("to"), value_set=to_ids or empty))
    if _any(pc.and_(out_from, out_to)):
        raise NotApplicable("claims between stored nodes (may be stored already)")


def _check_folder(store: Any, rel_ids: list[np.ndarray], cited: set[str],
                  sources: pa.Array | None) -> None:
    """Checks across files, before the commit: claim ids unique (``rel_ids``: their
    hashes, ``_id_hashes``), cited sources exist (in the folder or the graph). Relation
    ends were checked by the engine: ``COPY`` fails on an end that exists nowhere."""
    if rel_ids:
        every = np.concatenate(rel_ids)
        every.sort()
        if len(every) > 1 and bool((every[1:] == every[:-1]).any()):
            raise NotApplicable("duplicate claim ids (or ids whose hashes collide)")
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
