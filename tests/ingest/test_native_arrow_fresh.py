"""The Arrow path's first load (a new database file swapped in for the empty one, tables
spooled by the workers as Parquet files and copied by the engine's own reader), and the
vectorised names code it relies on: both store exactly what the record path stores."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.embedded import EmbeddedStore
from graph.names import _PERSIAN_LATIN, skeleton
from graph.store import StoreError
from ingest.build import finish_names
from ingest.formats import ingest_path
from ingest.native_arrow import _ICU_PLAIN, _names_columns, _skeletons
from tests.ingest.helpers import FIXTURE, dump
from tests.ingest.test_native_arrow import both_ways

FRESH_ENV = {"ACCGRAPH_FRESH_LOAD_BYTES": "0", "ACCGRAPH_INGEST_WORKERS": "2",
             "ACCGRAPH_INGEST_SPLIT_BYTES": "0", "ACCGRAPH_MATCH": "0"}


def _fresh_and_record(tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
                      ) -> tuple[list[str], object, object]:
    """``both_ways`` with the fresh-file first load forced (every size, two workers)."""
    for k, v in FRESH_ENV.items():
        monkeypatch.setenv(k, v)
    notes: list[str] = []
    fast, slow, _ = both_ways(tmp_path, folder, monkeypatch, notes)
    return notes, fast, slow


@pytest.mark.parametrize("which", ["fixture", "synthetic", "many-parts"])
def test_first_load_stores_what_the_record_path_stores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: str) -> None:
    """``fixture`` has a names.csv (applied to node files converted in parts);
    ``many-parts``: every node file cut into several byte ranges per worker, all copied
    by one ``COPY`` per file."""
    if which == "many-parts":
        import ingest.native_arrow

        monkeypatch.setattr(ingest.native_arrow, "_PART_BYTES", 150)
    if which in ("fixture", "many-parts"):
        folder = FIXTURE
    else:
        from bench.generate import generate

        folder = tmp_path / "synthetic"
        generate(0.002, 3, folder)
    notes, fast, slow = _fresh_and_record(tmp_path, folder, monkeypatch)
    assert any("swapped in" in n for n in notes)
    assert fast == slow
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_reingest_after_a_first_load_changes_nothing(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in FRESH_ENV.items():
        monkeypatch.setenv(k, v)
    store = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        first = ingest_path(store, "native", FIXTURE)
        assert first.written and any("swapped in" in n for n in first.notes)
        before = dump(store)
        again = ingest_path(store, "native", FIXTURE)
        assert again.ok and not again.written
        assert again.total("added") == 0
        assert dump(store) == before
    finally:
        store.close()


def test_a_failed_copy_discards_the_new_file_and_the_record_path_loads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import graph.bulk

    for k, v in FRESH_ENV.items():
        monkeypatch.setenv(k, v)
    real = graph.bulk.copy_file
    calls: list[str] = []

    def failing(store: EmbeddedStore, what: str, path: object,
                ends: tuple[str, str] | None = None) -> None:
        calls.append(what)
        if len(calls) == 6:
            raise StoreError("injected failure")
        real(store, what, path, ends)

    monkeypatch.setattr(graph.bulk, "copy_file", failing)
    store = EmbeddedStore(tmp_path / "g.lbdb")
    ref = EmbeddedStore(tmp_path / "ref.lbdb")
    try:
        report = ingest_path(store, "native", FIXTURE)
        assert len(calls) == 6
        assert report.ok and report.written
        assert not any("swapped in" in n for n in report.notes)
        monkeypatch.setenv("ACCGRAPH_FAST_NATIVE", "0")
        assert ingest_path(ref, "native", FIXTURE).ok
        assert dump(store) == dump(ref)
        assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    finally:
        store.close()
        ref.close()


def test_a_load_pool_too_small_is_retried_with_the_stores_pool(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in FRESH_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("ACCGRAPH_LOAD_BUFFER_POOL", str(8 << 20))  # not even the schema fits
    store = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        report = ingest_path(store, "native", FIXTURE)
        assert report.written and any("swapped in" in n for n in report.notes)
        assert store.counts()["Person"] > 0
        assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    finally:
        store.close()


def test_a_first_load_without_room_is_refused_clearly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The room a first load needs beside the database (the new file and the spooled
    tables) is checked before anything is written."""
    import graph.space
    import ingest.native_arrow

    for k, v in FRESH_ENV.items():
        monkeypatch.setenv(k, v)
    store = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        monkeypatch.setattr(ingest.native_arrow, "_room_needed", lambda files: 100 << 20)
        monkeypatch.setattr(graph.space, "room_to_write", lambda db: 64 << 20)
        with pytest.raises(StoreError, match="not enough free space.*first load"):
            ingest_path(store, "native", FIXTURE)
        assert store.counts()["Person"] == 0
        assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
        monkeypatch.setattr(graph.space, "room_to_write", lambda db: 200 << 20)
        assert ingest_path(store, "native", FIXTURE).written
    finally:
        store.close()


