"""The OFAC legacy CSV reader: synthetic files with every quirk of the format (names are
obviously artificial), then the real 2021-07 set from ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from ingest.formats import ingest_path
from ingest.ofac import read_ofac

# Headerless, -0- with a trailing space as null, latin-1 (the e-acute in "Zzyzx Caf\xe9"),
# a remark continued in sdn_comments.csv, and OFAC's DOS end-of-file byte.
SDN = (
    '90001,"TESTPERSON-ALPHA, Zzyzx Qolam-Judge","individual","IRAN-HR] [SDGT",'
    '"Head of the Testland Court One; Hojjatoleslam",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    '"DOB 28 Jun 1961; alt. DOB 1962; POB Testville, Testland; nationality Iran; '
    'Gender Male; a.k.a. \'ZZ ALPHA\'; Linked To: TESTLAND PRISON ONE; '
    'Head of the Testland Court One; Passport T123 (Testland)."\r\n'
    '90002,"TESTLAND PRISON ONE",-0- ,"IRAN-HR",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    '"Additional Sanctions Information - Subject to Secondary Sanctions."\r\n'
    '90003,"ZZYZX CAF\xc9 VESSEL",vessel ,"IRAN",-0- ,"9ZZZ1","Crude Oil Tanker",-0- ,'
    '"12345","Testland",-0- ,"Vessel Registration Identification IMO 0000001."\r\n'
    '90004,"TESTPERSON-BETA, Zzyzx","individual","IRAN-HR",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    '-0- ,"DOB circa 1950; Website zzyzx.example; Phone 0000; Email x@example.invali"\r\n'
    'x9,"BROKEN ENTRY NUMBER",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
    '90005,"TOO FEW COLUMNS",-0- ,"SDGT"\r\n'
    '90006,"TESTLAND UNKNOWN TYPE","spaceship","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    '-0- \r\n'
    '\x1a'
).encode("latin-1")
ALT = (
    '90001,1,"aka","TESTPERSON ALPHA, Zzyzx Gholam Judge",-0- \r\n'
    '90002,2,"fka","TESTLAND PENITENTIARY ONE",-0- \r\n'
    '99999,3,"aka","ORPHAN ALIAS",-0- \r\n'
    '\x1a'
).encode("latin-1")
ADD = (
    '90002,10,"1 Test Street","Testville","Testland",-0- \r\n'
    '90001,11,-0- ,"Testville","Testland","as of 2020"\r\n'
    '\x1a'
).encode("latin-1")
COMMENTS = '90004,"d; Testing Remark."\r\n\x1a'.encode("latin-1")


def write_ofac_set(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sdn.csv").write_bytes(SDN)
    (folder / "alt.csv").write_bytes(ALT)
    (folder / "add.csv").write_bytes(ADD)
    (folder / "sdn_comments.csv").write_bytes(COMMENTS)
    return folder


def test_reads_entries_aliases_addresses_and_remarks(tmp_path: Path) -> None:
    bundle = read_ofac(write_ofac_set(tmp_path / "ofac_set_2020-01-31"))
    alpha = bundle.nodes["person:ofac-90001"].props
    assert alpha["name"] == "TESTPERSON-ALPHA, Zzyzx Qolam-Judge"
    assert alpha["aliases"] == ["TESTPERSON ALPHA, Zzyzx Gholam Judge", "ZZ ALPHA"]
    names = {e["name"]: e for e in json.loads(alpha["names"])}
    assert names["ZZ ALPHA"]["confidence"] == "low"  # a weak alias from the remarks
    assert names["TESTPERSON ALPHA, Zzyzx Gholam Judge"]["source_ids"][0].startswith(
        "source:ofac-alt-")
    assert alpha["gender"] == "male"
    assert alpha["nationality"] == ["Iran"]
    assert alpha["birth_date"] is None  # two dates of birth: both kept in notes, none chosen
    notes = alpha["notes"]
    assert "Date of birth (as listed): 28 Jun 1961; 1962" in notes
    assert "Titles/positions (per OFAC): Head of the Testland Court One; Hojjatoleslam" in notes
    assert "Place of birth (as listed): Testville, Testland" in notes
    assert "Linked to (per OFAC): TESTLAND PRISON ONE" in notes
    assert "Passport T123 (Testland)" in notes  # not understood, kept verbatim
    assert "Address: Testville, Testland (as of 2020)" in notes
    assert notes.count("Head of the Testland Court One") == 1
    prison = bundle.nodes["org:ofac-90002"].props
    assert prison["kind"] == "prison"
    assert "formerly known as TESTLAND PENITENTIARY ONE" in prison["notes"]
    vessel = bundle.nodes["org:ofac-90003"].props
    assert vessel["name"] == "ZZYZX CAF\xc9 VESSEL"  # latin-1 decoded
    assert vessel["kind"] == "other" and "Vessel: call sign 9ZZZ1" in vessel["notes"]
    beta = bundle.nodes["person:ofac-90004"].props
    assert "Email x@example.invalid; Testing Remark" in beta["notes"]  # continued remark
    assert any(s.startswith("source:ofac-comments-") for s in beta["source_ids"])
    assert {"sanction:ofac-90001-iran-hr", "sanction:ofac-90001-sdgt"} <= set(bundle.nodes)
    sanction = bundle.nodes["sanction:ofac-90001-iran-hr"].props
    assert sanction["authority"] == "OFAC" and sanction["programme"] == "IRAN-HR"
    assert sanction["list_ref"] == "90001"
    targets = [r for r in bundle.rels.values() if r.type == "TARGETS"]
    assert {(r.from_id, r.to_id) for r in targets} >= {
        ("sanction:ofac-90001-iran-hr", "person:ofac-90001")}
    source = bundle.nodes[alpha["source_ids"][0]].props
    assert source["kind"] == "sanctions_list" and source["reference"] == "sdn.csv"
    assert source["date"] == "2020-01-31" and len(source["sha256"]) == 64


def test_rejects_bad_rows_with_file_line_field_and_reason(tmp_path: Path) -> None:
    bundle = read_ofac(write_ofac_set(tmp_path / "set"))
    problems = {(p.file, p.line, p.field): p.reason for p in bundle.problems}
    assert ("sdn.csv", 5, "ent_num") in problems
    assert ("sdn.csv", 6, "-") in problems and "4 fields" in problems[("sdn.csv", 6, "-")]
    assert ("sdn.csv", 7, "type") in problems
    assert ("alt.csv", 3, "ent_num") in problems
    assert len(bundle.problems) == 4


def test_ingest_loads_good_records_lists_rejected_and_reingest_is_a_noop(
        tmp_path: Path, store: EmbeddedStore) -> None:
    folder = write_ofac_set(tmp_path / "set")
    first = ingest_path(store, "ofac-csv", folder)
    assert first.written and len(first.rejected) == 4
    assert first.counts["Person"]["added"] == 2 and first.counts["Organization"]["added"] == 2
    assert any("vessels/aircraft" in n for n in first.notes)
    again = ingest_path(store, "ofac-csv", folder)
    assert not again.written
    assert again.total("added") == 0 and again.total("updated") == 0
    assert store.get_nodes(["person:ofac-90001"])["person:ofac-90001"].props["gender"] == "male"


def test_sdn_csv_path_and_missing_folder(tmp_path: Path) -> None:
    folder = write_ofac_set(tmp_path / "set")
    assert "person:ofac-90001" in read_ofac(folder / "sdn.csv").nodes
    empty = read_ofac(tmp_path / "nothing-here")
    assert empty.problems and "no sdn.csv" in empty.problems[0].reason


@pytest.mark.shared_data
def test_real_ofac_set_reads_without_loss(shared_data: Path) -> None:
    bundle = read_ofac(shared_data / "ofac_legacy_set_2021-07")
    assert bundle.problems == []
    kinds: dict[str, int] = {}
    for node in bundle.nodes.values():
        kinds[node.kind] = kinds.get(node.kind, 0) + 1
    assert kinds["Person"] == 4620  # every "individual" row
    assert kinds["Person"] + kinds["Organization"] == 8976  # every entry, vessels included
    assert sum(1 for n in bundle.nodes.values() if n.kind == "Sanction"
               and n.props["programme"] == "IRAN-HR") == 93
    mohseni = bundle.nodes["person:ofac-12252"].props
    assert mohseni["name"] == "MOHSENI-EJEI, Qolam-Hossein"
    assert "MOHSENI EJEI, Gholam Hossein" in mohseni["aliases"]
    assert "Date of birth (as listed): circa 1956" in mohseni["notes"]
    assert "Prosecutor-General of Iran" in mohseni["notes"]
    evin = bundle.nodes["org:ofac-24586"].props
    assert evin["name"] == "EVIN PRISON" and evin["kind"] == "prison"
    assert "sanction:ofac-24586-iran-hr" in bundle.nodes
    # remarks continued in sdn_comments.csv are joined back mid-word
    assert "a.k.a. 'snowsjohn'" not in bundle.nodes["person:ofac-28263"].props["notes"]
    assert "snowsjohn" in bundle.nodes["person:ofac-28263"].props["aliases"]


@pytest.mark.shared_data
def test_seed_graph_and_real_iran_hr_entries_link_mohseni_ejei(
        shared_data: Path, tmp_path: Path, store: EmbeddedStore) -> None:
    """The acceptance example on the real rows: the real sdn.csv cut down to its IRAN-HR
    entries (in a temp dir, never in the repo), loaded after the seed-facts graph."""
    from ingest.seed import seed_data_path

    real = shared_data / "ofac_legacy_set_2021-07"
    subset = tmp_path / "ofac_iran_hr_2021-07"
    subset.mkdir()
    sdn_lines = real.joinpath("sdn.csv").read_bytes().split(b"\r\n")
    keep = [line for line in sdn_lines if b"IRAN-HR" in line]
    ents = {line.split(b",", 1)[0] for line in keep}
    subset.joinpath("sdn.csv").write_bytes(b"\r\n".join(keep) + b"\r\n")
    for side in ("alt.csv", "add.csv"):
        lines = real.joinpath(side).read_bytes().split(b"\r\n")
        subset.joinpath(side).write_bytes(b"\r\n".join(
            line for line in lines if line.split(b",", 1)[0] in ents) + b"\r\n")
    seed = ingest_path(store, "native", seed_data_path())
    assert not seed.rejected, seed.rejected[:3]
    report = ingest_path(store, "ofac-csv", subset)
    assert not report.rejected
    rows = store.execute(
        "MATCH (a:Person)-[r:SAME_AS]-(b:Person) WHERE a.id = 'person:mohseni-ejei-gholamhossein' "
        "RETURN b.id AS other, r.judged_by AS by, r.score AS score")
    assert [r["other"] for r in rows] == ["person:ofac-12252"]
    assert rows[0]["by"] == "matcher:1" and rows[0]["score"] >= 0.9
    evin = store.execute("MATCH (s:Sanction)-[:TARGETS]->(o:Organization) "
                         "WHERE o.name = 'EVIN PRISON' RETURN s.authority AS a, s.programme AS p")
    assert evin == [{"a": "OFAC", "p": "IRAN-HR"}]
    again = ingest_path(store, "ofac-csv", subset)
    assert not again.written and again.total("added") == 0 and again.total("updated") == 0


@pytest.mark.shared_data
@pytest.mark.slow
def test_real_ofac_set_loads_and_reloads_unchanged(shared_data: Path, tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "g.lbdb") as store:
        first = ingest_path(store, "ofac-csv", shared_data / "ofac_legacy_set_2021-07")
        assert first.rejected == [] and first.counts["Person"]["added"] == 4620
        again = ingest_path(store, "ofac-csv", shared_data / "ofac_legacy_set_2021-07")
        assert not again.written and again.total("added") == again.total("updated") == 0


# -- the read's fast paths give exactly what the plain ones give --------------------------
def test_names_json_equals_json_dumps() -> None:
    from ingest.sanctions_common import NameSet, names_json

    names = NameSet()
    names.add('Zzyzx "Quoted" \\ Back\tslash\u2028', ["source:a", "source:b"])
    names.add("زیزیکس قاضی", [], lang="fa", confidence="low")
    names.add("Zzyzx Caf\xe9 \x01 control", ["source:a"])
    odd = [*names.entries, {"name": "Zzyzx", "extra": 1}]  # not NameSet's shape
    for entries in (names.entries, [], odd, [{**names.entries[0], "lang": 3}]):
        assert names_json(entries) == json.dumps(entries, ensure_ascii=False, sort_keys=True)


def test_joined_skeleton_equals_skeleton_of_the_joined_token() -> None:
    import itertools
    import random

    from graph.names import skeleton
    from ingest.sanctions_common import gram_skeleton, joined_skeleton

    letters = "kgzdchjuos1_"  # every letter a digraph starts or ends with, and non-letters
    words = ["".join(p) for n in (1, 2, 3) for p in itertools.product(letters, repeat=n)]
    for a, b in itertools.product(words, words):
        assert joined_skeleton(a, b) == skeleton(a + b), (a, b)
        assert gram_skeleton(a + b) == skeleton(a + b), (a, b)
    rnd = random.Random(5)
    alphabet = "kgzdscpohjuaeiywvxqfbtmnlr_9"
    for _ in range(50_000):
        a = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 8)))
        b = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 8)))
        assert joined_skeleton(a, b) == skeleton(a + b), (a, b)
    for a, b in (("محسنی", "sh"), ("s", "هادی"), ("Ünï", "hé")):  # not ASCII: computed whole
        assert joined_skeleton(a, b) == skeleton(a + b) == gram_skeleton(a + b)


def test_org_kind_shortcut_agrees_with_the_rules() -> None:
    from ingest.sanctions_common import _ORG_KIND_RULES, org_kind

    def by_rules(name: str) -> str:
        return next((kind for rx, kind in _ORG_KIND_RULES if rx.search(name)), "other")

    for name in ("TESTLAND PRISON ONE", "Testland Prisons Group", "ZZ DETENTION CENTER",
                 "Revolutionary Court of Testville", "MINISTRY OF INTELLIGENCE AND ZZ",
                 "Law Enforcement Forces of Testland", "ZZ POLICE", "ZZ TRADING CO",
                 "PRİSON ZZ", "ZZ ſPOLICE", "Ministry of Intelligence", "zz"):
        assert org_kind(name) == by_rules(name), name


def test_real_lists_names_column_equals_json_dumps(shared_data: Path) -> None:
    from ingest.sema_xml import read_sema
    from ingest.un_xml import read_un

    for bundle in (read_ofac(shared_data / "ofac_legacy_set_2021-07"),
                   read_un(shared_data / "un" / "UN_consolidated_2026-02-27.xml"),
                   read_sema(shared_data / "canada" / "sema-lmes_2020-04-15.xml")):
        for node in bundle.nodes.values():
            if "names" in node.props:
                entries = json.loads(node.props["names"])
                assert node.props["names"] == json.dumps(entries, ensure_ascii=False,
                                                         sort_keys=True), node.id
