"""The ingest's fast paths must give exactly what the plain ones give: name keys cached per
word, ids with cached slugs, YAML values built directly from the C parser's nodes, and the
loader's column comparison. Checked on every provided name and on memorial records."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import yaml

from graph.ids import make_id
from graph.names import name_keys, skeleton, tokens
from graph.schema import node_columns
from ingest import memorial
from ingest.bundle import comparable
from ingest.loader import _compared_columns, same_props
from ingest.sanctions_common import fast_make_id, fast_name_keys, fast_skeleton, fast_tokens

SAMPLES = ["MOHSENI-EJEI, Qolam-Hossein", "غلامحسین محسنی اژه‌ای", "Eje'i  Gholam`Hossein",
           "AL-ZAWAHIRI, Dr. Ayman", "Ünïcödé Näme_2 (a.k.a. X)", "ck cck ouu Shah kkh", "",
           "  spaced   out  ", "محمد\u200cعلی", "Zzyzx Judge-Alpha; زیزیکس قاضی", "x2y __ a_b1"]


def _names(shared_data: Path) -> set[str]:
    from ingest.ofac import read_ofac
    from ingest.sema_xml import read_sema
    from ingest.un_xml import read_un

    out = set(SAMPLES)
    for b in (read_ofac(shared_data / "ofac_legacy_set_2021-07"),
              read_un(shared_data / "un" / "UN_consolidated_2026-02-27.xml"),
              read_sema(shared_data / "canada" / "sema-lmes_2020-04-15.xml")):
        for n in b.nodes.values():
            out.update(e["name"] for e in json.loads(n.props.get("names") or "[]"))
    return out


def test_fast_name_keys_equal_name_keys_on_samples() -> None:
    for name in SAMPLES:
        assert fast_tokens(name) == tokens(name), name
        assert fast_name_keys([name]) == name_keys([name]), name
    assert fast_name_keys(SAMPLES) == name_keys(SAMPLES)


def test_fast_name_keys_equal_name_keys_on_every_provided_name(shared_data: Path) -> None:
    names = _names(shared_data)
    assert len(names) > 40_000
    for name in names:
        assert fast_name_keys([name]) == name_keys([name]), name
        toks = tokens(name)
        for gram in toks + [a + b for a, b in itertools.pairwise(toks)]:
            assert fast_skeleton(gram) == skeleton(gram), gram


def test_fast_make_id_equals_make_id() -> None:
    cases: list[tuple[Any, ...]] = [
        ("Sanction", "ofac", str(n), p) for n in (1, 12252, 0)
        for p in ("IRAN-HR", "SDGT", "Ünicode prog", "a'b", "", "A_B")]
    cases += [("Person", "un", "IRi.001"), ("Sanction", "ca-sema", "iran", "2", "26"),
              ("Sanction", "x" * 300, "1"), ("Sanction", "", None)]
    for case in cases:
        assert fast_make_id(*case) == make_id(*case), case


class _PlainLoader(yaml.CSafeLoader):
    """PyYAML's own construction, with the reader's one change (dates left as text)."""


_PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()}


def _plain(text: str) -> Any:
    try:
        return ("ok", yaml.load(text, Loader=_PlainLoader))  # a safe (C) loader
    except yaml.YAMLError as exc:
        return ("error", str(exc))


def _fast(text: str) -> Any:
    try:
        return ("ok", memorial._load(text))
    except yaml.YAMLError as exc:
        return ("error", str(exc))


def test_yaml_fast_construction_equals_pyyaml_on_edge_cases() -> None:
    docs = ["a: 1\nb: [x, 2, 3.5, null, true, no, ~, '']\nc: {d: 2000-02-30}\n",
            "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n", "- 0x1F\n- 1_000\n- 0o17\n- .inf\n",
            "? [a, b]\n: c\n", "a: !!binary aGVsbG8=\n", "a: !!python/object:os.system x\n",
            "key: 'unclosed\n", "= : v\n", "", "# only a comment\n", "plain text\n",
            "a: b\na: c\n", "x: 1:20\n"]
    for doc in docs:
        assert _fast(doc) == _plain(doc), doc


def test_yaml_fast_construction_refuses_aliases() -> None:
    try:
        memorial.parse_yaml(b"a: &x [1, 2]\nb: *x\n")
    except memorial.RecordError as exc:
        assert "aliases" in exc.reason
    else:
        raise AssertionError("an alias was accepted")


def test_yaml_fast_construction_equals_pyyaml_on_the_archive(shared_data: Path) -> None:
    archive = shared_data / "iran_memorial" / "iran-memorial_data_712eca0.tar.gz"
    checked = malformed = 0
    for m in memorial._iter_tar(archive, []):
        if m.data is None or memorial._classify(m.name) not in ("record", "timeline"):
            continue
        text = m.data.decode("utf-8-sig")
        plain = _plain(text)
        malformed += plain[0] == "error"
        if checked >= 3000 and plain[0] == "ok":
            continue  # every malformed file, and the first 3,000 records
        assert _fast(text) == plain, m.name
        checked += 1
    assert malformed == 13


def test_same_props_agrees_with_comparable() -> None:
    cols = node_columns("Person")
    compared = _compared_columns(cols)
    base = {c: None for c, _ in cols}
    base.update({"id": "person:x", "name": "X", "aliases": ["a"], "source_ids": ["source:s"]})
    variants = [dict(base), {**base, "aliases": ("a",)}, {**base, "aliases": []},
                {**base, "name": "Y"}, {k: v for k, v in base.items() if k != "notes"},
                {**base, "notes": ""}, {k: v for k, v in base.items() if k != "aliases"}]
    for a in variants:
        for b in variants:
            assert same_props(a, b, compared) == (comparable(a, cols) == comparable(b, cols))
