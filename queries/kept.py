"""Answer parts kept from one question to the next.

An accountability answer builds about a thousand claims and entity references, and half
of them were built for an earlier answer too: every chain ends in the same few
organisations and their heads. They are built from rows that do not change until the store
does, so they are kept per store generation and handed out again. Most are the same for
every caller and are kept once (``Kept.common``): entity references, and claims whose every
source is a known, unrestricted one. A claim citing a restricted (or unknown) source is
resolved differently for a caller who may not see restricted records, so each visibility
keeps its own of those, and a public caller never receives one built for another.

Kept objects are shared by answers, so they are immutable by convention: the service
builds them complete (status included) and only its source resolution writes them, once,
with the same values every time. Nothing outside ``queries.service`` writes to an answer.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from graph.store import Store

V = TypeVar("V")
M = TypeVar("M", bound=BaseModel)

# objects of one kind kept in the newer half (the older half as many): at scale 1 about
# 95 MiB in all, and the p95 of accountability answers half of what it is without
KEPT_PER_KIND = 20_000
# organisations' parts per date interval kept in the newer half: tuples of kept claims and
# references, under 1 KiB each with the claims they keep alive. Scale 1, 4,000 mixed
# questions over both views: 10,000 found 63 % of the organisations asked again, for 13 MiB
# (5,000: 51 %); the parts go in the common set where they read the same to every caller
PARTS_KEPT = 10_000


class Halves(Generic[V]):
    """A dictionary of bounded size that keeps what is used: two halves, lookups promote
    from the older to the newer, and a full newer half becomes the older one (the oldest
    are dropped). Cheaper per lookup than an LRU and as good for answers, whose shared
    parts are hit again and again."""

    def __init__(self, limit: int = KEPT_PER_KIND) -> None:
        self.limit = limit
        self.new: dict[Any, V] = {}
        self.old: dict[Any, V] = {}

    def get(self, key: Any) -> V | None:
        v = self.new.get(key)
        if v is None:
            v = self.old.get(key)
            if v is not None:
                self.put(key, v)
        return v

    def put(self, key: Any, value: V) -> None:
        if len(self.new) >= self.limit:
            self.old, self.new = self.new, {}
        self.new[key] = value

    def __len__(self) -> int:
        return len(self.new) + len(self.old)


class Kept:
    """What one store generation keeps for one visibility (or, as ``common``, for every
    caller): claims (by edge, direction, the asked end's name and status), entity
    references (by id; only the common set's are used), and which claims already carry
    their sources. (Structure rows were kept too, once: more memory and no faster, since
    ``Structure`` caches what they are built from.)

    ``resolved`` maps id(claim) to the claim: holding the object keeps its id from being
    reused by another while it is listed (cleared whole when it grows past the bound).
    Two visibilities each keeping every claim held about 40 MiB more per process (scale
    1, 6,000 mixed questions), and most of it was the same claims twice."""

    def __init__(self, common: Kept | None = None) -> None:
        self.claims: Halves[Any] = Halves(KEPT_PER_KIND)
        self.refs: Halves[Any] = Halves(KEPT_PER_KIND)
        # organisations' parents and heads per interval of dates (``GraphQueries._org_parts``)
        self.parts: Halves[Any] = Halves(PARTS_KEPT)
        self.resolved: dict[int, Any] = {}
        self.common: Kept = self if common is None else common

    def mark_resolved(self, claims: list[Any]) -> None:
        if len(self.resolved) + len(claims) > 2 * KEPT_PER_KIND:
            self.resolved = {}
        for c in claims:
            self.resolved[id(c)] = c


# pydantic gives every model its own set of the fields its constructor was given: 728
# bytes each, more than the model's values (a claim's are 464). Kept models share one set
# per distinct content instead (``lean``): about a third of what they hold.
_FIELDS_SETS: dict[frozenset[str], set[str]] = {}
_LOCK = threading.Lock()


def lean(model: M) -> M:
    """``model`` with its set of given fields swapped for an equal shared one. Safe because
    nothing reads that set but ``exclude_unset`` dumps, and no answer is dumped that way;
    a later assignment through pydantic adds a field name already in it (kept models are
    built with every field they are later assigned)."""
    fields = model.__pydantic_fields_set__
    key = frozenset(fields)
    shared = _FIELDS_SETS.get(key)
    if shared is None:
        with _LOCK:
            shared = _FIELDS_SETS.setdefault(key, set(fields))
    object.__setattr__(model, "__pydantic_fields_set__", shared)
    return model


_KEPT: weakref.WeakKeyDictionary[Store, tuple[int, dict[bool | None, Kept]]] = \
    weakref.WeakKeyDictionary()


def kept(store: Store, include_restricted: bool) -> Kept:
    """The kept objects of ``store``'s current generation for one visibility, with the
    generation's common set as its ``common`` (new, empty sets after any committed
    write)."""
    cached = _KEPT.get(store)
    gen = store.generation
    if cached is None or cached[0] != gen:
        with _LOCK:
            cached = _KEPT.get(store)
            if cached is None or cached[0] != gen:
                cached = (gen, {})
                _KEPT[store] = cached
    by_visibility = cached[1]
    k = by_visibility.get(include_restricted)
    if k is None:
        with _LOCK:
            common = by_visibility.setdefault(None, Kept())
            k = by_visibility.setdefault(include_restricted, Kept(common))
    return k
