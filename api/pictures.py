"""Network pictures: pyvis builds the vis-network data, our template draws it.

pyvis's own page template pulls Bootstrap and vis-network from CDNs; a researcher in the
field may be offline, so the nodes, edges and options pyvis builds are rendered into
``graph.html``, which loads vis-network from the copy pyvis ships (served at
``/static/vis``). Nodes are coloured and shaped by kind, edges labelled with their type and
dates, dashed where the dates are unknown on the asked date, and a click on a node opens
its page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyvis.network import Network

# kind -> (shape, colour). Shapes differ as well as colours, for colour-blind readers and
# black-and-white prints.
KIND_STYLE: dict[str, tuple[str, str]] = {
    "Person": ("dot", "#4e79a7"),
    "Organization": ("box", "#59a14f"),
    "Position": ("ellipse", "#b07aa1"),
    "Case": ("diamond", "#9c755f"),
    "Incident": ("star", "#e15759"),
    "Sanction": ("triangle", "#f28e2b"),
    "Location": ("square", "#bab0ac"),
    "Source": ("hexagon", "#76b7b2"),
}
DEFAULT_STYLE = ("dot", "#999999")


@dataclass
class PictureNode:
    id: str
    kind: str
    label: str
    title: str = ""
    focus: bool = False


@dataclass
class PictureEdge:
    source: str
    target: str
    label: str
    title: str = ""
    dashed: bool = False


@dataclass
class Picture:
    title: str
    focus: str
    nodes: list[PictureNode] = field(default_factory=list)
    edges: list[PictureEdge] = field(default_factory=list)
    note: str = ""

    def add_node(self, node: PictureNode) -> None:
        if all(n.id != node.id for n in self.nodes):
            self.nodes.append(node)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "focus": self.focus, "note": self.note,
                "nodes": [n.__dict__ for n in self.nodes],
                "edges": [e.__dict__ for e in self.edges]}


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(obj, dict):
            if obj.get(name) is not None:
                return obj[name]
        elif getattr(obj, name, None) is not None:
            return getattr(obj, name)
    return default


def date_span(valid_from: Any, valid_to: Any) -> str:
    """``2015–2021``, ``2018-03–open``, ``?–2021``; empty when both ends are unknown."""
    a, b = (str(valid_from or "").strip(), str(valid_to or "").strip())
    if not a and not b:
        return ""
    return f"{a or '?'}–{b or '?'}"


def edge_label(rel_type: str, valid_from: Any, valid_to: Any, role: Any = None) -> str:
    label = rel_type + (f" ({role})" if role else "")
    span = date_span(valid_from, valid_to)
    return f"{label}\n{span}" if span else label


def edge_title(rel_type: str, valid_from: Any, valid_to: Any, confidence: Any,
               source_ids: Any, note: Any = None) -> str:
    sources = ", ".join(source_ids or []) or "UNSOURCED"
    lines = [rel_type, f"dates: {date_span(valid_from, valid_to) or 'unknown'}",
             f"confidence: {confidence or '?'}", f"sources: {sources}"]
    if note:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def picture_from_subgraph(subgraph: Any, focus: str, title: str = "") -> Picture:
    """A picture of a ``queries.answers.Subgraph`` (nodes and edges)."""
    pic = Picture(title=title or focus, focus=focus)
    for node in _get(subgraph, "nodes", default=[]) or []:
        node_id = _get(node, "id")
        kind = _get(node, "kind", default="")
        name = _get(node, "name", default=node_id)
        sub = _get(node, "subtype", default="")
        pic.add_node(PictureNode(node_id, kind, str(name),
                                 title=f"{kind}{' / ' + str(sub) if sub else ''}\n{node_id}",
                                 focus=node_id == focus))
    for edge in _get(subgraph, "edges", default=[]) or []:
        rel_type = str(_get(edge, "type", "rel_type", default=""))
        vf, vt = _get(edge, "valid_from"), _get(edge, "valid_to")
        status = str(_get(edge, "status", "validity", default="") or "")
        pic.edges.append(PictureEdge(
            str(_get(edge, "source", "from_id", "from", "start")),
            str(_get(edge, "target", "to_id", "to", "end")),
            edge_label(rel_type, vf, vt, _get(edge, "role")),
            edge_title(rel_type, vf, vt, _get(edge, "confidence"), _get(edge, "source_ids"),
                       _get(edge, "note")),
            dashed=status.lower() == "dates_unknown"))
    known = {n.id for n in pic.nodes}
    pic.edges = [e for e in pic.edges if e.source in known and e.target in known]
    return pic


def vis_data(pic: Picture) -> dict[str, Any]:
    """The nodes, edges and options as pyvis builds them, ready for vis-network."""
    net = Network(directed=True, cdn_resources="remote", height="100%", width="100%")
    for n in pic.nodes:
        shape, colour = KIND_STYLE.get(n.kind, DEFAULT_STYLE)
        net.add_node(n.id, label=n.label[:60], title=n.title, shape=shape, color=colour,
                     borderWidth=4 if n.focus else 1, size=22 if n.focus else 14,
                     font={"size": 16 if n.focus else 13,
                           "color": "#ffffff" if shape in ("box", "ellipse") else "#222222"})
    for e in pic.edges:
        net.add_edge(e.source, e.target, label=e.label, title=e.title, dashes=e.dashed,
                     arrows="to", font={"size": 10, "align": "middle"})
    net.set_options("""{
      "physics": {"barnesHut": {"gravitationalConstant": -9000, "springLength": 160},
                  "stabilization": {"iterations": 200}},
      "interaction": {"hover": true, "navigationButtons": false},
      "edges": {"smooth": {"type": "dynamic"}, "color": {"color": "#888888"}}
    }""")
    nodes, edges, _heading, _height, _width, options = net.get_network_data()
    if not isinstance(options, dict):
        import json

        options = json.loads(options)
    return {"nodes": nodes, "edges": edges, "options": options}


def legend() -> list[dict[str, str]]:
    return [{"kind": k, "shape": s, "colour": c} for k, (s, c) in KIND_STYLE.items()]
