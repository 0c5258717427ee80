"""Neo4j 5 constraints and indexes, derived from the model (graph.model) like every schema.

Neo4j is schema-optional, so nothing here declares properties; what it does declare is what
makes the store correct and fast at scale:

- a uniqueness constraint on ``id`` per node label (``MERGE`` by id is then race-free in a
  cluster, and every ``{id: ...}`` lookup is an index seek; uniqueness constraints exist in
  Neo4j Community as well as Enterprise/Aura);
- a range index on ``id`` per relationship type (the loader's diff and the migration look
  claims up by id);
- a range index on the first/last-day bounds of claims (``from_lo``/``to_hi``) per
  relationship type, which the dated queries compare against ``$d_lo``/``$d_hi``;
- a text index on ``name`` per searchable label, for ``CONTAINS`` look-ups from Neo4j tools;
- a uniqueness constraint on the id of the store's write-counter node (``AccgraphMeta``),
  so that concurrent first writes in a cluster cannot create two counters.

Every statement uses ``IF NOT EXISTS``, so running them on every open is idempotent, and
the names are derived, so a re-run never creates a duplicate under another name.
"""

from __future__ import annotations

import re

from graph.model import NODE_KINDS, RELATION_TYPES


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() if not name.isupper() else name.lower()


def node_label(kind: str) -> str:
    """The Neo4j label of a node kind, always back-quoted (harmless, and ``Case`` is a
    keyword of the Cypher grammar even where Neo4j accepts it bare)."""
    return f"`{kind}`"


def rel_type(name: str) -> str:
    return f"`{name}`"


def constraint_name(kind: str) -> str:
    return f"accgraph_{_snake(kind)}_id_unique"


# The store's one node outside the model: the graph's write counter (graph.neo4j_store).
META_LABEL = "AccgraphMeta"


def schema_statements() -> list[tuple[str, str]]:
    """(name, Cypher) of every schema statement, in the order the store runs them."""
    out: list[tuple[str, str]] = [(
        "schema.constraint.meta",
        (f"CREATE CONSTRAINT accgraph_meta_id_unique IF NOT EXISTS "
         f"FOR (m:`{META_LABEL}`) REQUIRE m.id IS UNIQUE"),
    )]
    for kind, nk in NODE_KINDS.items():
        out.append((
            f"schema.constraint.{kind}",
            (f"CREATE CONSTRAINT {constraint_name(kind)} IF NOT EXISTS "
             f"FOR (n:{node_label(kind)}) REQUIRE n.id IS UNIQUE"),
        ))
        if nk.searchable:
            out.append((
                f"schema.name_text.{kind}",
                (f"CREATE TEXT INDEX accgraph_{_snake(kind)}_name_text IF NOT EXISTS "
                 f"FOR (n:{node_label(kind)}) ON (n.name)"),
            ))
    for name in RELATION_TYPES:
        out.append((
            f"schema.rel_id.{name}",
            (f"CREATE INDEX accgraph_{name.lower()}_id IF NOT EXISTS "
             f"FOR ()-[r:{rel_type(name)}]-() ON (r.id)"),
        ))
        out.append((
            f"schema.rel_dates.{name}",
            (f"CREATE INDEX accgraph_{name.lower()}_dates IF NOT EXISTS "
             f"FOR ()-[r:{rel_type(name)}]-() ON (r.from_lo, r.to_hi)"),
        ))
    return out


def object_name(text: str) -> str:
    """The name a schema statement above gives its constraint or index."""
    return text.split()[3] if text.startswith("CREATE TEXT") else text.split()[2]


def schema_object_names() -> set[str]:
    """Names of every constraint and index above (the tests check they exist in Neo4j)."""
    return {object_name(text) for _, text in schema_statements()}


# What exists already, so that opening the store costs two round trips, not one per object.
SHOW_CONSTRAINTS = "SHOW CONSTRAINTS YIELD name RETURN name"
SHOW_INDEXES = "SHOW INDEXES YIELD name RETURN name"
