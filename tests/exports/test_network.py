"""GraphML and GEXF exports read back with networkx: same nodes, edges and attributes."""

from __future__ import annotations

import shutil
from pathlib import Path

import networkx as nx
import pytest

from exports.network import export_network, to_networkx
from exports.snapshot import take_snapshot
from graph.embedded import EmbeddedStore

from .conftest import FIXTURE, RESTRICTED_PERSON, RESTRICTED_SOURCE, load


def _read(path: Path, fmt: str) -> nx.MultiDiGraph:
    if fmt == "graphml":
        return nx.read_graphml(path, force_multigraph=True)
    return nx.MultiDiGraph(nx.read_gexf(path))


def _edges_by_id(g: nx.MultiDiGraph) -> dict[str, tuple[str, str, dict]]:
    return {d["id"]: (u, v, d) for u, v, d in g.edges(data=True)}


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_read_back_same_graph_and_attributes(fixture_store: EmbeddedStore, tmp_path: Path,
                                             fmt: str) -> None:
    out = tmp_path / f"graph.{fmt}"
    report = export_network(fixture_store, out, fmt)
    expected = to_networkx(take_snapshot(fixture_store))
    got = _read(out, fmt)
    assert got.number_of_nodes() == expected.number_of_nodes() == report["nodes"] == 12
    assert got.number_of_edges() == expected.number_of_edges() == report["edges"] == 12
    for node, attrs in expected.nodes(data=True):
        assert got.nodes[node] == attrs, node
    exp_edges, got_edges = _edges_by_id(expected), _edges_by_id(got)
    assert set(got_edges) == set(exp_edges)
    for claim_id, (u, v, attrs) in exp_edges.items():
        gu, gv, gattrs = got_edges[claim_id]
        assert (gu, gv) == (u, v)
        gattrs = {k: val for k, val in gattrs.items() if k not in ("key", "networkx_key")}
        assert gattrs == attrs, claim_id
    judge = got.nodes["person:zzyzx-judge-alpha"]
    assert judge["label"] == "Zzyzx Judge-Alpha" and judge["kind"] == "Person"
    assert judge["birth_date"] == "1950" and judge["birth_date_lo"] == 19500101
    holds = got_edges["holds:alpha-judge"][2]
    assert holds["relation"] == "HOLDS" and holds["valid_from"] == "2015"
    assert holds["valid_to"] == "2021" and holds["confidence"] == "high"
    assert holds["source_ids"] == "source:synthetic-report-1" and holds["unsourced"] is False
    court = got.nodes["org:testland-court-one"]
    assert court["subtype"] == "court"


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_parallel_claims_stay_separate_edges(tmp_path: Path, fmt: str) -> None:
    folder = tmp_path / "parallel"
    shutil.copytree(FIXTURE, folder)
    with (folder / "HOLDS.csv").open("a", encoding="utf-8") as fh:
        fh.write("holds:alpha-judge-again,person:zzyzx-judge-alpha,"
                 "position:judge-testland-court-one,2023,,medium,source:synthetic-report-1,\n")
    store = EmbeddedStore(tmp_path / "db" / "graph.lbdb")
    try:
        load(store, folder)
        export_network(store, tmp_path / f"g.{fmt}", fmt)
    finally:
        store.close()
    got = _read(tmp_path / f"g.{fmt}", fmt)
    between = got.get_edge_data("person:zzyzx-judge-alpha", "position:judge-testland-court-one")
    assert sorted(d["id"] for d in between.values()) == ["holds:alpha-judge",
                                                         "holds:alpha-judge-again"]


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_public_network_has_no_restricted_record(restricted_store: EmbeddedStore,
                                                 tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"public.{fmt}"
    export_network(restricted_store, out, fmt, include_restricted=False)
    text = out.read_text(encoding="utf-8")
    for secret in (RESTRICTED_PERSON, RESTRICTED_SOURCE, "Witness-Delta", "Testimony Delta"):
        assert secret not in text
    got = _read(out, fmt)
    assert got.number_of_nodes() == 12
    full = tmp_path / f"full.{fmt}"
    export_network(restricted_store, full, fmt, include_restricted=True)
    assert RESTRICTED_PERSON in _read(full, fmt)
