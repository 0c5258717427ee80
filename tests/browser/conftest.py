"""Browser tests: the app served by a real uvicorn (in a thread of this process, over a
temporary LadybugDB loaded with the synthetic API fixture), driven by Debian's headless
chromium through chromedriver. Screenshots go to ``test-artifacts/screenshots/`` (kept
after the run, git-ignored)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.helpers import FIXTURE

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _browser_missing() -> str | None:
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        return "Debian chromium is not installed (/usr/bin/chromium): apt-get install chromium"
    if not CHROMEDRIVER.exists() and not shutil.which("chromedriver"):
        return ("chromedriver is not installed (/usr/bin/chromedriver): "
                "apt-get install chromium-driver")
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _browser_missing()
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@dataclass
class Site:
    base: str
    keys: dict[str, str]
    shots: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    from api.app import create_app
    from api.security import AdminStore
    from graph.embedded import EmbeddedStore
    from ingest.formats import ingest_path

    tmp = tmp_path_factory.mktemp("browser")
    store = EmbeddedStore(tmp / "graph.lbdb")
    report = ingest_path(store, "native", FIXTURE)
    assert report.written and not report.rejected
    admin = AdminStore(tmp / "graph.lbdb.admin.sqlite")
    keys = {r: admin.create_key(r, f"browser {r}")[0] for r in ("researcher", "lawyer")}
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store, admin), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield Site(f"http://127.0.0.1:{port}", keys, SCREENSHOTS)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        admin.close()
        store.close()


@pytest.fixture()
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", "--lang=en-US", "--no-first-run",
                "--disable-extensions", "--proxy-server=direct://", "--proxy-bypass-list=*"):
        options.add_argument(arg)
    service = Service(str(CHROMEDRIVER if CHROMEDRIVER.exists() else shutil.which("chromedriver")))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
