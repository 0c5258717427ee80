"""Hostile input: Cypher syntax, quotes, very long strings, control characters, markup.

All of it is data: passed to the query layer as parameter values, echoed (if at all)
escaped, answered with 2xx or a 4xx problem, never a 500, and the graph is unchanged.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

HOSTILE = [
    "' OR 1=1 --",
    '") RETURN n //',
    "person:x' }) MATCH (n) DETACH DELETE n //",
    "MATCH (n) DETACH DELETE n",
    "`Case`",
    "$ids",
    "person:zzyzx-judge-alpha' OR '1'='1",
    "}]->(b) SET b.name = 'pwned' //",
    "\\' \\\" \\\\",
    "<script>alert('x')</script>",
    "{{7*7}} {% raw %}",
    "\u202eevil\u202c \u200b\u200c\u200d \ufeff",
    "\x1b[31mred\x1b[0m \x07 \x08 \r\n\t",
    "zzyzx\u0301\u0308 \U0001F600",
    "محسنی اژه\u200cای",
    "../../../etc/passwd",
    "%00%27",
    "a" * 499,
]
TOO_LONG = ["a" * 501, "x" * 30_000]  # httpx refuses URLs over 64 kB
NUL = "abc\x00def"

# parameterised requests: (method path template, how the value is used)
QUERY_ENDPOINTS = [
    ("/search", "q"),
    ("/ui/", "q"),
    ("/sanctions/gaps", "authority"),
    ("/paths?to=person:zzyzx-judge-alpha", "from"),
    ("/paths?from=person:zzyzx-judge-alpha", "to"),
    ("/analytics/brokers?group_b=org:testland-court-one", "group_a"),
    ("/reconcile/preview", "id"),
    ("/entities/person:zzyzx-judge-alpha/chain", "at"),
]
PATH_ENDPOINTS = ["/entities/{}", "/entities/{}/chain?at=2020", "/entities/{}/accountability",
                  "/entities/{}/linked", "/entities/{}/timeline", "/graph/{}",
                  "/ui/entities/{}", "/ui/entities/{}/accountability", "/analytics/{}"]


@pytest.fixture(scope="module")
def counts_before(env):  # type: ignore[no-untyped-def]
    return env.store.counts()


def _ok(resp) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code < 500, resp.text[:300]
    if resp.status_code >= 400 and not resp.request.url.path.startswith("/ui"):
        assert resp.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in resp.text


@pytest.mark.parametrize("value", HOSTILE + TOO_LONG + [NUL])
def test_hostile_query_parameters(public, counts_before, value: str) -> None:  # type: ignore[no-untyped-def]
    for path, param in QUERY_ENDPOINTS:
        _ok(public.get(path, params={param: value}))


@pytest.mark.parametrize("value", HOSTILE + TOO_LONG + [NUL])
def test_hostile_path_segments(public, value: str) -> None:  # type: ignore[no-untyped-def]
    for template in PATH_ENDPOINTS:
        _ok(public.get(template.format(quote(value, safe=""))))


@pytest.mark.parametrize("value", TOO_LONG + [NUL])
def test_too_long_and_nul_are_422(public, value: str) -> None:  # type: ignore[no-untyped-def]
    assert public.get("/search", params={"q": value}).status_code == 422
    assert public.get(f"/entities/{quote(value, safe='')}").status_code == 422


@pytest.mark.parametrize("value", HOSTILE + [NUL])
def test_hostile_reconcile_queries(public, value: str) -> None:  # type: ignore[no-untyped-def]
    q = json.dumps({"q0": {"query": value}, "q1": {"query": value, "type": "Person"}})
    _ok(public.get("/reconcile", params={"queries": q}))
    _ok(public.post("/reconcile", data={"queries": q}))
    _ok(public.get("/reconcile", params={"query": value}))


@pytest.mark.parametrize("raw", ["not json", "[]", '{"q0": "x"}', '{"q0": {"query": 5}}',
                                 '{"q0": {"query": "x", "type": "Alien"}}',
                                 '{"q0": {"query": "x", "limit": -1}}',
                                 json.dumps({f"q{i}": {"query": "x"} for i in range(101)})])
def test_malformed_reconcile_batches_are_4xx(public, raw: str) -> None:  # type: ignore[no-untyped-def]
    r = public.get("/reconcile", params={"queries": raw})
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith(
        "application/problem+json")


def test_graph_unchanged_after_hostile_requests(env, public, counts_before) -> None:  # type: ignore[no-untyped-def]
    for value in HOSTILE:
        public.get("/search", params={"q": value})
        public.get(f"/entities/{quote(value, safe='')}")
    assert env.store.counts() == counts_before


def test_stored_cypher_looking_name_is_just_a_name(public) -> None:  # type: ignore[no-untyped-def]
    name = "Zzyzx O'Brien \"Bobby\"); MATCH (n) DETACH DELETE n; //"
    hits = public.get("/search", params={"q": name}).json()["hits"]
    assert hits[0]["entity"]["id"] == "person:zzyzx-obrien"
    assert hits[0]["entity"]["name"] == name
    page = public.get("/ui/entities/person:zzyzx-obrien").text
    assert "O&#39;Brien &#34;Bobby&#34;); MATCH (n) DETACH DELETE n; //" in page


def test_markup_is_escaped_in_pages(public) -> None:  # type: ignore[no-untyped-def]
    r = public.get("/ui/", params={"q": "<script>alert('x')</script> {{7*7}}"})
    assert r.status_code == 200
    assert "<script>alert(" not in r.text and "&lt;script&gt;" in r.text
    assert "{{7*7}}" in r.text and ">49<" not in r.text
    r = public.get(f"/ui/entities/{quote('<img src=x onerror=alert(1)>', safe='')}")
    assert r.status_code == 404 and "<img src=x" not in r.text
