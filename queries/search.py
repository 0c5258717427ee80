"""Name search across scripts and transliterations, on the project's own name keys.

The embedded engine has no offline full-text index, and scanning every node's
``name_keys`` list is a full scan, so the stored keys are loaded once into an in-process
inverted index (key -> node ids), rebuilt when ``store.generation`` changes. Candidates are
the nodes sharing a key with the query (``graph.names``: normalised tokens and consonant
skeletons, which bridge Persian script and Latin spellings); the scorer below ranks them
with rapidfuzz on two forms of each name: the normalised text (same script) and the
skeleton (across scripts and transliteration schemes).

``score_name`` is the scorer, one name at a time; ``score_names`` gives the same numbers
for a whole candidate list with one rapidfuzz ``cdist`` call per form (the per-query cost
was Python looping over ~100 candidates x names x query units). At a million nodes that
made a search about four times faster, and reading the ``names`` JSON down to the names
at build (``other_names``) took the index from about 450 MB to 190 MB.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import operator
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from normality import ascii_text
from rapidfuzz import fuzz, process

from graph.model import NODE_KINDS
from graph.names import _APOSTROPHES, _PERSIAN_FOLD, has_persian, query_keys, skeleton
from graph.store import Store
from queries.chunked import (
    Arrays,
    build_reader,
    copied,
    read_pieces,
    shared,
    table_pool,
)
from queries.cypher import keys_query

MIN_SCORE = 60.0
MAX_CANDIDATES = 100  # candidates scored per query (those sharing the rarest keys first)
COMMON_KEY = 2_000  # a key on more nodes than this is "common" (see NameIndex.candidates)
SKELETON_WEIGHT = 0.92  # a skeleton match is good evidence, but weaker than the letters


class Named(NamedTuple):  # a tuple: a hundred are made per query
    id: str
    kind: str
    name: str
    subtype: str | None
    date: str | None
    restricted: bool
    names: tuple[str, ...]


class _Forms(NamedTuple):  # a query's (or, in score_name, a name's) normalised forms
    norm: str  # normalised text
    skel: str  # consonant skeletons of the tokens, space-separated
    units: tuple[str, ...]  # tokens, adjacent pairs joined, and all tokens joined
    skel_units: tuple[str, ...]
    toks: tuple[str, ...]
    skel_toks: tuple[str, ...]


class _FoldTable(dict[int, int | str | None]):
    """``graph.names.normalise``'s per-character work as one ``str.translate`` table:
    Persian folding, apostrophes dropped and combining marks (category M) dropped. A code
    point's entry is made the first time it is seen, so there is no table of all Unicode."""

    def __missing__(self, cp: int) -> int | None:
        value = None if unicodedata.category(chr(cp)).startswith("M") else cp
        self[cp] = value
        return value


_FOLD = _FoldTable(_PERSIAN_FOLD)
_FOLD.update({ord(ch): None for ch in _APOSTROPHES})  # no apostrophe is a mark or folded
_WORD = re.compile(r"\w+")  # what graph.names splitting on [^\w]+ leaves
_NON_ARABIC_WORD = re.compile(r"[^\W\u0600-\u06ff]")  # a word character has_persian misses
_NOT_ARABIC = re.compile(r"[^\u0600-\u06ff ]")  # in a normalised text: not Persian script
_ASCII_APOSTROPHES = str.maketrans("", "", "".join(c for c in _APOSTROPHES if c.isascii()))


def name_tokens(text: str) -> list[str]:
    """``graph.names.tokens`` (the same tokens, tested on every name of a scale-1 graph),
    about three times faster: the scorer tokenises every candidate name per query.
    Folding, apostrophes and marks go in one ``translate``; ASCII text skips all but the
    apostrophes and lowercasing, which is all ``normalise`` does to it."""
    if text.isascii():
        return _WORD.findall(text.translate(_ASCII_APOSTROPHES).lower())
    folded = unicodedata.normalize("NFC", text).translate(_FOLD)
    if not _NON_ARABIC_WORD.search(folded):  # Persian script only: tokens stay as they are
        return _WORD.findall(folded)
    out: list[str] = []
    for token in _WORD.findall(folded):
        if not has_persian(token):
            token = (ascii_text(token) or token).lower()
        token = token.replace(" ", "")
        if token:
            out.append(token)
    return " ".join(out).split()


