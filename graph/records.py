"""Validated, storage-ready records: what readers produce and stores write.

Readers turn their input into these; the loader diffs them against the graph; every
store writes them. Keeping one record shape for all formats is what lets a reader be a
single module and a store a single module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class NodeRecord:
    kind: str
    id: str
    props: dict[str, Any] = field(default_factory=dict)  # storage columns, derived ones included


@dataclass
class RelRecord:
    type: str
    id: str
    from_id: str
    to_id: str
    from_kind: str
    to_kind: str
    props: dict[str, Any] = field(default_factory=dict)  # claim columns and extras


@dataclass(frozen=True)
class Problem:
    """One reason a record was rejected: ``file:line: field: reason``."""

    file: str
    line: int | str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field or '-'}: {self.reason}"
