"""Claims and references kept from one answer to the next (``queries.kept``): handed out
again only within one store generation, a claim citing a restricted source only to callers
of the visibility it was resolved for, and always what a fresh build would give."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from ingest.formats import ingest_path
from ingest.seed import seed_data_path
from queries.answers import Claim
from queries.kept import Halves, kept, lean
from queries.service import GraphQueries
from tests.queries.synth import build
from tests.queries.test_withheld_sources import NODES as WITHHELD_NODES
from tests.queries.test_withheld_sources import PUBLIC, SECRET, chain_claims
from tests.queries.test_withheld_sources import RELS as WITHHELD_RELS

SUBJECT = "person:behrouz-ehsani"


def test_halves_keep_what_is_used_and_stay_bounded() -> None:
    h: Halves[int] = Halves(limit=2)
    for i in range(5):
        h.put(i, i)
    assert len(h) <= 4 and h.get(0) is None and h.get(4) == 4
    h.put(5, 5)
    assert h.get(4) == 4  # promoted from the older half, so kept through the next swap
    h.put(6, 6)
    h.put(7, 7)
    assert h.get(4) == 4 and h.get(5) is None


def _claims(answer: object) -> dict[str, Claim]:
    out: dict[str, Claim] = {}
    for actor in answer.actors:  # type: ignore[attr-defined]
        for c in actor.path:
            out[c.id] = c
    return out


def test_kept_claims_are_shared_within_a_generation(seed_store: EmbeddedStore) -> None:
    full = GraphQueries(seed_store, include_restricted=True)
    first = full.accountability(SUBJECT)
    again = full.accountability(SUBJECT)
    assert first.model_dump() == again.model_dump()
    shared = _claims(first)
    assert shared and all(_claims(again)[i] is c for i, c in shared.items())
    # a claim whose sources are all known and public reads the same to every caller: the
    # public answer hands out the same objects (the seed graph restricts no source)
    public = GraphQueries(seed_store, include_restricted=False).accountability(SUBJECT)
    assert all(c is shared[i] for i, c in _claims(public).items())
    assert kept(seed_store, True) is not kept(seed_store, False)
    assert kept(seed_store, True).common is kept(seed_store, False).common


@pytest.mark.parametrize("public_first", [True, False])
def test_a_claim_citing_a_restricted_source_is_kept_per_visibility(
        tmp_path: Path, public_first: bool) -> None:
    """Whichever caller asks first, a public caller never receives a claim resolved for a
    caller who may see restricted sources, nor the other way round; a claim citing only
    public sources is one object for both."""
    with EmbeddedStore(tmp_path / "g.lbdb") as store:
        store.write(*build(WITHHELD_NODES, WITHHELD_RELS))
        order = (False, True) if public_first else (True, False)
        got = {vis: chain_claims(store, vis) for vis in order}
        public, lawyer = got[False], got[True]
        assert public["PART_OF"].unsourced and public["PART_OF"].sources == []
        assert public["PART_OF"].source_ids == []
        assert [s.id for s in lawyer["PART_OF"].sources] == [SECRET]
        assert [s.id for s in public["HOLDS"].sources] == [PUBLIC]
        assert sorted(s.id for s in lawyer["HOLDS"].sources) == sorted([PUBLIC, SECRET])
        assert public["PART_OF"] is not lawyer["PART_OF"]
        assert public["HOLDS"] is not lawyer["HOLDS"]
        assert public["POSITION_IN"] is lawyer["POSITION_IN"]
        assert [s.id for s in public["POSITION_IN"].sources] == [PUBLIC]
        # asked again, each caller gets what it got the first time
        for vis in order:
            again = chain_claims(store, vis)
            assert {k: c.model_dump() for k, c in again.items()} == \
                {k: c.model_dump() for k, c in got[vis].items()}


def test_a_write_starts_a_new_set(tmp_path: object) -> None:
    with EmbeddedStore(tmp_path / "g.lbdb") as store:  # type: ignore[operator]
        ingest_path(store, "native", seed_data_path())
        before = GraphQueries(store).accountability(SUBJECT)
        old = kept(store, True)
        assert len(old.common.claims)
        with store.transaction():
            store.execute("MATCH (p:Person {id: $id}) SET p.name = 'Renamed Test Person'",
                          {"id": SUBJECT})
        assert kept(store, True) is not old
        after = GraphQueries(store).accountability(SUBJECT)
        assert after.subject.name == "Renamed Test Person"
        assert len(after.actors) == len(before.actors)


def test_kept_models_share_one_set_of_given_fields(seed_store: EmbeddedStore) -> None:
    """``lean``: kept claims hold one shared set per distinct content (not 728 bytes each)."""
    answer = GraphQueries(seed_store, include_restricted=True).accountability(SUBJECT)
    claims = list(_claims(answer).values())
    assert len(claims) > 3
    sets = {id(c.__pydantic_fields_set__) for c in claims}
    assert len(sets) < len(claims)


def test_lean_changes_no_dump_and_keeps_assignment_working() -> None:
    a = Claim(id="r1", type="HOLDS_POST", from_id="a", to_id="b", source_ids=["s"],
              unsourced=False)
    before = (a.model_dump(mode="json"), a.model_dump(exclude_unset=True), a.model_dump_json())
    lean(a)
    assert (a.model_dump(mode="json"), a.model_dump(exclude_unset=True),
            a.model_dump_json()) == before
    b = lean(Claim(id="r2", type="HOLDS_POST", from_id="c", to_id="d", source_ids=["t"],
                   unsourced=False))
    assert a.__pydantic_fields_set__ is b.__pydantic_fields_set__
    a.source_ids = []  # as source resolution does when every source is withheld
    a.unsourced = True
    assert a.source_ids == [] and a.unsourced and b.source_ids == ["t"] and not b.unsourced