def _add_units(out: list[str], toks: list[str]) -> int:
    """Append ``_units(toks)`` to ``out`` (repeats kept: only the best match counts) and
    say how many."""
    out += toks
    n = len(toks)
    if n < 2:
        return n
    out += map(operator.add, toks, toks[1:])
    if n < 3:
        return 2 * n - 1
    out.append("".join(toks))
    return 2 * n


def _units(toks: list[str]) -> tuple[str, ...]:
    """A name's units: its tokens, adjacent pairs joined, and all joined (for three or
    more). Tokens are never empty; repeats are harmless (only the best match is used)."""
    if len(toks) < 2:
        return tuple(toks)
    out = toks + [a + b for a, b in itertools.pairwise(toks)]
    if len(toks) > 2:
        out.append("".join(toks))
    return tuple(out)


@lru_cache(maxsize=1024)  # a query's forms (paging, resolve ask again)
def _forms(text: str) -> _Forms:
    toks = name_tokens(text)
    skels = [s for s in map(skeleton, toks) if s]
    return _Forms(" ".join(toks), " ".join(skels), _units(toks), _units(skels), tuple(toks),
                  tuple(skels))


@lru_cache(maxsize=4096)
def _variants(toks: tuple[str, ...]) -> list[list[str]]:
    """The query's tokens as typed, with each adjacent pair joined, and all joined:
    "Gholam Hossein" must meet "Gholamhossein" (and the reverse is in the name units)."""
    out = [list(toks)]
    if 1 < len(toks) <= 6:
        for i in range(len(toks) - 1):
            out.append(list(toks[:i]) + [toks[i] + toks[i + 1]] + list(toks[i + 2:]))
        out.append(["".join(toks)])
    return out


def _best_ratio(u: str, units: tuple[str, ...]) -> float:
    hit = process.extractOne(u, units, scorer=fuzz.ratio)  # the loop runs in C
    return float(hit[1]) if hit else 0.0


def _unit_score(q_toks: tuple[str, ...], n_units: tuple[str, ...]) -> float:
    if not q_toks or not n_units:
        return 0.0
    best = 0.0
    for i, variant in enumerate(_variants(q_toks)):
        total = 0.0
        for u in variant:
            s = _best_ratio(u, n_units)
            if i and u not in q_toks and s < 95:
                s = 0.0  # a joined pair only counts when it is (nearly) a name unit
            total += s
        best = max(best, total / len(variant))
    return best


def score_name(query: str, name: str) -> float:
    """How well ``name`` matches ``query`` (0..100).

    The best of: token-set similarity of the normalised texts (so a query whose tokens are
    all in the name, "Mohseni" for "Gholamhossein Mohseni-Ejei", scores 100); the mean,
    over the query's tokens, of each token's best match among the name's tokens and joined
    token pairs (so "Gholam-Hossein" meets "Gholamhossein" and "Ejehi" meets "Ejei"); and
    that mean again on consonant skeletons, slightly discounted, which is what matches
    Persian script against Latin spellings.
    """
    q, n = _forms(query), _forms(name)
    if not q.norm or not n.norm:
        return 0.0
    text = max(float(fuzz.token_set_ratio(q.norm, n.norm)), _unit_score(q.toks, n.units))
    skel = 0.0
    if q.skel and n.skel:
        skel = _unit_score(q.skel_toks, n.skel_units)
    return round(max(text, SKELETON_WEIGHT * skel), 1)


def _unit_scores(q_toks: tuple[str, ...], flat: list[str], lens: list[int]) -> np.ndarray:
    """``_unit_score(q_toks, units)`` for every name, its units given as ``lens[i]``
    consecutive strings of ``flat``: one ``cdist`` of the query's units against all the
    names' units, the best per name by ``reduceat``; then the same sums, in the same
    order, as ``_unit_score`` (so the floats are identical)."""
    out = np.zeros(len(lens))
    sizes = np.asarray(lens, dtype=np.int64)
    filled = np.flatnonzero(sizes)
    if not q_toks or not len(filled):
        return out
    variants = _variants(q_toks)
    wanted = list(dict.fromkeys(u for v in variants for u in v))
    ratios = process.cdist(wanted, flat, scorer=fuzz.ratio, dtype=np.float64, workers=1)
    starts = (np.cumsum(sizes) - sizes)[filled]
    best = np.maximum.reduceat(ratios, starts, axis=1)  # [query unit, name with units]
    row = dict(zip(wanted, best))
    score = np.zeros(len(filled))
    for i, variant in enumerate(variants):
        total = np.zeros(len(filled))
        for u in variant:
            s = row[u]
            if i and u not in q_toks:
                s = np.where(s < 95, 0.0, s)  # a joined pair counts only as a name unit
            total = total + s
        score = np.maximum(score, total / len(variant))
    out[filled] = score
    return out


