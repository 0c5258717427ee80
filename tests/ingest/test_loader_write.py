"""The loader's write of new records through the embedded store's COPY (graph.bulk, whose
Arrow tables are built by one conversion of the records' dicts) must leave the graph exactly
as the plain upsert path does, in one transaction, for loads of new records alone or mixed
with changed ones; a failing load must leave nothing behind. And the garbage-collector
pause around ingest steps must give the collector back as it found it. Records come from
the synthetic OFAC set of test_ofac.py (artificial names)."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

from graph import bulk
from graph.embedded import EmbeddedStore
from graph.records import NodeRecord
from graph.store import StoreError
from ingest.loader import LoadReport, gc_paused, load_bundle
from ingest.ofac import read_ofac
from tests.ingest.helpers import dump
from tests.ingest.test_ofac import SDN, write_ofac_set


def _load(store: EmbeddedStore, folder: Path) -> LoadReport:
    bundle = read_ofac(folder)
    report = LoadReport(str(folder), "ofac-csv")
    bundle.problems = []
    return load_bundle(store, bundle, report)


@pytest.fixture
def bulk_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """COPY even for the few records of the synthetic set."""
    monkeypatch.setattr("graph.embedded._BULK_THRESHOLD", 0)


def _both(monkeypatch: pytest.MonkeyPatch, fast: EmbeddedStore, plain: EmbeddedStore,
          fn: Any) -> tuple[Any, Any]:
    """``fn(store)`` on ``fast`` with the bulk tables built by one conversion of the dicts,
    then on ``plain`` with them built column by column (the reference)."""
    a = fn(fast)
    with monkeypatch.context() as m:
        m.setattr(bulk, "_prop_arrays", bulk._column_arrays)
        b = fn(plain)
    return a, b


def test_fast_tables_write_what_the_store_writes(tmp_path: Path, bulk_always: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_ofac_set(tmp_path / "set_2020-01-31")
    fast = EmbeddedStore(tmp_path / "fast.lbdb")
    plain = EmbeddedStore(tmp_path / "plain.lbdb")
    try:
        calls: list[int] = []
        real = bulk._column_arrays

        def counted(*args: Any) -> Any:
            calls.append(1)
            return real(*args)

        monkeypatch.setattr(bulk, "_column_arrays", counted)
        a = _load(fast, folder)
        assert not calls  # one conversion of the dicts served every table: no fallback
        monkeypatch.setattr(bulk, "_column_arrays", real)
        with monkeypatch.context() as m:
            m.setattr(bulk, "_prop_arrays", bulk._column_arrays)
            b = _load(plain, folder)
        assert a.counts == b.counts and a.written and b.written
        assert dump(fast) == dump(plain)
        # a second load that changes one entry and adds one: changed and new in one write
        (folder / "sdn.csv").write_bytes(
            SDN.replace(b"Head of the Testland Court One;", b"Deputy of the Testland Court;")
            .replace(b"\x1a", b'90009,"ZZYZX NEW ORG",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,'
                              b'-0- ,-0- ,-0- \r\n\x1a'))
        a, b = _both(monkeypatch, fast, plain, lambda s: _load(s, folder))
        assert a.counts == b.counts
        assert a.total("added") and a.total("updated")
        assert dump(fast) == dump(plain)
        # and the same files again write nothing
        a = _load(fast, folder)
        assert not a.written and a.total("added") == a.total("updated") == 0
    finally:
        fast.close()
        plain.close()


def test_a_failing_copy_leaves_the_graph_as_it_was(tmp_path: Path, store: EmbeddedStore,
                                                    bulk_always: None) -> None:
    folder = write_ofac_set(tmp_path / "set")
    _load(store, folder)
    before = dump(store)
    bundle = read_ofac(folder)
    nodes = list(bundle.nodes.values())
    fresh = NodeRecord("Organization", "org:ofac-99990",
                       {**bundle.nodes["org:ofac-90002"].props, "name": "ZZ FRESH"})
    # an id already stored among the "new" records: the engine refuses the whole COPY
    with pytest.raises(StoreError):
        store.write_changes([fresh, *nodes], [], list(bundle.rels.values()), [])
    assert dump(store) == before


def test_odd_values_end_as_the_store_would_write_or_refuse_them(
        tmp_path: Path, bulk_always: None, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = read_ofac(write_ofac_set(tmp_path / "set"))
    nodes = list(bundle.nodes.values())
    org = bundle.nodes["org:ofac-90002"].props
    odd = NodeRecord("Organization", "org:ofac-99991", {**org, "aliases": "ZZ"})
    bad = NodeRecord("Organization", "org:ofac-99992", {**org, "kind": 5})
    fast = EmbeddedStore(tmp_path / "fast.lbdb")
    plain = EmbeddedStore(tmp_path / "plain.lbdb")
    try:
        # a string where a list goes: taken as its letters by both
        _both(monkeypatch, fast, plain, lambda s: s.write_changes([*nodes, odd], [], [], []))
        assert dump(fast) == dump(plain)
        errors = []

        def refused(s: EmbeddedStore) -> None:  # a number where text goes: refused by both
            with pytest.raises(Exception) as got:
                s.write_changes([bad], [], [], [])
            errors.append(type(got.value))

        _both(monkeypatch, fast, plain, refused)
        assert errors[0] is errors[1]
        assert dump(fast) == dump(plain)
        assert "org:ofac-99992" not in fast.get_nodes(["org:ofac-99992"])
    finally:
        fast.close()
        plain.close()


def test_gc_paused_gives_the_collector_back() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # nested: only the outer pause resumes
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("an ingest step failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a program that turned it off keeps it off
    finally:
        gc.enable()
