"""A claim whose every source is restricted reaches a public caller marked ``unsourced``
(never shown as if it were evidenced); a caller who may see restricted records gets the
sources. A claim with one public and one restricted source keeps the public one.
Synthetic data only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.embedded import EmbeddedStore
from queries.service import GraphQueries
from tests.queries.synth import build

PUBLIC = "source:synthetic-a"
SECRET = "source:synthetic-witness-statement"

NODES = [
    ("Source", {"id": SECRET, "title": "Synthetic Witness Statement (test)", "kind": "synthetic",
                "restricted": "true"}),
    ("Organization", {"id": "org:testland-ministry", "name": "Testland Ministry", "kind": "government",
                      "source_ids": PUBLIC}),
    ("Organization", {"id": "org:testland-unit", "name": "Testland Unit Nine", "kind": "other",
                      "source_ids": PUBLIC}),
    ("Position", {"id": "position:testland-minister", "name": "Testland Minister",
                  "is_head": "true", "source_ids": PUBLIC}),
    ("Person", {"id": "person:zzyzx-minister", "name": "Zzyzx Minister-Omega",
                "source_ids": PUBLIC}),
]
RELS = [
    # only a restricted witness statement says the unit answers to the ministry
    ("PART_OF", {"from": "org:testland-unit", "to": "org:testland-ministry",
                 "source_ids": SECRET}),
    ("POSITION_IN", {"from": "position:testland-minister", "to": "org:testland-ministry",
                     "source_ids": PUBLIC}),
    ("HOLDS", {"from": "person:zzyzx-minister", "to": "position:testland-minister",
               "valid_from": "2001", "valid_to": "open", "source_ids": f"{PUBLIC};{SECRET}"}),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    s = EmbeddedStore(Path(tmp_path_factory.mktemp("withheld")) / "db")
    s.write(*build(NODES, RELS))
    yield s
    s.close()


def chain_claims(store: EmbeddedStore, include_restricted: bool) -> dict[str, Any]:
    ans = GraphQueries(store, include_restricted=include_restricted).chain(
        "org:testland-unit", "2005")
    out: dict[str, object] = {}
    for o in ans.organizations:
        for link in o.parents:
            out["PART_OF"] = link.claim
        for h in o.heads:
            out["HOLDS"] = h.holds
            out["POSITION_IN"] = h.position_in
    return out


def test_public_caller_sees_claim_with_only_restricted_sources_as_unsourced(
        store: EmbeddedStore) -> None:
    public = chain_claims(store, include_restricted=False)
    part_of, holds = public["PART_OF"], public["HOLDS"]
    assert part_of.unsourced is True and part_of.sources == [] and part_of.source_ids == []
    assert holds.unsourced is False and [s.id for s in holds.sources] == [PUBLIC]


def test_caller_allowed_restricted_sees_the_sources(store: EmbeddedStore) -> None:
    lawyer = chain_claims(store, include_restricted=True)
    part_of, holds = lawyer["PART_OF"], lawyer["HOLDS"]
    assert part_of.unsourced is False and [s.id for s in part_of.sources] == [SECRET]
    assert sorted(s.id for s in holds.sources) == sorted([PUBLIC, SECRET])
