"""The COPY-based bulk path (graph/bulk.py): it stores exactly what the ordinary write path
stores, and it is atomic: a failing COPY leaves the database as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.bulk import bulk_write, is_empty, write_mixed
from graph.embedded import EmbeddedStore
from graph.records import NodeRecord, RelRecord
from graph.schema import node_columns, rel_columns
from graph.store import StoreError
from ingest.bundle import Bundle, comparable
from ingest.native import read_native
from tests.conftest import FIXTURES

pytest.importorskip("pyarrow")


def _bundle(folder: Path, store: EmbeddedStore) -> Bundle:
    b = read_native(folder)
    assert not b.problems, b.problems[:3]
    b.apply_extra_names(b.check_references(store))
    return b


def _same(a: EmbeddedStore, b: EmbeddedStore, bundle: Bundle) -> None:
    ids = list(bundle.nodes)
    na, nb = a.get_nodes(ids), b.get_nodes(ids)
    assert set(na) == set(nb) == set(ids)
    for i in ids:
        cols = node_columns(na[i].kind)
        assert comparable(na[i].props, cols) == comparable(nb[i].props, cols), i
    rels = list(bundle.rels.values())
    ra, rb = a.get_rels(rels), b.get_rels(rels)
    assert set(ra) == set(rb) == {r.id for r in rels}
    for r in rels:
        cols = rel_columns(r.type)
        assert comparable(ra[r.id].props, cols) == comparable(rb[r.id].props, cols), r.id


@pytest.mark.parametrize("folder", [FIXTURES / "native_valid", "synthetic"])
def test_bulk_stores_what_write_stores(tmp_path: Path, folder: Path | str,
                                       small_graph: tuple[Path, dict[str, object]]) -> None:
    src = small_graph[0] if folder == "synthetic" else Path(folder)
    a, b = EmbeddedStore(tmp_path / "a.lbdb"), EmbeddedStore(tmp_path / "b.lbdb")
    try:
        bundle = _bundle(src, a)
        assert is_empty(a)
        stats = bulk_write(a, list(bundle.nodes.values()), list(bundle.rels.values()))
        assert stats.total == len(bundle.nodes) + len(bundle.rels)
        assert not is_empty(a)
        b.write(list(bundle.nodes.values()), list(bundle.rels.values()))
        _same(a, b, bundle)
        assert a.counts() == b.counts()
        assert a.generation == 1
    finally:
        a.close()
        b.close()


def test_duplicate_id_undoes_the_whole_load(tmp_path: Path) -> None:
    s = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        bundle = _bundle(FIXTURES / "native_valid", s)
        nodes, rels = list(bundle.nodes.values()), list(bundle.rels.values())
        bulk_write(s, nodes[:3], [])
        before = s.counts()
        with pytest.raises(StoreError):
            bulk_write(s, nodes, rels)  # nodes[:3] exist already: the engine refuses
        assert s.counts() == before
        bulk_write(s, nodes[3:], rels)  # the store still works, and takes the rest
        assert s.counts()["unsourced_claims"] >= 0
        assert sum(s.counts()[k] for k in {n.kind for n in nodes}) >= len(nodes)
    finally:
        s.close()


def test_dangling_end_undoes_earlier_copies(tmp_path: Path) -> None:
    s = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        node = NodeRecord("Person", "person:zzyzx-bulk", {"name": "Zzyzx Bulk", "aliases": [],
                                                          "restricted": False})
        src = NodeRecord("Source", "source:zzyzx-bulk", {"name": "x", "title": "x"})
        bad = RelRecord("HOLDS", "holds:zzyzx", "person:zzyzx-bulk", "position:nowhere",
                        "Person", "Position", {"source_ids": ["source:zzyzx-bulk"]})
        before = s.counts()
        with pytest.raises(StoreError):
            bulk_write(s, [node, src], [bad])
        assert s.counts() == before  # the node COPY of the same call was undone too
    finally:
        s.close()


def test_duplicates_in_the_input_are_refused_before_copy(tmp_path: Path) -> None:
    s = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        n = NodeRecord("Person", "person:zzyzx-twice", {"name": "Zzyzx Twice"})
        with pytest.raises(StoreError, match="twice"):
            bulk_write(s, [n, n], [])
        assert is_empty(s)
    finally:
        s.close()


def test_write_mixed_new_and_changed_in_one_transaction(tmp_path: Path) -> None:
    s = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        bundle = _bundle(FIXTURES / "native_valid", s)
        nodes = list(bundle.nodes.values())
        rels = list(bundle.rels.values())
        s.write(nodes[:2], [])
        changed = [NodeRecord(n.kind, n.id, {**n.props, "notes": "changed"}) for n in nodes[:2]]
        write_mixed(s, nodes[2:], changed, rels, [])
        got = s.get_nodes([n.id for n in nodes])
        assert len(got) == len(nodes)
        assert all(got[n.id].props["notes"] == "changed" for n in nodes[:2])
        assert sum(v for k, v in s.counts().items() if k in {r.type for r in rels}) == len(rels)
    finally:
        s.close()


def test_arrow_path_failure_mid_copy_leaves_nothing(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The native Arrow path (ingest/native_arrow.py) copies file after file in one
    transaction: a failure at a later COPY undoes the earlier ones, and the record path
    then loads the folder from scratch (so the result is exactly the record path's: no
    leftover of the failed attempt, no duplicate)."""
    from ingest.formats import ingest_path
    from tests.ingest.helpers import dump

    monkeypatch.setenv("ACCGRAPH_MATCH", "0")
    monkeypatch.setenv("ACCGRAPH_INGEST_WORKERS", "1")
    s = EmbeddedStore(tmp_path / "g.lbdb")
    ref = EmbeddedStore(tmp_path / "ref.lbdb")
    try:
        real = s.execute
        copies: list[str] = []

        def failing(cypher: str, params: object = None) -> list[dict[str, object]]:
            if cypher.startswith("COPY"):
                copies.append(cypher)
                if len(copies) == 6:
                    raise StoreError("injected failure")
            return real(cypher, params)  # type: ignore[arg-type]

        monkeypatch.setattr(s, "execute", failing)
        timings: dict[str, float] = {}
        report = ingest_path(s, "native", FIXTURES / "native_valid", timings=timings)
        assert len(copies) == 6 and "commit_s" not in timings
        assert report.ok and report.written
        monkeypatch.setenv("ACCGRAPH_FAST_NATIVE", "0")
        assert ingest_path(ref, "native", FIXTURES / "native_valid").ok
        assert dump(s) == dump(ref)
    finally:
        s.close()
        ref.close()


