"""Turn field values, as any reader found them, into validated storage-ready records.

Every reader (native CSV, OFAC, UN, memorial...) calls these, so the rules of the model
(types, enums, imprecise dates, id prefixes, confidence, name keys) are checked in one
place and every problem is reported the same way: ``file:line: field: reason``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from graph.dates import DateError, parse_date
from graph.ids import check_id, claim_id
from graph.model import (
    CONFIDENCE,
    NODE_KINDS,
    RELATION_TYPES,
    Field,
    FieldType,
    kind_of_id,
)
from graph.names import name_keys, script_of
from graph.records import NodeRecord, Problem, RelRecord

DEFAULT_CONFIDENCE = "medium"
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f"}
MAX_CELL = 100_000  # characters; longer cells are almost always a broken file


class Where:
    """Where a record came from, so every problem can name file, line and field."""

    def __init__(self, file: str, line: int | str) -> None:
        self.file = file
        self.line = line

    def problem(self, field: str, reason: str) -> Problem:
        return Problem(self.file, self.line, field, reason)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "") or value == []


def split_list(value: Any) -> list[str]:
    """A list cell: a JSON array, or a ``;``-separated string; blanks dropped."""
    if _is_empty(value):
        return []
    if isinstance(value, (list, tuple)):
        items = [str(v).strip() for v in value if v is not None]
    else:
        items = [part.strip() for part in str(value).split(";")]
    return [i for i in items if i]


def convert_field(f: Field, value: Any, where: Where, problems: list[Problem],
                  *, allow_open: bool = False) -> dict[str, Any]:
    """Convert one input value to the storage columns of field ``f``; problems are appended."""
    if isinstance(value, (dict,)) or (isinstance(value, list) and f.type is not FieldType.LIST):
        problems.append(where.problem(f.name, f"expected a {f.type.value}, got a nested value"))
        return {}
    if isinstance(value, str) and len(value) > MAX_CELL:
        problems.append(where.problem(f.name, f"value longer than {MAX_CELL} characters"))
        return {}
    if f.type is FieldType.DATE:
        try:
            d = parse_date(value, allow_open=allow_open)
        except DateError as exc:
            problems.append(where.problem(f.name, str(exc)))
            return {}
        return {f.name: d.text or None, f.name + "_lo": d.lo, f.name + "_hi": d.hi}
    if _is_empty(value):
        if f.required:
            problems.append(where.problem(f.name, "required, but empty"))
        return {f.name: [] if f.type is FieldType.LIST else None}
    if f.type is FieldType.LIST:
        return {f.name: split_list(value)}
    if f.type is FieldType.BOOL:
        if isinstance(value, bool):
            return {f.name: value}
        text = str(value).strip().lower()
        if text in _TRUE:
            return {f.name: True}
        if text in _FALSE:
            return {f.name: False}
        problems.append(where.problem(f.name, f"'{value}' is not true/false"))
        return {}
    if f.type in (FieldType.INT, FieldType.FLOAT):
        try:
            number: int | float = int(value) if f.type is FieldType.INT else float(value)
        except (TypeError, ValueError):
            problems.append(where.problem(f.name, f"'{value}' is not a {f.type.value}"))
            return {}
        return {f.name: number}
    text = str(value).strip()
    if f.type is FieldType.ENUM:
        text = text.lower()
        if text not in f.choices:
            problems.append(where.problem(
                f.name, f"'{value}' is not one of {', '.join(f.choices)}"))
            return {}
    return {f.name: text}


def name_entry(name: str, *, lang: str | None, confidence: str,
               source_ids: list[str]) -> dict[str, Any]:
    return {"name": name, "lang": lang, "script": script_of(name), "confidence": confidence,
            "source_ids": source_ids}


def finish_names(props: dict[str, Any], extra: Iterable[Mapping[str, Any]] = ()) -> None:
    """Fill ``names`` (every name with provenance) and ``name_keys`` from name/aliases and
    any separately sourced names (``names.csv``)."""
    conf = props.get("confidence") or DEFAULT_CONFIDENCE
    sources = list(props.get("source_ids") or [])
    entries: dict[str, dict[str, Any]] = {}
    for n in [props.get("name") or ""] + list(props.get("aliases") or []):
        if n and n not in entries:
            entries[n] = name_entry(n, lang=None, confidence=conf, source_ids=sources)
    for e in extra:
        prior = entries.get(e["name"])
        if prior is None:
            entries[e["name"]] = dict(e)
        elif not prior.get("lang") and e.get("lang"):
            # the separately sourced entry says more (its language): keep both provenances
            merged = dict(e)
            merged["source_ids"] = sorted(set(prior["source_ids"]) | set(e["source_ids"]))
            entries[e["name"]] = merged
    props["names"] = json.dumps(list(entries.values()), ensure_ascii=False, sort_keys=True)
    props["name_keys"] = name_keys(list(entries))


def build_node(kind: str, values: Mapping[str, Any], where: Where,
               *, unknown_columns: bool = True) -> tuple[NodeRecord | None, list[Problem]]:
    """Validate one node row of ``kind``; returns the record (None if it has problems)."""
    problems: list[Problem] = []
    nk = NODE_KINDS[kind]
    if unknown_columns:
        allowed = {f.name for f in nk.fields if not f.derived}
        for col in values:
            if col not in allowed:
                problems.append(where.problem(str(col), f"unknown column for {kind}"))
    node_id = str(values.get("id") or "").strip()
    why = check_id(node_id)
    if why:
        problems.append(where.problem("id", why))
    elif kind_of_id(node_id) != kind:
        problems.append(where.problem(
            "id", f"'{node_id}' has the prefix of {kind_of_id(node_id)}, not {kind} "
                  f"(expected '{nk.prefix}:...')"))
    props: dict[str, Any] = {}
    raw = dict(values)
    if kind == "Source" and _is_empty(raw.get("name")):
        raw["name"] = raw.get("title")
    for f in nk.fields:
        if f.derived or f.name == "id":
            continue
        props.update(convert_field(f, raw.get(f.name), where, problems))
    if props.get("confidence") is None:
        props["confidence"] = DEFAULT_CONFIDENCE
    if props.get("restricted") is None:
        props["restricted"] = False
    if problems:
        return None, problems
    finish_names(props)
    return NodeRecord(kind, node_id, props), []


def build_rel(rel_type: str, values: Mapping[str, Any], where: Where,
              *, unknown_columns: bool = True) -> tuple[RelRecord | None, list[Problem]]:
    """Validate one relation row (a claim) of ``rel_type``; ends are checked by kind only
    here: that they exist is the bundle's check (they may be in another file)."""
    problems: list[Problem] = []
    rt = RELATION_TYPES[rel_type]
    allowed = {"id", "from", "to", "valid_from", "valid_to", "confidence", "source_ids",
               "note"} | set(rt.field_names)
    if unknown_columns:
        for col in values:
            if col not in allowed:
                problems.append(where.problem(str(col), f"unknown column for {rel_type}"))
    ends: dict[str, tuple[str, str]] = {}
    for end in ("from", "to"):
        ref = str(values.get(end) or "").strip()
        why = check_id(ref)
        if why:
            problems.append(where.problem(end, why))
            continue
        ends[end] = (ref, kind_of_id(ref) or "")
    if len(ends) == 2 and not rt.allows(ends["from"][1], ends["to"][1]):
        pairs = ", ".join(f"{a}->{b}" for a, b in rt.ends)
        problems.append(where.problem(
            "to", f"{rel_type} cannot join {ends['from'][1]} -> {ends['to'][1]} "
                  f"(allowed: {pairs})"))
    props: dict[str, Any] = {}
    for name, allow_open in (("valid_from", False), ("valid_to", True)):
        date = convert_field(Field(name, FieldType.DATE), values.get(name), where, problems,
                             allow_open=allow_open)
        if date:
            prefix = "from" if name == "valid_from" else "to"
            props[name] = date[name]
            props[prefix + "_lo"] = date[name + "_lo"]
            props[prefix + "_hi"] = date[name + "_hi"]
    conf = values.get("confidence")
    if _is_empty(conf):
        props["confidence"] = DEFAULT_CONFIDENCE
    elif str(conf).strip().lower() not in CONFIDENCE:
        problems.append(where.problem("confidence", f"'{conf}' is not one of high, medium, low"))
    else:
        props["confidence"] = str(conf).strip().lower()
    props["source_ids"] = split_list(values.get("source_ids"))
    props.update(convert_field(Field("note", FieldType.TEXT), values.get("note"), where, problems))
    for f in rt.fields:
        props.update(convert_field(f, values.get(f.name), where, problems))
    if (props.get("from_lo") or 0) > (props.get("to_hi") or 99991231):
        problems.append(where.problem("valid_to", "ends before it starts"))
    if problems or len(ends) != 2:
        return None, problems
    rel_id = str(values.get("id") or "").strip()
    if not rel_id:
        rel_id = claim_id(rel_type, ends["from"][0], ends["to"][0], props.get("valid_from"),
                          props.get("valid_to"), props.get("role"))
    return RelRecord(rel_type, rel_id, ends["from"][0], ends["to"][0], ends["from"][1],
                     ends["to"][1], props), []
