"""Fixtures for the API tests: the app over a real LadybugDB store in a temp dir, loaded
with the synthetic graph in ``graph_fixture/`` (restricted records included), and one
client per role (anonymous public, researcher, lawyer, admin) with real API keys."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    # starlette's TestClient warns that it will move to httpx2; not ours to fix
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from api.app import create_app
from api.security import AdminStore
from graph.embedded import EmbeddedStore
from ingest.formats import ingest_path
from tests.api.helpers import FIXTURE, ROLES


class Env:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.store = EmbeddedStore(tmp / "graph.lbdb")
        report = ingest_path(self.store, "native", FIXTURE)
        assert report.written and not report.rejected, report.to_json()["problems"]
        self.admin = AdminStore(tmp / "graph.lbdb.admin.sqlite")
        self.app = create_app(self.store, self.admin)
        self.keys = {r: self.admin.create_key(r, f"test {r}")[0]
                     for r in ("researcher", "lawyer", "admin")}

    def client(self, role: str = "public") -> TestClient:
        headers = {} if role == "public" else {"Authorization": f"Bearer {self.keys[role]}"}
        return TestClient(self.app, headers=headers)


@pytest.fixture(scope="session")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    e = Env(tmp_path_factory.mktemp("api"))
    yield e
    e.admin.close()
    e.store.close()


@pytest.fixture(scope="session")
def clients(env: Env) -> dict[str, TestClient]:
    return {r: env.client(r) for r in ROLES}


@pytest.fixture(scope="session")
def public(clients: dict[str, TestClient]) -> TestClient:
    return clients["public"]


@pytest.fixture(scope="session")
def lawyer(clients: dict[str, TestClient]) -> TestClient:
    return clients["lawyer"]


@pytest.fixture(scope="session")
def admin(clients: dict[str, TestClient]) -> TestClient:
    return clients["admin"]

