"""``graph.native``: the compiled hot path is used only when built from the sources as
they are, can be switched off, and answers exactly as the sources do."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import REPO
from graph import native
from tests.bench.helpers import tiny_run

_STATUS = ("import json, queries.service, graph.native as n; "
           "print(json.dumps(n.status()))")


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=False, timeout=600, env={**os.environ, **env})


def _built() -> bool:
    return (native.NATIVE_DIR / native.STAMP).exists()


def test_a_current_build_is_what_runs() -> None:
    """After ``make native`` (``make test`` runs it), every hot module imported is the
    compiled one; a build older than its sources would have warned and run the sources."""
    if not _built():
        pytest.skip("no compiled build (make native; it needs a C compiler)")
    meta = json.loads((native.NATIVE_DIR / native.STAMP).read_text())
    assert meta["digest"] == native.sources_digest(), \
        "the compiled build is older than the sources: run make native"
    out = _python(_STATUS)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout)
    assert got["state"] == "native"
    assert got["modules"] == {m: True for m in native.NATIVE_MODULES}


def test_switched_off_runs_the_sources() -> None:
    out = _python(_STATUS, ACCGRAPH_NATIVE="0")
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout)
    assert got["state"].startswith("sources")
    assert got["modules"] == {m: False for m in native.NATIVE_MODULES}


def _stamp(where: Path, digest: str, files: dict[str, str]) -> None:
    where.mkdir(parents=True, exist_ok=True)
    (where / native.STAMP).write_text(json.dumps(
        {"digest": digest, "modules": list(native.NATIVE_MODULES), "files": files}))


def test_an_older_build_is_not_used(tmp_path: Path) -> None:
    """A build whose sources have changed since (another digest) is left alone, with a
    warning, and so is one with a file missing or an unreadable stamp: the sources run."""
    # ACCGRAPH_NATIVE=0 keeps graph's own install away from the real build; the variable
    # is then dropped, so the install asked for here decides alone
    code = ("import json, os, sys, warnings\n"
            "from pathlib import Path\n"
            "import graph.native as n\n"
            "os.environ.pop('ACCGRAPH_NATIVE')\n"
            "warnings.simplefilter('always')\n"
            "ok = n.install(Path(sys.argv[1]))\n"
            "import queries.service\n"
            "print(json.dumps([ok, n.status()]))\n")
    files = {m: f"lib/{m}.so" for m in native.NATIVE_MODULES}
    stale = tmp_path / "stale"
    _stamp(stale, hashlib.sha256(b"other sources").hexdigest(), files)
    missing = tmp_path / "missing"
    _stamp(missing, native.sources_digest(), files)  # current, but no file is there
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / native.STAMP).write_text("{not json")
    for where, said in ((stale, "older than the sources"), (missing, "incomplete"),
                        (broken, "unreadable build")):
        proc = subprocess.run([sys.executable, "-c", code, str(where)], cwd=REPO,
                              capture_output=True, text=True, check=False, timeout=120,
                              env={**os.environ, "ACCGRAPH_NATIVE": "0"})
        assert proc.returncode == 0, proc.stderr[-2000:]
        ok, got = json.loads(proc.stdout)
        assert ok is False
        assert said in got["state"]
        assert got["modules"] == {m: False for m in native.NATIVE_MODULES}
        assert ("running the sources" in proc.stderr) == (where is not broken)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_compiled_and_sources_answer_alike(tmp_path: Path) -> None:
    """The same questions on a generated graph, once compiled and once from the sources:
    every answer identical, byte for byte as JSON (mypyc keeps Python's semantics, and
    checks the annotations at run time, so a wrong one would fail here, not pass)."""
    if not _built():
        pytest.skip("no compiled build (make native; it needs a C compiler)")
    db, inputs = tiny_run(tmp_path, inputs_per_query=12)
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from graph.embedded import EmbeddedStore\n"
        "from queries.service import GraphQueries\n"
        "from queries.errors import QueryError\n"
        "import graph.native as n\n"
        "inputs = json.loads(Path(sys.argv[2]).read_text())\n"
        "store = EmbeddedStore(Path(sys.argv[1]), read_only=True)\n"
        "out = {'status': n.status()}\n"
        "for view in (True, False):\n"
        "    q = GraphQueries(store, include_restricted=view)\n"
        "    for name, call in (('chain', lambda x: q.chain(*x)),\n"
        "                       ('accountability', q.accountability),\n"
        "                       ('linked', lambda x: q.linked(x[0], at=x[1])),\n"
        "                       ('profile', q.profile), ('timeline', q.timeline)):\n"
        "        for x in inputs[name]:\n"
        "            try:\n"
        "                got = call(x).model_dump(mode='json')\n"
        "            except QueryError as exc:  # (a restricted input, to the public view)\n"
        "                got = {'error': type(exc).__name__, 'message': str(exc)}\n"
        "            out[f'{view}:{name}:{x}'] = got\n"
        "    out[f'{view}:gaps'] = q.gaps('EU').model_dump(mode='json')\n"
        "store.close()\n"
        "print(json.dumps(out, sort_keys=True))\n")
    runs = {}
    for flag in ("1", "0"):
        proc = subprocess.run([sys.executable, "-c", code, str(db), str(inputs)], cwd=REPO,
                              capture_output=True, text=True, check=False, timeout=600,
                              env={**os.environ, "ACCGRAPH_NATIVE": flag})
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs[flag] = json.loads(proc.stdout)
    compiled, sources = runs["1"], runs["0"]
    assert compiled.pop("status")["state"] == "native"
    assert sources.pop("status")["state"].startswith("sources")
    assert len(compiled) > 100
    assert sum('error' not in v for v in compiled.values()) > 80  # answers, not refusals
    assert compiled.keys() == sources.keys()
    for key in compiled:
        assert compiled[key] == sources[key], key
