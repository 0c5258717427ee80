"""A second, plain-Python implementation of the query semantics (DESIGN.md "Query
semantics"), over the input records in a networkx MultiDiGraph, without the store, the
catalogue or the service's code paths. Property tests run both on random graphs and require
the same answers, reduced to comparable keys (ids, statuses, chosen paths).

Written from the semantics, not from the service: validity is ``graph.dates.validity_on``
(the documented reference), the rest is walked here directly.
"""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import pairwise
from typing import Any

import networkx as nx

from graph.dates import MAX_DAY, MIN_DAY, UNKNOWN, FuzzyDate, Validity, parse_date, validity_on
from graph.model import NODE_KINDS
from graph.names import query_keys
from graph.records import NodeRecord, RelRecord
from queries.search import MIN_SCORE, score_name

MAX_DEPTH = 20
ROLE_ORDER = ["direct", "judicial", "custodial", "superior", "institutional", "inciting"]
WEIGHT = {"direct": 3.0, "judicial": 3.0, "inciting": 2.0, "custodial": 1.0, "superior": 1.0,
          "institutional": 1.0}
CONF = {"high": 0, "medium": 1, "low": 2}


def _status(v: Validity) -> str:
    return "valid" if v is Validity.VALID else "dates_unknown"


def _key(path: list[tuple[str, str | None]]) -> tuple[bool, int, tuple[str, ...]]:
    """(claim id, status) paths: undecided ones last, then longer, then by ids."""
    return (any(s == "dates_unknown" for _, s in path), len(path), tuple(c for c, _ in path))


def _worst(statuses: list[str | None]) -> str | None:
    if "dates_unknown" in statuses:
        return "dates_unknown"
    if "valid" in statuses:
        return "valid"
    return None


