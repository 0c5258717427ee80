"""The Neo4j store: the same Store interface as the embedded store, over the official
``neo4j`` driver, for organisations that outgrow one machine (Neo4j Aura or a self-hosted
Neo4j 5 cluster).

It mirrors graph/embedded.py column for column (graph.schema.node_columns/rel_columns), so
the loader, the queries and the exports cannot tell the engines apart:

- one label per node kind (back-quoted), one relationship type per model relation, the
  same property names; constraints and indexes come from graph.neo4j_schema;
- imprecise dates are stored as their text plus ``_lo``/``_hi`` YYYYMMDD integers, never
  as Neo4j temporal values, so every date comparison in Cypher is a plain integer
  comparison, correct and identical in both engines (and index-backed in Neo4j);
- writes are batched ``UNWIND $rows AS row MERGE ... SET ...`` statements, all of one
  ``write()`` inside one managed transaction (``session.execute_write``), so a load lands
  whole or not at all, and transient errors (leader switch, deadlock) are retried by the
  driver; the work is idempotent because every write merges by id;
- named queries come from graph.catalog (dialect ``neo4j``), with a documented override
  table in graph.neo4j_overrides for texts that need a Neo4j-specific fix;
- reads run in managed read transactions, which a cluster routes to its secondaries, and
  every session shares one bookmark manager, so a read always sees this process's own
  earlier writes (causal consistency) even when served by another cluster member;
- driver errors become graph.store.StoreError with a message that says what to check.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from graph import catalog
from graph.model import NODE_KINDS, RELATION_TYPES, ids_by_kind
from graph.neo4j_schema import (
    META_LABEL,
    SHOW_CONSTRAINTS,
    SHOW_INDEXES,
    node_label,
    object_name,
    rel_type,
    schema_statements,
)
from graph.records import NodeRecord, RelRecord
from graph.schema import UNSOURCED_EXEMPT, node_columns, rel_columns
from graph.store import Store, StoreError

BATCH = 5000  # rows per UNWIND statement; one write() may run many, in one transaction

T = TypeVar("T")

_WRITE_CLAUSE = re.compile(r"\b(CREATE|MERGE|SET|DELETE|REMOVE|DETACH|FOREACH)\b", re.IGNORECASE)


# -- the statements this store issues itself (tools/dump_neo4j_cypher.py lints every one) --

def node_upsert_text(kind: str) -> str:
    cols = node_columns(kind)
    sets = ", ".join(f"n.{c} = row.{c}" for c, _ in cols if c != "id")
    return f"UNWIND $rows AS row MERGE (n:{node_label(kind)} {{id: row.id}}) SET {sets}"


def rel_upsert_text(name: str, from_kind: str, to_kind: str) -> str:
    """Both ends are matched by id (index seeks on the uniqueness constraints; written as
    ``WHERE a.id = row.from_id``, which Neo4j plans exactly like ``{id: ...}``); the count
    lets write() detect a claim whose end is missing, which MATCH would skip silently."""
    cols = rel_columns(name)
    sets = ", ".join(f"r.{c} = row.{c}" for c, _ in cols if c != "id")
    return (
        f"UNWIND $rows AS row "
        f"MATCH (a:{node_label(from_kind)}) WHERE a.id = row.from_id "
        f"MATCH (b:{node_label(to_kind)}) WHERE b.id = row.to_id "
        f"MERGE (a)-[r:{rel_type(name)} {{id: row.id}}]->(b) SET {sets} "
        f"RETURN count(r) AS written"
    )


def rel_missing_ends_text(from_kind: str, to_kind: str) -> str:
    return (
        f"UNWIND $rows AS row "
        f"OPTIONAL MATCH (a:{node_label(from_kind)}) WHERE a.id = row.from_id "
        f"OPTIONAL MATCH (b:{node_label(to_kind)}) WHERE b.id = row.to_id "
        f"WITH row, a, b WHERE a IS NULL OR b IS NULL "
        f"RETURN row.id AS id, row.from_id AS from_id, row.to_id AS to_id, "
        f"a IS NULL AS from_missing, b IS NULL AS to_missing LIMIT 10"
    )


def node_get_text(kind: str) -> str:
    ret = ", ".join(f"n.{c} AS {c}" for c, _ in node_columns(kind))
    return f"UNWIND $ids AS i MATCH (n:{node_label(kind)} {{id: i}}) RETURN {ret}"


def rel_get_text(name: str, from_kind: str, to_kind: str) -> str:
    ret = ", ".join(f"r.{c} AS {c}" for c, _ in rel_columns(name))
    return (
        f"UNWIND $rows AS row "
        f"MATCH (a:{node_label(from_kind)})-[r:{rel_type(name)} {{id: row.id}}]->"
        f"(b:{node_label(to_kind)}) WHERE a.id = row.f AND b.id = row.t "
        f"RETURN a.id AS from_id, b.id AS to_id, {ret}"
    )


def node_count_text(kind: str) -> str:
    return f"MATCH (n:{node_label(kind)}) RETURN count(n) AS c"


def rel_count_text(name: str) -> str:
    return (
        f"MATCH ()-[r:{rel_type(name)}]->() RETURN count(r) AS c, "
        f"sum(CASE WHEN r.source_ids IS NULL OR size(r.source_ids) = 0 THEN 1 ELSE 0 END) AS u"
    )


# One node outside the model holds the graph's write generation, so that every process
# using the same Neo4j database sees every other's writes (see Neo4jStore.generation).
META_ID = "graph"
GENERATION_BUMP = (
    f"MERGE (m:`{META_LABEL}` {{id: '{META_ID}'}}) "
    f"SET m.generation = coalesce(m.generation, 0) + 1 RETURN m.generation AS generation"
)
GENERATION_READ = (
    f"MATCH (m:`{META_LABEL}` {{id: '{META_ID}'}}) RETURN m.generation AS generation"
)
GENERATION_TTL = 1.0  # seconds a read generation is trusted before asking again


def own_statements() -> list[tuple[str, str, dict[str, Any]]]:
    """(name, Cypher, example parameters) of every statement the store issues itself, so
    the linter checks exactly what runs (schema, writes, reads by id, counts)."""
    node_row = {"id": "person:x"}
    out: list[tuple[str, str, dict[str, Any]]] = [
        ("schema.show_constraints", SHOW_CONSTRAINTS, {}),
        ("schema.show_indexes", SHOW_INDEXES, {}),
    ]
    out += [(name, text, {}) for name, text in schema_statements()]
    for kind in NODE_KINDS:
        out.append((f"store.node_upsert.{kind}", node_upsert_text(kind), {"rows": [node_row]}))
        out.append((f"store.node_get.{kind}", node_get_text(kind), {"ids": ["person:x"]}))
        out.append((f"store.node_count.{kind}", node_count_text(kind), {}))
    for name, rt in RELATION_TYPES.items():
        for fk, tk in rt.ends:
            shape = f"{name}.{fk}.{tk}"
            rel_row = {"id": "x", "from_id": "a", "to_id": "b"}
            out.append((f"store.rel_upsert.{shape}", rel_upsert_text(name, fk, tk),
                        {"rows": [rel_row]}))
            out.append((f"store.rel_missing_ends.{shape}", rel_missing_ends_text(fk, tk),
                        {"rows": [rel_row]}))
            out.append((f"store.rel_get.{shape}", rel_get_text(name, fk, tk),
                        {"rows": [{"f": "a", "t": "b", "id": "x"}]}))
        out.append((f"store.rel_count.{name}", rel_count_text(name), {}))
    out.append(("store.generation_bump", GENERATION_BUMP, {}))
    out.append(("store.generation_read", GENERATION_READ, {}))
    out.append(("store.ping", PING, {}))
    return out


PING = "RETURN 1 AS ok"


# -- value conversion ---------------------------------------------------------------------

def _with_defaults(props: Mapping[str, Any], columns: list[tuple[str, str]]) -> dict[str, Any]:
    """Every column present and lists never null, exactly as the embedded store writes, so
    a record read back compares equal to the one written (the loader's diff relies on it)."""
    row: dict[str, Any] = {}
    for name, typ in columns:
        value = props.get(name)
        if typ.endswith("[]"):
            value = list(value) if value is not None else []
        row[name] = value
    return row


def decode(value: Any) -> Any:
    """Driver values -> plain Python, in the shapes the embedded store returns: a node is a
    dict of its properties (every model column present) with ``_ID``/``_LABEL``, a
    relationship adds ``_SRC``/``_DST``, a path is ``{_NODES, _RELS}``; temporal values
    (never stored by this project, but possible in ad-hoc results) become ISO text."""
    from neo4j.graph import Node, Path, Relationship

    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Node):
        label = next(iter(sorted(value.labels)), None)
        out: dict[str, Any] = {"_ID": value.element_id, "_LABEL": label}
        if label in NODE_KINDS:
            out.update({c: None for c, _ in node_columns(label)})
        out.update({k: decode(v) for k, v in value.items()})
        return out
    if isinstance(value, Relationship):
        rel: dict[str, Any] = {
            "_SRC": value.start_node.element_id if value.start_node is not None else None,
            "_DST": value.end_node.element_id if value.end_node is not None else None,
            "_LABEL": value.type, "_ID": value.element_id,
        }
        if value.type in RELATION_TYPES:
            rel.update({c: None for c, _ in rel_columns(value.type)})
        rel.update({k: decode(v) for k, v in value.items()})
        return rel
    if isinstance(value, Path):
        return {"_NODES": [decode(n) for n in value.nodes],
                "_RELS": [decode(r) for r in value.relationships]}
    if isinstance(value, (list, tuple)):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    iso = getattr(value, "iso_format", None)
    if callable(iso):
        return iso()
    return value


