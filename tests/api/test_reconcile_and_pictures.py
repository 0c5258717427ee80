"""The OpenRefine reconciliation service and the network pictures."""

from __future__ import annotations

import json
import re

from tests.api.helpers import assert_problem

JUDGE = "person:zzyzx-judge-alpha"


def test_manifest(public) -> None:  # type: ignore[no-untyped-def]
    m = public.get("/reconcile").json()
    assert m["versions"] and m["name"] and m["identifierSpace"] and m["schemaSpace"]
    assert {"id": "Person", "name": "Person"} in m["defaultTypes"]
    assert "{{id}}" in m["view"]["url"] and "{{id}}" in m["preview"]["url"]


def test_reconcile_batch_get_and_post(public) -> None:  # type: ignore[no-untyped-def]
    queries = {"q0": {"query": "Zzyzx Judge Alpha", "type": "Person", "limit": 3},
               "q1": {"query": "زیزیکس قاضی"},
               "q2": {"query": "Testland Court One", "type": ["Organization"]},
               "q3": {"query": "Nobody At All Here"},
               "q4": {"query": "Zzyzx Twin", "type": "Person"}}
    for resp in (public.get("/reconcile", params={"queries": json.dumps(queries)}),
                 public.post("/reconcile", data={"queries": json.dumps(queries)})):
        assert resp.status_code == 200, resp.text
        out = resp.json()
        assert set(out) == set(queries)
        top = out["q0"]["result"][0]
        assert top["id"] == JUDGE and top["match"] is True and top["score"] >= 95
        assert top["type"] == [{"id": "Person", "name": "Person"}]
        assert len(out["q0"]["result"]) <= 3
        assert out["q1"]["result"][0]["id"] == JUDGE
        assert out["q2"]["result"][0]["id"] == "org:testland-court-one"
        assert all(r["type"][0]["id"] == "Organization" for r in out["q2"]["result"])
        assert out["q3"]["result"] == []
        twins = out["q4"]["result"]
        assert len(twins) >= 2 and not any(r["match"] for r in twins)  # never auto-match a tie


def test_reconcile_single_query_form(public) -> None:  # type: ignore[no-untyped-def]
    r = public.get("/reconcile", params={"query": "Zzyzx Judge Alpha"}).json()
    assert r["result"][0]["id"] == JUDGE


def test_reconcile_preview(public) -> None:  # type: ignore[no-untyped-def]
    r = public.get("/reconcile/preview", params={"id": JUDGE})
    assert r.status_code == 200 and "Zzyzx Judge-Alpha" in r.text
    assert_problem(public.get("/reconcile/preview", params={"id": "person:nobody"}), 404)


def test_picture_is_offline_interactive_html(public) -> None:  # type: ignore[no-untyped-def]
    r = public.get(f"/graph/{JUDGE}", params={"depth": 2, "at": "2020-01-15"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "/static/vis/vis-network.min.js" in html
    assert not re.search(r'src="https?://', html) and "cdn" not in html.lower()
    data = json.loads(re.search(r'<script id="network-data" type="application/json">(.*?)'
                                r"</script>", html, re.DOTALL).group(1))  # type: ignore[union-attr]
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes[JUDGE]["shape"] == "dot" and nodes["org:testland-court-one"]["shape"] == "box"
    assert nodes[JUDGE]["color"] != nodes["case:testland-0001"]["color"]
    labels = [e["label"] for e in data["edges"]]
    assert any(lbl.startswith("HOLDS") and "2015–2021" in lbl for lbl in labels)
    assert all("sources:" in e["title"] for e in data["edges"])
    assert "/ui/entities/" in html  # a click opens the node's page
    js = public.get("/static/vis/vis-network.min.js")
    assert js.status_code == 200 and len(js.content) > 100_000


def test_picture_json_and_views(public) -> None:  # type: ignore[no-untyped-def]
    g = public.get(f"/graph/{JUDGE}", params={"format": "json"}).json()
    ids = {n["id"] for n in g["nodes"]}
    assert JUDGE in ids and "position:judge-testland-court-one" in ids
    assert all(e["source"] in ids and e["target"] in ids for e in g["edges"])
    chain = public.get(f"/graph/{JUDGE}", params={"view": "chain", "at": "2020-01-15",
                                                 "format": "json"}).json()
    assert "org:testland-judiciary" in {n["id"] for n in chain["nodes"]}
    assert any(e["label"].startswith("PART_OF") for e in chain["edges"])
    acc = public.get("/graph/person:zzyzx-victim-gamma",
                     params={"view": "accountability", "format": "json"}).json()
    assert JUDGE in {n["id"] for n in acc["nodes"]}
    assert_problem(public.get(f"/graph/{JUDGE}", params={"view": "chain"}), 422)
    assert_problem(public.get(f"/graph/{JUDGE}", params={"view": "galaxy"}), 422)
    assert_problem(public.get(f"/graph/{JUDGE}", params={"depth": 9}), 422)
    small = public.get("/graph/org:testland-judiciary",
                       params={"depth": 3, "limit": 2, "format": "json"}).json()
    assert len(small["nodes"]) <= 2 and small["note"]
