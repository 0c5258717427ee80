"""The one way records reach the graph: diff against what is stored, then write every change
in a single transaction, and say what was added, updated, left unchanged and rejected.

Writing only what changed is what makes re-running an ingest a no-op that says so.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.records import NodeRecord, Problem, RelRecord
from graph.schema import node_columns, rel_columns
from graph.store import Store
from ingest.bundle import Bundle, comparable
from ingest.progress import Progress


@dataclass
class LoadReport:
    """What an ingest did. ``counts[name]`` is {added, updated, unchanged} per kind/type."""

    source: str
    format: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    rejected: list[Problem] = field(default_factory=list)
    written: bool = False
    seconds: float = 0.0
    records: int = 0
    notes: list[str] = field(default_factory=list)

    def bump(self, name: str, what: str, n: int = 1) -> None:
        self.counts.setdefault(name, {"added": 0, "updated": 0, "unchanged": 0})[what] += n

    def total(self, what: str) -> int:
        return sum(c[what] for c in self.counts.values())

    @property
    def ok(self) -> bool:
        return not self.rejected

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "written": self.written,
            "records": self.records,
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records / self.seconds) if self.seconds else None,
            "added": self.total("added"),
            "updated": self.total("updated"),
            "unchanged": self.total("unchanged"),
            "rejected": len(self.rejected),
            "counts": self.counts,
            "problems": [str(p) for p in self.rejected],
            "notes": self.notes,
        }


def diff_nodes(store: Store, nodes: Sequence[NodeRecord], report: LoadReport,
               known: dict[str, NodeRecord] | None = None
               ) -> tuple[list[NodeRecord], list[NodeRecord]]:
    """The nodes that are new, and those that differ from the stored ones (counted in
    ``report``)."""
    known = dict(known or {})
    missing = [n.id for n in nodes if n.id not in known]
    if missing:
        known.update(store.get_nodes(missing))
    added: list[NodeRecord] = []
    changed: list[NodeRecord] = []
    for node in nodes:
        old = known.get(node.id)
        if old is None:
            report.bump(node.kind, "added")
            added.append(node)
            continue
        cols = node_columns(node.kind)
        if comparable(old.props, cols) == comparable(node.props, cols):
            report.bump(node.kind, "unchanged")
        else:
            report.bump(node.kind, "updated")
            changed.append(node)
    return added, changed


def diff_rels(store: Store, rels: Sequence[RelRecord], report: LoadReport,
              new_node_ids: set[str] | frozenset[str] = frozenset()
              ) -> tuple[list[RelRecord], list[RelRecord]]:
    """The relations that are new, and those that differ from the stored ones. A relation
    touching a node this load adds cannot be stored yet, so it is not looked up."""
    known = store.get_rels([r for r in rels
                            if r.from_id not in new_node_ids and r.to_id not in new_node_ids])
    added: list[RelRecord] = []
    changed: list[RelRecord] = []
    for rel in rels:
        old = known.get(rel.id)
        if old is None:
            report.bump(rel.type, "added")
            added.append(rel)
        elif comparable(old.props, rel_columns(rel.type)) == comparable(
                rel.props, rel_columns(rel.type)):
            report.bump(rel.type, "unchanged")
        else:
            report.bump(rel.type, "updated")
            changed.append(rel)
    return added, changed


def load_bundle(store: Store, bundle: Bundle, report: LoadReport,
                progress: Progress | None = None) -> LoadReport:
    """Check references, diff and write the bundle atomically; any problem and nothing is
    written (the problems are in ``report.rejected``)."""
    started = time.perf_counter()
    progress = progress or Progress.quiet()
    report.records = bundle.record_count
    in_graph = bundle.check_references(store)
    report.rejected.extend(bundle.problems)
    if report.rejected:
        report.seconds = time.perf_counter() - started
        return report
    bundle.apply_extra_names(in_graph)
    nodes = list(bundle.nodes.values())
    rels = list(bundle.rels.values())
    with progress.task("comparing with the graph", total=len(nodes) + len(rels)) as tick:
        new_nodes, changed_nodes = diff_nodes(store, nodes, report, in_graph)
        tick(len(nodes))
        new_rels, changed_rels = diff_rels(store, rels, report, {n.id for n in new_nodes})
        tick(len(rels))
    total = len(new_nodes) + len(changed_nodes) + len(new_rels) + len(changed_rels)
    if total:
        with progress.task("writing", total=total) as tick:
            store.write_changes(new_nodes, changed_nodes, new_rels, changed_rels)
            tick(total)
        report.written = True
    report.seconds = time.perf_counter() - started
    return report


def group_counts(records: Sequence[NodeRecord | RelRecord]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in records:
        out[r.kind if isinstance(r, NodeRecord) else r.type] += 1
    return dict(out)
