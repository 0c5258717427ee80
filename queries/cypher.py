"""The named queries the query layer runs, registered in ``graph.catalog`` (one text per
dialect where Ladybug and Neo4j differ).

Every question is answered from a handful of shapes, so the catalogue stays small and each
shape is a primary-key lookup followed by an adjacency walk:

- ``q.edges.out.<Kind>`` / ``q.edges.in.<Kind>``: the claims leaving / entering a batch of
  nodes of one kind (``UNWIND $ids``, PK lookup), optionally only some relation types and
  only claims not certainly invalid on a date. Validity is decided in Cypher with the same
  arithmetic as ``graph.dates.validity_on``: a claim is dropped when it certainly did not
  hold (``from_lo > d_hi OR to_hi < d_lo``) and marked ``valid`` when it certainly held,
  ``dates_unknown`` otherwise. Asked without a date, the bounds span everything.
- ``q.keys.<Kind>``: every node's stored name keys, for the in-process search index.
- ``q.proj.nodes.<Kind>`` / ``q.proj.rels.<TYPE>``: the projection that paths and network
  analytics run on with networkx (DESIGN.md: an engine-side shortest path is two orders of
  magnitude slower than networkx on a cached projection).
- ``q.ids.<Kind>``: every id of a kind (sanctions gaps walk every act).
"""

from __future__ import annotations

from graph.catalog import register
from graph.dates import MAX_DAY, MIN_DAY
from graph.model import NODE_KINDS, RELATION_TYPES

# Claim columns every edge row carries; extras that only some relation types have come back
# as null for the others (both engines allow this on an untyped relation variable).
_EXTRA_REL_FIELDS = sorted({f.name for rt in RELATION_TYPES.values() for f in rt.fields
                            if f.name not in ("judged_at",)})
# Columns of the node at the other end that answers show.
_OTHER_NODE_FIELDS = ("name", "restricted", "kind", "authority", "is_head", "date", "date_lo",
                      "date_hi", "verdict_date", "listed", "delisted", "programme", "list_ref",
                      "reason", "birth_date")

_VALIDITY_WHERE = (
    "coalesce(r.from_lo, {min}) <= $d_hi AND coalesce(r.to_hi, {max}) >= $d_lo"
).format(min=MIN_DAY, max=MAX_DAY)
_STATUS = (
    "CASE WHEN coalesce(r.from_hi, {max}) <= $d_lo AND coalesce(r.to_lo, {min}) >= $d_hi "
    "THEN 'valid' ELSE 'dates_unknown' END AS status"
).format(min=MIN_DAY, max=MAX_DAY)


def _present_fields() -> set[str]:
    names: set[str] = set()
    for kind in NODE_KINDS.values():
        for f in kind.fields:
            names.add(f.name)
            if f.type.value == "date":
                names.update((f.name + "_lo", f.name + "_hi"))
    return names


def _edge_return(dialect: str) -> str:
    rel_label = "label(r)" if dialect == "ladybug" else "type(r)"
    node_label = "label(b)" if dialect == "ladybug" else "labels(b)[0]"
    present = _present_fields()
    cols = [
        "i AS src", f"{rel_label} AS type", "r.id AS id", "r.valid_from AS valid_from",
        "r.valid_to AS valid_to", "r.from_lo AS from_lo", "r.from_hi AS from_hi",
        "r.to_lo AS to_lo", "r.to_hi AS to_hi", "r.confidence AS confidence",
        "r.source_ids AS source_ids", "r.note AS note", "r.judged_at AS judged_at",
    ]
    cols += [f"r.{f} AS x_{f}" for f in _EXTRA_REL_FIELDS]
    cols += [_STATUS, "b.id AS other", f"{node_label} AS okind"]
    cols += [f"b.{f} AS o_{f}" for f in _OTHER_NODE_FIELDS if f in present]
    return ", ".join(cols)


def _label(kind: str, dialect: str) -> str:
    return f"`{kind}`" if dialect == "ladybug" else kind


def _edges_text(kind: str, direction: str, dialect: str) -> str:
    arrow = "-[r]->(b)" if direction == "out" else "<-[r]-(b)"
    type_test = ("list_contains($types, label(r))" if dialect == "ladybug"
                 else "type(r) IN $types")
    return (
        f"UNWIND $ids AS i MATCH (a:{_label(kind, dialect)} {{id: i}}){arrow} "
        f"WHERE (size($types) = 0 OR {type_test}) AND {_VALIDITY_WHERE} "
        f"RETURN {_edge_return(dialect)}"
    )


def edges_query(kind: str, direction: str) -> str:
    return f"q.edges.{direction}.{kind}"


def keys_query(kind: str) -> str:
    return f"q.keys.{kind}"


def proj_nodes_query(kind: str) -> str:
    return f"q.proj.nodes.{kind}"


def proj_rels_query(rel_type: str) -> str:
    return f"q.proj.rels.{rel_type}"


def ids_query(kind: str) -> str:
    return f"q.ids.{kind}"


def _has(kind: str, field: str) -> bool:
    return field in NODE_KINDS[kind].field_names


def _subtype_expr(kind: str) -> str:
    if _has(kind, "kind"):
        return "n.kind"
    if _has(kind, "authority"):
        return "n.authority"
    return "NULL"


def _date_expr(kind: str) -> str:
    for f in ("date", "verdict_date", "listed"):
        if _has(kind, f):
            return f"n.{f}"
    return "NULL"


def _register_all() -> None:
    for kind in NODE_KINDS:
        for direction in ("out", "in"):
            register(
                edges_query(kind, direction),
                ladybug=_edges_text(kind, direction, "ladybug"),
                neo4j=_edges_text(kind, direction, "neo4j"),
                doc=f"claims {'leaving' if direction == 'out' else 'entering'} {kind} nodes "
                    "($ids), of $types (empty = all), not certainly invalid in [$d_lo, $d_hi]",
            )
        lb, nj = _label(kind, "ladybug"), _label(kind, "neo4j")
        body = (f"RETURN n.id AS id, n.name AS name, n.names AS names, n.name_keys AS keys, "
                f"n.restricted AS restricted, {_subtype_expr(kind)} AS subtype, "
                f"{_date_expr(kind)} AS date")
        register(keys_query(kind), ladybug=f"MATCH (n:{lb}) {body}",
                 neo4j=f"MATCH (n:{nj}) {body}",
                 doc=f"every {kind}'s name keys, for the in-process search index")
        pbody = (f"RETURN n.id AS id, n.name AS name, n.restricted AS restricted, "
                 f"{_subtype_expr(kind)} AS subtype, {_date_expr(kind)} AS date")
        register(proj_nodes_query(kind), ladybug=f"MATCH (n:{lb}) {pbody}",
                 neo4j=f"MATCH (n:{nj}) {pbody}",
                 doc=f"every {kind} for the networkx projection")
        register(ids_query(kind), ladybug=f"MATCH (n:{lb}) RETURN n.id AS id",
                 neo4j=f"MATCH (n:{nj}) RETURN n.id AS id", doc=f"every {kind} id")
    for rel_type in RELATION_TYPES:
        text = (f"MATCH (a)-[r:{rel_type}]->(b) RETURN a.id AS a, b.id AS b, r.id AS id, "
                f"r.from_lo AS from_lo, r.from_hi AS from_hi, r.to_lo AS to_lo, "
                f"r.to_hi AS to_hi, r.confidence AS confidence")
        register(proj_rels_query(rel_type), ladybug=text, neo4j=text,
                 doc=f"every {rel_type} claim (ends and date bounds) for the projection")


_register_all()