def score_names(query: str, names: Sequence[str]) -> list[float]:
    """``[score_name(query, n) for n in names]``, in three C++ calls instead of a Python
    loop per name and query unit (what ranking a hundred candidates costs).

    The names' forms go straight into flat lists, not cached: a cache of per-name objects
    kept alive made the garbage collector's full passes, not the scoring, the cost. The
    tokens of a name in the other script than the query's (Latin against Persian) have no
    character in common with the query's, so their ratios are exactly 0 and are not
    computed (the token-set ratio still is: it compares whole texts, spaces included)."""
    if not names:
        return []
    q = _forms(query)
    if not q.norm:
        return [0.0] * len(names)
    q_latin = q.norm.isascii()
    q_persian = not _NOT_ARABIC.search(q.norm)
    norms: list[str] = []
    same: list[int] = []  # the names that can share a letter with the query
    units: list[str] = []  # those names' _units(), back to back
    unit_lens: list[int] = []
    skel_units: list[str] = []
    skel_lens: list[int] = []
    for i, name in enumerate(names):  # _units inlined, C-level map/filter: runs per name
        if name.isascii():
            toks = _WORD.findall(name.translate(_ASCII_APOSTROPHES).lower())
            norm = " ".join(toks)
            comparable = not q_persian
        else:
            toks = name_tokens(name)
            norm = " ".join(toks)
            comparable = not q_latin or bool(_NOT_ARABIC.search(norm))
        norms.append(norm)
        if comparable:
            same.append(i)
            unit_lens.append(_add_units(units, toks))
        if q.skel:
            skel_lens.append(_add_units(skel_units, list(filter(None, map(skeleton, toks)))))
    text = process.cdist([q.norm], norms, scorer=fuzz.token_set_ratio, dtype=np.float64,
                         workers=1)[0]
    if same:
        text[same] = np.maximum(text[same], _unit_scores(q.toks, units, unit_lens))
    if q.skel:  # a name without skeleton units scores 0 there, as in score_name
        text = np.maximum(text, SKELETON_WEIGHT * _unit_scores(q.skel_toks, skel_units,
                                                               skel_lens))
    return [round(s, 1) if n else 0.0 for s, n in zip(text.tolist(), norms)]


def _pick(names: Sequence[str], scores: Sequence[float]) -> tuple[float, str]:
    """The best-scoring name; equal scores go to the name that sorts first."""
    best = (0.0, names[0] if names else "")
    for n, s in zip(names, scores):
        if s > best[0] or (s == best[0] and n < best[1] and s > 0):
            best = (s, n)
    return best


def best_name(query: str, names: tuple[str, ...]) -> tuple[float, str]:
    return _pick(names, score_names(query, names))


def rank(query: str, candidates: list[Named], limit: int) -> list[tuple[Named, float, str]]:
    """Score and order candidates: score, then name, then id (stable for tests)."""
    scores = score_names(query, [n for c in candidates for n in c.names])
    scored: list[tuple[Named, float, str]] = []
    at = 0
    for c in candidates:
        s, matched = _pick(c.names, scores[at:at + len(c.names)])
        at += len(c.names)
        if s >= MIN_SCORE:
            scored.append((c, s, matched))
    scored.sort(key=lambda t: (-t[1], t[0].name.lower(), t[0].id))
    return scored[:limit]


def parse_names(name: str | None, names_json: str | None) -> tuple[str, ...]:
    out: list[str] = [name] if name else []
    if names_json:
        try:
            for e in json.loads(names_json):
                n = e.get("name") if isinstance(e, dict) else None
                if n and n not in out:
                    out.append(n)
        except (ValueError, TypeError):
            pass
    return tuple(out)


def _with_others(name: str | None, others: list[str]) -> tuple[str, ...]:
    """``parse_names`` from the display name and the other names pulled out at build."""
    out: list[str] = [name] if name else []
    for n in others:
        if n not in out:
            out.append(n)
    return tuple(out)


