"""The sanctions-gap scan: every act of the graph, its actors, and who headed the
organisations above them at the date of the act.

Why a module of its own: ``GraphQueries.gaps`` used to assemble this from the per-act
building blocks of accountability answers (a few named queries per act and per step), which
at a million nodes meant hundreds of thousands of round trips and did not finish in five
minutes. Here each relation table the scan needs is read once, as Arrow columns, into
compact adjacency lists, and the walk runs in process. The result (persons implicated and
why) does not depend on the authority asked about, so it is cached per store generation and
per restriction view, as arrays that the processes serving one read-only database share
(``GapScan``); only the sanctions filter runs per question.

The rules are those of ``GraphQueries._first_level`` and ``GraphQueries._chain_heads``
(and of the oracle in ``tests/queries/oracle.py``): the same actors, the same validity test
(a claim is dropped only when certainly invalid at the act's date), the same order of
evidence, so that the first reason recorded for a person and act is the same.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from sys import intern
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.dates import MAX_DAY, MIN_DAY, UNKNOWN, parse_date
from graph.store import Store
from queries.chunked import Arrays, build_reader, release_memory, shared, table_pool
from queries.column_reader import reader
from queries.cypher import GAPS_COLUMNS, GAPS_TYPES, gaps_acts_query, gaps_rel_query

MAX_DEPTH = 20  # as queries.service.MAX_DEPTH
ORG_HEADS_MEMO = 200_000  # organisations' heads (organisation, interval) remembered

Bound = tuple[str, int, int]  # (other end, from_lo, to_hi)


REASONS_SHOWN = 50  # reasons listed per person (all are counted and scored)


class GapScan:
    """Persons implicated in acts: name, score (per act, the weight of the strongest
    role), how many (act, role) reasons, and the first ``REASONS_SHOWN`` of them in (act,
    role) order as (act, role, detail). Only these are kept: at a million nodes the head
    of a top organisation is a superior in every act below it (tens of millions of reasons
    over all persons), far more than memory or an answer can hold.

    Held as arrays (``_compact``), the reasons as numbers into the acts, roles and details:
    as Python tuples the 2.5 million reasons shown at scale 1 took about 400 MiB in each
    worker that had answered a gaps question. The arrays are shared by the processes
    serving one read-only database like the hierarchy (``queries.chunked.shared``): one
    build and one copy for all of them."""

    def __init__(self, generation: int, arrays: Arrays) -> None:
        self.generation = generation
        self.ids: list[str] = arrays["person_id"].to_pylist()
        self.names: list[str] = arrays["person_name"].to_pylist()
        self.scores: list[float] = arrays["score"].tolist()
        self._row = {pid: i for i, pid in enumerate(self.ids)}
        self._total: np.ndarray = arrays["total"]
        self._ptr: np.ndarray = arrays["reason_ptr"]
        self._act: np.ndarray = arrays["reason_act"]
        self._role: np.ndarray = arrays["reason_role"]
        self._detail: np.ndarray = arrays["reason_detail"]
        self._roles: list[str] = arrays["role"].to_pylist()
        self._act_id = reader(arrays["act_id"])
        self._act_name = reader(arrays["act_name"])
        self._detail_text = reader(arrays["detail"])

    def __len__(self) -> int:
        return len(self.ids)

    def total(self, pid: str) -> int:
        return int(self._total[self._row[pid]])

    def reasons(self, pid: str) -> list[tuple[str, str | None, str, str]]:
        """(act id, act name, role, detail) of the person's reasons shown."""
        i = self._row[pid]
        lo, hi = int(self._ptr[i]), int(self._ptr[i + 1])
        return [(self._act_id(a), self._act_name(a), self._roles[r], self._detail_text(d))
                for a, r, d in zip(self._act[lo:hi].tolist(), self._role[lo:hi].tolist(),
                                   self._detail[lo:hi].tolist())]


