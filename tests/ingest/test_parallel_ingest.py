"""The OFAC ingest's parallel paths give exactly what the serial ones give: the name-keys
helper process of the reader, the matcher scoring while the store writes
(``load_and_link``), and the bulk write building each Arrow table while the engine copies
the one before. Real engine, real files (the synthetic OFAC set of test_ofac.py, and the
real 2021-07 set from ../shared/data where present)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from graph.bulk import bulk_write
from graph.embedded import EmbeddedStore
from graph.records import NodeRecord, RelRecord
from graph.store import StoreError
from ingest.bundle import Bundle
from ingest.formats import ingest_path
from ingest.loader import LoadReport, load_bundle
from ingest.matching import link_after_load, load_and_link
from ingest.name_keys_helper import HELPER_ENV, NameKeysHelper
from ingest.ofac import read_ofac
from ingest.review import queue_path_for
from ingest.sanctions_common import fast_name_keys
from tests.ingest.helpers import dump
from tests.ingest.test_ofac import write_ofac_set


def _bundle_state(bundle: Bundle) -> tuple[Any, ...]:
    return ([(n.kind, n.id, n.props, str(bundle.where[n.id])) for n in bundle.nodes.values()],
            [(r.type, r.id, r.from_id, r.to_id, r.props, str(bundle.where[r.id]))
             for r in bundle.rels.values()],
            [str(p) for p in bundle.problems], bundle.notes)


def _read(folder: Path, helper: bool, monkeypatch: pytest.MonkeyPatch,
          min_bytes: int | None = None) -> Bundle:
    with monkeypatch.context() as m:
        m.setenv(HELPER_ENV, "1" if helper else "0")
        if min_bytes is not None:
            m.setattr("ingest.ofac.HELPER_MIN_BYTES", min_bytes)
        return read_ofac(folder)


def test_helper_read_equals_serial_read_with_bad_rows(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The synthetic set (bad rows included) read with the helper forced on, and without."""
    folder = write_ofac_set(tmp_path / "ofac_set_2020-01-31")
    serial = _read(folder, False, monkeypatch)
    parallel = _read(folder, True, monkeypatch, min_bytes=0)
    assert serial.problems  # the bad rows are rejected the same way, in the same order
    assert _bundle_state(parallel) == _bundle_state(serial)


