"""Shared fixtures for the export tests: real LadybugDB stores in temp dirs, loaded from the
synthetic native fixture (plus a restricted victim and a restricted testimony source)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from ingest.formats import ingest_path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "native_valid"

RESTRICTED_PERSON = "person:zzyzx-witness-delta"
RESTRICTED_SOURCE = "source:synthetic-testimony-delta"


def load(store: EmbeddedStore, folder: Path) -> None:
    report = ingest_path(store, "native", folder)
    assert not report.rejected, [str(p) for p in report.rejected]


def with_restricted(tmp: Path) -> Path:
    """The fixture plus a restricted witness, a restricted testimony cited by a public claim
    (alongside a public source) and a claim touching the witness."""
    folder = tmp / "fixture_restricted"
    shutil.copytree(FIXTURE, folder)
    (folder / "Person.jsonl").write_text(json.dumps({
        "id": RESTRICTED_PERSON, "name": "Zzyzx Witness-Delta", "restricted": True,
        "source_ids": [RESTRICTED_SOURCE]}) + "\n", encoding="utf-8")
    (folder / "Source.jsonl").write_text(json.dumps({
        "id": RESTRICTED_SOURCE, "title": "Synthetic Testimony Delta (test fixture)",
        "publisher": "Testland Documentation Unit", "date": "2020-06", "kind": "testimony",
        "restricted": True}) + "\n", encoding="utf-8")
    (folder / "DETAINED_AT.csv").write_text(
        "from,to,confidence,source_ids\n"
        f"{RESTRICTED_PERSON},org:testland-prison-one,high,{RESTRICTED_SOURCE}\n",
        encoding="utf-8")
    (folder / "JUDGE_IN.csv").write_text(
        "from,to,confidence,source_ids\n"
        "person:zzyzx-judge-alpha,case:testland-0001,high,"
        f"source:synthetic-report-1;{RESTRICTED_SOURCE}\n", encoding="utf-8")
    return folder


@pytest.fixture
def fixture_store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(tmp_path / "db" / "graph.lbdb")
    load(store, FIXTURE)
    yield store
    store.close()


@pytest.fixture
def restricted_store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(tmp_path / "db" / "graph.lbdb")
    load(store, with_restricted(tmp_path))
    yield store
    store.close()