def test_arrow_path_appends_to_a_graph_holding_other_records(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        small_graph: tuple[Path, dict[str, object]]) -> None:
    """New records into a graph that already holds others (relations may point at stored
    nodes): the Arrow path takes them and stores what the record path stores."""
    from ingest.formats import ingest_path
    from tests.ingest.helpers import dump

    monkeypatch.setenv("ACCGRAPH_MATCH", "0")
    folder = tmp_path / "extra"
    folder.mkdir()
    (folder / "Person.csv").write_text(
        "id,name,source_ids\nperson:zz-new-one,Zz New One,source:s000001\n", encoding="utf-8")
    (folder / "MEMBER_OF.csv").write_text(
        "from,to,role\nperson:zz-new-one,org:o000001,member\n", encoding="utf-8")
    dumps = []
    for fast in ("1", "0"):
        monkeypatch.setenv("ACCGRAPH_FAST_NATIVE", fast)
        s = EmbeddedStore(tmp_path / f"g{fast}.lbdb")
        try:
            assert ingest_path(s, "native", small_graph[0]).ok
            timings: dict[str, float] = {}
            report = ingest_path(s, "native", folder, timings=timings)
            assert report.ok and report.written, report.rejected[:3]
            assert ("write_commit_s" in timings) == (fast == "1")
            dumps.append(dump(s))
        finally:
            s.close()
    assert dumps[0] == dumps[1]
