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

from graph.dates import MAX_DAY, MIN_DAY, UNKNOWN, DateError, FuzzyDate, parse_date
from graph.ids import check_id
from graph.model import NODE_KINDS, kind_of_id
from graph.records import NodeRecord
from graph.store import Store
from queries import answers as A
from queries.cypher import edges_query, ids_query
from queries.errors import Ambiguous, BadParameter, NotFound
from queries.projection import edge_rank, projection
from queries.search import NameIndex, rank

MAX_DEPTH = 20  # PART_OF levels walked up or down (cycles are cut by the visited set)
PATHS_LIMIT = 10  # shortest paths returned
PATHS_ENUMERATE = 1000  # shortest paths enumerated before sorting and cutting
RESOLVE_SCORE = 90.0  # a name resolves to an entity when it matches this well
ROLE_WEIGHT = {"direct": 3.0, "judicial": 3.0, "inciting": 2.0, "custodial": 1.0,
               "superior": 1.0, "institutional": 1.0}
ANALYTICS_KINDS = ("Person", "Organization", "Position", "Case", "Incident")
MEASURES = ("degree", "betweenness", "communities", "brokers")
BETWEENNESS_SAMPLE = 500  # above this many nodes betweenness is estimated from a sample

_INDEXES: "weakref.WeakKeyDictionary[Store, NameIndex]" = weakref.WeakKeyDictionary()


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


