"""The embedded store: LadybugDB in-process, one database file, schema made from the model.

Kùzu 0.11.3 speaks the same dialect and API and is the documented fallback
(``ACCGRAPH_ENGINE=kuzu``); only one of the two is ever imported in a process.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from graph import catalog
from graph.model import NODE_KINDS, RELATION_TYPES
from graph.records import NodeRecord, RelRecord
from graph.schema import UNSOURCED_EXEMPT, node_columns, rel_columns
from graph.space import ensure_room
from graph.store import Store, StoreError

_BATCH = 5000
_BULK_THRESHOLD = 2000
_SCAN_THRESHOLD = 500  # claims of one shape: above this, one table scan beats lookups
_DEFAULT_BUFFER_POOL = 1 << 30  # 1 GiB keeps peak memory bounded on a 2-core, shared box


def load_engine() -> ModuleType:
    """Import LadybugDB, or Kùzu when asked to (never both)."""
    wanted = os.environ.get("ACCGRAPH_ENGINE", "ladybug").lower()
    if wanted not in ("ladybug", "kuzu"):
        raise StoreError(f"ACCGRAPH_ENGINE must be 'ladybug' or 'kuzu', not '{wanted}'")
    try:
        return importlib.import_module(wanted)
    except ImportError as exc:
        raise StoreError(
            f"the embedded engine '{wanted}' is not installed (pip install {wanted})"
        ) from exc


def _label(kind: str) -> str:
    return f"`{kind}`"  # `Case` is a reserved word in this dialect


def _typed(expr: str, typ: str) -> str:
    """Cast non-string columns: a batch whose values are all null is typed STRING otherwise."""
    return expr if typ == "STRING" else f"CAST({expr} AS {typ})"


def _with_defaults(props: Mapping[str, Any], columns: list[tuple[str, str]]) -> dict[str, Any]:
    """Every column present, lists never None, so UNWIND sees one struct type per batch."""
    row: dict[str, Any] = {}
    for name, typ in columns:
        value = props.get(name)
        if typ.endswith("[]") and value is None:
            value = []
        row[name] = value
    return row


class EmbeddedStore(Store):
    dialect = "ladybug"

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self._engine = load_engine()
        self._local = threading.local()
        self._pool: list[Any] = []
        self._pool_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._generation = 0
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise StoreError(f"no database at {self.path}")
        pool = int(os.environ.get("ACCGRAPH_BUFFER_POOL", _DEFAULT_BUFFER_POOL))
        self.recovered = False
        try:
            self._db = self._engine.Database(str(self.path), buffer_pool_size=pool,
                                             read_only=read_only)
        except RuntimeError as exc:
            if "wal" not in str(exc).lower() or read_only:
                raise StoreError(f"cannot open the database at {self.path}: {exc}") from exc
            # A process killed mid-write leaves a WAL whose last records are torn (their
            # checksum fails). The engine refuses to open it by default; replaying up to the
            # first bad record is the standard recovery (every committed transaction lies
            # before the torn tail; the interrupted one never committed and is dropped).
            try:
                self._db = self._engine.Database(str(self.path), buffer_pool_size=pool,
                                                 throw_on_wal_replay_failure=False)
            except (RuntimeError, TypeError) as exc2:  # TypeError: Kùzu 0.11 lacks the option
                raise StoreError(f"cannot open the database at {self.path}: {exc2}") from exc2
            self.recovered = True
            logging.getLogger("accgraph.store").warning(
                "%s: an interrupted write was found and discarded (%s)", self.path, exc)
        self._read_only = read_only
        if not read_only:
            self._ensure_schema()

    # -- connections -------------------------------------------------------------------
    # Connections are pooled, not per thread: a web server's worker threads come and go,
    # and opening a connection costs far more than a query. A transaction pins its
    # connection to the thread until it ends.
    def _acquire(self) -> Any:
        with self._pool_lock:
            if self._pool:
                return self._pool.pop()
        return self._engine.Connection(self._db)

    def _release(self, conn: Any) -> None:
        with self._pool_lock:
            self._pool.append(conn)

    def execute(self, cypher: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run raw Cypher (for this package and the schema only; others use ``run``)."""
        pinned = getattr(self._local, "conn", None)
        conn = pinned if pinned is not None else self._acquire()
        try:
            result = conn.execute(cypher, dict(params or {}))
            if isinstance(result, list):
                result = result[-1]
            columns = result.get_column_names()
            rows: list[dict[str, Any]] = []
            while result.has_next():
                rows.append(dict(zip(columns, result.get_next())))
            return rows
        except RuntimeError as exc:
            raise StoreError(str(exc)) from exc
        finally:
            if pinned is None:
                self._release(conn)

    # -- schema ------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        """Create tables from the model; add columns the model gained since the file was made."""
        existing = {r["name"] for r in self.execute("CALL show_tables() RETURN *")}
        for kind in NODE_KINDS:
            cols = node_columns(kind)
            if kind not in existing:
                body = ", ".join(f"{n} {t}" for n, t in cols)
                self.execute(f"CREATE NODE TABLE {_label(kind)}({body}, PRIMARY KEY(id))")
            else:
                self._add_missing_columns(kind, cols)
        for rel_type, rel in RELATION_TYPES.items():
            cols = rel_columns(rel_type)
            if rel_type not in existing:
                pairs = ", ".join(f"FROM {_label(a)} TO {_label(b)}" for a, b in rel.ends)
                body = ", ".join(f"{n} {t}" for n, t in cols)
                self.execute(f"CREATE REL TABLE {rel_type}({pairs}, {body})")
            else:
                self._add_missing_columns(rel_type, cols)

    def _add_missing_columns(self, table: str, cols: list[tuple[str, str]]) -> None:
        have = {r["name"] for r in self.execute(f"CALL table_info('{table}') RETURN *")}
        for name, typ in cols:
            if name not in have:
                self.execute(f"ALTER TABLE {_label(table)} ADD {name} {typ}")

    # -- Store interface ---------------------------------------------------------------
    def run(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.execute(catalog.text_of(name, self.dialect), params)

    def run_arrow(self, name: str, params: Mapping[str, Any] | None = None) -> Any:
        """The rows of a named query as one ``pyarrow.Table`` straight from the engine
        (whole-table reads for the in-process projection and caches)."""
        pinned = getattr(self._local, "conn", None)
        conn = pinned if pinned is not None else self._acquire()
        try:
            result = conn.execute(catalog.text_of(name, self.dialect), dict(params or {}))
            if isinstance(result, list):
                result = result[-1]
            return result.get_as_arrow(chunk_size=1_000_000)
        except RuntimeError as exc:
            raise StoreError(str(exc)) from exc
        finally:
            if pinned is None:
                self._release(conn)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; rolled back on any error, so a load lands whole or not."""
        if self._read_only:
            raise StoreError(f"the database at {self.path} is open read-only")
        ensure_room(self.path)  # the engine aborts the process on ENOSPC (graph/space.py)
        with self._write_lock:
            self._local.conn = self._acquire()
            try:
                self.execute("BEGIN TRANSACTION")
            except BaseException:
                self._release(self._local.conn)
                self._local.conn = None
                raise
            try:
                yield
            except BaseException:
                try:
                    self.execute("ROLLBACK")
                except StoreError:
                    pass
                raise
            else:
                try:
                    self.execute("COMMIT")
                except StoreError:
                    try:
                        self.execute("ROLLBACK")
                    except StoreError:
                        pass
                    raise
                self._generation += 1
            finally:
                conn, self._local.conn = self._local.conn, None
                if conn is not None:
                    self._release(conn)

    def write(self, nodes: Sequence[NodeRecord], rels: Sequence[RelRecord]) -> None:
        with self.transaction():
            self.write_in_transaction(nodes, rels)

    def write_changes(self, new_nodes: Sequence[NodeRecord], changed_nodes: Sequence[NodeRecord],
                      new_rels: Sequence[RelRecord], changed_rels: Sequence[RelRecord]) -> None:
        """New records are appended with COPY from Arrow tables (graph.bulk), changed ones
        upserted; all in one transaction. Small loads keep the plain path: COPY has a fixed
        cost per table that only pays off from a few hundred rows."""
        if len(new_nodes) + len(new_rels) < _BULK_THRESHOLD:
            self.write([*new_nodes, *changed_nodes], [*new_rels, *changed_rels])
            return
        from graph.bulk import write_mixed

        write_mixed(self, new_nodes, changed_nodes, new_rels, changed_rels)

    def write_in_transaction(self, nodes: Sequence[NodeRecord], rels: Sequence[RelRecord]) -> None:
        by_kind: dict[str, list[NodeRecord]] = defaultdict(list)
        for node in nodes:
            by_kind[node.kind].append(node)
        for kind, group in by_kind.items():
            cols = node_columns(kind)
            sets = ", ".join(f"n.{c} = {_typed('row.' + c, t)}" for c, t in cols if c != "id")
            cypher = f"UNWIND $rows AS row MERGE (n:{_label(kind)} {{id: row.id}}) SET {sets}"
            for start in range(0, len(group), _BATCH):
                rows = [_with_defaults({**n.props, "id": n.id}, cols)
                        for n in group[start:start + _BATCH]]
                self.execute(cypher, {"rows": rows})
        by_shape: dict[tuple[str, str, str], list[RelRecord]] = defaultdict(list)
        for rel in rels:
            by_shape[(rel.type, rel.from_kind, rel.to_kind)].append(rel)
        for (rel_type, fk, tk), rel_group in by_shape.items():
            cols = rel_columns(rel_type)
            sets = ", ".join(f"r.{c} = {_typed('row.' + c, t)}" for c, t in cols if c != "id")
            cypher = (
                f"UNWIND $rows AS row MATCH (a:{_label(fk)} {{id: row.from_id}}), "
                f"(b:{_label(tk)} {{id: row.to_id}}) "
                f"MERGE (a)-[r:{rel_type} {{id: row.id}}]->(b) SET {sets}"
            )
            for start in range(0, len(rel_group), _BATCH):
                rows = [
                    {**_with_defaults({**r.props, "id": r.id}, cols),
                     "from_id": r.from_id, "to_id": r.to_id}
                    for r in rel_group[start:start + _BATCH]
                ]
                self.execute(cypher, {"rows": rows})

    def get_nodes(self, ids: Iterable[str]) -> dict[str, NodeRecord]:
        from graph.model import ids_by_kind

        by_kind = ids_by_kind(ids)
        found: dict[str, NodeRecord] = {}
        for kind, kind_ids in by_kind.items():
            cols = [c for c, _ in node_columns(kind)]
            ret = ", ".join(f"n.{c} AS {c}" for c in cols)
            for start in range(0, len(kind_ids), _BATCH):
                chunk = kind_ids[start:start + _BATCH]
                cypher = (f"UNWIND $ids AS i MATCH (n:{_label(kind)} {{id: i}}) RETURN {ret}")
                for row in self.execute(cypher, {"ids": chunk}):
                    found[row["id"]] = NodeRecord(kind, row["id"], row)
        return found

    def get_rels(self, rels: Sequence[RelRecord]) -> dict[str, RelRecord]:
        """Stored versions of these claims. In this engine ``UNWIND $rows MATCH (a {id:
        row.f})-[r]->(b)`` scans the relation table on every call, whereas a pattern anchored
        on one parameter is an index lookup; so few claims are looked up one anchor at a
        time, and many are read by one scan of their table and filtered here."""
        by_shape: dict[tuple[str, str, str], list[RelRecord]] = defaultdict(list)
        for rel in rels:
            by_shape[(rel.type, rel.from_kind, rel.to_kind)].append(rel)
        found: dict[str, RelRecord] = {}
        for (rel_type, fk, tk), group in by_shape.items():
            cols = [c for c, _ in rel_columns(rel_type)]
            ret = ", ".join(f"r.{c} AS {c}" for c in cols)
            shape = f"(a:{_label(fk)}{{}})-[r:{rel_type}]->(b:{_label(tk)})"
            returns = f"RETURN a.id AS from_id, b.id AS to_id, {ret}"
            wanted = {r.id for r in group}
            if len(group) > _SCAN_THRESHOLD:
                rows = self.execute(f"MATCH {shape.format('')} {returns}")
            else:
                rows = []
                one = f"MATCH {shape.format(' {id: $f}')} WHERE r.id = $id {returns}"
                for rel in group:
                    rows.extend(self.execute(one, {"f": rel.from_id, "id": rel.id}))
            for row in rows:
                if row["id"] in wanted:
                    from_id, to_id = row.pop("from_id"), row.pop("to_id")
                    found[row["id"]] = RelRecord(rel_type, row["id"], from_id, to_id, fk, tk, row)
        return found

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for kind in NODE_KINDS:
            out[kind] = self.execute(f"MATCH (n:{_label(kind)}) RETURN count(n) AS c")[0]["c"]
        unsourced = 0
        for rel_type in RELATION_TYPES:
            row = self.execute(
                f"MATCH ()-[r:{rel_type}]->() RETURN count(r) AS c, "
                f"sum(CASE WHEN r.source_ids IS NULL OR size(r.source_ids) = 0 "
                f"THEN 1 ELSE 0 END) AS u"
            )[0]
            out[rel_type] = row["c"]
            if rel_type not in UNSOURCED_EXEMPT:
                unsourced += int(row["u"] or 0)
        out["unsourced_claims"] = unsourced
        return out

    @property
    def generation(self) -> int:
        return self._generation

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, []
        for conn in pool:
            conn.close()
        self._db.close()
