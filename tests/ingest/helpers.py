"""Test helpers: copy the synthetic fixture to edit it, and dump a whole store to compare
before/after (the 'database exactly as before' assertions)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from graph.embedded import EmbeddedStore
from graph.model import NODE_KINDS, RELATION_TYPES

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "native_valid"


def copy_fixture(dest: Path) -> Path:
    target = dest / "bundle"
    shutil.copytree(FIXTURE, target)
    return target


def dump(store: EmbeddedStore) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in NODE_KINDS:
        rows = store.execute(f"MATCH (n:`{kind}`) RETURN n ORDER BY n.id")
        out[kind] = [{k: v for k, v in r["n"].items() if not k.startswith("_")} for r in rows]
    for rel in RELATION_TYPES:
        rows = store.execute(f"MATCH (a)-[r:{rel}]->(b) RETURN a.id AS a, b.id AS b, r ORDER BY r.id")
        out[rel] = [(r["a"], r["b"], {k: v for k, v in r["r"].items() if not k.startswith("_")})
                    for r in rows]
    return out
