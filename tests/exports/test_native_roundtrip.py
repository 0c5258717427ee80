"""Native export -> import into an EMPTY database reproduces the same graph: every node and
relation with identical stored columns (derived ones included: names, name keys, date
bounds)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from exports.native import ExportError, export_native, protect_cell, unprotect_cell
from exports.snapshot import take_snapshot
from graph.embedded import EmbeddedStore
from ingest.seed import seed_data_path

from .conftest import FIXTURE, RESTRICTED_PERSON, RESTRICTED_SOURCE, load


def _round_trip(store: EmbeddedStore, tmp: Path, *, include_restricted: bool = True
                ) -> tuple[dict, dict, Path]:
    out = tmp / "export"
    export_native(store, out, include_restricted=include_restricted)
    before = take_snapshot(store, include_restricted=include_restricted)
    fresh = EmbeddedStore(tmp / "fresh" / "graph.lbdb")
    try:
        assert fresh.counts()["Person"] == 0  # really empty
        load(fresh, out)
        after = take_snapshot(fresh)
    finally:
        fresh.close()
    return before.canonical(), after.canonical(), out


def _assert_same(before: dict, after: dict) -> None:
    assert len(after["nodes"]) == len(before["nodes"])
    assert len(after["rels"]) == len(before["rels"])
    for b, a in zip(before["nodes"], after["nodes"]):
        assert a == b, f"node {b[1]} differs"
    for b, a in zip(before["rels"], after["rels"]):
        assert a == b, f"relation {b[0]} {b[1]} differs"
    assert after == before


def test_fixture_round_trip(fixture_store: EmbeddedStore, tmp_path: Path) -> None:
    before, after, out = _round_trip(fixture_store, tmp_path)
    _assert_same(before, after)
    # names.csv carries the separately sourced Persian name of the chief
    names = (out / "names.csv").read_text(encoding="utf-8")
    assert "person:zzyzx-chief-beta" in names and ",fa," in names
    assert (out / "README.md").exists()


def test_seed_graph_round_trip(tmp_path: Path) -> None:
    seed = seed_data_path()
    if not any(seed.glob("*.csv")):
        pytest.skip("ingest/seed_data holds no seed-facts graph yet")
    store = EmbeddedStore(tmp_path / "db" / "graph.lbdb")
    try:
        load(store, seed)
        before, after, _ = _round_trip(store, tmp_path)
    finally:
        store.close()
    assert before["nodes"] and before["rels"]
    _assert_same(before, after)


def test_restricted_included_round_trip(restricted_store: EmbeddedStore, tmp_path: Path) -> None:
    before, after, out = _round_trip(restricted_store, tmp_path)
    _assert_same(before, after)
    assert RESTRICTED_PERSON in (out / "Person.csv").read_text(encoding="utf-8")


def test_public_export_has_no_restricted_record(restricted_store: EmbeddedStore,
                                                tmp_path: Path) -> None:
    before, after, out = _round_trip(restricted_store, tmp_path, include_restricted=False)
    _assert_same(before, after)
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(out.iterdir()))
    assert RESTRICTED_PERSON not in text
    assert RESTRICTED_SOURCE not in text
    assert "Witness-Delta" not in text and "Testimony Delta" not in text
    assert not (out / "DETAINED_AT.csv").exists()
    # the public claim that also cited the restricted testimony keeps its public source
    judge = (out / "JUDGE_IN.csv").read_text(encoding="utf-8")
    assert "source:synthetic-report-1" in judge


def test_export_refuses_a_non_empty_folder(fixture_store: EmbeddedStore, tmp_path: Path) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "Person.csv").write_text("id,name\n", encoding="utf-8")
    with pytest.raises(ExportError, match="not an empty folder"):
        export_native(fixture_store, out)


@pytest.mark.parametrize("value", [
    "=HYPERLINK(\"http://example.invalid\",\"x\")", "+1 555 0100", "-2+3", "@SUM(A1)",
    "'=already quoted", "''+two", "plain", "a=b", "'plain apostrophe",
])
def test_protect_cell_is_reversible(value: str) -> None:
    protected = protect_cell(value)
    assert not protected[:1] in ("=", "+", "-", "@")
    assert unprotect_cell(protected) == value


def _formula_graph(tmp: Path) -> Path:
    """Values that spreadsheets would run as formulas, loaded from JSON lines (no CSV)."""
    folder = tmp / "formula_input"
    folder.mkdir()
    (folder / "Source.jsonl").write_text(json.dumps({
        "id": "source:synthetic-formula", "title": "@Synthetic formula source (test fixture)",
        "kind": "synthetic"}) + "\n", encoding="utf-8")
    (folder / "Person.jsonl").write_text(json.dumps({
        "id": "person:zzyzx-formula-epsilon", "name": "=HYPERLINK(\"http://example.invalid\")",
        "aliases": ["+1 555 0100", "@SUM(A1)", "'=already quoted"], "notes": "-2+3 synthetic",
        "source_ids": ["source:synthetic-formula"]}) + "\n", encoding="utf-8")
    (folder / "Organization.jsonl").write_text(json.dumps({
        "id": "org:testland-formula-unit", "name": "Testland Formula Unit", "kind": "other",
        "source_ids": ["source:synthetic-formula"]}) + "\n", encoding="utf-8")
    (folder / "MEMBER_OF.jsonl").write_text(json.dumps({
        "from": "person:zzyzx-formula-epsilon", "to": "org:testland-formula-unit",
        "role": "=cmd|' /C calc'!A0", "rank": "-1", "note": "@note",
        "source_ids": ["source:synthetic-formula"]}) + "\n", encoding="utf-8")
    return folder


def test_formula_cells_are_protected_and_round_trip(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "db" / "graph.lbdb")
    try:
        load(store, _formula_graph(tmp_path))
        out = tmp_path / "export"
        export_native(store, out)
        before = take_snapshot(store).canonical()
    finally:
        store.close()
    for path in out.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), (path.name, cell)
    person = (out / "Person.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in person
    fresh = EmbeddedStore(tmp_path / "fresh" / "graph.lbdb")
    try:
        load(fresh, out)
        after = take_snapshot(fresh).canonical()
    finally:
        fresh.close()
    _assert_same(before, after)


def test_list_item_with_semicolon_falls_back_to_json_lines(tmp_path: Path) -> None:
    folder = tmp_path / "semi"
    folder.mkdir()
    (folder / "Source.csv").write_text("id,title,kind\nsource:synthetic-semi,Semi,synthetic\n",
                                       encoding="utf-8")
    (folder / "Case.jsonl").write_text(json.dumps({
        "id": "case:testland-semi", "name": "Testland semicolon case",
        "charges": ["charge one; with a semicolon", "charge two"],
        "source_ids": ["source:synthetic-semi"]}) + "\n", encoding="utf-8")
    store = EmbeddedStore(tmp_path / "db" / "graph.lbdb")
    try:
        load(store, folder)
        before, after, out = _round_trip(store, tmp_path)
    finally:
        store.close()
    assert (out / "Case.jsonl").exists() and not (out / "Case.csv").exists()
    _assert_same(before, after)


def test_reexport_has_the_same_content_hash(fixture_store: EmbeddedStore, tmp_path: Path) -> None:
    first = export_native(fixture_store, tmp_path / "one")
    fresh = EmbeddedStore(tmp_path / "fresh" / "graph.lbdb")
    try:
        load(fresh, tmp_path / "one")
        second = export_native(fresh, tmp_path / "two")
    finally:
        fresh.close()
    assert first.content_sha256 == second.content_sha256
    assert sorted(first.files) == sorted(second.files)
    assert FIXTURE.exists()


def test_cli_export_native_then_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    monkeypatch.setenv("ACCGRAPH_ADMIN_DB", str(tmp_path / "admin.sqlite"))
    runner = CliRunner()
    db, fresh = str(tmp_path / "a" / "g.lbdb"), str(tmp_path / "b" / "g.lbdb")
    assert runner.invoke(app, ["--db", db, "ingest", "native", str(FIXTURE), "-q"]).exit_code == 0
    res = runner.invoke(app, ["--db", db, "export", "native", str(tmp_path / "out"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["counts"]["Person"] == 3
    res = runner.invoke(app, ["--db", fresh, "ingest", "native", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.output
    # a second export into the same folder is refused, clearly
    res = runner.invoke(app, ["--db", db, "export", "native", str(tmp_path / "out")])
    assert res.exit_code == 2 and "not an empty folder" in res.output
    res = runner.invoke(app, ["--db", db, "export", "ttl", str(tmp_path / "g.ttl"), "--ref", "x"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["--db", db, "export", "ftm", str(tmp_path / "g.ftm.json")])
    try:
        import exports.ftm  # noqa: F401
    except ModuleNotFoundError:
        assert res.exit_code == 2 and "not available" in res.output
