"""Prototype (not used by the product): how fast can new memorial records be written?

Compares, on an empty database, the store's current path (UNWIND ... MERGE for nodes and
MATCH ... MERGE for relations) with two alternatives the loader could use for records the
diff found to be *new*:
  create  UNWIND ... CREATE (nodes) / MATCH ... CREATE (relations), same transaction model;
  copy    COPY <table> FROM '<parquet>' per node table and per relation (from, to) pair.

Run: python -m bench.memorial_bulk_prototype [--method merge|create|copy] [--limit N]
Writes bench/results/memorial_bulk_prototype.json (one entry per method run).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from graph.embedded import EmbeddedStore, _label, _typed, _with_defaults
from graph.records import NodeRecord, RelRecord
from graph.schema import node_columns, rel_columns
from ingest.memorial import read_memorial

ARCHIVE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "iran_memorial" / \
    "iran-memorial_data_712eca0.tar.gz"
RESULTS = Path(__file__).resolve().parent / "results" / "memorial_bulk_prototype.json"


def write_create(store: EmbeddedStore, nodes: list[NodeRecord], rels: list[RelRecord]) -> None:
    """Like EmbeddedStore.write_in_transaction, but CREATE instead of MERGE (new records)."""
    with store.transaction():
        by_kind: dict[str, list[NodeRecord]] = defaultdict(list)
        for n in nodes:
            by_kind[n.kind].append(n)
        for kind, group in by_kind.items():
            cols = node_columns(kind)
            body = ", ".join(f"{c}: {_typed('row.' + c, t)}" for c, t in cols)
            cypher = f"UNWIND $rows AS row CREATE (n:{_label(kind)} {{{body}}})"
            for start in range(0, len(group), 5000):
                rows = [_with_defaults({**n.props, "id": n.id}, cols)
                        for n in group[start:start + 5000]]
                store.execute(cypher, {"rows": rows})
        by_shape: dict[tuple[str, str, str], list[RelRecord]] = defaultdict(list)
        for r in rels:
            by_shape[(r.type, r.from_kind, r.to_kind)].append(r)
        for (rt, fk, tk), shape in by_shape.items():
            cols = rel_columns(rt)
            body = ", ".join(f"{c}: {_typed('row.' + c, t)}" for c, t in cols)
            cypher = (f"UNWIND $rows AS row MATCH (a:{_label(fk)} {{id: row.from_id}}), "
                      f"(b:{_label(tk)} {{id: row.to_id}}) CREATE (a)-[r:{rt} {{{body}}}]->(b)")
            for start in range(0, len(shape), 5000):
                rows = [{**_with_defaults({**r.props, "id": r.id}, cols),
                         "from_id": r.from_id, "to_id": r.to_id}
                        for r in shape[start:start + 5000]]
                store.execute(cypher, {"rows": rows})


def write_copy(store: EmbeddedStore, nodes: list[NodeRecord], rels: list[RelRecord]) -> None:
    """COPY FROM parquet files, one per node table and per relation (from, to) pair."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def arrow_type(t: str) -> Any:
        return {"STRING": pa.string(), "INT64": pa.int64(), "DOUBLE": pa.float64(),
                "BOOLEAN": pa.bool_(), "STRING[]": pa.list_(pa.string())}[t]

    with tempfile.TemporaryDirectory() as tmp:
        by_kind: dict[str, list[NodeRecord]] = defaultdict(list)
        for n in nodes:
            by_kind[n.kind].append(n)
        for kind, group in by_kind.items():
            cols = node_columns(kind)
            rows = [_with_defaults({**n.props, "id": n.id}, cols) for n in group]
            table = pa.table({c: pa.array([r[c] for r in rows], type=arrow_type(t))
                              for c, t in cols})
            path = Path(tmp) / f"{kind}.parquet"
            pq.write_table(table, path)
            store.execute(f"COPY {_label(kind)} FROM '{path}'")
        by_shape: dict[tuple[str, str, str], list[RelRecord]] = defaultdict(list)
        for r in rels:
            by_shape[(r.type, r.from_kind, r.to_kind)].append(r)
        for (rt, fk, tk), shape in by_shape.items():
            cols = rel_columns(rt)
            rows = [_with_defaults({**r.props, "id": r.id}, cols) for r in shape]
            data: dict[str, Any] = {"from": pa.array([r.from_id for r in shape]),
                                    "to": pa.array([r.to_id for r in shape])}
            data.update({c: pa.array([row[c] for row in rows], type=arrow_type(t))
                         for c, t in cols})
            path = Path(tmp) / f"{rt}_{fk}_{tk}.parquet"
            pq.write_table(pa.table(data), path)
            store.execute(f"COPY {rt} FROM '{path}' (from='{fk}', to='{tk}')")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=("merge", "create", "copy"), default="copy")
    ap.add_argument("--limit", type=int, default=0, help="only the first N records per kind")
    args = ap.parse_args()
    bundle = read_memorial(ARCHIVE)
    nodes = list(bundle.nodes.values())
    rels = [r for r in bundle.rels.values() if r.type != "SAME_AS"]
    if args.limit:
        keep: dict[str, int] = defaultdict(int)
        kept_nodes = []
        for n in nodes:
            keep[n.kind] += 1
            if keep[n.kind] <= args.limit or n.kind in ("Organization", "Source"):
                kept_nodes.append(n)
        ids = {n.id for n in kept_nodes}
        nodes = kept_nodes
        rels = [r for r in rels if r.from_id in ids and r.to_id in ids]
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedStore(Path(tmp) / "g.lbdb")
        started = time.perf_counter()
        if args.method == "merge":
            store.write(nodes, rels)
        elif args.method == "create":
            write_create(store, nodes, rels)
        else:
            write_copy(store, nodes, rels)
        seconds = time.perf_counter() - started
        counts = store.counts()
        store.close()
    result = {"method": args.method, "nodes": len(nodes), "rels": len(rels),
              "seconds": round(seconds, 2), "stored_person": counts["Person"],
              "stored_victim_of": counts["VICTIM_OF"]}
    print(json.dumps(result))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    prior = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    RESULTS.write_text(json.dumps(prior + [result], indent=2))


if __name__ == "__main__":
    main()