def test_duplicate_ids_across_parts_are_reported_by_the_record_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in FRESH_ENV.items():
        monkeypatch.setenv(k, v)
    folder = tmp_path / "dup"
    folder.mkdir()
    rows = [f"person:dup-{i},Synth Dup {i}" for i in range(40)] + ["person:dup-3,Synth Again"]
    (folder / "Person.csv").write_text("id,name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    store = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        report = ingest_path(store, "native", folder)
        assert not report.written
        assert any("person:dup-3" in p.reason or p.field == "id" for p in report.rejected)
        assert store.counts()["Person"] == 0
    finally:
        store.close()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_duplicate_claim_ids_across_files_are_reported_by_the_record_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str) -> None:
    """Claim ids are checked across files by their hashes (``_id_hashes``)."""
    import shutil

    for k, v in FRESH_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("ACCGRAPH_INGEST_WORKERS", workers)
    folder = tmp_path / "dup"
    shutil.copytree(FIXTURE, folder)
    holds = (folder / "HOLDS.csv").read_text(encoding="utf-8").splitlines()
    claim = holds[1].split(",")[holds[0].split(",").index("id")]
    part = (folder / "PART_OF.csv").read_text(encoding="utf-8").splitlines()
    part = ["id," + part[0], claim + "," + part[1]] + ["," + line for line in part[2:]]
    (folder / "PART_OF.csv").write_text("\n".join(part) + "\n", encoding="utf-8")
    store = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        timings: dict[str, float] = {}
        report = ingest_path(store, "native", folder, timings=timings)
        assert "write_commit_s" not in timings  # the fast path declined
        assert not report.written
        assert any("duplicate claim id" in p.reason for p in report.rejected), report.rejected
        assert store.counts()["Person"] == 0
    finally:
        store.close()


def test_id_hashes_separate_distinct_ids() -> None:
    from ingest.native_arrow import _id_hashes

    ids = [f"holds:g{i:08d}" for i in range(50_000)] + ["a", "b", "ab", "ba", "x" * 200,
                                                       "x" * 199, "part_of:é-ü", ""]
    h = _id_hashes(pa.array(ids))
    assert len(set(h.tolist())) == len(ids)
    again = _id_hashes(pa.chunked_array([pa.array(ids[:7]), pa.array(ids[7:])]))
    assert (again == h).all()
    assert (_id_hashes(pa.array(ids).slice(3, 10)) == h[3:13]).all()


def test_reading_a_file_in_parts_gives_the_whole_file(tmp_path: Path) -> None:
    from ingest.native_arrow import read_csv_table

    plain = tmp_path / "Person.csv"
    plain.write_bytes(b"\xef\xbb\xbfid,name\r\nperson:a,A\r\n\r\nperson:b,B b\r\n"
                      + "person:c,\u0627\u0698\u0647\n".encode() + b"person:d,D")
    quoted = tmp_path / "Organization.csv"
    quoted.write_text('id,name\norg:a,"One, ""two"""\norg:b,"multi\nline"\norg:c,C\n',
                      encoding="utf-8")
    for path in (plain, quoted, *sorted(FIXTURE.glob("*.csv"))):
        whole = read_csv_table(path)
        for parts in (2, 3, 5, 40):
            got = pa.concat_tables([read_csv_table(path, i, parts) for i in range(parts)])
            assert got.equals(whole), (path.name, parts)
    assert read_csv_table(plain).num_rows == 4


