"""Stores for the query tests: the seed-facts graph (loaded once per module, as
``accgraph demo`` loads it) and small synthetic graphs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from ingest.formats import ingest_path
from ingest.seed import seed_data_path


@pytest.fixture(scope="module")
def seed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not any(seed_data_path().glob("*.csv")):
        pytest.skip("the seed-facts graph (ingest/seed_data) is not there yet")
    path = Path(tmp_path_factory.mktemp("seed")) / "seed.lbdb"
    with EmbeddedStore(path) as store:
        report = ingest_path(store, "native", seed_data_path())
        assert not report.rejected, [str(p) for p in report.rejected]
    return path


@pytest.fixture(scope="module")
def seed_store(seed_db: Path) -> Iterator[EmbeddedStore]:
    s = EmbeddedStore(seed_db, read_only=True)
    yield s
    s.close()


@pytest.fixture(scope="module")
def memory_store() -> Iterator[EmbeddedStore]:
    """A real LadybugDB in memory, for tests that load many small graphs one after another
    (no file sync per example keeps them fast on a shared box)."""
    s = EmbeddedStore(":memory:")
    yield s
    s.close()
