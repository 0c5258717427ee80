"""Property tests: the service (real LadybugDB, named queries) and the oracle (plain
networkx over the same records) must give the same answers on random small graphs with
random, missing, imprecise and open dates, restricted records and SAME_AS links, both for a
caller who may see restricted records and for one who may not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.dates import parse_date
from graph.embedded import EmbeddedStore
from queries.errors import NotFound
from queries.service import GraphQueries
from tests.queries.oracle import Oracle
from tests.queries.synth import ACT_DATES, fuzzy_dates, graphs, load_graph

SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.fixture(scope="module")
def store(memory_store: EmbeddedStore) -> EmbeddedStore:
    return memory_store


load = load_graph


def both(store: EmbeddedStore, nodes: list[Any], rels: list[Any]
         ) -> Iterator[tuple[GraphQueries, Oracle]]:
    for inc in (True, False):
        yield GraphQueries(store, include_restricted=inc), Oracle(nodes, rels,
                                                                  include_restricted=inc)


def query_date(draw_text: str) -> str:
    return draw_text or "2001"


def check_chains(q: GraphQueries, o: Oracle, nodes: list[Any], at: str) -> None:
    d = parse_date(at)
    for n in nodes:
        if n.kind not in ("Person", "Position", "Organization"):
            continue
        if not o.visible(n.id):
            with pytest.raises(NotFound):
                q.chain(n.id, at)
            continue
        ans = q.chain(n.id, at)
        exp = o.chain(n.id, d)
        got_posts = {(p.person.id, p.position.id if p.position else None,
                      p.organization.id, p.holds.id,
                      p.position_in.id if p.position_in else None, p.status)
                     for p in ans.posts}
        assert got_posts == exp["posts"], (n.id, at)
        got_orgs = {org.organization.id: (
            org.level, frozenset((l.parent.id, l.claim.id, l.status) for l in org.parents),
            frozenset((h.person.id, h.position.id, h.holds.id, h.position_in.id, h.status)
                      for h in org.heads)) for org in ans.organizations}
        assert got_orgs == exp["orgs"], (n.id, at)
        assert ans.top == exp["top"]
        assert ans.dates_unknown == exp["unknown"]


@SETTINGS
@given(graph=graphs(), at=st.one_of(ACT_DATES, fuzzy_dates()))
def test_chain_matches_oracle(store: EmbeddedStore, graph: dict[str, Any], at: str) -> None:
    nodes, rels = load(store, graph)
    for q, o in both(store, nodes, rels):
        check_chains(q, o, nodes, query_date(at))


@SETTINGS
@given(graph=graphs(), dates=st.lists(st.one_of(ACT_DATES, fuzzy_dates()), min_size=2,
                                      max_size=6))
def test_chains_at_several_dates_match_oracle(store: EmbeddedStore, graph: dict[str, Any],
                                              dates: list[str]) -> None:
    """An organisation's parents and heads are kept per interval of dates between their
    claims' bounds (``GraphQueries._org_parts``) and handed to the next chain whose date
    falls in the same interval: each chain, asked after the others on one store, must
    still be the oracle's at its own date."""
    nodes, rels = load(store, graph)
    for q, o in both(store, nodes, rels):
        for at in dates:
            check_chains(q, o, nodes, query_date(at))


@SETTINGS
@given(graph=graphs())
def test_accountability_matches_oracle(store: EmbeddedStore, graph: dict[str, Any]) -> None:
    nodes, rels = load(store, graph)
    for q, o in both(store, nodes, rels):
        for n in nodes:
            if n.kind not in ("Person", "Incident", "Case") or not o.visible(n.id):
                continue
            ans = q.accountability(n.id)
            exp = o.accountability(n.id)
            assert {a.act.id for a in ans.acts} == exp["acts"]
            got = {(a.entity.id, a.role, a.act_id, tuple(c.id for c in a.path), a.status)
                   for a in ans.actors}
            assert got == exp["actors"], n.id
            assert {(x.before_act, x.organization.id, x.incident.id, x.claim.id)
                    for x in ans.notice} == exp["notice"]
            for a in ans.actors:  # evidence: every step carries its sources
                for c in a.path:
                    assert [s.id for s in c.sources] == c.source_ids
                    assert c.unsourced == (not c.source_ids)


@SETTINGS
@given(graph=graphs(), at=st.one_of(st.none(), fuzzy_dates()))
def test_linked_matches_oracle(store: EmbeddedStore, graph: dict[str, Any],
                               at: str | None) -> None:
    nodes, rels = load(store, graph)
    at = at or None
    d = parse_date(at) if at else None
    for q, o in both(store, nodes, rels):
        for n in nodes:
            if n.kind != "Organization" or not o.visible(n.id):
                continue
            ans = q.linked(n.id, at)
            exp = o.linked(n.id, d)
            assert {u.id for u in ans.units} == exp["units"]
            got = {off.person.id: {(p.position.id if p.position else None, p.organization.id,
                                    tuple(c.id for c in p.path), p.status)
                                   for p in off.posts} for off in ans.officials}
            assert got == exp["officials"]
            for off in ans.officials:
                sanc = {auth: {(s.id, s.target_id, s.via, s.active) for s in ss}
                        for auth, ss in off.sanctions.items()}
                assert sanc == exp["sanctions"][off.person.id]


