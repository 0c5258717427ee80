"""A newcomer's path through the web pages, in a real headless chromium: search a name,
open the person, see the chain above them on a date and a network picture, print the
accountability page with footnotes; restricted records stay invisible without a key."""

from __future__ import annotations

import base64
from typing import Any

import pytest

pytestmark = pytest.mark.browser

JUDGE = "person:zzyzx-judge-alpha"
WAIT = 20


def _wait(driver: Any, condition: Any) -> Any:
    """Wait for a condition while the page may be navigating: an element polled during the
    navigation can belong to the old document (Chromium then raises a plain
    WebDriverException, not a StaleElementReferenceException), so keep polling."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT, ignored_exceptions=(
        StaleElementReferenceException, WebDriverException)).until(condition)


def _shot(driver: Any, site: Any, name: str) -> None:
    path = site.shots / f"{name}.png"
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 5000


def test_search_open_person_chain_and_picture(site, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC

    d = browser
    d.get(site.base + "/")
    box = _wait(d, EC.presence_of_element_located((By.ID, "search-box")))
    assert d.current_url.endswith("/ui/")
    box.send_keys("Zzyzx Judge Alpha", Keys.ENTER)
    _wait(d, EC.presence_of_element_located((By.ID, "results")))
    first = d.find_elements(By.CSS_SELECTOR, "#results li.hit a.entity")[0]
    assert first.text == "Zzyzx Judge-Alpha"
    _shot(d, site, "01-search-results")

    first.click()
    _wait(d, EC.text_to_be_present_in_element((By.ID, "entity-name"), "Zzyzx Judge-Alpha"))
    names = d.find_element(By.ID, "names").text
    assert "زیزیکس قاضی" in names
    posts = d.find_element(By.ID, "posts").text
    assert "Judge, Testland Court One" in posts and "2015 – 2021" in posts
    sanctions = d.find_element(By.ID, "sanctions").text
    assert "EU" in sanctions and "listed 2021-04" in sanctions and "not listed" in sanctions
    assert "Synthetic Report One (test fixture)" in d.find_element(By.CLASS_NAME,
                                                                   "footnotes").text
    _shot(d, site, "02-entity-page")

    d.find_element(By.ID, "link-chain").click()
    date_input = _wait(d, EC.presence_of_element_located((By.ID, "chain-date")))
    assert date_input.get_attribute("type") == "date"
    d.execute_script("arguments[0].value = '2020-01-15'", date_input)
    d.find_element(By.ID, "chain-submit").click()
    _wait(d, EC.presence_of_element_located((By.ID, "chain-at")))
    assert "2020-01-15" in d.find_element(By.ID, "chain-at").text
    orgs = d.find_element(By.ID, "chain-orgs").text
    assert "Testland Court One" in orgs and "Testland Judiciary" in orgs
    assert "Head: Zzyzx Chief-Beta" in orgs
    _shot(d, site, "03-chain-of-command")

    d.get(site.base + f"/ui/entities/{JUDGE}")
    d.find_element(By.ID, "link-picture").click()
    _wait(d, lambda drv: drv.find_element(By.ID, "network").get_attribute("data-drawn"))
    assert d.find_elements(By.CSS_SELECTOR, "#network canvas")
    n_nodes = d.execute_script("return window.accgraphNetwork.body.data.nodes.length")
    assert n_nodes == int(d.find_element(By.ID, "node-count").text) and n_nodes >= 3
    _shot(d, site, "04-network-picture")

    # clicking a node opens its page
    target = "org:testland-court-one"
    d.execute_script("window.accgraphNetwork.stopSimulation();")
    pos = d.execute_script(
        "var n = window.accgraphNetwork; var p = n.getPositions([arguments[0]])[arguments[0]];"
        "var c = n.canvasToDOM(p); var r = document.getElementById('network')"
        ".getBoundingClientRect(); return [c.x, c.y, r.width, r.height];", target)
    from selenium.webdriver.common.action_chains import ActionChains

    canvas = d.find_element(By.CSS_SELECTOR, "#network canvas")
    ActionChains(d).move_to_element_with_offset(
        canvas, int(pos[0] - pos[2] / 2), int(pos[1] - pos[3] / 2)).click().perform()
    _wait(d, EC.url_contains("/ui/entities/org"))
    assert "Testland Court One" in d.find_element(By.ID, "entity-name").text


def test_printable_accountability_page(site, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    d = browser
    d.get(site.base + "/ui/entities/person:zzyzx-victim-gamma/accountability")
    _wait(d, EC.presence_of_element_located((By.ID, "acc-title")))
    actors = d.find_element(By.ID, "actors").text
    assert "Zzyzx Judge-Alpha" in actors and "Judicial" in actors
    cited = {a.get_attribute("href").rsplit("#", 1)[1]
             for a in d.find_elements(By.CSS_SELECTOR, "sup.fn a")}
    notes = {li.get_attribute("id") for li in d.find_elements(By.CSS_SELECTOR,
                                                              ".footnotes li")}
    assert cited and cited == notes
    _shot(d, site, "05-accountability")
    pdf = d.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})
    data = base64.b64decode(pdf["data"])
    assert data.startswith(b"%PDF")
    (site.shots / "05-accountability.pdf").write_bytes(data)
    # the print stylesheet hides the navigation
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not d.find_element(By.CSS_SELECTOR, "header.site").is_displayed()
    _shot(d, site, "06-accountability-print-media")


def test_restricted_records_need_a_lawyer_key(site, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    d = browser
    d.get(site.base + "/ui/?q=Qwertyx")
    _wait(d, EC.presence_of_element_located((By.ID, "results-heading")))
    assert d.find_element(By.ID, "results-heading").text.startswith("0 results")
    assert d.find_element(By.ID, "role").text == "public"
    _shot(d, site, "07-restricted-hidden-public")
    d.get(site.base + "/ui/entities/person:qwertyx-witness-delta")
    assert "Not found" in d.find_element(By.CLASS_NAME, "error-title").text

    for role, visible in (("researcher", False), ("lawyer", True)):
        d.get(site.base + "/ui/login")
        d.find_element(By.NAME, "key").send_keys(site.keys[role])
        d.find_element(By.CSS_SELECTOR, "form.login button").click()
        _wait(d, EC.text_to_be_present_in_element((By.ID, "role"), role))
        d.get(site.base + "/ui/?q=Qwertyx")
        hits = d.find_elements(By.CSS_SELECTOR, "#results li.hit")
        assert bool(hits) is visible
        if visible:
            d.find_element(By.PARTIAL_LINK_TEXT, "Qwertyx Witness-Delta").click()
            _wait(d, EC.presence_of_element_located((By.ID, "restricted-badge")))
            _shot(d, site, "08-restricted-visible-lawyer")
        d.find_element(By.CSS_SELECTOR, "form.inline button").click()
        _wait(d, EC.text_to_be_present_in_element((By.ID, "role"), "public"))
