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

import json
import threading
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from graph.model import NODE_KINDS
from graph.names import normalise, query_keys, skeleton, tokens
from graph.store import Store
from queries.cypher import keys_query

MIN_SCORE = 60.0
MAX_CANDIDATES = 2000  # candidates scored per query (those sharing the most keys first)
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


@lru_cache(maxsize=65536)
def _forms(text: str) -> tuple[str, str, str]:
    norm = normalise(text)
    toks = tokens(text)
    skel = " ".join(s for s in (skeleton(t) for t in toks) if s)
    return norm, skel, skel.replace(" ", "")


def score_name(query: str, name: str) -> float:
    """How well ``name`` matches ``query`` (0..100): the better of the normalised-text
    similarity and the (slightly discounted) skeleton similarity. A query whose tokens
    are all in the name scores 100 (token-set similarity), so "Mohseni" finds
    "Gholamhossein Mohseni-Ejei"."""
    qn, qs, qc = _forms(query)
    nn, ns, nc = _forms(name)
    if not qn or not nn:
        return 0.0
    text = fuzz.token_set_ratio(qn, nn)
    skel = 0.0
    if qs and ns:
        skel = max(fuzz.token_set_ratio(qs, ns), fuzz.ratio(qc, nc) if qc and nc else 0.0)
    return round(max(float(text), SKELETON_WEIGHT * float(skel)), 1)


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
                    for k in row.get("keys") or ():
                        keys.setdefault(k, []).append(nid)
            self.keys, self.nodes = keys, nodes
            self._generation, self._store_id = gen, id(store)

    def candidates(self, text: str, *, kinds: set[str] | None,
                   include_restricted: bool) -> list[Named]:
        hits: dict[str, int] = {}
        for k in query_keys(text):
            for nid in self.keys.get(k, ()):
                hits[nid] = hits.get(nid, 0) + 1
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
