"""The memorial-archive reader: synthetic records (artificial names) for the mapping, the
rejections and re-ingest; the real archive (../shared/data) for the 13 malformed files and
the counts."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from ingest.build import Where, build_node, build_rel, name_entry
from ingest.formats import get_reader, ingest_path
from ingest.memorial import (
    DATASET_SOURCE_ID,
    RecordError,
    events_for,
    fast_node,
    fast_rel,
    incident_kind,
    parse_yaml,
    read_memorial,
)
from ingest.memorial_forces import FORCES, normalise
from tests.conftest import SHARED_DATA

ARCHIVE = SHARED_DATA / "iran_memorial" / "iran-memorial_data_712eca0.tar.gz"

RECORD_ONE = """\
id: zzyzx-victim-one-1988
name_latin: "Zzyzx Victim-One"
name_farsi: "زیزیکس یک"
date_of_birth: null
gender: male
religion: "Synthetic"
date_of_death: 1988-08-10
age_at_death: 30
place_of_death: "Testland City"
province: "Testland Province"
cause_of_death: "Execution » Hanging"
circumstances: >
    Synthetic narrative for a test record.
event_context: "1988-89 mass execution of political prisoners"
responsible_forces: "Islamic Revolutionary Tribunal of Mashad, Intelligence Ministry, Prison authorities (Evin)"
status: unverified
sources:
  - url: "https://example.org/memorial/story/1/zzyzx-victim-one"
    name: "Testland Memorial — Story"
    type: memorial_database
last_updated: 2026-02-13
updated_by: "boroumand-import"
"""

RECORD_TWO = """\
id: zzyzx-victim-two
name_latin: "Zzyzx Victim-Two"
name_farsi: null
gender: female
date_of_death: 2026-01-01
place_of_death: "Testland Town"
cause_of_death: "Gunshot"
event_context: "2025-2026 Iranian nationwide protests (January 2026 uprising)"
responsible_forces: "IRGC, Basij"
status: verified
sources:
  - url: "https://example.org/post/2"
    name: "Source"
    type: primary
updated_by: "iranvictims-csv-import"
"""

RECORD_SAME_STEM = """\
id: zzyzx-victim-two
name_latin: "Zzyzx Victim-Two Other"
date_of_death: 2022-10-08
event_context: null
responsible_forces: null
circumstances: "Synthetic: she was raped in custody."
status: unverified
sources: []
updated_by: "boroumand-import"
"""

RECORD_UNNAMED = """\
id: -1979
name_latin: null
name_farsi: null
date_of_death: 1979-01-01
cause_of_death: null
status: unverified
sources:
  - url: "https://example.org/memorial/story/3/name-unknown"
    name: "Testland Memorial — Story"
    type: memorial_database
updated_by: "boroumand-import"
"""

MALFORMED = "id: broken\nsources:\n  - url: x\n  name: y\n   bad: [\n"
TIMELINE = """\
- id: massacre-1988
  date_start: 1988-07-19
  date_end: 1988-12-31
  title_en: "1988 Prison Massacres"
  title_fa: "کشتار ۱۳۶۷"