class _Shown:
    """The reasons shown per person, numbered as the walk records them: three int32 per
    reason (act, role, detail), the acts and details named once. As (act, role, detail)
    tuples the 2.5 million reasons shown at scale 1 held about 150 MiB more through the
    walk, the scan's peak."""

    def __init__(self, roles: list[str]) -> None:
        self.roles = roles
        self.role_of = {r: i for i, r in enumerate(roles)}
        self.acts: dict[str, int] = {}  # only the acts some reason shown cites
        self.act_names: list[str] = []
        self.details: dict[str, int] = {}
        self.by_person: dict[str, array[int]] = {}

    def add(self, pid: str, act_id: str, act_name: str, roles: dict[str, str]) -> None:
        """The person's reasons in one act (role -> detail), in role order, up to
        ``REASONS_SHOWN`` for the person."""
        got = self.by_person.get(pid)
        if got is None:
            got = self.by_person[pid] = array("i")
        if len(got) >= 3 * REASONS_SHOWN:
            return
        act = self.acts.get(act_id)
        if act is None:
            act = self.acts[act_id] = len(self.acts)
            self.act_names.append(act_name)
        details = self.details
        for role, detail in sorted(roles.items()):
            if len(got) >= 3 * REASONS_SHOWN:
                break
            got.extend((act, self.role_of[role], details.setdefault(detail, len(details))))


