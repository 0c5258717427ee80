"""The last line of defence for restricted records, and the audit of reading them.

The query layer hides restricted records from public and researcher callers. This module
checks every answer on its way out anyway: it collects every node id in the answer and asks
the store which of them are restricted. For a lawyer or an admin those ids are written to
the audit log (every read of a restricted record is recorded). For anyone else a restricted
id in an answer is a bug in the query layer; the answer is withheld (fail closed) rather
than leak a victim's or witness's record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fastapi import Request
from pydantic import BaseModel

from api.problems import ApiProblem
from api.security import AdminStore, Principal
from graph.model import kind_of_id
from graph.store import Store

log = logging.getLogger("accgraph.api")

_ID_KEYS = {"id", "from", "to", "from_id", "to_id", "source", "target", "ref", "entity_id"}


def to_jsonable(answer: Any) -> Any:
    if isinstance(answer, BaseModel):
        return answer.model_dump(mode="json")
    if isinstance(answer, (list, tuple)):
        return [to_jsonable(a) for a in answer]
    if isinstance(answer, dict):
        return {k: to_jsonable(v) for k, v in answer.items()}
    if hasattr(answer, "to_json"):
        return answer.to_json()
    return answer


def collect_ids(data: Any, out: set[str] | None = None) -> set[str]:
    """Every string in ``data`` that is a node id (``person:...``, ``org:...``...)."""
    out = set() if out is None else out
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend(item)
        elif (isinstance(item, str) and 3 < len(item) < 300 and ":" in item
              and " " not in item and kind_of_id(item)):
            out.add(item)
    return out


def restricted_ids(store: Store, ids: Iterable[str]) -> set[str]:
    ids = [i for i in ids if kind_of_id(i)]
    if not ids:
        return set()
    nodes = store.get_nodes(ids)
    return {i for i, n in nodes.items() if n.props.get("restricted")}


def check_answer(request: Request, principal: Principal, answer: Any,
                 *, action: str = "read") -> Any:
    """Audit restricted reads; withhold an answer that would leak. Returns JSON-able data."""
    data = to_jsonable(answer)
    store: Store = request.app.state.store
    hidden = restricted_ids(store, collect_ids(data))
    if not hidden:
        return data
    if principal.role.sees_restricted:
        admin: AdminStore = request.app.state.admin
        admin.audit(principal, f"{action}_restricted", method=request.method,
                    path=_path_with_query(request), record_ids=sorted(hidden))
        return data
    log.error("restricted record(s) %s reached the answer to %s %s for role %s; withheld",
              sorted(hidden), request.method, request.url.path, principal.role.value)
    raise ApiProblem(500, "the answer could not be produced; this is a bug, please report it")


def _path_with_query(request: Request) -> str:
    q = request.url.query
    return request.url.path + (f"?{q}" if q else "")
