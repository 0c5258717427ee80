"""The whole graph read into memory as plain records, the one input of every export.

Every export (RDF, GraphML/GEXF, native CSV, dossier) starts from a ``Snapshot`` so that
restricted records are filtered in exactly one place: with ``include_restricted=False``
restricted nodes are dropped, every relation touching one is dropped, and every citation of
a restricted source is removed from ``source_ids`` lists (a readable source id such as
``source:testimony-of-...`` can itself identify a witness). Nothing in a public snapshot
says that anything was withheld: counts of restricted records are not shown to callers
without the right role either.

The graph is read through named queries (one per node kind and one per relation type,
generated from ``graph.model`` and registered in ``graph.catalog``), so the exports work on
any store that implements the small ``Store`` interface.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graph import catalog
from graph.model import NODE_KINDS, RELATION_TYPES, kind_of_id
from graph.records import NodeRecord, RelRecord
from graph.schema import node_columns, rel_columns
from graph.store import Store

NODE_QUERY = "export.nodes.{kind}"
REL_QUERY = "export.rels.{type}"


def _label(name: str) -> str:
    return f"`{name}`"  # `Case` is reserved in Ladybug; back quotes are valid Cypher in Neo4j too


def _register_queries() -> None:
    """One named query per node kind and relation type, generated from the model."""
    for kind in NODE_KINDS:
        cols = ", ".join(f"n.{c} AS {c}" for c, _ in node_columns(kind))
        text = f"MATCH (n:{_label(kind)}) RETURN {cols} ORDER BY n.id"
        catalog.register(NODE_QUERY.format(kind=kind), ladybug=text, neo4j=text,
                         doc=f"every {kind} node with all its storage columns (exports)")
    for rel_type in RELATION_TYPES:
        cols = ", ".join(f"r.{c} AS {c}" for c, _ in rel_columns(rel_type))
        text = (f"MATCH (a)-[r:{rel_type}]->(b) RETURN a.id AS _from_id, b.id AS _to_id, "
                f"{cols} ORDER BY r.id, a.id, b.id")
        catalog.register(REL_QUERY.format(type=rel_type), ladybug=text, neo4j=text,
                         doc=f"every {rel_type} relation with its ends and claim columns (exports)")


_register_queries()


def store_location(store: Store) -> str:
    """Where the data came from: the database file's absolute path, or the store's kind."""
    path = getattr(store, "path", None)
    if path:
        try:
            return str(Path(path).resolve())
        except OSError:
            return str(path)
    return type(store).__name__


def software_version() -> str:
    """The installed version of the package (recorded in every export)."""
    try:
        from importlib.metadata import version

        return version("accountability-graph")
    except Exception:  # noqa: BLE001 - running from a source tree without metadata
        return "unknown"


def rel_order(r: RelRecord) -> tuple[str, str, str, str]:
    return (r.type, r.id, r.from_id, r.to_id)


def _strip_sources(ids: Any, hidden: set[str]) -> list[str]:
    return [i for i in (ids or []) if i not in hidden]


@dataclass
class Snapshot:
    """Nodes and relations by id (sorted), and what the snapshot was taken from."""

    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    # A list, not a dict: a claim id is unique per type and pair of ends, not globally.
    rels: list[RelRecord] = field(default_factory=list)
    include_restricted: bool = True
    taken_at: str = ""
    database: str = ""

    def nodes_of(self, kind: str) -> list[NodeRecord]:
        return [n for n in self.nodes.values() if n.kind == kind]

    def rels_of(self, rel_type: str) -> list[RelRecord]:
        return [r for r in self.rels if r.type == rel_type]

    def canonical(self) -> dict[str, Any]:
        """A plain, ordered form of the data (no timestamps), for hashing and comparing."""
        return {
            "nodes": [[n.kind, n.id, {k: n.props.get(k) for k in sorted(n.props)}]
                      for n in sorted(self.nodes.values(), key=lambda n: n.id)],
            "rels": [[r.type, r.id, r.from_id, r.to_id,
                      {k: r.props.get(k) for k in sorted(r.props)}]
                     for r in sorted(self.rels, key=rel_order)],
        }

    def content_hash(self) -> str:
        """sha256 over the canonical JSON of the data: the same graph (and filtering) always
        gives the same hash, so a court file can show which data an export was made from."""
        text = json.dumps(self.canonical(), sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for n in self.nodes.values():
            out[n.kind] = out.get(n.kind, 0) + 1
        for r in self.rels:
            out[r.type] = out.get(r.type, 0) + 1
        return out


def take_snapshot(store: Store, *, include_restricted: bool = True) -> Snapshot:
    """Read every node and relation of ``store``; see the module docstring for filtering."""
    snap = Snapshot(include_restricted=include_restricted,
                    taken_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    database=store_location(store))
    all_nodes: dict[str, NodeRecord] = {}
    for kind in NODE_KINDS:
        for row in store.run(NODE_QUERY.format(kind=kind)):
            props = dict(row)
            node_id = props["id"]
            all_nodes[node_id] = NodeRecord(kind, node_id, props)
    hidden = {i for i, n in all_nodes.items() if n.props.get("restricted")}
    if include_restricted:
        hidden = set()
    for node_id, node in all_nodes.items():
        if node_id in hidden:
            continue
        if hidden:
            node.props["source_ids"] = _strip_sources(node.props.get("source_ids"), hidden)
            names = node.props.get("names")
            if names:
                entries = json.loads(names)
                for e in entries:
                    e["source_ids"] = _strip_sources(e.get("source_ids"), hidden)
                node.props["names"] = json.dumps(entries, ensure_ascii=False, sort_keys=True)
        snap.nodes[node_id] = node
    for rel_type in RELATION_TYPES:
        for row in store.run(REL_QUERY.format(type=rel_type)):
            props = dict(row)
            from_id, to_id = props.pop("_from_id"), props.pop("_to_id")
            if from_id in hidden or to_id in hidden:
                continue
            if hidden:
                props["source_ids"] = _strip_sources(props.get("source_ids"), hidden)
            rel = RelRecord(rel_type, props["id"], from_id, to_id, kind_of_id(from_id) or "",
                            kind_of_id(to_id) or "", props)
            snap.rels.append(rel)
    snap.rels.sort(key=rel_order)
    return snap
