"""Synthetic graph generator writing a native-format folder (docs/native-format.md).

At ``--scale 1`` it writes about 1,000,000 nodes and 3,000,000 relations shaped like the
domain: five organisation trees 8 levels deep (judiciary -> provincial judiciary -> court
-> branch ..., security forces, intelligence, military, government), some units
re-parented over time (two dated PART_OF claims); two posts per organisation (a head post
and a member/judge post) held by successive officials with day/month/year-precision,
open and unknown dates; prisons and detention centres; cases heard by branches with the
branch's judges and prosecutors; incidents with victims, perpetrators, places and the case
they followed; sanctions by several authorities; and sources cited by every claim.

Every name is obviously artificial (``Synthia Zorbexa-...``, with a Persian-script spelling
built from the same nonsense syllables), every record cites a Source of kind
``synthetic``, and the folder carries a README saying so. The output depends only on
``--scale`` and ``--seed``.

    python -m bench.generate --scale 0.1 --seed 7 --out bench/data/s0.1
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import time
from pathlib import Path
from typing import Any

# Nonsense syllables with a Persian-script spelling of the same sounds.
SYLLABLES = [
    ("zor", "زور"), ("bex", "بکس"), ("qua", "کوا"), ("lim", "لیم"), ("dra", "درا"),
    ("vin", "وین"), ("tas", "تاس"), ("mor", "مور"), ("kel", "کل"), ("yuz", "یوز"),
    ("fra", "فرا"), ("nop", "نپ"), ("sha", "شا"), ("gim", "گیم"), ("pox", "پکس"),
    ("rud", "رود"), ("hel", "هل"), ("zin", "زین"), ("bar", "بار"), ("tok", "توک"),
    ("jel", "ژل"), ("wix", "ویکس"), ("cha", "چا"), ("dun", "دون"),
]  # fmt: skip

AUTHORITIES = ("OFAC", "EU", "UK", "UN", "CA", "AU")
TREES = (
    # (root name, kinds per level 0..7)
    ("Testland Judiciary", ["judiciary", "judiciary", "court", "court_branch", "court_branch",
                            "prosecutor_office", "court_branch", "court_branch"]),
    ("Testland Guard Corps", ["security_force"] * 3 + ["military"] * 5),
    ("Testland Intelligence Office", ["intelligence"] * 8),
    ("Testland Police Command", ["police"] * 8),
    ("Testland Prisons Authority", ["government", "prison", "prison", "detention_centre",
                                    "prison", "detention_centre", "prison", "detention_centre"]),
)
INCIDENT_KINDS = ("execution", "arbitrary_detention", "torture", "death_sentence", "arrest",
                  "killing", "enforced_disappearance", "death_in_custody", "unfair_trial")
SYNTH = "source:synthetic-benchmark"


def counts(scale: float) -> dict[str, int]:
    """Node counts at a scale (scale 1: about 1,000,000 nodes)."""
    def n(x: int) -> int:
        return max(5, int(x * scale))

    return {
        "Source": n(20_000), "Location": n(5_000), "Organization": n(30_000),
        "officials": n(50_000), "victims": n(500_000), "Case": n(150_000),
        "Incident": n(170_000), "Sanction": n(15_000), "mentions": n(700_000),
    }  # fmt: skip


class Writer:
    """One CSV file per node kind / relation type, opened lazily."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: dict[str, Any] = {}
        self.writers: dict[str, Any] = {}
        self.rows: dict[str, int] = {}

    def row(self, name: str, header: tuple[str, ...], values: tuple[Any, ...]) -> None:
        w = self.writers.get(name)
        if w is None:
            f = open(self.out / f"{name}.csv", "w", newline="", encoding="utf-8")
            self.files[name] = f
            w = self.writers[name] = csv.writer(f)
            w.writerow(header)
            self.rows[name] = 0
        w.writerow(values)
        self.rows[name] += 1

    def close(self) -> None:
        for f in self.files.values():
            f.close()


NODE_H = ("id", "name", "aliases", "source_ids", "confidence", "restricted")
REL_H = ("id", "from", "to", "valid_from", "valid_to", "confidence", "source_ids")


