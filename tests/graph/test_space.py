"""The free-space preflight: a write transaction on a file system without room is refused
with a clear StoreError before the engine can abort the process, and nothing is written."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from graph.records import NodeRecord
from graph.space import ensure_room, min_free_bytes, room_to_write
from graph.store import StoreError


def _person(i: int) -> NodeRecord:
    return NodeRecord(kind="Person", id=f"person:space-test-{i}",
                      props={"name": f"Testperson Spacecheck {i}"})


def test_refuses_write_below_floor_and_writes_nothing(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        store.write([_person(1)], [])
        before = store.counts()
        # a floor larger than any disk: the preflight must refuse
        monkeypatch.setenv("ACCGRAPH_MIN_FREE_MB", str(1 << 40))
        with pytest.raises(StoreError, match="not enough free space"):
            store.write([_person(2)], [])
        assert store.counts() == before
        monkeypatch.setenv("ACCGRAPH_MIN_FREE_MB", "0")  # 0 disables the check
        store.write([_person(2)], [])
        assert store.get_nodes(["person:space-test-2"])
    finally:
        store.close()


def test_file_size_limit_counts_as_no_room(tmp_path: Path) -> None:
    db = tmp_path / "g.lbdb"
    db.write_bytes(b"\0" * 4096)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    assert room_to_write(db) > 4096
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, hard))
        assert room_to_write(db) == 4096
        with pytest.raises(StoreError, match="0 MiB left"):
            ensure_room(db)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_floor_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCGRAPH_MIN_FREE_MB", "lots")
    with pytest.raises(StoreError, match="whole number"):
        min_free_bytes()
    monkeypatch.setenv("ACCGRAPH_MIN_FREE_MB", "5")
    assert min_free_bytes() == 5 << 20
