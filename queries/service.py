"""``GraphQueries``: every question the product answers, as typed answers.

Each question is a few named queries (``queries.cypher``: primary-key lookups and one-hop
adjacency walks, batched with ``UNWIND``) plus the Python that assembles the answer. The
hierarchy relations and acts' attributions are held in process per store generation
(``Structure``); paths and network analytics run on a cached columnar projection
(``queries.projection``); sanctions gaps on a whole-graph scan (``queries.gaps``); name
search on an in-process index of the stored name keys (``queries.search``).

Two rules hold in every method:
- Evidence: every link is a ``Claim`` with its dates, confidence and resolved sources; at a
  date, a claim that certainly did not hold is left out and one whose dates cannot decide
  is kept and marked ``dates_unknown``.
- Restriction: with ``include_restricted=False`` a restricted node and every claim touching
  it are invisible: not in results, paths, counts or search, and an id that exists but is
  restricted raises the same ``NotFound`` as an unknown one.

The semantics are written a second time, independently, in ``tests/queries/oracle.py``
(plain networkx over the input records); property tests require both to agree.
"""

from __future__ import annotations

import json
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import networkx as nx
import numpy as np
from pydantic import BaseModel

from graph.dates import (
    MAX_DAY,
    MIN_DAY,
    UNKNOWN,
    DateError,
    FuzzyDate,
    Validity,
    parse_date,
    validity_on,
)
from graph.ids import check_id
from graph.model import COMMON_NODE_FIELDS, NODE_KINDS, ids_by_kind, kind_of_id
from graph.names import normalise
from graph.records import NodeRecord
from graph.schema import UNSOURCED_EXEMPT
from graph.store import Store
from queries import answers as A
from queries.cypher import (
    SAME_AS_ALL,
    SOURCES_ALL,
    edges_query,
)
from queries.errors import Ambiguous, BadParameter, NotFound
from queries.gaps import Progress as GapsProgress
from queries.gaps import gap_scan, scan_ready
from queries.kept import Kept, kept, lean
from queries.projection import edge_rank, projection, shortest_paths
from queries.search import NameIndex, rank
from queries.structure import STRUCTURE_SET, STRUCTURES, Structure, structure

LOOP_IDS = 2000  # up to this many nodes, one primary-key query each (see queries.cypher)
MAX_DEPTH = 20  # PART_OF levels walked up or down (cycles are cut by the visited set)
PATHS_LIMIT = 10  # shortest paths returned
RESOLVE_SCORE = 90.0  # a name resolves to an entity when it matches this well
ROLE_WEIGHT = {"direct": 3.0, "judicial": 3.0, "inciting": 2.0, "custodial": 1.0,
               "superior": 1.0, "institutional": 1.0}
ANALYTICS_KINDS = ("Person", "Organization", "Position", "Case", "Incident")
MEASURES = ("degree", "betweenness", "communities", "brokers")
NOTICE_PER_ORG = 10  # earlier incidents shown per organisation and act (all are counted)
BETWEENNESS_SAMPLE = 500  # above this many nodes betweenness is estimated from a sample

_INDEXES: weakref.WeakKeyDictionary[Store, NameIndex] = weakref.WeakKeyDictionary()
_SAME_AS: weakref.WeakKeyDictionary[Store, tuple[int, dict[str, list[tuple[str, bool]]]]] = \
    weakref.WeakKeyDictionary()



_SOURCES: weakref.WeakKeyDictionary[
    Store, tuple[int, dict[str, dict[str, Any]], dict[str, A.SourceRef]]] = \
    weakref.WeakKeyDictionary()


def _sources(store: Store) -> dict[str, dict[str, Any]]:
    """Every source's display fields by id, per store generation (answers cite a few of
    some 20,000 sources; a round trip per answer cost more than the rest of a chain)."""
    return _source_cache(store)[0]


def _source_refs(store: Store) -> dict[str, A.SourceRef]:
    """Each source's reference as answers show it, built once per store generation and
    shared by every answer that cites it (an accountability answer cites about a thousand:
    building them per answer was a fifth of its time). Treated as immutable."""
    return _source_cache(store)[1]


def _source_cache(store: Store) -> tuple[dict[str, dict[str, Any]], dict[str, A.SourceRef]]:
    cached = _SOURCES.get(store)
    if cached is not None and cached[0] == store.generation:
        return cached[1], cached[2]
    gen = store.generation
    t = store.run_arrow(SOURCES_ALL)
    found: dict[str, dict[str, Any]] = {r["id"]: r for r in t.to_pylist()} if t.num_rows else {}
    _SOURCES[store] = (gen, found, {})
    return found, _SOURCES[store][2]


def _same_as(store: Store) -> dict[str, list[tuple[str, bool]]]:
    """SAME_AS adjacency (both directions) with the other end's restriction flag."""
    cached = _SAME_AS.get(store)
    if cached is not None and cached[0] == store.generation:
        return cached[1]
    gen = store.generation
    adj: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for row in store.run(SAME_AS_ALL):
        adj[row["a"]].append((row["b"], bool(row.get("br"))))
        adj[row["b"]].append((row["a"], bool(row.get("ar"))))
    _SAME_AS[store] = (gen, dict(adj))
    return adj


@dataclass
class Edge:
    """One claim as seen from ``src`` (the node asked about)."""

    src: str
    type: str
    id: str
    other: str
    okind: str
    direction: str  # out: src is the claim's from; in: src is its to
    row: dict[str, Any] = field(repr=False)
    status: str | None = None
    # the row's ``x_*`` keys in row order, when known (structure rows), so that ``_claim``
    # need not scan every key of the row for them
    extras: Sequence[str] | None = field(default=None, repr=False)

    @property
    def from_id(self) -> str:
        return self.src if self.direction == "out" else self.other

    @property
    def to_id(self) -> str:
        return self.other if self.direction == "out" else self.src


# an organisation on a walked chain: (organisation, level, heads, head posts), the heads
# and head posts as ``_org_parts`` keeps them
ChainOrgParts = tuple[A.EntityRef, int, tuple[Any, ...], tuple[Any, ...]]


@dataclass
class ChainWalk:
    """One chain as ``GraphQueries._chains`` walked it: the answer (None when walked
    ``light``), the organisations on it with their heads (only when ``light``), and the
    best path of claims from the entry point to each organisation."""

    answer: A.ChainAnswer | None
    orgs: list[ChainOrgParts]
    paths: dict[str, list[A.Claim]]