@pytest.mark.shared_data
def test_helper_read_equals_serial_read_on_the_real_set(shared_data: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = shared_data / "ofac_legacy_set_2021-07"
    assert _bundle_state(_read(folder, True, monkeypatch)) == _bundle_state(
        _read(folder, False, monkeypatch))


def test_a_helper_that_dies_changes_nothing() -> None:
    """Killed before it answers: every list's keys are computed by the reader instead."""
    names = [["TESTPERSON-ALPHA, Zzyzx Qolam-Judge", "ZZ ALPHA"], ["ZZYZX CAF\u00c9 VESSEL"],
             ["\u0645\u062d\u0633\u0646\u06cc \u0627\u0698\u0647\u200c\u0627\u06cc"]] * 300
    helper = NameKeysHelper.start() if (os.cpu_count() or 1) > 1 else None
    if helper is None:
        pytest.skip("one core: the helper is never started")
    helper._proc.kill()
    helper.submit(names)
    assert helper.keys() == [fast_name_keys(n) for n in names]


def test_a_live_helper_gives_the_same_keys() -> None:
    names = [[f"TESTNAME{i} ZZYZX-QOLAM {i % 7}", "Gholam Hossein Zzyzx"] for i in range(900)]
    helper = NameKeysHelper.start() if (os.cpu_count() or 1) > 1 else None
    if helper is None:
        pytest.skip("one core: the helper is never started")
    helper.submit(names[:500])
    helper.submit(names[500:])
    assert helper.keys() == [fast_name_keys(n) for n in names]



def test_a_helper_not_yet_read_from_keeps_computing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader takes the helper's answers only at ``keys()``, after the whole read; the
    helper must not stop when its output pipe is full (64 KiB, about two frames), or the
    reader computes most keys itself. Given time, the helper does (nearly) all of them."""
    import time

    import ingest.name_keys_helper as H

    names = [[f"TESTNAME{i} ZZYZX-QOLAM {i % 7}", "Gholam Hossein Zzyzx"] for i in range(6000)]
    expected = [fast_name_keys(n) for n in names]
    helper = NameKeysHelper.start() if (os.cpu_count() or 1) > 1 else None
    if helper is None:
        pytest.skip("one core: the helper is never started")
    helper.submit(names)
    time.sleep(8)  # the helper needs about 1 s for these; the pipe fills after 512 lists
    local: list[int] = []

    def counted(n: list[str]) -> list[str]:
        local.append(1)
        return fast_name_keys(n)

    monkeypatch.setattr(H, "fast_name_keys", counted)
    assert helper.keys() == expected
    assert len(local) < len(names) // 10, f"the reader computed {len(local)} of {len(names)}"

def _queue_rows(store: EmbeddedStore) -> list[tuple[Any, ...]]:
    with sqlite3.connect(str(queue_path_for(store))) as db:
        return sorted(db.execute("SELECT a, b, kind, score, method, details, status "
                                 "FROM pairs").fetchall())


def _load_serial(store: EmbeddedStore, folder: Path) -> LoadReport:
    bundle = read_ofac(folder)
    report = LoadReport(str(folder), "ofac-csv")
    bundle.problems = []
    load_bundle(store, bundle, report)
    link_after_load(store, list(bundle.nodes.values()), report)
    return report


def _load_overlapped(store: EmbeddedStore, folder: Path) -> LoadReport:
    bundle = read_ofac(folder)
    report = LoadReport(str(folder), "ofac-csv")
    bundle.problems = []
    load_and_link(store, bundle, report)
    return report


def _comparable(report: LoadReport) -> dict[str, Any]:
    return {k: v for k, v in report.to_json().items()
            if k not in ("seconds", "records_per_second")}


@pytest.mark.shared_data
def test_load_and_link_equals_load_then_link(shared_data: Path, tmp_path: Path) -> None:
    """The real set after the seed graph (the benchmark's case: bulk write, SAME_AS links
    and review pairs): the same graph, report and review queue either way, and a
    re-ingest that writes nothing."""
    from ingest.seed import seed_data_path

    folder = shared_data / "ofac_legacy_set_2021-07"
    results = []
    for name, load in (("serial", _load_serial), ("overlapped", _load_overlapped)):
        with EmbeddedStore(tmp_path / name / "g.lbdb") as store:
            ingest_path(store, "native", seed_data_path())
            report = load(store, folder)
            assert report.written and report.counts["SAME_AS"]["added"] >= 2
            results.append((dump(store), _comparable(report), _queue_rows(store)))
            again = ingest_path(store, "ofac-csv", folder)
            assert not again.written and again.total("added") == again.total("updated") == 0
    assert results[0] == results[1]


def test_load_and_link_on_a_small_set_and_on_refusal(tmp_path: Path) -> None:
    """Below the bulk threshold (plain write) the same; and a load refused whole runs no
    matching."""
    folder = write_ofac_set(tmp_path / "ofac_set_2020-01-31")
    results = []
    for name, load in (("serial", _load_serial), ("overlapped", _load_overlapped)):
        with EmbeddedStore(tmp_path / name / "g.lbdb") as store:
            report = load(store, folder)
            results.append((dump(store), _comparable(report)))
    assert results[0] == results[1]
    with EmbeddedStore(tmp_path / "refused" / "g.lbdb") as store:
        bundle = Bundle()  # atomic: one dangling reference refuses it all
        bundle.nodes["person:zz-a"] = NodeRecord("Person", "person:zz-a", {
            "name": "ZZ A", "source_ids": ["source:nowhere"]})
        from ingest.build import Where

        bundle.where["person:zz-a"] = Where("x.csv", 2)
        report = LoadReport("x", "native")
        assert load_and_link(store, bundle, report) is None
        assert report.rejected and not report.written


def _people(n: int, prefix: str) -> list[NodeRecord]:
    return [NodeRecord("Person", f"person:{prefix}-{i}", {"name": f"ZZ {prefix} {i}"})
            for i in range(n)]


def test_pipelined_copies_store_every_table(tmp_path: Path) -> None:
    """Several node kinds and relation shapes in one bulk write (each table built while
    the one before is copied): all stored, as by the plain write."""
    src = NodeRecord("Source", "source:zz-list", {"title": "ZZ list", "kind": "other"})
    people = _people(300, "p")
    orgs = [NodeRecord("Organization", f"org:zz-{i}", {"name": f"ZZ ORG {i}", "kind": "other"})
            for i in range(200)]
    sanctions = [NodeRecord("Sanction", f"sanction:zz-{i}", {"authority": "OFAC"})
                 for i in range(500)]
    rels = [RelRecord("TARGETS", f"targets:zz-{i}", s.id, t.id, "Sanction", t.kind,
                      {"source_ids": [src.id]})
            for i, (s, t) in enumerate(zip(sanctions, people + orgs, strict=True))]
    nodes = [src, *people, *orgs, *sanctions]
    with EmbeddedStore(tmp_path / "bulk" / "g.lbdb") as bulk, \
            EmbeddedStore(tmp_path / "plain" / "g.lbdb") as plain:
        stats = bulk_write(bulk, nodes, rels)
        assert stats.nodes == {"Source": 1, "Person": 300, "Organization": 200,
                               "Sanction": 500}
        assert stats.rels == {"TARGETS(Sanction->Person)": 300,
                              "TARGETS(Sanction->Organization)": 200}
        plain.write(nodes, rels)
        assert dump(bulk) == dump(plain)


def test_a_failing_copy_mid_pipeline_leaves_nothing(store: EmbeddedStore) -> None:
    """A duplicate id in the third table: the two copied before are undone too. (The
    stored one is itself copied: after a COPY refused for a duplicate of a node written
    by MERGE, LadybugDB 0.22 crashed on close, with or without this pipeline.)"""
    bulk_write(store, _people(1, "p"), [])
    before = dump(store)
    src = NodeRecord("Source", "source:zz-list", {"title": "ZZ list", "kind": "other"})
    orgs = [NodeRecord("Organization", f"org:zz-{i}", {"name": f"ZZ ORG {i}", "kind": "other"})
            for i in range(50)]
    with pytest.raises(StoreError):
        bulk_write(store, [src, *orgs, *_people(50, "p")], [])  # person:p-0 is stored
    assert dump(store) == before
