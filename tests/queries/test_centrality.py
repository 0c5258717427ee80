"""Degree and betweenness on arrays (queries.centrality) against networkx, which
``GraphQueries.analytics`` used before (issue #7): the same scores (to the bit, which is
what keeps near-tied rankings identical) and the same top-k, directly on random graphs of
many shapes (leaves, stars, paths, pairs, isolated nodes, dense parts; exact and sampled)
and through the service on a real embedded store (parallel claims, self-loops, isolated,
restricted and out-of-date nodes and claims, kind filters)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.dates import parse_date
from graph.embedded import EmbeddedStore
from queries import service
from queries.centrality import SimpleCSR, betweenness_centrality, degree_centrality, sample_sources
from queries.projection import projection
from queries.service import GraphQueries
from tests.queries.oracle import Oracle
from tests.queries.synth import load_graph

# -- direct: arrays against networkx on the same graph -------------------------------------


def _graphs(n: int, lo: np.ndarray, hi: np.ndarray) -> tuple[nx.Graph, SimpleCSR]:
    """The networkx graph ``Projection.simple_graph`` would build (nodes in order, then
    the distinct edges in ascending (lo, hi) order) and its CSR."""
    a, b = np.minimum(lo, hi), np.maximum(lo, hi)
    ok = a != b
    pairs = np.unique(a[ok] * n + b[ok]) if ok.any() else np.zeros(0, dtype=np.int64)
    a, b = pairs // n, pairs % n
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(a.tolist(), b.tolist()))
    return g, SimpleCSR.from_pairs(n, a, b)


def _shape(kind: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if kind == "sparse":  # mostly leaves and small trees, like the scale-1 graph
        m = n // 2
        return rng.integers(0, n, m), rng.integers(0, n, m)
    if kind == "dense":
        m = n * 4
        return rng.integers(0, n, m), rng.integers(0, n, m)
    if kind == "tree":  # a random tree plus isolated nodes
        k = max(2, n - n // 5)
        kids = np.arange(1, k)
        return kids, (rng.random(k - 1) * kids).astype(np.int64)
    if kind == "hubs":  # hubs with many leaves, joined by a few paths
        hubs = rng.integers(0, n, max(2, n // 40))
        leaves = rng.integers(0, n, n)
        chain = rng.integers(0, n, n // 10)
        return (np.concatenate([hubs.take(rng.integers(0, len(hubs), n)), chain[:-1]]),
                np.concatenate([leaves, chain[1:]]))
    if kind == "star":
        return np.zeros(n - 1, dtype=np.int64), np.arange(1, n)
    if kind == "path":
        return np.arange(n - 1), np.arange(1, n)
    if kind == "pairs":  # components of two nodes (both ends of degree 1) and triangles
        return np.arange(0, n - 1, 2), np.arange(1, n, 2)
    raise AssertionError(kind)


def _ranking(scores: np.ndarray, limit: int) -> list[int]:
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:limit]


def _check(g: nx.Graph, csr: SimpleCSR, k: int | None, seed: int = 7) -> None:
    n = g.number_of_nodes()
    exp = nx.betweenness_centrality(g, k=k, seed=seed)
    want = np.array([exp[i] for i in range(n)], dtype=np.float64)
    got = betweenness_centrality(csr, k=k, seed=seed)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    # the same floating-point sums in the same order: bit-identical, so near-ties rank
    # the same way too
    assert np.array_equal(got, want, equal_nan=True)
    assert _ranking(got, 50) == _ranking(want, 50)


@pytest.mark.parametrize("kind", ["sparse", "dense", "tree", "hubs", "star", "path", "pairs"])
@pytest.mark.parametrize("n", [1, 2, 3, 7, 60, 300])
def test_betweenness_exact_matches_networkx(kind: str, n: int) -> None:
    rng = np.random.default_rng(n * 31 + len(kind))
    lo, hi = _shape(kind, n, rng) if n > 1 else (np.zeros(0, np.int64),) * 2
    g, csr = _graphs(n, lo, hi)
    _check(g, csr, None)
    deg = nx.degree_centrality(g) if n > 1 else {0: 0.0}
    assert np.array_equal(degree_centrality(csr), [deg[i] for i in range(n)])


@pytest.mark.parametrize("kind", ["sparse", "dense", "tree", "hubs", "star", "path", "pairs"])
@pytest.mark.parametrize("k", [1, 2, 40, 299, 300])
def test_betweenness_sampled_matches_networkx(kind: str, k: int) -> None:
    n = 300
    rng = np.random.default_rng(k * 7 + len(kind))
    g, csr = _graphs(n, *_shape(kind, n, rng))
    _check(g, csr, k)
    _check(g, csr, k, seed=12345)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), edges=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)),
                                            max_size=80),
       k=st.one_of(st.none(), st.integers(1, 40)), seed=st.integers(0, 2**16))
def test_betweenness_random_small_graphs(n: int, edges: list[tuple[int, int]], k: int | None,
                                         seed: int) -> None:
    pairs = np.array([(a % n, b % n) for a, b in edges], dtype=np.int64).reshape(-1, 2)
    g, csr = _graphs(n, pairs[:, 0], pairs[:, 1])
    _check(g, csr, min(k, n) if k else None, seed)


def test_sources_are_the_ones_networkx_samples() -> None:
    nodes = [f"person:{i:04d}" for i in range(1234)]
    want = random.Random(7).sample(nodes, 500)  # what py_random_state(7) then sample do
    assert [nodes[i] for i in sample_sources(len(nodes), 500, 7) or []] == want
    assert sample_sources(10, None, 7) is None
    assert sample_sources(10, 10, 7) is None  # k == n: networkx takes every node


# -- through GraphQueries.analytics on a real store ----------------------------------------

DATES = ["", "", "1999", "2000-01", "2001-06-15", "2002", "2001"]
ENDS = ["", "", "open", "2003", "2001-12", "2000-07-27"]


def records(seed: int, n_per: int, n_org: int, n_rel: int) -> dict[str, Any]:
    """Persons, organisations, posts and incidents with random claims between them:
    parallel claims (same pair, other type or dates), self-loops, isolated and restricted
    nodes, claims dated so that some do not hold on a given day."""
    rng = random.Random(seed)
    nodes: list[tuple[str, dict[str, Any]]] = []
    persons = [f"person:zzyzx-{i:03d}" for i in range(n_per)]
    orgs = [f"org:testland-unit-{i:03d}" for i in range(n_org)]
    posts = [f"position:testland-post-{i}" for i in range(max(1, n_org // 4))]
    incidents = [f"incident:testland-act-{i}" for i in range(max(1, n_org // 4))]

    def restricted() -> str:
        return "true" if rng.random() < 0.08 else "false"

    for i, p in enumerate(persons):
        nodes.append(("Person", {"id": p, "name": f"Zzyzx Ka-Mo {i}", "restricted": restricted()}))
    for i, o in enumerate(orgs):
        nodes.append(("Organization", {"id": o, "name": f"Testland Unit {i}", "kind": "court",
                                       "restricted": restricted(),
                                       "source_ids": "source:synthetic-a"}))
    for i, x in enumerate(posts):
        nodes.append(("Position", {"id": x, "name": f"Testland Post {i}", "is_head": "true"}))
    for i, x in enumerate(incidents):
        nodes.append(("Incident", {"id": x, "name": f"Testland Act {i}", "kind": "torture"}))
    hubs = orgs[: max(1, n_org // 5)]  # organisations with many members: leaves
    kinds = [("MEMBER_OF", persons, hubs), ("MEMBER_OF", persons, orgs),
             ("DETAINED_AT", persons, orgs), ("PART_OF", orgs, orgs),
             ("SAME_AS", persons, persons), ("HOLDS", persons, posts),
             ("POSITION_IN", posts, orgs), ("PERPETRATED_BY", incidents, persons + orgs)]
    rels: list[tuple[str, dict[str, Any]]] = []
    for _ in range(n_rel):
        rtype, a, b = kinds[rng.randrange(len(kinds))]
        row: dict[str, Any] = {"from": rng.choice(a), "to": rng.choice(b),
                               "source_ids": "source:synthetic-a"}
        if rtype == "PART_OF" and rng.random() < 0.15:
            row["to"] = row["from"]  # a self-loop
        if rtype not in ("SAME_AS", "PERPETRATED_BY"):
            row["valid_from"] = rng.choice(DATES)
            row["valid_to"] = rng.choice(ENDS)
        if rtype == "PERPETRATED_BY":
            row["role"] = "direct"
        rels.append((rtype, row))
        if rng.random() < 0.1:  # a parallel claim: the same pair, another type or date
            twin = dict(row, valid_from=rng.choice(DATES[2:])) if "valid_from" in row else row
            rels.append(("DETAINED_AT" if rtype == "MEMBER_OF" else rtype, twin))
    return {"nodes": nodes, "rels": rels}


@pytest.fixture(scope="module")
def store(memory_store: EmbeddedStore) -> EmbeddedStore:
    return memory_store


load = load_graph


def networkx_analytics(o: Oracle, measure: str, kinds: list[str], at: str | None,
                       limit: int) -> tuple[int, int, list[tuple[str, float]]]:
    """What ``GraphQueries.analytics`` computed before issue #7 (networkx on the simple
    graph of the visible claims), on a graph built from the records by the oracle, not
    by the projection, in the order ``Projection.simple_graph`` adds nodes (by id) and
    edges (by ends), on which networkx's sampled sources depend."""
    h = o.analytics_graph(set(kinds), parse_date(at) if at else None)
    g = nx.Graph()
    g.add_nodes_from(sorted(h))
    g.add_edges_from(sorted(tuple(sorted(e)) for e in h.edges))
    if measure == "degree":
        scores = nx.degree_centrality(g) if g.number_of_nodes() > 1 else {n: 0.0 for n in g}
    else:
        k = service.BETWEENNESS_SAMPLE if g.number_of_nodes() > service.BETWEENNESS_SAMPLE \
            else None
        scores = nx.betweenness_centrality(g, k=k, seed=7)
    top = sorted(scores.items(), key=lambda t: (-t[1], t[0]))[:limit]
    return g.number_of_nodes(), g.number_of_edges(), [(n, round(s, 6)) for n, s in top]