@SETTINGS
@given(graph=graphs(), authority=st.sampled_from(["OFAC", "EU", "UK", "UN"]))
def test_gaps_matches_oracle(store: EmbeddedStore, graph: dict[str, Any],
                             authority: str) -> None:
    nodes, rels = load(store, graph)
    for q, o in both(store, nodes, rels):
        ans = q.gaps(authority, limit=1000)
        got = [(g.person.id, g.score, tuple(sorted((r.act_id, r.role) for r in g.reasons)))
               for g in ans.gaps]
        assert got == o.gaps(authority)


@SETTINGS
@given(graph=graphs(), text=st.sampled_from(["Zzyzx", "Mohseni Ejei", "Gholam-Hossein",
                                             "gholamhossein", "محسني اژه اي", "Kamo",
                                             "Seni Ka", "zha", "Testland Unit 1"]))
def test_search_matches_oracle(store: EmbeddedStore, graph: dict[str, Any], text: str) -> None:
    nodes, rels = load(store, graph)
    for q, o in both(store, nodes, rels):
        got = [(h.entity.id, h.score) for h in q.search(text, limit=50).hits]
        assert got == o.search(text, 50)


@SETTINGS
@given(graph=graphs(), at=st.one_of(st.none(), fuzzy_dates()), data=st.data())
def test_paths_match_oracle(store: EmbeddedStore, graph: dict[str, Any], at: str | None,
                            data: st.DataObject) -> None:
    nodes, rels = load(store, graph)
    at = at or None
    d = parse_date(at) if at else None
    ids = [n.id for n in nodes if n.kind != "Source"]
    pairs = [(data.draw(st.sampled_from(ids)), data.draw(st.sampled_from(ids)))
             for _ in range(4)]
    for q, o in both(store, nodes, rels):
        for a, b in pairs:
            if not (o.visible(a) and o.visible(b)):
                with pytest.raises(NotFound):
                    q.paths(a, b, at)
                continue
            ans = q.paths(a, b, at, max_len=6)
            length, exp = o.paths(a, b, d, 6)
            assert ans.length == length
            got = [(tuple(n.id for n in p.nodes), tuple(c.id for c in p.claims))
                   for p in ans.paths]
            assert got == exp


@SETTINGS
@given(graph=graphs())
def test_timeline_matches_oracle(store: EmbeddedStore, graph: dict[str, Any]) -> None:
    nodes, rels = load(store, graph)
    for q, o in both(store, nodes, rels):
        for n in nodes:
            if n.kind == "Source" or not o.visible(n.id):
                continue
            ans = q.timeline(n.id)
            events, undated = o.timeline(n.id)
            got = sorted((parse_date(e.date).lo, parse_date(e.date).hi, e.what,
                          e.entity.id if e.entity else None,
                          e.claim.id if e.claim else None) for e in ans.events)
            exp = sorted((lo, hi, what, other, None if cid.startswith("_record:") else cid)
                         for lo, hi, what, other, cid in events)
            assert got == exp
            bounds = [(parse_date(e.date).lo, parse_date(e.date).hi) for e in ans.events]
            assert bounds == sorted(bounds)  # in order
            assert {c.id for c in ans.undated} == undated


@SETTINGS
@given(graph=graphs(), at=st.one_of(st.none(), fuzzy_dates()), depth=st.integers(1, 3))
def test_neighbourhood_matches_oracle(store: EmbeddedStore, graph: dict[str, Any],
                                      at: str | None, depth: int) -> None:
    nodes, rels = load(store, graph)
    at = at or None
    d = parse_date(at) if at else None
    for q, o in both(store, nodes, rels):
        for n in nodes:
            if n.kind == "Source" or not o.visible(n.id):
                continue
            sub = q.neighbourhood(n.id, depth=depth, at=at, limit=10_000)
            exp_nodes, exp_claims = o.neighbourhood(n.id, depth, d)
            assert {x.id for x in sub.nodes} == exp_nodes
            assert {c.id for c in sub.edges} == exp_claims
            assert not sub.truncated


@SETTINGS
@given(graph=graphs(), at=st.one_of(st.none(), fuzzy_dates()),
       kinds=st.sampled_from([None, ["Person", "Organization", "Position"],
                              ["Organization", "Case", "Incident"]]))
def test_analytics_match_oracle(store: EmbeddedStore, graph: dict[str, Any], at: str | None,
                                kinds: list[str] | None) -> None:
    import networkx as nx

    nodes, rels = load(store, graph)
    at = at or None
    d = parse_date(at) if at else None
    from queries.service import ANALYTICS_KINDS

    for q, o in both(store, nodes, rels):
        h = o.analytics_graph(set(kinds or ANALYTICS_KINDS), d)
        deg = q.analytics("degree", kinds=kinds, at=at, limit=10_000)
        assert (deg.nodes, deg.edges) == (h.number_of_nodes(), h.number_of_edges())
        exp = nx.degree_centrality(h) if h.number_of_nodes() > 1 else {n: 0.0 for n in h}
        assert {s.entity.id: s.score for s in deg.ranking} == pytest.approx(
            {n: round(v, 6) for n, v in exp.items()}, abs=1e-6)
        btw = q.analytics("betweenness", kinds=kinds, at=at, limit=10_000)
        exp = nx.betweenness_centrality(h)
        assert {s.entity.id: s.score for s in btw.ranking} == pytest.approx(
            {n: round(v, 6) for n, v in exp.items()}, abs=1e-6)
        comm = q.analytics("communities", kinds=kinds, at=at, limit=10_000)
        members = sorted(m.id for c in comm.communities for m in c.members)
        assert members == sorted(h.nodes)  # a partition of the visible projection
