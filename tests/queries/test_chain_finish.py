"""``GraphQueries.chain`` resolves its claims' sources without walking the whole answer
(``_finish_chain``): it must give what the generic ``_finish`` walk gives, so that a claim
field added to the chain answers cannot silently lose its sources."""

from __future__ import annotations

import pytest

from graph.embedded import EmbeddedStore
from queries.service import GraphQueries, parse_at

SUBJECTS = ("org:tehran-revolutionary-court", "person:mohseni-ejei-gholamhossein",
            "org:judiciary-of-iran")


@pytest.mark.parametrize("include_restricted", [True, False])
@pytest.mark.parametrize("at", ["2026-01", "2026-01-16", "2020"])
def test_chain_finish_matches_generic_walk(seed_store: EmbeddedStore, include_restricted: bool,
                                           at: str) -> None:
    q = GraphQueries(seed_store, include_restricted=include_restricted)
    d = parse_at(at)
    assert d is not None
    sourced = 0
    for ref in SUBJECTS:
        ent = q._resolve_kind(ref, ("Person", "Position", "Organization"), "a chain")
        generic = q._finish(q._chain_core(ent, d))
        fast = q.chain(ref, at)
        assert fast.model_dump() == generic.model_dump()
        sourced += sum(bool(c.sources) for o in fast.organizations for h in o.heads
                       for c in (h.holds, h.position_in))
        sourced += sum(bool(p.holds.sources) for p in fast.posts)
    assert sourced  # the comparison covered resolved sources
