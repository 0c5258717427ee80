"""The query hot path compiled with mypyc, used when it is built and current.

Why: an accountability answer (and a cold chain of command) spends its time in Python
itself: thousands of dictionary look-ups, small tuples and claim references per answer,
none of them large enough for numpy or the engine to take over. mypy's compiler turns
these type-annotated modules into C extensions with the same behaviour. In alternating
runs at scale 1 on the 2-core machine (``BENCHMARKS.md``, seventeenth session) the chain's
p95 fell by 23 % and accountability's by 10 %, for no memory.

The modules are compiled together (``NATIVE_MODULES``: they call each other natively),
into ``build/native`` beside the sources rather than in place, so an edited source is never
shadowed by an older build: the build records a digest of the sources it compiled, and a
process uses the build only while that digest matches (else it warns once and runs the
sources). ``ACCGRAPH_NATIVE=0`` runs the sources regardless.

    python -m graph.native_build          # make native (make install and make test run it)
    python -m graph.native_build status
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
NATIVE_DIR = ROOT / "build" / "native"
STAMP = "native.json"
# the modules the hot path runs through; the others stay interpreted (a compiled module
# cannot be monkeypatched, and the gaps scan's tests replace its table reader)
NATIVE_MODULES = ("graph.dates", "queries.column_reader", "queries.kept", "queries.structure",
                  "queries.service")
_ENV = "ACCGRAPH_NATIVE"


def source_of(module: str) -> Path:
    return ROOT.joinpath(*module.split(".")).with_suffix(".py")


def sources_digest(modules: Sequence[str] = NATIVE_MODULES) -> str:
    """What a build is valid for: the modules' sources and this Python (a newer compiler
    makes no build wrong, so its version is recorded, not checked)."""
    h = hashlib.sha256()
    h.update(sys.version.encode())
    for m in modules:
        h.update(m.encode() + b"\0")
        h.update(source_of(m).read_bytes())
    return h.hexdigest()


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the compiled modules (and their shared runtime library) in the build."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        f = self.files.get(fullname)
        if f is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(f))
        return importlib.util.spec_from_file_location(fullname, f, loader=loader)


_STATE: dict[str, str] = {}


def check(native_dir: Path = NATIVE_DIR) -> tuple[str, dict[str, Path]]:
    """(why the build in ``native_dir`` cannot be used, or "" when it can; its files by
    module name)."""
    stamp = native_dir / STAMP
    if not stamp.exists():
        return "not built: make native", {}
    try:
        meta = json.loads(stamp.read_text())
        files = {m: native_dir / rel for m, rel in meta["files"].items()}
        stale = (tuple(meta["modules"]) != NATIVE_MODULES
                 or meta.get("digest") != sources_digest(tuple(meta["modules"])))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"unreadable build: {exc}", {}
    if stale:
        return "the build is older than the sources: make native", files
    if not all(f.exists() for f in files.values()):
        return "the build is incomplete: make native", files
    return "", files


def install(native_dir: Path = NATIVE_DIR) -> bool:
    """Use the compiled modules from now on in this process when the build in
    ``native_dir`` is current; otherwise leave the sources in use. Returns whether the
    build is used. Must run before any of ``NATIVE_MODULES`` is imported (``graph``'s
    ``__init__`` calls it)."""
    if any(isinstance(f, _Finder) for f in sys.meta_path):
        return _STATE.get("state") == "native"
    if os.environ.get(_ENV, "1") == "0":
        _STATE["state"] = f"sources ({_ENV}=0)"
        return False
    why, files = check(native_dir)
    if why:
        _STATE["state"] = f"sources ({why})"
        if why.startswith("the build"):  # (built once, then left behind: say so)
            warnings.warn(f"compiled query modules in {native_dir}: {why}; running the "
                          "sources", RuntimeWarning, stacklevel=2)
        return False
    loaded = [m for m in NATIVE_MODULES if m in sys.modules]
    if loaded:  # (imported before graph: nothing to do but say so)
        _STATE["state"] = f"sources (imported before the build was installed: {loaded})"
        return False
    sys.meta_path.insert(0, _Finder(files))
    _STATE["state"] = "native"
    return True


def state() -> str:
    """Which code this process runs, in a word and why: ``native`` (the build), or
    ``sources (...)``. Every benchmark result records it (``query_code``); processes with
    the same build and environment decide alike, so a parent's state is its workers'."""
    return _STATE.get("state", "not installed")


def status() -> dict[str, object]:
    """``state`` and, per module, whether the imported one is compiled (``python -m
    graph.native_build status``)."""
    return {"state": state(),
            "modules": {m: _is_compiled(sys.modules[m]) for m in NATIVE_MODULES
                        if m in sys.modules}}


def _is_compiled(module: ModuleType) -> bool:
    return not str(getattr(module, "__file__", "") or "").endswith(".py")
