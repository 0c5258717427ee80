"""Roles, API keys and the append-only audit log.

Kept outside the graph, in a small SQLite file beside the database (``<db>.admin.sqlite``):
the graph holds claims about the world, this file holds who may read them and who did.
Keys are stored as a SHA-256 hash only (the key is printed once, when created), and the
audit table refuses UPDATE and DELETE at the database level (triggers), so nothing served by
the API can rewrite history.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import secrets
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

KEY_PREFIX = "agk"


class Role(str, Enum):
    """Who is calling. Lawyers and admins see restricted records; only admins write."""

    PUBLIC = "public"
    RESEARCHER = "researcher"
    LAWYER = "lawyer"
    ADMIN = "admin"

    @property
    def sees_restricted(self) -> bool:
        return self in (Role.LAWYER, Role.ADMIN)

    @property
    def can_write(self) -> bool:
        return self is Role.ADMIN


KEY_ROLES = (Role.RESEARCHER, Role.LAWYER, Role.ADMIN)  # anonymous callers need no key


@dataclass(frozen=True)
class Principal:
    """The caller of one request."""

    role: Role = Role.PUBLIC
    key_id: str | None = None
    client: str = ""
    label: str = ""

    @property
    def who(self) -> str:
        return self.key_id or "anonymous"


@dataclass
class KeyInfo:
    key_id: str
    role: str
    label: str
    created_at: str
    revoked_at: str | None = None
    last_used_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class AuditEntry:
    seq: int
    at: str
    who: str
    role: str
    action: str
    method: str
    path: str
    record_ids: list[str] = field(default_factory=list)
    client: str = ""
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


AUDIT_COLUMNS = ("seq", "at", "who", "role", "action", "method", "path", "record_ids", "client",
                 "detail")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
);
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    method TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL DEFAULT '',
    record_ids TEXT NOT NULL DEFAULT '[]',
    client TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def admin_path_for(db_path: str | Path) -> Path:
    """Where the key and audit file lives for a database path."""
    p = Path(db_path)
    return p.with_name(p.name + ".admin.sqlite")


class KeyError_(ValueError):
    """A key operation that cannot be done (unknown key, bad role)."""


class AdminStore:
    """API keys (hashed) and the audit log, in one SQLite file. Thread-safe."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False,
                                     isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- keys --------------------------------------------------------------------------
    def create_key(self, role: Role | str, label: str = "") -> tuple[str, KeyInfo]:
        """Make a key; returns (the key, shown once; its stored info). Only the hash is kept."""
        role = Role(role)
        if role not in KEY_ROLES:
            raise KeyError_(f"role must be one of {', '.join(r.value for r in KEY_ROLES)}")
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        info = KeyInfo(key_id=key_id, role=role.value, label=label, created_at=now_iso())
        with self._lock:
            self._conn.execute(
                "INSERT INTO api_keys (key_id, key_hash, role, label, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key_id, hash_key(key), role.value, label, info.created_at))
        return key, info

    def list_keys(self) -> list[KeyInfo]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT key_id, role, label, created_at, revoked_at, last_used_at "
                "FROM api_keys ORDER BY created_at, key_id").fetchall()
        return [KeyInfo(*row) for row in rows]

    def revoke_key(self, key_id: str) -> KeyInfo:
        with self._lock:
            cur = self._conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (now_iso(), key_id))
            if cur.rowcount == 0:
                exists = self._conn.execute("SELECT 1 FROM api_keys WHERE key_id = ?",
                                            (key_id,)).fetchone()
                if not exists:
                    raise KeyError_(f"no key with id '{key_id}'")
            row = self._conn.execute(
                "SELECT key_id, role, label, created_at, revoked_at, last_used_at "
                "FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        return KeyInfo(*row)

    def authenticate(self, key: str) -> KeyInfo | None:
        """The active key's info, or None (unknown, malformed, revoked)."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX or len(key) > 200:
            return None
        with self._lock:
            row = self._conn.execute(
                "SELECT key_id, role, label, created_at, revoked_at, last_used_at, key_hash "
                "FROM api_keys WHERE key_id = ?", (parts[1],)).fetchone()
            if row is None or not hmac.compare_digest(row[6], hash_key(key)) or row[4]:
                return None
            self._conn.execute("UPDATE api_keys SET last_used_at = ? WHERE key_id = ?",
                               (now_iso(), parts[1]))
        return KeyInfo(*row[:6])

    # -- audit -------------------------------------------------------------------------
    def audit(self, principal: Principal, action: str, *, method: str = "", path: str = "",
              record_ids: Sequence[str] = (), detail: str = "") -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO audit_log (at, who, role, action, method, path, record_ids, client,"
                " detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (now_iso(), principal.who, principal.role.value, action, method, path[:2000],
                 json.dumps(sorted(set(record_ids)), ensure_ascii=False), principal.client,
                 detail[:4000]))

    def audit_entries(self, *, since_seq: int = 0, limit: int | None = None,
                      action: str | None = None) -> list[AuditEntry]:
        sql = ("SELECT seq, at, who, role, action, method, path, record_ids, client, detail "
               "FROM audit_log WHERE seq > ?")
        args: list[Any] = [since_seq]
        if action:
            sql += " AND action = ?"
            args.append(action)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), r[8],
                           r[9]) for r in rows]


def export_audit(entries: Sequence[AuditEntry], fmt: str) -> str:
    """The audit log as JSON lines (``jsonl``) or CSV (``csv``)."""
    if fmt == "jsonl":
        return "".join(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in entries)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(AUDIT_COLUMNS)
        for e in entries:
            row = e.to_json()
            row["record_ids"] = ";".join(e.record_ids)
            writer.writerow([_csv_safe(str(row[c])) for c in AUDIT_COLUMNS])
        return buf.getvalue()
    raise ValueError(f"unknown audit export format '{fmt}' (expected jsonl or csv)")


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas: a cell opened in a spreadsheet is never evaluated."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
