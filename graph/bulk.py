"""A bulk-load path for the embedded store: ``COPY <table> FROM $arrow_table`` inside one
write transaction, for records that are all *new* (ids not yet in the graph).

Why: ``EmbeddedStore.write`` upserts with ``UNWIND ... MERGE`` in batches of 5,000, which
costs an index lookup and a Cypher plan per row and tops out at a few thousand relations
per second. ``COPY`` hands the engine a columnar Arrow table and lets it append pages
directly, tens of times faster (figures below). The price is that ``COPY`` only
*appends*: it cannot update an existing node or relation.

Atomicity (checked against LadybugDB 0.22, see tests/reliability/test_bulk.py):

- ``COPY`` runs inside ``BEGIN TRANSACTION`` ... ``COMMIT``, together with ordinary
  Cypher writes (MERGE/SET) in the same transaction, and ``ROLLBACK`` undoes it.
- When a ``COPY`` fails inside a transaction (duplicate primary key, a relation end that
  does not exist, a type the column cannot take), the engine aborts the *whole*
  transaction itself: every earlier ``COPY`` and write of that transaction is undone and
  the following ``ROLLBACK`` reports "No active transaction", which
  ``EmbeddedStore.transaction`` tolerates. So a bulk load lands whole or not at all, as the
  ordinary write path does; a process killed mid-load leaves the WAL without a commit
  record and reopening the database discards it.
- Never run ``COPY`` in auto-commit mode on a table that may already hold one of the ids:
  LadybugDB 0.22 crashed the process (SIGSEGV) on a duplicate primary key there, while the
  same error inside an explicit transaction is a clean exception. The one exception is
  ``copy_tables_autocommit``/``copy_file`` into the new database of a first load
  (``EmbeddedStore.first_load``): nobody sees it until it is swapped in whole, it is
  deleted if anything fails, and the caller checks every node id for uniqueness first.
- Relations have no primary key in the engine, so a relation copied twice would simply
  exist twice. The caller must pass only relations whose ids are not yet stored (the
  loader's diff marks them "added"); node ids are re-checked by the engine.

Memory (measured on the 2-core machine, benchmark scale 1: 1M nodes, 3.3M relations,
a database of ~840 MB):

- In one transaction, the pages the load writes stay in the buffer pool until it commits,
  so the whole load must fit in the pool: a 4 GiB pool and a 5.1 GB process at scale 1
  (and a 35 s commit). ``COPY ... FROM $arrow_table`` also holds about five times the
  table in the pool (a 55,000-row Person table did not fit in 256 MiB).
- Auto-commit ``COPY`` from a Parquet file (``write_copy_file`` + ``copy_file``) into
  the empty tables of a new database writes the pages straight to the file (no WAL) and
  reads the file in row groups: scale 1 loads with a 512 MiB pool at a peak of about
  770 MB for the whole process. That is the first-load path of the native Arrow path.

Speed: the engine's own floor at scale 1, every table copied from Parquet files already
in storage columns (auto-commit, 2 threads), is about 50 CPU seconds (9 for Person alone,
half of it its ``name_keys`` list; 7-12 us per relation, most of it the property columns,
which the engine stores for both directions: ``source_ids`` alone is a third).

The columns of each Arrow table follow the table's *stored* column order
(``CALL table_info``), because ``COPY`` maps columns by position, not by name.

Threads: the engine runs ``COPY`` and ``COMMIT`` on its own threads and releases the GIL
meanwhile (checked: a sleeping Python thread wakes every few ms during both), so the
records of the next table are converted to Arrow while the engine copies the one before
(``_run_copies``), and the loader lets other Python work run during the whole write
(``ingest.loader.WriteCompanion``). An OFAC write after the seed graph, measured alone:
about 0.2 s of Arrow conversion, 0.3 s of COPYs, 0.35 s of COMMIT (its checkpoint).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from graph.embedded import EmbeddedStore, _label
from graph.records import NodeRecord, RelRecord
from graph.schema import node_columns, rel_columns
from graph.store import StoreError

_TYPES: dict[str, Any] = {}


def _arrow() -> Any:
    try:
        import pyarrow as pa
    except ImportError as exc:  # pragma: no cover - pyarrow is a dependency of bulk loads
        raise StoreError("bulk loading needs pyarrow (pip install pyarrow)") from exc
    if not _TYPES:
        _TYPES.update({
            "STRING": pa.string(), "INT64": pa.int64(), "DOUBLE": pa.float64(),
            "BOOLEAN": pa.bool_(), "STRING[]": pa.list_(pa.string()),
        })  # fmt: skip
    return pa


@dataclass
class BulkStats:
    """What a bulk write appended, per node kind / relation table shape."""

    nodes: dict[str, int] = field(default_factory=dict)
    rels: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.nodes.values()) + sum(self.rels.values())


def _stored_columns(store: EmbeddedStore, table: str) -> list[tuple[str, str]]:
    """Property columns of ``table`` in stored order (the order ``COPY`` maps by); the
    store caches them (``EmbeddedStore.stored_columns``)."""
    return store.stored_columns(table)


def _column(pa: Any, values: list[Any], typ: str) -> Any:
    arrow_type = _TYPES.get(typ)
    if arrow_type is None:
        raise StoreError(f"bulk load cannot write a column of type {typ}")
    if typ == "STRING[]":
        values = [[] if v is None else list(v) for v in values]
    return pa.array(values, type=arrow_type)


def _column_arrays(pa: Any, props: list[dict[str, Any]], columns: list[tuple[str, str]]
                   ) -> list[Any]:
    """``_prop_arrays`` column by column (the reference, and the path that words errors)."""
    return [_column(pa, [p.get(n) for p in props], t) for n, t in columns]


def _prop_arrays(pa: Any, props: list[dict[str, Any]], columns: list[tuple[str, str]]
                 ) -> list[Any]:
    """One Arrow array per column of ``columns``, read from the records' property dicts.

    pyarrow converts the whole list of dicts to a struct array in C, one pass for every
    column (for an OFAC load 0.11 s instead of 0.6 s column by column, more than the COPYs
    took); a missing list becomes the empty list, as the column-by-column path writes it.
    A value the struct conversion refuses sends the load column by column, so its error
    reads as it always has."""
    for _, typ in columns:
        if typ not in _TYPES:
            raise StoreError(f"bulk load cannot write a column of type {typ}")
    if not columns:
        return []
    try:
        struct = pa.array(props, type=pa.struct([(n, _TYPES[t]) for n, t in columns]))
    except (TypeError, ValueError, OverflowError, NotImplementedError, pa.ArrowException):
        return _column_arrays(pa, props, columns)
    out = []
    for (_, typ), array in zip(columns, struct.flatten(), strict=True):
        if typ == "STRING[]" and array.null_count:
            array = array.fill_null(pa.scalar([], type=array.type))
        out.append(array)
    return out


def _node_table(pa: Any, columns: list[tuple[str, str]], kind: str,
                group: Sequence[NodeRecord]) -> Any:
    """The Arrow table of new nodes of one kind, in the stored column order ``columns``."""
    model_types = dict(node_columns(kind))
    columns = [(name, model_types.get(name, typ)) for name, typ in columns]
    props = [(name, typ) for name, typ in columns if name != "id"]
    by_name = dict(zip((n for n, _ in props), _prop_arrays(pa, [n.props for n in group], props)))
    by_name["id"] = pa.array([n.id for n in group], type=pa.string())
    names = [name for name, _ in columns]
    return pa.Table.from_arrays([by_name[n] for n in names], names=names)


def _rel_table(pa: Any, columns: list[tuple[str, str]], rel_type: str,
               group: Sequence[RelRecord]) -> Any:
    """The Arrow table of new relations of one shape, ends first, then ``columns``."""
    model_types = dict(rel_columns(rel_type))
    columns = [(name, model_types.get(name, typ)) for name, typ in columns]
    props = [(name, typ) for name, typ in columns if name != "id"]
    by_name = dict(zip((n for n, _ in props), _prop_arrays(pa, [r.props for r in group], props)))
    by_name["id"] = pa.array([r.id for r in group], type=pa.string())
    names = [name for name, _ in columns]
    arrays = [pa.array([r.from_id for r in group], type=pa.string()),
              pa.array([r.to_id for r in group], type=pa.string())]
    return pa.Table.from_arrays(arrays + [by_name[n] for n in names], names=["from", "to"] + names)


def _check_unique(nodes: Sequence[NodeRecord], rels: Sequence[RelRecord]) -> None:
    """No id twice among ``nodes``, nor among ``rels``: checked at C speed by set sizes
    (the loader's records come from dicts, so they always pass); the loop below only
    runs to name the first id that repeats."""
    if (len({n.id for n in nodes}) == len(nodes)
            and len({r.id for r in rels}) == len(rels)):
        return
    seen: set[str] = set()
    for n in nodes:
        if n.id in seen:
            raise StoreError(f"bulk load: node id '{n.id}' appears twice in the input")
        seen.add(n.id)
    seen.clear()
    for r in rels:
        if r.id in seen:
            raise StoreError(f"bulk load: claim id '{r.id}' appears twice in the input")
        seen.add(r.id)


@dataclass
class _Copy:
    """One ``COPY`` of a bulk write: its statement, how to build its Arrow table, and the
    line of ``BulkStats`` it adds."""

    cypher: str
    build: Callable[[], Any]
    stat: tuple[str, str, int]  # ("nodes" or "rels", key, rows)


def _copies(store: EmbeddedStore, pa: Any, nodes: Sequence[NodeRecord],
            rels: Sequence[RelRecord]) -> list[_Copy]:
    """The COPYs appending ``nodes`` then ``rels``: one per node kind and one per relation
    shape, in order of first appearance. The stored column orders are read here, in the
    transaction's own thread (the tables may be built in another, ``_run_copies``)."""
    layouts: dict[str, list[tuple[str, str]]] = {}

    def layout(table: str) -> list[tuple[str, str]]:  # once per table, not per shape
        if table not in layouts:
            layouts[table] = _stored_columns(store, table)
        return layouts[table]

    by_kind: dict[str, list[NodeRecord]] = defaultdict(list)
    for node in nodes:
        by_kind[node.kind].append(node)
    out: list[_Copy] = []
    for kind, group in by_kind.items():
        out.append(_Copy(f"COPY {_label(kind)} FROM $rows",
                         partial(_node_table, pa, layout(kind), kind, group),
                         ("nodes", kind, len(group))))
    by_shape: dict[tuple[str, str, str], list[RelRecord]] = defaultdict(list)
    for rel in rels:
        by_shape[(rel.type, rel.from_kind, rel.to_kind)].append(rel)
    for (rel_type, fk, tk), rel_group in by_shape.items():
        out.append(_Copy(f"COPY {rel_type} FROM $rows (from='{fk}', to='{tk}')",
                         partial(_rel_table, pa, layout(rel_type), rel_type, rel_group),
                         ("rels", f"{rel_type}({fk}->{tk})", len(rel_group))))
    return out


def _run_copies(store: EmbeddedStore, copies: Sequence[_Copy], stats: BulkStats) -> None:
    """Run the COPYs in order, building each one's Arrow table in a helper thread while the
    engine copies the one before (it copies without the GIL, and converting the records
    to Arrow is a fifth of an OFAC write). One table is built ahead at most, so memory
    stays about what one table at a time took."""
    if not copies:
        return
    if len(copies) == 1:
        table = copies[0].build()
        store.execute(copies[0].cypher, {"rows": table})
        _count(stats, copies[0])
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-arrow") as pool:
        ahead: list[Future[Any]] = [pool.submit(copies[0].build)]
        try:
            for i, copy in enumerate(copies):
                table = ahead.pop().result()
                if i + 1 < len(copies):
                    ahead.append(pool.submit(copies[i + 1].build))
                store.execute(copy.cypher, {"rows": table})
                del table
                _count(stats, copy)
        finally:
            for fut in ahead:  # a COPY failed: the table built ahead is not needed
                fut.cancel()


def _count(stats: BulkStats, copy: _Copy) -> None:
    what, key, rows = copy.stat
    (stats.nodes if what == "nodes" else stats.rels)[key] = rows


def bulk_write_in_transaction(store: EmbeddedStore, nodes: Sequence[NodeRecord],
                              rels: Sequence[RelRecord]) -> BulkStats:
    """Append new nodes, then new relations, with ``COPY``; the caller holds the
    transaction (``with store.transaction(): ...``). Ordinary ``write_in_transaction``
    calls may share that transaction (before or after), so a load that mixes new and
    changed records is still one atomic unit."""
    pa = _arrow()
    _check_unique(nodes, rels)
    stats = BulkStats()
    _run_copies(store, _copies(store, pa, nodes, rels), stats)
    return stats


def _arrange(pa: Any, table: Any, columns: Sequence[tuple[str, str]],
             model_types: Mapping[str, str], lead: Sequence[str] = ()) -> Any:
    """``table`` with the stored column order (``COPY`` maps by position) and the model's
    Arrow types; a column the table lacks is written as nulls. One chunk per column: the
    engine's Arrow scan stopped at an empty chunk (a table concatenated from parts, one
    of them empty, lost the rows after it)."""
    if any(col.num_chunks != 1 for col in table.columns):
        table = table.combine_chunks()
    arrays, names = [], []
    for name, typ in [*((c, "STRING") for c in lead), *columns]:
        arrow_type = _TYPES.get(model_types.get(name, typ))
        if arrow_type is None:
            raise StoreError(f"bulk load cannot write a column of type {typ}")
        if name in table.column_names:
            col = table.column(name)
            arrays.append(col if col.type == arrow_type else col.cast(arrow_type))
        else:
            arrays.append(pa.nulls(table.num_rows, arrow_type))
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


def copy_tables_in_transaction(store: EmbeddedStore, nodes: Mapping[str, Any],
                               rels: Mapping[tuple[str, str, str], Any]) -> BulkStats:
    """Append Arrow tables that are already in storage columns (``ingest.native_arrow``):
    ``nodes`` per kind (``id`` and the node columns), ``rels`` per (type, from kind, to
    kind) (``from``, ``to`` and the claim columns). The caller holds the transaction and
    guarantees every id is new; a node id already stored makes the engine abort the
    transaction (nothing is written), a relation is not re-checked (see the module doc).

    Each table is copied and then dropped from ``nodes``/``rels`` if they are mutable
    dicts, so its memory can go back before the next one is copied."""
    return _copy_tables(store, nodes, rels)


def copy_tables_autocommit(store: EmbeddedStore, nodes: Mapping[str, Any],
                           rels: Mapping[tuple[str, str, str], Any]) -> BulkStats:
    """``copy_tables_in_transaction`` with one auto-commit ``COPY`` per table, for a
    database nobody else sees yet: the new file of ``EmbeddedStore.first_load``, which is
    discarded whole when the load fails, so the load stays atomic. Into an empty table the
    engine then writes the pages straight to the file, without a WAL and without holding
    the load in its buffer pool (see the module doc for the figures).

    The caller guarantees that every node id is unique across the tables it copies (the
    native Arrow path checks it before each copy): the engine's error on a duplicate key
    in auto-commit mode is not trusted here (module doc)."""
    return _copy_tables(store, nodes, rels)


def _copy_tables(store: EmbeddedStore, nodes: Mapping[str, Any],
                 rels: Mapping[tuple[str, str, str], Any]) -> BulkStats:
    pa = _arrow()
    stats = BulkStats()
    for kind in list(nodes):
        table = _arrange(pa, nodes[kind], _stored_columns(store, kind), dict(node_columns(kind)))
        store.execute(f"COPY {_label(kind)} FROM $rows", {"rows": table})
        stats.nodes[kind] = table.num_rows
        del table
        if isinstance(nodes, dict):
            del nodes[kind]
    for key in list(rels):
        rel_type, fk, tk = key
        table = _arrange(pa, rels[key], _stored_columns(store, rel_type),
                         dict(rel_columns(rel_type)), lead=("from", "to"))
        store.execute(f"COPY {rel_type} FROM $rows (from='{fk}', to='{tk}')", {"rows": table})
        stats.rels[f"{rel_type}({fk}->{tk})"] = table.num_rows
        del table
        if isinstance(rels, dict):
            del rels[key]
    return stats


def stored_layout(store: EmbeddedStore, table: str) -> list[tuple[str, str]]:
    """The columns ``COPY`` maps by position, in stored order: for a relation table the
    two ends first (``from``, ``to``), then the properties."""
    from graph.model import NODE_KINDS

    columns = _stored_columns(store, table)
    return columns if table in NODE_KINDS else [("from", "STRING"), ("to", "STRING"), *columns]


def arrange(table: Any, what: str, layout: list[tuple[str, str]]) -> Any:
    """``table`` (storage columns of node kind or relation type ``what``) in ``layout``
    (``stored_layout``), with the model's Arrow types: what ``COPY`` takes, from Arrow or
    from a file written from it."""
    from graph.model import NODE_KINDS

    pa = _arrow()
    types = dict(node_columns(what) if what in NODE_KINDS else rel_columns(what))
    return _arrange(pa, table, layout, types)


# Rows per Parquet row group of a copy file: the engine scans a file's row groups in
# parallel (a 550,000-row Person file written as one group was copied by one thread).
_ROW_GROUP = 1 << 15


def write_copy_file(table: Any, path: Any) -> None:
    """Write an arranged table as the file ``copy_file`` copies: Parquet, plain encoding,
    no compression (both ends cost CPU that a scratch file beside the database does not
    need). Parquet, not Arrow IPC: the engine reads a Parquet file in row groups, with
    bounded memory, whereas ``COPY ... FROM $arrow_table`` held about five times the
    table's size in its buffer pool (a 55,000-row Person table did not fit in 256 MiB)."""
    import pyarrow.parquet as pq

    pq.write_table(table, str(path), compression="none", use_dictionary=False,
                   write_statistics=False, row_group_size=_ROW_GROUP)


def copy_file(store: EmbeddedStore, what: str, path: Any,
              ends: tuple[str, str] | None = None) -> None:
    """``COPY`` a file written by ``write_copy_file`` (or a list of them: one ``COPY``,
    which into an empty table costs a fifth less than one per file) into node table
    ``what``, or into relation table ``what`` between node kinds ``ends``. The same rules
    as for Arrow tables apply: inside a transaction, or auto-commit into a database nobody
    sees yet (``copy_tables_autocommit``)."""
    paths = [str(p) for p in path] if isinstance(path, (list, tuple)) else [str(path)]
    for text in paths:
        if "'" in text or "\\" in text:
            raise StoreError(f"cannot copy from a path with quotes or backslashes: {text}")
    source = (f"'{paths[0]}'" if len(paths) == 1
              else "[" + ", ".join(f"'{p}'" for p in paths) + "]")
    if ends:
        store.execute(f"COPY {what} FROM {source} (from='{ends[0]}', to='{ends[1]}')")
    else:
        store.execute(f"COPY {_label(what)} FROM {source}")


def bulk_write(store: EmbeddedStore, nodes: Sequence[NodeRecord],
               rels: Sequence[RelRecord]) -> BulkStats:
    """Append records that are all new, in one transaction: all or nothing.

    Raises ``StoreError`` (and leaves the database as it was) when a node id already
    exists, a relation end is missing, or a value does not fit its column."""
    if not nodes and not rels:
        return BulkStats()
    with store.transaction():
        return bulk_write_in_transaction(store, nodes, rels)


def write_mixed(store: EmbeddedStore, new_nodes: Sequence[NodeRecord],
                changed_nodes: Sequence[NodeRecord], new_rels: Sequence[RelRecord],
                changed_rels: Sequence[RelRecord]) -> BulkStats:
    """The loader's one atomic write: new records by ``COPY``, changed ones by the
    ordinary upsert, in one transaction. New nodes go first (changed relations may point
    at them), then changed nodes, then new relations (which may point at either), then
    changed relations."""
    with store.transaction():
        if changed_nodes:
            stats = bulk_write_in_transaction(store, new_nodes, [])
            store.write_in_transaction(changed_nodes, [])
            stats.rels = bulk_write_in_transaction(store, [], new_rels).rels
        else:  # one pipeline of COPYs (``_run_copies``), in the same order
            stats = bulk_write_in_transaction(store, new_nodes, new_rels)
        if changed_rels:
            store.write_in_transaction([], changed_rels)
    return stats


def is_empty(store: EmbeddedStore, tables: Mapping[str, Any] | None = None) -> bool:
    """True when the graph holds no node at all (every record of a load is then new, and
    the loader may skip its diff)."""
    from graph.model import NODE_KINDS

    for kind in tables or NODE_KINDS:
        if store.execute(f"MATCH (n:{_label(kind)}) RETURN n.id AS id LIMIT 1"):
            return False
    return True
