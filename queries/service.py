"""``GraphQueries``: every question the product answers, as typed answers.

Each question is a few named queries (``queries.cypher``: primary-key lookups and one-hop
adjacency walks, batched with ``UNWIND``) plus the Python that assembles the answer. Paths
and network analytics run on a cached networkx projection (``queries.projection``); name
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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from pydantic import BaseModel

from graph.dates import (MAX_DAY, MIN_DAY, UNKNOWN, DateError, FuzzyDate, Validity, parse_date,
                         validity_on)
from graph.ids import check_id
from graph.model import COMMON_NODE_FIELDS, NODE_KINDS, kind_of_id
from graph.names import normalise
from graph.records import NodeRecord
from graph.store import Store
from queries import answers as A
from queries.cypher import (SAME_AS_ALL, STRUCTURE_TYPES, CLAIM_COLUMNS, edges_query, ids_query,
                             structure_extras, structure_node_fields, structure_query)
from queries.errors import Ambiguous, BadParameter, NotFound
from queries.projection import edge_rank, projection, shortest_paths
from queries.search import NameIndex, rank

LOOP_IDS = 2000  # up to this many nodes, one primary-key query each (see queries.cypher)
MAX_DEPTH = 20  # PART_OF levels walked up or down (cycles are cut by the visited set)
PATHS_LIMIT = 10  # shortest paths returned
RESOLVE_SCORE = 90.0  # a name resolves to an entity when it matches this well
ROLE_WEIGHT = {"direct": 3.0, "judicial": 3.0, "inciting": 2.0, "custodial": 1.0,
               "superior": 1.0, "institutional": 1.0}
ANALYTICS_KINDS = ("Person", "Organization", "Position", "Case", "Incident")
MEASURES = ("degree", "betweenness", "communities", "brokers")
NOTICE_PER_ORG = 10  # earlier incidents shown per organisation and act (all are counted)
GAPS_BATCH = 500  # acts whose actors are gathered together (one round trip per step)
BETWEENNESS_SAMPLE = 500  # above this many nodes betweenness is estimated from a sample

_INDEXES: "weakref.WeakKeyDictionary[Store, NameIndex]" = weakref.WeakKeyDictionary()
_SAME_AS: "weakref.WeakKeyDictionary[Store, tuple[int, dict[str, list[tuple[str, bool]]]]]" = \
    weakref.WeakKeyDictionary()


@dataclass
class _Structure:
    """The hierarchy relations (posts, memberships, the organisation tree) in process."""

    generation: int
    claims: list[dict[str, Any]]
    nodes: dict[str, tuple[str, dict[str, Any]]]  # id -> (kind, o_* display fields)
    adj: dict[tuple[str, str], list[tuple[int, str]]]  # (direction, id) -> (claim, other)


_STRUCTURES: "weakref.WeakKeyDictionary[Store, _Structure]" = weakref.WeakKeyDictionary()
_STRUCTURE_SET = frozenset(STRUCTURE_TYPES)


def _structure(store: Store) -> _Structure:
    cached = _STRUCTURES.get(store)
    if cached is not None and cached.generation == store.generation:
        return cached
    gen = store.generation
    claims: list[dict[str, Any]] = []
    nodes: dict[str, tuple[str, dict[str, Any]]] = {}
    adj: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for rel_type in STRUCTURE_TYPES:
        a_fields = structure_node_fields(rel_type, 0)
        b_fields = structure_node_fields(rel_type, 1)
        extras = structure_extras(rel_type)
        for row in store.run(structure_query(rel_type)):
            a, b = row["a_id"], row["b_id"]
            for nid, kind, side, fields in ((a, row["a_label"], "a_", a_fields),
                                            (b, row["b_label"], "b_", b_fields)):
                have = nodes.get(nid)
                props = {f"o_{f}": row.get(side + f) for f in fields}
                if have is None:
                    nodes[nid] = (kind, props)
                else:
                    have[1].update(props)
            claim = {c: row.get(c) for c in CLAIM_COLUMNS}
            claim["type"] = rel_type
            for f in extras:
                claim["x_" + f] = row.get("x_" + f)
            claims.append(claim)
            adj[("out", a)].append((len(claims) - 1, b))
            adj[("in", b)].append((len(claims) - 1, a))
    st = _Structure(gen, claims, nodes, dict(adj))
    _STRUCTURES[store] = st
    return st


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

    @property
    def from_id(self) -> str:
        return self.src if self.direction == "out" else self.other

    @property
    def to_id(self) -> str:
        return self.other if self.direction == "out" else self.src


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
    if any(s == "dates_unknown" for s in statuses):
        return "dates_unknown"
    if any(s == "valid" for s in statuses):
        return "valid"
    return None


def path_key(path: Sequence[A.Claim]) -> tuple[bool, int, tuple[str, ...]]:
    """Which of several paths an answer shows: decided ones first, then the shortest, then
    by claim ids (the oracle uses the same rule)."""
    return (any(c.status == "dates_unknown" for c in path), len(path),
            tuple(c.id for c in path))


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
    """The questions, over one store. Cheap to construct (caches live per store)."""

    def __init__(self, store: Store, *, include_restricted: bool = True) -> None:
        self.store = store
        self.include_restricted = include_restricted

    # -- low-level helpers -------------------------------------------------------------
    def _visible(self, restricted: Any) -> bool:
        return self.include_restricted or not restricted

    def _nodes(self, ids: Iterable[str]) -> dict[str, NodeRecord]:
        found = self.store.get_nodes(sorted(set(ids)))
        return {k: v for k, v in found.items() if self._visible(v.props.get("restricted"))}

    def _edges(self, ids: Iterable[str], direction: str, types: Sequence[str] = (),
               at: FuzzyDate | None = None) -> list[Edge]:
        by_kind: dict[str, list[str]] = defaultdict(list)
        for nid in sorted(set(ids)):
            kind = kind_of_id(nid)
            if kind:
                by_kind[kind].append(nid)
        d_lo, d_hi = (at.lo, at.hi) if at is not None else (MIN_DAY, MAX_DAY)
        out: list[Edge] = []
        if types and _STRUCTURE_SET.issuperset(types):
            self._structure_edges(by_kind, direction, set(types), d_lo, d_hi, at, out)
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
                out.append(Edge(row["src"], row["type"], row["id"], row["other"],
                                row["okind"], direction, row,
                                row["status"] if at is not None else None))
        out.sort(key=lambda e: (e.src, e.type, e.other, e.id))
        return out

    def _structure_edges(self, by_kind: dict[str, list[str]], direction: str, types: set[str],
                         d_lo: int, d_hi: int, at: FuzzyDate | None, out: list[Edge]) -> None:
        """``_edges`` for the hierarchy relations, from the in-process structure: the same
        rows the named edge queries return, filtered and marked with the same arithmetic
        as their Cypher (``coalesce`` of missing bounds to the widest span)."""
        st = _structure(self.store)
        for kind_ids in by_kind.values():
            for nid in kind_ids:
                for idx, other in st.adj.get((direction, nid), ()):
                    c = st.claims[idx]
                    if c["type"] not in types:
                        continue
                    okind, ofields = st.nodes[other]
                    if not self._visible(ofields.get("o_restricted")):
                        continue
                    f_lo = MIN_DAY if c["from_lo"] is None else c["from_lo"]
                    f_hi = MAX_DAY if c["from_hi"] is None else c["from_hi"]
                    t_lo = MIN_DAY if c["to_lo"] is None else c["to_lo"]
                    t_hi = MAX_DAY if c["to_hi"] is None else c["to_hi"]
                    if f_lo > d_hi or t_hi < d_lo:
                        continue
                    status = "valid" if f_hi <= d_lo and t_lo >= d_hi else "dates_unknown"
                    row = {**c, **ofields, "src": nid, "other": other, "okind": okind,
                           "status": status}
                    out.append(Edge(nid, c["type"], c["id"], other, okind, direction, row,
                                    status if at is not None else None))

    def _ref(self, e: Edge) -> A.EntityRef:
        r = e.row
        sub = r.get("o_authority") if e.okind == "Sanction" else r.get("o_kind")
        date = r.get("o_date") or r.get("o_verdict_date") or r.get("o_listed")
        return A.EntityRef(id=e.other, kind=e.okind, name=r.get("o_name") or e.other,
                           subtype=sub, date=date)

    def _claim(self, e: Edge, names: dict[str, str] | None = None) -> A.Claim:
        r = e.row
        extra = {k[2:]: v for k, v in r.items()
                 if k.startswith("x_") and k != "x_role" and v is not None}
        sids = list(r.get("source_ids") or [])
        other_name = r.get("o_name")
        names = names or {}
        return A.Claim(
            id=e.id, type=e.type, from_id=e.from_id, to_id=e.to_id,
            from_name=other_name if e.direction == "in" else names.get(e.src),
            to_name=other_name if e.direction == "out" else names.get(e.src),
            valid_from=r.get("valid_from"), valid_to=r.get("valid_to"),
            confidence=r.get("confidence"), note=r.get("note"), role=r.get("x_role"),
            extra=extra, source_ids=sids, unsourced=not sids and e.type not in (
                "SAME_AS", "MENTIONED_IN"), status=e.status,  # type: ignore[arg-type]
        )

    def _finish(self, answer: Any) -> Any:
        """Resolve every claim's sources in one lookup; fill actors' and sanctions' sources."""
        models = list(_walk(answer))
        wanted: set[str] = set()
        for m in models:
            if isinstance(m, A.Claim):
                wanted.update(m.source_ids)
        found = self.store.get_nodes(sorted(wanted)) if wanted else {}
        refs: dict[str, A.SourceRef] = {}
        hidden: set[str] = set()
        for sid in wanted:
            rec = found.get(sid)
            if rec is None:
                refs[sid] = A.SourceRef(id=sid, missing=True)
            elif not self._visible(rec.props.get("restricted")):
                hidden.add(sid)
            else:
                p = rec.props
                refs[sid] = A.SourceRef(id=sid, title=p.get("title") or p.get("name"),
                                        publisher=p.get("publisher"), date=p.get("date"),
                                        reference=p.get("reference"), url=p.get("url"),
                                        kind=p.get("kind"))
        for m in models:
            if isinstance(m, A.Claim):
                m.source_ids = [s for s in m.source_ids if s not in hidden]
                m.sources = [refs[s] for s in m.source_ids]
                m.attested = sorted({s.date for s in m.sources if s.date})
        for m in models:
            if isinstance(m, A.Actor):
                m.sources = _union_sources(m.path)
            elif isinstance(m, A.SanctionRef) and m.claim is not None:
                m.sources = list(m.claim.sources)
        return answer

    # -- resolution ----------------------------------------------------------------------
    def resolve(self, ref: str, kinds: Sequence[str] | None = None) -> A.EntityRef:
        """An id or a name -> one entity (NotFound / Ambiguous otherwise). ``kinds``
        narrows a name look-up to the kinds the question accepts."""
        ref = (ref or "").strip()
        if not ref:
            raise NotFound(ref)
        if check_id(ref) is None:
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
        ans, _ = self._chain_core(ent, d)
        return self._finish(ans)

    def _chain_core(self, ent: A.EntityRef, at: FuzzyDate
                    ) -> tuple[A.ChainAnswer, dict[str, list[A.Claim]]]:
        """The chain above ``ent`` at ``at`` and, for every organisation on it, the best
        path of claims from ``ent`` to it (for accountability answers)."""
        return self._chains([(ent, at)])[(ent.id, at.text)]

    def _chains(self, items: Sequence[tuple[A.EntityRef, FuzzyDate]]
                ) -> dict[tuple[str, str], tuple[A.ChainAnswer, dict[str, list[A.Claim]]]]:
        """Chains above several entities, each at its own date, walked together: each step
        is one engine round trip for all of them (an act with three actors, or a thousand
        acts on different days, cost what one does). The engine filters the claims on the
        span of all the dates; each chain then keeps those not certainly invalid on its own
        date (``graph.dates.validity_on``, the arithmetic the Cypher filter uses)."""
        uniq: dict[tuple[str, str], tuple[A.EntityRef, FuzzyDate]] = {}
        for ent, at in items:
            uniq.setdefault((ent.id, at.text), (ent, at))
        if not uniq:
            return {}
        span = FuzzyDate("", UNKNOWN.precision, min(a.lo for _, a in uniq.values()),
                         max(a.hi for _, a in uniq.values()))
        claims: dict[tuple[str, str], A.Claim] = {}

        def status(e: Edge, at: FuzzyDate) -> Any:
            r = e.row
            v = validity_on(r.get("from_lo") or MIN_DAY, r.get("from_hi") or MAX_DAY,
                            r.get("to_lo") or MIN_DAY, r.get("to_hi") or MAX_DAY, at.lo, at.hi)
            return None if v is Validity.INVALID else v.value

        def claim(e: Edge, at: FuzzyDate, st: str, names: dict[str, str]) -> A.Claim:
            key = (e.id, at.text)
            c = claims.get(key)
            if c is None:
                c = self._claim(e, names)
                c.status = st  # type: ignore[assignment]
                claims[key] = c
            return c

        refs: dict[str, A.EntityRef] = {}  # every organisation seen, by id
        answers: dict[tuple[str, str], A.ChainAnswer] = {}
        cands: dict[tuple[str, str], dict[str, list[list[A.Claim]]]] = {}
        for key, (ent, at) in uniq.items():
            answers[key] = A.ChainAnswer(at=at.text or "unknown", entity=ent)
            cands[key] = defaultdict(list)
        persons = sorted({e.id for e, _ in uniq.values() if e.kind == "Person"})
        if persons:
            clusters = self._clusters(persons)
            members = sorted({m for ms in clusters.values() for m in ms})
            people = self._nodes(members)
            prefs = {i: entity_from_props("Person", i, r.props) for i, r in people.items()}
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
                            org = refs.setdefault(e.other, self._ref(e))
                            ans.posts.append(A.ChainPost(
                                person=person, organization=org, holds=hc, status=hs, via=via))
                            cand[org.id].append([hc])
                            continue
                        for p in pin.get(e.other, ()):
                            ps = status(p, at)
                            if ps is None:
                                continue
                            pc = claim(p, at, ps, {p.src: e.row.get("o_name") or p.src})
                            org = refs.setdefault(p.other, self._ref(p))
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
                        refs.setdefault(p.other, self._ref(p))
                        cands[key][p.other].append([claim(p, at, ps, names)])
        for key, (ent, _) in uniq.items():
            if ent.kind == "Organization":
                refs.setdefault(ent.id, ent)
                cands[key][ent.id].append([])
        # walk PART_OF up, level by level, for every chain at once
        level: dict[tuple[str, str], dict[str, int]] = {}
        paths: dict[tuple[str, str], dict[str, list[A.Claim]]] = {}
        frontiers: dict[tuple[str, str], list[str]] = {}
        for key in uniq:
            answers[key].posts.sort(key=lambda p: (
                p.organization.id, p.position.id if p.position else "", p.holds.id))
            paths[key] = {o: min(c, key=path_key) for o, c in cands[key].items()}
            level[key] = {o: 0 for o in cands[key]}
            answers[key].entry = sorted(cands[key])
            frontiers[key] = sorted(cands[key])
        links: dict[str, list[Edge]] = defaultdict(list)
        fetched: set[str] = set()
        depth = 0
        while depth < MAX_DEPTH and any(frontiers.values()):
            todo = sorted({o for f in frontiers.values() for o in f} - fetched)
            for e in self._edges(todo, "out", ("PART_OF",), span):
                if e.okind == "Organization":
                    links[e.src].append(e)
            fetched.update(todo)
            for key, (ent, at) in uniq.items():
                lv, pth = level[key], paths[key]
                step: dict[str, list[list[A.Claim]]] = defaultdict(list)
                nxt: list[str] = []
                for o in frontiers[key]:
                    for e in links.get(o, ()):
                        st = status(e, at)
                        if st is None:
                            continue
                        c = claim(e, at, st, {e.src: refs[e.src].name or e.src})
                        refs.setdefault(e.other, self._ref(e))
                        if e.other not in lv:
                            lv[e.other] = depth + 1
                            nxt.append(e.other)
                        if lv[e.other] == depth + 1:
                            step[e.other].append(pth[o] + [c])
                for o, cs in step.items():
                    pth[o] = min(cs, key=path_key)
                frontiers[key] = sorted(set(nxt))
            depth += 1
        # heads of every organisation on any of the chains
        all_orgs = sorted({o for lv in level.values() for o in lv})
        pin_in: dict[str, list[Edge]] = defaultdict(list)
        for e in self._edges(all_orgs, "in", ("POSITION_IN",), span):
            if e.okind == "Position" and e.row.get("o_is_head"):
                pin_in[e.src].append(e)
        holders: dict[str, list[Edge]] = defaultdict(list)
        for e in self._edges([e.other for es in pin_in.values() for e in es], "in",
                             ("HOLDS",), span):
            if e.okind == "Person":
                holders[e.src].append(e)
        out: dict[tuple[str, str], tuple[A.ChainAnswer, dict[str, list[A.Claim]]]] = {}
        for key, (ent, at) in uniq.items():
            ans, lv = answers[key], level[key]
            for o in sorted(lv, key=lambda x: (lv[x], x)):
                parents: list[A.ChainLink] = []
                if o in fetched and lv[o] < MAX_DEPTH:
                    for e in links.get(o, ()):
                        st = status(e, at)
                        if st is not None:
                            parents.append(A.ChainLink(
                                parent=refs[e.other], status=st,
                                claim=claim(e, at, st, {e.src: refs[e.src].name or e.src})))
                heads: list[A.ChainHead] = []
                for p in pin_in.get(o, ()):
                    ps = status(p, at)
                    if ps is None:
                        continue
                    pc = claim(p, at, ps, {p.src: refs[o].name or o})
                    for h in holders.get(p.other, ()):
                        hs = status(h, at)
                        if hs is None:
                            continue
                        hc = claim(h, at, hs, {h.src: p.row.get("o_name") or h.src})
                        heads.append(A.ChainHead(person=self._ref(h), position=self._ref(p),
                                                 holds=hc, position_in=pc,
                                                 status=_worst(hs, ps)))
                ans.organizations.append(A.ChainOrg(
                    organization=refs[o], level=lv[o],
                    parents=sorted(parents, key=lambda l: (l.parent.id, l.claim.id)),
                    heads=sorted(heads, key=lambda h: (h.person.id, h.position.id,
                                                       h.holds.id))))
            ans.top = sorted(o.organization.id for o in ans.organizations if not o.parents)
            ans.dates_unknown = (
                sum(p.status == "dates_unknown" for p in ans.posts)
                + sum(l.status == "dates_unknown" for o in ans.organizations for l in o.parents)
                + sum(h.status == "dates_unknown" for o in ans.organizations for h in o.heads))
            out[key] = (ans, paths[key])
        return out

    def _chain_heads(self, items: Sequence[tuple[A.EntityRef, FuzzyDate]]
                     ) -> dict[tuple[str, str], list[tuple[Edge, str]]]:
        """Only who headed each organisation on each chain (the ``superior`` actors), for
        the sanctions-gap scan: the same walk as ``_chains`` (same round trips, same
        validity rule) without building claims, paths or answers for thousands of acts."""
        uniq: dict[tuple[str, str], tuple[A.EntityRef, FuzzyDate]] = {}
        for ent, at in items:
            uniq.setdefault((ent.id, at.text), (ent, at))
        if not uniq:
            return {}
        span = FuzzyDate("", UNKNOWN.precision, min(a.lo for _, a in uniq.values()),
                         max(a.hi for _, a in uniq.values()))

        def ok(e: Edge, at: FuzzyDate) -> bool:
            # not certainly invalid (graph.dates.validity_on, inlined: this runs a lot)
            r = e.row
            return not ((r.get("from_lo") or MIN_DAY) > at.hi
                        or (r.get("to_hi") or MAX_DAY) < at.lo)

        names: dict[str, str] = {}
        entry: dict[tuple[str, str], set[str]] = defaultdict(set)
        persons = sorted({e.id for e, _ in uniq.values() if e.kind == "Person"})
        if persons:
            clusters = self._clusters(persons)
            members = sorted({m for ms in clusters.values() for m in ms})
            outs = _grouped(self._edges(members, "out", ("HOLDS", "MEMBER_OF"), span))
            pin = _grouped([e for e in self._edges(
                [e.other for es in outs.values() for e in es if e.type == "HOLDS"], "out",
                ("POSITION_IN",), span) if e.okind == "Organization"])
            for key, (ent, at) in uniq.items():
                if ent.kind != "Person":
                    continue
                for m in clusters[ent.id]:
                    for e in outs.get(m, ()):
                        if not ok(e, at):
                            continue
                        if e.type == "MEMBER_OF":
                            if e.okind == "Organization":
                                entry[key].add(e.other)
                                names[e.other] = e.row.get("o_name") or e.other
                            continue
                        for p in pin.get(e.other, ()):
                            if ok(p, at):
                                entry[key].add(p.other)
                                names[p.other] = p.row.get("o_name") or p.other
        positions = sorted({e.id for e, _ in uniq.values() if e.kind == "Position"})
        if positions:
            pin_of = _grouped(self._edges(positions, "out", ("POSITION_IN",), span))
            for key, (ent, at) in uniq.items():
                for p in pin_of.get(ent.id, ()) if ent.kind == "Position" else ():
                    if p.okind == "Organization" and ok(p, at):
                        entry[key].add(p.other)
                        names[p.other] = p.row.get("o_name") or p.other
        for key, (ent, _) in uniq.items():
            if ent.kind == "Organization":
                entry[key].add(ent.id)
                names[ent.id] = ent.name or ent.id
        reach = {k: set(entry.get(k, ())) for k in uniq}
        frontiers = {k: sorted(reach[k]) for k in uniq}
        links: dict[str, list[Edge]] = defaultdict(list)
        fetched: set[str] = set()
        for _depth in range(MAX_DEPTH):
            if not any(frontiers.values()):
                break
            todo = sorted({o for f in frontiers.values() for o in f} - fetched)
            for e in self._edges(todo, "out", ("PART_OF",), span):
                if e.okind == "Organization":
                    links[e.src].append(e)
                    names[e.other] = e.row.get("o_name") or e.other
            fetched.update(todo)
            for key, (_, at) in uniq.items():
                nxt = {e.other for o in frontiers.get(key, ()) for e in links.get(o, ())
                       if ok(e, at) and e.other not in reach[key]}
                reach[key] |= nxt
                frontiers[key] = sorted(nxt)
        all_orgs = sorted({o for r in reach.values() for o in r})
        pin_in = _grouped([e for e in self._edges(all_orgs, "in", ("POSITION_IN",), span)
                           if e.okind == "Position" and e.row.get("o_is_head")])
        holders = _grouped([e for e in self._edges(
            [e.other for es in pin_in.values() for e in es], "in", ("HOLDS",), span)
            if e.okind == "Person"])
        out: dict[tuple[str, str], list[tuple[Edge, str]]] = {}
        for key, (_, at) in uniq.items():
            heads: list[tuple[Edge, str]] = []
            for o in sorted(reach.get(key, ())):
                for p in pin_in.get(o, ()):
                    if not ok(p, at):
                        continue
                    for h in holders.get(p.other, ()):
                        if ok(h, at):
                            heads.append((h, f"{p.row.get('o_name') or p.other} "
                                             f"(head of {names.get(o, o)})"))
            out[key] = heads
        return out

    # -- accountability ------------------------------------------------------------------
    def accountability(self, ref: str) -> A.AccountabilityAnswer:
        ent = self._resolve_kind(ref, ("Person", "Incident", "Case"), "an accountability "
                                                                      "question")
        ans = self._accountability_core(ent, {})
        return self._finish(ans)

    def _acts_of(self, ent: A.EntityRef) -> list[tuple[A.EntityRef, list[A.Claim]]]:
        """The acts a question is about, each with the path from the subject to it."""
        acts: dict[str, tuple[A.EntityRef, list[A.Claim]]] = {}
        names = {ent.id: ent.name or ent.id}
        if ent.kind == "Incident":
            return [(ent, [])]
        if ent.kind == "Person":
            outs = self._edges([ent.id], "out", ("VICTIM_OF", "DEFENDANT_IN"))
            incidents = [e for e in outs if e.type == "VICTIM_OF" and e.okind == "Incident"]
            cases = [e for e in outs if e.type == "DEFENDANT_IN" and e.okind == "Case"]
            for e in incidents:
                acts[e.other] = (self._ref(e), [self._claim(e, names)])
            linked = {e.other for e in self._edges([e.other for e in incidents], "out",
                                                    ("RESULT_OF",))}
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
        return [acts[k] for k in sorted(acts)]

    def _accountability_core(self, ent: A.EntityRef,
                             chain_cache: dict[tuple[str, str], Any]) -> A.AccountabilityAnswer:
        ans = A.AccountabilityAnswer(subject=ent)
        ans.acts, ans.actors, ans.notice, ans.notice_total = self._acts_batch(
            self._acts_of(ent), chain_cache)
        persons = {a.entity.id for a in ans.actors if a.entity.kind in ("Person",
                                                                       "Organization")}
        if persons:
            sanc = self._sanctions(self._clusters(persons))
            for a in ans.actors:
                a.sanctions = sanc.get(a.entity.id, {})
        return ans

    def _first_level(self, acts: Sequence[tuple[A.EntityRef, list[A.Claim]]]) -> tuple[
            list[tuple[A.EntityRef, list[A.Claim]]], dict[str, tuple[str | None, FuzzyDate]],
            dict[str, list[tuple[A.EntityRef, str, str, list[A.Claim]]]], list[A.Act]]:
        """The acts' direct, inciting, judicial and custodial actors, for many acts at once
        (one round trip per step for all of them)."""
        nodes = self._nodes([a.id for a, _ in acts])
        acts = [(entity_from_props(a.kind, a.id, nodes[a.id].props), p) for a, p in acts
                if a.id in nodes]
        dates: dict[str, tuple[str | None, FuzzyDate]] = {}
        for act, _ in acts:
            props = nodes[act.id].props
            text = props.get("date") if act.kind == "Incident" else props.get("verdict_date")
            dates[act.id] = (text, parse_date(text) if text else UNKNOWN)
        incidents = [a.id for a, _ in acts if a.kind == "Incident"]
        case_acts = [a.id for a, _ in acts if a.kind == "Case"]

        outs = _grouped(self._edges(incidents, "out", ("PERPETRATED_BY", "OCCURRED_AT",
                                                      "RESULT_OF")))
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
                    chain_cache: dict[tuple[str, str], Any]
                    ) -> tuple[list[A.Act], list[A.Actor], list[A.NoticeItem], int]:
        """Actors of many acts at once: every step is one round trip for all the acts, and
        the chains above all their actors (each at the date of its act) are walked together,
        so a sanctions-gap scan over every act costs a few queries per batch, not per act."""
        acts, dates, first, out_acts = self._first_level(acts)
        wanted = sorted({(w.id, dates[a.id][1].text): (w, dates[a.id][1])
                         for a, _ in acts for w, _, _, _ in first.get(a.id, ())
                         if w.kind in ("Person", "Organization")}.items())
        missing = [v for k, v in wanted if k not in chain_cache]
        if missing:
            chain_cache.update(self._chains(missing))
        actors: list[A.Actor] = []
        chain_orgs: dict[str, dict[str, A.EntityRef]] = {}
        for act, _ in acts:
            at = dates[act.id][1]
            at_text = at.text or None
            best: dict[tuple[str, str], A.Actor] = {}

            def add(actor: A.Actor) -> None:
                key = (actor.entity.id, actor.role)
                cur = best.get(key)
                if cur is None or path_key(actor.path) < path_key(cur.path):
                    best[key] = actor

            orgs_here: dict[str, A.EntityRef] = {}
            for who, role, detail, path in first.get(act.id, ()):
                add(A.Actor(entity=who, role=role, detail=detail, act_id=act.id, at=at_text,  # type: ignore[arg-type]
                            path=path, status=None))
                if who.kind not in ("Person", "Organization"):
                    continue
                chain, cpaths = chain_cache[(who.id, at.text)]
                for org in chain.organizations:
                    o = org.organization
                    opath = path + cpaths[o.id]
                    if o.id != who.id:
                        orgs_here[o.id] = o
                        rel = (f"organisation of {who.name}" if org.level == 0
                               else f"above {who.name}")
                        add(A.Actor(entity=o, role="institutional", detail=rel, act_id=act.id,
                                    at=at_text, path=opath,
                                    status=_worst(*(c.status for c in opath))))
                    for h in org.heads:
                        hpath = opath + [h.position_in, h.holds]
                        add(A.Actor(entity=h.person, role="superior",
                                    detail=f"{h.position.name} (head of {o.name})",
                                    act_id=act.id, at=at_text, path=hpath,
                                    status=_worst(*(c.status for c in hpath))))
                if who.kind == "Organization":
                    orgs_here[who.id] = who
            actors.extend(best.values())
            if at.known and orgs_here:
                chain_orgs[act.id] = orgs_here
        # notice: earlier incidents attributed to the organisations involved
        notice: list[A.NoticeItem] = []
        notice_total = 0
        if chain_orgs:
            earlier = _grouped([e for e in self._edges(
                {o for os in chain_orgs.values() for o in os}, "in",
                ("PERPETRATED_BY", "OCCURRED_AT")) if e.okind == "Incident"])
            for act_id, orgs_here in chain_orgs.items():
                at = dates[act_id][1]
                for oid, org in orgs_here.items():
                    found = [e for e in earlier.get(oid, ())
                             if e.other != act_id and e.row.get("o_date")
                             and e.row.get("o_date_hi") is not None
                             and e.row["o_date_hi"] < at.lo]
                    notice_total += len(found)
                    # the most recent ones before the act (a prison may have hundreds)
                    found.sort(key=lambda e: (-e.row["o_date_hi"], e.other, e.id))
                    for e in found[:NOTICE_PER_ORG]:
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
                upath[o] = min(cs, key=path_key)
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

    def gaps(self, authority: str, limit: int = 100) -> A.GapsAnswer:
        auth = (authority or "").strip().upper()
        if not auth:
            raise BadParameter("authority", "an authority is required (OFAC, EU, UK, UN, CA, "
                                            "AU, ...)")
        if limit < 1:
            raise BadParameter("limit", "must be at least 1")
        ans = A.GapsAnswer(authority=auth)
        acts: list[A.EntityRef] = []
        inc_ids = [r["id"] for r in self.store.run(ids_query("Incident"))]
        case_ids = [r["id"] for r in self.store.run(ids_query("Case"))]
        nodes = self._nodes(inc_ids + case_ids)
        with_incident = {e.src for e in self._edges(case_ids, "in", ("RESULT_OF",))
                         if e.other in nodes}
        for i in sorted(nodes):
            rec = nodes[i]
            if rec.kind == "Case" and i in with_incident:
                continue
            acts.append(entity_from_props(rec.kind, i, rec.props))
        reasons: dict[str, dict[tuple[str, str], tuple[str, str]]] = defaultdict(dict)
        people: dict[str, A.EntityRef] = {}
        names = {a.id: a.name for a in acts}
        for start in range(0, len(acts), GAPS_BATCH):
            batch, dates, first, _ = self._first_level(
                [(a, []) for a in acts[start:start + GAPS_BATCH]])
            heads = self._chain_heads([(w, dates[a.id][1]) for a, _ in batch
                                       for w, _, _, _ in first.get(a.id, ())
                                       if w.kind in ("Person", "Organization")])
            for a, _ in batch:
                at_text = dates[a.id][1].text
                for who, role, detail, _ in first.get(a.id, ()):
                    if who.kind == "Person":
                        people[who.id] = who
                        reasons[who.id].setdefault((a.id, role), (role, detail))
                    for h, hdetail in heads.get((who.id, at_text), ()):
                        if h.other not in people:
                            people[h.other] = self._ref(h)
                        reasons[h.other].setdefault((a.id, "superior"), ("superior", hdetail))
        if not people:
            return ans
        sanc = self._sanctions(self._clusters(people))
        gaps: list[A.Gap] = []
        for pid, person in people.items():
            mine = sanc.get(pid, {})
            if any(s.active for s in mine.get(auth, [])):
                continue
            rs = sorted((A.GapReason(role=role, detail=detail, act_id=act_id,  # type: ignore[arg-type]
                                     act_name=names.get(act_id))
                         for (act_id, _), (role, detail) in reasons[pid].items()),
                        key=lambda r: (r.act_id, r.role, r.detail))
            per_act: dict[str, float] = defaultdict(float)
            for r in rs:
                per_act[r.act_id] = max(per_act[r.act_id], ROLE_WEIGHT[r.role])
            gaps.append(A.Gap(person=person, score=sum(per_act.values()), reasons=rs,
                              other_sanctions={k: v for k, v in mine.items()}))
        gaps.sort(key=lambda g: (-g.score, (g.person.name or "").lower(), g.person.id))
        ans.total = len(gaps)
        ans.gaps = gaps[:limit]
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
        g = proj.graph
        chosen: list[list[str]] = []
        for p in node_paths:
            keys = []
            for u, v in zip(p, p[1:]):
                par = {k: x for k, x in g.get_edge_data(u, v).items()
                       if proj.edge_status(x, bounds) is not Validity.INVALID}
                keys.append(min(par, key=lambda k: edge_rank(proj, par[k], k, bounds)))
            chosen.append(keys)
        # fetch the full claims of the chosen edges (one lookup per node kind)
        wanted = {k for ks in chosen for k in ks}
        starts = {proj.graph.edges[u, v, k]["src"]
                  for p, ks in zip(node_paths, chosen) for (u, v), k in zip(zip(p, p[1:]), ks)}
        claims: dict[str, A.Claim] = {}
        info = proj.graph.nodes
        types = sorted({g.edges[u, v, k]["type"] for p, ks in zip(node_paths, chosen)
                        for (u, v), k in zip(zip(p, p[1:]), ks)})
        for e in self._edges(starts, "out", types, d):
            if e.id in wanted:
                claims[e.id] = self._claim(e, {e.src: info[e.src].get("name") or e.src})
        for p, ks in zip(node_paths, chosen):
            nodes = [A.EntityRef(id=n, kind=info[n]["kind"], name=info[n].get("name") or n,
                                 subtype=info[n].get("subtype"), date=info[n].get("date"))
                     for n in p]
            cl = [claims[k] for k in ks if k in claims]
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
        view = proj.view(include_restricted=self.include_restricted,
                         at=(d.lo, d.hi) if d else None, kinds=set(kinds))
        g = nx.Graph()
        g.add_nodes_from(view.nodes)
        for u, v in view.edges():
            if u != v:
                g.add_edge(u, v)
        ans = A.AnalyticsAnswer(measure=measure, kinds=kinds, at=d.text if d else None,
                                nodes=g.number_of_nodes(), edges=g.number_of_edges())
        info = proj.graph.nodes

        def ref(n: str) -> A.EntityRef:
            return A.EntityRef(id=n, kind=info[n]["kind"], name=info[n].get("name") or n,
                               subtype=info[n].get("subtype"), date=info[n].get("date"))

        scores: dict[str, float]
        if measure == "degree":
            scores = nx.degree_centrality(g) if g.number_of_nodes() > 1 else {
                n: 0.0 for n in g}
        elif measure == "betweenness":
            k = BETWEENNESS_SAMPLE if g.number_of_nodes() > BETWEENNESS_SAMPLE else None
            scores = nx.betweenness_centrality(g, k=k, seed=7)
        elif measure == "brokers":
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


def _union_sources(path: Sequence[A.Claim]) -> list[A.SourceRef]:
    seen: dict[str, A.SourceRef] = {}
    for c in path:
        for s in c.sources:
            seen.setdefault(s.id, s)
    return list(seen.values())
