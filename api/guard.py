"""The last line of defence for restricted records, and the audit of reading them.

The query layer hides restricted records from public and researcher callers. This module
checks every answer on its way out anyway: it collects every node id in the answer and asks
the store which of them are restricted. For a lawyer or an admin those ids are written to
the audit log (every read of a restricted record is recorded). For anyone else a restricted
id in an answer is a bug in the query layer; the answer is withheld (fail closed) rather
than leak a victim's or witness's record.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from api.problems import ApiProblem
from api.security import AdminStore, Principal
from graph.model import NODE_KINDS, kind_of_id
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


# The ids of every restricted record, per store and store generation. Looking the answer's
# ids up in the database on every request (one engine query per node kind) cost as much as
# the chain query itself; restricted records are a small share of the graph (150,000 of
# 1M nodes at scale 1, about 15 MB as a set), so one scan per generation is far cheaper.
_RESTRICTED: weakref.WeakKeyDictionary[Store, tuple[int, frozenset[str]]] = \
    weakref.WeakKeyDictionary()
_RESTRICTED_LOCK = threading.Lock()


def restricted_set(store: Store) -> frozenset[str] | None:
    """All restricted ids of ``store`` at its current generation, or None for a store that
    cannot list them in one scan (then each answer's ids are looked up instead)."""
    execute = getattr(store, "execute", None)
    if store.dialect != "ladybug" or execute is None:
        return None
    gen = store.generation
    hit = _RESTRICTED.get(store)
    if hit is not None and hit[0] == gen:
        return hit[1]
    with _RESTRICTED_LOCK:  # one build at a time: concurrent requests wait for it
        hit = _RESTRICTED.get(store)
        if hit is not None and hit[0] == gen:
            return hit[1]
        ids: set[str] = set()
        for kind in NODE_KINDS:
            for row in execute(f"MATCH (n:`{kind}`) WHERE n.restricted = true RETURN n.id AS id"):
                ids.add(row["id"])
        found = frozenset(ids)
        _RESTRICTED[store] = (gen, found)
        return found


def _id_pattern() -> re.Pattern[bytes]:
    prefixes = sorted((re.escape(k.prefix.encode()) for k in NODE_KINDS.values()),
                      key=len, reverse=True)
    return re.compile(rb'"((?:' + b"|".join(prefixes) + rb'):(?:[^"\\]|\\.)+)"')


_ID_IN_JSON = _id_pattern()


def collect_ids_json(body: bytes) -> set[str]:
    """Every JSON string in ``body`` that is a node id: ``collect_ids`` for rendered JSON.

    A regular expression over the bytes instead of a walk over Python objects (a tenth of
    the request's time). It finds every string value that ``collect_ids`` finds (a JSON
    string starts at an unescaped quote, which a match never swallows, since a match ends
    at the first unescaped quote) and possibly more (object keys, quoted text inside a
    longer string): more ids to check only makes the guard stricter.
    """
    out: set[str] = set()
    for m in _ID_IN_JSON.finditer(body):
        raw = m.group(1)
        text = (orjson.loads(b'"' + raw + b'"') if b"\\" in raw
                else raw.decode("utf-8", "replace"))
        if isinstance(text, str) and 3 < len(text) < 300 and " " not in text \
                and kind_of_id(text):
            out.add(text)
    return out


def restricted_ids(store: Store, ids: Iterable[str]) -> set[str]:
    ids = [i for i in ids if kind_of_id(i)]
    if not ids:
        return set()
    known = restricted_set(store)
    if known is not None:
        return {i for i in ids if i in known}
    nodes = store.get_nodes(ids)
    return {i for i, n in nodes.items() if n.props.get("restricted")}


def _checked(request: Request, principal: Principal, answer: Any,
             action: str) -> tuple[Any, tuple[str, ...]]:
    """The JSON-able answer and its restricted ids, audited; raises if it would leak."""
    data = to_jsonable(answer)
    return data, _check_ids(request, principal, collect_ids(data), action)


def _check_ids(request: Request, principal: Principal, ids: set[str],
               action: str) -> tuple[str, ...]:
    """The restricted ids among ``ids``, audited for a role that may see them; raises (and
    logs) when they would reach a role that may not."""
    store: Store = request.app.state.store
    hidden = restricted_ids(store, ids)
    if not hidden:
        return ()
    if principal.role.sees_restricted:
        _audit(request, principal, action, hidden)
        return tuple(sorted(hidden))
    log.error("restricted record(s) %s reached the answer to %s %s for role %s; withheld",
              sorted(hidden), request.method, request.url.path, principal.role.value)
    raise ApiProblem(500, "the answer could not be produced; this is a bug, please report it")


def _audit(request: Request, principal: Principal, action: str, hidden: Iterable[str]) -> None:
    admin: AdminStore = request.app.state.admin
    admin.audit(principal, f"{action}_restricted", method=request.method,
                path=_path_with_query(request), record_ids=sorted(hidden))


def check_answer(request: Request, principal: Principal, answer: Any,
                 *, action: str = "read") -> Any:
    """Audit restricted reads; withhold an answer that would leak. Returns JSON-able data."""
    return _checked(request, principal, answer, action)[0]


def render_json(answer: Any) -> bytes:
    """The answer as JSON bytes, rendered once (pydantic's serialiser for a model)."""
    if isinstance(answer, BaseModel):
        # bytes straight from pydantic-core: no dict, no second encoder
        body: bytes = answer.__pydantic_serializer__.to_json(answer)
        return body
    data = to_jsonable(answer)
    try:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # what orjson refuses (integers past 64 bits) the standard module takes
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


class JsonAnswer(Response):
    """An answer already checked and rendered to JSON bytes (orjson, once).

    Returning a ``Response`` from a route makes FastAPI skip re-validating the answer
    against its ``response_model`` and serialising it a second time; the model still
    documents the schema in OpenAPI.
    """

    media_type = "application/json"


class AnswerCache:
    """A bounded in-memory cache of rendered JSON answers (off unless the server asks).

    Keyed on the store generation, the caller's role and the full request (method, path,
    query string), so a write invalidates every entry and a public caller never gets an
    answer made for a lawyer. Bounded by bytes (least recently used first out). A hit on an
    answer holding restricted records is audited again, exactly like a miss.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[tuple[Any, ...], tuple[bytes, tuple[str, ...]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> tuple[bytes, tuple[str, ...]] | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item

    def put(self, key: tuple[Any, ...], body: bytes, hidden: tuple[str, ...]) -> None:
        cost = len(body) + 200
        if cost > self.max_bytes // 8:
            return  # one huge answer must not flush the cache
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= len(old[0]) + 200
            self._items[key] = (body, hidden)
            self.size += cost
            while self.size > self.max_bytes and self._items:
                _, (b, _h) = self._items.popitem(last=False)
                self.size -= len(b) + 200

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"entries": len(self._items), "bytes": self.size, "max_bytes": self.max_bytes,
                    "hits": self.hits, "misses": self.misses}


def answer_response(request: Request, principal: Principal, compute: Callable[[], Any],
                    *, action: str = "read") -> Response:
    """Run ``compute`` (the query), check the answer like ``check_answer`` and render it
    once with orjson; served from the ``AnswerCache`` when the server has one."""
    cache: AnswerCache | None = getattr(request.app.state, "answer_cache", None)
    key: tuple[Any, ...] | None = None
    if cache is not None and request.method == "GET":
        store: Store = request.app.state.store
        key = (store.generation, principal.role.value, request.url.path, request.url.query)
        hit = cache.get(key)
        if hit is not None:
            body, hidden = hit
            if hidden:
                _audit(request, principal, action, hidden)
            return JsonAnswer(body, headers={"X-Answer-Cache": "hit"})
    body = render_json(compute())
    hidden = _check_ids(request, principal, collect_ids_json(body), action)
    if key is not None and cache is not None:
        cache.put(key, body, hidden)
        return JsonAnswer(body, headers={"X-Answer-Cache": "miss"})
    return JsonAnswer(body)


def _path_with_query(request: Request) -> str:
    q = request.url.query
    return request.url.path + (f"?{q}" if q else "")