def _compact(people: dict[str, str], score: dict[str, float], total: dict[str, int],
             shown: _Shown) -> Arrays:
    """The walk's result as ``GapScan``'s arrays."""
    ids = list(people)
    flat: array[int] = array("i")
    ptr = [0]
    for pid in ids:
        flat.extend(shown.by_person.get(pid, ()))
        ptr.append(len(flat) // 3)
    reasons = np.frombuffer(flat, dtype=np.intc).reshape(-1, 3)
    return {
        "person_id": pa.array(ids, pa.large_string()),
        "person_name": pa.array([people[p] for p in ids], pa.large_string()),
        "score": np.array([score.get(p, 0.0) for p in ids], dtype=np.float64),
        "total": np.array([total.get(p, 0) for p in ids], dtype=np.int64),
        "reason_ptr": np.array(ptr, dtype=np.int64),
        "reason_act": reasons[:, 0].astype(np.int32),
        "reason_role": reasons[:, 1].astype(np.int8),
        "reason_detail": reasons[:, 2].astype(np.int32),
        "act_id": pa.array(list(shown.acts), pa.large_string()),
        "act_name": pa.array(shown.act_names, pa.large_string()),
        "detail": pa.array(list(shown.details), pa.large_string()),
        "role": pa.array(shown.roles, pa.large_string()),
    }


_CACHE: weakref.WeakKeyDictionary[Store, dict[bool, GapScan]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _kept_scan(store: Store, include_restricted: bool) -> GapScan | None:
    per = _CACHE.get(store)
    got = per.get(include_restricted) if per is not None else None
    return got if got is not None and got.generation == store.generation else None


def scan_ready(store: Store, include_restricted: bool) -> bool:
    """Whether this process holds the scan of the store's generation and view (asking gaps
    then answers at once; else it builds the scan, or maps another process's)."""
    return _kept_scan(store, include_restricted) is not None


class Progress(Protocol):
    """What shows a long scan's progress (``ingest.progress.Progress`` is one): a task with
    a total, ticked as it advances."""

    def task(self, description: str, total: int | None = None
             ) -> AbstractContextManager[Callable[[int], None]]: ...


def _task(progress: Progress | None, description: str, total: int
          ) -> AbstractContextManager[Callable[[int], None]]:
    if progress is None:
        return nullcontext(_no_tick)
    return progress.task(description, total)


def _no_tick(n: int = 1) -> None:
    return None


def gap_scan(store: Store, include_restricted: bool,
             clusters: Callable[[list[str]], dict[str, list[str]]],
             weights: dict[str, float], progress: Progress | None = None) -> GapScan:
    """The scan for this store's generation and view (built on first use; for a read-only
    database, built by the first process that needs it and mapped by the others).
    ``progress`` shows the build (60-95 s at scale 1: the tables read, the acts walked);
    a scan already built or mapped shows none."""
    gen = store.generation
    got = _kept_scan(store, include_restricted)
    if got is not None:  # without the lock: the other view's build may hold it
        return got
    with _LOCK:
        got = _kept_scan(store, include_restricted)  # built while this thread waited
        if got is not None:
            return got

        def build() -> Arrays:
            # each table is read through a reader of its own, closed once its rows are
            # Python tuples, so the walk runs with no reader open: the pages the reads
            # touched (up to a reader's pool) stayed resident through the whole walk when
            # it ran inside one reader, and made the scan the benchmark's peak (1,951 MiB)
            with _task(progress, "gaps: reading the relation tables",
                       len(GAPS_TYPES) + 2) as tick:
                walk = _Walk(_read(store, include_restricted, tick), clusters)
            with _task(progress, "gaps: walking every act", len(walk.tb.acts)) as tick:
                found = walk.run(weights, tick)
            del walk  # its tables and memos go before the arrays are built
            arrays = _compact(*found)
            del found
            release_memory()  # the walk's temporaries, hundreds of MB
            return arrays

        view = "all" if include_restricted else "public"
        weighed = hashlib.sha256(json.dumps(sorted(weights.items())).encode()).hexdigest()
        arrays = shared(store, f"gaps-{view}-{weighed[:12]}", build,
                        lambda arrays: (arrays, {}), lambda arrays, _: arrays, touch=False)
        scan = GapScan(gen, arrays)
        per = _CACHE.get(store)
        if per is None or any(s.generation != gen for s in per.values()):
            per = {}
            _CACHE[store] = per
        per[include_restricted] = scan
        return scan


def _lo(v: Any) -> int:
    return int(v) if v else MIN_DAY


def _hi(v: Any) -> int:
    return int(v) if v else MAX_DAY


@dataclass
class _Tables:
    """What the walk reads of the graph, visible claims only, each list in the order the
    walk takes its evidence in (by other end, then claim id). Claim ids are not kept (the
    walk names acts and persons, not claims), and ids are interned, so one node named by
    several tables is one string: held through a walk of a few minutes, they were most of
    the scan's memory."""

    acts: dict[str, tuple[str, str, str | None, str | None]] = field(
        default_factory=dict)  # id -> kind, name, subtype, date
    with_incident: set[str] = field(default_factory=set)  # cases an incident resulted in
    inc_cases: dict[str, list[str]] = field(default_factory=dict)
    perps: dict[str, list[tuple[str, str, str | None]]] = field(
        default_factory=dict)  # act -> (perpetrator, kind, role)
    places: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (place, kind)
    # act -> its victims' places of detention, victim by victim (the victims themselves
    # are not kept: half a million ids held through the walk for this one use)
    detained: dict[str, list[str]] = field(default_factory=dict)
    jin: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (type, person)
    jout: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (type, court)
    names: dict[str, str] = field(default_factory=dict)
    org_name: dict[str, str] = field(default_factory=dict)
    holds_out: dict[str, list[Bound]] = field(default_factory=dict)
    member_out: dict[str, list[Bound]] = field(default_factory=dict)
    pin_out: dict[str, list[Bound]] = field(default_factory=dict)
    parents: dict[str, list[Bound]] = field(default_factory=dict)
    holders_in: dict[str, list[Bound]] = field(default_factory=dict)  # post -> holders
    head_in: dict[str, list[tuple[str, str, int, int]]] = field(
        default_factory=dict)  # org -> (head post, its name, from_lo, to_hi)


_INTERNED = frozenset({"a", "b", "akind", "bkind", "role"})  # strings met many times
_DAYS = frozenset({"from_lo", "to_hi"})  # one int object per day (a cache per read)


def _rows(store: Store, rel_type: str, order: tuple[str, ...] = (),
          tick: Callable[[int], None] = _no_tick) -> Iterable[tuple[Any, ...]]:
    """Every claim of a type as a tuple of the columns its query reads
    (``queries.cypher.GAPS_COLUMNS``, in that order) but the claim id, sorted by ``order``:
    the id orders evidence without being kept. Sorted in Arrow, so the walk's lists come
    in order without a Python sort of each."""
    columns = [c for c in GAPS_COLUMNS[rel_type] if c != "id"]
    with build_reader(store, table_pool()) as source:
        t = source.run_arrow(gaps_rel_query(rel_type))
        if not t.num_rows:
            tick(1)
            return []
        if order:
            t = t.take(pc.sort_indices(t, sort_keys=[(c, "ascending") for c in order]))
        cols: list[list[Any]] = []
        for c in columns:
            if c not in t.column_names:  # (the Neo4j text of the query, say, left it out)
                raise KeyError(f"the gaps query of {rel_type} does not read column {c!r}")
            values = t.column(c).to_pylist()
            if c in _INTERNED:
                values = [v if v is None else intern(v) for v in values]
            elif c in _DAYS:
                days: dict[Any, Any] = {}
                values = [days.setdefault(v, v) for v in values]
            cols.append(values)
        del t
    tick(1)
    return zip(*cols)  # one row at a time: a list of them was a table's size again


def _read(store: Store, inc: bool, tick: Callable[[int], None] = _no_tick) -> _Tables:
    """The tables, a reader each (``_rows``; ``queries.chunked.table_pool``, as the
    hierarchy reads its own): one reader for all of them kept every earlier read's pages
    in its pool."""
    def visible(restricted: Any) -> bool:
        return inc or not restricted

    tb = _Tables()

    def rows(rel_type: str, order: tuple[str, ...] = ()) -> Iterable[tuple[Any, ...]]:
        return _rows(store, rel_type, order, tick)

    for kind in ("Incident", "Case"):
        with build_reader(store, table_pool()) as source:
            t = source.run_arrow(gaps_acts_query(kind))
            cols = {c: t.column(c).to_pylist() for c in t.column_names}
            del t
        tick(1)
        if not cols.get("id"):
            continue
        for i, nid in enumerate(cols["id"]):
            if visible(cols["restricted"][i]):
                tb.acts[intern(nid)] = (kind, cols["name"][i] or nid, cols["subtype"][i],
                                        cols["at"][i])
    acts = tb.acts
    for a, b, ar, br in rows("RESULT_OF", ("a", "b", "id")):
        if a in acts and acts[a][0] == "Incident" and visible(ar):
            tb.with_incident.add(b)
            if visible(br):
                tb.inc_cases.setdefault(a, []).append(b)
    for a, b, bk, br, role, bn in rows("PERPETRATED_BY", ("a", "b", "id")):
        if a in acts and visible(br):
            tb.perps.setdefault(a, []).append((b, bk, role))
            if bk == "Person":
                tb.names[b] = bn or b
    for a, b, bk, br in rows("OCCURRED_AT", ("a", "b", "id")):
        if a in acts and visible(br):
            tb.places.setdefault(a, []).append((b, bk))
    vic: dict[str, list[str]] = {}
    for a, b, ak, ar in rows("VICTIM_OF", ("b", "a", "id")):
        if b in acts and ak == "Person" and visible(ar):
            vic.setdefault(b, []).append(a)
    det: dict[str, list[str]] = {}
    for a, b, bk, br in rows("DETAINED_AT", ("a", "b", "id")):
        if bk == "Organization" and visible(br):
            det.setdefault(a, []).append(b)
    # folded once no reader is open (read in this order, the larger table is read first,
    # before the other's lists exist: the lower peak of the two orders)
    for act, victims in vic.items():
        places = [org for v in victims for org in det.get(v, ())]
        if places:
            tb.detained[act] = places
    del vic, det
    for typ in ("JUDGE_IN", "PROSECUTOR_IN"):  # a case's judges, then its prosecutors
        for a, b, ak, ar, an in rows(typ, ("b", "a", "id")):
            if ak == "Person" and visible(ar):
                tb.jin.setdefault(b, []).append((typ, a))
                tb.names[a] = an or a
    for typ in ("HEARD_BY", "UPHELD_BY"):
        for a, b, bk, br in rows(typ, ("a", "b", "id")):
            if bk == "Organization" and visible(br):
                tb.jout.setdefault(a, []).append((typ, b))
    for a, b, ak, ar, br, an, flo, thi in rows("HOLDS", ("b", "a", "id")):
        if visible(br):
            tb.holds_out.setdefault(a, []).append((b, _lo(flo), _hi(thi)))
        if ak == "Person" and visible(ar):
            tb.holders_in.setdefault(b, []).append((a, _lo(flo), _hi(thi)))
            tb.names.setdefault(a, an or a)
    for a, b, bk, br, bn, flo, thi in rows("MEMBER_OF"):
        if bk == "Organization" and visible(br):
            tb.member_out.setdefault(a, []).append((b, _lo(flo), _hi(thi)))
            tb.org_name[b] = bn or b
    for a, b, ak, bk, ar, br, an, bn, flo, thi, head in rows("POSITION_IN", ("b", "a", "id")):
        if bk == "Organization" and visible(br):
            tb.pin_out.setdefault(a, []).append((b, _lo(flo), _hi(thi)))
            tb.org_name[b] = bn or b
        if ak == "Position" and visible(ar) and head:
            tb.head_in.setdefault(b, []).append((a, an or a, _lo(flo), _hi(thi)))
    for a, b, bk, br, bn, flo, thi in rows("PART_OF"):
        if bk == "Organization" and visible(br):
            tb.parents.setdefault(a, []).append((b, _lo(flo), _hi(thi)))
            tb.org_name[b] = bn or b
    return tb


class _Walk:
    """Every act, its actors, and the heads above them at its date, over ``_Tables``."""

    def __init__(self, tables: _Tables,
                 clusters: Callable[[list[str]], dict[str, list[str]]]) -> None:
        self.tb = tables
        self.clusters_of = clusters
        self._clusters: dict[str, list[str]] = {}
        self._details: dict[tuple[str, str], str] = {}
        self._bounds: dict[str, list[int]] = {}
        self._org_heads: dict[tuple[str, int, int], list[tuple[str, str]]] = {}

    def cluster(self, pid: str) -> list[str]:
        c = self._clusters.get(pid)
        if c is None:
            c = self.clusters_of([pid])[pid]
            self._clusters[pid] = c
        return c

    def head_detail(self, pos: str, pname: str, org: str) -> str:
        """One shared string per (post, organisation): millions of reasons cite them."""
        d = self._details.get((pos, org))
        if d is None:
            d = self._details[(pos, org)] = (
                f"{pname} (head of {self.tb.org_name.get(org, org)})")
        return d

    def org_heads(self, org: str, lo: int, hi: int) -> list[tuple[str, str]]:
        """(holder, detail) of the organisation's head posts not certainly invalid in
        [lo, hi], in (post, claim, holder, claim) order, repeats included.

        Kept per interval of the days where any of those claims starts or ends (as
        ``queries.structure.Structure.interval``): every date in one interval gives the
        same list. The top organisations are above almost every act, and listing their
        heads again for each act was half the scan's time."""
        bounds = self._bounds.get(org)
        if bounds is None:
            days: set[int] = set()
            for pos, _, flo, thi in self.tb.head_in.get(org, ()):
                days.update((flo, thi + 1))
                for _, f2, t2 in self.tb.holders_in.get(pos, ()):
                    days.update((f2, t2 + 1))
            bounds = self._bounds[org] = sorted(days)
        key = (org, bisect_right(bounds, lo), bisect_right(bounds, hi))
        got = self._org_heads.get(key)
        if got is None:
            got = []
            for pos, pname, flo, thi in self.tb.head_in.get(org, ()):
                if flo > hi or thi < lo:
                    continue
                for person, f2, t2 in self.tb.holders_in.get(pos, ()):
                    if not (f2 > hi or t2 < lo):
                        got.append((person, self.head_detail(pos, pname, org)))
            if len(self._org_heads) >= ORG_HEADS_MEMO:
                self._org_heads.clear()
            self._org_heads[key] = got
        return got

    def heads(self, who: str, kind: str, lo: int, hi: int) -> list[tuple[str, str]]:
        """(person, detail) of the heads of every organisation at or above ``who`` at the
        date, the first detail met per person (organisations in id order).

        Not remembered per (actor, date): at scale 1 one call in a thousand was asked
        again (acts fall on different days), and the 100,000 lists kept cost about 105 MiB
        of the scan's peak; the organisations' heads per interval (``org_heads``) are."""
        tb = self.tb
        entry: set[str] = set()
        if kind == "Person":
            for m in self.cluster(who):
                for pos, flo, thi in tb.holds_out.get(m, ()):
                    if flo > hi or thi < lo:
                        continue
                    for org, f2, t2 in tb.pin_out.get(pos, ()):
                        if not (f2 > hi or t2 < lo):
                            entry.add(org)
                for org, flo, thi in tb.member_out.get(m, ()):
                    if not (flo > hi or thi < lo):
                        entry.add(org)
        else:
            entry.add(who)
        reach = set(entry)
        frontier = entry
        parents = tb.parents
        for _ in range(MAX_DEPTH):
            if not frontier:
                break
            nxt = {p for o in frontier for p, flo, thi in parents.get(o, ())
                   if not (flo > hi or thi < lo) and p not in reach}
            reach |= nxt
            frontier = nxt
        first_seen: dict[str, str] = {}  # a head met again adds nothing (first wins)
        head_in = tb.head_in
        for o in sorted(reach):
            if o in head_in:
                for person, detail in self.org_heads(o, lo, hi):
                    if person not in first_seen:
                        first_seen[person] = detail
        return list(first_seen.items())

    def run(self, weights: dict[str, float], tick: Callable[[int], None] = _no_tick
            ) -> tuple[dict[str, str], dict[str, float], dict[str, int], _Shown]:
        """(people, score, total, shown): ``_compact``'s inputs."""
        tb = self.tb
        people: dict[str, str] = {}
        score: dict[str, float] = {}
        total: dict[str, int] = {}
        shown = _Shown(list(weights))
        names = tb.names
        for done, act_id in enumerate(sorted(tb.acts), 1):
            if not done % 1000:
                tick(1000)
            kind, aname, sub, at_text = tb.acts[act_id]
            if kind == "Case" and act_id in tb.with_incident:
                continue
            at = parse_date(at_text) if at_text else UNKNOWN
            first: list[tuple[str, str, str, str]] = []  # who, kind, role, detail
            if kind == "Incident":
                # claims out of the act in (type, other, id) order: OCCURRED_AT, then
                # PERPETRATED_BY (RESULT_OF only leads to cases)
                for org, bk in tb.places.get(act_id, ()):
                    if bk == "Organization":
                        first.append((org, bk, "custodial",
                                      f"place of {(sub or 'the act').replace('_', ' ')}"))
                for who, bk, role in tb.perps.get(act_id, ()):
                    r = "inciting" if (role or "").lower().startswith("incit") else "direct"
                    first.append((who, bk, r, role or "perpetrator"))
                for org in tb.detained.get(act_id, ()):
                    first.append((org, "Organization", "custodial", "place of detention"))
                cases = tb.inc_cases.get(act_id, [])
            else:
                cases = [act_id]
            for c in cases:
                for typ, person in tb.jin.get(c, ()):
                    first.append((person, "Person", "judicial",
                                  "judge" if typ == "JUDGE_IN" else "prosecutor"))
                for typ, org in tb.jout.get(c, ()):
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
                    for h, hdetail in self.heads(who, wkind, at.lo, at.hi):
                        if h not in people:
                            people[h] = names.get(h, h)
                        here.setdefault(h, {}).setdefault("superior", hdetail)
            for pid, roles in here.items():
                # acts come in id order, so sums and lists run in (act, role) order
                score[pid] = score.get(pid, 0) + max(weights[r] for r in roles)
                total[pid] = total.get(pid, 0) + len(roles)
                shown.add(pid, act_id, aname, roles)
        tick(len(tb.acts) % 1000)
        return people, score, total, shown
