"""OFAC ingest rate and peak memory, end to end (parse, validate, match, load), on the real
2021-07 legacy CSV set; written to bench/results/ofac_ingest.json.

    python bench/ofac_ingest.py [--data ../shared/data] [--seed] [--runs 5]

``--seed`` loads the seed-facts graph first, so the matcher has candidates to score (the
acceptance example); without it the graph starts empty. Phases are timed separately
(read = parse + validate into records; check+diff = references and comparison with the
graph; write = the store's transaction, during which the matcher scores in a second thread;
match = what matching adds after the write: review decisions and the SAME_AS write),
then the same folder is ingested again (must write nothing). Peak memory is the process's
maximum resident set size (Python and the embedded engine together). Each run is a fresh
process; the results file holds every run and their median (the machine's speed swings by
a third from hour to hour, so one run says little).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import RESULTS, WriteTimer, ingest_runs_summary, run_json
from graph.embedded import EmbeddedStore
from ingest.formats import get_reader, ingest_path
from ingest.loader import LoadReport
from ingest.matching import load_and_link
from ingest.progress import Progress


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(data: Path, with_seed: bool) -> dict[str, Any]:
    folder = data / "ofac_legacy_set_2021-07"
    with tempfile.TemporaryDirectory(prefix="ofac-bench-") as tmp:
        store = EmbeddedStore(Path(tmp) / "g.lbdb")
        if with_seed:
            from ingest.seed import seed_data_path

            ingest_path(store, "native", seed_data_path())
        timer = WriteTimer(store)
        rss_before = peak_rss_mb()
        c0 = time.process_time()
        t0 = time.perf_counter()
        bundle = get_reader("ofac-csv").read(folder, Progress.quiet())
        t1 = time.perf_counter()
        c1 = time.process_time()
        report = LoadReport(str(folder), "ofac-csv")
        rejected, bundle.problems = bundle.problems, []
        timings: dict[str, float] = {}
        # the matcher scores in a second thread while the store writes (load_and_link);
        # "write" is the store's transaction, "match" what matching adds after it
        load_and_link(store, bundle, report, timings=timings)
        t3 = time.perf_counter()
        c3 = time.process_time()
        t2 = t1 + timings["load_s"]
        load_write = timer.seconds
        records = report.records
        first = {
            "records": records,
            "rejected": len(rejected),
            "seconds_total": round(t3 - t0, 3),
            "records_per_second": round(records / (t3 - t0)),
            "phases_seconds": {
                "read (parse + validate)": round(t1 - t0, 3),
                "check + diff": round(t2 - t1 - load_write, 3),
                "write (store transaction)": round(load_write, 3),
                "match (+ SAME_AS write)": round(t3 - t2, 3),
            },
            "read_records_per_second": round(records / (t1 - t0)),
            # CPU seconds (all threads): robust to a busy machine, unlike wall time
            "cpu_seconds": {"read": round(c1 - c0, 3),
                            "check + diff + write + match": round(c3 - c1, 3),
                            "total": round(c3 - c0, 3)},
            "records_per_cpu_second": round(records / (c3 - c0)),
            "same_as": report.counts.get("SAME_AS", {}),
            "notes": report.notes,
        }
        t4 = time.perf_counter()
        again = ingest_path(store, "ofac-csv", folder)
        t5 = time.perf_counter()
        second = {"seconds_total": round(t5 - t4, 3),
                  "records_per_second": round(again.records / (t5 - t4)),
                  "written": again.written,
                  "added": again.total("added"), "updated": again.total("updated"),
                  "unchanged": again.total("unchanged")}
        store.close()
    return {
        "dataset": str(folder.name),
        "with_seed_graph": with_seed,
        "first_ingest": first,
        "re_ingest": second,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_mb": round(rss_before, 1),
        "buffer_pool_bytes": int(os.environ.get("ACCGRAPH_BUFFER_POOL", str(1 << 30))),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average_1min": round(os.getloadavg()[0], 2)},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=(REPO / ".." / "shared" / "data").resolve())
    ap.add_argument("--seed", action="store_true", help="load the seed-facts graph first")
    ap.add_argument("--runs", type=int, default=5,
                    help="runs, each in a fresh process; the figures are their median")
    ap.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=RESULTS / "ofac_ingest.json")
    args = ap.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no data folder at {args.data}")
    if args.once:
        print(json.dumps(run(args.data, args.seed)))
        return
    runs: list[dict[str, Any]] = []
    for i in range(args.runs):  # a fresh process each: no run inherits another's caches
        runs.append(run_json([__file__, "--once", "--data", str(args.data),
                              *(["--seed"] if args.seed else [])], timeout=600))
        print(f"run {i + 1}: {runs[-1]['first_ingest']['seconds_total']} s", file=sys.stderr)
    median_run, summary = ingest_runs_summary(runs)
    result = {
        "command": f"python bench/ofac_ingest.py{' --seed' if args.seed else ''} "
                   f"--runs {args.runs}",
        "runs_seconds_total": [r["first_ingest"]["seconds_total"] for r in runs],
        "median_records_per_second": round(median_run["first_ingest"]["records"]
                                           / summary["median_seconds_total"]),
        **summary,
        "median_run": median_run,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("runs", "median_run")},
                     indent=2))


if __name__ == "__main__":
    main()
