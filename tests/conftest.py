"""Shared fixtures: a real LadybugDB store in a temporary directory, and paths to the
synthetic fixtures and to ../shared/data (tests needing it skip when it is absent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()
SEEDS = (REPO / ".." / "shared" / "seeds").resolve()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    s = EmbeddedStore(tmp_path / "graph.lbdb")
    yield s
    s.close()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder not found at {SHARED_DATA} (../shared/data is not beside the repo)")
    return SHARED_DATA
