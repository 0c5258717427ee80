"""``accgraph migrate --to neo4j``: copy the embedded graph into Neo4j, in batches, with
progress, resumable after an interruption.

How it stays safe on a large graph:

- the embedded database is opened read-only and read table by table in id order with
  keyset pagination (``WHERE n.id > $last ORDER BY n.id LIMIT batch``), so memory stays
  bounded by one batch whatever the graph's size;
- each batch is written to Neo4j by ``Neo4jStore.write`` (``UNWIND ... MERGE`` by id, one
  transaction per batch), so re-writing a batch changes nothing: a crash between the commit
  and the checkpoint only means that batch is merged again;
- after every committed batch the last id of the table is recorded in a checkpoint file
  beside the embedded database (``<db>.neo4j-migrate.json``, replaced atomically), and
  ``--resume`` continues from there; nodes are copied before relations, so every
  relation's ends exist when it is written;
- at the end the node and relation counts of both stores are compared and printed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from graph.model import NODE_KINDS, RELATION_TYPES
from graph.records import NodeRecord, RelRecord
from graph.schema import node_columns, rel_columns
from graph.store import Store, StoreError
from ingest.progress import Progress

DEFAULT_BATCH = 5000
CHECKPOINT_VERSION = 1

_out = Console()
_err = Console(stderr=True)


def checkpoint_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".neo4j-migrate.json")


def _lb_label(kind: str) -> str:
    return f"`{kind}`"


def source_node_page_text(kind: str, batch: int) -> str:
    ret = ", ".join(f"n.{c} AS {c}" for c, _ in node_columns(kind))
    return (f"MATCH (n:{_lb_label(kind)}) WHERE n.id > $last RETURN {ret} "
            f"ORDER BY n.id LIMIT {int(batch)}")


def source_rel_page_text(name: str, from_kind: str, to_kind: str, batch: int) -> str:
    ret = ", ".join(f"r.{c} AS {c}" for c, _ in rel_columns(name))
    return (f"MATCH (a:{_lb_label(from_kind)})-[r:{name}]->(b:{_lb_label(to_kind)}) "
            f"WHERE r.id > $last RETURN a.id AS from_id, b.id AS to_id, {ret} "
            f"ORDER BY r.id LIMIT {int(batch)}")


def table_keys() -> list[tuple[str, str, str | None, str | None]]:
    """(checkpoint key, node kind or relation type, from kind, to kind), in copy order."""
    keys: list[tuple[str, str, str | None, str | None]] = [
        (f"node:{kind}", kind, None, None) for kind in NODE_KINDS
    ]
    for name, rt in RELATION_TYPES.items():
        for fk, tk in rt.ends:
            keys.append((f"rel:{name}:{fk}:{tk}", name, fk, tk))
    return keys


@dataclass
class Checkpoint:
    path: Path
    target: str
    batch: int
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    @classmethod
    def load(cls, path: Path) -> Checkpoint | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(f"the migration checkpoint {path} is unreadable ({exc}); "
                             f"delete it to start over") from exc
        if data.get("version") != CHECKPOINT_VERSION:
            raise StoreError(f"the migration checkpoint {path} has an unknown version; "
                             f"delete it to start over")
        return cls(path, data["target"], int(data["batch"]), data.get("tables", {}),
                   float(data.get("started", time.time())))

    def save(self) -> None:
        data = {"version": CHECKPOINT_VERSION, "target": self.target, "batch": self.batch,
                "started": self.started, "tables": self.tables}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)  # atomic: a crash leaves the old or the new checkpoint

    def table(self, key: str) -> dict[str, Any]:
        return self.tables.setdefault(key, {"last": "", "copied": 0, "done": False})

    @property
    def finished(self) -> bool:
        return all(self.table(key)["done"] for key, *_ in table_keys())


@dataclass
class MigrationReport:
    copied: dict[str, int] = field(default_factory=dict)
    skipped_done: list[str] = field(default_factory=list)
    source_counts: dict[str, int] = field(default_factory=dict)
    target_counts: dict[str, int] = field(default_factory=dict)
    resumed: bool = False
    seconds: float = 0.0

    @property
    def mismatches(self) -> dict[str, tuple[int, int]]:
        return {k: (v, self.target_counts.get(k, 0)) for k, v in self.source_counts.items()
                if self.target_counts.get(k, 0) != v}

    def to_json(self) -> dict[str, Any]:
        return {
            "resumed": self.resumed, "seconds": round(self.seconds, 3),
            "copied": self.copied, "tables_already_done": self.skipped_done,
            "source_counts": self.source_counts, "target_counts": self.target_counts,
            "mismatches": {k: {"source": a, "target": b} for k, (a, b) in self.mismatches.items()},
        }


def _pages(source: Any, text: str, start: str) -> Iterator[list[dict[str, Any]]]:
    last = start
    while True:
        rows = source.execute(text, {"last": last})
        if not rows:
            return
        yield rows
        last = rows[-1]["id"]


def target_name(target: Store) -> str:
    uri = getattr(target, "uri", "") or type(target).__name__
    return f"{uri}/{getattr(target, 'database', None) or '(default database)'}"


def migrate_embedded(source: Any, target: Store, checkpoint: Path, *, batch: int = DEFAULT_BATCH,
                     resume: bool = False, progress: Progress | None = None,
                     after_batch: Callable[[str, int], None] | None = None) -> MigrationReport:
    """Copy ``source`` (an EmbeddedStore) into ``target`` (a Neo4jStore), batch by batch.

    ``after_batch(table_key, rows)`` is called after each committed, checkpointed batch
    (the tests interrupt a migration there)."""
    started = time.perf_counter()
    progress = progress or Progress.quiet()
    report = MigrationReport()
    name = target_name(target)
    prior = Checkpoint.load(checkpoint) if resume else None
    if prior is not None and prior.target != name:
        raise StoreError(f"the checkpoint {checkpoint} belongs to a migration to {prior.target}, "
                         f"not {name}; delete it or point NEO4J_URI/NEO4J_DATABASE there")
    state = prior or Checkpoint(checkpoint, name, batch)
    report.resumed = prior is not None
    state.batch = batch
    state.save()
    report.source_counts = source.counts()

    for key, table, fk, tk in table_keys():
        entry = state.table(key)
        if entry["done"]:
            report.skipped_done.append(key)
            continue
        is_node = fk is None
        text = (source_node_page_text(table, batch) if is_node
                else source_rel_page_text(table, fk or "", tk or "", batch))
        single_shape = is_node or len(RELATION_TYPES[table].ends) == 1
        total = report.source_counts.get(table, 0) if single_shape else None
        label = f"{table}" if is_node else f"{table} ({fk}->{tk})"
        with progress.task(f"copying {label}", total=total) as tick:
            if entry["copied"]:
                tick(int(entry["copied"]))
            for rows in _pages(source, text, entry["last"]):
                if is_node:
                    target.write([NodeRecord(table, r["id"], r) for r in rows], [])
                else:
                    rels = []
                    for r in rows:
                        from_id, to_id = r.pop("from_id"), r.pop("to_id")
                        rels.append(RelRecord(table, r["id"], from_id, to_id, fk or "", tk or "", r))
                    target.write([], rels)
                entry["last"] = rows[-1]["id"]
                entry["copied"] = int(entry["copied"]) + len(rows)
                report.copied[key] = report.copied.get(key, 0) + len(rows)
                state.save()
                tick(len(rows))
                if after_batch is not None:
                    after_batch(key, len(rows))
        entry["done"] = True
        state.save()
    report.target_counts = target.counts()
    report.seconds = time.perf_counter() - started
    return report


def _print_report(report: MigrationReport, checkpoint: Path) -> None:
    table = Table(title="embedded -> Neo4j")
    for col in ("kind / type", "embedded", "neo4j", ""):
        table.add_column(col, justify="left" if col == "kind / type" else "right")
    for key, n in report.source_counts.items():
        m = report.target_counts.get(key, 0)
        table.add_row(key, f"{n:,}", f"{m:,}", "" if m == n else "[yellow]differs")
    _out.print(table)
    if report.mismatches:
        _err.print("[yellow]counts differ[/]: the Neo4j database held other data before, or "
                   "the embedded graph changed during the copy; re-run to merge again.")
    else:
        _out.print(f"[green]migrated[/] in {report.seconds:.1f}s; counts match. "
                   f"(checkpoint: {checkpoint})")


def register(app: typer.Typer) -> None:
    @app.command()
    def migrate(
        ctx: typer.Context,
        to: str = typer.Option(..., "--to", help="Target store: neo4j (configured by "
                               "NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE)."),
        batch: int = typer.Option(DEFAULT_BATCH, "--batch", min=1,
                                  help="Records per read and per Neo4j transaction."),
        resume: bool = typer.Option(False, "--resume",
                                    help="Continue an interrupted migration from its checkpoint."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    ) -> None:
        """Copy the embedded graph (--db) into Neo4j in batches, with progress; resumable
        (--resume) after an interruption, and idempotent (writes merge by id)."""
        from cli.context import EXIT_STORE, EXIT_USAGE, fail, state_of
        from graph.config import resolve_db_path
        from graph.embedded import EmbeddedStore
        from graph.neo4j_store import Neo4jStore

        if to.lower() != "neo4j":
            fail(f"cannot migrate to '{to}' (expected: neo4j)", EXIT_USAGE)
        state = state_of(ctx)
        db_path = resolve_db_path(state.db)
        checkpoint = checkpoint_path(db_path)
        if not resume and checkpoint.exists():
            _err.print(f"an earlier migration left {checkpoint}; starting over "
                       f"(use --resume to continue it instead)")
        progress = Progress(console=_err, enabled=not quiet and not as_json)
        source = EmbeddedStore(db_path, read_only=True)
        try:
            with Neo4jStore.from_env() as target:
                try:
                    report = migrate_embedded(source, target, checkpoint, batch=batch,
                                              resume=resume, progress=progress)
                except KeyboardInterrupt:
                    _err.print(f"[yellow]interrupted[/]: committed batches are recorded in "
                               f"{checkpoint}; run again with --resume to continue.")
                    raise typer.Exit(EXIT_STORE) from None
        finally:
            source.close()
        if as_json:
            _out.print_json(json.dumps(report.to_json()))
        else:
            _print_report(report, checkpoint)
