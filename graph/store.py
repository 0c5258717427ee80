"""The store interface: run a named query, write a batch atomically, read back by id, close.

Kept this small on purpose (as yente keeps its search provider and nomenklatura its
Store/Writer/View): the queries, readers and API only ever see this, so the embedded
engine and Neo4j are interchangeable and a third engine is one new module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from graph.records import NodeRecord, RelRecord


class StoreError(RuntimeError):
    """A store could not do what was asked; the message is meant for the user."""


class Store(ABC):
    dialect: str = ""

    @abstractmethod
    def run(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run the named query (see graph.catalog) and return its rows as dicts."""

    def run_arrow(self, name: str, params: Mapping[str, Any] | None = None) -> Any:
        """``run`` as a ``pyarrow.Table``, for the whole-graph reads of in-process caches
        (a million rows as dicts cost seconds and gigabytes; as columns, neither). This
        default converts ``run``'s rows; a store whose engine speaks Arrow overrides it."""
        import pyarrow as pa

        return pa.Table.from_pylist(self.run(name, params))

    @abstractmethod
    def write(self, nodes: Sequence[NodeRecord], rels: Sequence[RelRecord]) -> None:
        """Upsert nodes then relations by id, all in one transaction: all or nothing."""

    def write_changes(self, new_nodes: Sequence[NodeRecord], changed_nodes: Sequence[NodeRecord],
                      new_rels: Sequence[RelRecord], changed_rels: Sequence[RelRecord]) -> None:
        """Write a diffed load in one transaction. The loader knows which records are new;
        a store may append those by a faster path (the embedded store's COPY)."""
        self.write([*new_nodes, *changed_nodes], [*new_rels, *changed_rels])

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction for several ``run`` calls (named write queries): committed
        when the block ends, rolled back if it raises."""

    @abstractmethod
    def get_nodes(self, ids: Iterable[str]) -> dict[str, NodeRecord]:
        """The stored nodes among ``ids`` (missing ids are simply absent)."""

    @abstractmethod
    def get_rels(self, rels: Sequence[RelRecord]) -> dict[str, RelRecord]:
        """The stored versions of these relations, looked up by their ends and id."""

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Node count per kind and relation count per type, plus ``unsourced_claims``."""

    @property
    def generation(self) -> int:
        """Bumped on every committed write, so in-process caches know when to reload."""
        return 0

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
