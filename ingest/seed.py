"""Where the bundled seed-facts graph lives (shipped inside the package)."""

from __future__ import annotations

from pathlib import Path


def seed_data_path() -> Path:
    return Path(__file__).with_name("seed_data")
