"""Whole-table reads in pieces and through a build reader (``queries.chunked``): the caches
built that way must be the caches built from one read of the store itself, answer for
answer, since the serving workers build them so and the tests' small graphs otherwise
never would (they are read whole, through the store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import queries.chunked as C
from graph.embedded import EmbeddedStore
from queries import structure as ST
from queries.cypher import (
    STRUCTURE_TYPES,
    gaps_rel_query,
    keys_query,
    proj_nodes_query,
    proj_rels_query,
    structure_query,
)
from queries.search import NameIndex
from queries.service import ROLE_WEIGHT, GraphQueries
from tests.queries.gaps_helpers import forbid_gaps_build, gaps_views_on_disk

CHAIN_SUBJECTS = ("org:tehran-revolutionary-court", "person:mohseni-ejei-gholamhossein",
                  "org:judiciary-of-iran")
SEARCHES = ("Mohseni Ejei", "Tehran court", "محسنی", "judge", "Salavati", "prison")


def _rows(t: pa.Table) -> list[tuple[Any, ...]]:
    return sorted(tuple(map(repr, r.values())) for r in t.to_pylist())


@pytest.mark.parametrize("name", [keys_query("Person"), keys_query("Organization"),
                                  proj_nodes_query("Incident"), structure_query("HOLDS"),
                                  structure_query("PERPETRATED_BY"), proj_rels_query("PART_OF"),
                                  gaps_rel_query("POSITION_IN")])
def test_pieces_hold_the_rows_of_one_read(seed_store: EmbeddedStore, name: str) -> None:
    whole = seed_store.run_arrow(name)
    pieces = list(C.read_pieces(seed_store, name, rows=3))
    assert sum(p.num_rows for p in pieces) == whole.num_rows
    if whole.num_rows > 3:
        assert len(pieces) > 1
    assert _rows(pa.concat_tables(pieces)) == _rows(whole)
    assert all(p.schema == whole.schema for p in pieces)


def test_a_small_table_or_another_store_is_read_whole(seed_store: EmbeddedStore) -> None:
    assert len(list(C.read_pieces(seed_store, keys_query("Person"), rows=10**9))) == 1

    class ArrowOnly:  # a store without the engine's offsets (Neo4j, the tests' stubs)
        def run_arrow(self, name: str, params: Any = None) -> pa.Table:
            return pa.table({"id": ["a", "b"]})

    got = list(C.read_pieces(ArrowOnly(), keys_query("Person"), rows=1))  # type: ignore[arg-type]
    assert len(got) == 1 and got[0].num_rows == 2
    assert C._variable("MATCH (n:`Person`) RETURN n.id AS id") == "n"
    assert C._variable("MATCH (a)-[r:HOLDS]->(b) RETURN r.id AS id") == "r"
    assert C._variable("MATCH (a)-[r:HOLDS]->(b) WHERE a.x = 1 RETURN r.id") is None


def test_copied_owns_its_buffers() -> None:
    base = pa.array(["x" * 50] * 1000)
    before = pa.total_allocated_bytes()
    out = C.copied(base.slice(10, 100))
    assert out.equals(base.slice(10, 100)) and pa.total_allocated_bytes() > before
    assert C.copied(pa.chunked_array([base, base])).equals(pa.concat_arrays([base, base]))
    assert len(C.copied(pa.chunked_array([], pa.string()))) == 0


@pytest.fixture
def through_reader(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EmbeddedStore]]:
    """Every build through a build reader (whatever the size), in pieces of 3 rows; yields
    the readers opened."""
    opened: list[EmbeddedStore] = []
    real = EmbeddedStore.__init__

    def spy(self: EmbeddedStore, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(C, "BUILD_READER_MIN", 0)
    monkeypatch.setattr(C, "CHUNK_ROWS", 3)
    monkeypatch.setattr(EmbeddedStore, "__init__", spy)
    yield opened


def test_build_reader_is_a_closed_second_database(seed_store: EmbeddedStore,
                                                  through_reader: list[EmbeddedStore]) -> None:
    with C.build_reader(seed_store) as reader:
        assert reader is not seed_store and through_reader == [reader]
        assert isinstance(reader, EmbeddedStore) and reader.read_only
        assert reader.buffer_pool == C.build_pool()
        assert reader.execute("MATCH (n:`Person`) RETURN count(*) AS c") == \
            seed_store.execute("MATCH (n:`Person`) RETURN count(*) AS c")
    assert not reader._pool  # closed: its connections and its database


def test_a_writable_or_small_store_builds_from_itself(tmp_path: Path,
                                                      seed_store: EmbeddedStore) -> None:
    with C.build_reader(seed_store) as reader:  # the seed graph is under the threshold
        assert reader is seed_store
    with EmbeddedStore(tmp_path / "rw.lbdb") as rw, C.build_reader(rw) as reader:
        assert reader is rw


def _structure_view(st: ST.Structure) -> dict[str, Any]:
    """A structure as the questions see it, whatever the order its rows were read in."""
    out: dict[str, Any] = {}
    for nid in st.ids:
        out[nid] = (st.node(nid), sorted(
            (d, repr(sorted(st.claim(c).items())), other)
            for d in ("out", "in") for c, other in st.neighbours(d, nid)))
    return out


def test_structure_through_pieces_and_a_reader_is_the_same(
        seed_store: EmbeddedStore, through_reader: list[EmbeddedStore]) -> None:
    built = ST.Structure(seed_store)
    # read through a reader per table (each with the one-table pool), in pieces
    assert len(through_reader) == len(STRUCTURE_TYPES)
    assert {r.buffer_pool for r in through_reader} == {C.table_pool()}
    C.BUILD_READER_MIN = 1 << 62  # (monkeypatched back after the test)
    C.CHUNK_ROWS = 10**9
    whole = ST.Structure(seed_store)
    assert len(through_reader) == len(STRUCTURE_TYPES)
    assert built.generation == whole.generation == seed_store.generation
    assert sorted(built.ids) == sorted(whole.ids)
    assert _structure_view(built) == _structure_view(whole)
    assert built.c_a.dtype == built.slot["out"].dtype == built.c_from_lo.dtype
    for nid in list(whole.ids)[::7]:
        for types in ({"HOLDS", "POSITION_IN"}, set(STRUCTURE_TYPES)):
            for d in ("out", "in"):
                for inc in (True, False):
                    def sel(st: ST.Structure, d: str = d, nid: str = nid,
                            types: set[str] = types, inc: bool = inc) -> list[tuple[Any, ...]]:
                        return sorted((n, st.claim(c)["id"], o, v) for n, c, o, v in st.select(
                            d, [nid], types, 20200101, 20200101, inc))
                    assert sel(built) == sel(whole)


def test_answers_through_pieces_and_a_reader_are_the_same(
        seed_store: EmbeddedStore, through_reader: list[EmbeddedStore]) -> None:
    def answers() -> list[Any]:
        ST.STRUCTURES.pop(seed_store, None)
        from queries import service

        service._INDEXES.pop(seed_store, None)
        out: list[Any] = []
        for inc in (True, False):
            q = GraphQueries(seed_store, include_restricted=inc)
            out += [q.chain(ref, at).model_dump() for ref in CHAIN_SUBJECTS
                    for at in ("2026-01", "2020", "2010-06-01")]
            out += [q.search(text, limit=10).model_dump() for text in SEARCHES]
        return out

    pieced = answers()
    assert through_reader  # both caches went through readers
    C.BUILD_READER_MIN = 1 << 62
    C.CHUNK_ROWS = 10**9
    assert answers() == pieced
    ST.STRUCTURES.pop(seed_store, None)


def test_name_index_in_pieces_is_the_same(seed_store: EmbeddedStore,
                                          through_reader: list[EmbeddedStore]) -> None:
    pieced = NameIndex()
    pieced.ensure(seed_store)
    C.BUILD_READER_MIN = 1 << 62
    C.CHUNK_ROWS = 10**9
    whole = NameIndex()
    whole.ensure(seed_store)
    assert pieced.size == whole.size and len(pieced._state.chunks) > len(whole._state.chunks)
    for text in SEARCHES:
        for kinds in (None, {"Person"}, {"Organization", "Case"}):
            for inc in (True, False):
                assert pieced.candidates(text, kinds=kinds, include_restricted=inc) == \
                    whole.candidates(text, kinds=kinds, include_restricted=inc)
    for nid in [n.id for n in whole.candidates("a", kinds=None, include_restricted=True)]:
        assert pieced.lookup(nid) == whole.lookup(nid)


def test_the_gap_scan_walks_after_its_reader_is_closed(
        seed_store: EmbeddedStore, through_reader: list[EmbeddedStore],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan reads its tables through a reader and walks every act after closing it: the
    pages the reads touched stayed in the reader's pool through the whole walk (the
    benchmark's peak at scale 1), and the answer is the one read through the store."""
    from queries import gaps as G

    real_run = G._Walk.run
    open_at_walk: list[list[bool]] = []

    def run(self: G._Walk, weights: dict[str, float], tick: Any) -> Any:
        open_at_walk.append([bool(r._pool) for r in through_reader])
        return real_run(self, weights, tick)

    monkeypatch.setattr(G._Walk, "run", run)
    answers: list[Any] = []
    for whole in (False, True):
        if whole:
            C.BUILD_READER_MIN = 1 << 62  # (monkeypatched back after the test)
        G._CACHE.pop(seed_store, None)
        answers.append([GraphQueries(seed_store, include_restricted=inc).gaps(
            auth, limit=1000).model_dump() for inc in (True, False) for auth in ("EU", "OFAC")])
    G._CACHE.pop(seed_store, None)
    assert len(open_at_walk) == 4 and through_reader
    assert not any(flag for flags in open_at_walk for flag in flags)
    assert answers[0] == answers[1] and answers[0][0]["gaps"]