def parse_at(at: str | None, field_name: str = "at") -> FuzzyDate | None:
    """A question's date: YYYY, YYYY-MM or YYYY-MM-DD (BadParameter otherwise)."""
    if at is None:
        return None
    if not str(at).strip():
        raise BadParameter(field_name, "a date is required (YYYY, YYYY-MM or YYYY-MM-DD)")
    try:
        d = parse_date(at)
    except DateError as exc:
        raise BadParameter(field_name, str(exc)) from exc
    if not d.known:
        raise BadParameter(field_name, f"'{at}' is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
    return d


def _worst(*statuses: str | None) -> Any:
    if "dates_unknown" in statuses:
        return "dates_unknown"
    if "valid" in statuses:
        return "valid"
    return None


def _status_at(e: Edge, at: FuzzyDate) -> Any:
    """A claim's status at ``at`` (None: it certainly did not hold), from its row's day
    bounds (``graph.dates.validity_on``)."""
    r = e.row
    v = validity_on(r.get("from_lo") or MIN_DAY, r.get("from_hi") or MAX_DAY,
                    r.get("to_lo") or MIN_DAY, r.get("to_hi") or MAX_DAY, at.lo, at.hi)
    return None if v is Validity.INVALID else v.value


def path_key(path: Sequence[A.Claim]) -> tuple[bool, int, tuple[str, ...]]:
    """Which of several paths an answer shows: decided ones first, then the shortest, then
    by claim ids (the oracle uses the same rule)."""
    return (any(c.status == "dates_unknown" for c in path), len(path),
            tuple(c.id for c in path))


def best_path(paths: Sequence[list[A.Claim]]) -> list[A.Claim]:
    """``min`` by ``path_key``, without keys when there is one path (most organisations
    are reached one way: the keys were a twentieth of an accountability answer)."""
    return paths[0] if len(paths) == 1 else min(paths, key=path_key)


def _walk(obj: Any) -> Iterator[BaseModel]:
    """Every model inside an answer (iteratively: answers can hold thousands of claims)."""
    stack = [obj]
    seen: set[int] = set()
    while stack:
        x = stack.pop()
        if isinstance(x, BaseModel):
            if id(x) in seen:
                continue  # a claim shared by several paths is visited once
            seen.add(id(x))
            yield x
            stack.extend(v for v in x.__dict__.values() if isinstance(v, (BaseModel, list, dict)))
        elif isinstance(x, list):
            stack.extend(v for v in x if isinstance(v, (BaseModel, list, dict)))
        elif isinstance(x, dict):
            stack.extend(v for v in x.values() if isinstance(v, (BaseModel, list, dict)))


def entity_from_props(kind: str, nid: str, props: dict[str, Any]) -> A.EntityRef:
    sub = props.get("authority") if kind == "Sanction" else props.get("kind")
    date = props.get("date") or props.get("verdict_date") or props.get("listed")
    return A.EntityRef(id=nid, kind=kind, name=props.get("name") or props.get("title") or nid,
                       subtype=sub, date=date)


class GraphQueries:
    """The questions, over one store. Cheap to construct (caches live per store).

    ``before_search`` and ``before_gaps`` let a server hold questions at its gates (the
    name index's background build, the gaps scan's): hooks rather than a subclass, since
    this class is compiled (``graph.native``) and a compiled class cannot be subclassed
    by interpreted code."""

    def __init__(self, store: Store, *, include_restricted: bool = True,
                 before_search: Callable[[], None] | None = None,
                 before_gaps: Callable[[GraphQueries], None] | None = None) -> None:
        self.store = store
        self.include_restricted = include_restricted
        self._kept_now: tuple[int, Kept] | None = None
        self._before_search = before_search
        self._before_gaps = before_gaps

    # -- low-level helpers -------------------------------------------------------------
    def _visible(self, restricted: Any) -> bool:
        return self.include_restricted or not restricted

    def _nodes(self, ids: Iterable[str]) -> dict[str, NodeRecord]:
        found = self.store.get_nodes(sorted(set(ids)))
        return {k: v for k, v in found.items() if self._visible(v.props.get("restricted"))}

    def _edges(self, ids: Iterable[str], direction: str, types: Sequence[str] = (),
               at: FuzzyDate | None = None, heads_only: bool = False) -> list[Edge]:
        """The claims of ``types`` leaving (out) or entering (in) ``ids``, visible and not
        certainly invalid at ``at``; with ``heads_only``, only those whose other end is a
        head post (the structure path then builds no row for the others)."""
        by_kind = ids_by_kind(sorted(set(ids)))
        d_lo, d_hi = (at.lo, at.hi) if at is not None else (MIN_DAY, MAX_DAY)
        out: list[Edge] = []
        # the hierarchy types come from the process, only the others from the engine (a
        # path mixing a post and a trial asks for both)
        held = [t for t in types if t in STRUCTURE_SET]
        if held:
            self._structure_edges(by_kind, direction, set(held), d_lo, d_hi, at, out,
                                  heads_only)
            types = [t for t in types if t not in STRUCTURE_SET]
            if not types:
                out.sort(key=lambda e: (e.src, e.type, e.other, e.id))
                return out
        for kind, kind_ids in by_kind.items():
            name = edges_query(kind, direction, tuple(types))
            if name is None:
                continue
            if len(kind_ids) <= LOOP_IDS:
                rows = [row for i in kind_ids for row in self.store.run(
                    name + ".one", {"id": i, "d_lo": d_lo, "d_hi": d_hi})]
            else:
                rows = self.store.run(name, {"ids": kind_ids, "d_lo": d_lo, "d_hi": d_hi})
            for row in rows:
                if not self._visible(row.get("o_restricted")):
                    continue
                if heads_only and not row.get("o_is_head"):
                    continue
                out.append(Edge(row["src"], row["type"], row["id"], row["other"],
                                row["okind"], direction, row,
                                row["status"] if at is not None else None))
        out.sort(key=lambda e: (e.src, e.type, e.other, e.id))
        return out

    def _structure_edges(self, by_kind: dict[str, list[str]], direction: str, types: set[str],
                         d_lo: int, d_hi: int, at: FuzzyDate | None, out: list[Edge],
                         heads_only: bool = False) -> None:
        """``_edges`` for the hierarchy relations, from the in-process structure: the same
        rows the named edge queries return, filtered and marked with the same arithmetic
        as their Cypher (``coalesce`` of missing bounds to the widest span)."""
        st = structure(self.store)
        nids = [nid for kind_ids in by_kind.values() for nid in kind_ids]
        sel = st.select(direction, nids, types, d_lo, d_hi, self.include_restricted,
                        heads_only)
        if len(sel) > 1:
            st.prefetch([idx for _, idx, _, _ in sel], [other for _, _, other, _ in sel])
        for nid, idx, other, valid in sel:
            e = self._structure_row(st, nid, idx, other, direction,
                                    "valid" if valid else "dates_unknown", at)
            if not heads_only or e.row.get("o_is_head"):  # the arrays only pre-filter
                out.append(e)

    def _structure_edge(self, st: Structure, nid: str, idx: int, other: str, direction: str,
                        d_lo: int, d_hi: int, at: FuzzyDate | None) -> Edge | None:
        """One in-process claim as the edge queries return it (None when hidden or
        certainly invalid in [d_lo, d_hi])."""
        c = st.claim(idx)
        _, ofields = st.node(other)
        if not self._visible(ofields.get("o_restricted")):
            return None
        f_lo = MIN_DAY if c["from_lo"] is None else c["from_lo"]
        f_hi = MAX_DAY if c["from_hi"] is None else c["from_hi"]
        t_lo = MIN_DAY if c["to_lo"] is None else c["to_lo"]
        t_hi = MAX_DAY if c["to_hi"] is None else c["to_hi"]
        if f_lo > d_hi or t_hi < d_lo:
            return None
        status = "valid" if f_hi <= d_lo and t_lo >= d_hi else "dates_unknown"
        return self._structure_row(st, nid, idx, other, direction, status, at)

    def _structure_row(self, st: Structure, nid: str, idx: int, other: str, direction: str,
                       status: str, at: FuzzyDate | None) -> Edge:
        """One in-process claim, already kept, as the edge queries return it."""
        c = st.claim(idx)
        okind, ofields = st.node(other)
        row = {**c, **ofields, "src": nid, "other": other, "okind": okind, "status": status}
        return Edge(nid, c["type"], c["id"], other, okind, direction, row,
                    status if at is not None else None, st.extra_keys[c["type"]])

    @property
    def _kept(self) -> Kept:
        """This store generation's kept objects (looked up once per generation: an answer
        asks for them a thousand times)."""
        gen = self.store.generation
        mine = self._kept_now
        if mine is None or mine[0] != gen:
            mine = self._kept_now = (gen, kept(self.store, self.include_restricted))
        return mine[1]

    def _ref(self, e: Edge) -> A.EntityRef:
        # the same for every caller (a reference names the other end of a claim the caller
        # may see): one common set
        refs = self._kept.common.refs
        ref = refs.get(e.other)
        if ref is None:
            r = e.row
            sub = r.get("o_authority") if e.okind == "Sanction" else r.get("o_kind")
            date = r.get("o_date") or r.get("o_verdict_date") or r.get("o_listed")
            ref = A.EntityRef(id=e.other, kind=e.okind, name=r.get("o_name") or e.other,
                              subtype=sub, date=date)
            refs.put(e.other, lean(ref))
        return ref

    def _claim(self, e: Edge, names: dict[str, str] | None = None,
               status: str | None = None) -> A.Claim:
        """The claim ``e`` as answers show it, with ``names`` naming its asked end and
        ``status`` (the edge's own when not given) at the question's date. Built once
        per store generation and shared: callers never change a claim."""
        name = names.get(e.src) if names else None
        st = e.status if status is None else status
        kept_now = self._kept
        key = (e.id, e.direction, e.src, name, st)
        c = kept_now.common.claims.get(key)
        if c is None:
            c = kept_now.claims.get(key)
            if c is None:
                c = self._new_claim(e, name, st)
                home = kept_now.common if self._shareable(c.source_ids) else kept_now
                home.claims.put(key, lean(c))
        return c

    def _shareable(self, source_ids: Sequence[str]) -> bool:
        """Whether a claim citing ``source_ids`` reads the same to every caller: each source
        is a known one and none is restricted, so no caller has one withheld (what
        ``_resolve_sources`` withholds, exactly)."""
        return _all_known_open(_source_cache(self.store)[0], source_ids)

    def _new_claim(self, e: Edge, name: str | None, status: str | None) -> A.Claim:
        r = e.row
        keys = e.extras if e.extras is not None else [k for k in r if k.startswith("x_")]
        extra = {k[2:]: v for k, v in ((k, r[k]) for k in keys)
                 if k != "x_role" and v is not None}
        sids = list(r.get("source_ids") or [])
        other_name = r.get("o_name")
        return A.Claim(
            id=e.id, type=e.type, from_id=e.from_id, to_id=e.to_id,
            from_name=other_name if e.direction == "in" else name,
            to_name=other_name if e.direction == "out" else name,
            valid_from=r.get("valid_from"), valid_to=r.get("valid_to"),
            confidence=r.get("confidence"), note=r.get("note"), role=r.get("x_role"),
            extra=extra, source_ids=sids, unsourced=not sids and e.type not in UNSOURCED_EXEMPT,
            status=status,  # type: ignore[arg-type]
        )

    def _finish(self, answer: Any) -> Any:
        """Resolve every claim's sources in one lookup; fill actors' and sanctions' sources."""
        models = list(_walk(answer))
        self._resolve_sources([m for m in models if isinstance(m, A.Claim)])
        for m in models:
            if isinstance(m, A.Actor):
                m.sources = _union_sources(m.path)
            elif isinstance(m, A.SanctionRef) and m.claim is not None:
                m.sources = list(m.claim.sources)
        return answer

    def _resolve_sources(self, claims: Sequence[A.Claim]) -> None:
        """Every claim's sources resolved in one lookup (each claim once: callers pass
        distinct objects); a restricted source is dropped when restricted records are
        hidden, an unknown one is shown as missing. Claims kept from an earlier answer
        (``queries.kept``) already carry theirs and are skipped."""
        kept_now = self._kept
        done, done_common = kept_now.resolved, kept_now.common.resolved
        claims = [m for m in claims if id(m) not in done and id(m) not in done_common]
        if not claims:
            return
        wanted: set[str] = set()
        for m in claims:
            wanted.update(m.source_ids)
        known, shared = _source_cache(self.store) if wanted else ({}, {})
        rest = sorted(s for s in wanted if s not in known)
        found = {k: r.props for k, r in self.store.get_nodes(rest).items()} if rest else {}
        refs: dict[str, A.SourceRef] = {}
        hidden: set[str] = set()
        for sid in wanted:
            p = known.get(sid) or found.get(sid)
            if p is None:
                refs[sid] = A.SourceRef(id=sid, missing=True)
            elif not self._visible(p.get("restricted")):
                hidden.add(sid)
            else:
                ref = shared.get(sid) if sid in known else None
                if ref is None:
                    ref = A.SourceRef(id=sid, title=p.get("title") or p.get("name"),
                                      publisher=p.get("publisher"), date=p.get("date"),
                                      reference=p.get("reference"), url=p.get("url"),
                                      kind=p.get("kind"))
                    if sid in known:
                        shared[sid] = lean(ref)
                refs[sid] = ref
        # many claims cite the same sources: their lists are made once per distinct tuple
        made: dict[tuple[str, ...], tuple[list[A.SourceRef], list[str]]] = {}
        # a claim whose sources read the same to every caller is listed as resolved for
        # all (``_claim`` keeps it in the common set), the rest for this visibility
        shareable: dict[tuple[str, ...], bool] = {}
        mine: list[A.Claim] = []
        common: list[A.Claim] = []
        for m in claims:
            cited = tuple(m.source_ids)
            share = shareable.get(cited)
            if share is None:
                share = shareable[cited] = _all_known_open(known, cited)
            (common if share else mine).append(m)
            if hidden and not share:  # (a shareable claim cites no withheld source)
                m.source_ids = [s for s in m.source_ids if s not in hidden]
                if not m.source_ids and m.type not in UNSOURCED_EXEMPT:
                    # every source is withheld from this caller: to them the claim stands
                    # unsourced, and it is marked so (never shown as if evidenced)
                    m.unsourced = True
            key = tuple(m.source_ids)
            hit = made.get(key)
            if hit is None:
                srcs = [refs[s] for s in key]
                hit = made[key] = (srcs, sorted({s.date for s in srcs if s.date}))
            # direct to the fields (the values are already models and strings): skipping
            # pydantic's per-assignment hook halves the cost at thousands of claims
            m.__dict__["sources"] = list(hit[0])
            m.__dict__["attested"] = list(hit[1])
        kept_now.mark_resolved(mine)
        kept_now.common.mark_resolved(common)

    def _finish_chain(self, ans: A.ChainAnswer) -> A.ChainAnswer:
        """``_finish`` for a chain answer, without walking its every model (that walk cost
        as much as the chain): a ``ChainAnswer`` holds claims only in its posts, its
        organisations' parent links and heads, and no actor or sanction."""
        seen: dict[int, A.Claim] = {}
        for p in ans.posts:
            seen[id(p.holds)] = p.holds
            if p.position_in is not None:
                seen[id(p.position_in)] = p.position_in
        for o in ans.organizations:
            for link in o.parents:
                seen[id(link.claim)] = link.claim
            for h in o.heads:
                seen[id(h.holds)] = h.holds
                seen[id(h.position_in)] = h.position_in
        self._resolve_sources(list(seen.values()))
        return ans

    # -- resolution ----------------------------------------------------------------------
    def resolve(self, ref: str, kinds: Sequence[str] | None = None) -> A.EntityRef:
        """An id or a name -> one entity (NotFound / Ambiguous otherwise). ``kinds``
        narrows a name look-up to the kinds the question accepts."""
        ref = (ref or "").strip()
        if not ref:
            raise NotFound(ref)
        if check_id(ref) is None:
            st = STRUCTURES.get(self.store)
            if st is not None and st.generation == self.store.generation and ref in st.index:
                # a node at a hierarchy claim's end: its display fields are in process (no
                # round trip; the same fields ``_ref`` builds every other reference from)
                kind, fields = st.node(ref)
                if not self._visible(fields.get("o_restricted")):
                    raise NotFound(ref)
                return entity_from_props(kind, ref, {k[2:]: v for k, v in fields.items()})
            found = self._nodes([ref])
            if ref not in found:
                raise NotFound(ref)
            rec = found[ref]
            return entity_from_props(rec.kind, rec.id, rec.props)
        if kind_of_id(ref) is not None and " " not in ref:
            raise NotFound(ref)
        hits = self.search(ref, limit=50, kinds=list(kinds) if kinds else None).hits
        strong = [h for h in hits if h.score >= RESOLVE_SCORE]
        if not strong:
            raise NotFound(ref)
        if len(strong) > 1:
            # a name given in full ("Behrouz Ehsani") means that entity, not every record
            # whose name contains it ("Execution of Behrouz Ehsani")
            wanted = normalise(ref)
            nodes = self._index().nodes
            exact = [h for h in strong if any(normalise(n) == wanted
                                              for n in nodes[h.entity.id].names)]
            if len(exact) == 1:
                return exact[0].entity
            top = [h for h in strong if h.score == strong[0].score]
            if len(top) > 1 or strong[1].score >= 99:
                raise Ambiguous(ref, [{"id": h.entity.id, "name": h.entity.name,
                                       "kind": h.entity.kind, "score": h.score}
                                      for h in strong])
        return strong[0].entity

    def _resolve_kind(self, ref: str, kinds: tuple[str, ...], what: str) -> A.EntityRef:
        ent = self.resolve(ref, kinds)
        if ent.kind not in kinds:
            raise BadParameter("ref", f"{ent.id} is a {ent.kind}; {what} needs a "
                                      f"{' or '.join(k.lower() for k in kinds)}")
        return ent

    # -- SAME_AS clusters and sanctions ----------------------------------------------------
    def _clusters(self, ids: Iterable[str]) -> dict[str, list[str]]:
        """Each id -> the records judged the same (SAME_AS, either direction, transitively),
        itself first. Restricted records stay out of clusters for callers without access.
        SAME_AS links are few, so they are held in process (per store generation) and a
        cluster costs no round trip."""
        adj = _same_as(self.store)
        out: dict[str, list[str]] = {}
        for i in sorted(set(ids)):
            seen = {i}
            stack = [i]
            while stack:
                x = stack.pop()
                for y, restricted in adj.get(x, ()):
                    if y not in seen and self._visible(restricted):
                        seen.add(y)
                        stack.append(y)
            out[i] = [i] + sorted(seen - {i})
        return out

    def _sanctions(self, clusters: dict[str, list[str]]) -> dict[str, dict[str, list[A.SanctionRef]]]:
        """Each asked id -> authority -> designations targeting it or a SAME_AS record."""
        members = {m for ms in clusters.values() for m in ms}
        by_target: dict[str, list[Edge]] = defaultdict(list)
        for e in self._edges(members, "in", ("TARGETS",)):
            if e.okind == "Sanction":
                by_target[e.src].append(e)
        out: dict[str, dict[str, list[A.SanctionRef]]] = {}
        for asked, ms in clusters.items():
            per: dict[str, list[A.SanctionRef]] = defaultdict(list)
            for m in ms:
                for e in by_target.get(m, ()):
                    r = e.row
                    auth = (r.get("o_authority") or "?").upper()
                    per[auth].append(A.SanctionRef(
                        id=e.other, authority=auth, programme=r.get("o_programme"),
                        list_ref=r.get("o_list_ref"), listed=r.get("o_listed"),
                        delisted=r.get("o_delisted"), reason=r.get("o_reason"),
                        active=not r.get("o_delisted"), target_id=m,
                        via=m if m != asked else None, claim=self._claim(e)))
            out[asked] = {k: sorted(v, key=lambda s: (s.listed or "", s.id))
                          for k, v in sorted(per.items())}
        return out

    # -- profile -----------------------------------------------------------------------------
    def profile(self, ref: str) -> A.Profile:
        ent = self.resolve(ref)
        cluster = self._clusters([ent.id])[ent.id]
        recs = self._nodes(cluster)
        rec = recs[ent.id]
        prof = A.Profile(entity=ent, restricted=bool(rec.props.get("restricted")))
        common = {f.name for f in COMMON_NODE_FIELDS}
        for f in NODE_KINDS[ent.kind].fields:
            if f.name in common or f.derived:
                continue
            v = rec.props.get(f.name)
            if v not in (None, [], ""):
                prof.attributes[f.name] = v
        if rec.props.get("notes"):
            prof.attributes["notes"] = rec.props["notes"]
        prof.attributes["confidence"] = rec.props.get("confidence")
        src_claim_ids: list[str] = []
        for cid in cluster:
            r = recs.get(cid)
            if r is None:
                continue
            try:
                entries = json.loads(r.props.get("names") or "[]")
            except ValueError:
                entries = []
            for e in entries:
                prof.names.append(A.NameEntry(
                    name=e.get("name"), lang=e.get("lang"), script=e.get("script"),
                    confidence=e.get("confidence"), record_id=cid,
                    sources=[A.SourceRef(id=s) for s in e.get("source_ids") or []]))
            if cid == ent.id:
                src_claim_ids = list(r.props.get("source_ids") or [])
        # The record's own and its names' sources are resolved through a stand-in claim.
        carrier = A.Claim(id="_", type="_", from_id=ent.id, to_id=ent.id,
                          source_ids=sorted(set(src_claim_ids) | {
                              s.id for n in prof.names for s in n.sources}))
        names = {ent.id: ent.name or ent.id}
        outs = self._edges(cluster, "out")
        ins = self._edges(cluster, "in")
        pos_ids = [e.other for e in outs if e.type == "HOLDS"]
        pin: dict[str, list[Edge]] = defaultdict(list)
        for e in self._edges(pos_ids, "out", ("POSITION_IN",)):
            pin[e.src].append(e)
        seen_claims: set[str] = set()
        for e in outs + ins:
            if e.id in seen_claims or (e.type == "SAME_AS" and e.other == ent.id):
                continue  # a claim between two records of the cluster is shown once
            seen_claims.add(e.id)
            via = e.src if e.src != ent.id else None
            rel = A.Relation(claim=self._claim(e, names), direction=e.direction,  # type: ignore[arg-type]
                             other=self._ref(e), via=via)
            if e.type == "HOLDS" and e.direction == "out":
                for p in pin.get(e.other, []) or [None]:  # type: ignore[list-item]
                    prof.posts.append(A.PostHeld(
                        position=self._ref(e), holds=rel.claim, via=via,
                        organization=self._ref(p) if p else None,
                        position_in=self._claim(p) if p else None))
            elif e.type == "MEMBER_OF" and e.direction == "out":
                prof.memberships.append(rel)
            elif e.type in ("DEFENDANT_IN", "JUDGE_IN", "PROSECUTOR_IN"):
                prof.cases.append(rel)
            elif e.other.startswith("incident:") and e.type in (
                    "VICTIM_OF", "PERPETRATED_BY", "OCCURRED_AT"):
                prof.incidents.append(rel)
            elif e.type == "TARGETS":
                continue
            elif e.type == "SAME_AS":
                prof.same_as.append(rel)
            else:
                prof.relations.append(rel)
        prof.sanctions = self._sanctions({ent.id: cluster})[ent.id]
        self._finish([prof, carrier])
        by_id = {s.id: s for s in carrier.sources}
        prof.sources = [by_id[s] for s in src_claim_ids if s in by_id]
        for n in prof.names:
            n.sources = [by_id.get(s.id, s) for s in n.sources]
        return prof

    # -- chain of command ------------------------------------------------------------------
    def chain(self, ref: str, at: str) -> A.ChainAnswer:
        d = parse_at(at)
        if d is None:
            raise BadParameter("at", "a date is required (YYYY, YYYY-MM or YYYY-MM-DD)")
        ent = self._resolve_kind(ref, ("Person", "Position", "Organization"),
                                 "a chain of command")
        return self._finish_chain(self._chain_core(ent, d))

    def _chain_core(self, ent: A.EntityRef, at: FuzzyDate) -> A.ChainAnswer:
        """The chain above ``ent`` at ``at``."""
        walk = self._chains([(ent, at)])[(ent.id, at.text)]
        assert walk.answer is not None
        return walk.answer

    def _chains(self, items: Sequence[tuple[A.EntityRef, FuzzyDate]],
                holders_undated: bool = True, light: bool = False
                ) -> dict[tuple[str, str], ChainWalk]:
        """Chains above several entities, each at its own date, walked together: each step
        is one engine round trip for all of them (an act with three actors, or a thousand
        acts on different days, cost what one does). The engine filters the claims on the
        span of all the dates; each chain then keeps those not certainly invalid on its own
        date (``graph.dates.validity_on``, the arithmetic the Cypher filter uses).

        Without ``holders_undated``, a chain at an unknown date lists each organisation's
        head posts (``head_posts``) instead of every person who ever held them.

        ``light`` (an accountability answer's chains) leaves the answer models unbuilt and
        gives only ``ChainWalk.orgs`` and ``paths``: the answer shows actors, not chains,
        so the chain models built for it were thrown away unread."""
        uniq: dict[tuple[str, str], tuple[A.EntityRef, FuzzyDate]] = {}
        for ent, at in items:
            uniq.setdefault((ent.id, at.text), (ent, at))
        if not uniq:
            return {}
        span = FuzzyDate("", UNKNOWN.precision, min(a.lo for _, a in uniq.values()),
                         max(a.hi for _, a in uniq.values()))
        claims: dict[tuple[str, str], A.Claim] = {}

        status = _status_at

        def claim(e: Edge, at: FuzzyDate, st: str, names: dict[str, str]) -> A.Claim:
            key = (e.id, at.text)
            c = claims.get(key)
            if c is None:
                c = self._claim(e, names, st)
                claims[key] = c
            return c

        # every organisation seen, by id: the first reference built is kept (a model is
        # built only for an organisation not yet seen)
        refs: dict[str, A.EntityRef] = {}
        answers: dict[tuple[str, str], A.ChainAnswer] = {}
        cands: dict[tuple[str, str], dict[str, list[list[A.Claim]]]] = {}
        for key, (ent, at) in uniq.items():
            answers[key] = A.ChainAnswer(at=at.text or "unknown", entity=ent)
            cands[key] = defaultdict(list)
        persons = sorted({e.id for e, _ in uniq.values() if e.kind == "Person"})
        if persons:
            clusters = self._clusters(persons)
            members = sorted({m for ms in clusters.values() for m in ms})
            # the asked persons were just resolved: only the other records of their
            # clusters need a look-up (the same reference either way)
            prefs = {e.id: e for e, _ in uniq.values() if e.kind == "Person"}
            people = self._nodes([m for m in members if m not in prefs])
            prefs.update({i: entity_from_props("Person", i, r.props) for i, r in people.items()})
            outs: dict[str, list[Edge]] = defaultdict(list)
            for e in self._edges(members, "out", ("HOLDS", "MEMBER_OF"), span):
                outs[e.src].append(e)
            pin: dict[str, list[Edge]] = defaultdict(list)
            for e in self._edges([e.other for es in outs.values() for e in es
                                  if e.type == "HOLDS"], "out", ("POSITION_IN",), span):
                if e.okind == "Organization":
                    pin[e.src].append(e)
            for key, (ent, at) in uniq.items():
                if ent.kind != "Person":
                    continue
                ans, cand = answers[key], cands[key]
                for m in clusters[ent.id]:
                    for e in outs.get(m, ()):
                        hs = status(e, at)
                        if hs is None:
                            continue
                        via = e.src if e.src != ent.id else None
                        person = prefs.get(e.src, ent)
                        hc = claim(e, at, hs, {e.src: person.name or e.src})
                        if e.type == "MEMBER_OF":
                            if e.okind != "Organization":
                                continue
                            if e.other not in refs:
                                refs[e.other] = self._ref(e)
                            org = refs[e.other]
                            if not light:
                                ans.posts.append(A.ChainPost(person=person, organization=org,
                                                             holds=hc, status=hs, via=via))
                            cand[org.id].append([hc])
                            continue
                        for p in pin.get(e.other, ()):
                            ps = status(p, at)
                            if ps is None:
                                continue
                            pc = claim(p, at, ps, {p.src: e.row.get("o_name") or p.src})
                            if p.other not in refs:
                                refs[p.other] = self._ref(p)
                            org = refs[p.other]
                            if not light:
                                ans.posts.append(A.ChainPost(
                                    person=person, position=self._ref(e), organization=org,
                                    holds=hc, position_in=pc, status=_worst(hs, ps), via=via))
                            cand[org.id].append([hc, pc])
        posts_of = sorted({e.id: e for e, _ in uniq.values() if e.kind == "Position"}.items())
        if posts_of:
            names = {i: e.name or i for i, e in posts_of}
            pin_of: dict[str, list[Edge]] = defaultdict(list)
            for p in self._edges([i for i, _ in posts_of], "out", ("POSITION_IN",), span):
                if p.okind == "Organization":
                    pin_of[p.src].append(p)
            for key, (ent, at) in uniq.items():
                for p in pin_of.get(ent.id, ()) if ent.kind == "Position" else ():
                    ps = status(p, at)
                    if ps is not None:
                        if p.other not in refs:
                            refs[p.other] = self._ref(p)
                        cands[key][p.other].append([claim(p, at, ps, names)])
        for key, (ent, _) in uniq.items():
            if ent.kind == "Organization":
                refs.setdefault(ent.id, ent)
                cands[key][ent.id].append([])
        # walk PART_OF up, level by level, for every chain at once; each organisation's
        # parents and heads at a chain's date come from the parts kept for the interval of
        # dates that date falls in (``_org_parts``), built together for those not kept
        level: dict[tuple[str, str], dict[str, int]] = {}
        paths: dict[tuple[str, str], dict[str, list[A.Claim]]] = {}
        frontiers: dict[tuple[str, str], list[str]] = {}
        for key in uniq:
            answers[key].posts.sort(key=lambda p: (
                p.organization.id, p.position.id if p.position else "", p.holds.id))
            paths[key] = {o: best_path(c) for o, c in cands[key].items()}
            level[key] = {o: 0 for o in cands[key]}
            answers[key].entry = sorted(cands[key])
            frontiers[key] = sorted(cands[key])
        ups: dict[tuple[str, int, int], Any] = {}
        depth = 0
        while depth < MAX_DEPTH and any(frontiers.values()):
            ups.update(self._org_parts(
                "parents", {(o, uniq[key][1]) for key, f in frontiers.items() for o in f},
                refs, holders_undated))
            for key, (ent, at) in uniq.items():
                lv, pth = level[key], paths[key]
                step: dict[str, list[list[A.Claim]]] = defaultdict(list)
                nxt: list[str] = []
                for o in frontiers[key]:
                    for parent, _, c in ups[(o, at.lo, at.hi)]:
                        refs.setdefault(parent.id, parent)
                        if parent.id not in lv:
                            lv[parent.id] = depth + 1
                            nxt.append(parent.id)
                        if lv[parent.id] == depth + 1:
                            step[parent.id].append(pth[o] + [c])
                for o, cs in step.items():
                    pth[o] = best_path(cs)
                frontiers[key] = sorted(set(nxt))
            depth += 1
        # heads of every organisation on any of the chains (at an unknown date without
        # ``holders_undated``: its head posts, not every person who ever held them)
        tops = self._org_parts("heads", {(o, at) for key, (_, at) in uniq.items()
                                         for o in level[key]}, refs, holders_undated)
        out: dict[tuple[str, str], ChainWalk] = {}
        for key, (ent, at) in uniq.items():
            ans, lv = answers[key], level[key]
            if light:
                out[key] = ChainWalk(None, [(refs[o], lv[o], *tops[(o, at.lo, at.hi)])
                                            for o in sorted(lv, key=lambda x: (lv[x], x))],
                                     paths[key])
                continue
            for o in sorted(lv, key=lambda x: (lv[x], x)):
                # (an organisation at the last level walked is shown without its parents)
                parents = [A.ChainLink(parent=pr, status=st, claim=c)
                           for pr, st, c in ups[(o, at.lo, at.hi)]] if lv[o] < MAX_DEPTH else []
                heads_here, posts_here = tops[(o, at.lo, at.hi)]
                ans.organizations.append(A.ChainOrg(
                    organization=refs[o], level=lv[o], parents=parents,
                    heads=[A.ChainHead(person=pe, position=po, holds=hc, position_in=pc,
                                       status=st) for pe, po, hc, pc, st in heads_here],
                    head_posts=[A.ChainHeadPost(position=po, position_in=pc, status=st)
                                for po, pc, st in posts_here]))
            ans.top = sorted(o.organization.id for o in ans.organizations if not o.parents)
            ans.dates_unknown = (
                sum(p.status == "dates_unknown" for p in ans.posts)
                + sum(l.status == "dates_unknown" for o in ans.organizations for l in o.parents)
                + sum(h.status == "dates_unknown" for o in ans.organizations for h in o.heads)
                + sum(h.status == "dates_unknown" for o in ans.organizations
                      for h in o.head_posts))
            out[key] = ChainWalk(ans, [], paths[key])
        return out

    def _org_parts(self, part: str, wanted: Iterable[tuple[str, FuzzyDate]],
                   refs: dict[str, A.EntityRef], holders_undated: bool
                   ) -> dict[tuple[str, int, int], Any]:
        """For each (organisation, date) wanted, keyed (organisation, date's bounds): its
        ``parents`` (parent, status, PART_OF claim), or its ``heads`` ((person, post, HOLDS,
        POSITION_IN, status), (post, POSITION_IN, status) for a chain at an unknown date
        without ``holders_undated``), sorted as answers show them.

        Why kept: chains meet the same organisations again and again (two in three of the
        organisations on 1,000 random chains had been on an earlier one), at other dates.
        Which claims hold, and how certainly, changes only at their date bounds
        (``Structure.interval``), so the parts are the same for every date between two
        bounds and are kept per interval. Those not kept are built together, one edge
        read for all of them, as the walk did before."""
        st = structure(self.store)
        kept_now = self._kept
        side = 0 if part == "parents" else 1
        out: dict[tuple[str, int, int], Any] = {}
        todo: dict[tuple[Any, ...], list[tuple[str, FuzzyDate]]] = {}
        for o, at in wanted:
            undated = part == "heads" and not (holders_undated or at.known)
            key = (part, o, undated, st.interval(o, side, at.lo, at.hi))
            # a part reads the same to every caller where no restricted record is near and
            # every claim in it cites only known, unrestricted sources: kept once for all
            hit = kept_now.common.parts.get(key) if st.is_open(o, side) else None
            if hit is None:
                hit = kept_now.parts.get(key)
            if hit is None:
                todo.setdefault(key, []).append((o, at))
            else:
                out[(o, at.lo, at.hi)] = hit
        if not todo:
            return out
        firsts = [(key[2], *pairs[0]) for key, pairs in todo.items()]
        span = FuzzyDate("", UNKNOWN.precision, min(at.lo for _, _, at in firsts),
                         max(at.hi for _, _, at in firsts))
        orgs = sorted({o for _, o, _ in firsts})
        if part == "parents":
            links: dict[str, list[Edge]] = defaultdict(list)
            for e in self._edges(orgs, "out", ("PART_OF",), span):
                if e.okind == "Organization":
                    links[e.src].append(e)
            for key, pairs in todo.items():
                o, at = pairs[0]
                names = {o: refs[o].name or o}
                ups = []
                for e in links.get(o, ()):
                    s = _status_at(e, at)
                    if s is not None:
                        ups.append((self._ref(e), s, self._claim(e, names, s)))
                ups.sort(key=lambda u: (u[0].id, u[2].id))
                self._keep_parts(st, key, pairs, tuple(ups), [u[2] for u in ups], out)
            return out
        pin_in: dict[str, list[Edge]] = defaultdict(list)
        for e in self._edges(orgs, "in", ("POSITION_IN",), span, heads_only=True):
            if e.okind == "Position" and e.row.get("o_is_head"):
                pin_in[e.src].append(e)
        # holders only for the parts taken at a known date (or all are wanted), and over
        # those dates' span: at an unknown date every holder ever would qualify
        dated = [at for undated, _, at in firsts if not undated]
        holders: dict[str, list[Edge]] = defaultdict(list)
        if dated:
            hspan = FuzzyDate("", UNKNOWN.precision, min(at.lo for at in dated),
                              max(at.hi for at in dated))
            posts = sorted({p.other for undated, o, _ in firsts if not undated
                            for p in pin_in.get(o, ())})
            for e in self._edges(posts, "in", ("HOLDS",), hspan) if posts else ():
                if e.okind == "Person":
                    holders[e.src].append(e)
        for key, pairs in todo.items():
            o, at = pairs[0]
            names = {o: refs[o].name or o}
            heads: list[tuple[A.EntityRef, A.EntityRef, A.Claim, A.Claim, str]] = []
            head_posts: list[tuple[A.EntityRef, A.Claim, str]] = []
            for p in pin_in.get(o, ()):
                ps = _status_at(p, at)
                if ps is None:
                    continue
                pc = self._claim(p, names, ps)
                if key[2]:
                    head_posts.append((self._ref(p), pc, ps))
                    continue
                post_names = {p.other: p.row.get("o_name") or p.other}
                for h in holders.get(p.other, ()):
                    hs = _status_at(h, at)
                    if hs is not None:
                        heads.append((self._ref(h), self._ref(p),
                                      self._claim(h, post_names, hs), pc, _worst(hs, ps)))
            heads.sort(key=lambda h: (h[0].id, h[1].id, h[2].id))
            head_posts.sort(key=lambda h: (h[0].id, h[1].id))
            self._keep_parts(st, key, pairs, (tuple(heads), tuple(head_posts)),
                             [c for h in heads for c in h[2:4]] + [h[1] for h in head_posts],
                             out)
        return out

    def _keep_parts(self, st: Structure, key: tuple[Any, ...],
                    pairs: list[tuple[str, FuzzyDate]], parts: Any, claims: list[A.Claim],
                    out: dict[tuple[str, int, int], Any]) -> None:
        kept_now = self._kept
        known = _source_cache(self.store)[0]  # (looked up once, not once per claim)
        shared = st.is_open(key[1], 0 if key[0] == "parents" else 1) and all(
            _all_known_open(known, c.source_ids) for c in claims)
        (kept_now.common if shared else kept_now).parts.put(key, parts)
        for org, at in pairs:
            out[(org, at.lo, at.hi)] = parts

    # -- accountability ------------------------------------------------------------------
    def accountability(self, ref: str) -> A.AccountabilityAnswer:
        ent = self._resolve_kind(ref, ("Person", "Incident", "Case"), "an accountability "
                                                                      "question")
        ans = self._accountability_core(ent, {})
        return self._finish_accountability(ans)

    def _finish_accountability(self, ans: A.AccountabilityAnswer) -> A.AccountabilityAnswer:
        """``_finish`` for an accountability answer, collecting its claims where they are
        (acts' and actors' paths, notice items, designations) instead of walking every
        model: at a thousand actors the generic walk cost more than the question."""
        seen: dict[int, A.Claim] = {}
        for act in ans.acts:
            for c in act.path:
                seen[id(c)] = c
        sanctions: list[A.SanctionRef] = []
        for actor in ans.actors:
            for c in actor.path:
                seen[id(c)] = c
            for refs in actor.sanctions.values():
                for s in refs:
                    sanctions.append(s)
                    if s.claim is not None:
                        seen[id(s.claim)] = s.claim
        for n in ans.notice:
            seen[id(n.claim)] = n.claim
        self._resolve_sources(list(seen.values()))
        for actor in ans.actors:
            actor.sources = _union_sources(actor.path)
        for s in sanctions:
            if s.claim is not None:
                s.sources = list(s.claim.sources)
        return ans

    def _acts_of(self, ent: A.EntityRef) -> tuple[list[tuple[A.EntityRef, list[A.Claim]]],
                                                   dict[str, list[Edge]]]:
        """The acts a question is about, each with the path from the subject to it, and
        the RESULT_OF claims read on the way, by incident (``_first_level`` needs them
        too: a victim's incidents were read twice, a round trip each)."""
        acts: dict[str, tuple[A.EntityRef, list[A.Claim]]] = {}
        names = {ent.id: ent.name or ent.id}
        results: dict[str, list[Edge]] = {}
        if ent.kind == "Incident":
            return [(ent, [])], results
        if ent.kind == "Person":
            outs = self._edges([ent.id], "out", ("VICTIM_OF", "DEFENDANT_IN"))
            incidents = [e for e in outs if e.type == "VICTIM_OF" and e.okind == "Incident"]
            cases = [e for e in outs if e.type == "DEFENDANT_IN" and e.okind == "Case"]
            for e in incidents:
                acts[e.other] = (self._ref(e), [self._claim(e, names)])
            results = {e.other: [] for e in incidents}
            for e in self._edges([e.other for e in incidents], "out", ("RESULT_OF",)):
                results[e.src].append(e)
            linked = {e.other for es in results.values() for e in es}
            for e in cases:
                if e.other not in linked:
                    acts[e.other] = (self._ref(e), [self._claim(e, names)])
        else:  # Case
            ins = [e for e in self._edges([ent.id], "in", ("RESULT_OF",))
                   if e.okind == "Incident"]
            for e in ins:
                acts[e.other] = (self._ref(e), [self._claim(e, names)])
            if not ins:
                acts[ent.id] = (ent, [])
        return [acts[k] for k in sorted(acts)], results

    def _accountability_core(self, ent: A.EntityRef,
                             chain_cache: dict[tuple[str, str], Any]) -> A.AccountabilityAnswer:
        ans = A.AccountabilityAnswer(subject=ent)
        acts, results = self._acts_of(ent)
        ans.acts, ans.actors, ans.notice, ans.notice_total = self._acts_batch(
            acts, chain_cache, results)
        persons = {a.entity.id for a in ans.actors if a.entity.kind in ("Person",
                                                                       "Organization")}
        if persons:
            sanc = self._sanctions(self._clusters(persons))
            for a in ans.actors:
                a.sanctions = sanc.get(a.entity.id, {})
        return ans

    def _first_level(self, acts: Sequence[tuple[A.EntityRef, list[A.Claim]]],
                     results: dict[str, list[Edge]]) -> tuple[
            list[tuple[A.EntityRef, list[A.Claim]]], dict[str, tuple[str | None, FuzzyDate]],
            dict[str, list[tuple[A.EntityRef, str, str, list[A.Claim]]]], list[A.Act]]:
        """The acts' direct, inciting, judicial and custodial actors, for many acts at once
        (one round trip per step for all of them)."""
        # The acts come resolved (visible) or from visible claims' ends, with their dates
        # (an incident's date, a case's verdict date: ``EntityRef.date``); only an act
        # shown without a date is looked up, to be sure it has none.
        nodes = self._nodes([a.id for a, _ in acts if not a.date])
        acts = [(a, p) if a.date else (entity_from_props(a.kind, a.id, nodes[a.id].props), p)
                for a, p in acts if a.date or a.id in nodes]
        dates: dict[str, tuple[str | None, FuzzyDate]] = {}
        for act, _ in acts:
            text = act.date
            dates[act.id] = (text, parse_date(text) if text else UNKNOWN)
        incidents = [a.id for a, _ in acts if a.kind == "Incident"]
        case_acts = [a.id for a, _ in acts if a.kind == "Case"]

        # the attributions are in process (STRUCTURE_TYPES), the case links in the engine
        # (the RESULT_OF claims ``_acts_of`` read already are not read again)
        out_edges = (self._edges(incidents, "out", ("PERPETRATED_BY", "OCCURRED_AT"))
                     + self._edges([i for i in incidents if i not in results], "out",
                                   ("RESULT_OF",))
                     + [e for i in incidents for e in results.get(i, ())])
        out_edges.sort(key=lambda e: (e.src, e.type, e.other, e.id))
        outs = _grouped(out_edges)
        vic = _grouped([e for e in self._edges(incidents, "in", ("VICTIM_OF",))
                       if e.okind == "Person"])
        det = _grouped([e for e in self._edges([e.other for es in vic.values() for e in es],
                                              "out", ("DETAINED_AT",))
                       if e.okind == "Organization"])
        defs = _grouped([e for e in self._edges(case_acts, "in", ("DEFENDANT_IN",))
                        if e.okind == "Person"])
        first: dict[str, list[tuple[A.EntityRef, str, str, list[A.Claim]]]] = defaultdict(list)
        cases: dict[str, list[tuple[str, list[A.Claim], str]]] = defaultdict(list)
        out_acts: list[A.Act] = []
        for act, act_path in acts:
            names = {act.id: act.name or act.id}
            if act.kind == "Incident":
                victims = [self._ref(e) for e in vic.get(act.id, ())]
                for e in outs.get(act.id, ()):
                    c = self._claim(e, names)
                    if e.type == "PERPETRATED_BY":
                        role = "inciting" if (e.row.get("x_role") or "").lower().startswith(
                            "incit") else "direct"
                        first[act.id].append((self._ref(e), role,
                                              e.row.get("x_role") or "perpetrator", [c]))
                    elif e.type == "OCCURRED_AT" and e.okind == "Organization":
                        first[act.id].append((
                            self._ref(e), "custodial",
                            f"place of {(act.subtype or 'the act').replace('_', ' ')}", [c]))
                    elif e.type == "RESULT_OF" and e.okind == "Case":
                        cases[act.id].append((e.other, [c], e.row.get("o_name") or e.other))
                for v in vic.get(act.id, ()):
                    vc = self._claim(v, names)
                    for e in det.get(v.other, ()):
                        first[act.id].append((self._ref(e), "custodial", "place of detention",
                                              [vc, self._claim(e, {e.src: v.row.get("o_name")
                                                                   or e.src})]))
            else:
                cases[act.id].append((act.id, [], act.name or act.id))
                victims = [self._ref(e) for e in defs.get(act.id, ())]
            out_acts.append(A.Act(act=act, date=dates[act.id][0], victims=victims,
                                  path=act_path))
        all_cases = sorted({c for cs in cases.values() for c, _, _ in cs})
        jin = _grouped([e for e in self._edges(all_cases, "in", ("JUDGE_IN", "PROSECUTOR_IN"))
                       if e.okind == "Person"])
        jout = _grouped([e for e in self._edges(all_cases, "out", ("HEARD_BY", "UPHELD_BY"))
                        if e.okind == "Organization"])
        for act, _ in acts:
            for cid, cpath, cname in cases.get(act.id, ()):
                cnames = {cid: cname}
                for e in jin.get(cid, ()):
                    first[act.id].append((self._ref(e), "judicial",
                                          "judge" if e.type == "JUDGE_IN" else "prosecutor",
                                          cpath + [self._claim(e, cnames)]))
                for e in jout.get(cid, ()):
                    first[act.id].append((self._ref(e), "judicial",
                                          "trial court" if e.type == "HEARD_BY"
                                          else "upheld the sentence",
                                          cpath + [self._claim(e, cnames)]))
        return acts, dates, first, out_acts

    def _acts_batch(self, acts: Sequence[tuple[A.EntityRef, list[A.Claim]]],
                    chain_cache: dict[tuple[str, str], Any],
                    results: dict[str, list[Edge]]
                    ) -> tuple[list[A.Act], list[A.Actor], list[A.NoticeItem], int]:
        """Actors of many acts at once: every step is one round trip for all the acts, and
        the chains above all their actors (each at the date of its act) are walked together,
        so a sanctions-gap scan over every act costs a few queries per batch, not per act."""
        acts, dates, first, out_acts = self._first_level(acts, results)
        wanted = sorted({(w.id, dates[a.id][1].text): (w, dates[a.id][1])
                         for a, _ in acts for w, _, _, _ in first.get(a.id, ())
                         if w.kind in ("Person", "Organization")}.items())
        missing = [v for k, v in wanted if k not in chain_cache]
        if missing:
            chain_cache.update(self._chains(missing, holders_undated=False, light=True))
        actors: list[A.Actor] = []
        act_units: dict[str, dict[str, A.EntityRef]] = {}
        for act, _ in acts:
            at = dates[act.id][1]
            at_text = at.text or None
            # The candidates are tuples, and an ``Actor`` is built only for the best path
            # of each (entity, role): the actors of one act reach the same organisations
            # and heads again and again (a court and its judge share a chain).
            best: dict[tuple[str, str], tuple[Any, A.EntityRef, str, str, list[A.Claim],
                                              bool]] = {}

            def add(who: A.EntityRef, role: str, detail: str, path: list[A.Claim],
                    with_status: bool,
                    best: dict[tuple[str, str], tuple[Any, A.EntityRef, str, str,
                                                      list[A.Claim], bool]] = best) -> None:
                key = (who.id, role)
                cur = best.get(key)
                if cur is None:
                    best[key] = (None, who, role, detail, path, with_status)
                    return
                cur_key = cur[0] if cur[0] is not None else path_key(cur[4])
                new_key = path_key(path)
                if new_key < cur_key:
                    best[key] = (new_key, who, role, detail, path, with_status)
                elif cur[0] is None:
                    best[key] = (cur_key, *cur[1:])

            # the act's units, for notice: the organisations among its actors and those
            # its persons belonged to at its date (level 0 of their chains)
            units: dict[str, A.EntityRef] = {}
            for who, role, detail, path in first.get(act.id, ()):
                add(who, role, detail, path, False)
                if who.kind not in ("Person", "Organization"):
                    continue
                walk: ChainWalk = chain_cache[(who.id, at.text)]
                for o, level, heads, head_posts in walk.orgs:
                    opath = path + walk.paths[o.id]
                    if o.id != who.id:
                        if level == 0:
                            units[o.id] = o
                        rel = (f"organisation of {who.name}" if level == 0
                               else f"above {who.name}")
                        add(o, "institutional", rel, opath, True)
                    for person, post, holds, post_in, _ in heads:
                        add(person, "superior", f"{post.name} (head of {o.name})",
                            opath + [post_in, holds], True)
                    for post, post_in, _ in head_posts:  # an undated act: not its holders
                        add(post, "superior", f"{post.name} (head of {o.name}); who held "
                                              "it is not decided: the act has no date",
                            opath + [post_in], True)
                if who.kind == "Organization":
                    units[who.id] = who
            actors.extend(
                A.Actor(entity=who, role=role, detail=detail, act_id=act.id,  # type: ignore[arg-type]
                        at=at_text, path=path,
                        status=_worst(*(c.status for c in path)) if with_status else None)
                for _, who, role, detail, path, with_status in best.values())
            if at.known and units:
                act_units[act.id] = units
        # Notice (Rome Statute art. 28, "knew or should have known"): earlier incidents of
        # the same units, which every superior above them had under their command. Not
        # those attributed to each organisation up the chain: at a million nodes that was
        # up to 640 items an act (median 237 an answer), which buried the units' own record
        # and took a third of the answer's time.
        notice: list[A.NoticeItem] = []
        notice_total = 0
        if act_units:
            # Incidents attributed to each organisation (PERPETRATED_BY / OCCURRED_AT into
            # it) dated before the act, from the in-process structure: candidates are picked
            # on its arrays and only the shown ones become rows.
            st = structure(self.store)
            kinds = {"PERPETRATED_BY", "OCCURRED_AT"}
            shown: list[tuple[str, str, A.EntityRef, list[tuple[int, str, int]]]] = []
            for act_id, unit_refs in act_units.items():
                at = dates[act_id][1]
                for oid, org in unit_refs.items():
                    count, latest = st.latest_before(oid, kinds, at.lo, self.include_restricted,
                                                     act_id, NOTICE_PER_ORG)
                    cands = sorted((-hi, other, idx) for hi, other, idx in latest)
                    notice_total += count
                    # the most recent ones before the act (a prison may have hundreds): rows
                    # only for those, and for any tied with the last one (ties go by claim id)
                    cut = min(NOTICE_PER_ORG, len(cands))
                    while 0 < cut < len(cands) and cands[cut][:2] == cands[cut - 1][:2]:
                        cut += 1
                    shown.append((act_id, oid, org, cands[:cut]))
            st.prefetch([idx for *_, cs in shown for _, _, idx in cs],
                        [other for *_, cs in shown for _, other, _ in cs])
            for act_id, oid, org, cs in shown:
                found: list[tuple[int, str, str, Edge]] = []
                for neg_hi, other, idx in cs:
                    e = self._structure_edge(st, oid, idx, other, "in", MIN_DAY, MAX_DAY, None)
                    if e is not None:
                        found.append((neg_hi, other, e.id, e))
                found.sort(key=lambda t: t[:3])
                for _, _, _, e in found[:NOTICE_PER_ORG]:
                    # an incident before many organisations, and an organisation before
                    # many acts, share one reference and one claim (``_ref``/``_claim``
                    # hand out the kept ones)
                    notice.append(A.NoticeItem(organization=org, incident=self._ref(e),
                                               before_act=act_id, claim=self._claim(e)))
        order = list(A.ActorRole.__args__)  # type: ignore[attr-defined]
        actors.sort(key=lambda a: (a.act_id, order.index(a.role), a.entity.id))
        notice.sort(key=lambda n: (n.before_act, n.organization.id, n.incident.id, n.claim.id))
        return out_acts, actors, notice, notice_total

    # -- linked officials and sanctions gaps -----------------------------------------------
    def linked(self, ref: str, at: str | None = None) -> A.LinkedAnswer:
        d = parse_at(at)
        ent = self._resolve_kind(ref, ("Organization",), "linked officials")
        ans = A.LinkedAnswer(organization=ent, at=d.text if d else None)
        cluster = self._clusters([ent.id])[ent.id]
        recs = self._nodes(cluster)
        units: dict[str, A.EntityRef] = {i: entity_from_props("Organization", i, r.props)
                                         for i, r in recs.items()}
        upath: dict[str, list[A.Claim]] = {i: [] for i in units}
        frontier = sorted(units)
        depth = 0
        while frontier and depth < MAX_DEPTH:
            step: dict[str, list[list[A.Claim]]] = defaultdict(list)
            for e in self._edges(frontier, "in", ("PART_OF",), d):
                if e.okind != "Organization":
                    continue
                if e.other not in units:
                    units[e.other] = self._ref(e)
                    step[e.other].append([self._claim(e)] + upath[e.src])
                elif e.other in step:
                    step[e.other].append([self._claim(e)] + upath[e.src])
            for o, cs in step.items():
                upath[o] = best_path(cs)
            frontier = sorted(step)
            depth += 1
        ans.units = [units[u] for u in sorted(units, key=lambda u: (len(upath[u]), u))]
        pin = [e for e in self._edges(list(units), "in", ("POSITION_IN", "MEMBER_OF"), d)
               if e.okind in ("Position", "Person")]
        holders: dict[str, list[Edge]] = defaultdict(list)
        for e in self._edges([e.other for e in pin if e.okind == "Position"], "in",
                             ("HOLDS",), d):
            if e.okind == "Person":
                holders[e.src].append(e)
        officials: dict[str, A.LinkedOfficial] = {}
        for p in pin:
            entries: list[tuple[Edge, Edge | None, list[A.Claim]]]
            if p.okind == "Person":  # MEMBER_OF
                entries = [(p, None, [self._claim(p)])]
            else:
                pc = self._claim(p)
                entries = [(h, p, [self._claim(h), pc]) for h in holders.get(p.other, ())]
            for who, post, claims in entries:
                person = self._ref(who) if post is not None else self._ref(p)
                off = officials.setdefault(person.id, A.LinkedOfficial(person=person))
                path = claims + upath[p.src]
                off.posts.append(A.LinkedPost(
                    position=self._ref(post) if post is not None else None,
                    organization=units[p.src], path=path,
                    status=_worst(*(c.status for c in path)) if d else None))
        sanc = self._sanctions(self._clusters(officials)) if officials else {}
        for pid, off in officials.items():
            off.posts.sort(key=lambda lp: (lp.organization.id,
                                           lp.position.id if lp.position else "",
                                           tuple(c.id for c in lp.path)))
            off.sanctions = sanc.get(pid, {})
            off.sanctioned_by = sorted(a for a, ss in off.sanctions.items()
                                       if any(s.active for s in ss))
        ans.officials = sorted(officials.values(),
                               key=lambda o: ((o.person.name or "").lower(), o.person.id))
        seen = set(ans.authorities)
        ans.authorities += sorted({a for o in ans.officials for a in o.sanctions} - seen)
        return self._finish(ans)

    def gaps_scan_ready(self) -> bool:
        """Whether a gaps question would be answered at once (the scan is held here)."""
        return scan_ready(self.store, self.include_restricted)

    def build_gaps_scan(self, progress: GapsProgress | None = None) -> None:
        """Build (or map) the scan every gaps question of this view reads: 60-95 s at a
        million nodes the first time (the API runs it in the background)."""
        gap_scan(self.store, self.include_restricted, self._clusters, ROLE_WEIGHT, progress)

    def gaps(self, authority: str, limit: int = 100,
             progress: GapsProgress | None = None) -> A.GapsAnswer:
        """``progress`` shows the scan's build when this question builds it (the CLI's bar:
        60-95 s the first time at a million nodes)."""
        auth = (authority or "").strip().upper()
        if not auth:
            raise BadParameter("authority", "an authority is required (OFAC, EU, UK, UN, CA, "
                                            "AU, ...)")
        if limit < 1:
            raise BadParameter("limit", "must be at least 1")
        if self._before_gaps is not None:
            self._before_gaps(self)
        ans = A.GapsAnswer(authority=auth)
        scan = gap_scan(self.store, self.include_restricted, self._clusters, ROLE_WEIGHT,
                        progress)
        if not len(scan):
            return ans
        sanc = self._sanctions(self._clusters(scan.ids))
        ranked = sorted((-score, (pname or "").lower(), pid, pname)
                        for pid, pname, score in zip(scan.ids, scan.names, scan.scores)
                        if not any(s.active for s in sanc.get(pid, {}).get(auth, [])))
        ans.total = len(ranked)
        for neg_score, _, pid, pname in ranked[:limit]:
            rs = [A.GapReason(role=role, detail=detail, act_id=act_id,  # type: ignore[arg-type]
                              act_name=act_name)
                  for act_id, act_name, role, detail in scan.reasons(pid)]
            ans.gaps.append(A.Gap(
                person=A.EntityRef(id=pid, kind="Person", name=pname),
                score=-neg_score, reasons=rs, reasons_total=scan.total(pid),
                other_sanctions={k: v for k, v in sanc.get(pid, {}).items()}))
        return self._finish(ans)

    # -- search --------------------------------------------------------------------------
    def _index(self) -> NameIndex:
        idx = _INDEXES.get(self.store)
        if idx is None:
            idx = NameIndex()
            _INDEXES[self.store] = idx
        idx.ensure(self.store)
        return idx

    def search(self, text: str, limit: int = 20, kinds: list[str] | None = None
               ) -> A.SearchAnswer:
        if not (text or "").strip():
            raise BadParameter("text", "empty search")
        if limit < 1:
            raise BadParameter("limit", "must be at least 1")
        if kinds:
            bad = [k for k in kinds if k not in NODE_KINDS]
            if bad:
                raise BadParameter("kinds", f"unknown kind(s) {', '.join(bad)} (expected "
                                            f"{', '.join(NODE_KINDS)})")
        if self._before_search is not None:
            self._before_search()
        idx = self._index()
        cands = idx.candidates(text, kinds=set(kinds) if kinds else None,
                               include_restricted=self.include_restricted)
        hits = [A.SearchHit(entity=A.EntityRef(id=n.id, kind=n.kind, name=n.name,
                                               subtype=n.subtype, date=n.date),
                            matched=m, score=s)
                for n, s, m in rank(text, cands, limit)]
        return A.SearchAnswer(query=text, normalised=normalise(text), hits=hits)

    # -- paths -----------------------------------------------------------------------------
    def paths(self, a: str, b: str, at: str | None = None, max_len: int = 6) -> A.PathsAnswer:
        d = parse_at(at)
        if max_len < 1 or max_len > 20:
            raise BadParameter("max_len", "must be between 1 and 20")
        ea, eb = self.resolve(a), self.resolve(b)
        ans = A.PathsAnswer(source=ea, target=eb, at=d.text if d else None)
        if ea.id == eb.id:
            ans.length = 0
            ans.paths = [A.Path(nodes=[ea], claims=[])]
            return ans
        proj = projection(self.store)
        bounds = (d.lo, d.hi) if d else None
        length, node_paths = shortest_paths(
            proj, ea.id, eb.id, include_restricted=self.include_restricted, at=bounds,
            max_len=max_len, limit=PATHS_LIMIT)
        if length is None:
            return ans
        ans.length = length
        idx = proj.index
        chosen: list[list[int]] = []
        for p in node_paths:
            keys = []
            for u, v in pairwise(p):
                par = [e for e in proj.edges_between(idx[u], idx[v])
                       if proj.edge_status(e, bounds) is not Validity.INVALID]
                keys.append(min(par, key=lambda e: edge_rank(proj, e, bounds)))
            chosen.append(keys)
        # fetch the full claims of the chosen edges (``_edges``: the hierarchy's from the
        # process, the others from the engine)
        wanted = {proj.claim_id(k) for ks in chosen for k in ks}
        # each start node asked only for its own claims' types (a query over fewer
        # relation tables is cheaper), the nodes wanting the same types together
        types_of: dict[str, set[str]] = defaultdict(set)
        for ks in chosen:
            for k in ks:
                types_of[proj.claim_from(k)].add(proj.claim_type(k))
        groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for start, ts in types_of.items():
            groups[tuple(sorted(ts))].append(start)
        claims: dict[str, A.Claim] = {}
        info = {n: proj.node(idx[n]) for p in node_paths for n in p}
        for types, starts in sorted(groups.items()):
            for e in self._edges(starts, "out", types, d):
                if e.id in wanted:
                    claims[e.id] = self._claim(e, {e.src: info[e.src].get("name") or e.src})
        for p, ks in zip(node_paths, chosen):
            nodes = [A.EntityRef(id=n, kind=info[n]["kind"], name=info[n].get("name") or n,
                                 subtype=info[n].get("subtype"), date=info[n].get("date"))
                     for n in p]
            cl = [claims[c] for c in (proj.claim_id(k) for k in ks) if c in claims]
            ans.paths.append(A.Path(nodes=nodes, claims=cl,
                                    status=_worst(*(c.status for c in cl)) if d else None))
        return self._finish(ans)

    # -- timeline --------------------------------------------------------------------------
    def timeline(self, ref: str) -> A.TimelineAnswer:
        ent = self.resolve(ref)
        cluster = self._clusters([ent.id])[ent.id]
        recs = self._nodes(cluster)
        ans = A.TimelineAnswer(entity=ent)
        events: list[tuple[int, int, str, str, str, A.TimelineEvent]] = []

        def add(text: str | None, what: str, label: str, other: A.EntityRef | None,
                claim: A.Claim | None, tie: str) -> None:
            if not text or text == "open":
                return
            try:
                fd = parse_date(text)
            except DateError:
                return
            ev = A.TimelineEvent(date=text, what=what, label=label, entity=other, claim=claim)
            events.append((fd.lo, fd.hi, what, label, tie, ev))

        date_fields = {"birth_date": "born", "date": "date", "date_end": "end",
                       "opened": "opened", "verdict_date": "verdict", "appeal_date": "appeal",
                       "listed": "listed", "delisted": "delisted"}
        carrier: list[A.Claim] = []
        for cid in cluster:
            rec = recs.get(cid)
            if rec is None:
                continue
            src = A.Claim(id=f"_record:{cid}", type="RECORD", from_id=cid, to_id=cid,
                          source_ids=list(rec.props.get("source_ids") or []))
            carrier.append(src)
            for fname, what in date_fields.items():
                if rec.props.get(fname):
                    add(rec.props[fname], what, f"{what}: {rec.props.get('name') or cid}",
                        None, src, cid + fname)
        names = {ent.id: ent.name or ent.id}
        for e in self._edges(cluster, "out") + self._edges(cluster, "in"):
            if e.type == "MENTIONED_IN":
                continue
            c = self._claim(e, names)
            other = self._ref(e)
            verb = e.type.lower().replace("_", " ")
            label = (f"{verb} {other.name}" if e.direction == "out"
                     else f"{other.name} {verb} this")
            dated = False
            if c.valid_from:
                add(c.valid_from, "start", label, other, c, e.id)
                dated = True
            if c.valid_to and c.valid_to != "open":
                add(c.valid_to, "end", label, other, c, e.id)
                dated = True
            r = e.row
            if e.okind in ("Incident", "Case", "Sanction") and (
                    r.get("o_date") or r.get("o_verdict_date") or r.get("o_listed")):
                what = {"Incident": "incident", "Case": "verdict", "Sanction": "listed"}[e.okind]
                add(r.get("o_date") or r.get("o_verdict_date") or r.get("o_listed"), what,
                    f"{other.name} ({verb})", other, c, e.id)
                if e.okind == "Sanction" and r.get("o_delisted"):
                    add(r["o_delisted"], "delisted", f"{other.name} ({verb})", other, c, e.id)
                dated = True
            if not dated:
                ans.undated.append(c)
        events.sort(key=lambda t: t[:5])
        ans.events = [t[5] for t in events]
        ans.undated.sort(key=lambda c: (c.type, c.id))
        self._finish([ans, carrier])
        for ev in ans.events:
            if ev.claim is not None:
                ev.sources = list(ev.claim.sources)
                if ev.claim.type == "RECORD":
                    ev.claim = None
        return ans

    # -- analytics -------------------------------------------------------------------------
    def analytics(self, measure: str, kinds: list[str] | None = None, at: str | None = None,
                  group_a: list[str] | None = None, group_b: list[str] | None = None,
                  limit: int = 20) -> A.AnalyticsAnswer:
        if measure not in MEASURES:
            raise BadParameter("measure", f"'{measure}' is not one of {', '.join(MEASURES)}")
        kinds = list(kinds or ANALYTICS_KINDS)
        bad = [k for k in kinds if k not in NODE_KINDS or k == "Source"]
        if bad:
            raise BadParameter("kinds", f"unknown or unsupported kind(s): {', '.join(bad)}")
        if limit < 1:
            raise BadParameter("limit", "must be at least 1")
        d = parse_at(at)
        proj = projection(self.store)
        bounds = (d.lo, d.hi) if d else None

        def ref(n: str) -> A.EntityRef:
            info = proj.node(proj.index[n])
            return A.EntityRef(id=n, kind=info["kind"], name=info.get("name") or n,
                               subtype=info.get("subtype"), date=info.get("date"))

        if measure in ("degree", "betweenness"):
            # on arrays (queries.centrality): networkx's figures without its graph, which
            # at scale 1 took minutes to build and walk (issue #7)
            from queries.centrality import betweenness_centrality, degree_centrality

            nodes, csr = proj.simple_csr(include_restricted=self.include_restricted,
                                         at=bounds, kinds=set(kinds))
            ans = A.AnalyticsAnswer(measure=measure, kinds=kinds, at=d.text if d else None,
                                    nodes=csr.n, edges=csr.m)
            if measure == "degree":
                values = degree_centrality(csr)
            else:
                k = BETWEENNESS_SAMPLE if csr.n > BETWEENNESS_SAMPLE else None
                values = betweenness_centrality(csr, k=k, seed=7)
            # highest first, ties by id (local order is id order)
            best = np.lexsort((np.arange(csr.n), -values))[:limit]
            ans.ranking = [A.ScoredEntity(entity=ref(proj.ids[int(nodes[i])]),
                                          score=round(float(values[i]), 6)) for i in best]
            return ans
        g = proj.simple_graph(include_restricted=self.include_restricted, at=bounds,
                              kinds=set(kinds))
        ans = A.AnalyticsAnswer(measure=measure, kinds=kinds, at=d.text if d else None,
                                nodes=g.number_of_nodes(), edges=g.number_of_edges())
        scores: dict[str, float]
        if measure == "brokers":
            if not group_a or not group_b:
                raise BadParameter("group_a", "brokers need two groups of organisations "
                                              "(group_a and group_b)")
            ga = [self.resolve(x).id for x in group_a]
            gb = [self.resolve(x).id for x in group_b]
            ga = [x for x in ga if x in g]
            gb = [x for x in gb if x in g]
            scores = nx.betweenness_centrality_subset(g, sources=ga, targets=gb) if ga and gb \
                else {}
            scores = {n: s for n, s in scores.items() if s > 0 and n not in set(ga) | set(gb)}
        else:
            comms = nx.community.louvain_communities(g, seed=7) if g.number_of_edges() else [
                {n} for n in g]
            ordered = sorted((sorted(c) for c in comms), key=lambda c: (-len(c), c[0]))
            ans.communities = [A.Community(id=i, size=len(c), members=[ref(n) for n in c])
                               for i, c in enumerate(ordered[:limit])]
            return ans
        top = sorted(scores.items(), key=lambda t: (-t[1], t[0]))[:limit]
        ans.ranking = [A.ScoredEntity(entity=ref(n), score=round(s, 6)) for n, s in top]
        return ans

    # -- neighbourhood ---------------------------------------------------------------------
    def neighbourhood(self, ref: str, depth: int = 1, at: str | None = None,
                      limit: int = 300) -> A.Subgraph:
        d = parse_at(at)
        if depth < 1 or depth > 4:
            raise BadParameter("depth", "must be between 1 and 4")
        if limit < 1:
            raise BadParameter("limit", "must be at least 1")
        ent = self.resolve(ref)
        sub = A.Subgraph(center=ent, nodes=[ent])
        nodes: dict[str, A.EntityRef] = {ent.id: ent}
        claims: dict[str, A.Claim] = {}
        frontier = [ent.id]
        for _ in range(depth):
            nxt: list[str] = []
            for e in self._edges(frontier, "out", (), d) + self._edges(frontier, "in", (), d):
                if e.okind == "Source":
                    continue
                if e.other not in nodes:
                    if len(nodes) >= limit:
                        sub.truncated = True
                        continue
                    nodes[e.other] = self._ref(e)
                    nxt.append(e.other)
                if e.id not in claims:
                    claims[e.id] = self._claim(e, {e.src: nodes[e.src].name or e.src})
            frontier = sorted(set(nxt))
            if not frontier:
                break
        sub.nodes = [nodes[ent.id]] + [nodes[n] for n in sorted(nodes) if n != ent.id]
        sub.edges = sorted((c for c in claims.values()
                            if c.from_id in nodes and c.to_id in nodes),
                           key=lambda c: (c.type, c.id))
        return self._finish(sub)


def _grouped(edges: list[Edge]) -> dict[str, list[Edge]]:
    g: dict[str, list[Edge]] = defaultdict(list)
    for e in edges:
        g[e.src].append(e)
    return g


def _all_known_open(known: dict[str, dict[str, Any]], source_ids: Sequence[str]) -> bool:
    """``GraphQueries._shareable`` over the sources known in the graph (``_source_cache``)."""
    for sid in source_ids:
        p = known.get(sid)
        if p is None or p.get("restricted"):
            return False
    return True


def _union_sources(path: Sequence[A.Claim]) -> list[A.SourceRef]:
    seen: dict[str, A.SourceRef] = {}
    for c in path:
        for s in c.sources:
            seen.setdefault(s.id, s)
    return list(seen.values())
