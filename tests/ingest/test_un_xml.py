"""The UN Security Council consolidated list reader: a synthetic list (artificial names)
with every element the reader uses, then the real 2026-02-27 list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from ingest.formats import ingest_path
from ingest.un_xml import read_un

UN_XML = """<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2025-03-04T00:00:01.000Z">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <DATAID>1</DATAID>
      <FIRST_NAME>ZZYZX</FIRST_NAME><SECOND_NAME>TESTPERSON</SECOND_NAME>
      <THIRD_NAME>ALPHA</THIRD_NAME>
      <UN_LIST_TYPE>Iran</UN_LIST_TYPE>
      <REFERENCE_NUMBER>IRi.901</REFERENCE_NUMBER>
      <LISTED_ON>2010-06-09</LISTED_ON>
      <NAME_ORIGINAL_SCRIPT>زیزکس تست</NAME_ORIGINAL_SCRIPT>
      <GENDER>Male</GENDER>
      <COMMENTS1>Synthetic test record.</COMMENTS1>
      <DESIGNATION><VALUE>Head of the Testland Agency</VALUE></DESIGNATION>
      <NATIONALITY><VALUE>Iran (Islamic Republic of)</VALUE></NATIONALITY>
      <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Zzyzx Testpersson</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>Abu Test</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_ADDRESS><CITY>Testville</CITY><COUNTRY>Testland</COUNTRY></INDIVIDUAL_ADDRESS>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>APPROXIMATELY</TYPE_OF_DATE><YEAR>1955</YEAR></INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_PLACE_OF_BIRTH><CITY>Testville</CITY><COUNTRY>Testland</COUNTRY></INDIVIDUAL_PLACE_OF_BIRTH>
      <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER>T0001</NUMBER></INDIVIDUAL_DOCUMENT>
    </INDIVIDUAL>
    <INDIVIDUAL>
      <DATAID>2</DATAID>
      <FIRST_NAME>ZZYZX</FIRST_NAME><SECOND_NAME>TESTPERSON-BETA</SECOND_NAME>
      <UN_LIST_TYPE>Iran</UN_LIST_TYPE>
      <REFERENCE_NUMBER>IRi.902</REFERENCE_NUMBER>
      <LISTED_ON>2012-01-01</LISTED_ON>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1961-02-03</DATE></INDIVIDUAL_DATE_OF_BIRTH>
    </INDIVIDUAL>
    <INDIVIDUAL>
      <DATAID>3</DATAID>
      <FIRST_NAME>NO REFERENCE</FIRST_NAME>
      <UN_LIST_TYPE>Iran</UN_LIST_TYPE>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES>
    <ENTITY>
      <DATAID>4</DATAID>
      <FIRST_NAME>TESTLAND PRISON ONE</FIRST_NAME>
      <UN_LIST_TYPE>Iran</UN_LIST_TYPE>
      <REFERENCE_NUMBER>IRe.901</REFERENCE_NUMBER>
      <LISTED_ON>2008-03-03</LISTED_ON>
      <ENTITY_ALIAS><QUALITY>a.k.a.</QUALITY><ALIAS_NAME>TPO</ALIAS_NAME></ENTITY_ALIAS>
      <ENTITY_ADDRESS><CITY>Testville</CITY><COUNTRY>Testland</COUNTRY></ENTITY_ADDRESS>
    </ENTITY>
  </ENTITIES>
</CONSOLIDATED_LIST>
"""


def write_un(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(UN_XML, encoding="utf-8")
    return path


def test_reads_individuals_entities_and_sanctions(tmp_path: Path) -> None:
    bundle = read_un(write_un(tmp_path / "consolidated.xml"))
    person = bundle.nodes["person:un-iri-901"].props
    assert person["name"] == "ZZYZX TESTPERSON ALPHA"
    names = {e["name"]: e for e in json.loads(person["names"])}
    assert names["زیزکس تست"]["script"] == "Arab"
    assert names["Abu Test"]["confidence"] == "low"
    assert person["gender"] == "male" and person["nationality"] == ["Iran (Islamic Republic of)"]
    assert person["birth_date"] is None
    assert "Date of birth (as listed): circa 1955" in person["notes"]
    assert "Designation (per UN): Head of the Testland Agency" in person["notes"]
    assert "Document: Passport T0001" in person["notes"]
    assert bundle.nodes["person:un-iri-902"].props["birth_date"] == "1961-02-03"
    sanction = bundle.nodes["sanction:un-iri-901"].props
    assert (sanction["authority"], sanction["programme"], sanction["list_ref"],
            sanction["listed"]) == ("UN", "Iran", "IRi.901", "2010-06-09")
    targets = [r for r in bundle.rels.values() if r.to_id == "person:un-iri-901"]
    assert targets[0].props["valid_from"] == "2010-06-09"
    org = bundle.nodes["org:un-ire-901"].props
    assert org["kind"] == "prison" and org["aliases"] == ["TPO"]
    source = bundle.nodes[person["source_ids"][0]].props
    assert source["date"] == "2025-03-04" and source["publisher"].startswith("United Nations")
    assert [(p.line, p.field) for p in bundle.problems] == [("3", "REFERENCE_NUMBER")]


def test_not_a_un_list(tmp_path: Path) -> None:
    bad = tmp_path / "other.xml"
    bad.write_text("<data-set/>", encoding="utf-8")
    assert "not <CONSOLIDATED_LIST>" in read_un(bad).problems[0].reason
    broken = tmp_path / "broken.xml"
    broken.write_text("<CONSOLIDATED_LIST><INDIVIDUALS>", encoding="utf-8")
    assert "not a readable XML file" in read_un(broken).problems[0].reason
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
                    "<CONSOLIDATED_LIST>&a;</CONSOLIDATED_LIST>", encoding="utf-8")
    assert read_un(bomb).problems  # entities are refused (defusedxml)


def test_ingest_and_reingest(tmp_path: Path, store: EmbeddedStore) -> None:
    path = write_un(tmp_path / "consolidated.xml")
    first = ingest_path(store, "un-xml", path)
    assert first.written and len(first.rejected) == 1
    assert first.counts["Sanction"]["added"] == 3
    again = ingest_path(store, "un-xml", path)
    assert not again.written and again.total("added") == again.total("updated") == 0


@pytest.mark.shared_data
def test_real_un_list(shared_data: Path) -> None:
    bundle = read_un(shared_data / "un" / "UN_consolidated_2026-02-27.xml")
    assert bundle.problems == []
    kinds: dict[str, int] = {}
    for node in bundle.nodes.values():
        kinds[node.kind] = kinds.get(node.kind, 0) + 1
    assert kinds["Person"] == 730 and kinds["Organization"] == 273
    iran = [n for n in bundle.nodes.values()
            if n.kind == "Sanction" and n.props["programme"] == "Iran"]
    assert len(iran) == 121
    src = next(n for n in bundle.nodes.values() if n.kind == "Source").props
    assert src["date"] == "2026-02-27"
