"""The sanctions-gap scan: every act of the graph, its actors, and who headed the
organisations above them at the date of the act.

Why a module of its own: ``GraphQueries.gaps`` used to assemble this from the per-act
building blocks of accountability answers (a few named queries per act and per step), which
at a million nodes meant hundreds of thousands of round trips and did not finish in five
minutes. Here each relation table the scan needs is read once, as Arrow columns, into
compact adjacency lists, and the walk runs in process. The result (persons implicated and
why) does not depend on the authority asked about, so it is cached per store generation and
per restriction view; only the sanctions filter runs per question.

The rules are those of ``GraphQueries._first_level`` and ``GraphQueries._chain_heads``
(and of the oracle in ``tests/queries/oracle.py``): the same actors, the same validity test
(a claim is dropped only when certainly invalid at the act's date), the same order of
evidence, so that the first reason recorded for a person and act is the same.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graph.dates import MAX_DAY, MIN_DAY, UNKNOWN, parse_date
from graph.store import Store
from queries.chunked import build_reader
from queries.cypher import gaps_acts_query, gaps_rel_query

MAX_DEPTH = 20  # as queries.service.MAX_DEPTH
HEADS_MEMO = 100_000  # chains (actor, date) remembered while scanning

Bound = tuple[str, int, int]  # (other end, from_lo, to_hi)


REASONS_SHOWN = 50  # reasons listed per person (all are counted and scored)


@dataclass
class GapScan:
    """Persons implicated in acts: name, score (per act, the weight of the strongest
    role), how many (act, role) reasons, and the first ``REASONS_SHOWN`` of them in (act,
    role) order as (act, role, detail). Only these are kept: at a million nodes the head
    of a top organisation is a superior in every act below it (tens of millions of reasons
    over all persons), far more than memory or an answer can hold."""

    generation: int
    people: dict[str, str] = field(default_factory=dict)
    score: dict[str, float] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    shown: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    act_names: dict[str, str] = field(default_factory=dict)


_CACHE: weakref.WeakKeyDictionary[Store, dict[bool, GapScan]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def gap_scan(store: Store, include_restricted: bool,
             clusters: Callable[[list[str]], dict[str, list[str]]],
             weights: dict[str, float]) -> GapScan:
    """The scan for this store's generation and view (built on first use)."""
    gen = store.generation
    with _LOCK:
        per = _CACHE.get(store)
        if per is not None and include_restricted in per \
                and per[include_restricted].generation == gen:
            return per[include_restricted]
        with build_reader(store) as source:  # its pool is closed after the scan
            scan = _Scanner(source, include_restricted, clusters).run(gen, weights)
        if per is None or any(s.generation != gen for s in per.values()):
            per = {}
            _CACHE[store] = per
        per[include_restricted] = scan
        return scan


def _lo(v: Any) -> int:
    return int(v) if v else MIN_DAY


def _hi(v: Any) -> int:
    return int(v) if v else MAX_DAY


