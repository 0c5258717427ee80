"""The embedded store: LadybugDB in-process, one database file, schema made from the model.

Kùzu 0.11.3 speaks the same dialect and API and is the documented fallback
(``ACCGRAPH_ENGINE=kuzu``); only one of the two is ever imported in a process.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import os
import re
import shutil
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
# A read-only serving worker's pool (``serving_buffer_pool``): its in-process caches are read
# through a pool of their own that is closed afterwards (``queries.chunked.build_reader``),
# so this one holds only what requests touch; bounded, it bounds the worker.
_SERVING_BUFFER_POOL = 128 << 20
# Private working directories beside a database: ``.<db name>.tmp-<pid>-<n>`` (a database
# being built for a first load, spooled Arrow files). Removed when done, and on the next
# read-write open when the process that made them is gone (killed mid-load).
_SCRATCH_RE = re.compile(r"^\.(?P<db>.+)\.tmp-(?P<pid>\d+)-\d+$")
_scratch_counter = itertools.count()
_LOAD_BUFFER_POOL = 512 << 20  # a first load's pool: it holds one table's COPY at a time


def serving_buffer_pool() -> int:
    """The buffer pool of a read-only server worker: ``ACCGRAPH_BUFFER_POOL`` (bytes, also
    what ``serve --buffer-pool-mib`` sets) when given, else 128 MiB. Requests touch pages
    here, and the pool keeps what it touched up to its size: at 1 GiB a worker's memory
    grew towards 1 GiB above its caches over time. The pool is paid once per worker, and
    the hierarchy, the name index and the projection are read in process, so the engine
    answers only the rest. Measured at scale 1 (LadybugDB 0.22), 400 inputs each of chain,
    search, paths, accountability, profile and linked, shuffled, two passes, alternating
    runs: at 128 MiB as fast as at 256 (accountability p95 66-71 ms against 66-70, chain
    6.2 against 6.3-6.4, paths 11.6-11.7 against 12.5), no "buffer pool full" error, in
    process and through two workers of 4 request threads each (the caches' whole-table
    reads go through readers of their own: ``queries.chunked``). A whole-graph export at
    scale 1 is not sized for a worker at any of these pools."""
    env = os.environ.get("ACCGRAPH_BUFFER_POOL")
    return int(env) if env else _SERVING_BUFFER_POOL


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


def _owner_alive(pid: int, made: Path) -> bool:
    """Whether the process that made the scratch directory ``made`` still runs (a pid
    reused by a process started after the directory was made does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        started = Path(f"/proc/{pid}").stat().st_ctime
        return started <= made.stat().st_mtime + 1
    except OSError:
        return True


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class EmbeddedStore(Store):
    dialect = "ladybug"

    def __init__(self, path: str | Path, *, read_only: bool = False,
                 buffer_pool: int | None = None) -> None:
        self.path = Path(path)
        self._engine = load_engine()
        self._local = threading.local()
        self._pool: list[Any] = []
        self._pool_lock = threading.Lock()
        # connections handed out and not yet back; a swap (``_swap_in``) waits for none
        self._pool_cond = threading.Condition(self._pool_lock)
        self._checked_out = 0
        self._swapping = False
        self._write_lock = threading.Lock()
        self._generation = 0
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise StoreError(f"no database at {self.path}")
        self._buffer_pool = (buffer_pool if buffer_pool is not None
                             else int(os.environ.get("ACCGRAPH_BUFFER_POOL", _DEFAULT_BUFFER_POOL)))
        self._read_only = read_only
        self.recovered = False
        # stored column orders by table (``stored_columns``), for this database file
        self._layouts: dict[str, list[tuple[str, str]]] = {}
        self._db = self._open()
        if not read_only:
            self._ensure_schema()
            self._remove_stale_scratch()

    def _open(self) -> Any:
        pool, read_only = self._buffer_pool, self._read_only
        try:
            return self._engine.Database(str(self.path), buffer_pool_size=pool,
                                         read_only=read_only)
        except RuntimeError as exc:
            if "wal" not in str(exc).lower() or read_only:
                raise StoreError(f"cannot open the database at {self.path}: {exc}") from exc
            # A process killed mid-write leaves a WAL whose last records are torn (their
            # checksum fails). The engine refuses to open it by default; replaying up to the
            # first bad record is the standard recovery (every committed transaction lies
            # before the torn tail; the interrupted one never committed and is dropped).
            try:
                db = self._engine.Database(str(self.path), buffer_pool_size=pool,
                                           throw_on_wal_replay_failure=False)
            except (RuntimeError, TypeError) as exc2:  # TypeError: Kùzu 0.11 lacks the option
                raise StoreError(f"cannot open the database at {self.path}: {exc2}") from exc2
            self.recovered = True
            logging.getLogger("accgraph.store").warning(
                "%s: an interrupted write was found and discarded (%s)", self.path, exc)
            return db

    # -- connections -------------------------------------------------------------------
    # Connections are pooled, not per thread: a web server's worker threads come and go,
    # and opening a connection costs far more than a query. A transaction pins its
    # connection to the thread until it ends.
    def _acquire(self) -> Any:
        with self._pool_cond:
            while self._swapping:  # the database is being replaced (a first bulk load)
                self._pool_cond.wait()
            self._checked_out += 1
            if self._pool:
                return self._pool.pop()
            db = self._db
        try:
            return self._engine.Connection(db)
        except BaseException:
            with self._pool_cond:
                self._checked_out -= 1
                self._pool_cond.notify_all()
            raise

    def _release(self, conn: Any) -> None:
        with self._pool_cond:
            self._pool.append(conn)
            self._checked_out -= 1
            self._pool_cond.notify_all()

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
                self._layouts.clear()
                self.execute(f"ALTER TABLE {_label(table)} ADD {name} {typ}")

    def stored_columns(self, table: str) -> list[tuple[str, str]]:
        """Property columns of ``table`` in stored order (the order ``COPY`` maps by), as
        (name, type). Cached per database file: the order changes only when this store
        adds a column (``_add_missing_columns``, at open) or swaps in another file
        (``_swap_in``), and reading it is a query per table that a bulk write would
        otherwise repeat for every table it copies (five per OFAC load, under a
        transaction that other threads' Python work slows down)."""
        layout = self._layouts.get(table)
        if layout is None:
            rows = self.execute(f"CALL table_info('{table}') RETURN *")
            rows.sort(key=lambda r: r["property id"])
            layout = [(r["name"], r["type"]) for r in rows]
            self._layouts[table] = layout
        return list(layout)

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

    # -- a first load: built beside the store, then swapped in ----------------------------
    @contextmanager
    def scratch_dir(self) -> Iterator[Path]:
        """A new private directory beside the database, removed when the block ends (or,
        after a crash, on the next read-write open). Beside, not in /tmp: on the same file
        system a rename out of it is atomic, and what it holds counts against the room the
        database has (``graph.space``)."""
        where = self.path.parent / f".{self.path.name}.tmp-{os.getpid()}-{next(_scratch_counter)}"
        where.mkdir()
        try:
            yield where
        finally:
            shutil.rmtree(where, ignore_errors=True)

    def _remove_stale_scratch(self) -> None:
        """Remove scratch directories of processes that are gone (killed mid-load)."""
        try:
            entries = list(self.path.parent.iterdir())
        except OSError:
            return
        for entry in entries:
            m = _SCRATCH_RE.match(entry.name)
            if m is None or m["db"] != self.path.name or not entry.is_dir():
                continue
            if not _owner_alive(int(m["pid"]), entry):
                shutil.rmtree(entry, ignore_errors=True)

    def _holds_nodes(self) -> bool:
        for kind in NODE_KINDS:
            if self.execute(f"MATCH (n:{_label(kind)}) RETURN n.id AS id LIMIT 1"):
                return True
        return False

    @contextmanager
    def first_load(self, buffer_pool: int | None = None,
                   need: int = 0) -> Iterator[EmbeddedStore | None]:
        """For a bulk load into an empty graph: a new database built beside this one and
        swapped in for it when the block ends without an error.

        Yields a new ``EmbeddedStore`` (same schema, in a scratch directory) when this graph
        holds no node, else None (and the caller writes here, in a transaction, as usual).
        The caller may ``COPY`` into the new store in auto-commit mode, table by table: the
        engine then writes the pages straight to the file (no WAL, no transaction held in
        the buffer pool), which is both faster and bounded in memory, and nobody can see
        the half-built database. When the block ends, the new database is checkpointed and
        closed, this one is closed, and the new file is renamed over this one (one
        ``rename``: a crash before it leaves the old, empty database, a crash after it the
        new one, whole), then reopened: ``generation`` moves on as after a commit. If the
        block raises, the new database is deleted and this one is untouched. ``need``
        (bytes): the room the caller expects to use beside the database, checked first
        (``graph.space.ensure_room``), so a full disk is a clear error, not an engine abort.

        Holds the write lock throughout (other writers wait, as for a transaction; do not
        open a transaction on this store inside the block). Readers keep reading the old,
        empty database until the swap, which waits for their connections to come back.
        The built database's buffer pool is ``buffer_pool`` or ``load_buffer_pool()``:
        auto-commit ``COPY`` from files needs the pool for one table at a time (benchmark
        scale 1, 4.3M records, loads in 512 MiB with a peak of about 770 MB for the
        engine; its 550,000-row Person table does not fit in 256 MiB).
        One writer per database is assumed (the engine takes no file lock): a second
        process writing the same file during the load would be overwritten by the swap."""
        if self._read_only:
            raise StoreError(f"the database at {self.path} is open read-only")
        if not self.path.is_file() or str(self.path) == ":memory:":
            yield None
            return
        ensure_room(self.path, need, "a first load writes a new database file beside this "
                                     "one, and spools its tables there")
        self._write_lock.acquire()
        try:
            empty = not self._holds_nodes()
        except BaseException:
            self._write_lock.release()
            raise
        if not empty:
            self._write_lock.release()
            yield None
            return
        try:
            scratch = self.scratch_dir()
            where = scratch.__enter__()
        except OSError:  # no room beside the database (read-only directory): load in place
            self._write_lock.release()
            yield None
            return
        try:
            built_path = where / self.path.name
            built = EmbeddedStore(built_path, buffer_pool=buffer_pool or self.load_buffer_pool())
            try:
                yield built
                built.execute("CHECKPOINT")
            finally:
                built.close()
            self._swap_in(built_path)
        finally:
            try:
                scratch.__exit__(None, None, None)
            finally:
                self._write_lock.release()

    def load_buffer_pool(self) -> int:
        """The buffer pool of a first load's new database: ``ACCGRAPH_LOAD_BUFFER_POOL``
        (bytes), else the smaller of 512 MiB and this store's pool."""
        return int(os.environ.get("ACCGRAPH_LOAD_BUFFER_POOL",
                                  min(self._buffer_pool, _LOAD_BUFFER_POOL)))

    @property
    def buffer_pool(self) -> int:
        return self._buffer_pool

    @property
    def read_only(self) -> bool:
        """Opened read-only: nothing in this process changes the file, so another
        read-only ``Database`` on it (``queries.chunked.build_reader``) reads the same
        graph."""
        return self._read_only

    def _swap_in(self, built: Path) -> None:
        """Replace this database by the closed, checkpointed database file ``built`` with
        one rename, and reopen it. Waits until no connection is out (new ones wait)."""
        for suffix in (".wal", ".shadow"):
            side = Path(f"{built}{suffix}")
            if side.exists() and side.stat().st_size:
                raise StoreError(f"the new database left a {suffix} file after its checkpoint; "
                                 "nothing was swapped in")
        with self._pool_cond:
            self._swapping = True
            while self._checked_out:
                self._pool_cond.wait()
            pool, self._pool = self._pool, []
        try:
            for conn in pool:
                conn.close()
            self._db.close()
            # A clean close leaves no WAL; one left here belongs to the old, empty database
            # and must not be replayed onto the new file.
            for suffix in (".wal", ".shadow"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            os.replace(built, self.path)
            _fsync_dir(self.path.parent)
        finally:
            self._layouts.clear()  # another file: read its layouts afresh
            try:
                self._db = self._open()
            finally:
                with self._pool_cond:
                    self._swapping = False
                    self._pool_cond.notify_all()
        self._generation += 1

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