# -- the vectorised names code ---------------------------------------------------------

def _expected(name: str | None, aliases: list[str], conf: str,
              sources: list[str]) -> tuple[str, list[str]]:
    props: dict[str, Any] = {"name": name, "aliases": aliases, "confidence": conf,
                             "source_ids": sources}
    finish_names(props)
    return props["names"], props["name_keys"]


def _check_rows(rows: list[tuple[str | None, list[str], str, list[str]]]) -> None:
    names, keys = _names_columns(
        pa.array([r[0] for r in rows], type=pa.string()),
        pa.array([r[1] for r in rows], type=pa.list_(pa.string())),
        pa.array([r[2] for r in rows], type=pa.string()),
        pa.array([r[3] for r in rows], type=pa.list_(pa.string())))
    for row, got_names, got_keys in zip(rows, names.to_pylist(), keys.to_pylist()):
        want_names, want_keys = _expected(*row)
        assert got_names == want_names, row
        assert json.loads(got_names) == json.loads(want_names)
        assert got_keys == want_keys, row


def test_names_columns_edge_cases() -> None:
    _check_rows([
        ("Ali Rezá", ["اژه\u200cای", "Eje'i", "Ali Rezá"], "high", ["source:a", "source:b"]),
        (None, [], "medium", []),
        ("", ["x"], "low", ["source:a"]),
        ('Quote "One" \\ back', ["tab\there", "new\nline", "\x01ctl"], "high", ['source:"q"']),
        ("Same", ["Same", "same", "SAME"], "low", []),
        ("Gholam-Hossein  Mohseni", ["Gholamhossein Mohseni-Ejei", "محسنی اژه‌ای"], "high",
         ["source:s1"]),
        ("ـکيك ة", ["\u0623\u064e\u062d\u0645\u062f", "۱۲۳ abc ١٢"], "medium", ["source:x"]),
    ])


_TEXT = st.text(alphabet=st.sampled_from(
    list("abcdekhszAB '-\"\\\t.") + ["\u00e1", "\u00df", "\u200c", "\u0640"]
    + [chr(c) for c in _PERSIAN_LATIN] + list(_ICU_PLAIN)
    + ["\u0629", "\u064a", "\u0643", "\u064e", "\u06f1", "\u4e2d"]), max_size=14)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.none() | _TEXT, st.lists(_TEXT, max_size=3),
                          st.sampled_from(["high", "medium", "low"]),
                          st.lists(_TEXT, max_size=2)), min_size=1, max_size=6))
def test_names_columns_match_finish_names(rows: list[tuple[str | None, list[str], str,
                                                           list[str]]]) -> None:
    # aliases as the reader makes them: stripped, no blanks
    rows = [(n, [a.strip() for a in al if a.strip()], c, s) for n, al, c, s in rows]
    _check_rows(rows)


def test_vectorised_skeletons_are_exact() -> None:
    """Every string of up to three letters over the letters ``_PERSIAN_LATIN`` maps and the
    plain ones left to ICU, random longer ones mixed with other characters, and random
    ASCII words dense in digraphs, vowels and runs: the vectorised skeleton equals
    ``graph.names.skeleton``."""
    alphabet = [chr(c) for c in _PERSIAN_LATIN] + list(_ICU_PLAIN)
    grams = ["".join(p) for k in (1, 2, 3) for p in itertools.product(alphabet, repeat=k)]
    rnd = random.Random(7)
    extra = alphabet + ["a", "k", "h", "\u0629", "\u06f1", "\u064e", "x", "\u00e9"]
    grams += ["".join(rnd.choice(extra) for _ in range(rnd.randint(1, 12))) for _ in range(5000)]
    ascii_letters = "aeiouyhwvkgzdjscpbtxqS-'0 "
    grams += ["".join(rnd.choice(ascii_letters) for _ in range(rnd.randint(0, 12)))
              for _ in range(20000)]
    grams += ["kh", "Shch", "abba", "xx", "", "zz", "schch", "ckck", "kkhh", "ouou"]
    got = _skeletons(pa.array(grams, type=pa.string())).to_pylist()
    want = [skeleton(g) for g in grams]
    bad = [(g, a, b) for g, a, b in zip(grams, got, want) if a != b]
    assert not bad, bad[:5]