def assert_same(q: GraphQueries, o: Oracle, measure: str, kinds: list[str], at: str | None,
                limit: int) -> None:
    ans = q.analytics(measure, kinds=kinds, at=at, limit=limit)
    nodes, edges, top = networkx_analytics(o, measure, kinds, at, limit)
    assert (ans.nodes, ans.edges) == (nodes, edges)
    assert [(s.entity.id, s.score) for s in ans.ranking] == top, (measure, kinds, at)


def both(store: EmbeddedStore, nodes: list[Any], rels: list[Any]
         ) -> Iterator[tuple[GraphQueries, Oracle]]:
    for inc in (True, False):
        yield GraphQueries(store, include_restricted=inc), Oracle(nodes, rels,
                                                                  include_restricted=inc)


AT = [None, "2001", "2001-07", "2002-03-01", "2000"]
KINDS = [["Person", "Organization"], ["Person", "Organization", "Position", "Incident"],
         ["Organization"]]


@pytest.mark.parametrize("seed", range(4))
def test_analytics_matches_networkx(store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch,
                                    seed: int) -> None:
    graph = records(seed, n_per=60 + 20 * seed, n_org=20, n_rel=90 + 10 * seed)
    nodes, rels = load(store, graph)
    proj = projection(store)
    # the drawn data has what the comparison is about
    assert (proj.e_a == proj.e_b).any()  # self-loops
    assert proj.restricted.any()
    pairs = np.minimum(proj.e_a, proj.e_b) * len(proj.ids) + np.maximum(proj.e_a, proj.e_b)
    assert len(np.unique(pairs)) < len(pairs)  # parallel claims
    for sample in (500, 25):  # exact, then sampled (k = 25 of a hundred-odd nodes)
        monkeypatch.setattr(service, "BETWEENNESS_SAMPLE", sample)
        for q, o in both(store, nodes, rels):
            for kinds in KINDS:
                for at in AT:
                    for measure in ("degree", "betweenness"):
                        assert_same(q, o, measure, kinds, at, limit=10_000)
                        assert_same(q, o, measure, kinds, at, limit=5)


def test_analytics_matches_networkx_sampled_500(store: EmbeddedStore) -> None:
    """Above BETWEENNESS_SAMPLE (500) nodes, as at scale: networkx's 500 sources."""
    nodes, rels = load(store, records(99, n_per=700, n_org=60, n_rel=900))
    for q, o in both(store, nodes, rels):
        for at in (None, "2001-07"):
            kinds = ["Person", "Organization"]
            ans = q.analytics("betweenness", kinds=kinds, at=at, limit=10_000)
            assert ans.nodes > service.BETWEENNESS_SAMPLE
            assert_same(q, o, "betweenness", kinds, at, limit=10_000)
            assert_same(q, o, "degree", kinds, at, limit=20)
