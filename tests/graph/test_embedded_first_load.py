"""A first load into an empty store (``EmbeddedStore.first_load``): the new database is
built beside the store and swapped in with one rename. The swap is atomic (a process
killed at any moment of the load leaves the old, empty database, which reopens, or the
whole new one), the store reopens the new file in place, and a re-ingest is a no-op."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from graph.embedded import EmbeddedStore
from graph.records import NodeRecord
from graph.store import StoreError

REPO = Path(__file__).resolve().parents[2]


def _people(n: int, start: int = 0) -> pa.Table:
    return pa.table({"id": [f"person:first-load-{i}" for i in range(start, start + n)],
                     "name": [f"Synth Firstload {i}" for i in range(start, start + n)]})


def _copy_people(store: EmbeddedStore, table: pa.Table) -> None:
    from graph.bulk import copy_tables_autocommit

    copy_tables_autocommit(store, {"Person": table}, {})


def _scratch(db: Path) -> list[Path]:
    return [p for p in db.parent.iterdir() if p.name.startswith(f".{db.name}.tmp-")]


def test_swap_replaces_the_empty_database(tmp_path: Path) -> None:
    db = tmp_path / "g.lbdb"
    store = EmbeddedStore(db)
    try:
        gen = store.generation
        with store.first_load() as built:
            assert built is not None and built.path != db
            assert built.path.parent.parent == tmp_path  # beside the store
            _copy_people(built, _people(50))
            assert store.counts()["Person"] == 0  # nobody sees the new file yet
        assert store.generation == gen + 1
        assert store.counts()["Person"] == 50
        assert not _scratch(db)
        assert not Path(f"{db}.wal").exists()
        store.write([NodeRecord("Person", "person:after-swap", {"name": "After Swap"})], [])
        assert store.counts()["Person"] == 51
    finally:
        store.close()
    again = EmbeddedStore(db, read_only=True)
    try:
        assert again.counts()["Person"] == 51
    finally:
        again.close()


def test_a_store_holding_nodes_gets_none_and_no_lock(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        store.write([NodeRecord("Person", "person:there", {"name": "Already There"})], [])
        with store.first_load() as built:
            assert built is None
            with store.transaction():  # the write lock is not held: no deadlock
                pass
        assert store.counts()["Person"] == 1
    finally:
        store.close()


def test_an_error_in_the_block_discards_the_new_database(tmp_path: Path) -> None:
    db = tmp_path / "g.lbdb"
    store = EmbeddedStore(db)
    try:
        gen = store.generation
        with pytest.raises(RuntimeError, match="boom"), store.first_load() as built:
            assert built is not None
            _copy_people(built, _people(20))
            raise RuntimeError("boom")
        assert store.generation == gen
        assert store.counts()["Person"] == 0
        assert not _scratch(db)
        with store.first_load() as built:  # and a later first load works
            assert built is not None
            _copy_people(built, _people(5))
        assert store.counts()["Person"] == 5
    finally:
        store.close()


def test_no_room_for_a_scratch_directory_means_loading_in_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = EmbeddedStore(tmp_path / "g.lbdb")

    def refuse() -> Any:
        raise PermissionError("read-only directory")

    monkeypatch.setattr(store, "scratch_dir", refuse)
    try:
        with store.first_load() as built:
            assert built is None
            with store.transaction():  # the write lock was released
                pass
    finally:
        store.close()


def test_read_only_store_refuses(tmp_path: Path) -> None:
    db = tmp_path / "g.lbdb"
    EmbeddedStore(db).close()
    store = EmbeddedStore(db, read_only=True)
    try:
        with pytest.raises(StoreError, match="read-only"), store.first_load():
            pass
    finally:
        store.close()


def test_readers_keep_working_across_the_swap(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "g.lbdb")
    errors: list[str] = []
    seen: set[int] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.add(store.execute("MATCH (n:Person) RETURN count(n) AS c")[0]["c"])
            except Exception as exc:  # noqa: BLE001 - every failure is the finding
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=reader) for _ in range(3)]
    try:
        for t in threads:
            t.start()
        with store.first_load() as built:
            assert built is not None
            _copy_people(built, _people(300))
            time.sleep(0.2)
        time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        store.close()
    assert not errors, errors[:3]
    assert seen <= {0, 300} and 300 in seen


def test_stale_scratch_of_a_dead_process_is_removed_on_open(tmp_path: Path) -> None:
    db = tmp_path / "g.lbdb"
    EmbeddedStore(db).close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = tmp_path / f".g.lbdb.tmp-{int(dead.stdout)}-0"
    (stale / "g.lbdb").parent.mkdir()
    (stale / "g.lbdb").write_bytes(b"half a database")
    mine = tmp_path / f".g.lbdb.tmp-{os.getpid()}-999999"  # a live process's: kept
    mine.mkdir()
    other = tmp_path / f".h.lbdb.tmp-{int(dead.stdout)}-0"  # another database's: kept
    other.mkdir()
    try:
        EmbeddedStore(db, read_only=True).close()
        assert stale.exists()  # a read-only open removes nothing
        EmbeddedStore(db).close()
        assert not stale.exists()
        assert mine.exists() and other.exists()
    finally:
        mine.rmdir()
        other.rmdir()


# -- the product path, killed ----------------------------------------------------------

COUNTS = """
import json, sys
from graph.embedded import EmbeddedStore
s = EmbeddedStore(sys.argv[1])
print(json.dumps(s.counts()))
s.close()
"""


def _run(args: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACCGRAPH_FRESH_LOAD_BYTES": "0", "ACCGRAPH_INGEST_WORKERS": "2"}
    return subprocess.run([sys.executable, *args], check=False, cwd=REPO, capture_output=True,
                          text=True, timeout=300, env=env, **kw)


def _counts(db: Path) -> dict[str, int]:
    proc = _run(["-c", COUNTS, str(db)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    counts: dict[str, int] = json.loads(proc.stdout.strip().splitlines()[-1])
    return counts


def _ingest(db: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    return _run(["-m", "cli.main", "--db", str(db), "ingest", "native", str(folder), "--json",
                 "-q"])


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(REPO))
    from bench.generate import generate

    out = tmp_path_factory.mktemp("first-load") / "graph"
    generate(0.004, 5, out)
    return out


@pytest.fixture(scope="module")
def full(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("ref") / "g.lbdb"
    EmbeddedStore(db).close()
    started = time.monotonic()
    proc = _ingest(db, folder)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "swapped in" in proc.stdout, proc.stdout[-1500:]  # the first-load path was taken
    return {"counts": _counts(db), "seconds": seconds}


def _kill_when(db: Path, folder: Path, when: Any, timeout: float = 120) -> str:
    env = {**os.environ, "ACCGRAPH_FRESH_LOAD_BYTES": "0", "ACCGRAPH_INGEST_WORKERS": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "--db", str(db), "ingest",
                             "native", str(folder), "-q"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return "finished"
            if when():
                os.killpg(proc.pid, signal.SIGKILL)  # the workers too
                proc.wait(30)
                return "killed"
            time.sleep(0.002)
        raise AssertionError("the ingest neither started loading nor finished in time")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _building(db: Path, min_bytes: int) -> Any:
    def check() -> bool:
        for d in _scratch(db):
            built = d / db.name
            try:
                if built.stat().st_size >= min_bytes:
                    return True
            except OSError:
                pass
        return False
    return check


def _after_kill(db: Path, full: dict[str, Any], folder: Path) -> str:
    got = _counts(db)  # reopens read-write, as after a restart
    assert not _scratch(db), "the killed load's scratch directory was not cleaned up"
    if any(v for k, v in got.items()):
        assert got == full["counts"], "a killed first load left part of the folder"
        state = "all"
    else:
        state = "none"
    proc = _ingest(db, folder)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _counts(db) == full["counts"]
    again = _ingest(db, folder)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["written"] is False  # a re-ingest changes nothing
    assert _counts(db) == full["counts"]
    return state


@pytest.mark.slow
@pytest.mark.parametrize("min_bytes", [1, 1 << 20])
def test_sigkill_while_the_new_database_is_written(tmp_path: Path, folder: Path,
                                                   full: dict[str, Any], min_bytes: int) -> None:
    db = tmp_path / "g.lbdb"
    EmbeddedStore(db).close()
    outcome = _kill_when(db, folder, _building(db, min_bytes))
    state = _after_kill(db, full, folder)
    print(f"kill with the new file at >= {min_bytes} B: {outcome}, state: {state}")
    if outcome == "killed":
        assert state == "none"


KILLED_AT = """
import os, signal, sys
from pathlib import Path
import graph.bulk, graph.embedded
from graph.embedded import EmbeddedStore
from ingest.formats import ingest_path