# -- caches shared between processes (queries.chunked.shared) -----------------------------

@pytest.fixture
def sharing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Caches of any read-only database shared, under a directory of the test's own."""
    monkeypatch.setattr(C, "SHARED_MIN", 0)
    monkeypatch.setenv(C.SHARED_ENV, str(tmp_path / "shared"))
    return tmp_path / "shared"


def _fresh_answers(store: EmbeddedStore) -> list[Any]:
    """Chains and searches answered from caches built (or mapped) anew."""
    from queries import service

    ST.STRUCTURES.pop(store, None)
    service._INDEXES.pop(store, None)
    out: list[Any] = []
    for inc in (True, False):
        q = GraphQueries(store, include_restricted=inc)
        out += [q.chain(ref, at).model_dump() for ref in CHAIN_SUBJECTS
                for at in ("2026-01", "2020", "2010-06-01")]
        out += [q.search(text, limit=10).model_dump() for text in SEARCHES]
    ST.STRUCTURES.pop(store, None)
    service._INDEXES.pop(store, None)
    return out


def test_shared_caches_are_written_once_then_mapped(
        seed_store: EmbeddedStore, sharing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from queries.search import NameIndex as NI

    monkeypatch.setenv(C.SHARED_ENV, "0")
    in_process = _fresh_answers(seed_store)
    monkeypatch.setenv(C.SHARED_ENV, str(sharing))
    folder = C.shared_dir(seed_store)
    assert folder is not None and folder.parent.parent == sharing
    built = _fresh_answers(seed_store)  # builds, writes and maps the files
    assert sorted(p.name for p in folder.iterdir()) == ["names", "structure"]
    assert built == in_process

    def no_build(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("built again instead of mapped")

    monkeypatch.setattr(NI, "_read", classmethod(no_build))
    monkeypatch.setattr(ST, "_read", no_build)
    assert _fresh_answers(seed_store) == in_process  # mapped from the files
    st = ST.Structure(seed_store)
    assert isinstance(st.c_a, np.ndarray) and not st.c_a.flags.writeable  # the mapping
    index = NI()
    index.ensure(seed_store)
    assert index.size > 0 and not index._state.post.flags.writeable


def test_shared_caches_follow_the_file_and_the_store_kind(
        seed_db: Path, sharing: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy.lbdb"
    shutil.copy(seed_db, copy)
    with EmbeddedStore(copy, read_only=True) as store:
        first = C.shared_dir(store)
        assert first is not None
        ST.Structure(store)
        assert (first / "structure" / "meta.json").is_file()
    rw = EmbeddedStore(copy)  # a writable store's caches are its own
    try:
        assert C.shared_dir(rw) is None
        rw.execute("CREATE (n:`Location` {id: 'location:test-shared-cache'})")
    finally:
        rw.close()
    with EmbeddedStore(copy, read_only=True) as store:
        second = C.shared_dir(store)
        assert second is not None and second != first  # the file changed: a new key
        ST.Structure(store)
        assert not first.exists() and (second / "structure").is_dir()  # the old one went


def test_the_gap_scan_is_shared_too(seed_store: EmbeddedStore, sharing: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker built and kept its own gaps scan (at scale 1 about 95 s and 400 MiB a
    worker): it is written once per view and mapped by every other process, with the
    answers of a scan built in process."""
    from queries import gaps as G

    def answers() -> list[Any]:
        G._CACHE.pop(seed_store, None)
        return [GraphQueries(seed_store, include_restricted=inc).gaps(auth, limit=1000)
                .model_dump() for inc in (True, False) for auth in ("EU", "OFAC", "UN")]

    monkeypatch.setenv(C.SHARED_ENV, "0")
    in_process = answers()
    monkeypatch.setenv(C.SHARED_ENV, str(sharing))
    assert answers() == in_process  # built, written, mapped
    folder = C.shared_dir(seed_store)
    assert folder is not None
    assert gaps_views_on_disk(folder) == ["gaps-all", "gaps-public"]
    forbid_gaps_build(monkeypatch)
    assert answers() == in_process  # mapped from the files
    scan = G.gap_scan(seed_store, True, GraphQueries(seed_store)._clusters, ROLE_WEIGHT)
    assert not scan._act.flags.writeable  # the mapping
    G._CACHE.pop(seed_store, None)


def test_a_damaged_shared_cache_is_rebuilt(seed_store: EmbeddedStore, sharing: Path) -> None:
    ST.Structure(seed_store)
    folder = C.shared_dir(seed_store)
    assert folder is not None
    (folder / "structure" / "meta.json").unlink()
    again = ST.Structure(seed_store)
    assert (folder / "structure" / "meta.json").is_file() and len(again.ids) > 0


def _build_in_child(path: str, log: str, out: str) -> None:
    """One process's ``shared`` call (forked: the monkeypatched threshold holds)."""
    import json
    import time

    import numpy as np

    class Fake:  # a read-only embedded store, as far as ``shared_dir`` asks
        dialect = "ladybug"
        read_only = True
        generation = 0

        def __init__(self) -> None:
            self.path = Path(path)

    def build() -> tuple[C.Arrays, dict[str, Any]]:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write("built\n")
        time.sleep(0.5)  # long enough for the other process to come and wait
        return {"n": np.arange(5, dtype=np.int32), "s": pa.array(["a", "b"])}, {"k": 1}

    arrays, meta = C.shared(Fake(), "test", build, lambda v: v, lambda a, m: (a, m))  # type: ignore[arg-type]
    Path(out).write_text(json.dumps([arrays["n"].tolist(), arrays["s"].to_pylist(), meta]))


def test_two_processes_build_once(tmp_path: Path, sharing: Path) -> None:
    import json
    import multiprocessing

    db = tmp_path / "fake.lbdb"
    db.write_bytes(b"x" * 100)
    log = tmp_path / "builds.log"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_build_in_child, args=(str(db), str(log), str(tmp_path / f"{i}")))
             for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert log.read_text().splitlines() == ["built"]  # one built, the other mapped
    got = [json.loads((tmp_path / f"{i}").read_text()) for i in range(2)]
    assert got[0] == got[1] == [[0, 1, 2, 3, 4], ["a", "b"], {"k": 1}]


def test_the_projection_is_shared_too(seed_store: EmbeddedStore, sharing: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from queries import projection as P

    def answers() -> list[Any]:
        P._CACHE.pop(seed_store, None)
        q = GraphQueries(seed_store, include_restricted=False)
        out = [q.paths(a, b).model_dump() for a in CHAIN_SUBJECTS for b in CHAIN_SUBJECTS]
        out.append(q.analytics("degree").model_dump())
        P._CACHE.pop(seed_store, None)
        return out

    monkeypatch.setenv(C.SHARED_ENV, "0")
    in_process = answers()
    monkeypatch.setenv(C.SHARED_ENV, str(sharing))
    assert answers() == in_process  # built and written
    folder = C.shared_dir(seed_store)
    assert folder is not None and (folder / "projection" / "meta.json").is_file()

    def no_build(*_a: Any) -> Any:
        raise AssertionError("built again instead of mapped")

    monkeypatch.setattr(P, "_read", no_build)
    assert answers() == in_process  # mapped


def _mapped_kib(path: Path) -> int:
    """Resident KiB of this process's mappings of ``path`` (``/proc/self/smaps``)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and ":" not in head[0]:
            inside = line.endswith(str(path))
        elif inside and head[0] == "Rss:":
            total += int(head[1])
    return total


@pytest.mark.parametrize("touch", [True, False])
def test_mapped_arrays_are_resident_only_when_touched(tmp_path: Path, touch: bool) -> None:
    """``touch=True`` maps every page at once (the hierarchy: chains must not pay first-touch
    faults); ``touch=False`` leaves the pages to the questions that read them (the name
    index and the paths projection), so only those count as the process's memory."""
    import numpy as np

    size = 16 << 20
    C.save_arrays(tmp_path / "c", {"n": np.arange(size // 8, dtype=np.int64),
                                   "s": pa.array(["x" * 1000] * (size // 1000))}, {})
    arrays, _ = C.load_arrays(tmp_path / "c", touch=touch)
    files = sorted((tmp_path / "c").glob("[0-9]*.*"))
    resident = sum(_mapped_kib(f) for f in files)
    if touch:
        assert resident >= 2 * size // 1024 * 0.95
    else:
        assert resident < 2048  # headers and footers only
    assert int(arrays["n"][-1]) == size // 8 - 1  # and the data reads the same
