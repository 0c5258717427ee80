"""Restricted records (victims and witnesses at risk, survivors of sexual violence) never
reach anonymous or researcher callers, in any endpoint, picture, page, count or search, and
their existence is not revealed; lawyers and admins see them, and each such read is audited.
"""

from __future__ import annotations

import pytest

from tests.api.helpers import RESTRICTED_IDS, assert_problem, leaks

PRISON = "org:testland-prison-one"
ZETA = "person:zzyzx-guard-zeta"
DELTA = "person:qwertyx-witness-delta"
EPSILON = "person:qwertyx-survivor-epsilon"
ASSAULT = "incident:qwertyx-assault-epsilon"

# Requests around the restricted records: each must answer 200 for every role.
AROUND = [
    ("/search", {"q": "Qwertyx"}),
    ("/search", {"q": "Zzyzx Twin"}),
    ("/search", {"q": "Witness"}),
    (f"/entities/{PRISON}", {}),
    (f"/entities/{ZETA}", {}),
    (f"/entities/{ZETA}/timeline", {}),
    (f"/entities/{ZETA}/chain", {"at": "2019-06"}),
    (f"/entities/{PRISON}/linked", {}),
    (f"/entities/{PRISON}/timeline", {}),
    ("/entities/person:zzyzx-victim-gamma/accountability", {}),
    ("/entities/org:testland-judiciary/linked", {}),
    ("/sanctions/gaps", {"authority": "EU"}),
    ("/sanctions/gaps", {"authority": "UN"}),
    ("/paths", {"from": ZETA, "to": "person:zzyzx-victim-gamma"}),
    ("/analytics/degree", {}),
    ("/analytics/betweenness", {}),
    ("/analytics/communities", {}),
    ("/analytics/brokers", {"group_a": PRISON, "group_b": "org:testland-court-one"}),
    (f"/graph/{PRISON}", {"depth": 2}),
    (f"/graph/{PRISON}", {"depth": 3, "format": "json"}),
    (f"/graph/{ZETA}", {"depth": 2}),
    (f"/graph/{ZETA}", {"view": "chain", "at": "2019-06"}),
    ("/graph/person:zzyzx-victim-gamma", {"view": "accountability"}),
    ("/reconcile", {"queries": '{"q0": {"query": "Qwertyx Witness-Delta"}, '
                               '"q1": {"query": "Zzyzx Twin", "type": "Person"}}'}),
    ("/ui/", {"q": "Qwertyx"}),
    ("/ui/", {"q": "Zzyzx Twin"}),
    (f"/ui/entities/{PRISON}", {}),
    (f"/ui/entities/{ZETA}", {}),
    (f"/ui/entities/{PRISON}/linked", {}),
    (f"/ui/entities/{ZETA}/chain", {"at": "2019-06-01"}),
    ("/ui/entities/person:zzyzx-victim-gamma/accountability", {}),
    ("/ui/sanctions/gaps", {"authority": "EU"}),
]


