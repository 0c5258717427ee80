"""The review queue (SQLite beside the database) and ``accgraph review`` on a real store."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from graph.embedded import EmbeddedStore
from ingest.formats import ingest_path
from ingest.review import ReviewQueue, queue_path_for
from tests.ingest.test_ofac import write_ofac_set

runner = CliRunner()


def test_queue_persists_and_keeps_decisions(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite"
    with ReviewQueue(path) as q:
        assert q.propose("person:b", "person:a", "Person", 0.8, "m", {"name": 0.8})
        q.commit()
    with ReviewQueue(path) as q:
        [pair] = q.list()
        assert (pair.a, pair.b, pair.score) == ("person:a", "person:b", 0.8)  # ordered
        q.decide("person:a", "person:b", "rejected", "tester", note="namesakes")
        assert not q.propose("person:a", "person:b", "Person", 0.85, "m", {})  # stays rejected
        assert q.get("person:b", "person:a").status == "rejected"
        assert q.list() == []


def test_queue_lives_beside_the_database(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "g.lbdb") as store:
        assert queue_path_for(store) == tmp_path / "g.lbdb.review.sqlite"


def _prepare(tmp_path: Path) -> Path:
    """A graph with a seed-like record and the synthetic OFAC set: one pair to review."""
    from ingest.build import Where, build_node

    db = tmp_path / "g.lbdb"
    with EmbeddedStore(db) as store:
        src, _ = build_node("Source", {"id": "source:synthetic-review", "title": "Synthetic",
                                       "kind": "synthetic"}, Where("t", 0))
        person, _ = build_node("Person", {"id": "person:zzyzx-beta-testperson",
                                          "name": "Zzyzx Testpersonbeta",
                                          "source_ids": "source:synthetic-review"},
                               Where("t", 0))
        assert src and person
        store.write([src, person], [])
        ingest_path(store, "ofac-csv", write_ofac_set(tmp_path / "ofac"))
    return db


def test_cli_list_accept_reject(tmp_path: Path) -> None:
    db = _prepare(tmp_path)
    result = runner.invoke(app, ["--db", str(db), "review", "list", "--json"])
    assert result.exit_code == 0, result.output
    pairs = json.loads(result.stdout)
    assert [(p["a"], p["b"]) for p in pairs] == [
        ("person:ofac-90004", "person:zzyzx-beta-testperson")]
    assert pairs[0]["a_name"] == "TESTPERSON-BETA, Zzyzx"
    result = runner.invoke(app, ["--db", str(db), "review", "accept", "person:ofac-90004",
                                 "person:zzyzx-beta-testperson", "--by", "tester"])
    assert result.exit_code == 0, result.output
    with EmbeddedStore(db) as store:
        rows = store.execute("MATCH (a)-[r:SAME_AS]->(b) RETURN r.judged_by AS by")
        assert rows == [{"by": "review:tester"}]
    result = runner.invoke(app, ["--db", str(db), "review", "reject", "person:ofac-90004",
                                 "person:zzyzx-beta-testperson", "--by", "tester"])
    assert result.exit_code == 0, result.output
    with EmbeddedStore(db) as store:
        assert store.execute("MATCH ()-[r:SAME_AS]->() RETURN count(r) AS c") == [{"c": 0}]
        # a re-ingest honours the rejection: nothing linked, nothing proposed
        again = ingest_path(store, "ofac-csv", tmp_path / "ofac")
        assert not again.written
        assert store.execute("MATCH ()-[r:SAME_AS]->() RETURN count(r) AS c") == [{"c": 0}]
    result = runner.invoke(app, ["--db", str(db), "review", "list"])
    assert "no pending pairs" in result.stdout
    bad = runner.invoke(app, ["--db", str(db), "review", "accept", "person:nobody",
                              "person:ofac-90004"])
    assert bad.exit_code == 2
