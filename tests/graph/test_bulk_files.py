"""graph/bulk.py's file path (``write_copy_file`` + ``copy_file``: what a first load copies)
and its Arrow path's guard against the engine's empty-chunk behaviour."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from graph.bulk import (
    arrange,
    copy_file,
    copy_tables_autocommit,
    stored_layout,
    write_copy_file,
)
from graph.embedded import EmbeddedStore
from graph.store import StoreError


def _people(ids: list[str]) -> pa.Table:
    return pa.table({"id": pa.array(ids, type=pa.string()),
                     "name": pa.array([f"Synth {i}" for i in ids], type=pa.string()),
                     "source_ids": pa.array([["source:s1"] for _ in ids],
                                            type=pa.list_(pa.string()))})


def test_layouts_put_relation_ends_first(store: EmbeddedStore) -> None:
    person = stored_layout(store, "Person")
    holds = stored_layout(store, "HOLDS")
    assert person[0] == ("id", "STRING")
    assert holds[:3] == [("from", "STRING"), ("to", "STRING"), ("id", "STRING")]
    assert ("source_ids", "STRING[]") in holds


def test_files_copied_in_one_copy_and_per_file(tmp_path: Path, store: EmbeddedStore) -> None:
    layout = stored_layout(store, "Person")
    parts = [_people([f"person:file-{i}" for i in range(k, k + 30)]) for k in (0, 30, 60)]
    parts.append(_people([]))  # an empty part
    paths = []
    for n, part in enumerate(parts):
        paths.append(tmp_path / f"p{n}.parquet")
        write_copy_file(arrange(part, "Person", layout), paths[-1])
    with store.first_load() as built:
        assert built is not None
        copy_file(built, "Person", paths)  # one COPY from a list of files
        org = tmp_path / "o.parquet"
        write_copy_file(arrange(pa.table({"id": ["org:file-1"], "name": ["Synth Org"],
                                          "kind": ["court"]}),
                                "Organization", stored_layout(built, "Organization")), org)
        copy_file(built, "Organization", org)
        rel = tmp_path / "r.parquet"
        write_copy_file(arrange(pa.table({"from": ["person:file-1"], "to": ["org:file-1"],
                                          "id": ["member_of:file-1"],
                                          "source_ids": [["source:s1"]]}),
                                "MEMBER_OF", stored_layout(built, "MEMBER_OF")), rel)
        copy_file(built, "MEMBER_OF", rel, ("Person", "Organization"))
    counts = store.counts()
    assert counts["Person"] == 90 and counts["Organization"] == 1 and counts["MEMBER_OF"] == 1
    got = store.get_nodes(["person:file-61"])["person:file-61"]
    assert got.props["name"] == "Synth person:file-61"
    assert got.props["source_ids"] == ["source:s1"]


def test_copy_file_refuses_quotes_in_paths(store: EmbeddedStore) -> None:
    with pytest.raises(StoreError, match="quotes"):
        copy_file(store, "Person", "/tmp/it's.parquet")


def test_a_table_with_an_empty_chunk_is_copied_whole(store: EmbeddedStore) -> None:
    """LadybugDB 0.22's Arrow scan stops at an empty chunk: ``COPY`` of a table
    concatenated from parts, one of them empty, silently dropped the rows after it."""
    table = pa.concat_tables([_people(["person:chunk-a"]), _people([]),
                              _people(["person:chunk-b", "person:chunk-c"])])
    assert table.column("id").num_chunks == 3
    with store.first_load() as built:
        assert built is not None
        copy_tables_autocommit(built, {"Person": table}, {})
    assert store.counts()["Person"] == 3
