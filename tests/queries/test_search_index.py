"""The name index and scorer (queries.search) against a plain reference: the scorer and
candidate selection as they were written before the columnar/batched rewrite (Python
loops, ``graph.names.tokens``, ``json.loads`` of every ``names`` value), run on the same
data. Every fast path must give the same hits, scores, matched names and order."""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

import queries.search as S
from graph.embedded import EmbeddedStore
from graph.model import NODE_KINDS
from graph.names import name_keys, query_keys, skeleton, tokens
from queries.cypher import keys_query
from tests.queries.synth import PERSIAN, SYLLABLES, build

# -- the reference: the scorer as it was, one name and one query unit at a time ----------


def _ref_units(toks: list[str]) -> tuple[str, ...]:
    out = list(toks) + [a + b for a, b in itertools.pairwise(toks)]
    if len(toks) > 2:
        out.append("".join(toks))
    return tuple(dict.fromkeys(u for u in out if u))


def _ref_forms(text: str) -> tuple[str, str, tuple[str, ...], tuple[str, ...],
                                   tuple[str, ...], tuple[str, ...]]:
    toks = tokens(text)
    skels = [skeleton(t) for t in toks]
    return (" ".join(toks), " ".join(s for s in skels if s), _ref_units(toks),
            _ref_units([s for s in skels if s]), tuple(toks), tuple(s for s in skels if s))


def _ref_unit_score(q_toks: tuple[str, ...], n_units: tuple[str, ...]) -> float:
    if not q_toks or not n_units:
        return 0.0
    variants = [list(q_toks)]
    if 1 < len(q_toks) <= 6:
        for i in range(len(q_toks) - 1):
            variants.append(list(q_toks[:i]) + [q_toks[i] + q_toks[i + 1]]
                            + list(q_toks[i + 2:]))
        variants.append(["".join(q_toks)])
    best = 0.0
    for i, variant in enumerate(variants):
        total = 0.0
        for u in variant:
            hit = process.extractOne(u, n_units, scorer=fuzz.ratio)
            s = float(hit[1]) if hit else 0.0
            if i and u not in q_toks and s < 95:
                s = 0.0
            total += s
        best = max(best, total / len(variant))
    return best


def ref_score(query: str, name: str) -> float:
    qn, qs, _, _, qt, qst = _ref_forms(query)
    nn, ns, nu, nsu, _, _ = _ref_forms(name)
    if not qn or not nn:
        return 0.0
    text = max(float(fuzz.token_set_ratio(qn, nn)), _ref_unit_score(qt, nu))
    skel = _ref_unit_score(qst, nsu) if qs and ns else 0.0
    return round(max(text, S.SKELETON_WEIGHT * skel), 1)


class RefIndex:
    """Candidates and ranking as the index did them, with a dict of postings."""

    def __init__(self, store: EmbeddedStore) -> None:
        self.rows: list[dict[str, Any]] = []
        for kind, nk in NODE_KINDS.items():
            if nk.searchable:
                for r in store.run_arrow(keys_query(kind)).to_pylist():
                    self.rows.append({**r, "kind": kind})
        self.postings: dict[str, list[int]] = {}
        for i, r in enumerate(self.rows):
            for k in r["name_keys"] or ():
                self.postings.setdefault(k, []).append(i)

    def search(self, text: str, limit: int, kinds: set[str] | None,
               include_restricted: bool) -> list[tuple[str, float, str]]:
        rows = self.rows
        total = max(len(rows), 1)
        score: dict[int, float] = {}
        counted, rare_seen = 0, False
        for post in sorted((self.postings.get(k, []) for k in query_keys(text)), key=len):
            if not post or (len(post) > S.COMMON_KEY and (rare_seen or counted >= 2)):
                continue
            w = math.log(1.0 + total / len(post))
            for i in post:
                score[i] = score.get(i, 0.0) + w
            counted += 1
            rare_seen = rare_seen or len(post) <= S.COMMON_KEY
        order = sorted(score, key=lambda i: (-score[i], rows[i]["id"]))[:4 * S.MAX_CANDIDATES]
        order = [i for i in order if (kinds is None or rows[i]["kind"] in kinds)
                 and (include_restricted or not rows[i]["restricted"])][:S.MAX_CANDIDATES]
        hits = []
        for i in order:
            r = rows[i]
            names = S.parse_names(r["name"], r["names"])
            best = (0.0, names[0] if names else "")
            for n in names:
                s = ref_score(text, n)
                if s > best[0] or (s == best[0] and n < best[1] and s > 0):
                    best = (s, n)
            if best[0] >= S.MIN_SCORE:
                hits.append((r["id"], best[0], best[1], (r["name"] or r["id"]).lower()))
        hits.sort(key=lambda h: (-h[1], h[3], h[0]))
        return [h[:3] for h in hits[:limit]]


