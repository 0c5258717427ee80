"""Shortest paths reuse their distance arrays between questions (``queries.projection``):
every entry a search sets must be put back, or the next question would see the last one's
distances."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from graph.embedded import EmbeddedStore
from queries import projection as P


def test_scratch_arrays_are_clean_after_every_search(seed_store: EmbeddedStore) -> None:
    proj = P.projection(seed_store)
    ids = [i for i in proj.ids if not i.startswith("src:")][:40]
    fresh: dict[tuple[str, str], tuple[int | None, list[list[str]]]] = {}
    for a, b in itertools.combinations(ids, 2):
        fresh[(a, b)] = P.shortest_paths(proj, a, b, include_restricted=True, at=None,
                                         max_len=6, limit=10)
        spare = P._SPARE[-1]
        assert (spare.da == -1).all() and (spare.db == -1).all()
        assert not spare.on_a.any() and not spare.on_b.any()
    # the same questions in the other order, on arrays used a thousand times: same answers
    for (a, b), expected in reversed(list(fresh.items())):
        assert P.shortest_paths(proj, a, b, include_restricted=True, at=None, max_len=6,
                                limit=10) == expected
    assert any(length for length, _ in fresh.values())  # some pairs are linked


def test_scratch_is_put_back_when_a_search_fails(seed_store: EmbeddedStore,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    proj = P.projection(seed_store)
    far = next((a, b) for a, b in itertools.combinations(proj.ids, 2)
               if (P.shortest_paths(proj, a, b, include_restricted=True, at=None, max_len=6,
                                    limit=1)[0] or 0) >= 3)
    calls = {"n": 0}
    real = P.Projection.expand

    def failing(self: P.Projection, frontier: np.ndarray, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("stop half-way")
        return real(self, frontier, **kw)

    monkeypatch.setattr(P.Projection, "expand", failing)
    with pytest.raises(RuntimeError):
        P.shortest_paths(proj, *far, include_restricted=True, at=None, max_len=6, limit=10)
    spare = P._SPARE[-1]
    assert (spare.da == -1).all() and (spare.db == -1).all()
    assert not spare.on_a.any() and not spare.on_b.any()
