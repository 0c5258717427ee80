"""The entity matcher: name similarity across transliterations and scripts, attribute
agreement and conflict, and SAME_AS links / review queue against a real store. Names are
obviously artificial, except the one public spelling pair the acceptance example needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graph.embedded import EmbeddedStore
from graph.records import NodeRecord
from ingest.build import Where, build_node
from ingest.loader import LoadReport
from ingest.matching import (
    LINK_THRESHOLD,
    Profile,
    country_code,
    link_after_load,
    name_similarity,
    profile_of,
    score_pair,
)
from ingest.review import ReviewQueue

SRC = "source:synthetic-matching"


def node(node_kind: str, node_id: str, **values: Any) -> NodeRecord:
    values.setdefault("source_ids", SRC)
    rec, problems = build_node(node_kind, {"id": node_id, **values}, Where("test", 0))
    assert rec is not None, problems
    return rec


def seed(store: EmbeddedStore, *records: NodeRecord) -> None:
    src = node("Source", SRC, title="Synthetic matching fixture", kind="synthetic",
               source_ids="")
    store.write([src, *records], [])


def test_names_across_transliterations_and_scripts() -> None:
    ofac = name_similarity("MOHSENI-EJEI, Qolam-Hossein", "Gholamhossein Mohseni-Ejei")
    assert ofac.score > 0.9
    assert name_similarity("Zzyzx Qolam-Judge", "Zzyzx Gholamjudge").score > 0.85
    persian = name_similarity("غلامحسین محسنی اژه‌ای", "Gholamhossein Mohseni-Ejei")
    assert persian.score > 0.8
    assert name_similarity("Zzyzx Alpha", "Alpha, Zzyzx").score == 1.0  # order-free
    # short tokens and acronyms only count when equal
    assert name_similarity("EP-MOC", "PMOI (MEK)").score == 0.0
    # generic words of organisation names weigh little
    assert name_similarity("AMAN GROUP", "Miaan Group", org=True).score < 0.75
    # a unit is not its parent
    unit = Profile("org:a", "Organization", ["TESTLAND GUARD CORPS AIR FORCE"], [],
                   org_kind="military")
    parent = Profile("org:b", "Organization", ["Testland Guard Corps"], [], org_kind="military")
    assert score_pair(unit, parent).decision == "review"


def test_attributes_corroborate_or_conflict() -> None:
    base = dict(kind="Person", keys=[])
    a = Profile("person:a", names=["Zzyzx Testperson"], births=[(19610101, 19611231)],
                nationality={"ir"}, **base)  # type: ignore[arg-type]
    b = Profile("person:b", names=["TESTPERSON, Zzyzx"], births=[(19610628, 19610628)],
                nationality={"ir"}, **base)  # type: ignore[arg-type]
    assert score_pair(a, b).decision == "link"  # two tokens, but corroborated
    b.births = [(19700101, 19701231)]
    assert score_pair(a, b).decision != "link"  # birth conflict
    b.births, b.gender, a.gender = [], "female", "male"
    assert score_pair(a, b).decision != "link"
    a.nationality = b.nationality = set()
    b.gender = None
    assert score_pair(a, b).decision == "review"  # names alone, too short to link
    assert country_code("Iran (Islamic Republic of)") == country_code("IR") == "ir"


def test_profile_reads_listed_birth_dates_from_notes() -> None:
    rec = node("Person", "person:zz", name="Zzyzx", notes="x\nDate of birth (as listed): "
               "circa 1956; 1951 to 1953\ny")
    prof = profile_of("Person", rec.id, rec.props)
    assert (19550101, 19571231) in prof.births and (19510101, 19531231) in prof.births


def test_links_queues_and_honours_review_decisions(tmp_path: Path,
                                                   store: EmbeddedStore) -> None:
    seed(store,
         node("Person", "person:zzyzx-alpha", name="Zzyzx Qolam-Judge Testperson"),
         node("Person", "person:zzyzx-beta", name="Zzyzx Testperson-Beta"),
         node("Organization", "org:testland-prison-one", name="Testland Prison One",
              kind="prison"))
    new = [node("Person", "person:list-1", name="TESTPERSON, Zzyzx Gholam Judge"),
           node("Person", "person:list-2", name="TESTPERSONBETA, Zzyzx"),
           node("Organization", "org:list-3", name="TESTLAND PRISON ONE", kind="prison")]
    store.write(new, [])
    queue = ReviewQueue(tmp_path / "review.sqlite")
    report = LoadReport("test", "test")
    link_after_load(store, new, report, queue)
    assert report.counts["SAME_AS"]["added"] == 2  # the person and the prison
    rows = store.execute("MATCH (a)-[r:SAME_AS]->(b) RETURN a.id AS a, b.id AS b, "
                         "r.judged_by AS by, r.method AS m, r.judged_at AS at, r.score AS s")
    pairs = {(r["a"], r["b"]) for r in rows}
    assert pairs == {("person:list-1", "person:zzyzx-alpha"),
                     ("org:list-3", "org:testland-prison-one")}
    assert all(r["by"] == "matcher:1" and r["at"] and r["s"] >= LINK_THRESHOLD for r in rows)
    pending = queue.list()
    assert ("person:list-2", "person:zzyzx-beta") in [(p.a, p.b) for p in pending]
    assert all(p.score < LINK_THRESHOLD or not p.details["distinctive"] for p in pending)
    # a re-run changes nothing
    again = LoadReport("test", "test")
    link_after_load(store, new, again, queue)
    assert again.counts["SAME_AS"] == {"added": 0, "updated": 0, "unchanged": 2}
    assert not again.written
    # decisions: reject the pending pair, accept it the other way round for the prison
    queue.decide("person:list-2", "person:zzyzx-beta", "accepted", "tester")
    queue.decide("org:list-3", "org:testland-prison-one", "rejected", "tester")
    third = LoadReport("test", "test")
    link_after_load(store, new, third, queue)
    rows = store.execute("MATCH (a)-[r:SAME_AS]->(b) RETURN a.id AS a, r.judged_by AS by")
    by = {r["a"]: r["by"] for r in rows}
    assert by["person:list-2"] == "review:tester"
    assert ("person:list-2", "person:zzyzx-beta") not in [(p.a, p.b) for p in queue.list()]
    assert "org:list-3" not in by  # the rejected link is removed on the next run
    assert third.written
    queue.close()


# -- the fast paths score exactly as the plain ones -------------------------------------
def _plain_pairs(pa: Any, pb: Any) -> list[Any]:
    """The token alignment candidates as the matcher computed them before its C prefilter:
    every unit of one name against every unit of the other."""
    from ingest.matching import MIN_TOKEN_SIMILARITY, token_similarity

    pairs = []
    for ua in pa.units:
        for ub in pb.units:
            if ua[2] - ua[1] > 1 and ub[2] - ub[1] > 1:
                continue
            sim = token_similarity(ua[0], ub[0])
            if sim >= MIN_TOKEN_SIMILARITY:
                pairs.append((sim, len(ua[0]) + len(ub[0]), ua, ub))
    return pairs


NAMES = ["MOHSENI-EJEI, Qolam-Hossein", "Gholamhossein Mohseni-Ejei", "Zzyzx Qolam-Judge",
         "Zzyzx Gholamjudge", "TESTLAND INTERNATIONAL TRADING COMPANY", "Testland Intl Trading",
         "Zzyzx Alpha", "Alpha, Zzyzx", "AMAN GROUP", "Miaan Group", "غلامحسین محسنی اژه‌ای",
         "Zzyzx Abdolhamid al-Testi", "Abd al-Hamid Zzyzx Testi", "Qqqq Xxx Yyyyyyy Zz"]


def test_c_prefilter_finds_every_pair_the_plain_loop_finds(shared_data: Path) -> None:
    import json
    import random

    from ingest.matching import _aligned_pairs, _prepared
    from ingest.ofac import read_ofac

    names = list(NAMES)
    bundle = read_ofac(shared_data / "ofac_legacy_set_2021-07")
    for n in bundle.nodes.values():
        if n.kind in ("Person", "Organization"):
            names.extend(e["name"] for e in json.loads(n.props["names"]))
    rnd = random.Random(3)
    sample = NAMES + rnd.sample(names, 400)
    for org in (False, True):
        for a in sample:
            pa = _prepared(a, org)
            for b in rnd.sample(sample, 40) + NAMES:
                pb = _prepared(b, org)
                assert _aligned_pairs(pa, pb) == _plain_pairs(pa, pb), (a, b)


def test_token_similarity_answers_from_the_current_persian_tokens() -> None:
    from ingest.matching import _FROM_PERSIAN, prepare, token_similarity

    latin, persian = "zhazhazha", "zhzhzh"  # the latter: ژژژ latinised
    assert persian not in _FROM_PERSIAN
    assert token_similarity(latin, persian) == 0.8  # two Latin tokens: edit ratio
    prepare("ژژژ")  # a Persian-script name brings the token in
    assert persian in _FROM_PERSIAN
    # now compared by skeleton ("j" = "j"), not the answer remembered from before
    assert token_similarity(latin, persian) == 0.9


def test_name_bounds_never_skip_a_pair_that_could_reach_review(shared_data: Path) -> None:
    """``judge`` skips the pairs whose name score bound (``_name_bounds``) with their
    attributes added stays below review. The bound must never be below the name score
    ``score_pair`` finds, and skipping must change no judgement: checked on real OFAC
    entries against the other half of the list (namesakes, relatives, a force and its
    units) and against UN entries (Latin and Arabic script)."""
    from ingest.matching import (
        MATCHED_KINDS,
        CandidateIndex,
        Judged,
        _name_bounds,
        judge,
    )
    from ingest.ofac import read_ofac
    from ingest.un_xml import read_un

    ofac = [r for r in read_ofac(shared_data / "ofac_legacy_set_2021-07").nodes.values()
            if r.kind in MATCHED_KINDS]
    un = [r for r in read_un(shared_data / "un" / "UN_consolidated_2026-02-27.xml")
          .nodes.values() if r.kind in MATCHED_KINDS]
    for records, graph in ((ofac[::2][:1500], ofac[1::2]), (un, ofac)):
        others: dict[str, list[Profile]] = {}
        for r in graph:
            others.setdefault(r.kind, []).append(profile_of(r.kind, r.id, r.props))
        judged = judge(records, others)
        # the same pairs, every one scored in full
        full = Judged()
        own = {r.id for r in records}
        for kind in MATCHED_KINDS:
            index = CandidateIndex(others.get(kind) or ())
            for rec in (r for r in records if r.kind == kind):
                cands = index.candidates_for_keys(rec.id, rec.props["name_keys"], own)
                if not cands:
                    continue
                prof = profile_of(kind, rec.id, rec.props)
                for cand, bound in zip(cands, _name_bounds(prof, cands), strict=True):
                    j = score_pair(prof, cand)
                    # (the name score is rounded to 4 decimals)
                    assert bound >= j.details.get("name", 0.0) - 5e-5, (prof.names, cand.names)
                    full.scored.append((prof, cand, j))
        kept = [(j.a, j.b, j.score, j.decision, j.details) for _, _, j in judged.scored
                if j.decision != "none"]
        assert kept == [(j.a, j.b, j.score, j.decision, j.details)
                        for _, _, j in full.scored if j.decision != "none"]
        pairs = sorted([(p.id, c.id) for p, c, _ in judged.scored] + judged.skipped)
        assert pairs == sorted((p.id, c.id) for p, c, _ in full.scored)
        assert len(judged.skipped) > len(judged.scored)  # it does skip most pairs
