"""The dossier: every statement footnoted with its sources, the post dates, the sanctions
status, a chain picture, a verifiable record of production; PDF produced; restricted
records absent from public dossiers."""

from __future__ import annotations

import hashlib
import html as htmllib
import json
import re
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from exports.dossier import DossierError, build_view, canonical_json, export_dossier, render_html
from graph.embedded import EmbeddedStore

from .conftest import FIXTURE, RESTRICTED_PERSON, RESTRICTED_SOURCE, load, with_restricted

VICTIM = "person:zzyzx-victim-gamma"
JUDGE = "person:zzyzx-judge-alpha"
CHIEF = "person:zzyzx-chief-beta"
PROSECUTOR = "person:zzyzx-prosecutor-epsilon"


def _dossier_folder(tmp: Path, base: Path) -> Path:
    """The fixture plus an OFAC designation of the judge and an unsourced prosecutor claim."""
    folder = tmp / "dossier_fixture"
    shutil.copytree(base, folder)
    (folder / "Sanction.csv").write_text(
        "id,name,authority,programme,list_ref,listed,source_ids\n"
        "sanction:ofac-synthetic-1,OFAC designation of Zzyzx Judge-Alpha,OFAC,SYNTHETIC-HR,"
        "SYN-0001,2021-05,source:synthetic-report-1\n", encoding="utf-8")
    (folder / "TARGETS.csv").write_text(
        "from,to,confidence,source_ids\n"
        f"sanction:ofac-synthetic-1,{JUDGE},high,source:synthetic-report-1\n", encoding="utf-8")
    (folder / "Person.jsonl").write_text(
        ((folder / "Person.jsonl").read_text(encoding="utf-8")
         if (folder / "Person.jsonl").exists() else "")
        + json.dumps({"id": PROSECUTOR, "name": "Zzyzx Prosecutor-Epsilon",
                      "source_ids": ["source:synthetic-report-1"]}) + "\n", encoding="utf-8")
    (folder / "PROSECUTOR_IN.csv").write_text(
        f"from,to,confidence\n{PROSECUTOR},case:testland-0001,low\n", encoding="utf-8")
    return folder


@pytest.fixture
def dossier_store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(tmp_path / "db" / "graph.lbdb")
    load(store, _dossier_folder(tmp_path, with_restricted(tmp_path)))
    yield store
    store.close()


