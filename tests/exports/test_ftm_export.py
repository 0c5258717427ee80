"""FtM export: valid FollowTheMoney entities, restricted records withheld, and the round trip
export -> ``accgraph ingest ftm`` into an empty database gives the same persons,
organisations, positions, sanctions and links (synthetic data only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from followthemoney import model

from exports.ftm import build_entities, decode_id, encode_id, export_ftm
from graph.embedded import EmbeddedStore
from ingest.formats import ingest_path
from tests.exports.conftest import RESTRICTED_PERSON, load, with_restricted


def _with_sanctions(tmp: Path) -> Path:
    folder = with_restricted(tmp)
    (folder / "Sanction.csv").write_text(
        "id,name,authority,programme,list_ref,listed,reason,source_ids\n"
        "sanction:testland-ofac-alpha,OFAC designation of Zzyzx Judge-Alpha,OFAC,IRAN-HR,"
        "T-0001,2019-12,Synthetic reason,source:synthetic-report-1\n"
        "sanction:testland-eu-court,EU listing of Testland Court One,EU,IRAN-HR,,2021,,"
        "source:synthetic-report-1\n", encoding="utf-8")
    (folder / "TARGETS.csv").write_text(
        "from,to,source_ids\n"
        "sanction:testland-ofac-alpha,person:zzyzx-judge-alpha,source:synthetic-report-1\n"
        "sanction:testland-eu-court,org:testland-court-one,source:synthetic-report-1\n",
        encoding="utf-8")
    (folder / "MEMBER_OF.csv").write_text(
        "from,to,role,valid_from,valid_to,source_ids\n"
        "person:zzyzx-chief-beta,org:testland-court-one,member,2001,2005-06,"
        "source:synthetic-report-1\n", encoding="utf-8")
    return folder


def _people_orgs_sanctions(store: EmbeddedStore) -> dict[str, Any]:
    def names(row: dict[str, Any]) -> set[str]:
        return {e["name"] for e in json.loads(row["names"] or "[]")} | {row["name"]}

    out: dict[str, Any] = {}
    out["Person"] = {r["id"]: (r["name"], frozenset(names(r)), r["birth_date"], r["gender"])
                     for r in store.execute("MATCH (n:Person) RETURN n.id AS id, n.name AS name,"
                                            " n.names AS names, n.birth_date AS birth_date,"
                                            " n.gender AS gender")}
    out["Organization"] = {r["id"]: (r["name"], r["kind"]) for r in store.execute(
        "MATCH (n:Organization) RETURN n.id AS id, n.name AS name, n.kind AS kind")}
    out["Position"] = {r["id"]: r["name"] for r in store.execute(
        "MATCH (n:Position) RETURN n.id AS id, n.name AS name")}
    out["Sanction"] = {r["id"]: (r["a"], r["p"], r["l"], r["d"]) for r in store.execute(
        "MATCH (n:Sanction) RETURN n.id AS id, n.authority AS a, n.programme AS p, "
        "n.list_ref AS l, n.listed AS d")}
    for rel in ("TARGETS", "HOLDS", "POSITION_IN", "MEMBER_OF", "PART_OF"):
        out[rel] = {(r["a"], r["b"], r["f"], r["t"]) for r in store.execute(
            f"MATCH (a)-[r:{rel}]->(b) RETURN a.id AS a, b.id AS b, r.valid_from AS f, "
            "r.valid_to AS t")}
    return out


def test_ids_encode_to_valid_ftm_ids_and_back() -> None:
    from followthemoney.types import registry

    for gid in ("person:mohseni-ejei-gholamhossein", "member_of:0123456789abcdef",
                "org:a/b_c.d", "source:seed-000"):
        fid = encode_id(gid)
        assert registry.entity.clean(fid) == fid
        assert decode_id(fid) == gid
    assert decode_id("NK-2iuHTtJv4gF5CU9TzAhDi8") is None
    assert decode_id("Q12345") is None


def test_export_writes_valid_entities(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "db" / "g.lbdb")
    try:
        load(store, _with_sanctions(tmp_path))
        out = tmp_path / "out" / "graph.ftm.jsonl"
        n = export_ftm(store, out, include_restricted=False)
    finally:
        store.close()
    lines = out.read_text(encoding="utf-8").splitlines()
    assert n == len(lines) > 0
    schemata = set()
    for line in lines:
        data = json.loads(line)
        proxy = model.get_proxy(data)  # raises on an unknown schema
        schemata.add(proxy.schema.name)
        assert proxy.id == data["id"]
    assert {"Person", "Sanction", "Document", "Occupancy", "Position"} <= schemata
    assert schemata & {"PublicBody", "Organization"}
    sanctioned = [json.loads(l) for l in lines if '"person.zzyzx-judge-alpha"' in l
                  and '"Person"' in l]
    assert sanctioned and sanctioned[0]["properties"]["topics"] == ["sanction"]


def test_restricted_records_are_withheld_unless_asked(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "db" / "g.lbdb")
    try:
        load(store, _with_sanctions(tmp_path))
        public = {e.id for e in build_entities(store, include_restricted=False)}
        full = {e.id for e in build_entities(store, include_restricted=True)}
        public_text = json.dumps([e.to_dict() for e in build_entities(
            store, include_restricted=False)])
    finally:
        store.close()
    assert encode_id(RESTRICTED_PERSON) not in public
    assert encode_id(RESTRICTED_PERSON) in full
    assert "witness-delta" not in public_text and "testimony-delta" not in public_text


def test_round_trip_into_an_empty_database(tmp_path: Path) -> None:
    first = EmbeddedStore(tmp_path / "a" / "g.lbdb")
    out = tmp_path / "graph.ftm.jsonl"
    try:
        load(first, _with_sanctions(tmp_path))
        export_ftm(first, out, include_restricted=True)
        before = _people_orgs_sanctions(first)
    finally:
        first.close()
    second = EmbeddedStore(tmp_path / "b" / "g.lbdb")
    try:
        report = ingest_path(second, "ftm", out)
        assert not report.rejected, [str(p) for p in report.rejected]
        after = _people_orgs_sanctions(second)
        again = ingest_path(second, "ftm", out)  # re-ingest: a no-op
        assert not again.written and again.total("added") == again.total("updated") == 0
        hidden = second.execute("MATCH (p:Person) WHERE p.restricted RETURN p.id AS id")
        assert [r["id"] for r in hidden] == [RESTRICTED_PERSON]  # restricted stays restricted
    finally:
        second.close()
    assert before["Sanction"] and before["TARGETS"] and before["HOLDS"]
    for key in before:
        assert after[key] == before[key], key

