"""``accgraph serve --demo`` as a newcomer runs it (a real uvicorn server over HTTP), and the
``keys`` and ``audit`` command groups."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import FIXTURE

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # subprocesses and a real server: several seconds each


def accgraph(db: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACCGRAPH_DB": str(db)}
    env.pop("ACCGRAPH_ADMIN_DB", None)
    proc = subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    if check:
        assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def worker_sockets(supervisor: int, port: int) -> tuple[dict[int, set[str]], dict[int, int]]:
    """The supervisor's children that listen on ``port``: {pid: its listening sockets'
    inodes} (a socket shared by workers shows the same inode in each) and {pid: established
    connections on that port}, read from /proc (Linux)."""
    states: dict[str, str] = {}  # socket inode -> TCP state (0A listen, 01 established)
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            cols = row.split()
            if int(cols[1].rsplit(":", 1)[1], 16) == port:
                states[cols[9]] = cols[3]
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    listening: dict[int, set[str]] = {}
    established: dict[int, int] = {}
    for pid in map(int, children):
        inodes = []
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.append(link[8:-1])
        listens = {i for i in inodes if states.get(i) == "0A"}
        if listens:
            listening[pid] = listens
            established[pid] = sum(states.get(i) == "01" for i in inodes)
    return listening, established


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    db = tmp_path_factory.mktemp("serve") / "graph.lbdb"
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "--db", str(db), "serve", "--demo",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level",
                             "warning"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base + "/reconcile", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"server did not start: {out[-2000:]}")
            time.sleep(0.3)
        yield base, db
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_serve_demo_answers_over_http(demo_server) -> None:  # type: ignore[no-untyped-def]
    base, _db = demo_server
    home = httpx.get(base + "/", follow_redirects=True)
    assert home.status_code == 200 and 'id="search-box"' in home.text
    hits = httpx.get(base + "/search", params={"q": "Mohseni Ezhei"}).json()["hits"]
    assert hits and hits[0]["entity"]["id"] == "person:mohseni-ejei-gholamhossein"
    persian = httpx.get(base + "/search", params={"q": "محسنی اژه‌ای"}).json()["hits"]
    assert persian and persian[0]["entity"]["id"] == "person:mohseni-ejei-gholamhossein"
    profile = httpx.get(base + "/entities/person:mohseni-ejei-gholamhossein").json()
    assert profile["posts"] and profile["posts"][0]["holds"]["sources"]
    picture = httpx.get(base + "/graph/person:mohseni-ejei-gholamhossein")
    assert picture.status_code == 200 and "vis-network" in picture.text
    recon = httpx.get(base + "/reconcile", params={"queries": json.dumps(
        {"q0": {"query": "Mohseni Ejei", "type": "Person"}, "q1": {"query": "محسنی اژه‌ای"}})}).json()
    for key in ("q0", "q1"):
        best = recon[key]["result"][0]
        assert best["id"] == "person:mohseni-ejei-gholamhossein" and best["match"] is True
    assert httpx.get(base + "/openapi.json").json()["info"]["title"] == "accountability-graph"
    problem = httpx.get(base + "/entities/person:nobody-at-all")
    assert problem.status_code == 404
    assert problem.headers["content-type"].startswith("application/problem+json")


def test_keys_work_against_a_running_server(demo_server) -> None:  # type: ignore[no-untyped-def]
    base, db = demo_server
    created = json.loads(accgraph(db, "keys", "create", "--role", "admin", "--label", "ops",
                                  "--json").stdout)
    key = created["key"]
    auth = {"Authorization": f"Bearer {key}"}
    assert httpx.get(base + "/admin/keys", headers=auth).status_code == 200
    assert httpx.get(base + "/admin/keys").status_code == 401
    listed = json.loads(accgraph(db, "keys", "list", "--json").stdout)
    assert [k["key_id"] for k in listed] == [created["key_id"]]
    assert "key" not in listed[0]
    accgraph(db, "keys", "revoke", created["key_id"])
    assert httpx.get(base + "/admin/keys", headers=auth).status_code == 401
    audit = [json.loads(line) for line in
             accgraph(db, "audit", "list", "--json").stdout.splitlines()]
    assert [e["action"] for e in audit][:2] == ["key_create", "key_revoke"]
    assert audit[0]["who"].startswith("cli:")


def test_keys_cli_prints_key_once_and_rejects_bad_roles(tmp_path: Path) -> None:
    db = tmp_path / "g.lbdb"
    out = accgraph(db, "keys", "create", "--role", "lawyer")
    key = out.stdout.strip()
    assert key.startswith("agk_") and "\n" not in key
    assert key not in accgraph(db, "keys", "list").stdout
    admin_file = tmp_path / "g.lbdb.admin.sqlite"
    assert admin_file.exists() and key.encode() not in admin_file.read_bytes()
    bad = accgraph(db, "keys", "create", "--role", "public", check=False)
    assert bad.returncode == 2 and "researcher, lawyer, admin" in bad.stderr
    bad = accgraph(db, "keys", "revoke", "nope", check=False)
    assert bad.returncode == 2
    csv_out = tmp_path / "audit.csv"
    accgraph(db, "audit", "export", "--format", "csv", "--output", str(csv_out))
    assert csv_out.read_text().startswith("seq,at,who,role,action")
    assert accgraph(db, "audit", "export", "--format", "xml", check=False).returncode == 2


def test_serve_without_demo_serves_what_is_loaded(tmp_path: Path) -> None:
    db = tmp_path / "g.lbdb"
    accgraph(db, "ingest", "native", str(FIXTURE), "--quiet")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "--db", str(db), "serve",
                             "--port", str(port), "--log-level", "warning"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                r = httpx.get(base + "/search", params={"q": "Zzyzx Judge Alpha"}, timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert r.json()["hits"][0]["entity"]["id"] == "person:zzyzx-judge-alpha"
        # restricted records stay invisible without a key, also over a real socket
        assert httpx.get(base + "/entities/person:qwertyx-witness-delta").status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_with_workers_needs_a_database(tmp_path: Path) -> None:
    """The workers open the database read-only: a missing one is said once, at once."""
    done = accgraph(tmp_path / "missing.lbdb", "serve", "--workers", "2", "--port",
                    str(free_port()), check=False)
    assert done.returncode == 3
    assert "no database at" in done.stderr and "Traceback" not in done.stderr


def test_serve_with_workers_is_read_only(tmp_path: Path) -> None:
    """``serve --workers 2``: two processes open the database read-only and answer; writes
    are a 409 problem, not a 500; /ready says so."""
    db = tmp_path / "g.lbdb"
    accgraph(db, "ingest", "native", str(FIXTURE), "--quiet")
    key = json.loads(accgraph(db, "keys", "create", "--role", "admin", "--json").stdout)["key"]
    port = free_port()
    env = {**os.environ, "ACCGRAPH_DB": str(db)}
    env.pop("ACCGRAPH_ADMIN_DB", None)
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--port", str(port),
                             "--log-level", "warning", "--workers", "2"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        for _ in range(6):  # new connections: both workers answer
            ready = httpx.get(base + "/ready", timeout=10)
            while ready.status_code == 503 and time.monotonic() < deadline:
                time.sleep(0.3)  # this worker is still warming up (the other one was first)
                ready = httpx.get(base + "/ready", timeout=10)
            assert ready.status_code == 200 and ready.json()["read_only"] is True
            chain = httpx.get(base + "/entities/person:zzyzx-judge-alpha/chain",
                              params={"at": "2020-01-15"}, timeout=10)
            assert chain.status_code == 200
        resp = httpx.post(base + "/admin/ingest", data={"format": "native", "path": str(FIXTURE)},
                          headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert resp.status_code == 409, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        # the command became the supervisor in a fresh interpreter (same pid), which
        # holds none of the API, readers and engine the command had imported
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert b"api.supervisor" in cmdline and b"cli.main" not in cmdline
        # each worker listens on a socket of its own, and 16 kept-alive connections spread
        # over both (uvicorn's shared socket could give a burst of them to one worker)
        clients = [httpx.Client(base_url=base, timeout=10) for _ in range(16)]
        try:
            for client in clients:
                assert client.get("/entities/person:zzyzx-judge-alpha").status_code == 200
            listening, established = worker_sockets(proc.pid, port)
            assert len(listening) == 2 and len(set.union(*listening.values())) == 2, listening
            assert sorted(established) == sorted(listening)
            assert sum(established.values()) == 16 and min(established.values()) >= 1, established
        finally:
            for client in clients:
                client.close()
        # a second server on the same port is refused before it starts any worker
        again = subprocess.run([sys.executable, "-m", "cli.main", "serve", "--port", str(port),
                                "--log-level", "warning", "--workers", "2"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=120, check=False)
        assert again.returncode != 0
        assert f"cannot serve on 127.0.0.1:{port}" in again.stderr, again.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)
