"""The catalogue of named queries: one name, one Cypher text per engine dialect.

Routers and the CLI never hold Cypher; they ask the store to run a query by name. Where
Ladybug's dialect and Neo4j's differ (variable-length filters, shortest paths, reserved
words) each dialect gets its own text under the same name, so a third engine is one more
column, not a rewrite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DIALECTS = ("ladybug", "neo4j")


@dataclass
class NamedQuery:
    name: str
    texts: dict[str, str] = field(default_factory=dict)
    doc: str = ""


QUERIES: dict[str, NamedQuery] = {}


def register(name: str, *, ladybug: str, neo4j: str | None = None, doc: str = "") -> str:
    """Register a named query. ``neo4j`` defaults to the Ladybug text where they agree."""
    QUERIES[name] = NamedQuery(name, {"ladybug": ladybug, "neo4j": neo4j or ladybug}, doc)
    return name


def text_of(name: str, dialect: str) -> str:
    try:
        return QUERIES[name].texts[dialect]
    except KeyError as exc:
        raise KeyError(f"no named query '{name}' for dialect '{dialect}'") from exc
