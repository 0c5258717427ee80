"""Hostile input to every reader (issue #7, reliability 1).

Property-based (hypothesis): random bytes, text in the wrong encoding, byte-order marks,
truncated and corrupted copies of a valid file. Hand-written adversarial files: huge
fields, formula injection in CSV cells, deeply nested JSON, XML entity expansion and
external entities, YAML tags and alias bombs.

Every case must end in a report, never an exception; within a bounded time; every
problem naming a file and a reason; nothing written when the reader is atomic and
rejected something, or when nothing valid was found; and the database unchanged whenever
nothing was written. Readers not present in this build are skipped by name.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.embedded import EmbeddedStore
from ingest.formats import UnknownFormat, get_reader, ingest_path
from ingest.loader import LoadReport

MAX_SECONDS = 30.0  # a hang check, not a speed test: valid files this size load in < 1 s

SOURCE_CSV = "id,title,kind\nsource:zzyzx-test,Zzyzx synthetic test source,synthetic\n"
VALID = {
    "native": (
        "id,name,aliases,source_ids,restricted\n"
        "person:zzyzx-alpha,Zzyzx Judge-Alpha,زیزیکس آلفا,source:zzyzx-test,false\n"
        "person:zzyzx-beta,Zzyzx Beta,,source:zzyzx-test,true\n"
    ).encode(),
    "ofac-csv": (
        '36,"ZZYZX, Testperson","individual","[IRAN-HR]","Judge",-0- ,-0- ,-0- ,-0- ,-0- ,'
        '-0- ,"DOB 01 Jan 1960; POB Testland."\r\n'
        '37,"TESTLAND COURT ONE","-0- ","[IRAN-HR]",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
        "\x1a"
    ).encode("cp1252"),
    "un-xml": (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<CONSOLIDATED_LIST dateGenerated="2026-01-01">'
        b"<INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>ZZYZX</FIRST_NAME>"
        b"<SECOND_NAME>TESTPERSON</SECOND_NAME><UN_LIST_TYPE>Iran</UN_LIST_TYPE>"
        b"<REFERENCE_NUMBER>IRi.999</REFERENCE_NUMBER><LISTED_ON>2010-01-01</LISTED_ON>"
        b"</INDIVIDUAL></INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>\n"
    ),
    "sema-xml": (
        b'<?xml version="1.0" encoding="utf-8"?>\n<data-set><record><Country>Iran</Country>'
        b"<LastName>Zzyzx</LastName><GivenName>Testperson</GivenName><DateOfListing>2012-01-01"
        b"</DateOfListing><Schedule>1, Part 1</Schedule><Item>999</Item></record></data-set>\n"
    ),
    "iran-memorial": (
        "id: zzyzx-testperson\nname_latin: Zzyzx Testperson\nname_farsi: زیزیکس\n"
        "date_of_death: 1988-07-30\nplace_of_death: Testland\ncause_of_death: execution\n"
        "sources:\n  - name: Synthetic test source\n"
    ).encode(),
    "ftm": (
        b'{"id": "zzyzx-1", "schema": "Person", "properties": {"name": ["Zzyzx Testperson"]}}\n'
    ),
}
FILE_NAMES = {"native": "Person.csv", "ofac-csv": "sdn.csv", "un-xml": "list.xml",
              "sema-xml": "sema.xml", "iran-memorial": "zzyzx-testperson.yaml",
              "ftm": "entities.ftm.json"}
FORMATS = tuple(VALID)


def available(fmt: str) -> bool:
    try:
        get_reader(fmt)
    except UnknownFormat:
        return False
    return True


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    s = EmbeddedStore(tmp_path_factory.mktemp("hostile") / "graph.lbdb")
    yield s
    s.close()


def place(tmp: Path, fmt: str, data: bytes, name: str | None = None) -> Path:
    """Write ``data`` where the reader of ``fmt`` looks; return the path to ingest."""
    tmp.mkdir(parents=True, exist_ok=True)
    for old in tmp.iterdir():
        old.unlink()
    target = tmp / (name or FILE_NAMES[fmt])
    target.write_bytes(data)
    if fmt == "native":
        (tmp / "Source.csv").write_text(SOURCE_CSV, encoding="utf-8")
        return tmp
    return target


def check(store: EmbeddedStore, fmt: str, path: Path) -> LoadReport:
    """The contract every hostile input must meet (see the module docstring)."""
    reader = get_reader(fmt)
    before = store.counts()
    started = time.monotonic()
    report = ingest_path(store, fmt, path)  # must not raise
    elapsed = time.monotonic() - started
    assert elapsed < MAX_SECONDS, f"{fmt} took {elapsed:.1f}s on a small hostile file"
    for p in report.rejected:
        assert p.file and p.reason, f"a problem without file or reason: {p!r}"
    if report.rejected and reader.atomic:
        assert not report.written, "an atomic reader wrote part of a rejected input"
    if not report.written:
        assert store.counts() == before, "the database changed although nothing was written"
        assert report.rejected or report.notes or report.records == 0 or \
            report.total("unchanged") == report.records, \
            "nothing loaded and no reason given"
    return report


def _need(fmt: str) -> None:
    if not available(fmt):
        pytest.skip(f"the '{fmt}' reader is not in this build yet")


HOSTILE = settings(max_examples=25, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow])


@pytest.mark.parametrize("fmt", FORMATS)
@HOSTILE
@given(data=st.binary(max_size=3000))
def test_random_bytes(store: EmbeddedStore, tmp_path: Path, fmt: str, data: bytes) -> None:
    _need(fmt)
    check(store, fmt, place(tmp_path / "in", fmt, data))


ENCODINGS = ("utf-16", "utf-16-be", "utf-32", "cp1252", "latin-1", "shift_jis", "utf-8-sig",
             "cp1256")


@pytest.mark.parametrize("fmt", FORMATS)
@HOSTILE
@given(encoding=st.sampled_from(ENCODINGS), bom=st.sampled_from((b"", b"\xef\xbb\xbf",
                                                                 b"\xff\xfe", b"\xfe\xff")))
def test_wrong_encodings_and_boms(store: EmbeddedStore, tmp_path: Path, fmt: str,
                                  encoding: str, bom: bytes) -> None:
    _need(fmt)
    text = VALID[fmt].decode("cp1252" if fmt == "ofac-csv" else "utf-8")
    data = bom + text.encode(encoding, errors="replace")
    check(store, fmt, place(tmp_path / "in", fmt, data))


@pytest.mark.parametrize("fmt", FORMATS)
@HOSTILE
@given(cut=st.floats(min_value=0.0, max_value=1.0))
def test_truncated(store: EmbeddedStore, tmp_path: Path, fmt: str, cut: float) -> None:
    _need(fmt)
    data = VALID[fmt]
    check(store, fmt, place(tmp_path / "in", fmt, data[: int(len(data) * cut)]))


@pytest.mark.parametrize("fmt", FORMATS)
@HOSTILE
@given(flips=st.lists(st.tuples(st.floats(0, 0.999), st.integers(0, 255)), min_size=1,
                      max_size=8))
def test_corrupted(store: EmbeddedStore, tmp_path: Path, fmt: str,
                   flips: list[tuple[float, int]]) -> None:
    _need(fmt)
    data = bytearray(VALID[fmt])
    for where, byte in flips:
        data[int(where * len(data))] = byte
    check(store, fmt, place(tmp_path / "in", fmt, bytes(data)))


@pytest.mark.parametrize("fmt", FORMATS)
def test_valid_sample_loads(store: EmbeddedStore, tmp_path: Path, fmt: str) -> None:
    """The samples the properties corrupt are themselves accepted (or the reader's rules
    changed and the sample must follow): otherwise the properties test nothing."""
    _need(fmt)
    report = check(store, fmt, place(tmp_path / "in", fmt, VALID[fmt]))
    if report.rejected and not report.written:
        pytest.xfail(f"sample not accepted by {fmt}: {[str(p) for p in report.rejected][:3]}")


# -- hand-written adversarial files ---------------------------------------------------------

KNOWN_SLOW_ON_HUGE: dict[str, str] = {}  # every reader now caps field length


@pytest.mark.parametrize("fmt", [pytest.param(f, marks=pytest.mark.xfail(
    reason=KNOWN_SLOW_ON_HUGE[f], strict=False)) if f in KNOWN_SLOW_ON_HUGE else f
    for f in FORMATS])
def test_huge_fields(store: EmbeddedStore, tmp_path: Path, fmt: str) -> None:
    _need(fmt)
    if True:
        big = "Z" * 5_000_000
        if fmt == "native":
            data = f"id,name,source_ids\nperson:zzyzx-big,{big},source:zzyzx-test\n".encode()
        elif fmt == "ofac-csv":
            data = (f'99,"ZZYZX, Big","individual","[IRAN-HR]",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
                    f'-0- ,"{big}"\r\n').encode()
        elif fmt in ("un-xml", "sema-xml"):
            data = VALID[fmt].replace(b"ZZYZX", big.encode()).replace(b"Zzyzx", big.encode())
        elif fmt == "iran-memorial":
            data = VALID[fmt].replace(b"Zzyzx Testperson", big.encode())
        else:
            data = VALID[fmt].replace(b"Zzyzx Testperson", big.encode())
        report = check(store, fmt, place(tmp_path / fmt, fmt, data))
        if fmt == "native":
            assert report.rejected and any("longer than" in p.reason or "larger than" in p.reason
                                           for p in report.rejected)


def test_formula_injection_is_text(tmp_path: Path) -> None:
    """Cells starting with = + - @ load as text, verbatim, never evaluated."""
    s = EmbeddedStore(tmp_path / "g.lbdb")
    try:
        cells = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)",
                 "=cmd|' /C calc'!A0"]
        rows = "".join(f'person:zzyzx-f{i},"{c.replace(chr(34), chr(34) * 2)}",'
                       "source:zzyzx-test\n" for i, c in enumerate(cells))
        folder = place(tmp_path / "in", "native", ("id,name,source_ids\n" + rows).encode())
        report = check(s, "native", folder)
        assert report.written and not report.rejected
        got = s.get_nodes([f"person:zzyzx-f{i}" for i in range(len(cells))])
        assert [got[f"person:zzyzx-f{i}"].props["name"] for i in range(len(cells))] == cells
    finally:
        s.close()


def test_deeply_nested_json(store: EmbeddedStore, tmp_path: Path) -> None:
    deep = "[" * 200_000 + "]" * 200_000
    line = '{"id": "person:zzyzx-deep", "name": "Zzyzx Deep", "aliases": ' + deep + "}\n"
    report = check(store, "native", place(tmp_path / "n", "native", line.encode(),
                                          "Person.jsonl"))
    assert report.rejected and not report.written
    if available("ftm"):
        data = ('{"id": "x", "schema": "Person", "properties": {"name": ' + deep + "}}\n").encode()
        report = check(store, "ftm", place(tmp_path / "f", "ftm", data))
        assert report.rejected and not report.written


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n'
              for i in range(1, 10))
    + "]>\n<ROOT>&lol9;</ROOT>\n"
)


def _xxe(secret: Path, root: str) -> str:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
            f"<{root}>&xxe;</{root}>\n")


@pytest.mark.parametrize("fmt,root", [("un-xml", "CONSOLIDATED_LIST"), ("sema-xml", "data-set")])
def test_xml_entity_bombs_and_external_entities(store: EmbeddedStore, tmp_path: Path,
                                                fmt: str, root: str) -> None:
    _need(fmt)
    bomb = BILLION_LAUGHS.replace("ROOT", root).encode()
    report = check(store, fmt, place(tmp_path / "b", fmt, bomb))
    assert report.rejected and not report.written
    secret = tmp_path / "secret.txt"
    secret.write_text("ZZYZX-SECRET-CONTENT", encoding="utf-8")
    report = check(store, fmt, place(tmp_path / "x", fmt, _xxe(secret, root).encode()))
    assert report.rejected and not report.written
    dump = str(store.execute("MATCH (n) RETURN n.name AS n, n.notes AS notes"))
    assert "ZZYZX-SECRET-CONTENT" not in dump


def test_yaml_tags_and_alias_bombs(store: EmbeddedStore, tmp_path: Path) -> None:
    _need("iran-memorial")
    marker = tmp_path / "pwned"
    tags = (f'id: zzyzx\nname_latin: !!python/object/apply:os.system ["touch {marker}"]\n'
            "date_of_death: 1988\n").encode()
    report = check(store, "iran-memorial", place(tmp_path / "t", "iran-memorial", tags))
    assert report.rejected and not marker.exists()
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi")) + "name_latin: *i\n"
    report = check(store, "iran-memorial", place(tmp_path / "y", "iran-memorial",
                                                 bomb.encode()))
    assert report.rejected and not report.written


def test_native_rejects_foreign_files(store: EmbeddedStore, tmp_path: Path) -> None:
    """A YAML file (or a misspelt name) in a native folder is an error, not skipped."""
    report = check(store, "native", place(tmp_path / "n", "native",
                                          b"!!python/object:os.system {}\n", "Person.yaml"))
    assert report.rejected and not report.written
