"""Server-rendered pages (the browser tests drive them in chromium; these check the HTML)."""

from __future__ import annotations

import re

JUDGE = "person:zzyzx-judge-alpha"


def test_search_page(public) -> None:  # type: ignore[no-untyped-def]
    r = public.get("/ui/")
    assert r.status_code == 200 and 'id="search-box"' in r.text
    r = public.get("/ui/", params={"q": "Zzyzx Judge Alpha"})
    assert f'href="/ui/entities/{JUDGE}"' in r.text.replace("%3A", ":")


def test_entity_page_shows_names_posts_sanctions_sources(public) -> None:  # type: ignore[no-untyped-def]
    html = public.get(f"/ui/entities/{JUDGE}").text
    assert "Zzyzx Judge-Alpha" in html and 'dir="rtl" lang="fa"' in html and "زیزیکس قاضی" in html
    assert 'id="posts"' in html and "2015 – 2021" in html
    assert 'id="cases"' in html and "case:testland-0001" in html.replace("%3A", ":")
    assert 'id="sanctions"' in html and "EU-TL-1" in html and "not listed" in html
    assert "Synthetic Report One (test fixture)" in html and 'id="fn-1"' in html


def test_chain_page_with_date_picker(public) -> None:  # type: ignore[no-untyped-def]
    html = public.get(f"/ui/entities/{JUDGE}/chain").text
    assert 'type="date"' in html and 'id="chain-form"' in html
    html = public.get(f"/ui/entities/{JUDGE}/chain", params={"at": "2020-01-15"}).text
    assert "Testland Judiciary" in html and "Zzyzx Chief-Beta" in html and "Head:" in html
    assert 'value="2020-01-15"' in html


def test_accountability_page_footnotes_every_link(public) -> None:  # type: ignore[no-untyped-def]
    html = public.get("/ui/entities/person:zzyzx-victim-gamma/accountability").text
    assert "Zzyzx Judge-Alpha" in html and "Judicial" in html
    cited = set(re.findall(r'href="#fn-(\d+)"', html))
    defined = set(re.findall(r'id="fn-(\d+)"', html))
    assert cited and cited == defined
    assert "@media print" in public.get("/static/style.css").text


def test_error_pages_are_html_with_candidates(public) -> None:  # type: ignore[no-untyped-def]
    r = public.get("/ui/entities/Zzyzx Twin")
    assert r.status_code == 409 and r.headers["content-type"].startswith("text/html")
    assert "person:zzyzx-twin-1" in r.text and "person:zzyzx-twin-3" not in r.text
    r = public.get("/ui/entities/person:nobody")
    assert r.status_code == 404 and "Not found" in r.text


def test_login_cookie_for_pages_only_on_get(env) -> None:  # type: ignore[no-untyped-def]
    c = env.client()
    r = c.post("/ui/login", data={"key": env.keys["lawyer"]}, follow_redirects=False)
    assert r.status_code == 303 and "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    page = c.get("/ui/entities/person:qwertyx-witness-delta")
    assert page.status_code == 200 and "RESTRICTED" in page.text
    # the cookie never authorises a write
    c.cookies.set("accgraph_key", env.keys["admin"])
    assert c.post("/admin/keys", json={"role": "admin"}).status_code == 401
    c.post("/ui/logout")
    bad = env.client().post("/ui/login", data={"key": "agk_x_y"})
    assert bad.status_code == 401
