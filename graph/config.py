"""Where the database lives and which store serves it (``--db``/``ACCGRAPH_DB``,
``--store``/``ACCGRAPH_STORE``), so the CLI, the API and the tests open stores one way."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

from graph.store import Store, StoreError

STORE_KINDS = ("embedded", "neo4j")


def default_db_path() -> Path:
    return Path(user_data_dir("accountability-graph", appauthor=False)) / "graph.lbdb"


def resolve_db_path(db: str | os.PathLike[str] | None = None) -> Path:
    if db:
        return Path(db)
    env = os.environ.get("ACCGRAPH_DB")
    return Path(env) if env else default_db_path()


def beside_db(store: object | None, suffix: str, env: str, fallback: str) -> Path:
    """Where a file that belongs with a database lives (review queue, downloads): ``env`` if
    set, else beside the embedded database file (``<db><suffix>``), else in the user data
    directory under ``fallback`` (a store with no local file, such as Neo4j)."""
    override = os.environ.get(env)
    if override:
        return Path(override)
    db_path = getattr(store, "path", None)
    if isinstance(db_path, Path):
        return db_path.with_name(db_path.name + suffix)
    return Path(user_data_dir("accountability-graph", appauthor=False)) / fallback


def open_store(db: str | os.PathLike[str] | None = None, store: str | None = None,
               *, read_only: bool = False, buffer_pool: int | None = None) -> Store:
    """Open the configured store. Neo4j is configured by NEO4J_URI/USER/PASSWORD/DATABASE.
    ``buffer_pool`` (bytes): the embedded engine's pool, else its default."""
    kind = (store or os.environ.get("ACCGRAPH_STORE") or "embedded").lower()
    if kind == "embedded":
        from graph.embedded import EmbeddedStore

        return EmbeddedStore(resolve_db_path(db), read_only=read_only, buffer_pool=buffer_pool)
    if kind == "neo4j":
        try:
            from graph.neo4j_store import Neo4jStore
        except ImportError as exc:
            raise StoreError("the Neo4j store is not available in this build") from exc
        return Neo4jStore.from_env()
    raise StoreError(f"unknown store '{kind}' (expected one of {', '.join(STORE_KINDS)})")
