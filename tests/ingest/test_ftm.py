"""The FtM JSON-lines reader on synthetic OpenSanctions-style entities (artificial names):
mapping of each schema, bad lines rejected one by one, unmappable schemata skipped with the
reason, foreign ids stable, re-ingest a no-op."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graph.embedded import EmbeddedStore
from ingest.formats import get_reader, ingest_path
from ingest.ftm import read_ftm

ENTITIES: list[dict[str, Any]] = [
    {"id": "NK-zzPersonAlpha", "schema": "Person", "datasets": ["synthetic"],
     "properties": {"name": ["Zzyzx Official-Alpha"], "alias": ["Zzyzx Alpha", "زیزیکس"],
                    "birthDate": ["1961-03-04"], "gender": ["male"], "nationality": ["ir"],
                    "notes": ["Synthetic test person."]}},
    {"id": "NK-zzPersonBeta", "schema": "Person",
     "properties": {"name": ["Zzyzx Official-Beta"], "birthDate": ["1970"]}},
    {"id": "testland-court", "schema": "PublicBody",
     "properties": {"name": ["Testland Court One"], "country": ["ir"]}},
    {"id": "testland-co", "schema": "Company", "properties": {"name": ["Testland Trading Co"]}},
    {"id": "testland-le", "schema": "LegalEntity", "properties": {"name": ["Testland Entity"]}},
    {"id": "testland-post", "schema": "Position",
     "properties": {"name": ["Judge, Testland Court One"], "organization": ["testland-court"]}},
    {"id": "occ-1", "schema": "Occupancy",
     "properties": {"holder": ["NK-zzPersonAlpha"], "post": ["testland-post"],
                    "startDate": ["2010-05"], "endDate": ["2015"]}},
    {"id": "mem-1", "schema": "Membership",
     "properties": {"member": ["NK-zzPersonBeta"], "organization": ["testland-court"],
                    "role": ["clerk"]}},
    {"id": "dir-1", "schema": "Directorship",
     "properties": {"director": ["NK-zzPersonBeta"], "organization": ["testland-co"]}},
    {"id": "sanc-1", "schema": "Sanction",
     "properties": {"entity": ["NK-zzPersonAlpha"], "authority": ["Testland Treasury"],
                    "program": ["TESTLAND-HR"], "listingDate": ["2020-01-02"],
                    "reason": ["Synthetic reason."]}},
    {"id": "fam-1", "schema": "Family",
     "properties": {"person": ["NK-zzPersonAlpha"], "relative": ["NK-zzPersonBeta"]}},
    {"id": "addr-1", "schema": "Address", "properties": {"full": ["1 Testland Road"]}},
]


def _write(path: Path, extra_lines: list[str] = ()) -> Path:  # type: ignore[assignment]
    lines = [json.dumps(e, ensure_ascii=False) for e in ENTITIES] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reader_is_registered() -> None:
    reader = get_reader("ftm")
    assert reader.name == "ftm" and reader.atomic is False


def test_schemata_map_to_the_model(tmp_path: Path, store: EmbeddedStore) -> None:
    path = _write(tmp_path / "synthetic.ftm.jsonl")
    report = ingest_path(store, "ftm", path)
    assert not report.rejected, [str(p) for p in report.rejected]
    counts = store.counts()
    assert counts["Person"] == 2 and counts["Organization"] == 3 and counts["Position"] == 1
    assert counts["Sanction"] == 1 and counts["TARGETS"] == 1 and counts["HOLDS"] == 1
    assert counts["MEMBER_OF"] == 2 and counts["POSITION_IN"] == 1
    assert counts["unsourced_claims"] == 0
    alpha = store.execute("MATCH (p:Person) WHERE p.name = 'Zzyzx Official-Alpha' "
                          "RETURN p.id AS id, p.birth_date AS b, p.nationality AS n, "
                          "p.aliases AS a")[0]
    assert alpha["id"].startswith("person:ftm-nk-zzpersonalpha")
    assert alpha["b"] == "1961-03-04" and alpha["n"] == ["IR"] and "زیزیکس" in alpha["a"]
    kinds = {r["name"]: r["kind"] for r in store.execute(
        "MATCH (o:Organization) RETURN o.name AS name, o.kind AS kind")}
    assert kinds == {"Testland Court One": "government", "Testland Trading Co": "other",
                     "Testland Entity": "other"}
    holds = store.execute("MATCH ()-[r:HOLDS]->() RETURN r.valid_from AS f, r.valid_to AS t")
    assert holds == [{"f": "2010-05", "t": "2015"}]
    roles = {r["role"] for r in store.execute("MATCH ()-[r:MEMBER_OF]->() RETURN r.role AS role")}
    assert roles == {"clerk", "director"}
    sanction = store.execute("MATCH (s:Sanction)-[:TARGETS]->(p:Person) RETURN s.authority AS a,"
                             " s.programme AS prog, s.listed AS l, p.name AS who")[0]
    assert sanction == {"a": "Testland Treasury", "prog": "TESTLAND-HR", "l": "2020-01-02",
                        "who": "Zzyzx Official-Alpha"}
    src = store.execute("MATCH (s:Source) RETURN s.kind AS k, s.sha256 AS h, s.reference AS r")
    assert src[0]["k"] == "dataset" and len(src[0]["h"]) == 64


def test_skipped_schemata_are_counted_with_the_reason(tmp_path: Path) -> None:
    bundle = read_ftm(_write(tmp_path / "s.jsonl"))
    notes = " | ".join(bundle.notes)
    assert "skipped 1 Family (no person-to-person relation" in notes
    assert "skipped 1 Address" in notes


def test_bad_lines_are_rejected_and_the_rest_loads(tmp_path: Path, store: EmbeddedStore) -> None:
    path = _write(tmp_path / "bad.jsonl", [
        "{not json",
        json.dumps({"id": "x1", "schema": "NoSuchSchema", "properties": {}}),
        json.dumps({"schema": "Person", "properties": {"name": ["No Id"]}}),
        json.dumps({"id": "x2", "schema": "Person", "properties": {}}),
        json.dumps({"id": "x3", "schema": "Occupancy",
                    "properties": {"holder": ["missing-person"], "post": ["testland-post"]}}),
        json.dumps({"id": "x4", "schema": "Sanction", "properties": {"entity": ["nobody"],
                                                                    "authority": ["Testland"]}}),
    ])
    report = ingest_path(store, "ftm", path)
    problems = [str(p) for p in report.rejected]
    n = len(ENTITIES)
    assert any(p.startswith(f"bad.jsonl:{n + 1}: -: not JSON") for p in problems)
    assert any(p.startswith(f"bad.jsonl:{n + 2}: schema:") for p in problems)
    assert any(p.startswith(f"bad.jsonl:{n + 3}: id: entity without an id") for p in problems)
    assert any(p.startswith(f"bad.jsonl:{n + 4}: name:") for p in problems)
    assert any(p.startswith(f"bad.jsonl:{n + 5}: holder/post:") for p in problems)
    assert any(p.startswith(f"bad.jsonl:{n + 6}: entity:") for p in problems)
    assert len(problems) == 6
    assert report.written and store.counts()["Person"] == 2


def test_reingest_is_a_noop(tmp_path: Path, store: EmbeddedStore) -> None:
    path = _write(tmp_path / "s.jsonl")
    first = ingest_path(store, "ftm", path)
    assert first.written and not first.rejected
    second = ingest_path(store, "ftm", path)
    assert not second.written
    assert second.total("added") == 0 and second.total("updated") == 0
    assert second.total("unchanged") == first.total("added")


def test_relation_to_an_entity_already_in_the_graph(tmp_path: Path, store: EmbeddedStore) -> None:
    first = _write(tmp_path / "base.jsonl")
    assert not ingest_path(store, "ftm", first).rejected
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps({"id": "occ-2", "schema": "Occupancy", "properties": {
        "holder": ["person.ftm-nk-zzpersonbeta-x"], "post": ["position.ftm-testland-post"],
        "startDate": ["2016"]}}) + "\n", encoding="utf-8")
    report = ingest_path(store, "ftm", later)
    # the holder id decodes to a person that is not in the graph: rejected alone, not the load
    assert [p.field for p in report.rejected] == ["from"]
