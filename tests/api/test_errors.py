"""Errors are application/problem+json; unknown routes and bad methods too."""

from __future__ import annotations

from tests.api.helpers import assert_problem


def test_unknown_route_is_problem_404(public) -> None:  # type: ignore[no-untyped-def]
    body = assert_problem(public.get("/no/such/thing"), 404)
    assert body["instance"] == "/no/such/thing"


def test_wrong_method_is_problem_405(public) -> None:  # type: ignore[no-untyped-def]
    assert_problem(public.delete("/search", params={"q": "x"}), 405)


def test_missing_and_bad_parameters_are_422(public) -> None:  # type: ignore[no-untyped-def]
    body = assert_problem(public.get("/search"), 422)
    assert body["errors"][0]["loc"] == ["query", "q"]
    assert_problem(public.get("/search", params={"q": "x", "limit": "many"}), 422)
    assert_problem(public.get("/search", params={"q": "x", "limit": 0}), 422)
    assert_problem(public.get("/search", params={"q": "x", "kind": "Persons"}), 422)
    assert_problem(public.get("/sanctions/gaps"), 422)
    assert_problem(public.get("/paths", params={"from": "person:zzyzx-judge-alpha"}), 422)


def test_openapi_and_docs(public) -> None:  # type: ignore[no-untyped-def]
    spec = public.get("/openapi.json").json()
    paths = spec["paths"]
    for p in ("/search", "/entities/{ref}", "/entities/{ref}/chain",
              "/entities/{ref}/accountability", "/entities/{ref}/linked",
              "/entities/{ref}/timeline", "/sanctions/gaps", "/paths", "/analytics/{measure}",
              "/graph/{ref}", "/reconcile", "/export/{fmt}", "/admin/ingest", "/admin/keys",
              "/admin/audit"):
        assert p in paths, p
    assert paths["/entities/{ref}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["$ref"].endswith("/Profile")
    docs = public.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    # offline: the page's script and style come from this server, not a CDN
    assert "cdn.jsdelivr" not in docs.text and "/static/swagger/swagger-ui-bundle.js" in docs.text
    js = public.get("/static/swagger/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert public.get("/static/swagger/swagger-ui.css").status_code == 200


def test_home_redirects_to_search_page(public) -> None:  # type: ignore[no-untyped-def]
    r = public.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/ui/"