def got_search(index: S.NameIndex, text: str, limit: int, kinds: set[str] | None,
               include_restricted: bool) -> list[tuple[str, float, str]]:
    cands = index.candidates(text, kinds=kinds, include_restricted=include_restricted)
    return [(n.id, s, m) for n, s, m in S.rank(text, cands, limit)]


# -- tokens and scores on arbitrary text --------------------------------------------------

ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.,/()"
    "éèüößçñłØ"  # accented Latin (ICU path)
    "جزهیکمحسناژلغدبرفوتپچشقعءآا"  # Persian letters
    "يكةىأإؤئۀٱ"  # Arabic forms that fold
    "\u064b\u064e\u0650\u0651\u0652\u0670\u0640\u0301"  # diacritics, tatweel, combining
    "\u200c\u200d\u200f\ufeff"  # ZWNJ, ZWJ, RLM, BOM
    "'\u2019\u2018\u02bc\u02bb`\u00b4"  # apostrophes
    "۱۲٣½中жΩ"  # digits in other scripts, other scripts
)
texts = st.text(alphabet=ALPHABET, max_size=24)
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(text=texts)
def test_name_tokens_are_graph_names_tokens(text: str) -> None:
    assert S.name_tokens(text) == tokens(text)


@pytest.mark.parametrize("text", [
    "Gholam-Hossein Mohseni-Ejei", "Mohseni Eje'i", "MOHSENI   EZHEI", "محسنی اژه‌ای",
    "محسني اژه اي", "غلامحسین محسنی", "Ejeh\u0301i", "José Ñúñez", "", "  -- ", "a_b c",
    "محسنی Ejei", "Unit ۱۲", "½ mix", "\u064eمحسن\u0651ی",
])
def test_name_tokens_examples(text: str) -> None:
    assert S.name_tokens(text) == tokens(text)


@SETTINGS
@given(query=texts, names=st.lists(texts, max_size=6))
def test_score_names_is_the_reference_scorer(query: str, names: list[str]) -> None:
    want = [ref_score(query, n) for n in names]
    assert S.score_names(query, names) == want
    assert [S.score_name(query, n) for n in names] == want


NAMES = ["Gholamhossein Mohseni-Ejei", "Gholam-Hossein Mohseni Eje'i", "محسنی اژه‌ای",
         "غلامحسین محسنی اژه‌ای", "Mohseni", "Ejei", "Hossein Ejehi", "Zzyzx Kamo-Seni",
         "زیزیکس غلام", "Execution of Zzyzx Kamo", "Testland Unit 1", "Mohammad Moghiseh",
         "Abolghasem Salavati", "ابوالقاسم صلواتی", "Salavati", "Unit 12", "x"]
QUERIES = ["Mohseni Ejei", "Mohseni Eje'i", "Mohseni Ezhei", "محسنی اژه‌ای", "محسني اژه اي",
           "Gholam Hossein", "gholamhossein", "Ejehi", "Zzyzx", "Kamo Seni", "Salavati",
           "صلواتی", "Unit 1", "zha", "moghise", "Testland Unit 1 Zzyzx Kamo Seni Ejei x"]