# what follows a "name" key in a row of ``names`` as json.dumps writes it: a plain string
# (no escape, no control character) or null, then the end of the pair
_NAME_VALUE = r'^\s*:\s*(?:"(?P<v>[^"\\\x00-\x1f]*)"|null)\s*[,}]'


def other_names(name: pa.Array, names_json: pa.Array, step: int = 1 << 16
                ) -> pa.Array | None:
    """Each row's names other than ``name`` (list<string>), read out of the ``names`` JSON
    column by Arrow string kernels at build time: the JSON (with confidence, script and
    sources) was most of the index's memory, and parsing it per candidate a tenth of a
    query. Equal to ``parse_names`` on rows as the project writes them (json.dumps of a
    list of flat objects); None when any row is not plainly of that form (a name with an
    escape, a "name" not followed by a string or null, not a list...), and the caller
    keeps the JSON and parses it per candidate, as before. Done ``step`` rows at a time,
    so the split JSON (as big as the column) never exists whole."""
    pieces: list[pa.Array] = []
    for lo in range(0, len(names_json), step):
        piece = _other_names(name.slice(lo, step), names_json.slice(lo, step))
        if piece is None:
            return None
        pieces.append(piece)
    return pa.concat_arrays(pieces) if len(pieces) != 1 else pieces[0]


def _other_names(name: pa.Array, names_json: pa.Array) -> pa.Array | None:
    n = len(names_json)
    js = pc.fill_null(names_json, "[]")
    js = pc.if_else(pc.equal(js, ""), "[]", js)  # no JSON: parse_names reads no names
    if n and not (pc.all(pc.starts_with(js, "[")).as_py()
                  and pc.all(pc.ends_with(js, "]")).as_py()):
        return None
    parts = pc.split_pattern(js, '"name"')  # part 0 comes before the first "name" key
    offs = np.asarray(parts.offsets.to_numpy(), dtype=np.int64)
    offs -= offs[0]
    flat = pc.list_flatten(parts)
    first = np.zeros(len(flat), dtype=bool)
    first[offs[:-1]] = True
    last = np.zeros(len(flat), dtype=bool)
    last[offs[1:] - 1] = True
    # a part ending in a backslash before a "name": that "name" was inside a string
    if len(flat) and pc.any(pc.and_(pc.ends_with(flat, "\\"), pa.array(~last))).as_py():
        return None
    found = pc.extract_regex(flat.filter(pa.array(~first)), _NAME_VALUE)
    if found.null_count:
        return None
    values = pc.struct_field(found, "v")
    parent = np.repeat(np.arange(n, dtype=np.int64), np.diff(offs) - 1)
    differs = pc.fill_null(pc.not_equal(values, name.take(pa.array(parent))), True)
    keep = pc.and_(differs, pc.greater(pc.binary_length(values), 0))
    kept = np.asarray(keep.to_numpy(zero_copy_only=False), dtype=bool)
    out_offs = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(parent[kept], minlength=n), out=out_offs[1:])
    return pa.ListArray.from_arrays(pa.array(out_offs), values.filter(keep))


class _Sorted:
    """Binary search over a sorted Arrow string array's own buffers, optionally through a
    permutation (``order[i]`` is the row of the i-th smallest): no Python string per entry,
    and no ``Scalar`` per probe. Every ``STRIDE``-th entry is kept as bytes, so ``bisect``
    (in C) narrows the range before the probes. Arrow sorts strings by their UTF-8 bytes,
    which is code point order, so comparing encoded bytes agrees with the sort."""

    STRIDE = 64

    def __init__(self, arr: pa.Array, order: np.ndarray | None = None) -> None:
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = arr.cast(pa.string())
        self._arr = arr  # keeps the buffers alive
        self._order = order
        self._n = len(arr)
        bufs = arr.buffers()
        width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
        self._offs = (np.frombuffer(bufs[1], dtype=width)[arr.offset:arr.offset + self._n + 1]
                      if self._n else np.zeros(1, dtype=width))
        self._data = memoryview(bufs[2]) if self._n and bufs[2] is not None else memoryview(b"")
        self._sample = [self.at(i) for i in range(0, self._n, self.STRIDE)]

    @property
    def array(self) -> pa.Array:
        """The values searched (unsorted when an order is given)."""
        return self._arr

    def at(self, i: int) -> bytes:
        """The i-th smallest value, as UTF-8 bytes."""
        if self._order is not None:
            i = int(self._order[i])
        return self._data[int(self._offs[i]):int(self._offs[i + 1])].tobytes()

    def _first_ge(self, key: bytes, lo: int, hi: int) -> int:
        while lo < hi:
            mid = (lo + hi) // 2
            if self.at(mid) < key:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def lower_bound(self, value: str) -> int:
        """The sorted position of the first entry >= ``value``."""
        return self._first_ge(value.encode("utf-8", "surrogatepass"), 0, self._n)

    def find(self, value: str) -> int | None:
        """The sorted position of ``value``, or None."""
        key = value.encode("utf-8", "surrogatepass")
        block = bisect.bisect_right(self._sample, key) - 1  # sample[block] <= key
        if block < 0:
            return None
        lo = self._first_ge(key, block * self.STRIDE, min((block + 1) * self.STRIDE, self._n))
        return lo if lo < self._n and self.at(lo) == key else None


