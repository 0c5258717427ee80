"""Keys, roles, admin-only writes and the append-only audit log."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile

import pytest

from api.security import AdminStore, Principal, Role, hash_key
from tests.api.helpers import FIXTURE, assert_problem


def test_keys_are_stored_hashed_never_in_clear(env) -> None:  # type: ignore[no-untyped-def]
    raw = (env.tmp / "graph.lbdb.admin.sqlite").read_bytes()
    for key in env.keys.values():
        assert key.encode() not in raw
        secret = key.split("_", 2)[2]
        assert secret.encode() not in raw
    conn = sqlite3.connect(env.tmp / "graph.lbdb.admin.sqlite")
    hashes = {r[0] for r in conn.execute("SELECT key_hash FROM api_keys")}
    conn.close()
    assert {hash_key(k) for k in env.keys.values()} <= hashes


@pytest.mark.parametrize("header", [
    "Bearer agk_nothere_nope", "Bearer not-a-key", "Basic dXNlcjpwYXNz", "Bearer ",
    "Bearer " + "x" * 5000, "Bearer agk_' OR 1=1 --_x",
])
def test_bad_keys_are_401(env, header: str) -> None:  # type: ignore[no-untyped-def]
    c = env.client()
    body = assert_problem(c.get("/search", params={"q": "Zzyzx"},
                                headers={"Authorization": header}), 401)
    assert "key" in body["detail"] or "Bearer" in body["detail"]


def test_revoked_key_is_401(env) -> None:  # type: ignore[no-untyped-def]
    key, info = env.admin.create_key("lawyer", "to revoke")
    c = env.client()
    assert c.get("/reconcile", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    env.admin.revoke_key(info.key_id)
    assert_problem(c.get("/reconcile", headers={"Authorization": f"Bearer {key}"}), 401)


@pytest.mark.parametrize("role,status", [("public", 401), ("researcher", 403), ("lawyer", 403)])
def test_writes_and_key_management_are_admin_only(clients, role: str, status: int) -> None:  # type: ignore[no-untyped-def]
    c = clients[role]
    assert_problem(c.post("/admin/ingest", data={"format": "native", "path": str(FIXTURE)}),
                   status)
    assert_problem(c.post("/admin/keys", json={"role": "admin"}), status)
    assert_problem(c.get("/admin/keys"), status)
    assert_problem(c.delete("/admin/keys/abc"), status)
    assert_problem(c.get("/admin/audit"), status)
    assert_problem(c.get("/admin/audit/export"), status)


def test_admin_key_lifecycle_is_audited(admin, env) -> None:  # type: ignore[no-untyped-def]
    r = admin.post("/admin/keys", json={"role": "researcher", "label": "Zzyzx Research Desk"})
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["key"].startswith("agk_") and new["role"] == "researcher"
    listed = admin.get("/admin/keys").json()
    assert any(k["key_id"] == new["key_id"] for k in listed)
    assert all("key" not in k and "key_hash" not in k for k in listed)
    c = env.client()
    who = c.get("/ui/", headers={"Authorization": f"Bearer {new['key']}"})
    assert who.status_code == 200 and ">researcher<" in who.text
    r = admin.delete(f"/admin/keys/{new['key_id']}")
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert_problem(admin.delete("/admin/keys/doesnotexist"), 404)
    actions = [(e["action"], e["record_ids"]) for e in admin.get("/admin/audit").json()]
    assert ("key_create", [new["key_id"]]) in actions
    assert ("key_revoke", [new["key_id"]]) in actions
    entry = next(e for e in admin.get("/admin/audit", params={"action": "key_create"}).json()
                 if e["record_ids"] == [new["key_id"]])
    assert entry["role"] == "admin" and entry["who"] != "anonymous" and entry["at"]
    assert entry["client"]  # from where


def test_bad_key_requests_are_422(admin) -> None:  # type: ignore[no-untyped-def]
    assert_problem(admin.post("/admin/keys", json={"role": "superuser"}), 422)
    assert_problem(admin.post("/admin/keys", json={"role": "public"}), 422)
    assert_problem(admin.post("/admin/keys", content=b"{not json",
                              headers={"content-type": "application/json"}), 422)


def test_admin_ingest_path_and_upload(admin, env) -> None:  # type: ignore[no-untyped-def]
    r = admin.post("/admin/ingest", data={"format": "native", "path": str(FIXTURE)})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["written"] is False and report["rejected"] == 0 and report["unchanged"] > 0
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in FIXTURE.iterdir():
            zf.write(f, f"fixture/{f.name}")
    r = admin.post("/admin/ingest", data={"format": "native"},
                   files={"file": ("fixture.zip", buf.getvalue(), "application/zip")})
    assert r.status_code == 200, r.text
    assert r.json()["rejected"] == 0 and r.json()["source"] == "upload fixture.zip"
    entries = admin.get("/admin/audit", params={"action": "ingest"}).json()
    assert len(entries) >= 2 and "format=native" in entries[-1]["detail"]


def test_admin_ingest_rejects_bad_input(admin, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert_problem(admin.post("/admin/ingest", data={"format": "nope", "path": str(FIXTURE)}),
                   422)
    assert_problem(admin.post("/admin/ingest", data={"format": "native"}), 422)
    assert_problem(admin.post("/admin/ingest", data={"format": "native",
                                                     "path": str(tmp_path / "missing")}), 422)
    assert_problem(admin.post("/admin/ingest", data={"format": "native"},
                              files={"file": ("x.zip", b"not a zip", "application/zip")}), 422)
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../escape.csv", "id,name\n")
    assert_problem(admin.post("/admin/ingest", data={"format": "native"},
                              files={"file": ("evil.zip", evil.getvalue(), "application/zip")}),
                   422)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "Persons.csv").write_text("id,name\nperson:x,X\n")
    r = admin.post("/admin/ingest", data={"format": "native", "path": str(bad)})
    assert r.status_code == 200 and r.json()["rejected"] >= 1 and not r.json()["written"]
    assert any("Persons.csv" in p for p in r.json()["problems"])


def test_audit_log_is_append_only(env) -> None:  # type: ignore[no-untyped-def]
    env.admin.audit(Principal(Role.ADMIN, "k1", "127.0.0.1"), "test_entry")
    conn = sqlite3.connect(env.tmp / "graph.lbdb.admin.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit_log SET who = 'someone else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit_log")
    conn.close()


def test_audit_export_jsonl_and_csv(admin, env) -> None:  # type: ignore[no-untyped-def]
    env.admin.audit(Principal(Role.ADMIN, "k1", "127.0.0.1"), "test_export",
                    detail="=HYPERLINK(\"http://evil\")")
    r = admin.get("/admin/audit/export", params={"format": "jsonl"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert any(e["action"] == "test_export" for e in lines)
    r = admin.get("/admin/audit/export", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    row = next(x for x in rows if x["action"] == "test_export")
    assert row["detail"].startswith("'=")  # never evaluated by a spreadsheet
    assert_problem(admin.get("/admin/audit/export", params={"format": "xml"}), 422)
    # an admin reading the log is itself recorded
    assert admin.get("/admin/audit", params={"action": "audit_export"}).json()


def test_admin_store_survives_reopen(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = AdminStore(tmp_path / "a.sqlite")
    key, info = store.create_key("lawyer")
    store.audit(Principal(Role.LAWYER, info.key_id, "10.0.0.1"), "read_restricted",
                record_ids=["person:x"])
    store.close()
    again = AdminStore(tmp_path / "a.sqlite")
    assert again.authenticate(key).role == "lawyer"  # type: ignore[union-attr]
    assert again.authenticate(key + "x") is None
    assert again.audit_entries()[0].record_ids == ["person:x"]
    again.close()


def test_merge_is_admin_only_and_audited(clients, env) -> None:  # type: ignore[no-untyped-def]
    body = {"a": "person:zzyzx-twin-1", "b": "person:zzyzx-twin-2", "note": "synthetic test"}
    for role, status in (("public", 401), ("researcher", 403), ("lawyer", 403)):
        assert_problem(clients[role].post("/admin/review/accept", json=body), status)
        assert_problem(clients[role].get("/admin/review"), status)
    admin = clients["admin"]
    assert admin.get("/admin/review", params={"status": "all"}).status_code == 200
    r = admin.post("/admin/review/accept", json=body)
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    same = admin.get("/entities/person:zzyzx-twin-1").json()["same_as"]
    assert "person:zzyzx-twin-2" in {s["other"]["id"] for s in same}
    r = admin.post("/admin/review/reject", json=body)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert admin.get("/entities/person:zzyzx-twin-1").json()["same_as"] == []
    actions = [e["action"] for e in admin.get("/admin/audit").json()]
    assert "merge_accept" in actions and "merge_reject" in actions
    assert_problem(admin.post("/admin/review/accept",
                              json={"a": "person:zzyzx-twin-1", "b": "org:testland-judiciary"}),
                   422)
    assert_problem(admin.post("/admin/review/accept",
                              json={"a": "person:zzyzx-twin-1", "b": "person:nobody"}), 404)
    assert_problem(admin.post("/admin/review/accept",
                              json={"a": "person:zzyzx-twin-1", "b": "person:zzyzx-twin-1"}),
                   422)
