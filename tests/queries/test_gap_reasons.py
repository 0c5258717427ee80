"""The gaps scan's reasons as the walk records them (``queries.gaps._Shown``) and as a
``GapScan`` reads them back: numbered during the walk, the shown ones capped per person in
(act, role) order, every act and detail named once."""

from __future__ import annotations

from queries import gaps as G

ROLES = ["direct", "judicial", "custodial", "superior", "institutional", "inciting"]


def scan_of(shown: G._Shown, people: dict[str, str]) -> G.GapScan:
    score = {p: 1.0 for p in people}
    total = {p: 1 for p in people}
    return G.GapScan(0, G._compact(people, score, total, shown))


def test_reasons_read_back_as_recorded_in_act_then_role_order() -> None:
    shown = G._Shown(ROLES)
    shown.add("person:b", "incident:1", "First act", {"superior": "Head (head of Unit)",
                                                      "direct": "perpetrator"})
    shown.add("person:a", "incident:2", "Second act", {"judicial": "judge"})
    shown.add("person:b", "incident:2", "Second act", {"custodial": "place of detention"})
    scan = scan_of(shown, {"person:a": "A", "person:b": "B", "person:c": "C"})
    assert scan.reasons("person:b") == [
        ("incident:1", "First act", "direct", "perpetrator"),
        ("incident:1", "First act", "superior", "Head (head of Unit)"),
        ("incident:2", "Second act", "custodial", "place of detention")]
    assert scan.reasons("person:a") == [("incident:2", "Second act", "judicial", "judge")]
    assert scan.reasons("person:c") == []  # implicated, but no reason recorded here


def test_shown_reasons_stop_at_the_cap_in_walk_order() -> None:
    shown = G._Shown(ROLES)
    n = G.REASONS_SHOWN
    for i in range(n + 5):  # two roles an act: the cap falls inside an act
        shown.add("person:x", f"incident:{i:03d}", f"Act {i}",
                  {"superior": "Head", "direct": "perpetrator"})
    shown.add("person:y", "incident:999", "Late act", {"direct": "perpetrator"})
    scan = scan_of(shown, {"person:x": "X", "person:y": "Y"})
    got = scan.reasons("person:x")
    assert len(got) == n
    assert got[:2] == [("incident:000", "Act 0", "direct", "perpetrator"),
                       ("incident:000", "Act 0", "superior", "Head")]
    assert got[-1][0] == f"incident:{(n - 1) // 2:03d}"
    assert scan.reasons("person:y") == [("incident:999", "Late act", "direct", "perpetrator")]
    # only the acts a shown reason cites are named in the arrays
    arrays = G._compact({"person:x": "X", "person:y": "Y"}, {}, {}, shown)
    assert len(arrays["act_id"]) == (n + 1) // 2 + 1
    assert arrays["detail"].to_pylist() == ["perpetrator", "Head"]