class _Nodes:
    """``id -> Named`` over the index's columns: a Named is made when asked for, so the
    index holds no Python object per node."""

    def __init__(self, index: NameIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return self._index.size

    def __getitem__(self, nid: str) -> Named:
        node = self._index.lookup(nid)
        if node is None:
            raise KeyError(nid)
        return node

    def __contains__(self, nid: object) -> bool:
        return isinstance(nid, str) and self._index.position(nid) is not None


_EMPTY_STRINGS = pa.array([], pa.string())


@dataclass
class _Chunk:
    """One kind's rows, as the engine returned them (the rows ``start`` onwards)."""
    kind: str
    start: int
    id: pa.Array
    name: pa.Array
    subtype: pa.Array
    date: pa.Array
    names: pa.Array  # list<string> of the other names, or the ``names`` JSON (see other_names)


@dataclass
class _State:
    """One build of the index. Queries take the current one once and read only it, and a
    rebuild swaps in a new one whole, so a search running during a rebuild never sees
    half of each."""
    size: int
    chunks: list[_Chunk]
    starts: np.ndarray  # each chunk's first row
    kinds: list[str]  # chunk -> kind
    kind: np.ndarray  # row -> chunk (int16: a kind may come in several pieces)
    restricted: np.ndarray  # row -> bool
    ids: _Sorted  # through id_order
    id_order: np.ndarray  # the rows in id order
    rank: np.ndarray  # row -> its place in id order (ties between equal scores go by id)
    keys: _Sorted  # the distinct keys
    ptr: np.ndarray  # the rows of keys[i] are post[ptr[i]:ptr[i + 1]]
    post: np.ndarray

    @staticmethod
    def empty() -> _State:
        none = np.empty(0, dtype=np.int32)
        return _State(0, [], np.zeros(1, dtype=np.int64), [], np.empty(0, dtype=np.int16),
                      np.empty(0, dtype=bool), _Sorted(_EMPTY_STRINGS), none, none,
                      _Sorted(_EMPTY_STRINGS), np.zeros(1, dtype=np.int32), none)

    def to_arrays(self) -> tuple[Arrays, dict[str, Any]]:
        """The build as named arrays and small values, for the shared cache files
        (``queries.chunked.shared``); ``from_arrays`` makes it back."""
        arrays: Arrays = {"starts": self.starts, "kind": self.kind,
                          "restricted": self.restricted, "id_order": self.id_order,
                          "rank": self.rank, "ptr": self.ptr, "post": self.post,
                          "ids": self.ids.array, "keys": self.keys.array}
        for i, c in enumerate(self.chunks):
            for col in ("name", "subtype", "date", "names"):
                arrays[f"{i}.{col}"] = getattr(c, col)
        meta = {"size": self.size, "kinds": self.kinds,
                "chunks": [[c.kind, c.start, len(c.id)] for c in self.chunks]}
        return arrays, meta

    @staticmethod
    def from_arrays(arrays: Arrays, meta: dict[str, Any]) -> _State:
        """The build ``to_arrays`` wrote (memory-mapped arrays: nothing is copied)."""
        ids = arrays["ids"]
        chunks = [_Chunk(kind, start, ids.slice(start, n), arrays[f"{i}.name"],
                         arrays[f"{i}.subtype"], arrays[f"{i}.date"], arrays[f"{i}.names"])
                  for i, (kind, start, n) in enumerate(meta["chunks"])]
        return _State(int(meta["size"]), chunks, arrays["starts"], list(meta["kinds"]),
                      arrays["kind"], arrays["restricted"], _Sorted(ids, arrays["id_order"]),
                      arrays["id_order"], arrays["rank"], _Sorted(arrays["keys"]),
                      arrays["ptr"], arrays["post"])

    def posting(self, key: str) -> np.ndarray:
        code = self.keys.find(key)
        if code is None:
            return self.post[:0]
        return self.post[int(self.ptr[code]):int(self.ptr[code + 1])]

    def named_rows(self, rows: np.ndarray) -> list[Named]:
        """``Named`` for these rows, in this order: per chunk, one ``take`` and one
        ``to_pylist`` per column (an Arrow scalar per cell costs a microsecond or more)."""
        which = np.searchsorted(self.starts, rows, side="right") - 1
        out: list[Named | None] = [None] * len(rows)
        for ci in np.unique(which).tolist():
            c = self.chunks[ci]
            at = np.flatnonzero(which == ci)
            sel = pa.array(rows[at] - c.start, pa.int64())
            ids, names, subtypes, dates = (
                a.take(sel).to_pylist() if a.null_count < len(a) else [None] * len(at)
                for a in (c.id, c.name, c.subtype, c.date))
            plain = pa.types.is_list(c.names.type)
            others = c.names.take(sel).to_pylist()
            restricted = self.restricted[rows[at]].tolist()
            for j, nid, name, sub, date, r, o in zip(at.tolist(), ids, names, subtypes, dates,
                                                     restricted, others):
                all_names = _with_others(name, o) if plain else parse_names(name, o)
                out[j] = Named(nid, c.kind, name or nid, sub, date, r, all_names)
        return [n for n in out if n is not None]


class NameIndex:
    """Inverted index of the stored name keys, rebuilt when the store's generation moves.

    Columnar, because at a million nodes a dict of key -> id lists plus a ``Named`` per
    node took 32 s and 2.2 GB to build per process: the columns kept are copies of the
    engine's (one chunk per piece of a kind, never concatenated: ``queries.chunked``; a
    view would keep the whole read alive), the names pulled out of their JSON, the
    distinct keys are one sorted Arrow array (binary search on its buffers), and a key's
    postings are a slice of one int32 array; ties between equal scores go by id through
    each node's rank in id order. A read-only store's index is read through a build
    reader per kind whose pool is closed afterwards (190 MB of arrays at scale 1; it
    took about 330 MB of process memory before the build's garbage was given back), and
    memory-mapped from files that the processes serving that database share
    (``queries.chunked.shared``): one copy for all of them.
    """

    WARM_TOKENS = 40_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._store_id: int | None = None
        self._state = _State.empty()
        self.nodes = _Nodes(self)

    @property
    def size(self) -> int:
        return self._state.size

    def ensure(self, store: Store) -> None:
        gen = store.generation
        if self._generation == gen and self._store_id == id(store):
            return
        with self._lock:
            if self._generation == gen and self._store_id == id(store):
                return
            self._state = self._build(store)
            self._generation, self._store_id = gen, id(store)
            self._warm_skeletons(self._state)

    @classmethod
    def _build(cls, store: Store) -> _State:
        """The index of ``store``: shared by the processes that serve one read-only
        database (built by one of them, memory-mapped by all: ``queries.chunked.shared``),
        else built here."""
        # mapped as searches touch it: search has room under its target, and the index's
        # pages are a tenth of a server's memory at scale 1
        state: _State = shared(store, "names", lambda: cls._read(store), _State.to_arrays,
                               _State.from_arrays, touch=False)
        return state

    @classmethod
    def _read(cls, store: Store) -> _State:
        chunks: list[_Chunk] = []
        codes: list[np.ndarray] = []
        restricted: list[np.ndarray] = []
        key_chunks: list[pa.Array] = []
        parents: list[np.ndarray] = []
        base = 0
        for kind, nk in NODE_KINDS.items():
            if not nk.searchable:
                continue
            # a reader per kind (a pool of its own, closed when read): what one kind's
            # reads leave in a pool is not there for the next kind's
            with build_reader(store, table_pool()) as source:
                # a kind in pieces (queries.chunked): each piece's kept columns are copied
                # out and its engine result let go before the next piece is read
                for t in read_pieces(source, keys_query(kind)):
                    n = t.num_rows
                    if not n:
                        continue
                    key_chunks.append(cls._add_piece(kind, base, t, chunks, restricted,
                                                     parents))
                    codes.append(np.full(n, len(chunks) - 1, dtype=np.int16))
                    base += n
                    del t
                    pa.default_memory_pool().release_unused()
        if not base:  # an empty graph: nothing to find
            return _State.empty()
        ids = pa.concat_arrays([c.id for c in chunks])  # one buffer, searched by bytes
        id_order = np.asarray(pc.sort_indices(ids).to_numpy(), dtype=np.int32)
        rank = np.empty(base, dtype=np.int32)
        rank[id_order] = np.arange(base, dtype=np.int32)
        for c in chunks:  # the chunks' ids become views of the one buffer
            c.id = ids.slice(c.start, len(c.id))
        post, ptr, sorted_keys = cls._postings(key_chunks, parents)  # empties both lists
        state = _State(base, chunks, np.array([c.start for c in chunks], dtype=np.int64),
                       [c.kind for c in chunks], np.concatenate(codes),
                       np.concatenate(restricted), _Sorted(ids, id_order), id_order, rank,
                       _Sorted(sorted_keys), ptr, post)
        pa.default_memory_pool().release_unused()  # the build's temporaries, back to the OS
        return state

    @staticmethod
    def _add_piece(kind: str, base: int, t: pa.Table, chunks: list[_Chunk],
                   restricted: list[np.ndarray], parents: list[np.ndarray]) -> pa.Array:
        """Append one piece of a kind (rows ``base`` onwards) to the build: its chunk, with
        the columns kept copied out of the engine's result (a kept view would keep the
        whole result alive: the names JSON and the keys were most of it), its restricted
        flags and the rows of its keys; returns its keys, dictionary-encoded (a copy)."""
        n = t.num_rows

        def column(c: str, typ: pa.DataType) -> pa.Array:
            if c not in t.column_names:
                return pa.nulls(n, typ)
            col = t.column(c)
            col = col if col.type == typ else col.cast(typ)
            return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()

        name, names = column("name", pa.string()), column("names", pa.string())
        others = other_names(name, names)
        chunks.append(_Chunk(kind, base, copied(column("id", pa.string())), copied(name),
                             copied(column("subtype", pa.string())),
                             copied(column("date", pa.string())),
                             copied(names) if others is None else others))
        del names, others
        restricted.append(np.asarray(pc.fill_null(column("restricted", pa.bool_()), False)
                                     .to_numpy(zero_copy_only=False), dtype=bool))
        keys = column("name_keys", pa.list_(pa.string()))
        flat = pc.list_flatten(keys)  # a view of the engine's buffers: no copy
        parent = np.asarray(pc.list_parent_indices(keys).to_numpy(), dtype=np.int32)
        if flat.null_count:
            valid = flat.is_valid()
            flat = flat.filter(valid)
            parent = parent[np.asarray(valid.to_numpy(zero_copy_only=False), dtype=bool)]
        parent += base
        parents.append(parent)
        return flat.dictionary_encode()  # indices + distinct keys: far less than the keys

    @classmethod
    def _warm_skeletons(cls, state: _State) -> None:
        """Fill ``graph.names.skeleton``'s cache with the graph's most frequent tokens (the
        ``t:`` keys on most nodes: first names, common surnames). Ranking takes the
        skeleton of every token of every candidate name, and a first-time skeleton of a
        Persian token goes through ICU (~15 us): without this the first thousand queries
        of a process paid for tens of thousands of them. About 0.3 s here, once."""
        info = getattr(skeleton, "cache_info", None)
        if info is None:
            return
        room = info().maxsize
        want = cls.WARM_TOKENS if room is None else min(cls.WARM_TOKENS, room // 2)
        lo, hi = state.keys.lower_bound("t:"), state.keys.lower_bound("t;")
        if want <= 0 or hi <= lo:
            return
        sizes = np.diff(state.ptr[lo:hi + 1])
        top = np.argpartition(-sizes, want - 1)[:want] if len(sizes) > want \
            else np.arange(len(sizes))
        for i in (top + lo).tolist():
            skeleton(state.keys.at(i)[2:].decode("utf-8", "surrogatepass"))

    @staticmethod
    def _postings(chunks: list[pa.Array], parents: list[np.ndarray]
                  ) -> tuple[np.ndarray, np.ndarray, pa.Array]:
        """Group the (key, row) pairs by key (``chunks``: each piece's keys, dictionary-
        encoded): the rows of the i-th smallest key are
        ``post[ptr[i]:ptr[i + 1]]``, ascending. Each pair is packed in one int64 (key rank
        high, row low) and sorted in place: no argsort index array, half the memory."""
        enc = pa.chunked_array(chunks, pa.dictionary(pa.int32(), pa.string()))
        enc = enc.unify_dictionaries() if enc.num_chunks > 1 else enc
        chunks.clear()  # the caller's list: the pieces' own dictionaries can go now
        dictionary = enc.chunk(enc.num_chunks - 1).dictionary if enc.num_chunks \
            else _EMPTY_STRINGS  # one dictionary shared by every chunk
        k = len(dictionary)
        k_order = np.asarray(pc.sort_indices(dictionary).to_numpy(), dtype=np.int64)
        sorted_keys = dictionary.take(pa.array(k_order))
        k_rank = np.empty(k, dtype=np.int32)
        k_rank[k_order] = np.arange(k, dtype=np.int32)
        del k_order, dictionary
        packed = np.concatenate(
            [k_rank[np.asarray(c.indices.to_numpy(zero_copy_only=False))] for c in enc.chunks]
            or [np.empty(0, dtype=np.int32)]).astype(np.int64)
        del enc, k_rank
        ptr = np.zeros(k + 1, dtype=np.int64)
        np.cumsum(np.bincount(packed, minlength=k), out=ptr[1:])
        packed <<= 32
        for lo, part in zip(np.cumsum([0] + [len(p) for p in parents]).tolist(), parents):
            packed[lo:lo + len(part)] |= part
        parents.clear()
        packed.sort()
        np.bitwise_and(packed, 0xFFFFFFFF, out=packed)
        return packed.astype(np.int32), ptr.astype(np.int32), sorted_keys

    def position(self, nid: str) -> int | None:
        """A node's row in the index, or None."""
        s = self._state
        i = s.ids.find(nid)
        return None if i is None else int(s.id_order[i])

    def named(self, i: int) -> Named:
        return self._state.named_rows(np.array([i], dtype=np.int64))[0]

    def lookup(self, nid: str) -> Named | None:
        """The node with this id, or None (one build read throughout)."""
        s = self._state
        i = s.ids.find(nid)
        return None if i is None else s.named_rows(np.array([s.id_order[i]], dtype=np.int64))[0]

    def candidates(self, text: str, *, kinds: set[str] | None,
                   include_restricted: bool) -> list[Named]:
        # Rarest keys first, each weighted by its rarity (idf), so a rare surname outweighs
        # a common first name; a very common key is only counted while too few keys have
        # been (it then narrows, as an intersection would, instead of flooding).
        s = self._state
        total = max(s.size, 1)
        parts: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        counted, rare_seen = 0, False
        for post in sorted((s.posting(k) for k in query_keys(text)), key=len):
            if not len(post):
                continue
            if len(post) > COMMON_KEY and (rare_seen or counted >= 2):
                continue
            parts.append(post)
            weights.append(np.full(len(post), math.log(1.0 + total / len(post))))
            counted += 1
            rare_seen = rare_seen or len(post) <= COMMON_KEY
        if not parts:
            return []
        rows, w = np.concatenate(parts), np.concatenate(weights)
        # a node's score is its keys' weights summed in the order the keys were counted
        # (every weight is > 0, so a node is present iff its sum is)
        if len(rows) * 8 > s.size:  # common keys: a dense sum beats sorting the rows
            sums = np.bincount(rows, weights=w, minlength=s.size)
            nodes = np.flatnonzero(sums)
            scores = sums[nodes]
        else:
            uniq = np.unique(rows, return_inverse=True)
            nodes = uniq[0]
            scores = np.bincount(uniq[1], weights=w)
        neg = -scores
        top = 4 * MAX_CANDIDATES
        if len(nodes) > top:  # only the best `top` are sorted: all tied with the last kept
            cut = neg <= np.partition(neg, top - 1)[top - 1]
            nodes, neg = nodes[cut], neg[cut]
        ordered = nodes[np.lexsort((s.rank[nodes], neg))][:top]
        if kinds is not None:
            codes = [i for i, k in enumerate(s.kinds) if k in kinds]
            ordered = ordered[np.isin(s.kind[ordered], codes)]
        if not include_restricted:
            ordered = ordered[~s.restricted[ordered]]
        return s.named_rows(ordered[:MAX_CANDIDATES])
