"""The one way records reach the graph: diff against what is stored, then write every change
in a single transaction, and say what was added, updated, left unchanged and rejected.

Writing only what changed is what makes re-running an ingest a no-op that says so.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Protocol

from graph import catalog
from graph.model import NODE_KINDS, ids_by_kind
from graph.records import NodeRecord, Problem, RelRecord
from graph.schema import node_columns, rel_columns
from graph.store import Store
from ingest.bundle import Bundle
from ingest.progress import Progress


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while an ingest step builds or compares many
    records. A list of 30,000 records is about a million small dicts, lists and objects,
    none of them in a reference cycle, and the collector walked them again at each
    generation they reached (1 s of a 3.4 s OFAC ingest, 1.9 s of its re-ingest). On exit
    the objects made meanwhile go straight to the oldest generation (``gc.freeze`` then
    ``gc.unfreeze``, which moves without walking), so only a later full collection, when
    the program has grown enough to warrant one, looks at them; they are freed by their
    reference counts as always. Nested use, or a program that disabled the collector or
    froze objects itself, is left as it is."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        gc.enable()


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


@dataclass(frozen=True)
class _Compared:
    """The columns ``same_props`` compares (all but the id), and a getter of all of them
    at once (C speed when both records hold every column, as readers' records do)."""

    columns: tuple[tuple[str, bool], ...]  # (column, is a list)
    getter: Callable[[dict[str, Any]], Any]


def _compared_columns(columns: list[tuple[str, str]]) -> _Compared:
    cols = tuple((name, typ.endswith("[]")) for name, typ in columns if name != "id")
    names = [name for name, _ in cols]
    getter = itemgetter(*names) if len(names) > 1 else (lambda d: (d[names[0]],))
    return _Compared(cols, getter)


def same_props(old: dict[str, Any], new: dict[str, Any], compared: _Compared) -> bool:
    """Whether two records say the same thing in every column: what comparing their
    ``comparable`` forms says, without building them (a re-ingest compares every record,
    and building two dicts per record was half of its diff). Lists compare as lists,
    whatever sequence type holds them, and a missing list equals an empty one."""
    try:
        if compared.getter(old) == compared.getter(new):
            return True
    except KeyError:
        pass  # a column missing on one side: compare one by one
    for name, is_list in compared.columns:
        a, b = old.get(name), new.get(name)
        if a != b and not (is_list and list(a or []) == list(b or [])):
            return False
    return True


for _kind in NODE_KINDS:
    _cols = ", ".join(f"n.{c} AS {c}" for c, _ in node_columns(_kind))
    catalog.register(
        f"loader.stored_ids.{_kind.lower()}",
        ladybug=f"UNWIND $ids AS i MATCH (n:`{_kind}` {{id: i}}) RETURN n.id AS id",
        doc="which of these ids the graph holds (before reading those records whole)")
    catalog.register(
        f"loader.count.{_kind.lower()}",
        ladybug=f"MATCH (n:`{_kind}`) RETURN count(n) AS c",
        doc="how many records of one kind the graph holds")
    catalog.register(
        f"loader.all.{_kind.lower()}",
        ladybug=f"MATCH (n:`{_kind}`) RETURN {_cols}",
        doc="every record of one kind, whole (a re-ingest compares nearly all of them)")
_PROBE_BATCH = 20_000


def stored_count(store: Store, kind: str) -> int:
    """How many records of ``kind`` the graph holds: one cheap query that tells the loader
    (and the matcher) whether reading or comparing anything is worth it."""
    return int(store.run(f"loader.count.{kind.lower()}")[0]["c"])


def stored_nodes(store: Store, ids: Sequence[str]) -> dict[str, NodeRecord]:
    """The stored records among ``ids``, read by the cheapest means for how many of a
    kind the graph holds: none, one count query; at most twice as many as asked for (a
    re-ingest), one scan of the table (cheaper than as many id lookups); many more (a
    first load beside a big graph), an id probe first, then only the records found are
    read whole."""
    by_kind = ids_by_kind(ids)
    found: dict[str, NodeRecord] = {}
    present: list[str] = []
    for kind, kind_ids in by_kind.items():
        name = kind.lower()
        count = stored_count(store, kind)
        if not count:
            continue
        if count <= 2 * len(kind_ids):
            wanted = set(kind_ids)
            for row in store.run(f"loader.all.{name}"):
                if row["id"] in wanted:
                    found[row["id"]] = NodeRecord(kind, row["id"], row)
            continue
        for start in range(0, len(kind_ids), _PROBE_BATCH):
            rows = store.run(f"loader.stored_ids.{name}",
                             {"ids": kind_ids[start:start + _PROBE_BATCH]})
            present.extend(r["id"] for r in rows)
    if present:
        found.update(store.get_nodes(present))
    return found


def diff_nodes(store: Store, nodes: Sequence[NodeRecord], report: LoadReport,
               known: dict[str, NodeRecord] | None = None
               ) -> tuple[list[NodeRecord], list[NodeRecord]]:
    """The nodes that are new, and those that differ from the stored ones (counted in
    ``report``)."""
    known = dict(known or {})
    missing = [n.id for n in nodes if n.id not in known]
    if missing:
        known.update(stored_nodes(store, missing))
    added: list[NodeRecord] = []
    changed: list[NodeRecord] = []
    columns: dict[str, _Compared] = {}
    for node in nodes:
        old = known.get(node.id)
        if old is None:
            report.bump(node.kind, "added")
            added.append(node)
            continue
        cols = columns.get(node.kind)
        if cols is None:
            cols = columns[node.kind] = _compared_columns(node_columns(node.kind))
        if same_props(old.props, node.props, cols):
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
    lookup = [r for r in rels if r.from_id not in new_node_ids and r.to_id not in new_node_ids]
    known = store.get_rels(lookup) if lookup else {}
    added: list[RelRecord] = []
    changed: list[RelRecord] = []
    columns: dict[str, _Compared] = {}
    for rel in rels:
        old = known.get(rel.id)
        if old is None:
            report.bump(rel.type, "added")
            added.append(rel)
            continue
        cols = columns.get(rel.type)
        if cols is None:
            cols = columns[rel.type] = _compared_columns(rel_columns(rel.type))
        if same_props(old.props, rel.props, cols):
            report.bump(rel.type, "unchanged")
        else:
            report.bump(rel.type, "updated")
            changed.append(rel)
    return added, changed


class WriteCompanion(Protocol):
    """Work to overlap with the store's write (``load_bundle(companion=...)``): the engine
    runs its COPY and COMMIT without the GIL, so pure-Python work on the loaded records
    (the matcher's scoring) costs almost no wall time on a second core meanwhile."""

    def before_write(self, store: Store, nodes: Sequence[NodeRecord],
                     new_ids: set[str]) -> None:
        """Called in the loading thread with the nodes about to be loaded (after the
        reference check and the diff; ``new_ids``: those not in the graph yet), while the
        graph is still as it was before."""

    def during_write(self) -> None:
        """Called in a second thread while the store writes (in the loading thread when
        there is nothing to write); must not touch the store."""


def _while_writing(companion: WriteCompanion, write: Callable[[], None]) -> None:
    """``write()`` here, ``companion.during_write()`` in a second thread meanwhile; both
    finish before this returns, and the write's error (or else the companion's) is raised."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            companion.during_write()
        except BaseException as exc:  # re-raised in the loading thread, after the write
            failed.append(exc)

    worker = threading.Thread(target=run, name="load-companion", daemon=True)
    worker.start()
    try:
        write()
    finally:
        worker.join()
    if failed:
        raise failed[0]


def load_bundle(store: Store, bundle: Bundle, report: LoadReport,
                progress: Progress | None = None,
                companion: WriteCompanion | None = None) -> LoadReport:
    """Check references, diff and write the bundle in one transaction. An atomic bundle
    with any problem writes nothing (the problems are in ``report.rejected``); a record
    list drops only the records whose references fail (``Bundle.record_list``).
    ``companion``, when given and the load is not refused, runs alongside the write."""
    with gc_paused():
        return _load_bundle(store, bundle, report, progress, companion)


def _load_bundle(store: Store, bundle: Bundle, report: LoadReport,
                 progress: Progress | None, companion: WriteCompanion | None = None
                 ) -> LoadReport:
    started = time.perf_counter()
    progress = progress or Progress.quiet()
    report.records = bundle.record_count
    in_graph = bundle.check_references(store)
    if bundle.record_list and bundle.problems:
        # check_references dropped the records with broken references; list them where
        # the reader's rejected records are (see Bundle.reader_problems) and load the rest
        late, bundle.problems = bundle.problems, []
        if bundle.reader_problems is not late:
            bundle.reader_problems.extend(late)
        else:  # the caller left the reader's problems in place: list them all here
            report.rejected.extend(late)
            bundle.reader_problems = []
    report.rejected.extend(bundle.problems)
    if report.rejected and not bundle.record_list:
        report.seconds = time.perf_counter() - started
        return report
    bundle.apply_extra_names(in_graph)
    nodes = list(bundle.nodes.values())
    rels = list(bundle.rels.values())
    with progress.task("comparing with the graph", total=len(nodes) + len(rels)) as tick:
        new_nodes, changed_nodes = diff_nodes(store, nodes, report, in_graph)
        tick(len(nodes))
        new_ids = {n.id for n in new_nodes}
        new_rels, changed_rels = diff_rels(store, rels, report, new_ids)
        tick(len(rels))
    total = len(new_nodes) + len(changed_nodes) + len(new_rels) + len(changed_rels)
    if companion is not None:
        companion.before_write(store, nodes, new_ids)
    if total:
        with progress.task("writing", total=total) as tick:
            def write() -> None:
                store.write_changes(new_nodes, changed_nodes, new_rels, changed_rels)

            if companion is None:
                write()
            else:
                _while_writing(companion, write)
            tick(total)
        report.written = True
    elif companion is not None:
        companion.during_write()
    report.seconds = time.perf_counter() - started
    return report


def group_counts(records: Sequence[NodeRecord | RelRecord]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in records:
        out[r.kind if isinstance(r, NodeRecord) else r.type] += 1
    return dict(out)
