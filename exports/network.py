"""GraphML and GEXF exports (networkx) for Gephi, yEd, Cytoscape and the like.

One node per record, one directed edge per claim (a MultiDiGraph: two claims between the
same pair, e.g. two terms in the same post, stay two edges). Attributes are what a
researcher filters and colours by in Gephi:
- nodes: ``label`` (display name), ``kind`` (Person, Organization...), ``subtype`` (an
  organisation's or incident's kind), every stored column that is a plain value (dates as
  the text the source gave, plus ``<date>_lo``/``<date>_hi`` day bounds as YYYYMMDD
  integers for range filters), lists joined with ``; ``;
- edges: ``id``, ``relation`` (HOLDS, PART_OF...), ``label`` (same), ``valid_from``,
  ``valid_to``, ``from_lo``...``to_hi``, ``confidence``, ``source_ids``, ``unsourced``
  (true for a claim no source supports), ``note`` and the type's extra fields.

GraphML and GEXF cannot hold "no value", so missing values are simply absent. The names
``type``, ``start`` and ``end`` are avoided because GEXF gives them a meaning of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx

from exports.snapshot import Snapshot, software_version, take_snapshot
from graph.records import NodeRecord, RelRecord
from graph.schema import UNSOURCED_EXEMPT
from graph.store import Store

SKIPPED = {"names", "name_keys", "id"}  # names JSON and search keys are store artefacts
SUBTYPE_FIELD = {"Organization": "kind", "Incident": "kind", "Location": "kind",
                 "Source": "kind", "Sanction": "authority"}
RESERVED = {"type": "type_", "start": "start_", "end": "end_"}


def _attr(value: Any) -> Any:
    """A value GraphML/GEXF can hold, or None to leave the attribute out."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def node_attrs(node: NodeRecord) -> dict[str, Any]:
    attrs: dict[str, Any] = {"label": node.props.get("name") or node.id, "kind": node.kind}
    sub = SUBTYPE_FIELD.get(node.kind)
    if sub and node.props.get(sub):
        attrs["subtype"] = node.props[sub]
    for key, value in node.props.items():
        if key in SKIPPED or key == "name":
            continue
        v = _attr(value)
        if v is not None:
            attrs[RESERVED.get(key, key)] = v
    return attrs


def edge_attrs(rel: RelRecord) -> dict[str, Any]:
    attrs: dict[str, Any] = {"id": rel.id, "relation": rel.type, "label": rel.type}
    for key, value in rel.props.items():
        if key == "id":
            continue
        v = _attr(value)
        if v is not None:
            attrs[RESERVED.get(key, key)] = v
    attrs["unsourced"] = rel.type not in UNSOURCED_EXEMPT and not rel.props.get("source_ids")
    return attrs


def to_networkx(snap: Snapshot) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    g.graph.update({
        "name": "accountability-graph",
        "created": snap.taken_at,
        "content_sha256": snap.content_hash(),
        "include_restricted": snap.include_restricted,
        "software": f"accountability-graph {software_version()}",
    })
    for node in snap.nodes.values():
        g.add_node(node.id, **node_attrs(node))
    seen: dict[str, int] = {}
    for rel in snap.rels:
        attrs = edge_attrs(rel)
        # GEXF edge ids must be unique; a claim id is unique per type and ends only
        n = seen.get(rel.id, 0)
        seen[rel.id] = n + 1
        if n:
            attrs["id"] = f"{rel.id}~{n + 1}"
            attrs["claim_id"] = rel.id
        g.add_edge(rel.from_id, rel.to_id, key=f"{rel.type}/{rel.id}/{n}", **attrs)
    return g


def write_network(g: nx.MultiDiGraph, out: Path, fmt: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "graphml":
        nx.write_graphml(g, out, encoding="utf-8", prettyprint=True, named_key_ids=True)
    elif fmt == "gexf":
        # GEXF keeps graph-level data only as meta: write it into the description
        h = g.copy()
        meta = ", ".join(f"{k}={v}" for k, v in g.graph.items() if k != "name")
        h.graph = {"name": g.graph.get("name", ""), "mode": "static"}
        nx.write_gexf(h, out, encoding="utf-8", prettyprint=True, version="1.2draft")
        _gexf_description(out, meta)
    else:
        raise ValueError(f"unknown network format '{fmt}' (graphml or gexf)")


def _gexf_description(path: Path, text: str) -> None:
    """Put the export record (created, content hash) into GEXF's <meta><description>."""
    from xml.sax.saxutils import escape

    data = path.read_text(encoding="utf-8")
    tag = "<meta"
    i = data.find(tag)
    if i < 0:
        return
    close = data.find("</meta>", i)
    if close < 0:
        return
    data = data[:close] + f"<description>{escape(text)}</description>\n  " + data[close:]
    path.write_text(data, encoding="utf-8")


def export_network(store: Store, out: Path, fmt: str, include_restricted: bool = True
                   ) -> dict[str, Any]:
    snap = take_snapshot(store, include_restricted=include_restricted)
    g = to_networkx(snap)
    write_network(g, out, fmt)
    return {"format": fmt, "out": str(out), "nodes": g.number_of_nodes(),
            "edges": g.number_of_edges(), "content_sha256": g.graph["content_sha256"],
            "include_restricted": include_restricted}
