"""Notice in an accountability answer: the earlier incidents of the act's own units.

Rome Statute art. 28 asks whether a superior knew, or should have known, that forces under
their command were committing crimes: the evidence is the record of the units that did
this act (the organisations among its actors, and those its persons belonged to on its
date), which every superior above them commanded. Incidents attributed to an organisation
higher up the chain are its own record, not the unit's, and are left out (they are in that
organisation's timeline).
"""

from __future__ import annotations

from typing import Any

from graph.embedded import EmbeddedStore
from queries.service import GraphQueries
from tests.queries.synth import load_graph

SRC = "source:synthetic-a"


def _org(oid: str, name: str) -> tuple[str, dict[str, Any]]:
    return ("Organization", {"id": oid, "name": name, "kind": "police", "source_ids": SRC})


def _incident(iid: str, date: str) -> tuple[str, dict[str, Any]]:
    return ("Incident", {"id": iid, "name": f"Testland {iid[9:]}", "kind": "arrest",
                         "date": date, "source_ids": SRC})


def _graph() -> dict[str, Any]:
    nodes = [
        _org("org:testland-command", "Testland Command"),
        _org("org:testland-squad", "Testland Squad"),
        _org("org:testland-station", "Testland Station"),
        ("Person", {"id": "person:zzyzx-officer", "name": "Zzyzx Officer"}),
        _incident("incident:testland-act", "2010-05-01"),
        _incident("incident:testland-squad-earlier", "2008-01-01"),
        _incident("incident:testland-squad-later", "2012-01-01"),
        _incident("incident:testland-station-earlier", "2009-01-01"),
        _incident("incident:testland-command-earlier", "2007-01-01"),
    ]
    rels: list[tuple[str, dict[str, Any]]] = [
        ("PART_OF", {"from": "org:testland-squad", "to": "org:testland-command",
                     "source_ids": SRC}),
        ("PART_OF", {"from": "org:testland-station", "to": "org:testland-command",
                     "source_ids": SRC}),
        # the officer belonged to the squad on the act's date
        ("MEMBER_OF", {"from": "person:zzyzx-officer", "to": "org:testland-squad",
                       "valid_from": "2005", "source_ids": SRC, "role": "member"}),
        ("PERPETRATED_BY", {"from": "incident:testland-act", "to": "person:zzyzx-officer",
                            "source_ids": SRC, "role": "direct"}),
        ("OCCURRED_AT", {"from": "incident:testland-act", "to": "org:testland-station",
                         "source_ids": SRC}),
    ]
    for iid, org in (("incident:testland-squad-earlier", "org:testland-squad"),
                     ("incident:testland-squad-later", "org:testland-squad"),
                     ("incident:testland-station-earlier", "org:testland-station"),
                     ("incident:testland-command-earlier", "org:testland-command")):
        rels.append(("PERPETRATED_BY", {"from": iid, "to": org, "source_ids": SRC,
                                        "role": "direct"}))
    return {"nodes": nodes, "rels": rels}


def test_notice_lists_the_units_earlier_incidents(memory_store: EmbeddedStore) -> None:
    load_graph(memory_store, _graph())
    ans = GraphQueries(memory_store).accountability("incident:testland-act")
    assert sorted((n.organization.id, n.incident.id) for n in ans.notice) == [
        # the officer's unit on the date, and the place of the act; only earlier incidents
        ("org:testland-squad", "incident:testland-squad-earlier"),
        ("org:testland-station", "incident:testland-station-earlier"),
    ]
    assert ans.notice_total == 2
    # the command above both is in the answer, as an institution with its path, but its
    # own record is not notice of these units
    assert "org:testland-command" in {a.entity.id for a in ans.actors
                                      if a.role == "institutional"}
    for n in ans.notice:  # evidence on every item
        assert n.before_act == "incident:testland-act"
        assert [s.id for s in n.claim.sources] == [SRC]
