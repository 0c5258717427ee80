"""Neo4j-specific replacements for named-query texts, preferred by Neo4jStore over the
catalogue's ``neo4j`` text (graph.catalog) when present.

Why a separate table: the query layer registers one text per dialect; where a registered
Neo4j text turns out to be wrong for Neo4j 5 (the Cypher lint in tools/cypher-lint or the
conformance suite against a real Neo4j says so), the fix can land here at once, with the
reason next to it, while the query's owner folds it back into queries/. Every override is
linted like the rest (tools/dump_neo4j_cypher.py dumps the text that actually runs).

Currently empty: every registered Neo4j text passes the Neo4j 5 lint and gives the
reference answers in the conformance suite.
"""

from __future__ import annotations

# name of the named query -> Neo4j 5 Cypher text (with a comment saying why)
OVERRIDES: dict[str, str] = {}
