"""The named queries the query layer runs, registered in ``graph.catalog`` (one text per
dialect where Ladybug and Neo4j differ).

Every question is answered from a handful of shapes, so the catalogue stays small and each
shape is a primary-key lookup followed by an adjacency walk:

- ``q.edges.out.<Kind>.<TYPES>`` / ``q.edges.in.<Kind>.<TYPES>``: the claims of some
  relation types leaving / entering a batch of nodes of one kind (``UNWIND $ids``), only
  claims not certainly invalid on a date; ``...<TYPES>.one`` does the same for one node
  (``$id``). Measured on LadybugDB at 100k nodes: the one-node form is a primary-key
  lookup (~0.1 ms), while ``UNWIND $ids ... MATCH (a {id: i})-[r]->`` scans the relation
  table (~10 ms, growing with the graph), so small batches loop over the one-node form. Validity is decided in Cypher with the same
  arithmetic as ``graph.dates.validity_on``: a claim is dropped when it certainly did not
  hold (``from_lo > d_hi OR to_hi < d_lo``) and marked ``valid`` when it certainly held,
  ``dates_unknown`` otherwise. Asked without a date, the bounds span everything.
- ``q.keys.<Kind>``: every node's stored name keys, for the in-process search index.
- ``q.proj.nodes.<Kind>`` / ``q.proj.rels.<TYPE>``: the columnar projection that paths and
  network analytics run on (DESIGN.md: an engine-side shortest path is two orders of
  magnitude slower than a walk over a cached in-process projection).
- ``q.ids.<Kind>``: every id of a kind (sanctions gaps walk every act).
"""

from __future__ import annotations

from graph.catalog import QUERIES, register
from graph.dates import MAX_DAY, MIN_DAY
from graph.model import NODE_KINDS, RELATION_TYPES

# Columns of the node at the other end that answers show.
_OTHER_NODE_FIELDS = ("name", "restricted", "kind", "authority", "is_head", "date", "date_lo",
                      "date_hi", "verdict_date", "listed", "delisted", "programme", "list_ref",
                      "reason", "birth_date")

_VALIDITY_WHERE = (
    f"coalesce(r.from_lo, {MIN_DAY}) <= $d_hi AND coalesce(r.to_hi, {MAX_DAY}) >= $d_lo"
)
_STATUS = (
    f"CASE WHEN coalesce(r.from_hi, {MAX_DAY}) <= $d_lo "
    f"AND coalesce(r.to_lo, {MIN_DAY}) >= $d_hi "
    "THEN 'valid' ELSE 'dates_unknown' END AS status"
)


