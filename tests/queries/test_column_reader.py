"""``queries.column_reader`` reads every value exactly as pyarrow does (lists as tuples),
nulls, sliced arrays, multi-byte text and empty strings included."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from queries.column_reader import reader

TEXT = st.text(alphabet=st.sampled_from([*"ab-:é محسنی\u200c", "𝔸"]), max_size=8)
TYPES: list[tuple[pa.DataType, st.SearchStrategy[Any]]] = [
    (pa.string(), TEXT),
    (pa.large_string(), TEXT),
    (pa.bool_(), st.booleans()),
    (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    (pa.int32(), st.integers(-(2**31), 2**31 - 1)),
    (pa.list_(pa.string()), st.lists(st.none() | TEXT, max_size=4)),
    (pa.list_(pa.int64()), st.lists(st.integers(-5, 5), max_size=3)),
    (pa.float64(), st.floats(allow_nan=False)),  # read through pyarrow
    (pa.null(), st.none()),  # all null, no validity bitmap (a column another store left empty)
]


def _expected(column: pa.Array, i: int) -> Any:
    v = column[i].as_py()
    return tuple(v) if isinstance(v, list) else v


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_reads_what_pyarrow_reads(data: st.DataObject) -> None:
    t, values = data.draw(st.sampled_from(TYPES))
    items = data.draw(st.lists(st.none() | values, min_size=1, max_size=40))
    column = pa.array(items, type=t)
    start = data.draw(st.integers(0, len(items) - 1))
    column = column.slice(start, data.draw(st.integers(1, len(items) - start)))
    read = reader(column)
    assert [read(i) for i in range(len(column))] == [_expected(column, i)
                                                     for i in range(len(column))]


def test_reads_a_chunk_of_a_table_read_from_ipc(tmp_path: Any) -> None:
    """Columns memory-mapped from an Arrow file (as the shared caches are) read the same."""
    table = pa.table({"s": ["x", None, "محسنی اژه‌ای", ""], "l": [["a"], [], None, ["b", "c"]]})
    path = tmp_path / "t.arrow"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    mapped = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    for name in ("s", "l"):
        col = mapped.column(name).chunk(0)
        read = reader(col)
        assert [read(i) for i in range(len(col))] == [_expected(col, i) for i in range(len(col))]