def _worst(*statuses: str | None) -> str | None:
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
    if isinstance(obj, BaseModel):
        yield obj
        for name in type(obj).model_fields:
            yield from _walk(getattr(obj, name))
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _walk(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _walk(item)


def entity_from_props(kind: str, nid: str, props: dict[str, Any]) -> A.EntityRef:
    sub = props.get("kind") if kind != "Source" else props.get("kind")
    if kind == "Sanction":
        sub = props.get("authority")
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
        for kind, kind_ids in by_kind.items():
            rows = self.store.run(edges_query(kind, direction),
                                  {"ids": kind_ids, "types": list(types), "d_lo": d_lo,
                                   "d_hi": d_hi})
            for row in rows:
                if not self._visible(row.get("o_restricted")):
                    continue
                out.append(Edge(row["src"], row["type"], row["id"], row["other"],
                                row["okind"], direction, row,
                                row["status"] if at is not None else None))
        out.sort(key=lambda e: (e.src, e.type, e.other, e.id))
        return out

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
        if r.get("judged_at"):
            extra["judged_at"] = r["judged_at"]
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
    def resolve(self, ref: str) -> A.EntityRef:
        """An id or a name -> one entity (NotFound / Ambiguous otherwise)."""
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
        hits = self.search(ref, limit=50).hits
        strong = [h for h in hits if h.score >= RESOLVE_SCORE]
        if not strong:
            raise NotFound(ref)
        if len(strong) > 1:
            top = [h for h in strong if h.score == strong[0].score]
            if len(top) > 1 or strong[1].score >= 99:
                raise Ambiguous(ref, [{"id": h.entity.id, "name": h.entity.name,
                                       "kind": h.entity.kind, "score": h.score}
                                      for h in strong])
        return strong[0].entity

    def _resolve_kind(self, ref: str, kinds: tuple[str, ...], what: str) -> A.EntityRef:
        ent = self.resolve(ref)
        if ent.kind not in kinds:
            raise BadParameter("ref", f"{ent.id} is a {ent.kind}; {what} needs a "
                                      f"{' or '.join(k.lower() for k in kinds)}")
        return ent

    # -- SAME_AS clusters and sanctions ----------------------------------------------------
    def _clusters(self, ids: Iterable[str]) -> dict[str, list[str]]:
        """Each id -> the records judged the same (SAME_AS, either direction, transitively),
        itself first. Restricted records stay out of clusters for callers without access."""
        ids = sorted(set(ids))
        parent: dict[str, str] = {i: i for i in ids}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        frontier = list(ids)
        seen = set(ids)
        while frontier:
            edges = self._edges(frontier, "out", ("SAME_AS",)) + \
                self._edges(frontier, "in", ("SAME_AS",))
            nxt: list[str] = []
            for e in edges:
                parent.setdefault(e.other, e.other)
                if e.other not in seen:
                    seen.add(e.other)
                    nxt.append(e.other)
                ra, rb = find(e.src), find(e.other)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
            frontier = nxt
        groups: dict[str, list[str]] = defaultdict(list)
        for x in parent:
            groups[find(x)].append(x)
        return {i: [i] + sorted(m for m in groups[find(i)] if m != i) for i in ids}

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
        common = {f.name for f in NODE_KINDS[ent.kind].fields[:9]}
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
        for e in outs + ins:
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
                if e.other in cluster and e.src in cluster:
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
        return self._finish(ans)  # type: ignore[no-any-return]

    def _chain_core(self, ent: A.EntityRef, at: FuzzyDate
                    ) -> tuple[A.ChainAnswer, dict[str, list[A.Claim]]]:
        """The chain above ``ent`` at ``at`` and, for every organisation on it, the best
        path of claims from ``ent`` to it (for accountability answers)."""
        ans = A.ChainAnswer(at=at.text or "unknown", entity=ent)
        orgs: dict[str, A.EntityRef] = {}
        cands: dict[str, list[list[A.Claim]]] = defaultdict(list)
        names = {ent.id: ent.name or ent.id}
        if ent.kind == "Person":
            cluster = self._clusters([ent.id])[ent.id]
            people = self._nodes(cluster)
            prefs = {i: entity_from_props("Person", i, r.props) for i, r in people.items()}
            outs = self._edges(cluster, "out", ("HOLDS", "MEMBER_OF"), at)
            pin: dict[str, list[Edge]] = defaultdict(list)
            for e in self._edges([e.other for e in outs if e.type == "HOLDS"], "out",
                                 ("POSITION_IN",), at):
                if e.okind == "Organization":
                    pin[e.src].append(e)
            for e in outs:
                via = e.src if e.src != ent.id else None
                person = prefs.get(e.src, ent)
                hc = self._claim(e, {e.src: person.name or e.src})
                if e.type == "MEMBER_OF":
                    if e.okind != "Organization":
                        continue
                    org = self._ref(e)
                    orgs[org.id] = org
                    ans.posts.append(A.ChainPost(person=person, organization=org, holds=hc,
                                                 status=hc.status or "dates_unknown", via=via))
                    cands[org.id].append([hc])
                    continue
                for p in pin.get(e.other, ()):
                    pc = self._claim(p, {p.src: e.row.get("o_name") or p.src})
                    org = self._ref(p)
                    orgs[org.id] = org
                    ans.posts.append(A.ChainPost(
                        person=person, position=self._ref(e), organization=org, holds=hc,
                        position_in=pc, status=_worst(hc.status, pc.status) or "dates_unknown",
                        via=via))
                    cands[org.id].append([hc, pc])
        elif ent.kind == "Position":
            for p in self._edges([ent.id], "out", ("POSITION_IN",), at):
                if p.okind != "Organization":
                    continue
                org = self._ref(p)
                orgs[org.id] = org
                cands[org.id].append([self._claim(p, names)])
        else:
            orgs[ent.id] = ent
            cands[ent.id].append([])
        ans.posts.sort(key=lambda p: (p.organization.id, p.position.id if p.position else "",
                                      p.holds.id))
        paths: dict[str, list[A.Claim]] = {o: min(c, key=path_key) for o, c in cands.items()}
        level = {o: 0 for o in orgs}
        ans.entry = sorted(orgs)
        parents: dict[str, list[A.ChainLink]] = defaultdict(list)
        frontier = sorted(orgs)
        depth = 0
        while frontier and depth < MAX_DEPTH:
            nxt: list[str] = []
            step: dict[str, list[list[A.Claim]]] = defaultdict(list)
            for e in self._edges(frontier, "out", ("PART_OF",), at):
                if e.okind != "Organization":
                    continue
                c = self._claim(e, {e.src: orgs[e.src].name or e.src})
                parent = self._ref(e)
                parents[e.src].append(A.ChainLink(parent=parent, claim=c,
                                                  status=c.status or "dates_unknown"))
                if e.other not in level:
                    level[e.other] = depth + 1
                    orgs[e.other] = parent
                    nxt.append(e.other)
                if level[e.other] == depth + 1:
                    step[e.other].append(paths[e.src] + [c])
            for o, cs in step.items():
                paths[o] = min(cs, key=path_key)
            frontier = sorted(set(nxt))
            depth += 1
        # heads of every organisation on the chain
        heads: dict[str, list[A.ChainHead]] = defaultdict(list)
        pin_in = [e for e in self._edges(list(orgs), "in", ("POSITION_IN",), at)
                  if e.okind == "Position" and e.row.get("o_is_head")]
        holders: dict[str, list[Edge]] = defaultdict(list)
        for e in self._edges([e.other for e in pin_in], "in", ("HOLDS",), at):
            if e.okind == "Person":
                holders[e.src].append(e)
        for p in pin_in:
            pc = self._claim(p, {p.src: orgs[p.src].name or p.src})
            for h in holders.get(p.other, ()):
                hc = self._claim(h, {h.src: p.row.get("o_name") or h.src})
                heads[p.src].append(A.ChainHead(
                    person=self._ref(h), position=self._ref(p), holds=hc, position_in=pc,
                    status=_worst(hc.status, pc.status) or "dates_unknown"))
        for o in sorted(orgs, key=lambda x: (level[x], x)):
            ans.organizations.append(A.ChainOrg(
                organization=orgs[o], level=level[o],
                parents=sorted(parents.get(o, []), key=lambda l: (l.parent.id, l.claim.id)),
                heads=sorted(heads.get(o, []), key=lambda h: (h.person.id, h.position.id,
                                                              h.holds.id))))
        ans.top = [o.organization.id for o in ans.organizations if not o.parents]
        ans.dates_unknown = (
            sum(p.status == "dates_unknown" for p in ans.posts)
            + sum(l.status == "dates_unknown" for o in ans.organizations for l in o.parents)
            + sum(h.status == "dates_unknown" for o in ans.organizations for h in o.heads))
        return ans, paths

    # -- accountability ------------------------------------------------------------------
    def accountability(self, ref: str) -> A.AccountabilityAnswer:
        ent = self._resolve_kind(ref, ("Person", "Incident", "Case"), "an accountability "
                                                                      "question")
        ans = self._accountability_core(ent, {})
        return self._finish(ans)  # type: ignore[no-any-return]

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
        best: dict[tuple[str, str, str], A.Actor] = {}

        def add(actor: A.Actor) -> None:
            key = (actor.entity.id, actor.role, actor.act_id)
            cur = best.get(key)
            if cur is None or path_key(actor.path) < path_key(cur.path):
                best[key] = actor

        for act, act_path in self._acts_of(ent):
            nodes = self._nodes([act.id])
            if act.id not in nodes:
                continue
            props = nodes[act.id].props
            act = entity_from_props(act.kind, act.id, props)
            if act.kind == "Incident":
                date_text = props.get("date")
            else:
                date_text = props.get("verdict_date")
            at = parse_date(date_text) if date_text else UNKNOWN
            names = {act.id: act.name or act.id}
            first: list[tuple[A.EntityRef, str, str, list[A.Claim]]] = []
            victims: list[A.EntityRef] = []
            cases: list[tuple[str, list[A.Claim], str]] = []
            if act.kind == "Incident":
                outs = self._edges([act.id], "out", ("PERPETRATED_BY", "OCCURRED_AT",
                                                     "RESULT_OF"))
                vic = [e for e in self._edges([act.id], "in", ("VICTIM_OF",))
                       if e.okind == "Person"]
                victims = [self._ref(e) for e in vic]
                for e in outs:
                    c = self._claim(e, names)
                    if e.type == "PERPETRATED_BY":
                        role = "inciting" if (e.row.get("x_role") or "").lower().startswith(
                            "incit") else "direct"
                        first.append((self._ref(e), role, e.row.get("x_role") or "perpetrator",
                                      [c]))
                    elif e.type == "OCCURRED_AT" and e.okind == "Organization":
                        first.append((self._ref(e), "custodial",
                                      f"place of {(act.subtype or 'the act').replace('_', ' ')}",
                                      [c]))
                    elif e.type == "RESULT_OF" and e.okind == "Case":
                        cases.append((e.other, [c], e.row.get("o_name") or e.other))
                vnames = {e.other: e.row.get("o_name") or e.other for e in vic}
                vic_claims = {e.other: self._claim(e, names) for e in vic}
                for e in self._edges([e.other for e in vic], "out", ("DETAINED_AT",)):
                    if e.okind == "Organization":
                        first.append((self._ref(e), "custodial", "place of detention",
                                      [vic_claims[e.src], self._claim(e, vnames)]))
            else:
                cases.append((act.id, [], act.name or act.id))
                victims = [self._ref(e) for e in self._edges([act.id], "in", ("DEFENDANT_IN",))
                           if e.okind == "Person"]
            if cases:
                cpath = {cid: p for cid, p, _ in cases}
                cnames = {cid: n for cid, _, n in cases}
                for e in self._edges(list(cpath), "in", ("JUDGE_IN", "PROSECUTOR_IN")):
                    if e.okind == "Person":
                        first.append((self._ref(e), "judicial",
                                      "judge" if e.type == "JUDGE_IN" else "prosecutor",
                                      cpath[e.src] + [self._claim(e, cnames)]))
                for e in self._edges(list(cpath), "out", ("HEARD_BY", "UPHELD_BY")):
                    if e.okind == "Organization":
                        first.append((self._ref(e), "judicial",
                                      "trial court" if e.type == "HEARD_BY"
                                      else "upheld the sentence",
                                      cpath[e.src] + [self._claim(e, cnames)]))
            ans.acts.append(A.Act(act=act, date=date_text, victims=victims, path=act_path))
            at_text = at.text or None
            chain_orgs: dict[str, A.EntityRef] = {}
            for who, role, detail, path in first:
                add(A.Actor(entity=who, role=role, detail=detail, act_id=act.id, at=at_text,  # type: ignore[arg-type]
                            path=path, status=None))
                if who.kind not in ("Person", "Organization"):
                    continue
                key = (who.id, at.text)
                if key not in chain_cache:
                    chain_cache[key] = self._chain_core(who, at)
                chain, cpaths = chain_cache[key]
                for org in chain.organizations:
                    o = org.organization
                    opath = path + cpaths[o.id]
                    if o.id != who.id:
                        chain_orgs[o.id] = o
                        rel = (f"organisation of {who.name}" if org.level == 0
                               else f"above {who.name}")
                        add(A.Actor(entity=o, role="institutional", detail=rel, act_id=act.id,
                                    at=at_text, path=opath, status=_worst(
                                        *(c.status for c in opath))))  # type: ignore[arg-type]
                    for h in org.heads:
                        hpath = opath + [h.position_in, h.holds]
                        add(A.Actor(entity=h.person, role="superior",
                                    detail=f"{h.position.name} (head of {o.name})",
                                    act_id=act.id, at=at_text, path=hpath,
                                    status=_worst(*(c.status for c in hpath))))  # type: ignore[arg-type]
                if who.kind == "Organization":
                    chain_orgs[who.id] = who
            # notice: earlier incidents attributed to the organisations involved
            if at.known and chain_orgs:
                for e in self._edges(list(chain_orgs), "in", ("PERPETRATED_BY", "OCCURRED_AT")):
                    if e.okind != "Incident" or e.other == act.id:
                        continue
                    hi = e.row.get("o_date_hi")
                    if hi is not None and e.row.get("o_date") and hi < at.lo:
                        ans.notice.append(A.NoticeItem(
                            organization=chain_orgs[e.src], incident=self._ref(e),
                            before_act=act.id, claim=self._claim(e)))
        ans.actors = sorted(best.values(), key=lambda a: (
            a.act_id, list(A.ActorRole.__args__).index(a.role), a.entity.id))  # type: ignore[attr-defined]
        ans.notice.sort(key=lambda n: (n.before_act, n.organization.id, n.incident.id,
                                       n.claim.id))
        persons = {a.entity.id for a in ans.actors if a.entity.kind in ("Person",
                                                                       "Organization")}
        if persons:
            sanc = self._sanctions(self._clusters(persons))
            for a in ans.actors:
                a.sanctions = sanc.get(a.entity.id, {})
        return ans

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
                    status=_worst(*(c.status for c in path)) if d else None))  # type: ignore[arg-type]
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
        return self._finish(ans)  # type: ignore[no-any-return]

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
        cache: dict[tuple[str, str], Any] = {}
        reasons: dict[str, dict[tuple[str, str], A.GapReason]] = defaultdict(dict)
        people: dict[str, A.EntityRef] = {}
        for act in acts:
            sub = self._accountability_core(act, cache)
            names = {a.act.id: a.act.name for a in sub.acts}
            for actor in sub.actors:
                if actor.entity.kind != "Person":
                    continue
                people[actor.entity.id] = actor.entity
                key = (actor.act_id, actor.role)
                reasons[actor.entity.id].setdefault(key, A.GapReason(
                    role=actor.role, detail=actor.detail, act_id=actor.act_id,
                    act_name=names.get(actor.act_id)))
        if not people:
            return ans
        sanc = self._sanctions(self._clusters(people))
        gaps: list[A.Gap] = []
        for pid, person in people.items():
            mine = sanc.get(pid, {})
            if any(s.active for s in mine.get(auth, [])):
                continue
            rs = sorted(reasons[pid].values(), key=lambda r: (r.act_id, r.role, r.detail))
            per_act: dict[str, float] = defaultdict(float)
            for r in rs:
                per_act[r.act_id] = max(per_act[r.act_id], ROLE_WEIGHT[r.role])
            gaps.append(A.Gap(person=person, score=sum(per_act.values()), reasons=rs,
                              other_sanctions={k: v for k, v in mine.items()}))
        gaps.sort(key=lambda g: (-g.score, (g.person.name or "").lower(), g.person.id))
        ans.total = len(gaps)
        ans.gaps = gaps[:limit]
        return self._finish(ans)  # type: ignore[no-any-return]

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
        from graph.names import normalise

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
        g = proj.view(include_restricted=self.include_restricted, at=bounds)
        if ea.id not in g or eb.id not in g:
            return ans
        try:
            length = nx.shortest_path_length(g, ea.id, eb.id)
        except nx.NetworkXNoPath:
            return ans
        if length > max_len:
            return ans
        node_paths: list[list[str]] = []
        for p in nx.all_shortest_paths(g, ea.id, eb.id):
            node_paths.append(p)
            if len(node_paths) >= PATHS_ENUMERATE:
                break
        node_paths = sorted(node_paths)[:PATHS_LIMIT]
        ans.length = length
        chosen: list[list[str]] = []
        for p in node_paths:
            keys = []
            for u, v in zip(p, p[1:]):
                par = g.get_edge_data(u, v)
                keys.append(min(par, key=lambda k: edge_rank(proj, par[k], k, bounds)))
            chosen.append(keys)
        # fetch the full claims of the chosen edges (one lookup per node kind)
        wanted = {k for ks in chosen for k in ks}
        starts = {proj.graph.edges[u, v, k]["src"]
                  for p, ks in zip(node_paths, chosen) for (u, v), k in zip(zip(p, p[1:]), ks)}
        claims: dict[str, A.Claim] = {}
        for e in self._edges(starts, "out", (), d):
            if e.id in wanted:
                claims[e.id] = self._claim(e)
        info = proj.graph.nodes
        for p, ks in zip(node_paths, chosen):
            nodes = [A.EntityRef(id=n, kind=info[n]["kind"], name=info[n].get("name") or n,
                                 subtype=info[n].get("subtype"), date=info[n].get("date"))
                     for n in p]
            cl = [claims[k] for k in ks if k in claims]
            ans.paths.append(A.Path(nodes=nodes, claims=cl,
                                    status=_worst(*(c.status for c in cl)) if d else None))  # type: ignore[arg-type]
        return self._finish(ans)  # type: ignore[no-any-return]

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
                    claims[e.id] = self._claim(e)
            frontier = sorted(set(nxt))
            if not frontier:
                break
        sub.nodes = [nodes[ent.id]] + [nodes[n] for n in sorted(nodes) if n != ent.id]
        sub.edges = sorted((c for c in claims.values()
                            if c.from_id in nodes and c.to_id in nodes),
                           key=lambda c: (c.type, c.id))
        return self._finish(sub)  # type: ignore[no-any-return]


def _union_sources(path: Sequence[A.Claim]) -> list[A.SourceRef]:
    seen: dict[str, A.SourceRef] = {}
    for c in path:
        for s in c.sources:
            seen.setdefault(s.id, s)
    return list(seen.values())
