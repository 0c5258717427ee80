"""Precision and recall of the entity matcher (ingest.matching) on a labelled set built from
the provided real files (../shared/data), written to bench/results/matcher.json.

The labelled set (see docs/sanctions.md, "Matching"):

- positives, OFAC aliases: every strong alias in OFAC's alt.csv must match its entry's
  primary name (persons and organisations), scored twice: names only (as when a statement
  names someone with no other detail), and with the entry's own date of birth, nationality
  and gender on both sides (as when two lists describe the same person);
- positives, scripts: every UN individual's Latin name must match its name in original
  script (Arabic script), names only;
- positives, hand-checked: the seed person Gholamhossein Mohseni-Ejei and OFAC entry 12252;
- negatives: every pair of *different* OFAC entries of one kind that the candidate index
  proposes (they share rare name keys: the hard cases, e.g. relatives, namesakes, a force
  and its sub-units), with each entry's real attributes.

A pair counts as predicted "same" when the matcher decides ``link``; the "link or review"
figures say how many positives at least reach the review queue, and how many negatives
would burden a reviewer.

    python bench/matcher_eval.py [--data ../shared/data] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import RESULTS
from ingest import matching as M
from ingest.ofac import read_ofac
from ingest.un_xml import read_un


def _profiles_of_names(prof: M.Profile, names: list[str], keep_attributes: bool) -> M.Profile:
    from graph.names import name_keys

    return M.Profile(
        id=prof.id + "#" + names[0], kind=prof.kind, names=names, keys=name_keys(names),
        births=list(prof.births) if keep_attributes else [],
        nationality=set(prof.nationality) if keep_attributes else set(),
        gender=prof.gender if keep_attributes else None,
        org_kind=prof.org_kind if keep_attributes else None)


def build_set(data: Path, limit: int | None, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    pairs: list[dict[str, Any]] = []
    ofac = read_ofac(data / "ofac_legacy_set_2021-07")
    alt_src = next(n.id for n in ofac.nodes.values() if n.id.startswith("source:ofac-alt-"))
    profiles: dict[str, M.Profile] = {}
    for node in ofac.nodes.values():
        if node.kind not in M.MATCHED_KINDS:
            continue
        prof = M.profile_of(node.kind, node.id, node.props)
        profiles[node.id] = prof
        entries = json.loads(node.props["names"])
        primary = entries[0]["name"]
        strong = [e["name"] for e in entries[1:] if alt_src in e["source_ids"]]
        for alias in strong:
            org = node.kind == "Organization"
            shared = M._hooks(M._prepared(primary, org).toks) & M._hooks(
                M._prepared(alias, org).toks)
            variant = "spelling variant" if shared else "different name"
            for mode in ("names only", "names+attributes"):
                keep = mode != "names only"
                if not keep or prof.births or prof.nationality or prof.gender:
                    pairs.append({"group": f"OFAC alias, {variant} ({node.kind}, {mode})",
                                  "label": True, "variant": variant,
                                  "a": _profiles_of_names(prof, [primary], keep),
                                  "b": _profiles_of_names(prof, [alias], keep)})
    un = read_un(data / "un" / "UN_consolidated_2026-02-27.xml")
    for node in un.nodes.values():
        if node.kind != "Person":
            continue
        entries = json.loads(node.props["names"])
        latin = entries[0]["name"]
        scripts = [e["name"] for e in entries[1:] if e["script"] == "Arab"]
        prof = M.profile_of(node.kind, node.id, node.props)
        for name in scripts[:1]:
            pairs.append({"group": "UN Latin vs original script (Person, names only)",
                          "label": True, "a": _profiles_of_names(prof, [latin], False),
                          "b": _profiles_of_names(prof, [name], False)})
    seed_person = M.Profile("person:mohseni-ejei-gholamhossein", "Person",
                            ["Gholamhossein Mohseni-Ejei", "Gholamhossein Mohseni Eje'i",
                             "غلامحسین محسنی اژه‌ای"], [])
    from graph.names import name_keys

    seed_person.keys = name_keys(seed_person.names)
    pairs.append({"group": "hand-checked (seed vs OFAC)", "label": True, "a": seed_person,
                  "b": profiles["person:ofac-12252"]})
    for kind in M.MATCHED_KINDS:
        index = M.CandidateIndex(p for p in profiles.values() if p.kind == kind)
        seen: set[tuple[str, str]] = set()
        for prof in index.profiles.values():
            for cand in index.candidates(prof):
                key = M.ordered(prof.id, cand.id)
                if key in seen:
                    continue
                seen.add(key)
                same_name = M.prepare(prof.names[0]) == M.prepare(cand.names[0]) or sorted(
                    M.prepare(prof.names[0])) == sorted(M.prepare(cand.names[0]))
                if same_name:
                    # OFAC sometimes lists one person twice (entries under different
                    # programmes): identical primary names are not labelled either way
                    pairs.append({"group": f"OFAC different entries with identical names "
                                           f"({kind}, unlabelled)", "label": None,
                                  "a": prof, "b": cand})
                    continue
                pairs.append({"group": f"OFAC different entries ({kind})", "label": False,
                              "a": prof, "b": cand})
    if limit:
        rnd.shuffle(pairs)
        pairs = pairs[:limit]
    return pairs


def evaluate(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    groups: dict[str, dict[str, int]] = {}
    tp = fp = fn = tn = review_pos = review_neg = 0
    different_total = different_found = 0
    examples_fp: list[str] = []
    examples_fn: list[str] = []
    for p in pairs:
        j = M.score_pair(p["a"], p["b"])
        g = groups.setdefault(p["group"], {"pairs": 0, "link": 0, "review": 0, "none": 0})
        g["pairs"] += 1
        g[j.decision] += 1
        if p["label"] is None:
            continue
        if p["label"] and p.get("variant") == "different name":
            different_total += 1
            different_found += j.decision == "link"
        if p["label"]:
            if j.decision == "link":
                tp += 1
            else:
                fn += 1
                review_pos += j.decision == "review"
                if len(examples_fn) < 15 and j.decision == "none":
                    examples_fn.append(f"{p['a'].names[0]} | {p['b'].names[0]} ({j.score})")
        else:
            if j.decision == "link":
                fp += 1
                if len(examples_fp) < 15:
                    examples_fp.append(f"{p['a'].id} {p['a'].names[0]} | {p['b'].id} "
                                       f"{p['b'].names[0]} ({j.score})")
            else:
                tn += 1
                review_neg += j.decision == "review"
    positives = tp + fn
    negatives = fp + tn
    tp_variants = tp - different_found
    return {
        "matcher": M.METHOD,
        "link_threshold": M.LINK_THRESHOLD,
        "review_threshold": M.REVIEW_THRESHOLD,
        "pairs": len(pairs), "positives": positives, "negatives": negatives,
        "link": {"true_positives": tp, "false_positives": fp, "false_negatives": fn,
                 "precision": round(tp / (tp + fp), 4) if tp + fp else None,
                 "recall": round(tp / positives, 4) if positives else None},
        "link_or_review": {
            "recall": round((tp + review_pos) / positives, 4) if positives else None,
            "negatives_sent_to_review": review_neg,
            "share_of_negatives_sent_to_review": round(review_neg / negatives, 4)
            if negatives else None},
        "recall_on_spelling_variants_and_scripts": round(
            tp_variants / (positives - different_total), 4)
        if positives - different_total else None,
        "groups": groups,
        "false_positive_examples": examples_fp,
        "missed_examples": examples_fn,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=(REPO / ".." / "shared" / "data").resolve())
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=RESULTS / "matcher.json")
    args = ap.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no data folder at {args.data}")
    started = time.perf_counter()
    pairs = build_set(args.data, args.limit)
    built = time.perf_counter()
    result = evaluate(pairs)
    result["seconds_build"] = round(built - started, 2)
    result["seconds_score"] = round(time.perf_counter() - built, 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in result.items()
                      if k not in ("false_positive_examples", "missed_examples")}, indent=2))
    print("false positives, e.g.:", *result["false_positive_examples"], sep="\n  ")
    print("missed (not even review), e.g.:", *result["missed_examples"], sep="\n  ")


if __name__ == "__main__":
    main()
