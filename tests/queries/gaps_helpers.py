"""What the tests of the shared gaps scan (``test_chunked``, ``test_prebuild``) share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from queries import gaps as G


def gaps_views_on_disk(folder: Path) -> list[str]:
    """The views whose scan is written in a shared cache folder (``gaps-<view>-<weights>``)."""
    return sorted(p.name.rsplit("-", 1)[0] for p in folder.iterdir()
                  if p.name.startswith("gaps-"))


def forbid_gaps_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on a scan must be mapped from its files: reading the tables fails."""
    def no_build(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("built again instead of mapped")

    monkeypatch.setattr(G, "_read", no_build)