@pytest.mark.parametrize("query", QUERIES)
def test_score_names_on_transliterations(query: str) -> None:
    assert S.score_names(query, NAMES) == [ref_score(query, n) for n in NAMES]
    for i in range(len(NAMES)):
        names = tuple(NAMES[i:i + 3] + NAMES[:1])
        best = (0.0, names[0])
        for n in names:
            s = ref_score(query, n)
            if s > best[0] or (s == best[0] and n < best[1] and s > 0):
                best = (s, n)
        assert S.best_name(query, names) == best


# -- the names pulled out of the JSON at build time ------------------------------------

def _entry(name: Any) -> dict[str, Any]:
    return {"confidence": "medium", "lang": None, "name": name, "script": "Latn",
            "source_ids": ["source:s1"]}


def _row(names: list[Any], ensure_ascii: bool = False) -> str:
    """A ``names`` value as the project writes it."""
    return json.dumps([_entry(n) for n in names], sort_keys=True, ensure_ascii=ensure_ascii)


PLAIN_ROWS: list[tuple[str | None, str | None]] = [
    ("A B", _row(["A B", "آ ب"])),
    ("A B", _row(["آ ب", "A B", "آ ب", "C"])),  # display name later, a repeat
    ("A B", _row(["A B"])),
    ("A B", _row([None, "", "D"])),  # null and empty names are no names
    (None, _row(["E", "E", "F"])),  # no display name
    ("", _row(["G"])),
    ("H", None),
    ("H", ""),
    ("H", "[]"),
    ("I", json.dumps([{"name": "J", "note": "called \"name\": x"}, {"name": "K"}],
                     ensure_ascii=False)),
    ("N", '[{"name" :  "O" }, {"name":null}]'),
]
ODD_ROWS: list[tuple[str | None, str | None]] = [
    ("A", _row(["quote \" inside"])),  # an escape: left to json.loads
    ("A", _row(["محسنی"], ensure_ascii=True)),  # \\u escapes
    ("A", '{"name": "B"}'),  # not a list
    ("A", '[{"name": 5}]'),  # not a string
    ("A", '[{"name": "B"}'),  # cut short
    ("A", '["name", "B"]'),
    ("A", ' [{"name": "B"}]'),
    ("L", json.dumps([{"name": "name"}, {"lang": "name", "name": "M"}])),  # a "name" value
]


def _check_rows(rows: list[tuple[str | None, str | None]], step: int) -> pa.Array | None:
    name = pa.array([r[0] for r in rows], pa.string())
    js = pa.array([r[1] for r in rows], pa.string())
    out = S.other_names(name, js, step=step)
    if out is not None:
        for (n, j), others in zip(rows, out.to_pylist()):
            assert S._with_others(n, others) == S.parse_names(n, j), (n, j, others)
    return out


@pytest.mark.parametrize("step", [1, 3, 1 << 16])
def test_other_names_is_parse_names(step: int) -> None:
    assert _check_rows(PLAIN_ROWS, step) is not None


@pytest.mark.parametrize("row", ODD_ROWS)
def test_other_names_leaves_odd_json_to_json_loads(row: tuple[str | None, str | None]
                                                   ) -> None:
    assert _check_rows(PLAIN_ROWS + [row], 1 << 16) is None


@SETTINGS
@given(rows=st.lists(st.tuples(st.one_of(st.none(), texts),
                               st.lists(st.one_of(st.none(), texts), max_size=4),
                               st.booleans()), min_size=1, max_size=8))
def test_other_names_on_drawn_rows(rows: list[tuple[str | None, list[Any], bool]]) -> None:
    _check_rows([(n, _row(names, ensure_ascii=ascii_only)) for n, names, ascii_only in rows],
                3)


def test_sorted_finds_every_value_and_nothing_else() -> None:
    values = sorted({"".join(random.Random(i).choices("abزک", k=i % 7)) for i in range(500)})
    arr = pa.array(values, pa.string())
    found = S._Sorted(arr)
    assert [found.find(v) for v in values] == list(range(len(values)))
    for absent in ("", "zzz", "a" * 9, "ک" * 8, "ab\x00"):
        if absent not in values:
            assert found.find(absent) is None
    shuffled = list(values)
    random.Random(1).shuffle(shuffled)
    order = np.argsort(np.array(shuffled, dtype=object), kind="stable").astype(np.int32)
    through = S._Sorted(pa.array(shuffled, pa.string()), order)
    assert [int(order[through.find(v)]) for v in values] == [shuffled.index(v) for v in values]
    assert S._Sorted(pa.array([], pa.string())).find("a") is None
    for probe in ["", "a", "ab", "b", "z", "ز", "ک" * 9]:
        assert found.lower_bound(probe) == sum(v.encode() < probe.encode() for v in values)


