"""The conformance questions: the same synthetic bundle loaded into any store, the same
questions asked, answers in a store-independent JSON form.

Three layers, so a failure says where engines part ways:
- ``store.*``: the Store interface itself (counts, records read back by id);
- ``named.*``: every named query of the catalogue the query layer runs, with the parameters
  it runs them with (rows sorted: Cypher promises no order without ORDER BY);
- ``answer.*``: the product's questions (chain of command at a date, accountability,
  linked officials, sanctions gaps, search in Latin and Persian script, paths, timeline,
  neighbourhood, profile, analytics), as the API would return them.

The bundle is tests/fixtures/native_valid (obviously artificial names, synthetic sources).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graph.dates import MAX_DAY, MIN_DAY, parse_date
from graph.model import NODE_KINDS, RELATION_TYPES
from graph.records import RelRecord
from graph.store import Store

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "native_valid"

NODE_IDS = (
    "person:zzyzx-judge-alpha", "person:zzyzx-chief-beta", "person:zzyzx-victim-gamma",
    "org:testland-judiciary", "org:testland-court-one", "org:testland-prison-one",
    "position:head-of-testland-judiciary", "position:judge-testland-court-one",
    "case:testland-0001", "incident:execution-zzyzx-victim-gamma",
    "source:synthetic-report-1", "source:synthetic-law-1",
)
# Dates chosen around the fixture's claim dates: before the court existed (1990), inside
# an open-ended claim (2000), the month a post began (2018-03: imprecise start), the day of
# the act (2020-01-15), after a post ended (2022).
DATES = (None, "1990", "2000", "2018-03", "2020-01-15", "2022")

Question = Callable[[Store], Any]


def _canon(value: Any) -> Any:
    """JSON round trip: tuples become lists, floats stay floats, keys are strings."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _sorted_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    canon = [_canon(r) for r in rows]
    return sorted(canon, key=lambda r: json.dumps(r, sort_keys=True))


def _bounds(at: str | None) -> tuple[int, int]:
    if at is None:
        return MIN_DAY, MAX_DAY
    d = parse_date(at)
    return d.lo, d.hi


def _store_questions() -> dict[str, Question]:
    qs: dict[str, Question] = {"store.counts": lambda s: s.counts()}

    def nodes(s: Store) -> Any:
        got = s.get_nodes(list(NODE_IDS) + ["person:zzyzx-absent"])
        return {k: {"kind": v.kind, "props": _canon(v.props)} for k, v in sorted(got.items())}

    qs["store.get_nodes"] = nodes

    def rels(s: Store) -> Any:
        wanted = [
            RelRecord("HOLDS", "holds:alpha-judge", "person:zzyzx-judge-alpha",
                      "position:judge-testland-court-one", "Person", "Position"),
            RelRecord("HOLDS", "holds:beta-head", "person:zzyzx-chief-beta",
                      "position:head-of-testland-judiciary", "Person", "Position"),
            RelRecord("HOLDS", "holds:absent", "person:zzyzx-judge-alpha",
                      "position:head-of-testland-judiciary", "Person", "Position"),
        ]
        got = s.get_rels(wanted)
        return {k: {"type": v.type, "from": v.from_id, "to": v.to_id, "props": _canon(v.props)}
                for k, v in sorted(got.items())}

    qs["store.get_rels"] = rels
    return qs


def _run_sorted(name: str, params: dict[str, Any] | None = None) -> Question:
    return lambda s: _sorted_rows(s.run(name, params))


def _named_questions() -> dict[str, Question]:
    from queries.cypher import edges_query, ids_query, keys_query, proj_nodes_query, proj_rels_query

    qs: dict[str, Question] = {}
    for kind in NODE_KINDS:
        for name in (ids_query(kind), keys_query(kind), proj_nodes_query(kind)):
            qs[f"named.{name}"] = _run_sorted(name)
    for rel_type in RELATION_TYPES:
        name = proj_rels_query(rel_type)
        qs[f"named.{name}"] = _run_sorted(name)
    from graph.model import kind_of_id

    by_kind: dict[str, list[str]] = {}
    for nid in NODE_IDS:
        by_kind.setdefault(kind_of_id(nid) or "", []).append(nid)
    for kind, ids in by_kind.items():
        for direction in ("out", "in"):
            for types in ((), ("HOLDS",), ("PART_OF",), ("HOLDS", "MEMBER_OF")):
                name = edges_query(kind, direction, types)
                if name is None:  # no such claim can exist for this kind and direction
                    continue
                for at in DATES:
                    lo, hi = _bounds(at)
                    params = {"ids": ids, "d_lo": lo, "d_hi": hi}
                    qs[f"named.{name}[at={at or '-'}]"] = _run_sorted(name, params)
    return qs


def _answer_questions() -> dict[str, Question]:
    from queries.service import GraphQueries

    def ask(fn: Callable[[GraphQueries], Any]) -> Question:
        return lambda s: _canon(fn(GraphQueries(s)).model_dump(mode="json"))

    return {
        "answer.chain.judge@2020-01-15": ask(lambda q: q.chain("person:zzyzx-judge-alpha",
                                                                "2020-01-15")),
        "answer.chain.judge@1990": ask(lambda q: q.chain("person:zzyzx-judge-alpha", "1990")),
        "answer.chain.court@2018-03": ask(lambda q: q.chain("org:testland-court-one", "2018-03")),
        "answer.accountability.victim": ask(lambda q: q.accountability(
            "person:zzyzx-victim-gamma")),
        "answer.accountability.case": ask(lambda q: q.accountability("case:testland-0001")),
        "answer.linked.judiciary@2020": ask(lambda q: q.linked("org:testland-judiciary", "2020")),
        "answer.linked.judiciary": ask(lambda q: q.linked("org:testland-judiciary")),
        "answer.gaps.EU": ask(lambda q: q.gaps("EU")),
        "answer.search.latin": ask(lambda q: q.search("Zzyzx Judge Alpha")),
        "answer.search.persian": ask(lambda q: q.search("زیزیکس رئیس بتا")),
        "answer.paths.judge-victim": ask(lambda q: q.paths("person:zzyzx-judge-alpha",
                                                           "person:zzyzx-victim-gamma")),
        "answer.timeline.judge": ask(lambda q: q.timeline("person:zzyzx-judge-alpha")),
        "answer.neighbourhood.judiciary": ask(lambda q: q.neighbourhood("org:testland-judiciary")),
        "answer.profile.chief": ask(lambda q: q.profile("person:zzyzx-chief-beta")),
        "answer.analytics.degree": ask(lambda q: q.analytics("degree")),
    }


def questions() -> dict[str, Question]:
    out = _store_questions()
    out.update(_named_questions())
    out.update(_answer_questions())
    return out
