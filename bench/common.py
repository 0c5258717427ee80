"""Shared by the benchmark and the soak: percentiles, memory, the API server in a
subprocess, and a bounded asynchronous load generator on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def pct(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by nearest rank; None for no values."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))
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


def run_json(args: list[str], timeout: float, env: dict[str, str] | None = None
             ) -> dict[str, Any]:
    """Run ``python -m bench.workers ...`` (or any command printing one JSON object last)."""
    proc = subprocess.run([sys.executable, *args], cwd=REPO, stdout=subprocess.PIPE,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}); see its stderr above")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


class Server:
    """``accgraph serve`` on 127.0.0.1 in a subprocess, with API keys for every role."""

    def __init__(self, db: Path, log: Path) -> None:
        self.db = db
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.keys: dict[str, str] = {}

    def make_keys(self) -> None:
        for role in ("researcher", "lawyer", "admin"):
            out = subprocess.run([sys.executable, "-m", "cli.main", "--db", str(self.db), "keys",
                                  "create", "--role", role, "--label", "bench", "--json"],
                                 cwd=REPO, capture_output=True, text=True, timeout=60)
            if out.returncode != 0:
                raise RuntimeError(out.stderr)
            self.keys[role] = json.loads(out.stdout)["key"]

    def start(self, timeout: float = 600) -> None:
        self.make_keys()
        logf = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "--db", str(self.db), "serve", "--port",
             str(self.port), "--log-level", "warning"], cwd=REPO, stdout=logf, stderr=logf)
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.base + "/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("server did not start in time")

    def mem(self) -> dict[str, float]:
        return proc_mem_mib(self.proc.pid) if self.proc else {}

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
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


async def _load(base: str, make_request: Callable[[random.Random], tuple[str, dict[str, str]]],
                clients: int, max_requests: int, max_seconds: float, seed: int,
                ok: Callable[[int], bool]) -> LoadResult:
    import httpx

    res = LoadResult(clients)
    rng = random.Random(seed)
    left = [max_requests]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    started = time.perf_counter()
    deadline = started + max_seconds

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        async def worker() -> None:
            while left[0] > 0 and time.perf_counter() < deadline:
                left[0] -= 1
                path, headers = make_request(rng)
                t0 = time.perf_counter()
                try:
                    r = await client.get(path, headers=headers)
                    await r.aread()
                    code = str(r.status_code)
                    bad = not ok(r.status_code)
                except httpx.HTTPError as exc:
                    code, bad = type(exc).__name__, True
                res.latencies.append(time.perf_counter() - t0)
                res.requests += 1
                res.statuses[code] = res.statuses.get(code, 0) + 1
                if bad:
                    res.errors += 1
                    if len(res.error_samples) < 5:
                        res.error_samples.append(f"{code} {path}")

        await asyncio.gather(*(worker() for _ in range(clients)))
    res.seconds = time.perf_counter() - started
    return res


def load(base: str, make_request: Callable[[random.Random], tuple[str, dict[str, str]]],
         clients: int, max_requests: int, max_seconds: float, seed: int = 1,
         ok: Callable[[int], bool] = lambda c: c < 400) -> LoadResult:
    """``clients`` concurrent connections issuing requests until ``max_requests`` are done
    or ``max_seconds`` have passed (whichever first): always bounded."""
    return asyncio.run(_load(base, make_request, clients, max_requests, max_seconds, seed, ok))
