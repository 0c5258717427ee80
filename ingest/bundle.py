"""A bundle: every record one ingest will load, checked as a whole before anything is written.

Checks that need the whole file set (or the graph) live here: duplicate ids that disagree,
relation ends that exist nowhere, sources that are cited but never defined.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from graph.model import kind_of_id
from graph.records import NodeRecord, Problem, RelRecord
from graph.schema import node_columns, rel_columns
from graph.store import Store
from ingest.build import Where, finish_names


def comparable(props: dict[str, Any], columns: list[tuple[str, str]]) -> dict[str, Any]:
    """Props with every column present and lists as lists, so stored and new compare equal
    exactly when they say the same thing."""
    out: dict[str, Any] = {}
    for name, typ in columns:
        if name == "id":
            continue  # records are paired by id already
        value = props.get(name)
        if typ.endswith("[]"):
            value = list(value or [])
        out[name] = value
    return out


def _first_difference(a: dict[str, Any], b: dict[str, Any]) -> str:
    for key in a:
        if a.get(key) != b.get(key):
            return f"{key}: {a.get(key)!r} vs {b.get(key)!r}"
    return ""


@dataclass
class Bundle:
    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    rels: dict[str, RelRecord] = field(default_factory=dict)
    where: dict[str, Where] = field(default_factory=dict)
    extra_names: dict[str, list[tuple[dict[str, Any], Where]]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # ids of node rows that were rejected: references to them are not reported again.
    rejected_ids: set[str] = field(default_factory=set)
    # reader remarks for the load report (records skipped on purpose, conversions made)
    notes: list[str] = field(default_factory=list)
    # A record list (sanctions lists, the memorial archive, FtM: independent records) is
    # not refused whole for one bad record: a record whose references fail is dropped and
    # listed alone. An atomic bundle (the native format) keeps every record and lets the
    # loader refuse the load.
    record_list: bool = False
    # The list the reader collected its problems in. ``ingest_path`` takes it before the
    # load (``rejected, bundle.problems = bundle.problems, []``) and reports it after, so
    # the loader appends the records it drops for broken references here too: they are
    # then reported with the reader's, and the load counts as done (matching runs).
    reader_problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.reader_problems:
            self.reader_problems = self.problems

    def add_node(self, node: NodeRecord, where: Where) -> None:
        prior = self.nodes.get(node.id)
        if prior is not None:
            cols = node_columns(node.kind)
            old, new = comparable(prior.props, cols), comparable(node.props, cols)
            if old != new:
                diff = _first_difference(new, old)
                self.problems.append(where.problem(
                    "id", f"duplicate id '{node.id}' conflicts with {self.where[node.id]} "
                          f"({diff})"))
            return
        self.nodes[node.id] = node
        self.where[node.id] = where

    def add_rel(self, rel: RelRecord, where: Where) -> None:
        prior = self.rels.get(rel.id)
        if prior is not None:
            cols = rel_columns(rel.type)
            same = (prior.type, prior.from_id, prior.to_id) == (rel.type, rel.from_id, rel.to_id)
            if not same or comparable(prior.props, cols) != comparable(rel.props, cols):
                self.problems.append(where.problem(
                    "id", f"duplicate claim id '{rel.id}' conflicts with {self.where[rel.id]}"))
            return
        self.rels[rel.id] = rel
        self.where[rel.id] = where

    def add_name(self, entity: str, entry: dict[str, Any], where: Where) -> None:
        self.extra_names.setdefault(entity, []).append((entry, where))

    @property
    def record_count(self) -> int:
        return len(self.nodes) + len(self.rels) + sum(len(v) for v in self.extra_names.values())

    def check_references(self, store: Store) -> dict[str, NodeRecord]:
        """Relation ends, name owners and cited sources must exist in the bundle or the graph.
        Returns the graph nodes consulted (the loader reuses them)."""
        wanted: set[str] = set()
        for rel in self.rels.values():
            wanted.update((rel.from_id, rel.to_id))
            wanted.update(rel.props.get("source_ids") or [])
        for node in self.nodes.values():
            wanted.update(node.props.get("source_ids") or [])
        wanted.update(self.extra_names)
        for entries in self.extra_names.values():
            for entry, _ in entries:
                wanted.update(entry.get("source_ids") or [])
        in_graph = store.get_nodes(i for i in wanted - set(self.nodes) if kind_of_id(i))

        def exists(node_id: str) -> bool:
            return node_id in self.nodes or node_id in in_graph or node_id in self.rejected_ids

        def check_sources(ids: list[str], where: Where, field_name: str) -> None:
            for sid in ids:
                if kind_of_id(sid) != "Source":
                    self.problems.append(where.problem(
                        field_name, f"'{sid}' is not a source id (expected 'source:...')"))
                elif not exists(sid):
                    self.problems.append(where.problem(
                        field_name, f"source '{sid}' does not exist in the input or the graph"))

        bad_nodes: set[str] = set()
        bad_rels: set[str] = set()
        bad_names: set[str] = set()
        for node in self.nodes.values():
            before = len(self.problems)
            check_sources(node.props.get("source_ids") or [], self.where[node.id], "source_ids")
            if len(self.problems) > before:
                bad_nodes.add(node.id)
        for rel in self.rels.values():
            before = len(self.problems)
            where = self.where[rel.id]
            for end, ref in (("from", rel.from_id), ("to", rel.to_id)):
                if not exists(ref):
                    self.problems.append(where.problem(
                        end, f"'{ref}' does not exist in the input or the graph"))
            check_sources(rel.props.get("source_ids") or [], where, "source_ids")
            if len(self.problems) > before:
                bad_rels.add(rel.id)
        for entity, entries in self.extra_names.items():
            before = len(self.problems)
            for entry, where in entries:
                if not exists(entity):
                    self.problems.append(where.problem(
                        "entity", f"'{entity}' does not exist in the input or the graph"))
                check_sources(entry.get("source_ids") or [], where, "source_ids")
            if len(self.problems) > before:
                bad_names.add(entity)
        if self.record_list:
            self._drop_rejected(bad_nodes, bad_rels, bad_names, in_graph)
        return in_graph

    def _drop_rejected(self, bad_nodes: set[str], bad_rels: set[str], bad_names: set[str],
                       in_graph: dict[str, NodeRecord]) -> None:
        """Remove the records whose references failed (their problems are listed), and the
        claims that would now point at a record that is not there: those touching a node
        dropped here or rejected by the reader (listed already, so not listed again)."""
        for node_id in bad_nodes:
            del self.nodes[node_id]
            self.rejected_ids.add(node_id)
        for name_owner in bad_names:
            del self.extra_names[name_owner]
        for rel_id in list(self.rels):
            rel = self.rels[rel_id]
            if rel_id in bad_rels or any(
                    ref not in self.nodes and ref not in in_graph
                    for ref in (rel.from_id, rel.to_id)):
                del self.rels[rel_id]
                self.where.pop(rel_id, None)

    def apply_extra_names(self, in_graph: dict[str, NodeRecord]) -> None:
        """Fold names.csv entries into their nodes (fetching graph-only nodes to update)."""
        for entity, entries in self.extra_names.items():
            node = self.nodes.get(entity) or in_graph.get(entity)
            if node is None:
                continue
            existing = json.loads(node.props.get("names") or "[]")
            merged = [e for e, _ in entries]
            base = {**node.props}
            base["names"] = None
            # names from name/aliases first, then these, then earlier extra names.
            primary = {node.props.get("name")} | set(node.props.get("aliases") or [])
            prior_extra = [e for e in existing if e["name"] not in primary]
            finish_names(base, merged + prior_extra)
            self.nodes[entity] = NodeRecord(node.kind, node.id, base)
            self.where.setdefault(entity, entries[0][1])
