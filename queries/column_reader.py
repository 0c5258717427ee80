"""One value of an Arrow column as a Python atom, read straight from the column's buffers.

Why: a chain of command reads a few hundred single values (a claim's dates, a node's name)
from the in-process hierarchy's columns, and pyarrow's ``column[i].as_py()`` builds a scalar
object for each (about 0.5 µs). Reading the offsets and bytes through memoryviews takes
half that, and those single reads were a seventh of a chain's time. The buffers are not
copied, so columns memory-mapped from the shared cache files stay shared.

Covered types: string and large_string, bool, int32 and int64, and lists of those (read as
tuples, as ``queries.structure`` keeps them). Any other type is read through pyarrow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

Reader = Callable[[int], Any]


def reader(column: pa.Array) -> Reader:
    """A function from a row number of ``column`` to its value (``None`` for a null)."""
    t = column.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        read = _string(column, wide=pa.types.is_large_string(t))
    elif pa.types.is_boolean(t):
        read = _bits(column.buffers()[1], column.offset)
    elif pa.types.is_int64(t) or pa.types.is_int32(t):
        raw = memoryview(column.buffers()[1])
        ints = raw.cast("q") if pa.types.is_int64(t) else raw.cast("i")
        base = column.offset

        def read(i: int) -> Any:
            return ints[base + i]
    elif pa.types.is_list(t) and _plain(t.value_type):
        read = _list(column)
    else:
        def read(i: int) -> Any:
            v = column[i].as_py()
            return tuple(v) if isinstance(v, list) else v
    validity = column.buffers()[0] if column.null_count else None
    if validity is None:  # no nulls, or a type without a validity bitmap (null: as_py)
        return read
    valid = _bits(validity, column.offset)

    def read_or_none(i: int) -> Any:
        return read(i) if valid(i) else None

    return read_or_none


def _plain(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_boolean(t)
                or pa.types.is_int64(t) or pa.types.is_int32(t))


def _string(column: pa.Array, *, wide: bool) -> Reader:
    bufs = column.buffers()
    offsets = memoryview(bufs[1]).cast("q") if wide else memoryview(bufs[1]).cast("i")
    data = memoryview(bufs[2]) if bufs[2] is not None else memoryview(b"")
    base = column.offset

    def read(i: int) -> str:
        i += base
        return str(data[offsets[i]:offsets[i + 1]], "utf-8")

    return read


def _bits(buffer: pa.Buffer, base: int) -> Callable[[int], bool]:
    bits = memoryview(buffer)

    def read(i: int) -> bool:
        i += base
        return bool(bits[i >> 3] >> (i & 7) & 1)

    return read


def _list(column: pa.Array) -> Reader:
    offsets = memoryview(column.buffers()[1]).cast("i")
    base = column.offset
    child = column.values  # the whole child array: the list offsets point into it
    item = reader(child)

    def read(i: int) -> tuple[Any, ...]:
        i += base
        return tuple(item(j) for j in range(offsets[i], offsets[i + 1]))

    return read
