"""Canada's consolidated autonomous sanctions list reader: synthetic records (artificial
names), then the real 2020-04-15 list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from ingest.formats import ingest_path
from ingest.sema_xml import bilingual, read_sema, split_aliases

SEMA_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<data-set>
  <record>
    <Country>Iran</Country>
    <Entity>Testland Prison One/Prison un de Testland</Entity>
    <Aliases>Zzyzx Holding Co., Ltd., Zzyzx Test Limited</Aliases>
    <Schedule>1</Schedule><Item>901</Item>
  </record>
  <record>
    <Country>Burma / Birmanie</Country>
    <LastName>Testperson</LastName><GivenName>Zzyzx\u00a0</GivenName>
    <DateOfBirth>1961-06-28</DateOfBirth><Title>Brigadier General</Title>
    <Schedule>2</Schedule><Item>902</Item>
  </record>
  <record>
    <Country>Justice for Victims of Corrupt Foreign Officials Regulations (JVCFOR) / Règlement (RJVDEC)</Country>
    <LastName>Testperson-Gamma</LastName><GivenName>Zzyzx</GivenName>
    <DateOfBirth>circa 1970</DateOfBirth>
    <Item>903</Item>
  </record>
  <record>
    <Country>Iran</Country>
    <Schedule>2</Schedule><Item>904</Item>
  </record>
</data-set>
"""


def write_sema(path: Path) -> Path:
    path.write_text(SEMA_XML, encoding="utf-8")
    return path


def test_bilingual_and_aliases() -> None:
    assert bilingual("Burma / Birmanie") == ("Burma", "Birmanie")
    assert bilingual("A/B/C") == ("A/B/C", None)
    assert split_aliases("Zzyzx Co., Ltd., Zzyzx Test Limited") == [
        "Zzyzx Co., Ltd.", "Zzyzx Test Limited"]


def test_reads_records(tmp_path: Path) -> None:
    bundle = read_sema(write_sema(tmp_path / "sema-lmes_2020-04-15.xml"))
    org = bundle.nodes["org:ca-sema-iran-1-901"].props
    assert org["name"] == "Testland Prison One" and org["kind"] == "prison"
    names = {e["name"]: e for e in json.loads(org["names"])}
    assert names["Prison un de Testland"]["lang"] == "fr"
    assert "Zzyzx Holding Co., Ltd." in org["aliases"]
    person = bundle.nodes["person:ca-sema-burma-2-902"].props
    assert person["name"] == "Zzyzx Testperson" and person["birth_date"] == "1961-06-28"
    assert "Title (per Canada): Brigadier General" in person["notes"]
    gamma = bundle.nodes["person:ca-sema-jvcfor-0-903"].props
    assert gamma["birth_date"] is None and "circa 1970" in gamma["notes"]
    sanction = bundle.nodes["sanction:ca-sema-burma-2-902"].props
    assert (sanction["authority"], sanction["programme"]) == ("CA", "Burma")
    assert bundle.nodes["sanction:ca-sema-jvcfor-0-903"].props["programme"] == "JVCFOR"
    assert [(p.line, p.field) for p in bundle.problems] == [("record 4 (item 904)", "LastName")]
    assert bundle.nodes[org["source_ids"][0]].props["date"] == "2020-04-15"


def test_ingest_and_reingest(tmp_path: Path, store: EmbeddedStore) -> None:
    path = write_sema(tmp_path / "sema.xml")
    first = ingest_path(store, "sema-xml", path)
    assert first.written and len(first.rejected) == 1
    again = ingest_path(store, "sema-xml", path)
    assert not again.written and again.total("added") == again.total("updated") == 0


@pytest.mark.shared_data
def test_real_sema_list(shared_data: Path) -> None:
    bundle = read_sema(shared_data / "canada" / "sema-lmes_2020-04-15.xml")
    assert bundle.problems == []
    persons = sum(1 for n in bundle.nodes.values() if n.kind == "Person")
    orgs = sum(1 for n in bundle.nodes.values() if n.kind == "Organization")
    assert (persons, orgs) == (985, 384)
    iran = [n for n in bundle.nodes.values()
            if n.kind == "Sanction" and n.props["programme"] == "Iran"]
    assert len(iran) == 202
