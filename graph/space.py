"""Room to write, checked before a write transaction starts.

LadybugDB 0.22 raises its "No space left on device" / "File too large" IOException where
Python cannot catch it, and the process aborts (SIGABRT). The store survives (the write
never commits), but the user sees an engine crash instead of a clear error. So a write
transaction first checks that the database's file system (and the process's file-size
limit) leaves at least a floor of free space, and refuses with a ``StoreError`` otherwise.
The floor is a preflight, not a guarantee: a single load larger than the floor can still
meet the engine's abort, and the store stays consistent in that case too.
"""

from __future__ import annotations

import os
import resource
import shutil
from pathlib import Path

from graph.store import StoreError

DEFAULT_MIN_FREE_MIB = 32


def min_free_bytes() -> int:
    """The floor, from ``ACCGRAPH_MIN_FREE_MB`` (MiB; 0 disables the check)."""
    raw = os.environ.get("ACCGRAPH_MIN_FREE_MB", str(DEFAULT_MIN_FREE_MIB))
    try:
        return max(0, int(raw)) << 20
    except ValueError:
        raise StoreError(f"ACCGRAPH_MIN_FREE_MB must be a whole number of MiB, not {raw!r}")


def room_to_write(db: Path) -> int:
    """Bytes the engine may still write for ``db``: the file system's free space, capped by
    the process's RLIMIT_FSIZE minus the largest file the engine appends to."""
    room = shutil.disk_usage(db.parent if db.parent.exists() else Path.cwd()).free
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        largest = max((p.stat().st_size for p in (db, db.with_name(db.name + ".wal"))
                       if p.exists()), default=0)
        room = min(room, max(0, soft - largest))
    return room


def ensure_room(db: Path, need: int = 0, what: str = "") -> None:
    """Refuse (``StoreError``, nothing written) when less than the floor is left for
    ``db``, or less than ``need`` bytes when the caller knows roughly what it will write
    (a first load: the new database file and the spooled tables beside it, ``what``
    saying so in the message). ``ACCGRAPH_MIN_FREE_MB=0`` disables both checks."""
    floor = min_free_bytes()
    if not floor:
        return
    want = max(floor, need)
    room = room_to_write(db)
    if room < want:
        why = f" ({what})" if what and need > floor else ""
        raise StoreError(
            f"not enough free space to write to {db}: {room >> 20} MiB left, at least "
            f"{want >> 20} MiB needed{why} (free some space, or set ACCGRAPH_MIN_FREE_MB); "
            "nothing was written")
