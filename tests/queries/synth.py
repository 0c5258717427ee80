"""Synthetic graphs for the query tests (obviously artificial names, synthetic sources).

``build(nodes, rels)`` turns plain rows into validated records with the same functions every
reader uses (``ingest.build``), so the tests load exactly what an ingest would. The
hypothesis strategy ``graphs()`` draws small random graphs: organisations with PART_OF links
(cycles allowed), posts, heads, persons, incidents and cases with all the accountability
relations, sanctions, SAME_AS links, restricted records, and dates that are missing, a
year, a month, a day or open.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from graph.records import NodeRecord, RelRecord
from ingest.build import Where, build_node, build_rel

SOURCES = [
    {"id": "source:synthetic-a", "title": "Synthetic Report A (test)", "publisher": "Testland Unit",
     "date": "2001-05", "kind": "synthetic", "reference": "synthetic-a.txt"},
    {"id": "source:synthetic-b", "title": "Synthetic Report B (test)", "kind": "synthetic"},
]


def build(nodes: list[tuple[str, dict[str, Any]]],
          rels: list[tuple[str, dict[str, Any]]]) -> tuple[list[NodeRecord], list[RelRecord]]:
    out_n: list[NodeRecord] = []
    out_r: list[RelRecord] = []
    seen: set[str] = set()
    for kind, row in [("Source", s) for s in SOURCES] + nodes:
        rec, problems = build_node(kind, row, Where("synthetic", 0), unknown_columns=False)
        assert not problems, problems
        assert rec is not None
        if rec.id not in seen:
            seen.add(rec.id)
            out_n.append(rec)
    ids: set[str] = set()
    for rel_type, row in rels:
        rec_r, problems = build_rel(rel_type, row, Where("synthetic", 0), unknown_columns=False)
        if problems or rec_r is None or rec_r.id in ids:
            continue  # e.g. a drawn claim that ends before it starts
        ids.add(rec_r.id)
        out_r.append(rec_r)
    return out_n, out_r


YEARS = (2000, 2001, 2002, 2003)


@st.composite
def fuzzy_dates(draw: Any, allow_open: bool = False) -> str:
    choice = draw(st.sampled_from(["none", "year", "month", "day"] + (["open"] if allow_open else [])))
    if choice == "none":
        return ""
    if choice == "open":
        return "open"
    y = draw(st.sampled_from(YEARS))
    if choice == "year":
        return str(y)
    m = draw(st.integers(1, 12))
    if choice == "month":
        return f"{y}-{m:02d}"
    return f"{y}-{m:02d}-{draw(st.integers(1, 28)):02d}"


# Claim and act dates drawn from sets that overlap on purpose, so that on a random act date
# some claims certainly hold, some certainly do not, and some cannot be decided.
CLAIM_FROM = st.one_of(st.sampled_from(["", "1999", "2000-01", "2001-06-15", "2002", "2001"]),
                       fuzzy_dates())
CLAIM_TO = st.one_of(st.sampled_from(["", "open", "open", "2003", "2001-12", "2001-07-27"]),
                     fuzzy_dates(allow_open=True))
ACT_DATES = st.one_of(st.sampled_from(["", "2001", "2001-07", "2001-07-27", "2002-03-01",
                                       "2000-05"]), fuzzy_dates())

SYLLABLES = ["ka", "mo", "se", "ni", "ej", "ei", "gho", "lam", "hos", "sein", "zha"]
PERSIAN = ["محسنی", "اژه‌ای", "غلام", "حسین", "زیزیکس"]


@st.composite
def names(draw: Any, prefix: str) -> tuple[str, list[str]]:
    parts = draw(st.lists(st.sampled_from(SYLLABLES), min_size=1, max_size=3))
    second = draw(st.lists(st.sampled_from(SYLLABLES), min_size=1, max_size=2))
    name = f"{prefix} {''.join(parts).capitalize()}-{''.join(second).capitalize()}"
    aliases = []
    if draw(st.booleans()):
        aliases.append(" ".join(draw(st.lists(st.sampled_from(PERSIAN), min_size=1, max_size=2))))
    return name, aliases


@st.composite
def graphs(draw: Any) -> dict[str, Any]:
    n_org = draw(st.integers(1, 5))
    n_pos = draw(st.integers(0, 4))
    n_per = draw(st.integers(1, 6))
    n_inc = draw(st.integers(0, 4))
    n_case = draw(st.integers(0, 3))
    n_sanc = draw(st.integers(0, 3))
    nodes: list[tuple[str, dict[str, Any]]] = []
    rels: list[tuple[str, dict[str, Any]]] = []
    src = st.sampled_from(["source:synthetic-a", "source:synthetic-b",
                           "source:synthetic-a;source:synthetic-b", ""])

    def flag() -> str:
        return "true" if draw(st.integers(0, 6)) == 0 else "false"

    orgs = [f"org:testland-unit-{i}" for i in range(n_org)]
    for i, o in enumerate(orgs):
        nodes.append(("Organization", {"id": o, "name": f"Testland Unit {i}",
                                       "kind": draw(st.sampled_from(["court", "prison",
                                                                     "judiciary"])),
                                       "restricted": flag(), "source_ids": "source:synthetic-a"}))
    positions = [f"position:testland-post-{i}" for i in range(n_pos)]
    for i, p in enumerate(positions):
        nodes.append(("Position", {"id": p, "name": f"Testland Post {i}",
                                   "is_head": draw(st.sampled_from(["true", "false"])),
                                   "restricted": flag()}))
    persons = [f"person:zzyzx-{i}" for i in range(n_per)]
    for p in persons:
        name, aliases = draw(names("Zzyzx"))
        nodes.append(("Person", {"id": p, "name": name, "aliases": ";".join(aliases),
                                 "restricted": flag(), "birth_date": draw(fuzzy_dates())}))
    incidents = [f"incident:testland-act-{i}" for i in range(n_inc)]
    for i, x in enumerate(incidents):
        nodes.append(("Incident", {"id": x, "name": f"Testland Act {i}",
                                   "kind": draw(st.sampled_from(["execution", "torture"])),
                                   "date": draw(ACT_DATES), "restricted": flag()}))
    cases = [f"case:testland-case-{i}" for i in range(n_case)]
    for i, c in enumerate(cases):
        nodes.append(("Case", {"id": c, "name": f"Testland Case {i}",
                               "verdict_date": draw(ACT_DATES), "restricted": flag()}))
    sancs = [f"sanction:testland-{i}" for i in range(n_sanc)]
    for i, s in enumerate(sancs):
        nodes.append(("Sanction", {"id": s, "name": f"Testland listing {i}",
                                   "authority": draw(st.sampled_from(["OFAC", "EU", "uk"])),
                                   "list_ref": f"TL-{i}",
                                   "listed": draw(fuzzy_dates()),
                                   "delisted": draw(st.sampled_from(["", "", "2003"]))}))

    def rel(rtype: str, a: list[str], b: list[str], n: int, role: list[str] | None = None,
            dated: bool = True) -> None:
        if not a or not b:
            return
        for _ in range(draw(st.integers(0, n))):
            row = {"from": draw(st.sampled_from(a)), "to": draw(st.sampled_from(b)),
                   "source_ids": draw(src),
                   "confidence": draw(st.sampled_from(["high", "medium", "low"]))}
            if row["from"] == row["to"]:
                continue
            if dated:
                row["valid_from"] = draw(CLAIM_FROM)
                row["valid_to"] = draw(CLAIM_TO)
            if role:
                row["role"] = draw(st.sampled_from(role))
            rels.append((rtype, row))

    rel("PART_OF", orgs, orgs, 5)
    rel("POSITION_IN", positions, orgs, 4)
    rel("HOLDS", persons, positions, 5)
    rel("MEMBER_OF", persons, orgs, 2, ["member"])
    rel("VICTIM_OF", persons, incidents, 3, dated=False)
    rel("PERPETRATED_BY", incidents, persons + orgs, 4, ["direct", "incited", "sentenced"],
        dated=False)
    rel("OCCURRED_AT", incidents, orgs, 2, dated=False)
    rel("RESULT_OF", incidents, cases, 2, dated=False)
    rel("DEFENDANT_IN", persons, cases, 2, dated=False)
    rel("JUDGE_IN", persons, cases, 2, dated=False)
    rel("PROSECUTOR_IN", persons, cases, 1, dated=False)
    rel("HEARD_BY", cases, orgs, 2, dated=False)
    rel("UPHELD_BY", cases, orgs, 1, dated=False)
    rel("DETAINED_AT", persons, orgs, 2)
    rel("TARGETS", sancs, persons + orgs, 3, dated=False)
    rel("SAME_AS", persons, persons, 2, dated=False)
    rel("SAME_AS", orgs, orgs, 1, dated=False)
    return {"nodes": nodes, "rels": rels}


def load_graph(store: Any, graph: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """Replace the store's contents with ``graph`` in one committed write (which bumps the
    generation, so every per-store cache reloads)."""
    store.execute("MATCH (n) DETACH DELETE n")
    nodes, rels = build(graph["nodes"], graph["rels"])
    store.write(nodes, rels)
    return nodes, rels
