"""The two baselines the engine is compared with, on the same graph and the same inputs:

- ``DictGraph``: plain Python dictionaries (id -> node tuple, id -> list of out/in edge
  tuples). The practical lower bound: no engine, no query planner, no answer models.
- ``NxGraph``: a networkx ``MultiDiGraph`` holding the same nodes and claims, walked
  through networkx's own adjacency API. What a researcher would write in a notebook.

Both answer the named questions with the same algorithm as ``queries.service`` (posts held
on the date, the PART_OF chain valid on the date to the top, the heads of every
organisation on it; acts -> direct, judicial and custodial actors -> the chain above each
at the date of the act; shortest path through the claims, documents left out; name search
on the same name keys), but return bare ids and claim ids: no answer models, no source
resolution. The difference to the engine is therefore the price of the store, Cypher and
the typed, evidence-carrying answers.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from graph.dates import MAX_DAY, MIN_DAY, DateError, parse_date
from graph.model import NODE_KINDS, RELATION_TYPES

PATH_EXCLUDED = frozenset({"MENTIONED_IN", "SIGNED"})

# An edge: (type, other end, claim id, from_lo, from_hi, to_lo, to_hi, source_ids)
Edge = tuple[str, str, str, int, int, int, int, tuple[str, ...]]


def _bounds(text: str, allow_open: bool) -> tuple[int, int]:
    try:
        d = parse_date(text, allow_open=allow_open)
    except DateError:
        return MIN_DAY, MAX_DAY
    return d.lo, d.hi


def read_folder(folder: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(kind or type, 'node'|'rel', row) for every row of a native CSV folder."""
    for path in sorted(folder.glob("*.csv")):
        what = path.stem
        role = "node" if what in NODE_KINDS else "rel" if what in RELATION_TYPES else None
        if role is None:
            continue
        with open(path, newline="", encoding="utf-8-sig") as f:
            for row in csv.DictReader(f):
                yield what, role, row


def valid(e: Edge, lo: int, hi: int) -> bool:
    """Not certainly invalid on [lo, hi] (valid or dates unknown), as the engine keeps."""
    return not (e[3] > hi or e[6] < lo)


