"""The review queue: pairs of records the matcher found close but not close enough to link,
and every decision a person took on a pair (see docs/sanctions.md, "Review queue").

Kept in a small SQLite file beside the graph database (``<db>.review.sqlite``; for a store
without a local file, ``ACCGRAPH_REVIEW_DB`` or the user data directory), because decisions
are not facts about the world and must survive re-ingests, rebuilds of the graph from the
same files, and engine changes. The matcher consults it on every run: a rejected pair is
never proposed nor linked again; an accepted pair is linked ``SAME_AS`` with
``judged_by = review:<who>``.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.config import beside_db
from graph.store import Store

PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
STATUSES = (PENDING, ACCEPTED, REJECTED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pairs (
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    kind TEXT NOT NULL,
    score REAL NOT NULL,
    method TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'pending',
    proposed_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    note TEXT,
    PRIMARY KEY (a, b)
);
CREATE INDEX IF NOT EXISTS pairs_status ON pairs(status);
"""


def today() -> str:
    return _dt.date.today().isoformat()


def ordered(a: str, b: str) -> tuple[str, str]:
    """A pair's canonical order, so (x, y) and (y, x) are one entry."""
    return (a, b) if a <= b else (b, a)


def queue_path_for(store: Store | None) -> Path:
    return beside_db(store, ".review.sqlite", "ACCGRAPH_REVIEW_DB", "review.sqlite")


@dataclass
class Pair:
    a: str
    b: str
    kind: str
    score: float
    method: str
    details: dict[str, Any]
    status: str
    proposed_at: str
    decided_by: str | None
    decided_at: str | None
    note: str | None

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "a", "b", "kind", "score", "method", "details", "status", "proposed_at",
            "decided_by", "decided_at", "note")}


class ReviewQueue:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30)
        self._db.executescript(_SCHEMA)
        self._db.commit()

    @classmethod
    def for_store(cls, store: Store | None) -> ReviewQueue:
        return cls(queue_path_for(store))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ReviewQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _pair(self, row: tuple[Any, ...]) -> Pair:
        return Pair(row[0], row[1], row[2], row[3], row[4], json.loads(row[5] or "{}"),
                    row[6], row[7], row[8], row[9], row[10])

    def get(self, a: str, b: str) -> Pair | None:
        a, b = ordered(a, b)
        row = self._db.execute("SELECT * FROM pairs WHERE a = ? AND b = ?", (a, b)).fetchone()
        return self._pair(row) if row else None

    def decisions(self) -> dict[tuple[str, str], Pair]:
        """Every decided pair (accepted or rejected), for the matcher to honour."""
        rows = self._db.execute("SELECT * FROM pairs WHERE status != 'pending'").fetchall()
        return {(r[0], r[1]): self._pair(r) for r in rows}

    def list(self, status: str | None = PENDING, limit: int | None = None) -> list[Pair]:
        sql = "SELECT * FROM pairs"
        params: list[Any] = []
        if status:
            sql += " WHERE status = ?"
            params.append(status)
        sql += " ORDER BY score DESC, a, b"
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return [self._pair(r) for r in self._db.execute(sql, params).fetchall()]

    def propose(self, a: str, b: str, kind: str, score: float, method: str,
                details: dict[str, Any]) -> bool:
        """Queue a pair for review (or refresh its score); decided pairs are left alone.
        Returns True when the pair is pending after the call."""
        a, b = ordered(a, b)
        existing = self.get(a, b)
        if existing is not None and existing.status != PENDING:
            return False
        payload = json.dumps(details, sort_keys=True)
        if existing is None:
            self._db.execute(
                "INSERT INTO pairs (a, b, kind, score, method, details, status, proposed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                (a, b, kind, score, method, payload, today()))
        elif (existing.score, existing.method, existing.details) != (score, method, details):
            self._db.execute("UPDATE pairs SET score = ?, method = ?, details = ? "
                             "WHERE a = ? AND b = ?", (score, method, payload, a, b))
        return True

    def decide(self, a: str, b: str, status: str, who: str, *, kind: str = "",
               score: float | None = None, method: str = "review", note: str | None = None,
               ) -> Pair:
        """Record a decision; a pair never proposed (e.g. one the matcher linked on its
        own) is recorded too, so rejecting an automatic link is possible."""
        if status not in (ACCEPTED, REJECTED):
            raise ValueError(f"status must be accepted or rejected, not {status!r}")
        a, b = ordered(a, b)
        existing = self.get(a, b)
        if existing is None:
            self._db.execute(
                "INSERT INTO pairs (a, b, kind, score, method, details, status, proposed_at, "
                "decided_by, decided_at, note) VALUES (?, ?, ?, ?, ?, '{}', ?, ?, ?, ?, ?)",
                (a, b, kind, score if score is not None else 0.0, method, status, today(), who,
                 today(), note))
        else:
            self._db.execute(
                "UPDATE pairs SET status = ?, decided_by = ?, decided_at = ?, note = ? "
                "WHERE a = ? AND b = ?", (status, who, today(), note, a, b))
        self._db.commit()
        pair = self.get(a, b)
        assert pair is not None
        return pair

    def commit(self) -> None:
        self._db.commit()

    def __iter__(self) -> Iterator[Pair]:
        return iter(self.list(status=None))