def _overrides() -> dict[str, str]:
    from graph.neo4j_overrides import OVERRIDES

    return OVERRIDES


def query_text(name: str) -> str:
    """The Neo4j text of a named query: an override where one is documented, else the
    catalogue's ``neo4j`` text."""
    return _overrides().get(name) or catalog.text_of(name, "neo4j")


# -- error mapping ------------------------------------------------------------------------

def store_error(exc: Exception, where: str, uri: str = "") -> StoreError:
    """A driver exception as a StoreError whose message tells the user what to check."""
    from neo4j import exceptions as nx

    server = f" at {uri}" if uri else ""
    detail = getattr(exc, "message", None) or ""
    if not detail or detail == "An unknown error occurred":  # the driver's placeholder
        detail = str(exc) or type(exc).__name__
    if isinstance(exc, nx.AuthError):
        msg = (f"Neo4j{server} refused the credentials ({detail}); "
               f"check NEO4J_USER and NEO4J_PASSWORD")
    elif isinstance(exc, nx.ServiceUnavailable):
        msg = (f"cannot reach Neo4j{server} ({detail}); check NEO4J_URI and that the server "
               f"or cluster is running")
    elif isinstance(exc, nx.SessionExpired):
        msg = f"the Neo4j session expired{server} while {where} ({detail}); retry"
    elif isinstance(exc, nx.CypherSyntaxError):
        msg = f"Neo4j rejected the Cypher of {where} as invalid: {detail}"
    elif isinstance(exc, nx.ConstraintError):
        msg = f"Neo4j refused {where}: a constraint would be violated ({detail})"
    elif isinstance(exc, nx.TransientError):
        msg = (f"Neo4j kept failing with a transient error while {where}, even after "
               f"retries ({detail}); the cluster may be overloaded or electing a leader")
    elif isinstance(exc, nx.ClientError):
        code = getattr(exc, "code", None) or ""
        if "Database.DatabaseNotFound" in code:
            msg = f"Neo4j{server} has no such database ({detail}); check NEO4J_DATABASE"
        elif "Security.Forbidden" in code:
            msg = f"the Neo4j user may not do {where} ({detail}); check the user's roles"
        else:
            msg = f"Neo4j refused {where}: {detail}"
    elif isinstance(exc, nx.Neo4jError):
        msg = f"Neo4j failed while {where}: {detail}"
    elif isinstance(exc, nx.ConfigurationError):
        msg = f"the Neo4j configuration is not usable ({detail}); check NEO4J_URI"
    else:
        msg = f"Neo4j driver error while {where}: {detail}"
    return StoreError(msg)