class _Scanner:
    def __init__(self, store: Store, include_restricted: bool,
                 clusters: Callable[[list[str]], dict[str, list[str]]]) -> None:
        self.store = store
        self.inc = include_restricted
        self.clusters_of = clusters
        self._clusters: dict[str, list[str]] = {}

    def visible(self, restricted: Any) -> bool:
        return self.inc or not restricted

    def rows(self, rel_type: str, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
        """Some columns of every claim of a type, as tuples (the Arrow table is dropped)."""
        t = self.store.run_arrow(gaps_rel_query(rel_type))
        if not t.num_rows:
            return []
        cols = [t.column(c).to_pylist() if c in t.column_names else [None] * t.num_rows
                for c in columns]
        return list(zip(*cols))

    def run(self, gen: int, weights: dict[str, float]) -> GapScan:
        scan = GapScan(gen)
        # -- acts ---------------------------------------------------------------------
        acts: dict[str, tuple[str, str, str | None, str | None]] = {}  # id -> kind,name,sub,at
        for kind in ("Incident", "Case"):
            t = self.store.run_arrow(gaps_acts_query(kind))
            if not t.num_rows:
                continue
            cols = {c: t.column(c).to_pylist() for c in t.column_names}
            for i, nid in enumerate(cols["id"]):
                if self.visible(cols["restricted"][i]):
                    acts[nid] = (kind, cols["name"][i] or nid, cols["subtype"][i],
                                 cols["at"][i])
        inc_cases: dict[str, list[tuple[str, str]]] = defaultdict(list)
        with_incident: set[str] = set()
        for a, b, cid, ar, br in self.rows("RESULT_OF", ("a", "b", "id", "ar", "br")):
            if a in acts and acts[a][0] == "Incident" and self.visible(ar):
                with_incident.add(b)
                if self.visible(br):
                    inc_cases[a].append((b, cid))
        # -- first-level actors ---------------------------------------------------------
        perps: dict[str, list[tuple[str, str, str, str | None]]] = defaultdict(list)
        names: dict[str, str] = {}
        for a, b, cid, bk, br, role, bn in self.rows(
                "PERPETRATED_BY", ("a", "b", "id", "bkind", "br", "role", "bname")):
            if a in acts and self.visible(br):
                perps[a].append((b, cid, bk, role))
                if bk == "Person":
                    names[b] = bn or b
        places: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for a, b, cid, bk, br in self.rows("OCCURRED_AT", ("a", "b", "id", "bkind", "br")):
            if a in acts and self.visible(br):
                places[a].append((b, cid, bk))
        vic: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for a, b, cid, ak, ar in self.rows("VICTIM_OF", ("a", "b", "id", "akind", "ar")):
            if b in acts and ak == "Person" and self.visible(ar):
                vic[b].append((a, cid))
        det: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for a, b, cid, bk, br in self.rows("DETAINED_AT", ("a", "b", "id", "bkind", "br")):
            if bk == "Organization" and self.visible(br):
                det[a].append((b, cid))
        jin: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for typ in ("JUDGE_IN", "PROSECUTOR_IN"):
            for a, b, cid, ak, ar, an in self.rows(typ, ("a", "b", "id", "akind", "ar",
                                                         "aname")):
                if ak == "Person" and self.visible(ar):
                    jin[b].append((typ, a, cid))
                    names[a] = an or a
        jout: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for typ in ("HEARD_BY", "UPHELD_BY"):
            for a, b, cid, bk, br in self.rows(typ, ("a", "b", "id", "bkind", "br")):
                if bk == "Organization" and self.visible(br):
                    jout[a].append((typ, b, cid))
        # -- the hierarchy --------------------------------------------------------------
        org_name: dict[str, str] = {}
        holds_out: dict[str, list[Bound]] = defaultdict(list)
        holders_in: dict[str, list[tuple[str, str, int, int]]] = defaultdict(list)
        for a, b, cid, ak, ar, br, an, flo, thi in self.rows(
                "HOLDS", ("a", "b", "id", "akind", "ar", "br", "aname", "from_lo", "to_hi")):
            if self.visible(br):
                holds_out[a].append((b, _lo(flo), _hi(thi)))
            if ak == "Person" and self.visible(ar):
                holders_in[b].append((a, cid, _lo(flo), _hi(thi)))
                names.setdefault(a, an or a)
        member_out: dict[str, list[Bound]] = defaultdict(list)
        for a, b, bk, br, bn, flo, thi in self.rows(
                "MEMBER_OF", ("a", "b", "bkind", "br", "bname", "from_lo", "to_hi")):
            if bk == "Organization" and self.visible(br):
                member_out[a].append((b, _lo(flo), _hi(thi)))
                org_name[b] = bn or b
        pin_out: dict[str, list[Bound]] = defaultdict(list)
        head_in: dict[str, list[tuple[str, str, str, int, int]]] = defaultdict(list)
        for a, b, cid, ak, bk, ar, br, an, bn, flo, thi, head in self.rows(
                "POSITION_IN", ("a", "b", "id", "akind", "bkind", "ar", "br", "aname", "bname",
                                "from_lo", "to_hi", "is_head")):
            if bk == "Organization" and self.visible(br):
                pin_out[a].append((b, _lo(flo), _hi(thi)))
                org_name[b] = bn or b
            if ak == "Position" and self.visible(ar) and head:
                head_in[b].append((a, cid, an or a, _lo(flo), _hi(thi)))
        parents: dict[str, list[Bound]] = defaultdict(list)
        for a, b, bk, br, an, bn, flo, thi in self.rows(
                "PART_OF", ("a", "b", "bkind", "br", "aname", "bname", "from_lo", "to_hi")):
            if bk == "Organization" and self.visible(br):
                parents[a].append((b, _lo(flo), _hi(thi)))
                org_name[b] = bn or b
        for held in holders_in.values():
            held.sort(key=lambda t: (t[0], t[1]))
        for posts in head_in.values():
            posts.sort(key=lambda t: (t[0], t[1]))
        heads_memo: dict[tuple[str, str], list[tuple[str, str]]] = {}

        def cluster(pid: str) -> list[str]:
            c = self._clusters.get(pid)
            if c is None:
                c = self.clusters_of([pid])[pid]
                self._clusters[pid] = c
            return c

        def heads(who: str, kind: str, at_text: str, lo: int, hi: int
                  ) -> list[tuple[str, str]]:
            key = (who, at_text)
            got = heads_memo.get(key)
            if got is not None:
                return got
            entry: set[str] = set()
            if kind == "Person":
                for m in cluster(who):
                    for pos, flo, thi in holds_out.get(m, ()):
                        if flo > hi or thi < lo:
                            continue
                        for org, f2, t2 in pin_out.get(pos, ()):
                            if not (f2 > hi or t2 < lo):
                                entry.add(org)
                    for org, flo, thi in member_out.get(m, ()):
                        if not (flo > hi or thi < lo):
                            entry.add(org)
            else:
                entry.add(who)
            reach = set(entry)
            frontier = entry
            for _ in range(MAX_DEPTH):
                if not frontier:
                    break
                nxt = {p for o in frontier for p, flo, thi in parents.get(o, ())
                       if not (flo > hi or thi < lo) and p not in reach}
                reach |= nxt
                frontier = nxt
            first_seen: dict[str, str] = {}  # a head met again adds nothing (first wins)
            for o in sorted(reach):
                for pos, _, pname, flo, thi in head_in.get(o, ()):
                    if flo > hi or thi < lo:
                        continue
                    for person, _, f2, t2 in holders_in.get(pos, ()):
                        if person not in first_seen and not (f2 > hi or t2 < lo):
                            first_seen[person] = head_detail(pos, pname, o)
            out = list(first_seen.items())
            if len(heads_memo) >= HEADS_MEMO:
                heads_memo.clear()  # bounded: a million chains would not fit in memory
            heads_memo[key] = out
            return out

        details: dict[tuple[str, str], str] = {}

        def head_detail(pos: str, pname: str, org: str) -> str:
            """One shared string per (post, organisation): millions of reasons cite them."""
            d = details.get((pos, org))
            if d is None:
                d = details[(pos, org)] = f"{pname} (head of {org_name.get(org, org)})"
            return d

        for lst2 in (perps, places, inc_cases, vic, det, jin, jout):
            for v2 in lst2.values():
                v2.sort()
        # -- the walk, act by act -------------------------------------------------------
        people, score, total, shown = scan.people, scan.score, scan.total, scan.shown
        for act_id in sorted(acts):
            kind, aname, sub, at_text = acts[act_id]
            if kind == "Case" and act_id in with_incident:
                continue
            scan.act_names[act_id] = aname
            at = parse_date(at_text) if at_text else UNKNOWN
            first: list[tuple[str, str, str, str]] = []  # who, kind, role, detail
            if kind == "Incident":
                # claims out of the act in (type, other, id) order: OCCURRED_AT, then
                # PERPETRATED_BY (RESULT_OF only leads to cases)
                for org, _, bk in places.get(act_id, ()):
                    if bk == "Organization":
                        first.append((org, bk, "custodial",
                                      f"place of {(sub or 'the act').replace('_', ' ')}"))
                for who, _, bk, role in perps.get(act_id, ()):
                    r = "inciting" if (role or "").lower().startswith("incit") else "direct"
                    first.append((who, bk, r, role or "perpetrator"))
                for victim, _ in vic.get(act_id, ()):
                    for org, _ in det.get(victim, ()):
                        first.append((org, "Organization", "custodial", "place of detention"))
                cases = [c for c, _ in inc_cases.get(act_id, ())]
            else:
                cases = [act_id]
            for c in cases:
                for typ, person, _ in jin.get(c, ()):
                    first.append((person, "Person", "judicial",
                                  "judge" if typ == "JUDGE_IN" else "prosecutor"))
                for typ, org, _ in jout.get(c, ()):
                    first.append((org, "Organization", "judicial",
                                  "trial court" if typ == "HEARD_BY" else "upheld the sentence"))
            here: dict[str, dict[str, str]] = {}  # person -> role -> detail (first seen)
            for who, wkind, role, detail in first:
                if wkind == "Person":
                    people[who] = names.get(who, who)
                    here.setdefault(who, {}).setdefault(role, detail)
                # an undated act has no holder of a head post above it that can be decided
                # (accountability lists the posts): nobody is implicated as its superior
                if wkind in ("Person", "Organization") and at.known:
                    for h, hdetail in heads(who, wkind, at.text, at.lo, at.hi):
                        if h not in people:
                            people[h] = names.get(h, h)
                        here.setdefault(h, {}).setdefault("superior", hdetail)
            for pid, roles in here.items():
                # acts come in id order, so sums and lists run in (act, role) order
                score[pid] = score.get(pid, 0) + max(weights[r] for r in roles)
                total[pid] = total.get(pid, 0) + len(roles)
                lst = shown.setdefault(pid, [])
                for role, detail in sorted(roles.items()):
                    if len(lst) >= REASONS_SHOWN:
                        break
                    lst.append((act_id, role, detail))
        return scan