class DictGraph:
    """Adjacency in plain dictionaries: the lower bound."""

    name = "dicts"

    def __init__(self) -> None:
        self.kind: dict[str, str] = {}
        self.info: dict[str, tuple[str, str, bool, int, int]] = {}  # name, aliases, head, date
        self.out: dict[str, list[Edge]] = defaultdict(list)
        self.inc: dict[str, list[Edge]] = defaultdict(list)
        self.keys: dict[str, list[str]] = defaultdict(list)
        self.names: dict[str, tuple[str, ...]] = {}

    # -- building --------------------------------------------------------------------
    def add_node(self, kind: str, row: dict[str, str]) -> None:
        nid = row["id"]
        self.kind[nid] = kind
        lo, hi = _bounds(row.get("date") or "", False) if kind == "Incident" else (0, 0)
        self.info[nid] = (row.get("name") or row.get("title") or "", row.get("aliases") or "",
                          (row.get("is_head") or "").lower() == "true", lo, hi)

    def add_rel(self, rtype: str, row: dict[str, str]) -> None:
        flo, fhi = _bounds(row.get("valid_from") or "", False)
        tlo, thi = _bounds(row.get("valid_to") or "", True)
        sids = tuple(s for s in (row.get("source_ids") or "").split(";") if s)
        a, b, cid = row["from"], row["to"], row.get("id") or ""
        self.out[a].append((rtype, b, cid, flo, fhi, tlo, thi, sids))
        self.inc[b].append((rtype, a, cid, flo, fhi, tlo, thi, sids))

    def finish(self) -> None:
        from graph.names import name_keys

        for nid, (name, aliases, *_rest) in self.info.items():
            if not NODE_KINDS[self.kind[nid]].searchable:
                continue
            names = tuple(n for n in [name] + aliases.split(";") if n)
            self.names[nid] = names
            for k in name_keys(list(names)):
                self.keys[k].append(nid)

    @classmethod
    def load(cls, folder: Path) -> DictGraph:
        g = cls()
        for what, role, row in read_folder(folder):
            if role == "node":
                g.add_node(what, row)
            else:
                g.add_rel(what, row)
        g.finish()
        return g

    # -- adjacency (overridden by the networkx baseline) -------------------------------
    def outs(self, n: str, types: frozenset[str]) -> list[Edge]:
        return [e for e in self.out.get(n, ()) if e[0] in types]

    def ins(self, n: str, types: frozenset[str]) -> list[Edge]:
        return [e for e in self.inc.get(n, ()) if e[0] in types]

    def is_head(self, n: str) -> bool:
        return self.info[n][2]

    def node_kind(self, n: str) -> str:
        return self.kind.get(n, "")

    def act_dates(self, n: str) -> tuple[int, int]:
        i = self.info[n]
        return i[3], i[4]

    def neighbours(self, n: str) -> Iterator[str]:
        for e in self.out.get(n, ()):
            if e[0] not in PATH_EXCLUDED:
                yield e[1]
        for e in self.inc.get(n, ()):
            if e[0] not in PATH_EXCLUDED:
                yield e[1]

    # -- questions -------------------------------------------------------------------
    def chain(self, ref: str, at: str) -> dict[str, Any]:
        d = parse_date(at)
        return self._chain(ref, d.lo, d.hi)

    def _chain(self, ref: str, lo: int, hi: int, holders: bool = True) -> dict[str, Any]:
        """Without ``holders`` (an undated act), a head post is named instead of its holders,
        as ``GraphQueries.accountability`` does."""
        kind = self.node_kind(ref)
        orgs: dict[str, int] = {}
        posts: list[str] = []
        if kind == "Person":
            for h in self.outs(ref, _HOLDS_MEMBER):
                if not valid(h, lo, hi):
                    continue
                if h[0] == "MEMBER_OF":
                    orgs.setdefault(h[1], 0)
                    posts.append(h[2])
                    continue
                for p in self.outs(h[1], _POSITION_IN):
                    if valid(p, lo, hi):
                        orgs.setdefault(p[1], 0)
                        posts.append(h[2])
        elif kind == "Position":
            for p in self.outs(ref, _POSITION_IN):
                if valid(p, lo, hi):
                    orgs.setdefault(p[1], 0)
        else:
            orgs[ref] = 0
        frontier, depth, links = list(orgs), 0, []
        while frontier and depth < 20:
            nxt = []
            for o in frontier:
                for e in self.outs(o, _PART_OF):
                    if valid(e, lo, hi):
                        links.append(e[2])
                        if e[1] not in orgs:
                            orgs[e[1]] = depth + 1
                            nxt.append(e[1])
            frontier, depth = nxt, depth + 1
        heads = []
        for o in orgs:
            for p in self.ins(o, _POSITION_IN):
                if valid(p, lo, hi) and self.is_head(p[1]):
                    if not holders:
                        heads.append((o, p[1], p[2]))
                        continue
                    for h in self.ins(p[1], _HOLDS):
                        if valid(h, lo, hi):
                            heads.append((o, h[1], h[2]))
        return {"posts": posts, "orgs": orgs, "links": links, "heads": heads}

    def accountability(self, ref: str) -> dict[str, Any]:
        acts = [e[1] for e in self.outs(ref, _VICTIM_OF)] if self.node_kind(ref) == "Person" \
            else [ref]
        actors: list[tuple[str, str, str]] = []
        chains: dict[tuple[str, int, int], dict[str, Any]] = {}
        for act in acts:
            lo, hi = self.act_dates(act)
            direct = [(e[1], "direct") for e in self.outs(act, _PERPETRATED_BY)]
            places = [(e[1], "custodial") for e in self.outs(act, _OCCURRED_AT)]
            judicial = []
            for c in self.outs(act, _RESULT_OF):
                judicial += [(e[1], "judicial") for e in self.ins(c[1], _JUDGES)]
                judicial += [(e[1], "judicial") for e in self.outs(c[1], _COURTS)]
            for who, role in direct + places + judicial:
                actors.append((act, who, role))
                key = (who, lo, hi)
                if key not in chains:
                    chains[key] = self._chain(who, lo, hi,
                                              holders=(lo, hi) != (MIN_DAY, MAX_DAY))
                for o, person, _ in chains[key]["heads"]:
                    actors.append((act, person, "superior"))
        return {"acts": acts, "actors": actors}

    def search(self, text: str, limit: int = 20) -> list[tuple[str, float]]:
        from graph.names import query_keys
        from queries.search import MAX_CANDIDATES, MIN_SCORE, best_name

        hits: dict[str, int] = {}
        for k in query_keys(text):
            for nid in self.keys.get(k, ()):
                hits[nid] = hits.get(nid, 0) + 1
        cands = sorted(hits, key=lambda i: (-hits[i], i))[:MAX_CANDIDATES]
        scored = []
        for nid in cands:
            s, _ = best_name(text, self.names[nid])
            if s >= MIN_SCORE:
                scored.append((nid, s))
        scored.sort(key=lambda t: (-t[1], t[0]))
        return scored[:limit]

    def paths(self, a: str, b: str, max_len: int = 6) -> list[str] | None:
        """One shortest undirected path (bidirectional BFS), documents left out."""
        if a == b:
            return [a]
        pa: dict[str, str | None] = {a: None}
        pb: dict[str, str | None] = {b: None}
        fa, fb = deque([a]), deque([b])
        for _ in range(max_len):
            if not fa or not fb:
                return None
            # expand the smaller side by one level
            if len(fa) <= len(fb):
                frontier, mine, other = fa, pa, pb
            else:
                frontier, mine, other = fb, pb, pa
            nxt: deque[str] = deque()
            for u in frontier:
                for v in self.neighbours(u):
                    if v in mine:
                        continue
                    mine[v] = u
                    if v in other:
                        return _join(pa, pb, v)
                    nxt.append(v)
            if mine is pa:
                fa = nxt
            else:
                fb = nxt
        return None


