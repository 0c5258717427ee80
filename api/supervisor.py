"""The supervisor of ``accgraph serve --workers N``: uvicorn's, with one listening socket
per worker.

Why not uvicorn's own: it binds one socket and hands it to every worker. The worker woken
for a new connection accepts every connection then pending (asyncio accepts up to the
backlog per wake-up), and a kept-alive connection stays with the worker that accepted it.
So a burst of clients (the benchmark's 16, or a portal's reverse proxy) landed on one
worker, and the server ran at one core's rate: during a 16-client load at scale 1, one
worker's CPU went from 4 to 16 s while the other's stayed at 3.

Here each worker binds a socket of its own with ``SO_REUSEPORT``, and the kernel spreads
new connections over the listening sockets by a hash of their addresses. A worker listens
only once its app has started (asyncio's ``create_server`` calls ``listen``), so no
connection queues behind a worker that is still opening the store. Everything else is
uvicorn's ``Multiprocess``: signals, health checks, restarting a dead worker, SIGHUP's
rolling restart; but a worker whose app fails to start stops the server with status 3,
where uvicorn's would start it again every half second.

The supervisor first checks the address with a plain bind, so a port already taken (by
anything, another server of ours included) fails at once with a clear message; then it
holds a bound socket that never listens (and so receives no connection): port 0 is
resolved once for every worker, and the port stays ours while a worker restarts.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors import multiprocess

APP = "api.serve_app:app_from_env"
logger = logging.getLogger("uvicorn.error")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_free(host: str, port: int) -> int:
    """Bind ``host:port`` without ``SO_REUSEPORT`` and let go; return the port (resolved
    if 0). Raises ``OSError`` if anything listens there, our own workers included."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        probe.bind((host, port))
        return int(probe.getsockname()[1])


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with ``SO_REUSEPORT``, not yet listening."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class ReusePortWorker(multiprocess.Process):
    """One worker, which binds its own socket before uvicorn serves on it."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # pragma: no cover
        try:
            sock = reuseport_socket(self.config.host, self.config.port)
        except OSError as exc:
            logger.error("worker could not bind %s:%s: %s", self.config.host, self.config.port,
                         exc)
            sys.exit(STARTUP_FAILURE)  # the supervisor stops instead of restarting it
        try:
            super().target([sock])
        except Exception:
            if self.server.started:
                raise
            # the app did not start (the store cannot be opened, say): uvicorn's supervisor
            # would start this worker again and again, every half second, for ever
            logger.exception("worker failed to start")
            sys.exit(STARTUP_FAILURE)


def run(workers: int, host: str, port: int, log_level: str) -> int:
    """Serve ``APP`` with ``workers`` processes on ``host:port``; return the exit status."""
    try:
        port = check_free(host, port)
        holder = reuseport_socket(host, port)
    except OSError as exc:
        sys.stderr.write(f"cannot serve on {host}:{port}: {exc.strerror or exc}\n")
        return 1
    config = Config(APP, factory=True, host=host, port=port, workers=workers,
                    log_level=log_level)
    # uvicorn's supervisor makes its workers through this module-level name; this process
    # exists only to supervise, so the replacement reaches nothing else
    multiprocess.Process = ReusePortWorker  # type: ignore[misc]
    supervisor = multiprocess.Multiprocess(config, sockets=[])
    try:
        supervisor.run()
    finally:
        holder.close()
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        sys.stderr.write("a worker failed to start (its error is above); the server stopped\n")
        return STARTUP_FAILURE
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m api.supervisor",
                                 description="Serve the API with N balanced worker processes "
                                             "(started by `accgraph serve --workers N`).")
    ap.add_argument("--workers", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--log-level", default="info")
    a = ap.parse_args(argv)
    return run(a.workers, a.host, a.port, a.log_level)


if __name__ == "__main__":
    sys.exit(main())
