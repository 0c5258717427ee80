"""Storage columns derived from the model, shared by every store.

A DATE field becomes three columns: its text as given (``1988-07``) and the first and last
day it may denote (``_lo``/``_hi``, YYYYMMDD integers), so that engines compare imprecise
dates with plain integer comparisons.
"""

from __future__ import annotations

from graph.model import CLAIM_FIELDS, NODE_KINDS, RELATION_TYPES, Field, FieldType

# Column types in Ladybug's DDL; the Neo4j store only needs the names.
_LB_TYPES = {
    FieldType.STRING: "STRING", FieldType.TEXT: "STRING", FieldType.ENUM: "STRING",
    FieldType.JSON: "STRING", FieldType.INT: "INT64", FieldType.FLOAT: "DOUBLE",
    FieldType.BOOL: "BOOLEAN", FieldType.LIST: "STRING[]",
}  # fmt: skip

# Relations that are not claims about the world and so never count as unsourced: a
# SAME_AS is a judgement (method, score, who, when); a MENTIONED_IN points at its source.
UNSOURCED_EXEMPT = frozenset({"SAME_AS", "MENTIONED_IN"})

# Claim date columns: valid_from/valid_to become from_lo/from_hi/to_lo/to_hi.
CLAIM_DATE_COLUMNS = ("from_lo", "from_hi", "to_lo", "to_hi")


def field_columns(f: Field) -> list[tuple[str, str]]:
    if f.type is FieldType.DATE:
        return [(f.name, "STRING"), (f.name + "_lo", "INT64"), (f.name + "_hi", "INT64")]
    return [(f.name, _LB_TYPES[f.type])]


def node_columns(kind: str) -> list[tuple[str, str]]:
    cols: list[tuple[str, str]] = []
    for f in NODE_KINDS[kind].fields:
        cols.extend(field_columns(f))
    return cols


def rel_columns(rel_type: str) -> list[tuple[str, str]]:
    cols: list[tuple[str, str]] = [
        ("id", "STRING"), ("valid_from", "STRING"), ("valid_to", "STRING"),
        ("from_lo", "INT64"), ("from_hi", "INT64"), ("to_lo", "INT64"), ("to_hi", "INT64"),
        ("confidence", "STRING"), ("source_ids", "STRING[]"), ("note", "STRING"),
    ]  # fmt: skip
    for f in RELATION_TYPES[rel_type].fields:
        cols.extend(field_columns(f))
    return cols


def claim_field_names() -> tuple[str, ...]:
    return tuple(f.name for f in CLAIM_FIELDS)
