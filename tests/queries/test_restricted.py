"""Restricted records are invisible to public and researcher callers in every method, and
SAME_AS records carry their sanctions over to the entity asked about. Synthetic data only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from graph.embedded import EmbeddedStore
from queries.errors import NotFound
from queries.service import GraphQueries
from tests.queries.synth import build

S = "source:synthetic-a"
RESTRICTED = ("person:zzyzx-victim", "person:zzyzx-witness", "org:testland-secret-site",
              "person:zzyzx-hidden-guard")

NODES = [
    ("Organization", {"id": "org:testland-judiciary", "name": "Testland Judiciary",
                      "kind": "judiciary", "source_ids": S}),
    ("Organization", {"id": "org:testland-court", "name": "Testland Court One", "kind": "court",
                      "source_ids": S}),
    ("Organization", {"id": "org:testland-secret-site", "name": "Testland Secret Site",
                      "kind": "detention_centre", "restricted": "true", "source_ids": S}),
    ("Position", {"id": "position:testland-head", "name": "Head of the Testland Judiciary",
                  "is_head": "true"}),
    ("Person", {"id": "person:zzyzx-chief", "name": "Zzyzx Chief-Beta", "source_ids": S}),
    ("Person", {"id": "person:ofac-zzyzx-chief-record", "name": "ZZYZX, Chief Beta",
                "source_ids": S}),
    ("Person", {"id": "person:zzyzx-judge", "name": "Zzyzx Judge-Alpha", "source_ids": S}),
    ("Person", {"id": "person:zzyzx-victim", "name": "Zzyzx Victim-Gamma", "restricted": "true",
                "source_ids": S}),
    ("Person", {"id": "person:zzyzx-witness", "name": "Zzyzx Witness-Delta",
                "restricted": "true", "source_ids": S}),
    ("Person", {"id": "person:zzyzx-hidden-guard", "name": "Zzyzx Guard-Epsilon",
                "restricted": "true", "source_ids": S}),
    ("Case", {"id": "case:testland-case", "name": "Testland Case One", "verdict_date": "2001-03"}),
    ("Incident", {"id": "incident:testland-execution", "name": "Testland Execution One",
                  "kind": "execution", "date": "2001-07-27"}),
    ("Sanction", {"id": "sanction:testland-ofac-1", "name": "OFAC listing TL-1",
                  "authority": "OFAC", "list_ref": "TL-OFAC-1", "listed": "2002-01-05",
                  "programme": "TESTLAND-HR"}),
]


def r(rtype: str, a: str, b: str, **kw: str) -> tuple[str, dict[str, str]]:
    return rtype, {"from": a, "to": b, "source_ids": S, **kw}


RELS = [
    r("PART_OF", "org:testland-court", "org:testland-judiciary", valid_from="1990"),
    r("PART_OF", "org:testland-secret-site", "org:testland-judiciary"),
    r("POSITION_IN", "position:testland-head", "org:testland-judiciary"),
    r("HOLDS", "person:zzyzx-chief", "position:testland-head", valid_from="2000",
      valid_to="open"),
    r("JUDGE_IN", "person:zzyzx-judge", "case:testland-case"),
    r("HEARD_BY", "case:testland-case", "org:testland-court"),
    r("VICTIM_OF", "person:zzyzx-victim", "incident:testland-execution"),
    r("DEFENDANT_IN", "person:zzyzx-victim", "case:testland-case"),
    r("RESULT_OF", "incident:testland-execution", "case:testland-case"),
    r("OCCURRED_AT", "incident:testland-execution", "org:testland-secret-site"),
    r("PERPETRATED_BY", "incident:testland-execution", "person:zzyzx-hidden-guard",
      role="direct"),
    r("MEMBER_OF", "person:zzyzx-witness", "org:testland-court", role="clerk"),
    r("TARGETS", "sanction:testland-ofac-1", "person:ofac-zzyzx-chief-record"),
    ("SAME_AS", {"from": "person:ofac-zzyzx-chief-record", "to": "person:zzyzx-chief",
                 "method": "reviewed", "judged_by": "test"}),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    s = EmbeddedStore(Path(tmp_path_factory.mktemp("restricted")) / "db")
    s.write(*build(NODES, RELS))
    yield s
    s.close()


def _text(model: BaseModel) -> str:
    return json.dumps(model.model_dump(mode="json"), ensure_ascii=False)


def public_answers(q: GraphQueries) -> list[BaseModel]:
    return [
        q.chain("org:testland-court", "2001-07"),
        q.chain("person:zzyzx-chief", "2001"),
        q.accountability("incident:testland-execution"),
        q.accountability("case:testland-case"),
        q.linked("org:testland-judiciary"),
        q.linked("org:testland-judiciary", "2001"),
        q.gaps("EU"),
        q.gaps("OFAC"),
        q.search("Zzyzx"),
        q.search("Testland"),
        q.paths("person:zzyzx-judge", "person:zzyzx-chief"),
        q.paths("org:testland-court", "incident:testland-execution"),
        q.timeline("incident:testland-execution"),
        q.timeline("org:testland-judiciary"),
        q.profile("org:testland-judiciary"),
        q.profile("incident:testland-execution"),
        q.neighbourhood("org:testland-judiciary", depth=3),
        q.neighbourhood("incident:testland-execution", depth=2),
        q.analytics("degree", limit=100),
        q.analytics("betweenness", limit=100),
        q.analytics("communities", limit=100),
        q.analytics("brokers", group_a=["org:testland-court"],
                    group_b=["org:testland-judiciary"], limit=100),
    ]


def test_restricted_records_never_reach_public_callers(store: EmbeddedStore) -> None:
    public = GraphQueries(store, include_restricted=False)
    for ans in public_answers(public):
        text = _text(ans)
        for rid in RESTRICTED:
            assert rid not in text, (type(ans).__name__, rid)
        assert "Victim-Gamma" not in text and "Secret Site" not in text


def test_privileged_callers_see_them(store: EmbeddedStore) -> None:
    full = GraphQueries(store)
    text = " ".join(_text(a) for a in public_answers(full))
    for rid in RESTRICTED:
        assert rid in text


def test_restricted_id_is_not_found_like_an_unknown_one(store: EmbeddedStore) -> None:
    public = GraphQueries(store, include_restricted=False)
    for rid in RESTRICTED:
        with pytest.raises(NotFound) as exc:
            public.resolve(rid)
        with pytest.raises(NotFound) as unknown:
            public.resolve(rid + "-unknown")
        assert str(exc.value).replace(rid, "X") == str(unknown.value).replace(rid + "-unknown", "X")
        with pytest.raises(NotFound):
            public.profile(rid)
        with pytest.raises(NotFound):
            public.paths(rid, "person:zzyzx-chief")
    with pytest.raises(NotFound):
        public.resolve("Zzyzx Victim-Gamma")  # nor found by name
    assert GraphQueries(store).resolve("Zzyzx Victim-Gamma").id == "person:zzyzx-victim"


def test_counts_exclude_restricted(store: EmbeddedStore) -> None:
    full = GraphQueries(store).analytics("degree")
    public = GraphQueries(store, include_restricted=False).analytics("degree")
    assert full.nodes - public.nodes == 4
    assert public.edges < full.edges


def test_same_as_carries_sanctions_with_via(store: EmbeddedStore) -> None:
    q = GraphQueries(store)
    prof = q.profile("person:zzyzx-chief")
    (ofac,) = prof.sanctions["OFAC"]
    assert ofac.id == "sanction:testland-ofac-1"
    assert ofac.via == "person:ofac-zzyzx-chief-record" and ofac.active
    assert ofac.sources and ofac.sources[0].id == S
    assert [s.other.id for s in prof.same_as] == [
        "person:ofac-zzyzx-chief-record"]
    linked = q.linked("org:testland-judiciary", "2001")
    chief = next(o for o in linked.officials if o.person.id == "person:zzyzx-chief")
    assert chief.sanctioned_by == ["OFAC"]
    assert chief.posts[0].status == "dates_unknown"  # POSITION_IN has no dates
    gaps_ofac = {g.person.id for g in q.gaps("OFAC").gaps}
    gaps_eu = {g.person.id: g for g in q.gaps("eu").gaps}
    assert "person:zzyzx-chief" not in gaps_ofac
    assert "person:zzyzx-chief" in gaps_eu
    assert "OFAC" in gaps_eu["person:zzyzx-chief"].other_sanctions
    assert "person:zzyzx-judge" in gaps_eu
    acc = q.accountability("incident:testland-execution")
    chief_actor = next(a for a in acc.actors if a.entity.id == "person:zzyzx-chief")
    assert chief_actor.role == "superior" and "OFAC" in chief_actor.sanctions
    assert chief_actor.at == "2001-07-27"