def _join(pa: dict[str, str | None], pb: dict[str, str | None], meet: str) -> list[str]:
    left: list[str] = []
    n: str | None = meet
    while n is not None:
        left.append(n)
        n = pa[n]
    left.reverse()
    n = pb[meet]
    while n is not None:
        left.append(n)
        n = pb[n]
    return left


_HOLDS_MEMBER = frozenset({"HOLDS", "MEMBER_OF"})
_HOLDS = frozenset({"HOLDS"})
_POSITION_IN = frozenset({"POSITION_IN"})
_PART_OF = frozenset({"PART_OF"})
_VICTIM_OF = frozenset({"VICTIM_OF"})
_PERPETRATED_BY = frozenset({"PERPETRATED_BY"})
_OCCURRED_AT = frozenset({"OCCURRED_AT"})
_RESULT_OF = frozenset({"RESULT_OF"})
_JUDGES = frozenset({"JUDGE_IN", "PROSECUTOR_IN"})
_COURTS = frozenset({"HEARD_BY", "UPHELD_BY"})


class NxGraph(DictGraph):
    """The same questions through networkx's adjacency (a ``MultiDiGraph``)."""

    name = "networkx"

    def __init__(self) -> None:
        import networkx as nx

        super().__init__()
        self.g = nx.MultiDiGraph()
        self.u = None

    def add_node(self, kind: str, row: dict[str, str]) -> None:
        lo, hi = _bounds(row.get("date") or "", False) if kind == "Incident" else (0, 0)
        self.g.add_node(row["id"], kind=kind, head=(row.get("is_head") or "").lower() == "true",
                        lo=lo, hi=hi)
        if NODE_KINDS[kind].searchable:
            self.info[row["id"]] = (row.get("name") or row.get("title") or "",
                                    row.get("aliases") or "", False, 0, 0)
            self.kind[row["id"]] = kind

    def add_rel(self, rtype: str, row: dict[str, str]) -> None:
        flo, fhi = _bounds(row.get("valid_from") or "", False)
        tlo, thi = _bounds(row.get("valid_to") or "", True)
        sids = tuple(s for s in (row.get("source_ids") or "").split(";") if s)
        self.g.add_edge(row["from"], row["to"], key=row.get("id"), c=(rtype, flo, fhi, tlo, thi,
                                                                      sids))

    def finish(self) -> None:
        super().finish()
        self.info.clear()
        self.kind.clear()
        # the undirected view networkx's shortest path walks (documents left out)
        import networkx as nx

        keep = [(u, v) for u, v, c in self.g.edges(data="c") if c[0] not in PATH_EXCLUDED]
        self.u = nx.Graph(keep)

    def outs(self, n: str, types: frozenset[str]) -> list[Edge]:
        out = []
        for v, par in self.g.succ.get(n, {}).items():
            for k, d in par.items():
                c = d["c"]
                if c[0] in types:
                    out.append((c[0], v, k, c[1], c[2], c[3], c[4], c[5]))
        return out

    def ins(self, n: str, types: frozenset[str]) -> list[Edge]:
        out = []
        for v, par in self.g.pred.get(n, {}).items():
            for k, d in par.items():
                c = d["c"]
                if c[0] in types:
                    out.append((c[0], v, k, c[1], c[2], c[3], c[4], c[5]))
        return out

    def is_head(self, n: str) -> bool:
        return bool(self.g.nodes[n].get("head"))

    def node_kind(self, n: str) -> str:
        d = self.g.nodes.get(n)
        return d["kind"] if d else ""

    def act_dates(self, n: str) -> tuple[int, int]:
        d = self.g.nodes[n]
        return d["lo"], d["hi"]

    def paths(self, a: str, b: str, max_len: int = 6) -> list[str] | None:
        import networkx as nx

        try:
            p = nx.shortest_path(self.u, a, b)
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return None
        return p if len(p) - 1 <= max_len else None


def load(which: str, folder: Path) -> DictGraph:
    return (NxGraph if which == "networkx" else DictGraph).load(folder)


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)
