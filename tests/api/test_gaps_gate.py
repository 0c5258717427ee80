"""The gaps scan built in the background for the API (``api.gaps_gate``): a gaps request
whose scan is still being built gets 503 + Retry-After as a problem (an HTML page under
/ui) after a bounded wait, never a request held for the whole build; once the build is done
the same request answers, and a failed build is named in the next 503 and started again."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from api.app import create_app
from queries import gaps as G
from tests.api.conftest import Env


@pytest.fixture
def held(env: Env, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A store without a scan, whose builds wait for ``release`` (or raise ``fail``)."""
    state: dict[str, Any] = {"release": threading.Event(), "fail": None, "builds": 0}
    real_read = G._read

    def slow_read(*args: Any, **kwargs: Any) -> Any:
        state["builds"] += 1
        if not state["release"].wait(30):
            raise AssertionError("never released")
        if state["fail"] is not None:
            raise state["fail"]
        return real_read(*args, **kwargs)

    monkeypatch.setattr(G, "_read", slow_read)
    G._CACHE.pop(env.store, None)
    yield state
    state["release"].set()
    G._CACHE.pop(env.store, None)


def _client(env: Env, wait: float) -> TestClient:
    return TestClient(create_app(env.store, env.admin, ready_wait_seconds=wait))


def test_a_scan_being_built_answers_503_then_the_answer(env: Env,
                                                        held: dict[str, Any]) -> None:
    client = _client(env, 0.2)
    r = client.get("/sanctions/gaps", params={"authority": "EU"})
    assert r.status_code == 503 and r.headers["retry-after"] == "15"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "being built" in r.json()["detail"]
    page = client.get("/ui/sanctions/gaps", params={"authority": "EU"})
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert held["builds"] == 1  # the second request waited on the same build
    held["release"].set()
    for _ in range(100):
        r = client.get("/sanctions/gaps", params={"authority": "EU"})
        if r.status_code == 200:
            break
    assert r.status_code == 200 and r.json()["authority"] == "EU" and r.json()["gaps"]
    assert held["builds"] == 1


def test_a_failed_build_is_named_and_started_again(env: Env, held: dict[str, Any]) -> None:
    client = _client(env, 0.2)
    held["fail"] = RuntimeError("disk unreadable")
    held["release"].set()
    r = client.get("/sanctions/gaps", params={"authority": "EU"})
    if r.status_code == 503 and "failed" not in r.json()["detail"]:
        r = client.get("/sanctions/gaps", params={"authority": "EU"})  # the failure is in
    assert r.status_code == 503 and "disk unreadable" in r.json()["detail"]
    held["fail"] = None
    for _ in range(100):
        r = client.get("/sanctions/gaps", params={"authority": "EU"})
        if r.status_code == 200:
            break
    assert r.status_code == 200 and held["builds"] >= 2


def test_a_quick_build_is_answered_within_the_wait(env: Env, held: dict[str, Any]) -> None:
    held["release"].set()
    r = _client(env, 10).get("/sanctions/gaps", params={"authority": "EU"})
    assert r.status_code == 200 and held["builds"] == 1