# -- the store ----------------------------------------------------------------------------

class Neo4jStore(Store):
    dialect = "neo4j"

    def __init__(self, uri: str, user: str | None = None, password: str | None = None,
                 database: str | None = None, *, ensure_schema: bool = True,
                 batch: int = BATCH, driver_config: Mapping[str, Any] | None = None) -> None:
        """Connect (and check the connection at once, so a wrong URI or password fails here
        with a clear message, not at the first query). ``ensure_schema`` creates the
        constraints and indexes of graph.neo4j_schema (idempotent)."""
        import neo4j

        self.uri = uri
        self.database = database or None
        self.batch = max(1, int(batch))
        self._generation = 0
        self._generation_read_at = float("-inf")
        self._local = threading.local()  # the explicit transaction open in this thread
        auth = (user or "neo4j", password) if password is not None else None
        try:
            self._driver = neo4j.GraphDatabase.driver(uri, auth=auth, **dict(driver_config or {}))
        except (ValueError, neo4j.exceptions.DriverError) as exc:
            raise store_error(exc, "connecting", uri) from exc
        self._bookmarks = neo4j.GraphDatabase.bookmark_manager()
        try:
            self._driver.verify_connectivity()
        except Exception as exc:  # every failure is reported as a StoreError
            self._driver.close()
            if isinstance(exc, (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError)):
                raise store_error(exc, "connecting", uri) from exc
            raise StoreError(f"cannot connect to Neo4j at {uri}: {exc}") from exc
        try:  # the database itself (NEO4J_DATABASE) answers, not only the server
            self.execute(PING, where=f"opening the database {self.database or '(default)'}")
        except StoreError:
            self._driver.close()
            raise
        if ensure_schema:
            self.ensure_schema()

    @classmethod
    def from_env(cls, **kwargs: Any) -> Neo4jStore:
        """Configured by NEO4J_URI (required), NEO4J_USER (default ``neo4j``; NEO4J_USERNAME
        is read too, as Aura's credential files name it), NEO4J_PASSWORD (no password = no
        authentication) and NEO4J_DATABASE (default: the server's default database)."""
        uri = os.environ.get("NEO4J_URI", "").strip()
        if not uri:
            raise StoreError(
                "the Neo4j store needs NEO4J_URI (e.g. bolt://localhost:7687 for one server, "
                "neo4j://host:7687 for a cluster, neo4j+s://<id>.databases.neo4j.io for Aura), "
                "and NEO4J_USER / NEO4J_PASSWORD / NEO4J_DATABASE as needed")
        user = os.environ.get("NEO4J_USER") or os.environ.get("NEO4J_USERNAME") or "neo4j"
        password = os.environ.get("NEO4J_PASSWORD")
        database = os.environ.get("NEO4J_DATABASE") or None
        return cls(uri, user, password, database, **kwargs)

    # -- sessions and transactions ----------------------------------------------------
    def _session(self) -> Any:
        return self._driver.session(database=self.database, bookmark_manager=self._bookmarks)

    @contextmanager
    def _errors(self, where: str) -> Iterator[None]:
        from neo4j import exceptions as nx

        try:
            yield
        except (nx.Neo4jError, nx.DriverError) as exc:
            raise store_error(exc, where, self.uri) from exc

    def read(self, work: Callable[[Any], T], where: str = "reading") -> T:
        """Run ``work(tx)`` in a managed read transaction (retried on transient errors), or
        in the explicit transaction open in this thread, so that it sees its writes."""
        open_tx = getattr(self._local, "tx", None)
        if open_tx is not None:
            with self._errors(where):
                return work(open_tx)
        with self._errors(where), self._session() as session:
            return session.execute_read(work)

    def write_tx(self, work: Callable[[Any], T], where: str = "writing") -> T:
        """Run ``work(tx)`` in one managed write transaction: committed when it returns,
        rolled back when it raises, retried as a whole on transient errors. The same
        transaction bumps the graph's generation."""
        bumped: list[int] = []

        def with_bump(tx: Any) -> T:
            result = work(tx)
            record = tx.run(GENERATION_BUMP).single()
            bumped[:] = [int(record["generation"]) if record is not None else 0]
            return result

        with self._errors(where), self._session() as session:
            result = session.execute_write(with_bump)
        self._generation = bumped[0] if bumped else self._generation + 1
        self._generation_read_at = time.monotonic()
        return result

    @staticmethod
    def _rows(tx: Any, cypher: str, params: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        result = tx.run(cypher, dict(params or {}))
        keys = list(result.keys())
        return [dict(zip(keys, (decode(v) for v in record.values()))) for record in result]

    def execute(self, cypher: str, params: Mapping[str, Any] | None = None, *,
                write: bool | None = None, where: str | None = None) -> list[dict[str, Any]]:
        """Run raw Cypher in one managed transaction (read or write, guessed from the text
        unless ``write`` is given); for this package, migrations and tests only."""
        if write is None:
            write = bool(_WRITE_CLAUSE.search(cypher))
        label = where or "running a statement"

        def work(tx: Any) -> list[dict[str, Any]]:
            return self._rows(tx, cypher, params)

        open_tx = getattr(self._local, "tx", None)
        if open_tx is not None:  # inside transaction(): join it
            with self._errors(label):
                return work(open_tx)
        return self.write_tx(work, label) if write else self.read(work, label)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """An explicit write transaction for callers that group several ``execute``/
        ``write`` calls (as with the embedded store's ``transaction()``): committed when
        the block ends, rolled back if it raises. Unlike ``write()``, an explicit
        transaction is not retried on transient errors (the block is the caller's code)."""
        if getattr(self._local, "tx", None) is not None:
            yield  # nested: part of the enclosing transaction
            return
        with self._errors("writing"), self._session() as session:
            tx = session.begin_transaction()
            self._local.tx = tx
            try:
                yield
                record = tx.run(GENERATION_BUMP).single()
                tx.commit()
            except BaseException:
                if not tx.closed():
                    tx.rollback()
                raise
            finally:
                self._local.tx = None
        self._generation = (int(record["generation"]) if record is not None
                            else self._generation + 1)
        self._generation_read_at = time.monotonic()

    def ensure_schema(self) -> None:
        """Create the constraints and indexes that do not exist yet (each in its own
        transaction: Neo4j does not mix schema and data changes in one). Existing ones are
        listed first, so a routine open costs two round trips."""
        from neo4j.exceptions import ClientError

        with self._errors("creating the constraints and indexes"), self._session() as session:
            try:
                existing = {r["name"] for q in (SHOW_CONSTRAINTS, SHOW_INDEXES)
                            for r in session.run(q).data()}
            except ClientError:  # not allowed to list them: create each IF NOT EXISTS
                existing = set()
            for _, text in schema_statements():
                if object_name(text) not in existing:
                    session.run(text).consume()

    # -- Store interface ---------------------------------------------------------------
    def run(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        text = query_text(name)
        return self.execute(text, params, where=f"the query '{name}'")

    def write(self, nodes: Sequence[NodeRecord], rels: Sequence[RelRecord]) -> None:
        if not nodes and not rels:
            return
        open_tx = getattr(self._local, "tx", None)
        if open_tx is not None:  # inside transaction(): join it
            with self._errors("writing"):
                self.write_in_transaction(open_tx, nodes, rels)
            return
        self.write_tx(lambda tx: self.write_in_transaction(tx, nodes, rels),
                      f"writing {len(nodes)} node(s) and {len(rels)} relation(s)")

    def write_in_transaction(self, tx: Any, nodes: Sequence[NodeRecord],
                             rels: Sequence[RelRecord]) -> None:
        by_kind: dict[str, list[NodeRecord]] = defaultdict(list)
        for node in nodes:
            by_kind[node.kind].append(node)
        for kind, group in by_kind.items():
            cols = node_columns(kind)
            cypher = node_upsert_text(kind)
            for start in range(0, len(group), self.batch):
                rows = [_with_defaults({**n.props, "id": n.id}, cols)
                        for n in group[start:start + self.batch]]
                tx.run(cypher, {"rows": rows}).consume()
        by_shape: dict[tuple[str, str, str], list[RelRecord]] = defaultdict(list)
        for rel in rels:
            by_shape[(rel.type, rel.from_kind, rel.to_kind)].append(rel)
        for (name, fk, tk), shape in by_shape.items():
            cols = rel_columns(name)
            cypher = rel_upsert_text(name, fk, tk)
            for start in range(0, len(shape), self.batch):
                rows = [
                    {**_with_defaults({**r.props, "id": r.id}, cols),
                     "from_id": r.from_id, "to_id": r.to_id}
                    for r in shape[start:start + self.batch]
                ]
                record = tx.run(cypher, {"rows": rows}).single()
                written = int(record["written"]) if record is not None else 0
                if written < len(rows):
                    self._missing_ends(tx, name, fk, tk, rows)

    def _missing_ends(self, tx: Any, name: str, fk: str, tk: str,
                      rows: list[dict[str, Any]]) -> None:
        """Raise (so the transaction rolls back) naming the claims whose end is missing."""
        found = self._rows(tx, rel_missing_ends_text(fk, tk), {"rows": rows})
        what = "; ".join(
            f"{r['id']}: {'from ' + r['from_id'] if r['from_missing'] else ''}"
            f"{' and ' if r['from_missing'] and r['to_missing'] else ''}"
            f"{'to ' + r['to_id'] if r['to_missing'] else ''} not in the graph"
            for r in found
        )
        raise StoreError(f"{name} claim(s) refer to a node that does not exist, nothing "
                         f"was written: {what or 'duplicate ids in one batch'}")

    def get_nodes(self, ids: Iterable[str]) -> dict[str, NodeRecord]:
        by_kind = ids_by_kind(ids)
        if not by_kind:
            return {}

        def work(tx: Any) -> dict[str, NodeRecord]:
            found: dict[str, NodeRecord] = {}
            for kind, kind_ids in by_kind.items():
                cypher = node_get_text(kind)
                cols = node_columns(kind)
                for start in range(0, len(kind_ids), self.batch):
                    chunk = kind_ids[start:start + self.batch]
                    for row in self._rows(tx, cypher, {"ids": chunk}):
                        found[row["id"]] = NodeRecord(kind, row["id"], _with_defaults(row, cols))
            return found

        return self.read(work, "reading nodes by id")

    def get_rels(self, rels: Sequence[RelRecord]) -> dict[str, RelRecord]:
        by_shape: dict[tuple[str, str, str], list[RelRecord]] = defaultdict(list)
        for rel in rels:
            by_shape[(rel.type, rel.from_kind, rel.to_kind)].append(rel)
        if not by_shape:
            return {}

        def work(tx: Any) -> dict[str, RelRecord]:
            found: dict[str, RelRecord] = {}
            for (name, fk, tk), group in by_shape.items():
                cypher = rel_get_text(name, fk, tk)
                cols = rel_columns(name)
                for start in range(0, len(group), self.batch):
                    chunk = [{"f": r.from_id, "t": r.to_id, "id": r.id}
                             for r in group[start:start + self.batch]]
                    for row in self._rows(tx, cypher, {"rows": chunk}):
                        from_id, to_id = row.pop("from_id"), row.pop("to_id")
                        found[row["id"]] = RelRecord(name, row["id"], from_id, to_id, fk, tk,
                                                     _with_defaults(row, cols))
            return found

        return self.read(work, "reading relations by id")

    def counts(self) -> dict[str, int]:
        def work(tx: Any) -> dict[str, int]:
            out: dict[str, int] = {}
            for kind in NODE_KINDS:
                out[kind] = int(self._rows(tx, node_count_text(kind), None)[0]["c"])
            unsourced = 0
            for name in RELATION_TYPES:
                row = self._rows(tx, rel_count_text(name), None)[0]
                out[name] = int(row["c"])
                if name not in UNSOURCED_EXEMPT:
                    unsourced += int(row["u"] or 0)
            out["unsourced_claims"] = unsourced
            return out

        return self.read(work, "counting")

    @property
    def generation(self) -> int:
        """The database's write counter, bumped inside every write transaction of every
        process. In-process caches (the search index, the networkx projection) reload when
        it moves, so several API servers over one Neo4j never serve a stale cache for more
        than GENERATION_TTL seconds after another server's write (this process's own writes
        are seen at once)."""
        now = time.monotonic()
        if now - self._generation_read_at >= GENERATION_TTL:
            rows = self.execute(GENERATION_READ, where="reading the graph generation")
            self._generation = int(rows[0]["generation"] or 0) if rows else 0
            self._generation_read_at = now
        return self._generation

    def close(self) -> None:
        self._driver.close()
