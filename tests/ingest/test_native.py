"""Native-format ingest against a real LadybugDB: valid bundles load, every kind of bad input
is rejected with file:line: field: reason and leaves the database exactly as it was, and
re-ingesting changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from ingest.formats import ingest_path
from tests.ingest.helpers import FIXTURE, copy_fixture, dump


def test_valid_bundle_loads_and_reingest_is_a_noop(store: EmbeddedStore) -> None:
    first = ingest_path(store, "native", FIXTURE)
    assert first.ok and first.written
    assert first.total("added") == 24 and first.total("updated") == 0
    counts = store.counts()
    assert counts["Person"] == 3 and counts["HOLDS"] == 2 and counts["unsourced_claims"] == 0
    before = dump(store)
    second = ingest_path(store, "native", FIXTURE)
    assert second.ok and not second.written
    assert second.total("added") == 0 and second.total("updated") == 0
    assert second.total("unchanged") == 24
    assert dump(store) == before


def test_imprecise_dates_are_stored_with_bounds(store: EmbeddedStore) -> None:
    ingest_path(store, "native", FIXTURE)
    rel = store.execute("MATCH ()-[r:HOLDS {id: 'holds:beta-head'}]->() RETURN r")[0]["r"]
    assert (rel["valid_from"], rel["from_lo"], rel["from_hi"]) == ("2018-03", 20180301, 20180331)
    assert (rel["valid_to"], rel["to_lo"]) == ("open", 99991231)


def test_separately_sourced_names_are_kept_with_provenance(store: EmbeddedStore) -> None:
    ingest_path(store, "native", FIXTURE)
    node = store.get_nodes(["person:zzyzx-chief-beta"])["person:zzyzx-chief-beta"]
    names = json.loads(node.props["names"])
    persian = [n for n in names if n["lang"] == "fa"]
    assert persian and persian[0]["confidence"] == "medium"
    assert persian[0]["source_ids"] == ["source:synthetic-report-1"]
    assert any(k.startswith("t:") and "زیزیکس" in k for k in node.props["name_keys"])


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


BAD_CASES = {
    "malformed csv": (
        lambda b: (b / "Location.csv").write_text('id,name\nlocation:x,"unterminated\n'),
        "Location.csv:2: -: malformed CSV"),
    "unknown kind": (
        lambda b: _edit(b / "Organization.csv", "testland-prison-one,Testland Prison One,prison",
                        "testland-prison-one,Testland Prison One,jail"),
        "Organization.csv:4: kind: 'jail' is not one of"),
    "unknown file kind": (
        lambda b: (b / "Persons.csv").write_text("id,name\n"),
        "Persons.csv:0: -: unknown file"),
    "bad date": (
        lambda b: _edit(b / "HOLDS.csv", "2015,2021", "2015,2021-13"),
        "HOLDS.csv:2: valid_to: '2021-13': month 13 is not 01-12"),
    "dangling relation end": (
        lambda b: _append(b / "JUDGE_IN.csv", "person:zzyzx-nobody,case:testland-0001,high,source:synthetic-report-1"),
        "JUDGE_IN.csv:3: from: 'person:zzyzx-nobody' does not exist in the input or the graph"),
    "unknown source": (
        lambda b: _edit(b / "HEARD_BY.csv", "high,source:synthetic-report-1", "high,source:no-such-report"),
        "HEARD_BY.csv:2: source_ids: source 'source:no-such-report' does not exist"),
    "duplicate id with conflicting fields": (
        lambda b: _append(b / "Person.csv", "person:zzyzx-chief-beta,Zzyzx Chief-Gamma,,,female,source:synthetic-report-1,high"),
        "Person.csv:5: id: duplicate id 'person:zzyzx-chief-beta' conflicts with Person.csv:3"),
    "wrong encoding": (
        lambda b: (b / "Location.csv").write_bytes("id,name,kind\nlocation:testville,Testvill\xe9,city\n".encode("latin-1")),
        "Location.csv:2: -: not valid UTF-8"),
    "relation joining the wrong kinds": (
        lambda b: _append(b / "HOLDS.csv", "holds:x,person:zzyzx-judge-alpha,org:testland-court-one,,,high,source:synthetic-report-1,"),
        "HOLDS.csv:4: to: HOLDS cannot join Person -> Organization"),
    "id prefix of another kind": (
        lambda b: _append(b / "Person.csv", "org:zzyzx-delta,Zzyzx Delta,,,male,source:synthetic-report-1,high"),
        "Person.csv:5: id: 'org:zzyzx-delta' has the prefix of Organization, not Person"),
    "unknown column": (
        lambda b: (b / "Location.csv").write_text("id,name,kind,population\nlocation:testville,Testville,city,3\n"),
        "Location.csv:2: population: unknown column for Location"),
    "row with too many fields": (
        lambda b: _append(b / "PART_OF.csv", "org:testland-prison-one,org:testland-judiciary,,medium,source:synthetic-law-1,extra"),
        "PART_OF.csv:4: -: row has 6 fields but the header has 5"),
    "bad jsonl": (
        lambda b: (b / "Location.jsonl").write_text('{"id": "location:a", "name": "A"}\n[1, 2]\n{oops\n'),
        "Location.jsonl:2: -: each line must be a JSON object"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_is_rejected_and_the_database_is_unchanged(
        case: str, store: EmbeddedStore, tmp_path: Path) -> None:
    # the graph already holds something, and the bad bundle also adds new records
    ingest_path(store, "native", FIXTURE)
    before = dump(store)
    bundle = copy_fixture(tmp_path)
    _append(bundle / "Location.csv" if (bundle / "Location.csv").exists() else bundle / "Source.csv",
            "source:synthetic-extra,Synthetic Extra (test fixture),Testland,2021,synthetic,extra.txt")
    _edit(bundle / "Person.csv", "Zzyzx Victim-Gamma,,1990-02-03", "Zzyzx Victim-Gamma,Zzyzx V. Gamma,1990-02-03")
    mutate, expected = BAD_CASES[case]
    mutate(bundle)
    report = ingest_path(store, "native", bundle)
    assert not report.ok and not report.written
    problems = [str(p) for p in report.rejected]
    assert any(p.startswith(expected) for p in problems), problems
    assert dump(store) == before


def test_every_problem_is_listed_at_once(store: EmbeddedStore, tmp_path: Path) -> None:
    bundle = copy_fixture(tmp_path)
    _edit(bundle / "HOLDS.csv", "2015,2021", "2015,2021-13")
    _edit(bundle / "HEARD_BY.csv", "high,source:synthetic-report-1", "high,source:no-such-report")
    _edit(bundle / "Person.csv", "1950,male", "1950,mle")
    report = ingest_path(store, "native", bundle)
    fields = sorted((p.file, p.field) for p in report.rejected)
    assert fields == [("HEARD_BY.csv", "source_ids"), ("HOLDS.csv", "valid_to"), ("Person.csv", "gender")]
    assert store.counts()["Person"] == 0


def test_changed_row_is_counted_as_updated(store: EmbeddedStore, tmp_path: Path) -> None:
    ingest_path(store, "native", FIXTURE)
    bundle = copy_fixture(tmp_path)
    _edit(bundle / "Person.csv", "Zzyzx Chief-Beta,,,female", "Zzyzx Chief-Beta,,1961,female")
    report = ingest_path(store, "native", bundle)
    assert report.ok and report.counts["Person"] == {"added": 0, "updated": 1, "unchanged": 2}
    node = store.get_nodes(["person:zzyzx-chief-beta"])["person:zzyzx-chief-beta"]
    assert node.props["birth_date"] == "1961"


def test_cli_exit_codes_and_problem_lines(tmp_path: Path) -> None:
    db = tmp_path / "cli.lbdb"
    bundle = copy_fixture(tmp_path)
    _edit(bundle / "HOLDS.csv", "2015,2021", "2015,2021-13")
    cmd = [sys.executable, "-m", "cli.main", "--db", str(db)]
    bad = subprocess.run(cmd + ["ingest", "native", str(bundle), "-q"], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "HOLDS.csv:2: valid_to: '2021-13': month 13 is not 01-12" in bad.stderr
    good = subprocess.run(cmd + ["ingest", "native", str(FIXTURE), "--json"], capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["added"] == 24
    stats = subprocess.run(cmd + ["stats", "--json"], capture_output=True, text=True)
    assert json.loads(stats.stdout)["Person"] == 3
    missing = subprocess.run(cmd + ["ingest", "nosuchformat", str(FIXTURE)], capture_output=True, text=True)
    assert missing.returncode == 2 and "unknown format" in missing.stderr