class Oracle:
    def __init__(self, nodes: list[NodeRecord], rels: list[RelRecord], *,
                 include_restricted: bool = True) -> None:
        self.inc = include_restricted
        self.g = nx.MultiDiGraph()
        for n in nodes:
            self.g.add_node(n.id, _kind=n.kind, **n.props)
        for r in rels:
            self.g.add_edge(r.from_id, r.to_id, key=r.id, type=r.type, **r.props)

    # -- basics --------------------------------------------------------------------------
    def visible(self, n: str) -> bool:
        return n in self.g and (self.inc or not self.g.nodes[n].get("restricted"))

    def kind(self, n: str) -> str:
        return str(self.g.nodes[n]["_kind"])

    def validity(self, d: dict[str, Any], at: FuzzyDate | None) -> Validity | None:
        if at is None:
            return None
        return validity_on(d.get("from_lo", MIN_DAY), d.get("from_hi", MAX_DAY),
                           d.get("to_lo", MIN_DAY), d.get("to_hi", MAX_DAY), at.lo, at.hi)

    def out(self, n: str, types: tuple[str, ...], at: FuzzyDate | None = None
            ) -> list[tuple[str, str, str | None, dict[str, Any]]]:
        """(other, claim id, status, data) of visible claims leaving n."""
        res = []
        for _, m, k, d in self.g.out_edges(n, keys=True, data=True):
            if d["type"] in types and self.visible(m):
                v = self.validity(d, at)
                if v is Validity.INVALID:
                    continue
                res.append((m, k, _status(v) if v else None, d))
        return sorted(res, key=lambda t: (t[0], t[1]))

    def into(self, n: str, types: tuple[str, ...], at: FuzzyDate | None = None
             ) -> list[tuple[str, str, str | None, dict[str, Any]]]:
        res = []
        for m, _, k, d in self.g.in_edges(n, keys=True, data=True):
            if d["type"] in types and self.visible(m):
                v = self.validity(d, at)
                if v is Validity.INVALID:
                    continue
                res.append((m, k, _status(v) if v else None, d))
        return sorted(res, key=lambda t: (t[0], t[1]))

    def cluster(self, n: str) -> list[str]:
        h = nx.Graph()
        h.add_node(n)
        for a, b, d in self.g.edges(data=True):
            if d["type"] == "SAME_AS" and self.visible(a) and self.visible(b):
                h.add_edge(a, b)
        return [n] + sorted(nx.node_connected_component(h, n) - {n})

    def sanctions(self, n: str) -> dict[str, set[tuple[str, str, str | None, bool]]]:
        out: dict[str, set[tuple[str, str, str | None, bool]]] = defaultdict(set)
        for m in self.cluster(n):
            for s, _, _, _ in self.into(m, ("TARGETS",)):
                if self.kind(s) != "Sanction":
                    continue
                p = self.g.nodes[s]
                out[(p.get("authority") or "?").upper()].add(
                    (s, m, m if m != n else None, not p.get("delisted")))
        return dict(out)

    # -- chain ---------------------------------------------------------------------------
    def chain(self, ent: str, at: FuzzyDate) -> dict[str, Any]:
        posts: set[tuple[Any, ...]] = set()
        cands: dict[str, list[list[tuple[str, str | None]]]] = defaultdict(list)
        k = self.kind(ent)
        if k == "Person":
            for p in self.cluster(ent):
                for pos, hid, hs, _ in self.out(p, ("HOLDS",), at):
                    for org, pid, ps, _ in self.out(pos, ("POSITION_IN",), at):
                        if self.kind(org) != "Organization":
                            continue
                        posts.add((p, pos, org, hid, pid, _worst([hs, ps])))
                        cands[org].append([(hid, hs), (pid, ps)])
                for org, mid, ms, _ in self.out(p, ("MEMBER_OF",), at):
                    if self.kind(org) == "Organization":
                        posts.add((p, None, org, mid, None, ms))
                        cands[org].append([(mid, ms)])
        elif k == "Position":
            for org, pid, ps, _ in self.out(ent, ("POSITION_IN",), at):
                if self.kind(org) == "Organization":
                    cands[org].append([(pid, ps)])
        else:
            cands[ent].append([])
        best = {o: min(c, key=_key) for o, c in cands.items()}
        level = {o: 0 for o in cands}
        parents: dict[str, set[tuple[str, str, str | None]]] = defaultdict(set)
        frontier = sorted(level)
        depth = 0
        while frontier and depth < MAX_DEPTH:
            step: dict[str, list[list[tuple[str, str | None]]]] = defaultdict(list)
            nxt = []
            for o in frontier:
                for par, cid, st, _ in self.out(o, ("PART_OF",), at):
                    if self.kind(par) != "Organization":
                        continue
                    parents[o].add((par, cid, st))
                    if par not in level:
                        level[par] = depth + 1
                        nxt.append(par)
                    if level[par] == depth + 1:
                        step[par].append(best[o] + [(cid, st)])
            for o, cs in step.items():
                best[o] = min(cs, key=_key)
            frontier = sorted(set(nxt))
            depth += 1
        heads: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        head_posts: dict[str, set[tuple[str, str, str | None]]] = defaultdict(set)
        for o in level:
            for pos, pid, ps, _ in self.into(o, ("POSITION_IN",), at):
                if self.kind(pos) != "Position" or not self.g.nodes[pos].get("is_head"):
                    continue
                head_posts[o].add((pos, pid, ps))
                for person, hid, hs, _ in self.into(pos, ("HOLDS",), at):
                    if self.kind(person) == "Person":
                        heads[o].add((person, pos, hid, pid, _worst([hs, ps])))
        orgs = {o: (level[o], frozenset(parents.get(o, ())), frozenset(heads.get(o, ())))
                for o in level}
        unknown = (sum(p[-1] == "dates_unknown" for p in posts)
                   + sum(x[2] == "dates_unknown" for ps in parents.values() for x in ps)
                   + sum(h[-1] == "dates_unknown" for hs in heads.values() for h in hs))
        return {"posts": posts, "orgs": orgs, "top": sorted(o for o in level if not parents.get(o)),
                "unknown": unknown, "paths": best, "heads": heads, "level": level,
                "head_posts": head_posts}

    # -- accountability --------------------------------------------------------------------
    def acts_of(self, ent: str) -> list[str]:
        k = self.kind(ent)
        if k == "Incident":
            return [ent]
        if k == "Person":
            incs = [i for i, _, _, _ in self.out(ent, ("VICTIM_OF",)) if self.kind(i) == "Incident"]
            linked = {c for i in incs for c, _, _, _ in self.out(i, ("RESULT_OF",))}
            cases = [c for c, _, _, _ in self.out(ent, ("DEFENDANT_IN",))
                     if self.kind(c) == "Case" and c not in linked]
            return sorted(set(incs) | set(cases))
        incs = [i for i, _, _, _ in self.into(ent, ("RESULT_OF",)) if self.kind(i) == "Incident"]
        return sorted(set(incs)) if incs else [ent]

    def accountability(self, ent: str) -> dict[str, Any]:
        best: dict[tuple[str, str, str], list[tuple[str, str | None]]] = {}

        def add(who: str, role: str, act: str, path: list[tuple[str, str | None]]) -> None:
            key = (who, role, act)
            if key not in best or _key(path) < _key(best[key]):
                best[key] = path

        notice: set[tuple[str, str, str, str]] = set()
        acts = self.acts_of(ent)
        for act in acts:
            p = self.g.nodes[act]
            text = p.get("date") if self.kind(act) == "Incident" else p.get("verdict_date")
            at = parse_date(text) if text else UNKNOWN
            first: list[tuple[str, str, list[tuple[str, str | None]]]] = []
            cases: list[tuple[str, list[tuple[str, str | None]]]] = []
            if self.kind(act) == "Incident":
                for who, cid, _, d in self.out(act, ("PERPETRATED_BY",)):
                    role = "inciting" if (d.get("role") or "").lower().startswith("incit") \
                        else "direct"
                    first.append((who, role, [(cid, None)]))
                for org, cid, _, _ in self.out(act, ("OCCURRED_AT",)):
                    if self.kind(org) == "Organization":
                        first.append((org, "custodial", [(cid, None)]))
                for case, cid, _, _ in self.out(act, ("RESULT_OF",)):
                    if self.kind(case) == "Case":
                        cases.append((case, [(cid, None)]))
                for v, vid, _, _ in self.into(act, ("VICTIM_OF",)):
                    if self.kind(v) != "Person":
                        continue
                    for org, did, _, _ in self.out(v, ("DETAINED_AT",)):
                        if self.kind(org) == "Organization":
                            first.append((org, "custodial", [(vid, None), (did, None)]))
            else:
                cases.append((act, []))
            for case, cpath in cases:
                for who, cid, _, _ in self.into(case, ("JUDGE_IN", "PROSECUTOR_IN")):
                    if self.kind(who) == "Person":
                        first.append((who, "judicial", cpath + [(cid, None)]))
                for org, cid, _, _ in self.out(case, ("HEARD_BY", "UPHELD_BY")):
                    if self.kind(org) == "Organization":
                        first.append((org, "judicial", cpath + [(cid, None)]))
            chain_orgs: set[str] = set()
            for who, role, path in first:
                add(who, role, act, path)
                if self.kind(who) not in ("Person", "Organization"):
                    continue
                ch = self.chain(who, at)
                for o, lvl in ch["level"].items():
                    opath = path + ch["paths"][o]
                    if o != who:
                        if lvl == 0:  # notice: the act's own units only
                            chain_orgs.add(o)
                        add(o, "institutional", act, opath)
                    if not at.known:  # an undated act: its head posts, not every holder
                        for pos, pid, ps in ch["head_posts"].get(o, ()):
                            add(pos, "superior", act, opath + [(pid, ps)])
                        continue
                    for person, pos, hid, pid, st in ch["heads"].get(o, ()):
                        hs = self.validity(self._edge(person, pos, hid), at)
                        ps = self.validity(self._edge(pos, o, pid), at)
                        add(person, "superior", act, opath + [
                            (pid, _status(ps) if ps else None), (hid, _status(hs) if hs else None)])
                if self.kind(who) == "Organization":
                    chain_orgs.add(who)
            if at.known:
                for o in chain_orgs:
                    found = []
                    for inc, cid, _, _ in self.into(o, ("PERPETRATED_BY", "OCCURRED_AT")):
                        if self.kind(inc) != "Incident" or inc == act:
                            continue
                        ip = self.g.nodes[inc]
                        if ip.get("date") and ip.get("date_hi") is not None \
                                and ip["date_hi"] < at.lo:
                            found.append((-ip["date_hi"], inc, cid))
                    for _, inc, cid in sorted(found)[:10]:  # the 10 latest per organisation
                        notice.add((act, o, inc, cid))
        actors = {(who, role, act, tuple(c for c, _ in path), _worst([s for _, s in path]))
                  for (who, role, act), path in best.items()}
        return {"acts": set(acts), "actors": actors, "notice": notice}

    def _edge(self, a: str, b: str, key: str) -> dict[str, Any]:
        return dict(self.g.edges[a, b, key])

    # -- linked and gaps ----------------------------------------------------------------
    def linked(self, org: str, at: FuzzyDate | None) -> dict[str, Any]:
        units = {u: [] for u in self.cluster(org)}  # type: dict[str, list[tuple[str, str|None]]]
        frontier = sorted(units)
        depth = 0
        while frontier and depth < MAX_DEPTH:
            step: dict[str, list[list[tuple[str, str | None]]]] = defaultdict(list)
            for o in frontier:
                for child, cid, st, _ in self.into(o, ("PART_OF",), at):
                    if self.kind(child) != "Organization":
                        continue
                    if child not in units or child in step:
                        step[child].append([(cid, st)] + units.get(o, []))
            for c, cs in step.items():
                units[c] = min(cs, key=_key)
            frontier = sorted(step)
            depth += 1
        officials: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        for u, upath in units.items():
            for pos, pid, ps, _ in self.into(u, ("POSITION_IN",), at):
                if self.kind(pos) != "Position":
                    continue
                for person, hid, hs, _ in self.into(pos, ("HOLDS",), at):
                    if self.kind(person) != "Person":
                        continue
                    path = [(hid, hs), (pid, ps)] + upath
                    officials[person].add((pos, u, tuple(c for c, _ in path),
                                           _worst([s for _, s in path])))
            for person, mid, ms, _ in self.into(u, ("MEMBER_OF",), at):
                if self.kind(person) == "Person":
                    path = [(mid, ms)] + upath
                    officials[person].add((None, u, tuple(c for c, _ in path),
                                           _worst([s for _, s in path])))
        return {"units": set(units), "officials": dict(officials),
                "sanctions": {p: self.sanctions(p) for p in officials}}

    def gaps(self, authority: str) -> list[tuple[str, float, tuple[tuple[str, str], ...]]]:
        auth = authority.upper()
        acts = []
        for n, d in self.g.nodes(data=True):
            if not self.visible(n):
                continue
            # an incident, or a case no incident resulted in
            if d["_kind"] == "Incident" or (d["_kind"] == "Case" and not any(
                    self.kind(i) == "Incident" for i, _, _, _ in self.into(n, ("RESULT_OF",)))):
                acts.append(n)
        reasons: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for act in sorted(acts):
            for who, role, a, _, _ in self.accountability(act)["actors"]:
                if self.kind(who) == "Person":
                    reasons[who].add((a, role))
        out = []
        for p, rs in reasons.items():
            if any(active for _, _, _, active in self.sanctions(p).get(auth, set())):
                continue
            per: dict[str, float] = defaultdict(float)
            for a, role in rs:
                per[a] = max(per[a], WEIGHT[role])
            out.append((p, sum(per.values()), tuple(sorted(rs))))
        name = {p: (self.g.nodes[p].get("name") or "").lower() for p, _, _ in out}
        out.sort(key=lambda t: (-t[1], name[t[0]], t[0]))
        return out

    # -- search --------------------------------------------------------------------------
    def search(self, text: str, limit: int) -> list[tuple[str, float]]:
        keys = set(query_keys(text))
        scored = []
        for n, d in self.g.nodes(data=True):
            if not self.visible(n) or not NODE_KINDS[d["_kind"]].searchable:
                continue
            if not keys & set(d.get("name_keys") or ()):
                continue
            names = [d.get("name")] + [e["name"] for e in json.loads(d.get("names") or "[]")]
            s = max(score_name(text, x) for x in names if x)
            if s >= MIN_SCORE:
                scored.append((n, s, (d.get("name") or n).lower()))
        scored.sort(key=lambda t: (-t[1], t[2], t[0]))
        return [(n, s) for n, s, _ in scored[:limit]]

    # -- paths ---------------------------------------------------------------------------
    def paths(self, a: str, b: str, at: FuzzyDate | None, max_len: int
              ) -> tuple[int | None, list[tuple[tuple[str, ...], tuple[str, ...]]]]:
        if not (self.visible(a) and self.visible(b)):
            return None, []
        if a == b:
            return 0, [((a,), ())]
        h = nx.MultiGraph()
        for n, d in self.g.nodes(data=True):
            if d["_kind"] != "Source" and self.visible(n):
                h.add_node(n)
        for u, v, k, d in self.g.edges(keys=True, data=True):
            if d["type"] in ("MENTIONED_IN", "SIGNED") or u not in h or v not in h:
                continue
            if self.validity(d, at) is Validity.INVALID:
                continue
            h.add_edge(u, v, key=k, **d)
        if a not in h or b not in h or not nx.has_path(h, a, b):
            return None, []
        length = nx.shortest_path_length(h, a, b)
        if length > max_len:
            return None, []
        node_paths = sorted(nx.all_shortest_paths(h, a, b))[:10]
        out = []
        for p in node_paths:
            keys = []
            for u, v in pairwise(p):
                par = h.get_edge_data(u, v)

                def rank(k: str, par: dict[str, Any] = par) -> tuple[int, int, str]:
                    v_ = self.validity(par[k], at)
                    return (0 if v_ in (None, Validity.VALID) else 1,
                            CONF.get(par[k].get("confidence") or "", 3), k)
                keys.append(min(par, key=rank))
            out.append((tuple(p), tuple(keys)))
        return length, out

    # -- timeline ------------------------------------------------------------------------
    def timeline(self, ent: str) -> tuple[list[tuple[int, int, str, str | None, str]], set[str]]:
        events: list[tuple[int, int, str, str | None, str]] = []
        undated: set[str] = set()
        fields = {"birth_date": "born", "date": "date", "date_end": "end", "opened": "opened",
                  "verdict_date": "verdict", "appeal_date": "appeal", "listed": "listed",
                  "delisted": "delisted"}

        def add(text: Any, what: str, other: str | None, cid: str) -> None:
            if text and text != "open":
                d = parse_date(text)
                events.append((d.lo, d.hi, what, other, cid))

        for m in self.cluster(ent):
            for f, what in fields.items():
                add(self.g.nodes[m].get(f), what, None, f"_record:{m}")
            edges = [(o, c, d, "out") for o, c, _, d in self.out(m, tuple(self._types()))] + \
                    [(o, c, d, "in") for o, c, _, d in self.into(m, tuple(self._types()))]
            for o, cid, d, _ in edges:
                if d["type"] == "MENTIONED_IN":
                    continue
                dated = False
                if d.get("valid_from"):
                    add(d["valid_from"], "start", o, cid)
                    dated = True
                if d.get("valid_to") and d["valid_to"] != "open":
                    add(d["valid_to"], "end", o, cid)
                    dated = True
                op = self.g.nodes[o]
                ok = self.kind(o)
                val = op.get("date") or op.get("verdict_date") or op.get("listed")
                if ok in ("Incident", "Case", "Sanction") and val:
                    add(val, {"Incident": "incident", "Case": "verdict",
                              "Sanction": "listed"}[ok], o, cid)
                    if ok == "Sanction" and op.get("delisted"):
                        add(op["delisted"], "delisted", o, cid)
                    dated = True
                if not dated:
                    undated.add(cid)
        return sorted(events, key=lambda e: (e[0], e[1], e[2], e[3] or "", e[4])), undated

    def _types(self) -> set[str]:
        return {d["type"] for _, _, d in self.g.edges(data=True)}

    # -- neighbourhood and analytics ---------------------------------------------------
    def neighbourhood(self, ent: str, depth: int, at: FuzzyDate | None
                      ) -> tuple[set[str], set[str]]:
        """Nodes within ``depth`` claims (either direction, documents left out), and the
        claims touching the nodes that were expanded (those nearer than ``depth``)."""
        types = tuple(self._types())
        dist = {ent: 0}
        frontier = [ent]
        claims: set[str] = set()
        for k in range(depth):
            nxt = []
            for n in frontier:
                for o, cid, _, _ in self.out(n, types, at) + self.into(n, types, at):
                    if self.kind(o) == "Source":
                        continue
                    claims.add(cid)
                    if o not in dist:
                        dist[o] = k + 1
                        nxt.append(o)
            frontier = nxt
        return set(dist), claims

    def analytics_graph(self, kinds: set[str], at: FuzzyDate | None) -> nx.Graph:
        h = nx.Graph()
        for n, d in self.g.nodes(data=True):
            if d["_kind"] in kinds and self.visible(n):
                h.add_node(n)
        for u, v, d in self.g.edges(data=True):
            if d["type"] in ("MENTIONED_IN", "SIGNED") or u == v:
                continue
            if u in h and v in h and self.validity(d, at) is not Validity.INVALID:
                h.add_edge(u, v)
        return h