@pytest.mark.parametrize("role", ["public", "researcher"])
@pytest.mark.parametrize("path,params", AROUND)
def test_no_leak_to_public_roles(clients, role: str, path: str, params: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    r = clients[role].get(path, params=params)
    assert r.status_code == 200, r.text[:300]
    assert leaks(r.text, params) == []


@pytest.mark.parametrize("role", ["public", "researcher"])
@pytest.mark.parametrize("rid", sorted(RESTRICTED_IDS))
def test_restricted_ids_look_exactly_like_unknown_ids(clients, role: str, rid: str) -> None:  # type: ignore[no-untyped-def]
    c = clients[role]
    fake = rid.split(":")[0] + ":zzzz-does-not-exist"
    for template in ("/entities/{}", "/entities/{}/timeline", "/entities/{}/accountability",
                     "/graph/{}", "/entities/{}/chain?at=2019"):
        got = assert_problem(c.get(template.format(rid)), 404)
        ref = assert_problem(c.get(template.format(fake)), 404)
        assert got["detail"].replace(rid, "X") == ref["detail"].replace(fake, "X")
        assert set(got) == set(ref)
    assert_problem(c.get("/paths", params={"from": rid, "to": ZETA}), 404)
    assert_problem(c.get("/reconcile/preview", params={"id": rid}), 404)
    assert c.get(f"/ui/entities/{rid}").status_code == 404


@pytest.mark.parametrize("role", ["public", "researcher"])
def test_restricted_do_not_count(clients, role: str) -> None:  # type: ignore[no-untyped-def]
    c, lawyer = clients[role], clients["lawyer"]
    for path in ("/analytics/degree", "/analytics/communities"):
        assert c.get(path).json()["nodes"] < lawyer.get(path).json()["nodes"]
    twin = c.get("/search", params={"q": "Zzyzx Twin"}).json()["hits"]
    assert len([h for h in twin if h["entity"]["name"] == "Zzyzx Twin"]) == 2
    body = assert_problem(c.get("/entities/Zzyzx Twin"), 409)
    assert "2 entities" in body["detail"] and len(body["candidates"]) == 2
    zeta = c.get(f"/entities/{ZETA}").json()
    assert zeta["incidents"] == []  # the restricted assault is not shown, not even counted
    # Zeta directly perpetrated the restricted assault: that must not weigh in his score
    gaps = {g["person"]["id"]: g for g in
            c.get("/sanctions/gaps", params={"authority": "EU"}).json()["gaps"]}
    full = {g["person"]["id"]: g for g in
            lawyer.get("/sanctions/gaps", params={"authority": "EU"}).json()["gaps"]}
    assert gaps[ZETA]["score"] < full[ZETA]["score"]
    assert {r["act_id"] for r in gaps[ZETA]["reasons"]} == {
        "incident:execution-zzyzx-victim-gamma"}
    graph = c.get(f"/graph/{PRISON}", params={"format": "json", "depth": 1}).json()
    assert DELTA not in {n["id"] for n in graph["nodes"]}
    assert all(e["source"] != DELTA and e["target"] != DELTA for e in graph["edges"])


@pytest.mark.parametrize("role", ["lawyer", "admin"])
def test_lawyer_and_admin_see_restricted_records(clients, role: str) -> None:  # type: ignore[no-untyped-def]
    c = clients[role]
    hits = c.get("/search", params={"q": "Qwertyx"}).json()["hits"]
    assert {DELTA, EPSILON} <= {h["entity"]["id"] for h in hits}
    p = c.get(f"/entities/{DELTA}").json()
    assert p["restricted"] is True and p["entity"]["id"] == DELTA
    zeta = c.get(f"/entities/{ZETA}").json()
    assert ASSAULT in {r["other"]["id"] for r in zeta["incidents"]}
    graph = c.get(f"/graph/{PRISON}", params={"format": "json"}).json()
    assert DELTA in {n["id"] for n in graph["nodes"]}
    page = c.get(f"/ui/entities/{DELTA}")
    assert page.status_code == 200 and "RESTRICTED" in page.text
    body = assert_problem(c.get("/entities/Zzyzx Twin"), 409)
    assert len(body["candidates"]) == 3


def test_reads_of_restricted_records_are_audited(env, clients) -> None:  # type: ignore[no-untyped-def]
    before = {e.seq for e in env.admin.audit_entries()}
    clients["lawyer"].get(f"/entities/{DELTA}")
    clients["lawyer"].get("/search", params={"q": "Qwertyx"})
    clients["public"].get("/search", params={"q": "Qwertyx"})
    new = [e for e in env.admin.audit_entries() if e.seq not in before]
    assert [e.action for e in new] == ["read_restricted", "read_restricted"]
    first = new[0]
    assert first.role == "lawyer" and first.who != "anonymous" and first.client
    assert first.path == f"/entities/{DELTA}" and DELTA in first.record_ids
    assert "q=Qwertyx" in new[1].path and EPSILON in new[1].record_ids
    # the admin sees the same through the API
    listed = clients["admin"].get("/admin/audit", params={"action": "read_restricted"}).json()
    assert any(e["path"] == f"/entities/{DELTA}" for e in listed)


def test_guard_withholds_a_leaking_answer(env) -> None:  # type: ignore[no-untyped-def]
    """If the query layer ever let a restricted record through, the answer is withheld."""
    from unittest.mock import MagicMock

    from api.guard import check_answer
    from api.problems import ApiProblem
    from api.security import Principal, Role

    request = MagicMock()
    request.app.state.store = env.store
    request.app.state.admin = env.admin
    with pytest.raises(ApiProblem) as err:
        check_answer(request, Principal(Role.RESEARCHER, "k", "x"),
                     {"hits": [{"entity": {"id": DELTA}}]})
    assert err.value.status == 500 and DELTA not in err.value.detail
    assert check_answer(request, Principal(Role.PUBLIC), {"id": ZETA}) == {"id": ZETA}
