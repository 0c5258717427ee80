"""Every JSON endpoint over the real store: answers carry their evidence, bad input is 4xx."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_problem

JUDGE = "person:zzyzx-judge-alpha"
VICTIM = "person:zzyzx-victim-gamma"
JUDICIARY = "org:testland-judiciary"


def test_search_across_scripts(public) -> None:  # type: ignore[no-untyped-def]
    r = public.get("/search", params={"q": "Zzyzx Judge Alpha"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    hits = r.json()["hits"]
    assert hits[0]["entity"]["id"] == JUDGE and hits[0]["score"] > 90
    persian = public.get("/search", params={"q": "زیزیکس قاضی"}).json()["hits"]
    assert persian and persian[0]["entity"]["id"] == JUDGE
    only_orgs = public.get("/search", params={"q": "Testland", "kind": "Organization"}).json()
    assert only_orgs["hits"] and {h["entity"]["kind"] for h in only_orgs["hits"]} == {
        "Organization"}
    assert public.get("/search", params={"q": "Nothing Like This Name"}).json()["hits"] == []


def test_profile_shows_names_posts_cases_sanctions_sources(public) -> None:  # type: ignore[no-untyped-def]
    p = public.get(f"/entities/{JUDGE}").json()
    assert p["entity"] == {"id": JUDGE, "kind": "Person", "name": "Zzyzx Judge-Alpha",
                           "subtype": None, "date": None}
    assert "زیزیکس قاضی" in {n["name"] for n in p["names"]}
    post = p["posts"][0]
    assert post["holds"]["valid_from"] == "2015" and post["holds"]["valid_to"] == "2021"
    assert post["holds"]["sources"][0]["title"].startswith("Synthetic Report One")
    assert p["cases"][0]["other"]["id"] == "case:testland-0001"
    assert p["sanctions"]["EU"][0]["listed"] == "2021-04"
    by_name = public.get("/entities/Zzyzx Judge-Alpha").json()
    assert by_name["entity"]["id"] == JUDGE


def test_chain_at_a_date(public) -> None:  # type: ignore[no-untyped-def]
    c = public.get(f"/entities/{JUDGE}/chain", params={"at": "2020-01-15"}).json()
    assert c["at"] == "2020-01-15"
    assert c["posts"][0]["organization"]["id"] == "org:testland-court-one"
    orgs = {o["organization"]["id"]: o for o in c["organizations"]}
    assert JUDICIARY in orgs
    heads = orgs[JUDICIARY]["heads"]
    assert heads and heads[0]["person"]["id"] == "person:zzyzx-chief-beta"
    assert heads[0]["holds"]["source_ids"] == ["source:synthetic-report-1"]
    before = public.get(f"/entities/{JUDGE}/chain", params={"at": "2010"}).json()
    assert before["posts"] == []


@pytest.mark.parametrize("at", ["2020-13", "yesterday", "2020-02-30", "'; DROP", "0000"])
def test_bad_dates_are_422(public, at: str) -> None:  # type: ignore[no-untyped-def]
    body = assert_problem(public.get(f"/entities/{JUDGE}/chain", params={"at": at}), 422)
    assert body["field"] == "at"
    assert_problem(public.get(f"/entities/{JUDICIARY}/linked", params={"at": at}), 422)
    assert_problem(public.get("/paths", params={"from": JUDGE, "to": VICTIM, "at": at}), 422)
    assert_problem(public.get(f"/graph/{JUDGE}", params={"at": at}), 422)


def test_chain_needs_a_date(public) -> None:  # type: ignore[no-untyped-def]
    assert_problem(public.get(f"/entities/{JUDGE}/chain"), 422)


def test_accountability_lists_actors_with_paths_and_sources(public) -> None:  # type: ignore[no-untyped-def]
    a = public.get(f"/entities/{VICTIM}/accountability").json()
    assert a["acts"][0]["act"]["id"] == "incident:execution-zzyzx-victim-gamma"
    actors = {(x["entity"]["id"], x["role"]) for x in a["actors"]}
    assert (JUDGE, "judicial") in actors
    judge = next(x for x in a["actors"] if x["entity"]["id"] == JUDGE)
    assert judge["path"] and all(c["source_ids"] for c in judge["path"])
    assert judge["sanctions"]["EU"]


def test_linked_officials_and_gaps(public) -> None:  # type: ignore[no-untyped-def]
    linked = public.get(f"/entities/{JUDICIARY}/linked").json()
    people = {o["person"]["id"]: o for o in linked["officials"]}
    assert JUDGE in people and people[JUDGE]["sanctioned_by"] == ["EU"]
    at = public.get(f"/entities/{JUDICIARY}/linked", params={"at": "2014"}).json()
    assert JUDGE not in {o["person"]["id"] for o in at["officials"]}
    gaps = public.get("/sanctions/gaps", params={"authority": "EU"}).json()
    assert gaps["authority"] == "EU"
    ids = {g["person"]["id"] for g in gaps["gaps"]}
    assert JUDGE not in ids and "person:zzyzx-chief-beta" in ids
    ofac = public.get("/sanctions/gaps", params={"authority": "OFAC", "limit": 1}).json()
    assert len(ofac["gaps"]) <= 1 and ofac["total"] >= len(ofac["gaps"])


def test_timeline(public) -> None:  # type: ignore[no-untyped-def]
    t = public.get(f"/entities/{JUDGE}/timeline").json()
    dates = [e["date"] for e in t["events"]]
    assert "2015" in dates and dates == sorted(dates)


def test_paths(public) -> None:  # type: ignore[no-untyped-def]
    p = public.get("/paths", params={"from": JUDGE, "to": VICTIM}).json()
    assert p["length"] and p["paths"]
    first = p["paths"][0]
    assert first["nodes"][0]["id"] == JUDGE and first["nodes"][-1]["id"] == VICTIM
    assert all(c["sources"] for c in first["claims"])
    assert_problem(public.get("/paths", params={"from": JUDGE, "to": "person:nobody"}), 404)
    assert_problem(public.get("/paths", params={"from": JUDGE, "to": VICTIM, "max_len": 99}),
                   422)


@pytest.mark.parametrize("measure", ["degree", "betweenness", "communities"])
def test_analytics(public, measure: str) -> None:  # type: ignore[no-untyped-def]
    a = public.get(f"/analytics/{measure}", params={"kind": ["Person", "Organization"]}).json()
    assert a["measure"] == measure and a["nodes"] > 0
    assert a["ranking"] or a["communities"]


def test_analytics_brokers_and_errors(public) -> None:  # type: ignore[no-untyped-def]
    b = public.get("/analytics/brokers", params={"group_a": "org:testland-court-one",
                                                 "group_b": "org:testland-prison-one"}).json()
    assert JUDICIARY in {x["entity"]["id"] for x in b["ranking"]}
    assert "degree" in assert_problem(public.get("/analytics/popularity"), 422)["detail"]
    assert_problem(public.get("/analytics/brokers"), 422)
    assert_problem(public.get("/analytics/degree", params={"kind": "Nope"}), 422)


def test_unknown_id_is_404_and_ambiguous_name_is_409(public) -> None:  # type: ignore[no-untyped-def]
    for path in ("/entities/{}", "/entities/{}/chain?at=2020", "/entities/{}/accountability",
                 "/entities/{}/timeline", "/graph/{}"):
        body = assert_problem(public.get(path.format("person:no-such-person")), 404)
        assert body["ref"] == "person:no-such-person"
        body = assert_problem(public.get(path.format("Zzyzx Twin")), 409)
        assert {c["id"] for c in body["candidates"]} == {"person:zzyzx-twin-1",
                                                         "person:zzyzx-twin-2"}


def test_wrong_kind_for_question_is_4xx(public) -> None:  # type: ignore[no-untyped-def]
    assert public.get(f"/entities/{JUDGE}/linked").status_code in (404, 422)
    assert_problem(public.get("/entities/person:no-such-person/linked"), 404)
