"""A record list (sanctions lists, the memorial archive, FtM) loads its good records and
lists its bad ones: a record whose references fail (a claim pointing at a node that exists
nowhere, a node citing a missing source) is rejected alone, by the loader, for every
record-list reader; an atomic bundle (the native format) is still refused whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from graph.embedded import EmbeddedStore
from graph.records import NodeRecord, RelRecord
from ingest import formats
from ingest.build import Where, build_node, build_rel
from ingest.bundle import Bundle
from ingest.loader import LoadReport, load_bundle
from ingest.progress import Progress

SRC = "source:zzyzx-list-1"


def _node(kind: str, values: dict[str, Any]) -> NodeRecord:
    node, problems = build_node(kind, values, Where("list.csv", 1))
    assert node is not None, problems
    return node


def _rel(rel_type: str, values: dict[str, Any]) -> RelRecord:
    rel, problems = build_rel(rel_type, values, Where("list.csv", 1))
    assert rel is not None, problems
    return rel


def _bundle(record_list: bool) -> Bundle:
    b = Bundle(record_list=record_list)
    b.add_node(_node("Source", {"id": SRC, "title": "Zzyzx list (test fixture)"}),
               Where("list.csv", 0))
    for line, (pid, sources) in enumerate((("person:zzyzx-good", SRC),
                                           ("person:zzyzx-unsourced", "source:zzyzx-none")), 2):
        b.add_node(_node("Person", {"id": pid, "name": pid.split(":")[1].title(),
                                    "source_ids": sources}), Where("list.csv", line))
    for line, (sid, target) in enumerate((("sanction:zzyzx-1", "person:zzyzx-good"),
                                          ("sanction:zzyzx-2", "person:zzyzx-nowhere"),
                                          ("sanction:zzyzx-3", "person:zzyzx-unsourced")), 4):
        where = Where("list.csv", line)
        b.add_node(_node("Sanction", {"id": sid, "name": sid, "authority": "ZZ",
                                      "source_ids": SRC}), where)
        b.add_rel(_rel("TARGETS", {"from": sid, "to": target, "source_ids": SRC}), where)
    return b


@dataclass
class _ListReader:
    name: str = "zzyzx-list"
    atomic: bool = False

    def read(self, path: Path, progress: Progress) -> Bundle:
        return _bundle(record_list=True)


def test_record_list_rejects_only_the_records_whose_references_fail(
        store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(formats.FORMATS, "zzyzx-list",
                        "tests.ingest.test_record_list_references:_ListReader")
    report = formats.ingest_path(store, "zzyzx-list", Path("list.csv"))
    problems = sorted(str(p) for p in report.rejected)
    assert len(problems) == 2, problems
    assert "list.csv:5: to: 'person:zzyzx-nowhere' does not exist" in problems[1]
    assert "list.csv:3: source_ids: source 'source:zzyzx-none' does not exist" in problems[0]
    assert report.written
    got = store.get_nodes(["person:zzyzx-good", "person:zzyzx-unsourced", "sanction:zzyzx-1",
                           "sanction:zzyzx-2", "sanction:zzyzx-3"])
    assert sorted(got) == ["person:zzyzx-good", "sanction:zzyzx-1", "sanction:zzyzx-2",
                           "sanction:zzyzx-3"]
    targets = store.execute("MATCH (s:Sanction)-[r:TARGETS]->(p) RETURN s.id AS s, p.id AS p")
    # the claim on the rejected person is not written (it would point at nothing)
    assert targets == [{"s": "sanction:zzyzx-1", "p": "person:zzyzx-good"}]
    assert report.counts["Person"] == {"added": 1, "updated": 0, "unchanged": 0}
    # matching still ran: the load was not refused
    assert any(n.startswith("matcher v") for n in report.notes)
    again = formats.ingest_path(store, "zzyzx-list", Path("list.csv"))
    assert not again.written
    assert len(again.rejected) == 2


def test_atomic_bundle_with_a_broken_reference_is_still_refused_whole(
        store: EmbeddedStore) -> None:
    bundle = _bundle(record_list=False)
    report = LoadReport("list.csv", "test")
    load_bundle(store, bundle, report)
    assert len(report.rejected) == 2
    assert not report.written
    assert store.get_nodes(["person:zzyzx-good"]) == {}
