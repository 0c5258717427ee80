"""Accountability for an act with no date: the head posts above it, not every holder ever.

At an unknown date no holding can be excluded, so listing holders would name everyone who
ever held a head post above the actors (at a million nodes 1,000-2,400 people per answer,
each marked dates_unknown): a defamation risk and noise that hides the real actors. The
answer names the post instead; the same act with a date names the holder on that date.
"""

from __future__ import annotations

from typing import Any

from graph.embedded import EmbeddedStore
from queries.service import GraphQueries
from tests.queries.synth import load_graph

SRC = "source:synthetic-a"


def _graph(act_date: str) -> dict[str, Any]:
    nodes = [
        ("Organization", {"id": "org:testland-top", "name": "Testland Top Body", "kind": "judiciary",
                          "source_ids": SRC}),
        ("Organization", {"id": "org:testland-unit", "name": "Testland Unit", "kind": "court",
                          "source_ids": SRC}),
        ("Position", {"id": "position:testland-top-head", "name": "Head of Testland Top Body",
                      "is_head": "true"}),
        ("Person", {"id": "person:zzyzx-officer", "name": "Zzyzx Officer"}),
        ("Incident", {"id": "incident:testland-act", "name": "Testland Act", "kind": "execution",
                      "date": act_date}),
    ]
    rels: list[tuple[str, dict[str, Any]]] = [
        ("PART_OF", {"from": "org:testland-unit", "to": "org:testland-top", "source_ids": SRC}),
        ("POSITION_IN", {"from": "position:testland-top-head", "to": "org:testland-top",
                         "source_ids": SRC}),
        ("MEMBER_OF", {"from": "person:zzyzx-officer", "to": "org:testland-unit",
                       "valid_from": "1990", "source_ids": SRC, "role": "member"}),
        ("PERPETRATED_BY", {"from": "incident:testland-act", "to": "person:zzyzx-officer",
                            "source_ids": SRC, "role": "direct"}),
    ]
    for i, (start, end) in enumerate([("1990-01-01", "1995-12-31"), ("1996-01-01", "2001-12-31"),
                                       ("2002-01-01", "")]):
        nodes.append(("Person", {"id": f"person:zzyzx-head-{i}", "name": f"Zzyzx Head {i}"}))
        rels.append(("HOLDS", {"from": f"person:zzyzx-head-{i}",
                               "to": "position:testland-top-head", "valid_from": start,
                               "valid_to": end, "source_ids": SRC}))
    return {"nodes": nodes, "rels": rels}


def _superiors(store: EmbeddedStore, act_date: str) -> list[Any]:
    load_graph(store, _graph(act_date))
    ans = GraphQueries(store).accountability("incident:testland-act")
    return [a for a in ans.actors if a.role == "superior"]


def test_an_undated_act_lists_the_head_post_not_its_holders(memory_store: EmbeddedStore) -> None:
    sup = _superiors(memory_store, "")
    assert [(a.entity.kind, a.entity.id) for a in sup] == [
        ("Position", "position:testland-top-head")]
    actor = sup[0]
    assert actor.status == "dates_unknown"
    assert "no date" in actor.detail
    # the evidence path ends at the post's POSITION_IN claim, sourced
    assert [c.type for c in actor.path] == ["PERPETRATED_BY", "MEMBER_OF", "PART_OF",
                                            "POSITION_IN"]
    assert actor.sources and actor.sources[0].id == SRC


def test_a_dated_act_names_the_holder_on_that_date(memory_store: EmbeddedStore) -> None:
    sup = _superiors(memory_store, "1998-06-01")
    assert [a.entity.id for a in sup] == ["person:zzyzx-head-1"]
    # the holding is decided on the date; the undated organisation links are not
    assert [(c.type, c.status) for c in sup[0].path][-2:] == [
        ("POSITION_IN", "dates_unknown"), ("HOLDS", "valid")]
