"""Shared by the benchmark and the soak: percentiles, memory, the API server in a
subprocess, and a bounded asynchronous load generator on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"  # every benchmark's results files
WORK = REPO / "bench" / "work"  # the databases and inputs runs leave behind
# what the published scale-1 command leaves (seed 7): the graph and inputs that the tools
# timing one query against it (bench.ab, bench.cache_floor) default to
SCALE1_RUN = WORK / "run-1.0-7"


def scale1_inputs(db: Path, inputs: Path) -> dict[str, Any]:
    """The inputs a one-query tool times, after checking that the run it needs exists."""
    if not db.exists():
        raise SystemExit(f"{db}: no database (run `python -m bench.run --scale 1` first, "
                         "or give --db and --inputs)")
    out: dict[str, Any] = json.loads(inputs.read_text(encoding="utf-8"))
    return out


def write_result(folder: Path, name: str, result: dict[str, Any]) -> Path:
    """``result`` written as ``folder/<name>-<UTC timestamp>.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return path


def pct(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by nearest rank; None for no values."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(q / 100 * len(s) + 0.5) - 1))
    return s[k]


def summary_ms(seconds: Sequence[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": _r(pct(ms, 50)), "p95_ms": _r(pct(ms, 95)),
            "p99_ms": _r(pct(ms, 99)), "max_ms": _r(max(ms) if ms else None),
            "mean_ms": _r(sum(ms) / len(ms) if ms else None)}


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(x, nd)


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM), MiB."""
    return proc_mem_mib(os.getpid())["peak_mib"]


def proc_mem_mib(pid: int) -> dict[str, float]:
    out = {"rss_mib": 0.0, "peak_mib": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss_mib"] = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                out["peak_mib"] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return {k: round(v, 1) for k, v in out.items()}


def smaps_mib(pid: int) -> dict[str, float]:
    """A process's resident (``Rss``) and proportional (``Pss``) memory now, and its peak
    resident memory (``VmHWM``), MiB; {} when it is gone. PSS splits each page among the
    processes that map it, so PSS summed over processes is the memory they hold together
    (shared pages once); RSS counts a shared page in every process that maps it."""
    out: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("Rss", "Pss"):
                out[name.lower()] = int(rest.split()[0]) / 1024
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                out["hwm"] = int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return {}
    return out if len(out) == 3 else {}


class MemSampler:
    """Samples the memory of a process tree every ``interval`` seconds, in a thread.

    Why: the server's workers share memory-mapped caches (``queries.chunked.shared``), and
    the kernel's peak figure per process (``VmHWM``) counts a shared page in every process
    that maps it: summed over the workers it counts those pages once per worker, which is
    not memory the machine spends. The honest total is the sum of the processes' PSS, but
    the kernel keeps no peak of it, so it is sampled: ``peak_pss_mib`` is the largest sum
    seen (every 0.1 s by default, from the server's start to its stop; a rise and fall
    shorter than the interval can be missed: the builds, the largest swings, last seconds).
    Every process ever seen counts, a builder that exited too: ``hwm_sum_mib`` sums each
    process's ``VmHWM`` (its own peak, shared pages included), the old figure, an upper
    bound of the true peak."""

    def __init__(self, pids: Callable[[], list[int]], interval: float = 0.1) -> None:
        self._pids = pids
        self.interval = interval
        self.samples = 0
        self.peak_pss = 0.0
        self.peak_rss = 0.0
        self.hwm: dict[int, float] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()  # ``mem`` also takes a sample, from another thread
        self._thread = threading.Thread(target=self._run, name="mem-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def sample(self) -> None:
        with self._lock:
            pss = rss = 0.0
            for pid in self._pids():
                m = smaps_mib(pid)
                if not m:
                    continue
                pss += m["pss"]
                rss += m["rss"]
                self.hwm[pid] = max(self.hwm.get(pid, 0.0), m["hwm"])
            self.samples += 1
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_rss = max(self.peak_rss, rss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def dir_size_mib(path: Path) -> float:
    total = 0
    for p in [path, Path(str(path) + ".wal")]:
        if p.is_file():
            total += p.stat().st_size
        elif p.is_dir():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return round(total / 2**20, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_json(args: list[str], timeout: float, env: dict[str, str] | None = None,
             cwd: Path = REPO) -> dict[str, Any]:
    """Run ``python -m bench.workers ...`` (or any command printing one JSON object last);
    ``cwd`` is the tree whose code runs (``bench.ab`` runs another commit's)."""
    proc = subprocess.run([sys.executable, *args], cwd=cwd, stdout=subprocess.PIPE, check=False,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}); see its stderr above")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def ingest_runs_summary(runs: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run of median first-ingest time among an ingest benchmark's runs (each a fresh
    process, ``first_ingest``/``re_ingest``/``peak_rss_mb`` as ``bench/ofac_ingest.py`` and
    ``bench/memorial_ingest.py`` write them), and the figures both report over all runs."""
    totals = sorted(r["first_ingest"]["seconds_total"] for r in runs)
    median_run = sorted(runs, key=lambda r: r["first_ingest"]["seconds_total"])[len(runs) // 2]
    return median_run, {
        "median_seconds_total": statistics.median(totals),
        "fastest_seconds_total": totals[0],
        "slowest_seconds_total": totals[-1],
        "median_re_ingest_seconds": statistics.median(
            r["re_ingest"]["seconds_total"] for r in runs),
        "max_peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
    }


class Server:
    """``accgraph serve`` on 127.0.0.1 in a subprocess, with API keys for every role.

    ``workers`` > 1 runs the read-only multi-process server; ``extra`` are more ``serve``
    options (e.g. ``--answer-cache-mib 64``). ``start`` returns once ``/ready`` answers 200
    (the name index is built at start-up, in the background). Its memory is sampled from
    the start to the stop (``MemSampler``, ``mem``). With ``cold_caches`` (the default) the
    database's shared cache files (``queries.chunked.shared``) are removed first, so the
    figures include building them, as a first start after a load does.
    """

    def __init__(self, db: Path, log: Path, *, workers: int = 1,
                 extra: Sequence[str] = (), cold_caches: bool = True) -> None:
        self.db = db
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.workers = workers
        self.extra = list(extra)
        self.proc: subprocess.Popen[bytes] | None = None
        self.keys: dict[str, str] = {}
        self.ready_seconds: float | None = None
        self.cold_caches = cold_caches
        self.sampler: MemSampler | None = None

    def clear_caches(self) -> None:
        """Remove the shared cache files of ``db`` (safe: the next start rebuilds them)."""
        import shutil

        from queries.chunked import shared_bases

        for base in shared_bases(self.db):
            shutil.rmtree(base, ignore_errors=True)

    def make_keys(self) -> None:
        for role in ("researcher", "lawyer", "admin"):
            out = subprocess.run([sys.executable, "-m", "cli.main", "--db", str(self.db), "keys",
                                  "create", "--role", role, "--label", "bench", "--json"],
                                 cwd=REPO, capture_output=True, text=True, timeout=60,
                                 check=False)
            if out.returncode != 0:
                raise RuntimeError(out.stderr)
            self.keys[role] = json.loads(out.stdout)["key"]

    def start(self, timeout: float = 600) -> None:
        self.make_keys()
        if self.cold_caches:
            self.clear_caches()
        with open(self.log, "wb") as logf:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "--db", str(self.db), "serve", "--port",
                 str(self.port), "--log-level", "warning", "--workers", str(self.workers),
                 *self.extra], cwd=REPO, stdout=logf, stderr=logf)
        self.sampler = MemSampler(self.pids)
        self.sampler.start()
        import httpx

        t0 = time.monotonic()
        deadline = t0 + timeout
        ready_pids: set[Any] = set()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                # every worker must be ready (each new connection may land on another one):
                # /ready names the worker that answered
                r = httpx.get(self.base + "/ready", timeout=2)
                if r.status_code == 200:
                    ready_pids.add(r.json().get("worker_pid"))
                if len(ready_pids) >= self.workers:
                    self.ready_seconds = round(time.monotonic() - t0, 1)
                    return
                if r.status_code == 200:
                    continue  # ask again at once: another connection, maybe another worker
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("server did not start in time")

    def pids(self) -> list[int]:
        """The server process and its worker processes."""
        if not self.proc:
            return []
        try:
            import psutil

            return [self.proc.pid, *(c.pid for c in psutil.Process(self.proc.pid)
                                     .children(recursive=True))]
        except Exception:  # noqa: BLE001 - psutil missing or the process is gone
            return [self.proc.pid]

    def mem(self) -> dict[str, float]:
        """Memory of the server, summed over its processes: now (``rss_mib``, ``pss_mib``)
        and at its peak. ``peak_mib``, the figure the benchmark judges, is the largest sum
        of the processes' PSS sampled since the start (shared pages once: ``MemSampler``);
        ``peak_hwm_sum_mib`` sums each process's own peak (``VmHWM``, shared pages in each
        process that maps them), an upper bound; and the largest process, now and at its
        peak (a worker's start-up builds peak above where it settles)."""
        pids = self.pids()
        per = [proc_mem_mib(pid) for pid in pids]
        if not per:
            return {}
        now = [smaps_mib(pid) for pid in pids]
        out = {"rss_mib": round(sum(m["rss_mib"] for m in per), 1),
               "pss_mib": round(sum(m.get("pss", 0.0) for m in now), 1),
               "peak_mib": round(sum(m["peak_mib"] for m in per), 1)}
        if self.sampler is not None:
            self.sampler.sample()
            out["peak_mib"] = round(self.sampler.peak_pss, 1)
            out["peak_rss_sum_mib"] = round(self.sampler.peak_rss, 1)
            out["peak_hwm_sum_mib"] = round(sum(self.sampler.hwm.values()), 1)
            out["processes_seen"] = len(self.sampler.hwm)
            out["samples"] = self.sampler.samples
        if len(per) > 1:
            out["processes"] = len(per)
            out["max_process_rss_mib"] = max(m["rss_mib"] for m in per)
            out["max_process_peak_mib"] = max(m["peak_mib"] for m in per)  # VmHWM
        return out

    def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                for pid in reversed(self.pids()):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                self.proc.wait()


@dataclass
class LoadResult:
    clients: int
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        s = summary_ms(self.latencies)
        return {"clients": self.clients, "requests": self.requests, "errors": self.errors,
                "seconds": round(self.seconds, 2),
                "throughput_rps": round(self.requests / self.seconds, 1) if self.seconds else None,
                "p50_ms": s["p50_ms"], "p95_ms": s["p95_ms"], "p99_ms": s["p99_ms"],
                "statuses": self.statuses, "error_samples": self.error_samples[:5]}


class _Conn:
    """One keep-alive HTTP/1.1 connection of the load generator (plain asyncio streams).

    httpx costs about 1 ms of CPU per request; on two cores shared with the server that
    was a large share of what was measured. This speaks just enough HTTP/1.1 for GETs to
    our own server (Content-Length or chunked bodies, ``Connection: close``).
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.reader, self.writer
        assert reader is not None
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 *(f"{k}: {v}" for k, v in headers.items()), "", ""]
        writer.write("\r\n".join(lines).encode("latin-1"))
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked, close = -1, False, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if length >= 0:
            body = await reader.readexactly(length)
        elif chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                parts.append((await reader.readexactly(size + 2))[:-2])
            body = b"".join(parts)
        else:
            body = await reader.read()
            close = True
        if close:
            self.close()
        return status, body


async def _load(base: str, make_request: Callable[[random.Random], tuple[str, dict[str, str]]],
                clients: int, max_requests: int, max_seconds: float, seed: int,
                ok: Callable[[int], bool], timeout: float,
                on_answer: Callable[[str, int, bytes], None] | None) -> LoadResult:
    host, _, port = base.removeprefix("http://").rstrip("/").partition(":")
    res = LoadResult(clients)
    rng = random.Random(seed)
    left = [max_requests]
    started = time.perf_counter()
    deadline = started + max_seconds

    async def worker() -> None:
        conn = _Conn(host, int(port or 80))
        try:
            while left[0] > 0 and time.perf_counter() < deadline:
                left[0] -= 1
                path, headers = make_request(rng)
                t0 = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(conn.get(path, headers), timeout)
                    code = str(status)
                    bad = not ok(status)
                    if on_answer is not None:
                        on_answer(path, status, body)
                except (TimeoutError, OSError, asyncio.IncompleteReadError,
                        asyncio.LimitOverrunError, ValueError) as exc:
                    conn.close()
                    code, bad = type(exc).__name__, True
                res.latencies.append(time.perf_counter() - t0)
                res.requests += 1
                res.statuses[code] = res.statuses.get(code, 0) + 1
                if bad:
                    res.errors += 1
                    if len(res.error_samples) < 5:
                        res.error_samples.append(f"{code} {path}")
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
    res.seconds = time.perf_counter() - started
    return res


def load(base: str, make_request: Callable[[random.Random], tuple[str, dict[str, str]]],
         clients: int, max_requests: int, max_seconds: float, seed: int = 1,
         ok: Callable[[int], bool] = lambda c: c < 400, timeout: float = 30.0,
         on_answer: Callable[[str, int, bytes], None] | None = None) -> LoadResult:
    """``clients`` concurrent keep-alive connections issuing requests until ``max_requests``
    are done or ``max_seconds`` have passed (whichever first): always bounded; each request
    times out after ``timeout`` s (counted as an error). ``on_answer(path, status, body)``
    sees every answer (for checks; keep it cheap)."""
    return asyncio.run(_load(base, make_request, clients, max_requests, max_seconds, seed, ok,
                             timeout, on_answer))


class WriteTimer:
    """Seconds a store spends in its write calls during an ingest, to split "check + diff"
    from "write" in the ingest benchmarks. Wraps ``store.write`` and ``store.write_changes``
    in place (``restore`` puts them back); a write the other calls (write_changes may call
    write) is counted once, as part of the outer call. ``write`` replaces the store's own
    write when given (the memorial benchmark's COPY prototype)."""

    def __init__(self, store: Any, write: Callable[..., Any] | None = None,
                 wrap_changes: bool = True) -> None:
        self.seconds = 0.0
        self._store = store
        self._depth = 0
        self._saved = (store.write, store.write_changes)
        store.write = self._timed(write or store.write)
        if wrap_changes:
            store.write_changes = self._timed(store.write_changes)

    def _timed(self, fn: Callable[..., Any]) -> Callable[..., None]:
        def run(*args: Any) -> None:
            t = time.perf_counter()
            self._depth += 1
            try:
                fn(*args)
            finally:
                self._depth -= 1
            if not self._depth:
                self.seconds += time.perf_counter() - t
        return run

    def restore(self) -> None:
        self._store.write, self._store.write_changes = self._saved


MakeRequest = Callable[[random.Random], tuple[str, dict[str, str]]]
# the mixed load's time bound, seconds: long enough for a server's bounded caches to fill
# (they level off after a few thousand questions per worker), so its memory is read full
MIXED_SECONDS = 120.0


def mixed_requests(inputs: dict[str, list[Any]], lawyer: dict[str, str]) -> MakeRequest:
    """The mixed load of the API step and the soak: every named query a portal serves
    (chain 35 %, accountability 20, search 20, profile 13, linked 8, paths 4), half as an
    anonymous caller and half with ``lawyer``'s headers. Restricted records are 404 for
    anonymous callers, so callers of this load count only 5xx as errors."""

    def request(rng: random.Random) -> tuple[str, dict[str, str]]:
        headers = lawyer if rng.random() < 0.5 else {}
        x = rng.random()
        if x < 0.35:
            ref, at = rng.choice(inputs["chain"])
            return f"/entities/{quote(ref, safe='')}/chain?at={at}", headers
        if x < 0.55:
            ref = rng.choice(inputs["accountability"])
            return f"/entities/{quote(ref, safe='')}/accountability", headers
        if x < 0.75:
            return f"/search?q={quote(rng.choice(inputs['search']))}", headers
        if x < 0.88:
            return f"/entities/{quote(rng.choice(inputs['profile']), safe='')}", headers
        if x < 0.96:
            ref, at = rng.choice(inputs["linked"])
            q = f"?at={at}" if at else ""
            return f"/entities/{quote(ref, safe='')}/linked{q}", headers
        p, r = rng.choice(inputs["paths"])
        return f"/paths?from={quote(p)}&to={quote(r)}", headers

    return request
