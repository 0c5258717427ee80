"""Memorial archive ingest, end to end (parse, validate, match, load), on the real archive
(28,287 victim files, 13 malformed); written to bench/results/memorial_ingest.json.

    python bench/memorial_ingest.py [--runs 3] [--writer store|copy] [--data ../shared/data]

Each run is a fresh interpreter and a fresh database in a temp dir, so peak memory is the
run's own. Phases: read (tar + YAML + records, in worker processes), check + diff,
write (the store transaction), match (entity matching after the load); then the same
archive is ingested again (must write nothing). Wall time depends on what else runs on
the machine; CPU seconds (this process + its workers) do much less, so both are kept.

``--writer copy`` replaces the store's write, for this benchmark only, by the COPY FROM
parquet prototype of bench/memorial_bulk_prototype.py (valid here because the database is
empty, so every record is new): the figure the loader would reach with a bulk path for
new records (see docs/memorial-and-ftm.md, "Performance").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import RESULTS, ingest_runs_summary

ARCHIVE_NAME = "iran_memorial/iran-memorial_data_712eca0.tar.gz"


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def once(archive: Path, writer: str) -> dict[str, Any]:
    from bench.common import WriteTimer
    from graph.embedded import EmbeddedStore
    from ingest.formats import get_reader, ingest_path
    from ingest.loader import LoadReport, load_bundle
    from ingest.progress import Progress

    with tempfile.TemporaryDirectory(prefix="memorial-bench-") as tmp:
        store = EmbeddedStore(Path(tmp) / "g.lbdb")
        base_write: Any = None
        if writer == "copy":
            from bench.memorial_bulk_prototype import write_copy

            def copy_write(nodes: Any, rels: Any) -> None:
                with store.transaction():
                    write_copy(store, list(nodes), list(rels))

            base_write = copy_write
        # the store's own bulk path for new records is write_changes: time it too
        timer = WriteTimer(store, write=base_write, wrap_changes=writer == "store")
        c0, t0 = _cpu(), time.perf_counter()
        bundle = get_reader("iran-memorial").read(archive, Progress.quiet())
        c1, t1 = _cpu(), time.perf_counter()
        report = LoadReport(str(archive), "iran-memorial")
        rejected, bundle.problems = bundle.problems, []
        load_bundle(store, bundle, report)
        c2, t2 = _cpu(), time.perf_counter()
        load_write = timer.seconds
        match_seconds = 0.0
        if os.environ.get("ACCGRAPH_MATCH", "1") != "0":
            from ingest.matching import link_after_load

            link_after_load(store, list(bundle.nodes.values()), report)
        c3, t3 = _cpu(), time.perf_counter()
        match_seconds = t3 - t2
        timer.restore()
        records = report.records
        first = {
            "victim_files_loaded": sum(1 for n in bundle.nodes.values() if n.kind == "Person"),
            "rejected_files": len(rejected),
            "records": records,
            "counts": {k: v["added"] for k, v in sorted(report.counts.items())},
            "seconds_total": round(t3 - t0, 2),
            "records_per_second": round(records / (t3 - t0)),
            "victim_records_per_second": round(28_274 / (t3 - t0)),
            "phases_seconds": {
                "read (tar + YAML + records, worker processes)": round(t1 - t0, 2),
                "check + diff": round(t2 - t1 - load_write, 2),
                "write (store transaction)": round(load_write, 2),
                "match (+ SAME_AS write)": round(match_seconds, 2),
            },
            "cpu_seconds": {"read": round(c1 - c0, 2), "check + diff + write": round(c2 - c1, 2),
                            "match": round(c3 - c2, 2), "total": round(c3 - c0, 2)},
        }
        t4 = time.perf_counter()
        again = ingest_path(store, "iran-memorial", archive)
        t5 = time.perf_counter()
        second = {"seconds_total": round(t5 - t4, 2), "written": again.written,
                  "added": again.total("added"), "updated": again.total("updated"),
                  "unchanged": again.total("unchanged"), "rejected": len(again.rejected)}
        store.close()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # (the workers' ru_maxrss is not reported: Linux carries the parent's peak across the
    # fork+exec of a spawned worker; measured alone, a worker peaks near 200 MB)
    return {"writer": writer, "first_ingest": first, "re_ingest": second,
            "peak_rss_mb": round(own, 1),
            "load_average_1min": round(os.getloadavg()[0], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=(REPO / ".." / "shared" / "data").resolve())
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--writer", choices=("store", "copy"), default="store")
    ap.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=RESULTS / "memorial_ingest.json")
    args = ap.parse_args()
    archive = args.data / ARCHIVE_NAME
    if not archive.is_file():
        sys.exit(f"no memorial archive at {archive}")
    if args.once:
        print(json.dumps(once(archive, args.writer)))
        return
    pool = int(os.environ.get("ACCGRAPH_BUFFER_POOL", str(1 << 30)))
    label = args.writer if pool == 1 << 30 else f"{args.writer}, buffer pool {pool >> 20} MiB"
    runs: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for i in range(args.runs):
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--once", "--writer", args.writer,
                               "--data", str(args.data)], capture_output=True, text=True,
                              cwd=REPO, check=False)
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-1:] or ["(no message)"]
            failures.append({"run": i + 1, "seconds": round(time.perf_counter() - started, 1),
                             "error": tail[0]})
            print(f"run {i + 1}: failed: {tail[0]}", file=sys.stderr)
            continue
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"run {i + 1}: {runs[-1]['first_ingest']['seconds_total']} s", file=sys.stderr)
    result: dict[str, Any] = {
        "archive": ARCHIVE_NAME,
        "writer": args.writer,
        "buffer_pool_bytes": pool,
        "command": f"python bench/memorial_ingest.py --runs {args.runs} --writer {args.writer}",
        "failures": failures,
        "runs": runs,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    if runs:
        median_run, summary = ingest_runs_summary(runs)
        result.update({
            "median_records_per_second": median_run["first_ingest"]["records_per_second"],
            "median_victim_records_per_second":
                median_run["first_ingest"]["victim_records_per_second"],
            "median_cpu_seconds_total": statistics.median(
                r["first_ingest"]["cpu_seconds"]["total"] for r in runs),
            **summary,
        })
    prior: dict[str, Any] = {}
    if args.out.exists():
        try:
            prior = json.loads(args.out.read_text())
        except ValueError:
            prior = {}
    prior[label] = result
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(prior, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
