"""Name search across scripts and transliterations, on the project's own name keys.

The embedded engine has no offline full-text index, and scanning every node's
``name_keys`` list is a full scan, so the stored keys are loaded once into an in-process
inverted index (key -> node ids), rebuilt when ``store.generation`` changes. Candidates are
the nodes sharing a key with the query (``graph.names``: normalised tokens and consonant
skeletons, which bridge Persian script and Latin spellings); the scorer below ranks them
with rapidfuzz on two forms of each name: the normalised text (same script) and the
skeleton (across scripts and transliteration schemes).
"""

from __future__ import annotations

import heapq
import json
import math
import threading
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from graph.model import NODE_KINDS
from graph.names import normalise, query_keys, skeleton, tokens
from graph.store import Store
from queries.cypher import keys_query

MIN_SCORE = 60.0
MAX_CANDIDATES = 100  # candidates scored per query (those sharing the rarest keys first)
COMMON_KEY = 2_000  # a key on more nodes than this is "common" (see NameIndex.candidates)
SKELETON_WEIGHT = 0.92  # a skeleton match is good evidence, but weaker than the letters


@dataclass(frozen=True)
class Named:
    id: str
    kind: str
    name: str
    subtype: str | None
    date: str | None
    restricted: bool
    names: tuple[str, ...]


@dataclass(frozen=True)
class _Forms:
    norm: str  # normalised text
    skel: str  # consonant skeletons of the tokens, space-separated
    units: tuple[str, ...]  # tokens, adjacent pairs joined, and all tokens joined
    skel_units: tuple[str, ...]
    toks: tuple[str, ...]
    skel_toks: tuple[str, ...]


def _units(toks: list[str]) -> tuple[str, ...]:
    out = list(toks) + [a + b for a, b in zip(toks, toks[1:])]
    if len(toks) > 2:
        out.append("".join(toks))
    return tuple(dict.fromkeys(u for u in out if u))


@lru_cache(maxsize=65536)
def _forms(text: str) -> _Forms:
    toks = tokens(text)
    skels = [skeleton(t) for t in toks]
    return _Forms(" ".join(toks), " ".join(s for s in skels if s), _units(toks),
                  _units([s for s in skels if s]), tuple(toks), tuple(s for s in skels if s))


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


def best_name(query: str, names: tuple[str, ...]) -> tuple[float, str]:
    best = (0.0, names[0] if names else "")
    for n in names:
        s = score_name(query, n)
        if s > best[0] or (s == best[0] and n < best[1] and s > 0):
            best = (s, n)
    return best


def rank(query: str, candidates: list[Named], limit: int) -> list[tuple[Named, float, str]]:
    """Score and order candidates: score, then name, then id (stable for tests)."""
    scored: list[tuple[Named, float, str]] = []
    for c in candidates:
        s, matched = best_name(query, c.names)
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


class NameIndex:
    """Inverted index of the stored name keys, rebuilt when the store's generation moves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._store_id: int | None = None
        self.keys: dict[str, list[str]] = {}
        self.nodes: dict[str, Named] = {}

    def ensure(self, store: Store) -> None:
        gen = store.generation
        if self._generation == gen and self._store_id == id(store):
            return
        with self._lock:
            if self._generation == gen and self._store_id == id(store):
                return
            keys: dict[str, list[str]] = {}
            nodes: dict[str, Named] = {}
            for kind, nk in NODE_KINDS.items():
                if not nk.searchable:
                    continue
                for row in store.run(keys_query(kind)):
                    nid = row["id"]
                    nodes[nid] = Named(nid, kind, row.get("name") or nid, row.get("subtype"),
                                       row.get("date"), bool(row.get("restricted")),
                                       parse_names(row.get("name"), row.get("names")))
                    for k in row.get("name_keys") or ():
                        keys.setdefault(k, []).append(nid)
            self.keys, self.nodes = keys, nodes
            self._generation, self._store_id = gen, id(store)

    def candidates(self, text: str, *, kinds: set[str] | None,
                   include_restricted: bool) -> list[Named]:
        # Rarest keys first, each weighted by its rarity (idf), so a rare surname outweighs
        # a common first name; a very common key is only counted while too few keys have
        # been (it then narrows, as an intersection would, instead of flooding).
        total = max(len(self.nodes), 1)
        hits: dict[str, float] = {}
        counted, rare_seen = 0, False
        for post in sorted((self.keys.get(k, ()) for k in query_keys(text)), key=len):
            if not post:
                continue
            if len(post) > COMMON_KEY and (rare_seen or counted >= 2):
                continue
            weight = math.log(1.0 + total / len(post))
            for nid in post:
                hits[nid] = hits.get(nid, 0.0) + weight
            counted += 1
            rare_seen = rare_seen or len(post) <= COMMON_KEY
        if len(hits) > 4 * MAX_CANDIDATES:
            ordered = heapq.nsmallest(4 * MAX_CANDIDATES, hits, key=lambda i: (-hits[i], i))
        else:
            ordered = sorted(hits, key=lambda i: (-hits[i], i))
        out: list[Named] = []
        for nid in ordered:
            node = self.nodes[nid]
            if kinds is not None and node.kind not in kinds:
                continue
            if node.restricted and not include_restricted:
                continue
            out.append(node)
            if len(out) >= MAX_CANDIDATES:
                break
        return out
