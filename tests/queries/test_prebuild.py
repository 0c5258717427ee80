"""``queries.prebuild``: the caches serving workers share are built by a process of its own
before they start, and the workers then map them instead of building."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph.embedded import EmbeddedStore
from queries import chunked as C
from queries import structure as ST
from queries.prebuild import build_shared, prebuild
from queries.service import GraphQueries
from tests.queries.gaps_helpers import forbid_gaps_build, gaps_views_on_disk

CACHES = ["names", "projection", "structure"]


def _files(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")
            if p.is_file()}


def test_build_shared_builds_every_cache_once(seed_store: EmbeddedStore, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(C, "SHARED_MIN", 0)
    monkeypatch.setenv(C.SHARED_ENV, str(tmp_path / "shared"))
    folder = C.shared_dir(seed_store)
    assert folder is not None
    assert sorted(build_shared(seed_store)) == CACHES
    assert sorted(p.name for p in folder.iterdir()) == CACHES
    before = _files(folder)
    build_shared(seed_store)  # found on disk: nothing is written again
    assert _files(folder) == before


def test_nothing_is_built_where_caches_are_not_shared(seed_store: EmbeddedStore,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(C.SHARED_ENV, "0")
    assert build_shared(seed_store) == {}


def test_prebuild_in_a_child_process_then_mapped_here(
        seed_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    monkeypatch.setenv(C.SHARED_ENV, str(shared))
    monkeypatch.setenv("ACCGRAPH_SHARED_MIN_BYTES", "1")  # the child shares this small db
    monkeypatch.setattr(C, "SHARED_MIN", 1)
    result = prebuild(str(seed_db))
    assert "error" not in result, result
    assert sorted(result["built"]) == CACHES
    store = EmbeddedStore(seed_db, read_only=True)
    try:
        folder = C.shared_dir(store)
        assert folder is not None and sorted(p.name for p in folder.iterdir()) == CACHES
        before = _files(folder)

        def no_build(*_a: Any, **_k: Any) -> Any:
            raise AssertionError("built again instead of mapped")

        monkeypatch.setattr(ST, "_read", no_build)
        ST.STRUCTURES.pop(store, None)
        q = GraphQueries(store, include_restricted=True)
        assert q.chain("org:tehran-revolutionary-court", "2025-07-01").model_dump()
        assert not ST.structure(store).c_a.flags.writeable  # mapped from the child's files
        assert _files(folder) == before
    finally:
        store.close()


def test_prebuild_failure_is_reported_not_raised(tmp_path: Path) -> None:
    result = prebuild(str(tmp_path / "missing" / "no.lbdb"))
    assert result.get("error")


def test_prebuild_with_gaps_leaves_the_scans_to_map(
        seed_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``accgraph serve --workers N --prebuild-gaps``: the sanctions-gap scans of both views
    are built by the child too, and a worker answers gaps from their files, building none."""
    from queries import gaps as G

    monkeypatch.setenv(C.SHARED_ENV, str(tmp_path / "shared"))
    monkeypatch.setenv("ACCGRAPH_SHARED_MIN_BYTES", "1")
    monkeypatch.setattr(C, "SHARED_MIN", 1)
    result = prebuild(str(seed_db), gaps=True)
    assert "error" not in result, result
    assert sorted(result["built"]) == sorted(CACHES + ["gaps-all", "gaps-public"])
    store = EmbeddedStore(seed_db, read_only=True)
    try:
        folder = C.shared_dir(store)
        assert folder is not None
        assert gaps_views_on_disk(folder) == ["gaps-all", "gaps-public"]
        forbid_gaps_build(monkeypatch)
        G._CACHE.pop(store, None)
        for inc in (True, False):
            q = GraphQueries(store, include_restricted=inc)
            assert q.gaps("EU").gaps and q.gaps_scan_ready()
    finally:
        G._CACHE.pop(store, None)
        store.close()
