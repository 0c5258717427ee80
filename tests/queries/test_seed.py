"""The questions of issue #3 on the seed-facts graph (real facts from the five NGO
statements): what a lawyer, a sanctions advocate and a researcher would ask first."""

from __future__ import annotations

import pytest

from graph.embedded import EmbeddedStore
from queries.errors import Ambiguous, BadParameter, NotFound
from queries.service import GraphQueries

HEAD = "person:mohseni-ejei-gholamhossein"
JUDICIARY = "org:judiciary-of-iran"
TRC = "org:tehran-revolutionary-court"


@pytest.fixture(scope="module")
def q(seed_store: EmbeddedStore) -> GraphQueries:
    return GraphQueries(seed_store)


def test_chain_above_tehran_revolutionary_court_names_head_with_letter(q: GraphQueries) -> None:
    ans = q.chain(TRC, "2026-01")
    orgs = {o.organization.id: o for o in ans.organizations}
    assert orgs[TRC].level == 0
    assert [l.parent.id for l in orgs[TRC].parents] == [JUDICIARY]
    assert orgs[JUDICIARY].level == 1
    assert ans.top == [JUDICIARY]
    (head,) = orgs[JUDICIARY].heads
    assert head.person.id == HEAD
    assert head.position.id == "position:head-of-the-judiciary"
    # the HOLDS claim has no dates: kept, marked, with the letter's date as attestation
    assert head.holds.status == "dates_unknown"
    assert head.status == "dates_unknown"
    assert "2026-01-16" in head.holds.attested
    letter = [s for s in head.holds.sources if s.id == "source:seed-003"]
    assert letter and letter[0].date == "2026-01-16" and letter[0].kind == "letter"
    assert letter[0].title and letter[0].reference
    # every step carries its dates, confidence and sources
    link = orgs[TRC].parents[0]
    assert link.status == "dates_unknown" and link.claim.confidence == "medium"
    assert link.claim.sources and not link.claim.unsourced
    assert ans.dates_unknown == 2


def test_chain_of_the_head_himself(q: GraphQueries) -> None:
    ans = q.chain("Mohseni Ejehi", "2026-01-16")
    assert ans.entity.id == HEAD
    (post,) = ans.posts
    assert post.organization.id == JUDICIARY and post.status == "dates_unknown"


def test_accountability_for_executed_man_names_courts_and_prison(q: GraphQueries) -> None:
    ans = q.accountability("person:behrouz-ehsani")
    act = "incident:execution-behrouz-ehsani-2025-07-27"
    assert act in {a.act.id for a in ans.acts}
    execution = next(a for a in ans.acts if a.act.id == act)
    assert execution.date == "2025-07-27"
    assert [v.id for v in execution.victims] == ["person:behrouz-ehsani"]
    by = {(a.entity.id, a.detail): a for a in ans.actors if a.act_id == act}
    trial = by[(TRC, "trial court")]
    upheld = by[("org:supreme-court-of-iran", "upheld the sentence")]
    prison = by[("org:qezel-hesar-prison", "place of execution")]
    assert trial.role == upheld.role == "judicial"
    assert prison.role == "custodial"
    for actor in (trial, upheld, prison):
        # the statement that reports it is cited on every step of the path
        assert actor.path
        for claim in actor.path:
            assert "source:seed-004" in [s.id for s in claim.sources]
        assert "source:seed-004" in [s.id for s in actor.sources]
    assert [c.type for c in trial.path] == ["RESULT_OF", "HEARD_BY"]
    assert [c.type for c in upheld.path] == ["RESULT_OF", "UPHELD_BY"]
    assert [c.type for c in prison.path] == ["OCCURRED_AT"]
    # above the courts, at the date of the act: the Judiciary and its head (undecided dates)
    head = [a for a in ans.actors if a.act_id == act and a.entity.id == HEAD]
    assert head and head[0].role == "superior" and head[0].status == "dates_unknown"
    assert head[0].at == "2025-07-27"
    inst = [a for a in ans.actors if a.act_id == act and a.entity.id == JUDICIARY]
    assert inst and inst[0].role == "institutional"


def test_search_finds_head_across_scripts_and_spellings(q: GraphQueries) -> None:
    for text in ("محسني اژه اي", "محسنی اژه‌ای", "Mohseni Ejehi", "Mohseni-Ejei", "Mohseni Eje'i",
                 "Mohseni Ezhei", "Gholam-Hossein Mohseni", "Gholamhossein"):
        hits = q.search(text, kinds=["Person"]).hits
        assert hits and hits[0].entity.id == HEAD, text
        assert hits[0].score >= 90
    top = q.search("محسني اژه اي").hits[0]  # Arabic yeh, a space for the joiner
    assert top.entity.id == HEAD and top.matched == "غلامحسین محسنی اژه‌ای"
    assert q.search("Mohseni Ejehi").hits[0].entity.id == HEAD


def test_linked_officials_of_the_judiciary(q: GraphQueries) -> None:
    ans = q.linked(JUDICIARY)
    assert {u.id for u in ans.units} >= {JUDICIARY, TRC, "org:supreme-court-of-iran"}
    assert [o.person.id for o in ans.officials] == [HEAD]
    assert set(ans.authorities) >= {"OFAC", "EU", "UK", "UN", "CA", "AU"}


def test_gaps_rank_the_head_of_the_judiciary_first(q: GraphQueries) -> None:
    ans = q.gaps("EU")
    assert ans.gaps[0].person.id == HEAD
    assert {r.role for r in ans.gaps[0].reasons} >= {"superior", "direct"}


def test_paths_timeline_profile_analytics(q: GraphQueries) -> None:
    p = q.paths("person:behrouz-ehsani", HEAD)
    assert p.length == 5 and p.paths
    assert all(c.sources for path in p.paths for c in path.claims)
    t = q.timeline("person:behrouz-ehsani")
    assert [e.date for e in t.events] == ["2022", "2025-07-27"]
    prof = q.profile(HEAD)
    assert {n.script for n in prof.names} == {"Latn", "Arab"}
    assert prof.posts[0].organization and prof.posts[0].organization.id == JUDICIARY
    assert q.analytics("degree", limit=3).ranking
    sub = q.neighbourhood(TRC)
    assert JUDICIARY in {n.id for n in sub.nodes}


def test_bad_references(q: GraphQueries) -> None:
    with pytest.raises(NotFound):
        q.chain("person:nobody-at-all", "2026")
    with pytest.raises(NotFound):
        q.chain("Zzyzx Nobody", "2026")
    with pytest.raises(Ambiguous) as exc:
        q.chain("Revolutionary Court", "2026")
    assert TRC in {c["id"] for c in exc.value.candidates}
    with pytest.raises(BadParameter):
        q.chain(TRC, "2026-13")
    with pytest.raises(BadParameter):
        q.chain(TRC, "soon")
    with pytest.raises(BadParameter):
        q.accountability(JUDICIARY)  # an organisation is not a victim, incident or case
    with pytest.raises(BadParameter):
        q.analytics("pagerank")
