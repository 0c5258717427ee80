"""Builds ``graph.native``'s compiled modules (mypyc, then the C compiler).

    python -m graph.native_build           # build (make native; make install runs it)
    python -m graph.native_build status    # which code this process would run

A failed build is not an error for the product: the sources run, with the same answers,
more slowly. So the exit status says whether it built, and the Makefile goes on either way.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from graph.native import (
    NATIVE_DIR,
    NATIVE_MODULES,
    ROOT,
    STAMP,
    check,
    source_of,
    sources_digest,
    status,
)

# run in a child process with the repository as its directory: mypyc names each module
# from its path, and its setuptools build must not see this process's imports
_BUILD = """
import json, sys
from mypyc.build import mypycify
from setuptools import Distribution
from setuptools.command.build_ext import build_ext
paths, target, lib, temp = json.loads(sys.argv[1])
exts = mypycify(paths, opt_level="3", target_dir=target)
cmd = build_ext(Distribution({"name": "accgraph-native", "ext_modules": exts}))
cmd.build_lib, cmd.build_temp, cmd.parallel = lib, temp, 2
cmd.ensure_finalized()
cmd.run()
"""


def build(native_dir: Path = NATIVE_DIR, quiet: bool = True) -> dict[str, Any]:
    """Compile ``NATIVE_MODULES`` into ``native_dir`` (20-50 s on 2 cores). The build is
    made beside it and swapped in whole, its stamp written last: a failed or interrupted
    build leaves the previous one (or none), never a partial one."""
    digest = sources_digest()  # of the sources as compiled: an edit made during the
    work = native_dir.with_name(native_dir.name + ".building")  # build makes it stale
    shutil.rmtree(work, ignore_errors=True)
    lib = work / "lib"
    paths = [str(source_of(m).relative_to(ROOT)) for m in NATIVE_MODULES]
    args = json.dumps([paths, str(work / "c"), str(lib), str(work / "o")])
    done = subprocess.run([sys.executable, "-c", _BUILD, args], cwd=ROOT,
                          capture_output=quiet, text=True, check=False)
    if done.returncode:
        shutil.rmtree(work, ignore_errors=True)
        tail = (done.stderr or "").strip()[-1500:] if quiet else ""
        raise RuntimeError(f"mypyc build failed (exit {done.returncode})"
                           + (f":\n{tail}" if tail else ""))
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    files: dict[str, str] = {}
    for m in NATIVE_MODULES:
        f = lib.joinpath(*m.split(".")).with_suffix(suffix)
        if not f.exists():
            shutil.rmtree(work, ignore_errors=True)
            raise RuntimeError(f"the mypyc build made no {f.relative_to(work)}")
        files[m] = str(f.relative_to(work))
    for f in lib.glob(f"*__mypyc{suffix}"):  # the group's shared runtime library
        files[f.name[:-len(suffix)]] = str(f.relative_to(work))
    shutil.rmtree(work / "c", ignore_errors=True)
    shutil.rmtree(work / "o", ignore_errors=True)
    try:
        compiler = version("mypy")
    except PackageNotFoundError:
        compiler = "unknown"
    meta = {"digest": digest, "modules": list(NATIVE_MODULES), "files": files,
            "python": sys.version, "mypy": compiler}
    old = native_dir.with_name(native_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if native_dir.exists():
        native_dir.rename(old)
    work.rename(native_dir)
    shutil.rmtree(old, ignore_errors=True)
    tmp = native_dir / (STAMP + ".tmp")
    tmp.write_text(json.dumps(meta, indent=1))
    os.replace(tmp, native_dir / STAMP)
    return meta


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in ([], ["build"]):
        if not check()[0]:
            print(f"native build: up to date in {NATIVE_DIR}")
            return 0
        try:
            meta = build()
        except (RuntimeError, OSError) as exc:
            print(f"native build: {exc}\nnative build: not built; the sources will run "
                  "(the same answers, slower)", file=sys.stderr)
            return 1
        print(f"native build: {len(meta['modules'])} modules compiled into {NATIVE_DIR}")
        return 0
    if args == ["status"]:
        import queries.service  # noqa: F401 - imports every compiled module
        print(json.dumps(status(), indent=1))
        return 0
    print("usage: python -m graph.native_build [build|status]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
