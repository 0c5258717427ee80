"""Name keys computed in a second process while a sanctions list is read.

Why its own module: it is process plumbing (a child interpreter, a pipe protocol, a feeder
thread), not list semantics; the readers only ``start`` it, ``submit`` names and take the
``keys``, which are always those ``fast_name_keys`` gives in this process.
"""

from __future__ import annotations

import os
import pickle
import queue
import select
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from ingest.sanctions_common import fast_name_keys

# -- name keys in a second process ------------------------------------------------------
# Name keys are a third of an OFAC read and pure Python, so a thread cannot take them off
# the reading thread (the GIL); a process can, on the machine's second core. It is started
# with subprocess (a fresh interpreter, never a fork: the caller may hold an open database
# and its engine threads) and boots while the reader parses (importing this module takes
# about 0.1 s). The reader streams it the records' names as it reads them; it sends back
# their keys, computed by the same ``fast_name_keys``, a frame at a time, in order. When
# the reader needs the keys it takes the frames that have come, and computes the rest
# itself from the last record backwards until the two meet, so a slow helper (a busy
# machine) costs nothing and a dead one only its start; the result is always the same.
HELPER_ENV = "ACCGRAPH_NAME_KEYS_HELPER"  # "0": never start the helper process
_FRAME_LISTS = 256  # name lists per answer frame of the helper (about 8 ms of its work)
_LOCAL_BATCH = 32  # name lists the reader computes between two looks at the helper
# How long the reader waits for the helper's next frame while the helper is sending. Its
# frames wait in its writer thread, and the pipe holds two: a reader that looked without
# waiting found it empty between two writes and computed a batch itself each time (19
# batches, a tenth of 6,000 lists a helper had long finished). A frame written is there
# within microseconds; a local batch takes about a millisecond.
_STREAM_WAIT = 0.002


def _name_keys_main() -> None:
    """The helper process: frames (8-byte little-endian length, then a pickled list of
    name lists; length 0 ends) on stdin; for each, frames of their ``fast_name_keys``
    (pickled lists of key lists, ``_FRAME_LISTS`` at most) on stdout, in order."""
    import gc

    gc.disable()  # a short-lived process that builds many small objects, none in cycles
    inp = sys.stdin.buffer
    # Frames are written by a thread of their own: the reader takes them only when it
    # needs the keys, and a pipe holds 64 KiB, about two frames; writing here blocked
    # this process after two frames, so the reader computed half of an OFAC list's keys
    # itself. Blocked in write(), the writer holds no GIL, and the keys go on meanwhile.
    frames: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    writer = threading.Thread(target=_write_frames, args=(frames, sys.stdout.buffer),
                              name="name-keys-out", daemon=True)
    writer.start()
    try:
        while True:
            header = inp.read(8)
            size = int.from_bytes(header, "little") if len(header) == 8 else 0
            if not size:
                return
            names: list[list[str]] = pickle.loads(inp.read(size))
            for i in range(0, len(names), _FRAME_LISTS):
                data = pickle.dumps([fast_name_keys(n) for n in names[i:i + _FRAME_LISTS]],
                                    protocol=pickle.HIGHEST_PROTOCOL)
                frames.put(len(data).to_bytes(8, "little") + data)
    finally:
        frames.put(None)
        writer.join()


def _write_frames(frames: queue.SimpleQueue[bytes | None], out: Any) -> None:
    """Write the helper's answer frames in order until None (or the reader is gone)."""
    try:
        while (data := frames.get()) is not None:
            out.write(data)
            out.flush()
    except (OSError, ValueError):
        pass  # the reader closed the pipe: it has what it needs


class NameKeysHelper:
    """A helper process computing ``fast_name_keys`` (see above): ``start`` it early,
    ``submit`` names as they are read, then ``keys`` gives every list's keys."""

    def __init__(self, proc: Any) -> None:
        self._proc = proc
        self._out_fd: int = proc.stdout.fileno()
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._feeder = threading.Thread(target=self._feed, name="name-keys-feed",
                                        daemon=True)
        self._feeder.start()
        self._names: list[list[str]] = []
        self._ended = False

    @classmethod
    def start(cls) -> NameKeysHelper | None:
        """A running helper, or None where one cannot or need not run (one core, the
        helper switched off with ``ACCGRAPH_NAME_KEYS_HELPER=0``, no process allowed)."""
        if os.environ.get(HELPER_ENV, "1") == "0" or (os.cpu_count() or 1) < 2:
            return None
        root = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c",
                 "import ingest.name_keys_helper as m; m._name_keys_main()"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env=env, cwd=root, bufsize=0)
        except OSError:
            return None
        return cls(proc)

    def _feed(self) -> None:
        """Write queued frames to the helper (in a thread: the pipe holds less than the
        names, and the helper may still be starting); None closes its input."""
        stdin = self._proc.stdin
        try:
            while (data := self._queue.get()) is not None:
                stdin.write(data)
        except (OSError, ValueError):
            pass  # the helper died: ``keys`` computes what it did not send
        finally:
            try:
                stdin.close()
            except OSError:
                pass

    def submit(self, names: list[list[str]]) -> None:
        """Queue these name lists for the helper (after those submitted before)."""
        if not names or self._ended:
            return
        self._names.extend(names)
        data = pickle.dumps(names, protocol=pickle.HIGHEST_PROTOCOL)
        self._queue.put(len(data).to_bytes(8, "little") + data)

    def keys(self) -> list[list[str]]:
        """The keys of every submitted name list, in order: the helper's frames from the
        first list on, the rest computed here from the last list back."""
        if not self._ended:
            self._ended = True
            self._queue.put(len(b"").to_bytes(8, "little"))
            self._queue.put(None)
        names = self._names
        out: list[list[str] | None] = [None] * len(names)
        lo, hi = 0, len(names)  # the helper has given [0, lo); this thread did [hi, n)
        alive = True
        wait = 0.0  # waited only while the helper is sending (``_STREAM_WAIT``)
        while lo < hi:
            while alive and lo < hi and select.select([self._out_fd], [], [], wait)[0]:
                frame = self._frame()
                if frame is None:
                    alive = False
                    break
                for k in frame[:hi - lo]:
                    out[lo] = k
                    lo += 1
                wait = _STREAM_WAIT
            if lo >= hi:
                break
            wait = 0.0  # nothing came in time: the helper is busy or slow, work meanwhile
            low = max(lo, hi - _LOCAL_BATCH) if alive else lo
            for i in range(low, hi):
                out[i] = fast_name_keys(names[i])
            hi = low
        self.close()
        return [k if k is not None else [] for k in out]  # (every slot is filled)

    def _read(self, n: int) -> bytes | None:
        parts: list[bytes] = []
        while n:
            chunk = os.read(self._out_fd, n)
            if not chunk:
                return None
            parts.append(chunk)
            n -= len(chunk)
        return b"".join(parts)

    def _frame(self) -> list[list[str]] | None:
        """The helper's next answer frame; None when it ended or sent garbage."""
        try:
            header = self._read(8)
            body = self._read(int.from_bytes(header, "little")) if header else None
            frame = pickle.loads(body) if body else None
        except (OSError, ValueError, EOFError, pickle.UnpicklingError):
            return None
        if not isinstance(frame, list) or not all(isinstance(k, list) for k in frame):
            return None
        return frame

    def close(self) -> None:
        """Stop the helper if it still runs, and release its pipes (idempotent)."""
        self._ended = True
        self._queue.put(None)
        proc = self._proc
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        self._feeder.join()
        if proc.stdout is not None:
            proc.stdout.close()