def _text(html: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", html))


def _embedded(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="dossier-data">(.*?)</script>', html,
                  re.DOTALL)
    assert m
    return json.loads(m.group(1))


def test_accountability_dossier_footnotes_every_statement(dossier_store: EmbeddedStore,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "victim.html"
    report = export_dossier(dossier_store, out, VICTIM)
    html = out.read_text(encoding="utf-8")
    view = build_view(dossier_store, VICTIM)
    assert report["kind"] == "accountability" and report["statements"] == len(view.statements)
    # one footnote per statement, each with its sources (or a visible UNSOURCED mark)
    items = re.findall(r'<li id="s(\d+)" class="statement">(.*?)</li>', html, re.DOTALL)
    assert [int(n) for n, _ in items] == list(range(1, len(view.statements) + 1))
    claim_ids = set()
    for (n, body), st in zip(items, view.statements):
        claim_ids.add(st["claim"]["id"])
        if st["unsourced"]:
            assert "UNSOURCED" in body
        else:
            assert st["source_nos"]
            for no in st["source_nos"]:
                src = view.sources[no - 1]
                assert f"Source [S{no}]" in body
                assert src["title"]
                for key in ("title", "publisher", "date", "reference"):
                    if src.get(key):
                        assert htmllib.escape(src[key], quote=False) in body, (key, body)
    # every claim of the answer is a statement, and every mark points at one
    answer = _embedded(html)["answer"]
    in_answer = {c["id"] for act in answer["acts"] for c in act["path"]}
    in_answer |= {c["id"] for a in answer["actors"] for c in a["path"]}
    assert in_answer == claim_ids
    marks = {int(m) for m in re.findall(r'<a href="#s(\d+)">', html)}
    assert marks and marks <= set(range(1, len(items) + 1))
    text = _text(html)
    assert "Execution of Zzyzx Victim-Gamma" in text and "2020-01-15" in text
    assert "Zzyzx Judge-Alpha" in text and "Zzyzx Chief-Beta" in text
    # the unsourced prosecutor claim is marked, not shown as fact
    prosecutor = next(s for s in view.statements if s["claim"]["type"] == "PROSECUTOR_IN")
    assert prosecutor["unsourced"]
    assert re.search(rf'<li id="s{prosecutor["no"]}" class="statement">.*?UNSOURCED', html, re.DOTALL)
    # post dates of the superior, dates_unknown marked
    assert "from 2018-03, still holding when the source was written" in text
    assert "DATES UNKNOWN" in text


def test_dossier_shows_sanctions_status(dossier_store: EmbeddedStore, tmp_path: Path) -> None:
    html = render_html(build_view(dossier_store, VICTIM))
    judge_block = html[html.index("Zzyzx Judge-Alpha</span> <span class=\"id\">(Person"):]
    judge_block = judge_block[: judge_block.index("</table>")]
    assert "OFAC" in judge_block and "listed" in judge_block
    assert "SYNTHETIC-HR" in judge_block and "2021-05" in judge_block
    assert "none recorded" in judge_block  # EU, UK... hold nothing for the judge
    assert "Sanctions status" in html


def test_record_of_production_is_verifiable(dossier_store: EmbeddedStore, tmp_path: Path) -> None:
    out = tmp_path / "victim.html"
    export_dossier(dossier_store, out, VICTIM)
    html = out.read_text(encoding="utf-8")
    data = _embedded(html)
    digest = hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()
    assert digest in html
    assert data["question"] == {"kind": "accountability", "ref": VICTIM, "entity": VICTIM,
                                "at": None}
    text = _text(html)
    assert "Produced (UTC)" in text and re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", text)
    assert str(dossier_store.path) in text
    assert "accountability-graph" in text
    # self-contained: no script to run, nothing to fetch
    assert "<script" in html and html.count("<script") == 1
    assert not re.search(r'(src|href)="(https?:|//|file:)', html)
    assert "<svg" in html and "Zzyzx Victim-Gamma" in html[html.index("<svg"):]


def test_chain_dossier_at_a_date(dossier_store: EmbeddedStore, tmp_path: Path) -> None:
    out = tmp_path / "chain.html"
    report = export_dossier(dossier_store, out, JUDGE, "2020-01-15")
    assert report["kind"] == "chain"
    html = out.read_text(encoding="utf-8")
    text = _text(html)
    assert "Chain of command of Zzyzx Judge-Alpha on 2020-01-15" in text
    assert "Judge, Testland Court One" in text and "from 2015, to 2021" in text
    assert "Head of the Testland Judiciary" in text
    assert "from 2018-03, still holding" in text
    assert "Testland Judiciary" in text and "<svg" in html
    # sanctions per person on the chain: the judge is listed by OFAC
    sanctions = html[html.index('id="sanctions"'):html.index('id="statements"')]
    assert "OFAC" in sanctions and "SYNTHETIC-HR" in sanctions and "none recorded" in sanctions
    assert len(re.findall(r'<li id="s\d+" class="statement">', html)) == report["statements"]


def test_dossier_needs_a_fitting_entity(dossier_store: EmbeddedStore, tmp_path: Path) -> None:
    with pytest.raises(DossierError):
        export_dossier(dossier_store, tmp_path / "x.html", "org:testland-court-one")
    with pytest.raises(DossierError):
        export_dossier(dossier_store, tmp_path / "x.txt", VICTIM)


def test_pdf_is_produced(dossier_store: EmbeddedStore, tmp_path: Path) -> None:
    out = tmp_path / "victim.pdf"
    export_dossier(dossier_store, out, VICTIM)
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 5000
    streams = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            streams.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    assert any(b"dossier-data.json" in s for s in streams)
    # the attached answer data hashes to the sha256 the dossier prints
    attached = [s for s in streams if s.startswith(b'{"answer":')]
    assert len(attached) == 1
    digest = hashlib.sha256(attached[0]).hexdigest()
    assert digest == hashlib.sha256(canonical_json(json.loads(attached[0])).encode()).hexdigest()
    assert digest == build_view(dossier_store, VICTIM).produced["answer_sha256"]


def test_public_dossier_has_no_restricted_record(dossier_store: EmbeddedStore,
                                                 tmp_path: Path) -> None:
    full = render_html(build_view(dossier_store, VICTIM, include_restricted=True))
    public = render_html(build_view(dossier_store, VICTIM, include_restricted=False))
    assert RESTRICTED_SOURCE in full and "Synthetic Testimony Delta" in full
    for secret in (RESTRICTED_SOURCE, "Synthetic Testimony Delta", RESTRICTED_PERSON,
                   "Witness-Delta"):
        assert secret not in public
    assert "Restricted records" in public and "excluded" in public
    from queries.errors import NotFound

    with pytest.raises(NotFound):
        build_view(dossier_store, RESTRICTED_PERSON, "2020-01-01", include_restricted=False)
    assert FIXTURE.exists()