# -- the index on a real store -----------------------------------------------------------

def _people(n: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    rnd = random.Random(seed)
    nodes: list[tuple[str, dict[str, Any]]] = []
    for i in range(n):
        first = "".join(rnd.choices(SYLLABLES, k=rnd.randint(1, 2))).capitalize()
        last = "".join(rnd.choices(SYLLABLES, k=rnd.randint(1, 3))).capitalize()
        aliases = [" ".join(rnd.choices(PERSIAN, k=rnd.randint(1, 2)))] if i % 3 else []
        if i % 7 == 0:
            aliases.append(f"{last} {first}")
        nodes.append(("Person", {"id": f"person:zzyzx-{i:04d}", "name": f"Zzyzx {first} {last}",
                                 "aliases": ";".join(aliases),
                                 "restricted": "true" if i % 11 == 0 else "false"}))
    for i in range(40):
        nodes.append(("Organization", {"id": f"org:testland-unit-{i}",
                                       "name": f"Testland Unit {i} {rnd.choice(SYLLABLES)}",
                                       "kind": "court", "restricted": "false",
                                       "source_ids": "source:synthetic-a"}))
    rnd.shuffle(nodes)  # the engine's row order is not the id order (ties go by id)
    return nodes


@pytest.fixture(scope="module")
def people_store() -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(":memory:")
    nodes, rels = build(_people(1500, 7), [])
    store.write(nodes, rels)
    yield store
    store.close()


SEARCHES = ["Zzyzx", "Zzyzx Kamo", "kamo seni", "Mose Nika", "محسنی", "غلام حسین", "gholam",
            "Ghola Mhos", "Testland Unit 3", "unit", "Seni-Ka Zzyzx", "zha", "Lam Sein Zzyzx",
            "اژه‌ای زیزیکس", "nothing like it", "Ejei Ghosein Kamo"]


@pytest.mark.parametrize("common", [S.COMMON_KEY, 40])
def test_index_matches_the_reference(people_store: EmbeddedStore, common: int,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # with COMMON_KEY at 40, most keys are "common": the dense sum and the skipping rules
    monkeypatch.setattr(S, "COMMON_KEY", common)
    index = S.NameIndex()
    index.ensure(people_store)
    assert all(pa.types.is_list(c.names.type) for c in index._state.chunks)  # names pulled out
    ref = RefIndex(people_store)
    for text in SEARCHES:
        for kinds in (None, {"Person"}, {"Organization", "Case"}):
            for inc in (True, False):
                want = ref.search(text, 50, kinds, inc)
                assert got_search(index, text, 50, kinds, inc) == want, (text, kinds, inc)
                assert got_search(index, text, 3, kinds, inc) == want[:3]


def test_index_nodes_and_positions(people_store: EmbeddedStore) -> None:
    index = S.NameIndex()
    index.ensure(people_store)
    rows = people_store.run_arrow(keys_query("Person")).to_pylist()
    assert len(index.nodes) == len(rows) + 40 + 2  # persons, units, the two sources
    for r in rows[::37]:
        node = index.nodes[r["id"]]
        assert (node.id, node.kind, node.name, node.restricted) == (
            r["id"], "Person", r["name"], bool(r["restricted"]))
        assert node.names == S.parse_names(r["name"], r["names"])
        assert r["id"] in index.nodes
    assert "person:zzyzx-9999" not in index.nodes
    assert 7 not in index.nodes
    with pytest.raises(KeyError):
        index.nodes["person:zzyzx-9999"]


def test_index_build_warms_the_skeleton_cache(people_store: EmbeddedStore) -> None:
    skeleton.cache_clear()
    S.NameIndex().ensure(people_store)
    assert skeleton.cache_info().currsize > 0
    hits = skeleton.cache_info().hits
    skeleton("zzyzx")  # the token on every person
    assert skeleton.cache_info().hits == hits + 1


class _ArrowStore:
    """Just what NameIndex reads from a store: the keys tables and a generation."""

    generation = 0

    def __init__(self, tables: dict[str, pa.Table]) -> None:
        self.tables = tables

    def run_arrow(self, name: str, params: Any = None) -> pa.Table:
        for kind, t in self.tables.items():
            if name == keys_query(kind):
                return t
        return pa.table({"id": pa.array([], pa.string())})


def test_index_keeps_odd_json_and_parses_it_per_candidate() -> None:
    people = [("person:a", "Zzyzx Kamo", '[{"name":"Zzyzx Kamo"},{"name":"زیزیکس غلام"}]'),
              ("person:b", "Zzyzx Seni", _row(["Zzyzx Seni", "Kamo \"Seni\""])),
              ("person:c", "Kamo Zzyzx", None)]
    orgs = [("org:u", "Testland Kamo", _row(["Testland Kamo", "Kamo Unit"]))]

    def table(rows: list[tuple[str, str, str | None]]) -> pa.Table:
        names = [S.parse_names(n, j) for _, n, j in rows]
        return pa.table({
            "id": [r[0] for r in rows], "name": [r[1] for r in rows],
            "names": pa.array([r[2] for r in rows], pa.string()),
            "name_keys": [name_keys(list(ns)) for ns in names],
            "restricted": [False] * len(rows)})  # no subtype/date columns: nulls

    index = S.NameIndex()
    index.ensure(_ArrowStore({"Person": table(people), "Organization": table(orgs)}))  # type: ignore[arg-type]
    person, org = index._state.chunks
    assert pa.types.is_string(person.names.type) and pa.types.is_list(org.names.type)
    assert index.nodes["person:a"].names == ("Zzyzx Kamo", "زیزیکس غلام")
    assert index.nodes["person:b"].names == ("Zzyzx Seni", 'Kamo "Seni"')
    assert index.nodes["org:u"].names == ("Testland Kamo", "Kamo Unit")
    assert index.nodes["org:u"].subtype is None
    hits = got_search(index, "kamo", 10, None, True)
    assert {h[0] for h in hits} == {"person:a", "person:b", "person:c", "org:u"}
    assert got_search(index, "غلام", 10, None, True)[0][:2] == ("person:a", 100.0)


def test_empty_graph_finds_nothing() -> None:
    index = S.NameIndex()
    index.ensure(_ArrowStore({}))  # type: ignore[arg-type]
    assert index.size == 0 and index.candidates("Kamo", kinds=None,
                                                include_restricted=True) == []
    assert "person:a" not in index.nodes


def test_a_search_during_a_rebuild_reads_the_previous_index() -> None:
    def table(rows: list[tuple[str, str]]) -> pa.Table:
        return pa.table({"id": [r[0] for r in rows], "name": [r[1] for r in rows],
                         "names": [_row([r[1]]) for r in rows],
                         "name_keys": [name_keys([r[1]]) for r in rows],
                         "restricted": [False] * len(rows)})

    index = S.NameIndex()
    old = _ArrowStore({"Person": table([("person:a", "Zzyzx Kamo")])})
    index.ensure(old)  # type: ignore[arg-type]
    seen: list[list[str]] = []

    class Rebuilding(_ArrowStore):
        generation = 1

        def run_arrow(self, name: str, params: Any = None) -> pa.Table:
            seen.append([n.id for n in index.candidates("Kamo", kinds=None,
                                                        include_restricted=True)])
            return super().run_arrow(name, params)

    index.ensure(Rebuilding({"Person": table([("person:b", "Kamo Seni"),  # type: ignore[arg-type]
                                              ("person:c", "Kamo Zha")])}))
    assert seen and all(ids == ["person:a"] for ids in seen)
    assert [n.id for n in index.candidates("Kamo", kinds=None, include_restricted=True)] == [
        "person:b", "person:c"]
    assert "person:a" not in index.nodes and len(index.nodes) == 2