where = sys.argv[3]
def die():
    os.killpg(os.getpgrp(), signal.SIGKILL)  # this process and its workers

if where == "mid_copy":
    real_copy, calls = graph.bulk.copy_file, []
    def copy_file(*a, **k):
        calls.append(1)
        if len(calls) == 8:
            die()
        return real_copy(*a, **k)
    graph.bulk.copy_file = copy_file
elif where == "before_swap":  # the new file is complete, checkpointed and closed
    def swap(self, built):
        die()
    EmbeddedStore._swap_in = swap
elif where in ("before_rename", "after_rename"):
    real_replace = os.replace
    class _Os:
        def __getattr__(self, name):
            return getattr(os, name)
        def replace(self, a, b):
            if where == "before_rename":
                die()
            real_replace(a, b)
            die()
    graph.embedded.os = _Os()
elif where == "after_reopen":
    real_swap = EmbeddedStore._swap_in
    def swap(self, built):
        real_swap(self, built)
        die()
    EmbeddedStore._swap_in = swap
store = EmbeddedStore(sys.argv[1])
ingest_path(store, "native", Path(sys.argv[2]))
print("not killed")
"""


@pytest.mark.slow
@pytest.mark.parametrize("where", ["mid_copy", "before_swap", "before_rename", "after_rename",
                                   "after_reopen"])
def test_sigkill_at_each_step_of_the_swap(tmp_path: Path, folder: Path, full: dict[str, Any],
                                          where: str) -> None:
    """Killed (with its workers) at each step: before the rename the old, empty database
    remains; from the rename on, the new one, whole."""
    db = tmp_path / "g.lbdb"
    EmbeddedStore(db).close()
    proc = _run(["-c", KILLED_AT, str(db), str(folder), where], start_new_session=True)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr[-1500:])
    assert _scratch(db) or where in ("after_rename", "after_reopen")
    state = _after_kill(db, full, folder)
    assert state == ("all" if where in ("after_rename", "after_reopen") else "none")


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.9])
def test_sigkill_at_a_moment_of_the_first_load(tmp_path: Path, folder: Path,
                                               full: dict[str, Any], fraction: float) -> None:
    """Kill at a fraction of a clean run's duration: none or all, never a part."""
    db = tmp_path / "g.lbdb"
    EmbeddedStore(db).close()
    deadline = time.monotonic() + full["seconds"] * fraction
    outcome = _kill_when(db, folder, lambda: time.monotonic() >= deadline)
    state = _after_kill(db, full, folder)
    print(f"kill at {fraction:.0%}: {outcome}, state: {state}")