class Gen:
    def __init__(self, scale: float, seed: int, out: Path) -> None:
        self.rng = random.Random(seed)
        self.scale = scale
        self.c = counts(scale)
        self.w = Writer(out)
        self.out = out
        self.n_rel = 0

    # -- helpers ---------------------------------------------------------------------
    def name(self, n_syll: int) -> tuple[str, str]:
        parts = [self.rng.choice(SYLLABLES) for _ in range(n_syll)]
        return "".join(p[0] for p in parts).capitalize(), "".join(p[1] for p in parts)

    def person_name(self) -> tuple[str, str]:
        f_lat, f_fa = self.name(2)
        l_lat, l_fa = self.name(3)
        return f"Synth {f_lat} {l_lat}", f"{f_fa} {l_fa}"

    def src(self) -> str:
        r = self.rng
        ids = [f"source:s{r.randrange(self.c['Source']):06d}"]
        if r.random() < 0.3:
            ids.append(SYNTH)
        return ";".join(ids)

    def date(self, year: int, *, unknown: float = 0.04) -> str:
        r = self.rng
        p = r.random()
        if p < unknown:
            return ""
        month, day = r.randint(1, 12), r.randint(1, 28)
        if p < 0.15:
            return f"{year:04d}"
        if p < 0.35:
            return f"{year:04d}-{month:02d}"
        return f"{year:04d}-{month:02d}-{day:02d}"

    def conf(self) -> str:
        p = self.rng.random()
        return "high" if p < 0.6 else "medium" if p < 0.9 else "low"

    def rel(self, rtype: str, a: str, b: str, vf: str = "", vt: str = "",
            extra: tuple[tuple[str, Any], ...] = ()) -> None:
        header = REL_H + tuple(k for k, _ in extra)
        self.n_rel += 1
        self.w.row(rtype, header, (f"{rtype.lower()}:g{self.n_rel:08d}", a, b, vf, vt,
                                   self.conf(), self.src())
                   + tuple(v for _, v in extra))

    # -- generation ------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        self.sources()
        self.locations()
        self.organisations()
        self.officials()
        self.victims_cases_incidents()
        self.sanctions()
        self.mentions()
        self.w.close()
        (self.out / "README.md").write_text(
            "# SYNTHETIC benchmark data\n\nGenerated by bench/generate.py "
            f"(scale {self.scale}). Every name is artificial; nothing here describes a real "
            "person, institution or event.\n", encoding="utf-8")
        return dict(self.w.rows)

    def sources(self) -> None:
        h = ("id", "title", "publisher", "date", "kind", "reliability")
        self.w.row("Source", h, (SYNTH, "Synthetic benchmark dataset", "bench/generate.py",
                                 "2026", "synthetic", "artificial data, not facts"))
        for i in range(self.c["Source"]):
            self.w.row("Source", h, (f"source:s{i:06d}", f"Synthetic report number {i}",
                                     "Testland Documentation Centre",
                                     self.date(self.rng.randint(1990, 2025), unknown=0.1),
                                     "synthetic", ""))

    def locations(self) -> None:
        h = NODE_H + ("kind", "country")
        self.n_loc = self.c["Location"]
        self.w.row("Location", h, ("location:l00000", "Testland", "", SYNTH, "high", "false",
                                   "country", "Testland"))
        for i in range(1, self.n_loc):
            lat, fa = self.name(2)
            kind = "province" if i <= 30 else "city"
            self.w.row("Location", h, (f"location:l{i:05d}", f"{lat} (synthetic {kind})", fa,
                                       self.src(), "high", "false", kind, "Testland"))
            parent = 0 if i <= 30 else self.rng.randint(1, min(30, self.n_loc - 1))
            self.rel("LOCATED_IN", f"location:l{i:05d}", f"location:l{parent:05d}")

    def organisations(self) -> None:
        r = self.rng
        h = NODE_H + ("kind", "country")
        total = self.c["Organization"]
        # level sizes grow geometrically, 8 levels, per tree
        weights = [1, 4, 16, 60, 200, 500, 1200, 2400]
        per_tree = max(8, total // len(TREES))
        wsum = sum(weights)
        self.orgs: list[str] = []
        self.org_level: dict[str, int] = {}
        self.branches: list[str] = []  # where cases are heard
        self.prisons: list[str] = []
        self.tree_of: dict[str, int] = {}
        n = 0
        for t, (root, kinds) in enumerate(TREES):
            prev: list[str] = []
            for level in range(8):
                size = 1 if level == 0 else max(1, per_tree * weights[level] // wsum)
                cur: list[str] = []
                for _ in range(size):
                    oid = f"org:o{n:06d}"
                    n += 1
                    kind = kinds[level]
                    if level == 0:
                        lat, fa = root, "سازمان آزمایشی"
                    else:
                        lat, fa = self.name(3)
                        lat = f"{root.split()[1]} {kind.replace('_', ' ')} {lat} {n}"
                    self.w.row("Organization", h, (oid, lat, fa, self.src(), "high", "false",
                                                   kind, "Testland"))
                    self.orgs.append(oid)
                    self.org_level[oid] = level
                    self.tree_of[oid] = t
                    if kind in ("court_branch", "court"):
                        self.branches.append(oid)
                    if kind in ("prison", "detention_centre"):
                        self.prisons.append(oid)
                    if prev:
                        parent = r.choice(prev)
                        if r.random() < 0.1 and len(prev) > 1:
                            # re-parented: first parent until year y, another one since
                            y = r.randint(1990, 2020)
                            other = r.choice(prev)
                            self.rel("PART_OF", oid, parent, self.date(1980, unknown=0.3),
                                     self.date(y, unknown=0))
                            self.rel("PART_OF", oid, other, self.date(y, unknown=0), "open")
                        else:
                            self.rel("PART_OF", oid, parent, self.date(1980, unknown=0.5),
                                     "open" if r.random() < 0.9 else "")
                    if r.random() < 0.8:
                        self.rel("LOCATED_IN", oid, f"location:l{r.randrange(self.n_loc):05d}")
                    cur.append(oid)
                prev = cur
        if not self.branches:
            self.branches = self.orgs[:]
        if not self.prisons:
            self.prisons = self.orgs[:]

    def officials(self) -> None:
        """Two posts per organisation, held by successive officials since 1980."""
        r = self.rng
        n_off = self.c["officials"]
        ph = NODE_H + ("birth_date", "gender", "nationality")
        self.officials_ids: list[str] = []
        for i in range(n_off):
            lat, fa = self.person_name()
            pid = f"person:off{i:06d}"
            self.officials_ids.append(pid)
            self.w.row("Person", ph, (pid, lat, fa, self.src(), self.conf(), "false",
                                      self.date(r.randint(1940, 1985), unknown=0.3),
                                      r.choice(("male", "female", "unknown")), "Testland"))
        posh = NODE_H + ("is_head",)
        self.holders: dict[str, list[tuple[str, int, int]]] = {}  # org -> (person, from, to)
        k = 0
        for oid in self.orgs:
            for post, head in (("Head", True), ("Judge" if oid in self.branches else "Officer",
                                                False)):
                pos = f"position:{oid[4:]}-{post.lower()}"
                self.w.row("Position", posh, (pos, f"{post} of {oid}", "", self.src(),
                                              "high", "false", "true" if head else "false"))
                self.rel("POSITION_IN", pos, oid)
                year = 1980
                while year < 2026:
                    span = r.randint(3, 12)
                    person = self.officials_ids[k % n_off]
                    k += 1
                    end = year + span
                    vt = "open" if end >= 2026 else self.date(end, unknown=0.03)
                    self.rel("HOLDS", person, pos, self.date(year, unknown=0.05), vt)
                    if not head:
                        self.holders.setdefault(oid, []).append((person, year, end))
                    year = end
        for i, pid in enumerate(self.officials_ids):
            if r.random() < 0.8:
                self.rel("MEMBER_OF", pid, r.choice(self.orgs), self.date(r.randint(1980, 2015)),
                         "open" if r.random() < 0.5 else "", (("role", "member"), ("rank", "")))

    def _official_at(self, org: str, year: int) -> str:
        for person, a, b in self.holders.get(org, ()):
            if a <= year < b:
                return person
        return self.rng.choice(self.officials_ids)

    def victims_cases_incidents(self) -> None:
        r = self.rng
        ph = NODE_H + ("birth_date", "gender", "nationality")
        n_vic, n_case, n_inc = self.c["victims"], self.c["Case"], self.c["Incident"]
        self.victims = [f"person:v{i:07d}" for i in range(n_vic)]
        for pid in self.victims:
            lat, fa = self.person_name()
            self.w.row("Person", ph, (pid, lat, fa, self.src(), self.conf(),
                                      "true" if r.random() < 0.3 else "false",
                                      self.date(r.randint(1940, 2005), unknown=0.4),
                                      r.choice(("male", "female", "unknown")), "Testland"))
            if r.random() < 0.6:
                self.rel("DETAINED_AT", pid, r.choice(self.prisons),
                         self.date(r.randint(1981, 2024)), self.date(2025, unknown=0.5))
        ch = NODE_H + ("number", "charges", "verdict", "sentence", "opened", "verdict_date")
        self.case_year: list[int] = []
        for i in range(n_case):
            cid = f"case:c{i:07d}"
            year = r.randint(1981, 2024)
            self.case_year.append(year)
            self.w.row("Case", ch, (cid, f"Synthetic case {i}", "", self.src(), "high", "false",
                                    f"{year}/{i}", "synthetic-charge-a;synthetic-charge-b",
                                    "guilty", "synthetic sentence", self.date(year),
                                    self.date(year, unknown=0.3)))
            branch = r.choice(self.branches)
            self.rel("HEARD_BY", cid, branch, self.date(year))
            self.rel("JUDGE_IN", self._official_at(branch, year), cid, self.date(year))
            self.rel("PROSECUTOR_IN", r.choice(self.officials_ids), cid, self.date(year))
            if r.random() < 0.33:
                self.rel("UPHELD_BY", cid, r.choice(self.branches), self.date(year + 1))
            for _ in range(r.choice((1, 1, 1, 2))):
                self.rel("DEFENDANT_IN", r.choice(self.victims), cid, self.date(year))
        ih = NODE_H + ("kind", "date", "place")
        vi = 0
        for i in range(n_inc):
            iid = f"incident:i{i:07d}"
            c = r.randrange(n_case)
            year = self.case_year[c] + r.randint(0, 1)
            place = r.choice(self.prisons)
            self.w.row("Incident", ih, (iid, f"Synthetic incident {i}", "", self.src(),
                                        self.conf(), "false", r.choice(INCIDENT_KINDS),
                                        self.date(year, unknown=0.05), "synthetic place"))
            for _ in range(r.choice((1, 2, 3, 4, 5))):
                self.rel("VICTIM_OF", self.victims[vi % n_vic], iid)
                vi += 1
            self.rel("PERPETRATED_BY", iid, self._official_at(place, year), "", "",
                     (("role", "direct"),))
            if r.random() < 0.5:
                self.rel("PERPETRATED_BY", iid, r.choice(self.orgs), "", "",
                         (("role", "commanded"),))
            self.rel("OCCURRED_AT", iid, place)
            if r.random() < 0.6:
                self.rel("RESULT_OF", iid, f"case:c{c:07d}")

    def sanctions(self) -> None:
        r = self.rng
        h = NODE_H + ("authority", "programme", "list_ref", "listed", "delisted", "reason")
        for i in range(self.c["Sanction"]):
            sid = f"sanction:x{i:06d}"
            auth = r.choice(AUTHORITIES)
            listed = r.randint(2005, 2025)
            self.w.row("Sanction", h, (sid, f"{auth} synthetic designation {i}", "", self.src(),
                                       "high", "false", auth, "SYNTH-HR", f"SYN-{i}",
                                       self.date(listed, unknown=0),
                                       self.date(listed + 3, unknown=0) if r.random() < 0.05
                                       else "", "synthetic reason"))
            target = r.choice(self.officials_ids) if r.random() < 0.8 else r.choice(self.orgs)
            self.rel("TARGETS", sid, target, self.date(listed, unknown=0), "open")

    def mentions(self) -> None:
        r = self.rng
        pools = (self.officials_ids, self.victims, self.orgs)
        n_src = self.c["Source"]
        h = ("id", "from", "to", "source_ids", "offset")
        for _ in range(self.c["mentions"]):
            pool = pools[0] if r.random() < 0.3 else pools[1] if r.random() < 0.7 else pools[2]
            self.n_rel += 1
            self.w.row("MENTIONED_IN", h, (f"mentioned_in:g{self.n_rel:08d}", r.choice(pool), f"source:s{r.randrange(n_src):06d}",
                                           "", r.randint(0, 100_000)))


def generate(scale: float, seed: int, out: Path) -> dict[str, Any]:
    """Write the folder; return counts per file, totals and seconds taken."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.csv"):
        old.unlink()
    started = time.perf_counter()
    rows = Gen(scale, seed, out).run()
    from graph.model import NODE_KINDS

    nodes = sum(v for k, v in rows.items() if k in NODE_KINDS)
    info = {"scale": scale, "seed": seed, "files": rows, "nodes": nodes,
            "relations": sum(rows.values()) - nodes,
            "seconds": round(time.perf_counter() - started, 2)}
    (out / "manifest.json.txt").write_text(json.dumps(info, indent=1), encoding="utf-8")
    return info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    out = a.out or Path(__file__).parent / "data" / f"scale-{a.scale}-seed-{a.seed}"
    info = generate(a.scale, a.seed, out)
    print(json.dumps({k: v for k, v in info.items() if k != "files"}))


if __name__ == "__main__":
    main()
