"""The Arrow path of the native format (ingest/native_arrow.py) stores exactly what the
record path stores, column for column, and declines (so the record path reports every
problem as before) whenever it cannot take a folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from ingest.formats import ingest_path
from ingest.seed import seed_data_path
from tests.ingest.helpers import FIXTURE, dump

pytest.importorskip("pyarrow")


def both_ways(tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch,
              notes: list[str] | None = None
              ) -> tuple[dict[str, object], dict[str, object], dict[str, float]]:
    """The folder ingested by the Arrow path and by the record path, each into its own
    store: (Arrow dump, record dump, Arrow timings); ``notes`` receives the Arrow report's."""
    timings: dict[str, float] = {}
    fast = EmbeddedStore(tmp_path / "fast.lbdb")
    slow = EmbeddedStore(tmp_path / "slow.lbdb")
    try:
        r1 = ingest_path(fast, "native", folder, timings=timings)
        monkeypatch.setenv("ACCGRAPH_FAST_NATIVE", "0")
        r2 = ingest_path(slow, "native", folder)
        monkeypatch.delenv("ACCGRAPH_FAST_NATIVE")
        assert r1.ok and r2.ok, (r1.rejected[:3], r2.rejected[:3])
        assert r1.records == r2.records
        assert r1.counts == {k: v for k, v in r2.counts.items() if k != "SAME_AS"}
        if notes is not None:
            notes.extend(r1.notes)
        return dump(fast), dump(slow), timings
    finally:
        fast.close()
        slow.close()


@pytest.mark.parametrize("which", ["fixture", "seed", "synthetic", "split"])
def test_arrow_path_stores_what_the_record_path_stores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: str) -> None:
    """``split``: every node file converted in parts by two worker processes."""
    if which == "split":
        monkeypatch.setenv("ACCGRAPH_INGEST_WORKERS", "2")
        monkeypatch.setenv("ACCGRAPH_INGEST_SPLIT_BYTES", "0")
    if which in ("fixture", "split"):
        folder = FIXTURE
    elif which == "seed":
        folder = seed_data_path()
    else:
        from bench.generate import generate

        folder = tmp_path / "synthetic"
        generate(0.002, 3, folder)
    monkeypatch.setenv("ACCGRAPH_MATCH", "0")
    fast, slow, timings = both_ways(tmp_path, folder, monkeypatch)
    assert "write_commit_s" in timings, "the Arrow path was not taken"
    assert fast == slow


def test_padded_protected_and_derived_cells(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Cells the vectorised code must hand to Python: padding (incl. non-ASCII spaces),
    spreadsheet-protected cells, blank list items, missing claim ids, mixed-case enums."""
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "Source.csv").write_text(
        "id,title,date\nsource:a, A title\u00a0,2001-02\n source:b ,'=B,\n", encoding="utf-8")
    (folder / "Person.csv").write_text(
        "\ufeffid,name,aliases,source_ids,confidence,restricted,birth_date,gender\n"
        "person:x,\u2003Ali  Rez\u00e1 ,اژه\u200cای; ;Eje'i,source:a;;source:b, HIGH ,Yes,1961,"
        "Male\n"
        "person:y,'-Bob,,,,,,\n", encoding="utf-8")
    (folder / "Organization.csv").write_text(
        'id,name,kind\norg:c,"Court, ""One""",Court\n', encoding="utf-8")
    (folder / "MEMBER_OF.csv").write_text(
        "from,to,valid_from,valid_to,confidence,source_ids,role\n"
        "person:x,org:c,1990,open,,source:a, judge \n"
        " person:y ,org:c,,,Low,,\n", encoding="utf-8")
    monkeypatch.setenv("ACCGRAPH_MATCH", "0")
    fast, slow, timings = both_ways(tmp_path, folder, monkeypatch)
    assert "write_commit_s" in timings
    assert fast == slow


def test_problems_are_reported_by_the_record_path(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(FIXTURE, folder)
    person = folder / "Person.csv"
    person.write_text(person.read_text(encoding="utf-8").replace(
        "person:", "persn:", 1), encoding="utf-8")
    store = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        timings: dict[str, float] = {}
        report = ingest_path(store, "native", folder, timings=timings)
        assert not report.ok and not report.written
        assert "write_commit_s" not in timings
        assert any(p.file == "Person.csv" and p.field == "id" for p in report.rejected)
        assert store.counts()["Person"] == 0
    finally:
        store.close()


def test_reingest_goes_through_the_diff(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCGRAPH_MATCH", "0")
    store = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        t1: dict[str, float] = {}
        first = ingest_path(store, "native", FIXTURE, timings=t1)
        assert first.written and "write_commit_s" in t1
        before = dump(store)
        second = ingest_path(store, "native", FIXTURE)
        assert second.ok and not second.written
        assert second.total("added") == 0 and second.total("unchanged") == first.total("added")
        assert dump(store) == before
    finally:
        store.close()
