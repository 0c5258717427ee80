"""Collect every Cypher statement the Neo4j path can send, for the Neo4j linter.

That is: the Neo4j text of every named query in graph.catalog (after importing every module
of the ``queries`` package and every other module that uses graph.catalog, which is where
they are registered, and applying the documented overrides of graph.neo4j_overrides, i.e.
the text that actually runs), plus every statement
graph.neo4j_store issues itself (constraints and indexes, batched upserts, reads by id,
counts; ``accgraph migrate --to neo4j`` writes through the same store statements).

Usage:
    python tools/dump_neo4j_cypher.py [--out statements.json] [--schema schema.json]

``statements.json`` is a JSON list of ``{"name", "text"[, "params"]}``; ``params`` (example
values) is present where the statement's parameters are known, and the linter then also
checks that the statement uses no other parameter. ``schema.json`` is the graph schema in
the linter's terms (labels, relationship types, property keys, from graph.model), so that a
misspelt label, type or property is reported.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# Packages whose modules may register named queries (queries/ holds most; the exports and
# the matcher register their own).
PACKAGES = ("graph", "queries", "ingest", "exports", "api", "cli")


def import_query_modules() -> list[str]:
    """Import every module that registers named queries (registration happens on import):
    every module of the ``queries`` package, and every module of the other packages whose
    source uses graph.catalog. An import error is raised, never skipped, so that no
    registered text escapes the lint."""
    import queries

    names = [info.name for info in pkgutil.walk_packages(queries.__path__, prefix="queries.")]
    for package in PACKAGES:
        root = ROOT / package
        for path in sorted(root.rglob("*.py")):
            text = path.read_text(encoding="utf-8", errors="replace")
            if "graph.catalog" in text or "from graph import catalog" in text:
                module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                names.append(module.removesuffix(".__init__"))
    imported = []
    for name in dict.fromkeys(names):
        if name in ("graph.catalog", "graph.neo4j_store", "graph.embedded"):
            continue
        importlib.import_module(name)
        imported.append(name)
    return imported


def collect() -> list[dict[str, Any]]:
    from graph import catalog
    from graph.neo4j_store import own_statements, query_text

    import_query_modules()
    out: list[dict[str, Any]] = []
    for name in sorted(catalog.QUERIES):
        if "neo4j" not in catalog.QUERIES[name].texts:
            continue
        out.append({"name": f"catalog:{name}", "text": query_text(name)})
    for name, text, params in own_statements():
        out.append({"name": name, "text": text, "params": params})
    return out


def lint_schema() -> dict[str, Any]:
    """The model in the linter's DbSchema terms."""
    from graph.model import NODE_KINDS, RELATION_TYPES
    from graph.neo4j_schema import META_LABEL
    from graph.schema import node_columns, rel_columns

    props: set[str] = {"generation"}  # the store's own META_LABEL node
    for kind in NODE_KINDS:
        props.update(c for c, _ in node_columns(kind))
    for name in RELATION_TYPES:
        props.update(c for c, _ in rel_columns(name))
    graph_schema = [
        {"from": a, "to": b, "relType": name}
        for name, rt in RELATION_TYPES.items() for a, b in rt.ends
    ]
    return {
        "labels": sorted([*NODE_KINDS, META_LABEL]),
        "relationshipTypes": sorted(RELATION_TYPES),
        "propertyKeys": sorted(props),
        "graphSchema": graph_schema,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the statements here (default stdout)")
    parser.add_argument("--schema", type=Path, help="also write the linter schema here")
    args = parser.parse_args(argv)
    statements = collect()
    text = json.dumps(statements, indent=1, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
        print(f"{len(statements)} statements written to {args.out}", file=sys.stderr)
    else:
        print(text)
    if args.schema:
        args.schema.write_text(json.dumps(lint_schema(), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