"""


def _archive_files() -> dict[str, str]:
    return {
        "data/victims/1988/zzyzx-victim-one-1988.yaml": RECORD_ONE,
        "data/victims/2026/zzyzx-victim-two.yaml": RECORD_TWO,
        "data/victims/2022/zzyzx-victim-two.yaml": RECORD_SAME_STEM,
        "data/victims/1979/-1979.yaml": RECORD_UNNAMED,
        "data/victims/2009/broken-2009.yaml": MALFORMED,
        "data/victims/_template.yaml": "id: ''\n",
        "data/victims/import.csv": "a,b\n1,2\n",
        "data/events/timeline.yaml": TIMELINE,
    }


def _folder(tmp: Path) -> Path:
    root = tmp / "data"
    for name, text in _archive_files().items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _tarball(tmp: Path) -> Path:
    path = tmp / "synthetic-memorial.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in _archive_files().items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_reader_is_registered() -> None:
    reader = get_reader("iran-memorial")
    assert reader.name == "iran-memorial" and reader.atomic is False


def test_synthetic_archive_maps_records(tmp_path: Path, store: EmbeddedStore) -> None:
    report = ingest_path(store, "iran-memorial", _tarball(tmp_path))
    assert [(p.file, p.field) for p in report.rejected] == [
        ("data/victims/2009/broken-2009.yaml", "-")]
    assert "malformed YAML" in report.rejected[0].reason and report.rejected[0].line == 4
    counts = store.counts()
    assert counts["Person"] == 4 and counts["VICTIM_OF"] == 4
    assert counts["unsourced_claims"] == 0
    one = store.execute("MATCH (p:Person {id: 'person:memorial-zzyzx-victim-one-1988'})"
                        "-[v:VICTIM_OF]->(i:Incident) RETURN p.names AS names, p.confidence AS c,"
                        " i.kind AS kind, i.date AS date, i.place AS place, v.confidence AS vc,"
                        " v.source_ids AS src")[0]
    names = {e["name"]: e["lang"] for e in json.loads(one["names"])}
    assert names == {"Zzyzx Victim-One": None, "زیزیکس یک": "fa"}
    assert one["c"] == one["vc"] == "low"  # unverified
    assert one["kind"] == "execution" and one["date"] == "1988-08-10"
    assert one["place"] == "Testland City (Testland Province)"
    assert one["src"][0] == DATASET_SOURCE_ID and len(one["src"]) == 2
    event = store.execute("MATCH (i:Incident)-[r:PART_OF_EVENT]->(e:Incident) "
                          "WHERE i.id = 'incident:memorial-zzyzx-victim-one-1988-death' "
                          "RETURN e.kind AS kind, e.date AS d, e.names AS n, r.note AS note")[0]
    assert event["kind"] == "mass_execution" and event["d"] == "1988-07-19"
    assert "کشتار ۱۳۶۷" in event["n"] and "1988-89 mass execution" in event["note"]
    perps = store.execute("MATCH (i:Incident {id: 'incident:memorial-zzyzx-victim-one-1988-death'})"
                          "-[r:PERPETRATED_BY]->(o:Organization) RETURN o.id AS id, r.role AS "
                          "role, r.note AS note ORDER BY o.id")
    assert [p["id"] for p in perps] == ["org:memorial-evin-prison",
                                        "org:memorial-intelligence-ministry",
                                        "org:memorial-mashhad-revolutionary-court"]
    assert all(p["role"] == "responsible" and "Tribunal of Mashad" in p["note"] for p in perps)


def test_ids_dates_restriction_and_confidence(tmp_path: Path) -> None:
    bundle = read_memorial(_folder(tmp_path))
    ids = {i for i in bundle.nodes if i.startswith("person:")}
    assert ids == {"person:memorial-zzyzx-victim-one-1988", "person:memorial-zzyzx-victim-two-2026",
                   "person:memorial-zzyzx-victim-two-2022", "person:memorial-1979"}
    two = bundle.nodes["incident:memorial-zzyzx-victim-two-2026-death"]
    assert two.props["date"] == "2026-01-01"  # not an Omid import: the day is kept
    assert two.props["kind"] == "killing" and two.props["confidence"] == "medium"
    unnamed = bundle.nodes["person:memorial-1979"]
    assert unnamed.props["name_keys"] == [] and unnamed.props["names"] == "[]"
    assert bundle.nodes["incident:memorial-1979-death"].props["date"] == "1979"  # placeholder
    assert bundle.nodes["person:memorial-zzyzx-victim-two-2022"].props["restricted"] is True
    assert bundle.nodes["incident:memorial-zzyzx-victim-two-2022-death"].props["restricted"]
    assert bundle.nodes["person:memorial-zzyzx-victim-one-1988"].props["restricted"] is False
    assert any("_template.yaml" in n for n in bundle.notes)
    assert [p.file for p in bundle.problems] == ["data/victims/2009/broken-2009.yaml"]


def test_folder_and_tarball_give_the_same_records(tmp_path: Path) -> None:
    a = read_memorial(_folder(tmp_path / "f"))
    b = read_memorial(_tarball(tmp_path))
    assert set(a.nodes) == set(b.nodes) and set(a.rels) == set(b.rels)
    for node_id, node in a.nodes.items():
        if node_id != DATASET_SOURCE_ID:  # reference and sha256 name the input
            assert node.props == b.nodes[node_id].props, node_id


def test_reingest_is_a_noop(tmp_path: Path, store: EmbeddedStore) -> None:
    path = _tarball(tmp_path)
    first = ingest_path(store, "iran-memorial", path)
    assert first.written
    second = ingest_path(store, "iran-memorial", path)
    assert not second.written
    assert second.total("added") == 0 and second.total("updated") == 0
    assert [str(p) for p in second.rejected] == [str(p) for p in first.rejected]


def test_same_as_links_only_when_the_seed_is_loaded(tmp_path: Path, store: EmbeddedStore) -> None:
    from ingest.seed import seed_data_path

    path = _tarball(tmp_path)
    ingest_path(store, "iran-memorial", path)
    assert store.counts()["SAME_AS"] == 0
    seed = ingest_path(store, "native", seed_data_path())
    assert not seed.rejected, [str(p) for p in seed.rejected][:5]
    again = ingest_path(store, "iran-memorial", path)
    assert again.counts["SAME_AS"]["added"] >= 3  # IRGC, 1988 event, 2025-2026 crackdown
    rows = store.execute("MATCH (a:Organization)-[r:SAME_AS]->(b:Organization) "
                         "RETURN a.id AS a, b.id AS b, r.method AS m, r.score AS s")
    assert {"a": "org:memorial-irgc", "b": "org:irgc", "m": "curated", "s": 1.0} in rows


def test_parse_yaml_is_bounded() -> None:
    with pytest.raises(RecordError, match="control characters") as err:
        parse_yaml(b"id: x\nname_latin: \"a\x08b\"\n")
    assert err.value.line == 2
    bomb = b"a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n"
    with pytest.raises(RecordError, match="aliases"):
        parse_yaml(bomb)
    with pytest.raises(RecordError, match="nested"):
        parse_yaml(b"a: " + b"[" * 50 + b"]" * 50 + b"\n")
    with pytest.raises(RecordError, match="malformed YAML"):
        parse_yaml(b"!!python/object/apply:os.system ['true']\n")
    with pytest.raises(RecordError, match="UTF-8"):
        parse_yaml(b"id: \xff\n")


def test_a_record_that_is_not_a_mapping_is_rejected(tmp_path: Path) -> None:
    root = tmp_path / "data" / "victims" / "2000"
    root.mkdir(parents=True)
    (root / "list-2000.yaml").write_text("- a\n- b\n", encoding="utf-8")
    (root / "bad-date-2000.yaml").write_text(
        "id: x\nname_latin: Zzyzx Date\ndate_of_death: 2000-02-30\nsources: []\n",
        encoding="utf-8")
    bundle = read_memorial(tmp_path / "data")
    assert [str(p) for p in bundle.problems] == [
        "data/victims/2000/list-2000.yaml:0: -: a record must be a mapping, got a list"]
    # an impossible date does not cost the record: kept as unknown, noted with the text
    inc = bundle.nodes["incident:memorial-bad-date-2000-death"]
    assert inc.props["date"] is None and "2000-02-30" in inc.props["notes"]
    assert any("bad-date-2000.yaml:3: date_of_death" in n for n in bundle.notes)


def test_events_are_named_by_the_record_never_inferred() -> None:
    assert events_for("1988-89 mass execution of political prisoners") == ["massacre-1988"]
    assert events_for("July-December 1988") == ["massacre-1988"]
    assert events_for("1988 prison massacres; Mojahedin-e Khalq") == ["massacre-1988"]
    assert events_for("Woman, Life, Freedom movement (2022 Mahsa Amini protests)") == [
        "woman-life-freedom-2022"]
    assert events_for("2019 November protests") == ["bloody-november-2019"]
    assert events_for("2025-2026 Iranian nationwide protests") == ["massacres-2026"]
    assert events_for("Iran-Iraq War; Mojahedin-e Khalq") == ["iran-iraq-war"]
    assert events_for("1988") == [] and events_for("2015 execution") == []
    assert events_for("1988 execution of alleged drug traffickers") == []


def test_incident_kinds() -> None:
    assert incident_kind("Execution » Hanging") == "execution"
    assert incident_kind("Execution » Death in custody") == "death_in_custody"
    assert incident_kind("Gunshot (headshot)") == "killing"
    assert incident_kind("Extrajudicial Execution » Enforced disappearance") == \
        "enforced_disappearance"
    assert incident_kind("Fatal") == "other" and incident_kind(None) == "other"


def test_force_spellings_normalise_to_one_organisation() -> None:
    ministry = {"Intelligence Ministry", "Ministry of Intelligence", "Information Ministry",
                "Ministry of Information", "Islamic Republic of Iran’s Ministry of Information",
                "Ministry of Information (Security)"}
    assert {normalise(s).forces[0].key for s in ministry} == {"intelligence-ministry"}
    courts = {"Islamic Revolutionary Tribunal", "Islamic Revolutionary Court",
              "Islamic Revolutionary court", "Revolutionary Court", "Islamic Revolutionary Tribunals"}
    assert {normalise(s).forces[0].key for s in courts} == {"revolutionary-courts"}
    mashhad = {"Islamic Revolutionary Tribunal of Mashad", "Mashad Islamic Revolutionary Tribunal",
               "Revolutionary Tribunal of Mashhad", "Islamic Revolutionary Court of Mashhad"}
    assert {normalise(s).forces[0].key for s in mashhad} == {"mashhad-revolutionary-court"}
    tehran = normalise("Branch 15 Revolutionary Court in Tehran").forces[0]
    assert tehran.seed_id == "org:tehran-revolutionary-court"
    assert normalise("Revolutionary Court (Judge Abolqasem Salavati)").forces[0].key == \
        "revolutionary-courts"
    mixed = normalise("Revolutionary Court, Security forces, Prison authorities (Evin)")
    assert [f.key for f in mixed.forces] == ["revolutionary-courts", "state-security-forces",
                                             "evin-prison"]
    assert normalise("Ayatollah Khalkhali").forces == []
    assert normalise("PMIO").forces[0].seed_id == "org:pmoi-mek"
    assert FORCES["irgc"].seed_id == "org:irgc"


def test_fast_builders_match_the_validating_builders() -> None:
    where = Where("t", 1)
    values = {"name": "Zzyzx Victim-One", "aliases": ["Zzyzx V"], "birth_date": "1950",
              "gender": "male", "notes": "n", "source_ids": ["source:x"], "confidence": "low",
              "restricted": True}
    fa = [name_entry("زیزیکس", lang="fa", confidence="low", source_ids=["source:x"])]
    slow, problems = build_node("Person", {"id": "person:x", **values}, where)
    assert slow is not None and not problems
    from ingest.build import finish_names

    finish_names(slow.props, fa)
    assert fast_node("Person", "person:x", values, fa).props == slow.props
    inc = {"name": "Death of Zzyzx", "kind": "execution", "date": "1988-07", "place": "p",
           "cause": "c", "source_ids": ["source:x"]}
    slow, _ = build_node("Incident", {"id": "incident:x", **inc}, where)
    assert slow is not None and fast_node("Incident", "incident:x", inc).props == slow.props
    for rel_type, extra in (("PERPETRATED_BY", {"role": "responsible", "note": "n"}),
                            ("VICTIM_OF", {}), ("PART_OF_EVENT", {"note": "e"})):
        ends = {"PERPETRATED_BY": ("incident:x", "org:y"), "VICTIM_OF": ("person:x", "incident:x"),
                "PART_OF_EVENT": ("incident:x", "incident:y")}[rel_type]
        vals = {"source_ids": ["source:x"], "confidence": "low", **extra}
        slow_rel, probs = build_rel(rel_type, {"from": ends[0], "to": ends[1], **vals}, where)
        assert slow_rel is not None and not probs
        fast = fast_rel(rel_type, ends[0], ends[1], vals)
        assert (fast.id, fast.props, fast.from_kind, fast.to_kind) == (
            slow_rel.id, slow_rel.props, slow_rel.from_kind, slow_rel.to_kind)


@pytest.mark.shared_data
@pytest.mark.slow
def test_real_archive_reads_with_exactly_the_13_malformed_files_rejected() -> None:
    if not ARCHIVE.is_file():
        pytest.skip(f"the memorial archive is not at {ARCHIVE} (../shared/data is absent)")
    bundle = read_memorial(ARCHIVE)
    rejected = sorted(p.file for p in bundle.problems)
    assert len(rejected) == 13 and all(p.reason.startswith("malformed YAML")
                                       for p in bundle.problems)
    assert "data/victims/1981/majbar-simin-majd-1981.yaml" in rejected
    kinds: dict[str, int] = {}
    for n in bundle.nodes.values():
        kinds[n.kind] = kinds.get(n.kind, 0) + 1
    assert kinds["Person"] == 28_274  # 28,287 victim files - 13 malformed
    rels = {r.type for r in bundle.rels.values()}
    assert {"VICTIM_OF", "PERPETRATED_BY", "PART_OF_EVENT"} <= rels
    assert bundle.nodes["person:memorial-amini-mohammad-2022"].id != \
        bundle.nodes["person:memorial-amini-mohammad-2026"].id


@pytest.mark.shared_data
def test_real_records_load_into_the_graph(tmp_path: Path, store: EmbeddedStore) -> None:
    """A slice of the real archive (a few hundred records, read from the tarball into a temp
    folder) loads, answers with real victims and their responsible forces, and re-ingests
    as a no-op."""
    if not ARCHIVE.is_file():
        pytest.skip(f"the memorial archive is not at {ARCHIVE} (../shared/data is absent)")
    root = tmp_path / "data"
    wanted = ("data/victims/2019/", "data/events/")
    with tarfile.open(ARCHIVE, "r:gz") as tar:
        for info in tar:
            if info.isfile() and info.name.startswith(wanted):
                target = tmp_path / info.name
                target.parent.mkdir(parents=True, exist_ok=True)
                handle = tar.extractfile(info)
                assert handle is not None
                target.write_bytes(handle.read())
    first = ingest_path(store, "iran-memorial", root)
    assert first.written and not first.rejected
    rows = store.execute(
        "MATCH (p:Person)-[:VICTIM_OF]->(i:Incident)-[:PART_OF_EVENT]->(e:Incident) "
        "WHERE e.id = 'incident:memorial-event-bloody-november-2019' RETURN count(p) AS n")
    assert rows[0]["n"] > 10
    perp = store.execute("MATCH (i:Incident)-[r:PERPETRATED_BY]->(o:Organization) "
                         "RETURN count(r) AS n")
    assert perp[0]["n"] > 0
    second = ingest_path(store, "iran-memorial", root)
    assert not second.written and second.total("updated") == 0
