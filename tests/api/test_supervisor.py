"""The supervisor's sockets (``api.supervisor``): a socket per worker on one port, and a port
already taken refused before any worker starts. The whole server is exercised in
``test_serve_cli.py::test_serve_with_workers_is_read_only``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from api.serve_app import ENV, ServeConfig
from api.supervisor import check_free, main, reuseport_socket

ROOT = Path(__file__).resolve().parents[2]


def test_workers_sockets_share_a_port_and_each_listens() -> None:
    port = check_free("127.0.0.1", 0)  # port 0 is resolved once, for every worker
    assert port > 0
    holder = reuseport_socket("127.0.0.1", port)  # the supervisor's: bound, never listening
    a = reuseport_socket("127.0.0.1", port)
    b = reuseport_socket("127.0.0.1", port)
    try:
        a.listen()
        b.listen()
        assert a.getsockname()[1] == b.getsockname()[1] == port
        # whatever binds without SO_REUSEPORT (another server, ours too) is refused
        with pytest.raises(OSError):
            check_free("127.0.0.1", port)
        # a connection reaches one of the listening sockets, never the holder
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            a.settimeout(0.2)
            b.settimeout(0.2)
            accepted = 0
            for sock in (a, b):
                try:
                    conn, _ = sock.accept()
                    conn.close()
                    accepted += 1
                except TimeoutError:
                    pass
            assert accepted == 1
    finally:
        for sock in (a, b, holder):
            sock.close()


def test_a_port_in_use_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--workers", "2", "--port", str(port), "--log-level", "warning"]) == 1
    err = capsys.readouterr().err
    assert f"cannot serve on 127.0.0.1:{port}" in err and "in use" in err


@pytest.mark.slow
def test_a_worker_that_cannot_start_stops_the_server(tmp_path: Path) -> None:
    """uvicorn's supervisor would start a failing worker again every half second, for ever;
    this one stops with status 3 and says why."""
    cfg = ServeConfig(db=str(tmp_path / "missing.lbdb"), store_kind=None,
                      admin_path=str(tmp_path / "admin.sqlite"))
    env = {**os.environ, ENV: cfg.to_env()}
    done = subprocess.run([sys.executable, "-m", "api.supervisor", "--workers", "2", "--port",
                           "0", "--log-level", "warning"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 3, done.stderr[-2000:]
    assert "no database at" in done.stderr
    assert "a worker failed to start" in done.stderr
    assert done.stderr.count("Traceback") <= 2  # each worker once, not again and again
