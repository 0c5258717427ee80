"""Exports over HTTP: public snapshot for public and researcher callers, everything for
lawyers and admins (audited); restricted records never leak through an export."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.api.helpers import assert_problem, leaks

TEXT_FORMATS = ["ttl", "jsonld", "graphml", "gexf"]


def _text(resp) -> str:  # type: ignore[no-untyped-def]
    if resp.headers["content-type"] == "application/zip":
        with zipfile.ZipFile(io.BytesIO(resp.content)) as zf:
            return "\n".join(zf.read(n).decode("utf-8") for n in zf.namelist())
    return resp.text


@pytest.mark.parametrize("role", ["public", "researcher"])
@pytest.mark.parametrize("fmt", TEXT_FORMATS + ["native"])
def test_exports_leave_out_restricted_records(clients, role: str, fmt: str) -> None:  # type: ignore[no-untyped-def]
    r = clients[role].get(f"/export/{fmt}")
    assert r.status_code == 200, r.text[:300]
    text = _text(r)
    assert "person:zzyzx-judge-alpha" in text
    assert leaks(text) == []


@pytest.mark.parametrize("role", ["public", "researcher"])
@pytest.mark.parametrize("ref", ["person:zzyzx-guard-zeta", "org:testland-prison-one"])
def test_dossiers_leave_out_restricted_records(clients, role: str, ref: str) -> None:  # type: ignore[no-untyped-def]
    r = clients[role].get("/export/dossier", params={"ref": ref, "at": "2019-06"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert leaks(r.text) == []
    assert_problem(clients[role].get("/export/dossier",
                                     params={"ref": "person:qwertyx-witness-delta"}), 404)


def test_lawyer_exports_include_restricted_and_are_audited(env, lawyer) -> None:  # type: ignore[no-untyped-def]
    before = {e.seq for e in env.admin.audit_entries()}
    native = _text(lawyer.get("/export/native"))
    assert "person:qwertyx-witness-delta" in native
    pdf = lawyer.get("/export/dossier", params={"ref": "person:zzyzx-victim-gamma",
                                                "as": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    new = [e for e in env.admin.audit_entries() if e.seq not in before]
    assert [e.action for e in new] == ["export", "export"]
    assert new[0].role == "lawyer" and "include_restricted=True" in new[0].detail


def test_export_errors(public) -> None:  # type: ignore[no-untyped-def]
    assert_problem(public.get("/export/xlsx"), 422)
    assert_problem(public.get("/export/dossier"), 422)
    assert_problem(public.get("/export/ttl", params={"ref": "person:x"}), 422)
    assert_problem(public.get("/export/dossier", params={"ref": "person:nobody"}), 404)
    assert_problem(public.get("/export/dossier", params={"ref": "Zzyzx Twin"}), 409)
    assert_problem(public.get("/export/dossier", params={"ref": "person:zzyzx-judge-alpha",
                                                         "at": "2020-13"}), 422)
    r = public.get("/export/ftm")
    assert r.status_code in (200, 501)
