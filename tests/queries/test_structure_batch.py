"""The hierarchy's batch reads (``Structure.prefetch``, ``Structure.latest_before``) must
give what the one-at-a-time reads give: accountability answers are built from them, and a
row built in a batch is cached and handed out as if ``claim``/``node`` had built it."""

from __future__ import annotations

from graph.dates import MAX_DAY, MIN_DAY
from graph.embedded import EmbeddedStore
from queries import structure as ST
from queries.structure import Structure

KINDS = {"PERPETRATED_BY", "OCCURRED_AT"}


def test_prefetched_rows_are_the_rows_read_one_by_one(seed_store: EmbeddedStore) -> None:
    one, batch = Structure(seed_store), Structure(seed_store)
    claims = list(range(len(one.c_code)))
    nodes = list(one.ids)
    assert claims and nodes
    batch.prefetch(claims, nodes)
    # every row was built by the batch (a table of many rows by one Arrow take per
    # column, a small one value by value) and is then handed out as built
    assert len(batch._claims) == len(claims)
    assert len(batch._nodes) == len(nodes)
    assert any(int((one.c_code == code).sum()) >= ST.PREFETCH_MIN
               for code in range(len(one.tables)))  # the take path is exercised
    for c in claims:
        assert batch.claim(c) == one.claim(c), c
    for nid in nodes:
        assert batch.node(nid) == one.node(nid), nid


def _earlier(st: Structure, oid: str, before: int, exclude: str | None
             ) -> list[tuple[int, str, int]]:
    """The reference: every claim of KINDS into ``oid`` from a dated incident that ended
    before ``before``, read claim by claim."""
    out = []
    for c, other in st.neighbours("in", oid):
        if st.type_of(c) in KINDS and st.a_dated[c] and st.a_date_hi[c] < before \
                and other != exclude:
            out.append((int(st.a_date_hi[c]), other, c))
    return out


def test_latest_before_counts_all_and_keeps_the_most_recent(seed_store: EmbeddedStore
                                                            ) -> None:
    st = Structure(seed_store)
    checked = 0
    for oid in st.ids:
        every = _earlier(st, oid, MAX_DAY, None)
        if len(every) < 2:
            continue
        his = sorted({hi for hi, _, _ in every})
        for before in (MIN_DAY, his[len(his) // 2], his[-1], MAX_DAY):
            for exclude in (None, every[0][1]):
                want = _earlier(st, oid, before, exclude)
                for k in (1, 2, 10):
                    count, got = st.latest_before(oid, KINDS, before, True, exclude, k)
                    assert count == len(want)
                    key = sorted((-hi, o, c) for hi, o, c in want)
                    top = sorted((-hi, o, c) for hi, o, c in got)
                    assert set(got) <= set(want)
                    # the first k of the full order are all there, and nothing older than
                    # the k-th most recent date is
                    assert top[:k] == key[:k]
                    assert all(-x[0] >= -key[min(k, len(key)) - 1][0] for x in top)
                    checked += 1
    assert checked > 0