def relevant_types(kind: str, direction: str, types: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The relation types (among ``types``; all when empty) that can leave (out) or enter
    (in) a node of ``kind``."""
    side = 0 if direction == "out" else 1
    wanted = types or tuple(RELATION_TYPES)
    return tuple(sorted(t for t in set(wanted) if t in RELATION_TYPES and any(
        end[side] == kind for end in RELATION_TYPES[t].ends)))


def _other_kinds(kind: str, direction: str, types: tuple[str, ...]) -> set[str]:
    side = 0 if direction == "out" else 1
    return {end[1 - side] for t in types for end in RELATION_TYPES[t].ends if end[side] == kind}


def _node_fields(kinds: set[str]) -> list[str]:
    have: set[str] = set()
    for k in kinds:
        for f in NODE_KINDS[k].fields:
            have.add(f.name)
            if f.type.value == "date":
                have.update((f.name + "_lo", f.name + "_hi"))
    return [f for f in _OTHER_NODE_FIELDS if f in have]


def _edge_return(kind: str, direction: str, types: tuple[str, ...], dialect: str) -> str:
    rel_label = "label(r)" if dialect == "ladybug" else "type(r)"
    node_label = "label(b)" if dialect == "ladybug" else "labels(b)[0]"
    extras = sorted({f.name for t in types for f in RELATION_TYPES[t].fields})
    cols = [
        "i AS src", f"{rel_label} AS type", "r.id AS id", "r.valid_from AS valid_from",
        "r.valid_to AS valid_to", "r.from_lo AS from_lo", "r.from_hi AS from_hi",
        "r.to_lo AS to_lo", "r.to_hi AS to_hi", "r.confidence AS confidence",
        "r.source_ids AS source_ids", "r.note AS note",
    ]
    cols += [f"r.{f} AS x_{f}" for f in extras]
    cols += [_STATUS, "b.id AS other", f"{node_label} AS okind"]
    cols += [f"b.{f} AS o_{f}" for f in _node_fields(_other_kinds(kind, direction, types))]
    return ", ".join(cols)


def _label(kind: str, dialect: str) -> str:
    return f"`{kind}`" if dialect == "ladybug" else kind


def _edges_text(kind: str, direction: str, types: tuple[str, ...], dialect: str,
                one: bool = False) -> str:
    rel = "r:" + "|".join(types)
    arrow = f"-[{rel}]->(b)" if direction == "out" else f"<-[{rel}]-(b)"
    ret = _edge_return(kind, direction, types, dialect)
    if one:
        return (f"MATCH (a:{_label(kind, dialect)} {{id: $id}}){arrow} "
                f"WHERE {_VALIDITY_WHERE} RETURN {ret.replace('i AS src', 'a.id AS src', 1)}")
    return (
        f"UNWIND $ids AS i MATCH (a:{_label(kind, dialect)} {{id: i}}){arrow} "
        f"WHERE {_VALIDITY_WHERE} "
        f"RETURN {ret}"
    )


def edges_query(kind: str, direction: str, types: tuple[str, ...] = ()) -> str | None:
    """The name of the query for the claims of ``types`` (all when empty) leaving or
    entering ``kind`` nodes, or None when no such claim can exist. A typed pattern keeps
    the engine's plan small (an untyped one is planned over every table: ~20x slower).
    Combinations the service uses are registered at import; any other is registered on
    first use."""
    rel = relevant_types(kind, direction, types)
    if not rel:
        return None
    name = f"q.edges.{direction}.{kind}.{'+'.join(rel)}"
    if name + ".one" not in QUERIES:
        register(
            name + ".one",
            ladybug=_edges_text(kind, direction, rel, "ladybug", one=True),
            neo4j=_edges_text(kind, direction, rel, "neo4j", one=True),
            doc=f"as {name}, for one node ($id): a plain primary-key pattern, which "
                "LadybugDB answers from its index (its UNWIND form scans the relation table)",
        )
    if name not in QUERIES:
        register(
            name,
            ladybug=_edges_text(kind, direction, rel, "ladybug"),
            neo4j=_edges_text(kind, direction, rel, "neo4j"),
            doc=f"{'+'.join(rel)} claims {'leaving' if direction == 'out' else 'entering'} "
                f"{kind} nodes ($ids), not certainly invalid in [$d_lo, $d_hi]",
        )
    return name


# Relation-type sets the service asks for (registered up front, so the catalogue, and the
# Neo4j lint over it, hold every text the service can run).
USED_TYPESETS: tuple[tuple[str, ...], ...] = (
    (), ("HOLDS", "MEMBER_OF"), ("POSITION_IN",), ("PART_OF",), ("HOLDS",), ("SAME_AS",),
    ("TARGETS",), ("VICTIM_OF", "DEFENDANT_IN"), ("RESULT_OF",),
    ("PERPETRATED_BY", "OCCURRED_AT", "RESULT_OF"), ("VICTIM_OF",), ("DETAINED_AT",),
    ("DEFENDANT_IN",), ("JUDGE_IN", "PROSECUTOR_IN"), ("HEARD_BY", "UPHELD_BY"),
    ("PERPETRATED_BY", "OCCURRED_AT"), ("POSITION_IN", "MEMBER_OF"),
)


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
            for typeset in USED_TYPESETS:
                edges_query(kind, direction, typeset)
        lb, nj = _label(kind, "ladybug"), _label(kind, "neo4j")
        body = (f"RETURN n.id AS id, n.name AS name, n.names AS names, "
                f"n.name_keys AS name_keys, n.restricted AS restricted, {_subtype_expr(kind)} AS subtype, "
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


# Relations that place persons in the hierarchy, and designations. They are a small part of
# the graph (posts, memberships, the organisation tree, sanctions) and every chain of command
# walks them level by level, so the query layer holds them in process (per store
# generation): a chain then costs no round trip at all. Everything else (acts, cases,
# victims, documents) stays in the engine.
#
# Acts attributed to organisations (PERPETRATED_BY, OCCURRED_AT) are held there too: an
# accountability answer lists, for each of the twenty to fifty organisations on the chains
# above an act's actors, the incidents attributed to it before the act, which was one round
# trip per organisation (and hundreds of rows for a big prison) in the engine.
STRUCTURE_TYPES = ("HOLDS", "MEMBER_OF", "POSITION_IN", "PART_OF", "TARGETS", "PERPETRATED_BY",
                   "OCCURRED_AT")
CLAIM_COLUMNS = ("id", "valid_from", "valid_to", "from_lo", "from_hi", "to_lo", "to_hi",
                 "confidence", "source_ids", "note")


def structure_query(rel_type: str) -> str:
    return f"q.structure.{rel_type}"


def structure_extras(rel_type: str) -> list[str]:
    return [f.name for f in RELATION_TYPES[rel_type].fields]


def structure_node_fields(rel_type: str, side: int) -> list[str]:
    return _node_fields({end[side] for end in RELATION_TYPES[rel_type].ends})


def _structure_text(rel_type: str, dialect: str) -> str:
    rel_label = "label(r)" if dialect == "ladybug" else "type(r)"
    cols = ["a.id AS a_id", f"{'label(a)' if dialect == 'ladybug' else 'labels(a)[0]'} AS a_label",
            "b.id AS b_id", f"{'label(b)' if dialect == 'ladybug' else 'labels(b)[0]'} AS b_label",
            f"{rel_label} AS type"]
    cols += [f"r.{c} AS {c}" for c in CLAIM_COLUMNS]
    cols += [f"r.{f} AS x_{f}" for f in structure_extras(rel_type)]
    cols += [f"a.{f} AS a_{f}" for f in structure_node_fields(rel_type, 0)]
    cols += [f"b.{f} AS b_{f}" for f in structure_node_fields(rel_type, 1)]
    return f"MATCH (a)-[r:{rel_type}]->(b) RETURN {', '.join(cols)}"


for _t in STRUCTURE_TYPES:
    register(structure_query(_t), ladybug=_structure_text(_t, "ladybug"),
             neo4j=_structure_text(_t, "neo4j"),
             doc=f"every {_t} claim with both ends' display fields (in-process structure cache)")

SAME_AS_ALL = register(
    "q.same_as.all",
    ladybug="MATCH (a)-[r:SAME_AS]->(b) RETURN a.id AS a, b.id AS b, "
            "a.restricted AS ar, b.restricted AS br",
    doc="every SAME_AS judgement (few; cached in process per store generation)",
)

_register_all()

# The fields of a Source that answers show. Sources are few (about 20,000 at scale 1) and
# every answer cites some, so the query layer holds them in process per store generation
# instead of looking them up on every answer.
SOURCE_FIELDS = ("id", "restricted", "title", "name", "publisher", "date", "reference", "url",
                 "kind")
SOURCES_ALL = register(
    "q.sources.all",
    ladybug=f"MATCH (n:`Source`) RETURN {', '.join(f'n.{f} AS {f}' for f in SOURCE_FIELDS)}",
    neo4j=f"MATCH (n:Source) RETURN {', '.join(f'n.{f} AS {f}' for f in SOURCE_FIELDS)}",
    doc="every source's display fields (in-process cache per store generation)",
)


# Sanctions gaps walk every act of the graph: they read whole relation tables once (as Arrow
# columns) instead of a few rows per act per step, which at a million nodes was hundreds of
# thousands of round trips (the scan did not finish in five minutes).
GAPS_TYPES = ("PERPETRATED_BY", "OCCURRED_AT", "RESULT_OF", "VICTIM_OF", "DETAINED_AT",
              "JUDGE_IN", "PROSECUTOR_IN", "HEARD_BY", "UPHELD_BY", "HOLDS", "MEMBER_OF",
              "POSITION_IN", "PART_OF")


def gaps_rel_query(rel_type: str) -> str:
    return f"q.gaps.rel.{rel_type}"


def gaps_acts_query(kind: str) -> str:
    return f"q.gaps.acts.{kind}"


# What the sanctions-gap walk reads of each table (``queries.gaps._read``), and only that:
# returning every column of every claim (the victims' names among them) made the engine's
# result for VICTIM_OF alone about 400 MiB while it was read, the build's peak. The walk
# unpacks each row in this order, the claim id left out (it only sorts the rows).
_ENDS = ("a", "b", "id")
GAPS_COLUMNS: dict[str, tuple[str, ...]] = {
    "RESULT_OF": (*_ENDS, "ar", "br"),
    "PERPETRATED_BY": (*_ENDS, "bkind", "br", "role", "bname"),
    "OCCURRED_AT": (*_ENDS, "bkind", "br"),
    "VICTIM_OF": (*_ENDS, "akind", "ar"),
    "DETAINED_AT": (*_ENDS, "bkind", "br"),
    "JUDGE_IN": (*_ENDS, "akind", "ar", "aname"),
    "PROSECUTOR_IN": (*_ENDS, "akind", "ar", "aname"),
    "HEARD_BY": (*_ENDS, "bkind", "br"),
    "UPHELD_BY": (*_ENDS, "bkind", "br"),
    "HOLDS": (*_ENDS, "akind", "ar", "br", "aname", "from_lo", "to_hi"),
    "MEMBER_OF": (*_ENDS, "bkind", "br", "bname", "from_lo", "to_hi"),
    "POSITION_IN": (*_ENDS, "akind", "bkind", "ar", "br", "aname", "bname", "from_lo",
                    "to_hi", "is_head"),
    "PART_OF": (*_ENDS, "bkind", "br", "bname", "from_lo", "to_hi"),
}


def _gaps_rel_text(rel_type: str, dialect: str) -> str:
    def lab(v: str) -> str:
        return f"label({v})" if dialect == "ladybug" else f"labels({v})[0]"

    expr = {"a": "a.id", "b": "b.id", "id": "r.id", "akind": lab("a"), "bkind": lab("b"),
            "ar": "a.restricted", "br": "b.restricted", "aname": "a.name", "bname": "b.name",
            "from_lo": "r.from_lo", "to_hi": "r.to_hi", "role": "r.role",
            "is_head": "a.is_head"}
    cols = ", ".join(f"{expr[c]} AS {c}" for c in GAPS_COLUMNS[rel_type])
    return f"MATCH (a)-[r:{rel_type}]->(b) RETURN {cols}"


for _t in GAPS_TYPES:
    register(gaps_rel_query(_t), ladybug=_gaps_rel_text(_t, "ladybug"),
             neo4j=_gaps_rel_text(_t, "neo4j"),
             doc=f"the {_t} claims' columns the sanctions-gap scan reads (GAPS_COLUMNS): "
                 "ends, kinds, restriction flags, names, date bounds")

_ACT_BODY = {
    "Incident": "n.kind AS subtype, n.date AS date, n.date AS at",
    "Case": "NULL AS subtype, n.verdict_date AS date, n.verdict_date AS at",
}
for _k, _body in _ACT_BODY.items():
    register(gaps_acts_query(_k),
             ladybug=f"MATCH (n:`{_k}`) RETURN n.id AS id, n.name AS name, {_body}, "
                     "n.restricted AS restricted",
             neo4j=f"MATCH (n:{_k}) RETURN n.id AS id, n.name AS name, {_body}, "
                   "n.restricted AS restricted",
             doc=f"every {_k} as an act of the sanctions-gap scan (its date decides the "
                 "chains above its actors)")
