"""Reader for the Iran memorial archive (pedramholi/iran-memorial ``data/``): one YAML file per
victim, read from the ``.tar.gz`` (never extracted to disk) or from an extracted folder.

What each record becomes (see docs/memorial-and-ftm.md):
- the victim: a ``Person`` (``person:memorial-<file stem>``) with the Latin name, the Farsi
  name (lang ``fa``) and the archive's aliases;
- the death: an ``Incident`` (``incident:memorial-<stem>-death``) with date, place, cause
  and the archive's narrative, linked by ``VICTIM_OF``;
- the context: ``PART_OF_EVENT`` to an event ``Incident`` (the 1988 mass executions, the
  2019/2022/2025-2026 protest crackdowns...), only where the record's own
  ``event_context`` names the event (never inferred from the date);
- ``responsible_forces``: ``PERPETRATED_BY`` (role ``responsible``) to one organisation per
  institution (``ingest.memorial_forces``), the archive's wording kept on the claim's note;
- the record's cited sources: ``Source`` nodes; every claim cites them and the dataset.

The archive is a list of independent records (``atomic = False``): a malformed file is
rejected with its file name and the parser's reason, and the other records load.
Records the archive marks ``unverified`` are loaded with confidence ``low``.

Hostile input is bounded: member count, per-file and total sizes, only regular files, YAML
read with the C safe loader only, anchors/aliases and deep nesting refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from graph.dates import MAX_DAY, MIN_DAY, DateError, parse_date
from graph.ids import claim_id, short_hash
from graph.model import NODE_KINDS, RELATION_TYPES, FieldType, kind_of_id
from graph.names import has_persian
from graph.records import NodeRecord, Problem, RelRecord
from graph.store import Store
from ingest.build import DEFAULT_CONFIDENCE, Where, build_node, build_rel, name_entry
from ingest.bundle import Bundle
from ingest.memorial_forces import JUDGED_AT, Force, normalise
from ingest.progress import Progress
from ingest.sanctions_common import fast_name_keys

try:  # the C loader is ~10x faster; both are *safe* loaders
    from yaml import CSafeLoader as _SafeBase
except ImportError:  # pragma: no cover - libyaml is present in the project venv
    from yaml import SafeLoader as _SafeBase  # type: ignore[assignment]


class _Loader(_SafeBase):
    """The safe loader with dates left as text: this reader checks them itself (an
    impossible date such as 2000-02-30 would otherwise abort the whole file)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _SafeBase.yaml_implicit_resolvers.items()
}
# Per first character, the implicit resolvers to try (those for that character, then the
# wildcard ones), as PyYAML's ``BaseResolver.resolve`` builds them on every call.
_IMPLICIT: dict[str, list[tuple[str, Any]]] = {
    first: list(resolvers) + list(_Loader.yaml_implicit_resolvers.get(None, []))
    for first, resolvers in _Loader.yaml_implicit_resolvers.items() if first is not None
}
_WILDCARD: list[tuple[str, Any]] = list(_Loader.yaml_implicit_resolvers.get(None, []))


def _resolve(self: Any, kind: Any, value: Any, implicit: Any) -> str:
    """``BaseResolver.resolve`` for a loader without path resolvers (the safe loader has
    none), minus its per-call list building: the C parser calls it for every value."""
    if kind is yaml.ScalarNode:
        if implicit[0]:
            for tag, regexp in _IMPLICIT.get(value[:1], _WILDCARD):
                if regexp.match(value):
                    return str(tag)
        return "tag:yaml.org,2002:str"
    return "tag:yaml.org,2002:seq" if kind is yaml.SequenceNode else "tag:yaml.org,2002:map"


def _no_path(*_args: Any) -> None:
    """The path-resolver bookkeeping, unused without path resolvers."""


if not _SafeBase.yaml_path_resolvers:
    _Loader.resolve = _resolve  # type: ignore[method-assign]
    _Loader.descend_resolver = _no_path  # type: ignore[method-assign,assignment]
    _Loader.ascend_resolver = _no_path  # type: ignore[method-assign,assignment]

FORMAT = "iran-memorial"
DATASET_SOURCE_ID = "source:memorial-iran-memorial-archive"
MAX_MEMBER_BYTES = 1_000_000  # a victim record is a few KB; larger is not a record
MAX_MEMBERS = 500_000
MAX_TOTAL_BYTES = 2_000_000_000
MAX_NODES_PER_RECORD = 20_000  # YAML values in one record (lists, dicts, scalars)
MAX_DEPTH = 20
MAX_TEXT = 50_000  # characters kept of one narrative text
RECORD_SUFFIXES = (".yaml", ".yml")

CONFIDENCE = {"verified": "medium", "unverified": "low"}

# Sexual violence, and charges about sexuality, put victims' families at particular risk:
# records whose own text mentions them are loaded restricted. The prison-conditions sentence
# the archive repeats in hundreds of records is not a statement about the victim.
_SENSITIVE = re.compile(
    r"\b(rap(e|ed|es|ing|ist)|sexual(ly)?\s+(assault\w*|abus\w*|violen\w*|harass\w*)|sodomy|lavat"
    r"|homosexual\w*|adulter\w*|zina|gay|lesbian|transgender|lgbt\w*)\b", re.IGNORECASE)
_SENSITIVE_HINTS = ("rap", "sexual", "sodom", "lavat", "homosex", "adulter", "zina", "gay",
                    "lesbian", "transgender", "lgbt")


def _is_sensitive(text: str) -> bool:
    lower = text.lower()
    if not any(h in lower for h in _SENSITIVE_HINTS):  # cheap test first: most records
        return False
    return bool(_SENSITIVE.search(_BOILERPLATE.sub("", text)))


_BOILERPLATE = re.compile(r"beatings, torture \(including to coerce confessions\),\s+and\s+"
                          r"sexual\s+assaults", re.IGNORECASE)

# The archive's timeline (data/events/timeline.yaml at 712eca0): id -> incident kind. The
# names and dates are read from the timeline when present; these are the fallback values.
TIMELINE_KINDS = {
    "revolution-1979": "other",
    "post-revolution-executions": "mass_execution",
    "cultural-revolution-1980": "other",
    "reign-of-terror-1981-1985": "mass_execution",
    "iran-iraq-war": "other",
    "massacre-1988": "mass_execution",
    "chain-murders": "killing",
    "student-protests-1999": "protest_crackdown",
    "green-movement-2009": "protest_crackdown",
    "bloody-november-2019": "protest_crackdown",
    "woman-life-freedom-2022": "protest_crackdown",
    "massacres-2026": "protest_crackdown",
}


@dataclass(frozen=True)
class Event:
    key: str
    name: str
    kind: str
    date: str | None = None
    date_end: str | None = None
    name_fa: str | None = None
    seed_id: str | None = None  # the same event in the seed graph
    from_timeline: bool = True

    @property
    def id(self) -> str:
        return f"incident:memorial-event-{self.key}"


def _ev(key: str, name: str, date: str | None, end: str | None, fa: str | None = None,
        seed: str | None = None, timeline: bool = True) -> Event:
    kind = TIMELINE_KINDS.get(key, "other")
    return Event(key, name, kind, date, end, fa, seed, timeline)


# Fallback copies of the timeline entries (title_en, title_fa, date_start, date_end), plus
# the events that records name but the timeline lacks (named and dated as the records do).
EVENTS: dict[str, Event] = {e.key: e for e in (
    _ev("revolution-1979", "Islamic Revolution", "1979-02-11", None, "انقلاب اسلامی"),
    _ev("post-revolution-executions", "Post-Revolution Summary Executions", "1979-02-15",
        "1979-12-31", "اعدام‌های پس از انقلاب"),
    _ev("cultural-revolution-1980", "Iranian Cultural Revolution", "1980-04-18", "1983-01-01"),
    _ev("reign-of-terror-1981-1985", "Reign of Terror (1981–1985)", "1981-06-20", "1985-12-31"),
    _ev("iran-iraq-war", "Iran-Iraq War", "1980-09-22", "1988-08-20"),
    _ev("massacre-1988", "1988 Prison Massacres", "1988-07-19", "1988-12-31",
        seed="incident:mass-executions-1988"),
    _ev("chain-murders", "Chain Murders of Intellectuals", "1988-01-01", "1998-12-31"),
    _ev("student-protests-1999", "1999 Student Protests (18 Tir)", "1999-07-08", "1999-07-13"),
    _ev("green-movement-2009", "Green Movement", "2009-06-13", "2010-02-11"),
    _ev("bloody-november-2019", "Bloody November (Aban 98)", "2019-11-15", "2019-11-19",
        seed="incident:protest-crackdown-2019-11"),
    _ev("woman-life-freedom-2022", "Woman, Life, Freedom Movement", "2022-09-16", "2023-03-01",
        seed="incident:protest-crackdown-2022"),
    _ev("massacres-2026", "2026 Massacres", "2026-01-05", None,
        seed="incident:protest-crackdown-2025-2026"),
    Event("amia-bombing-1994", "AMIA bombing", "killing", "1994-07-18", None, None, None, False),
    Event("beirut-embassy-bombing-1983", "1983 bombing of the American Embassy in Beirut",
          "killing", "1983", None, None, None, False),
    Event("khuzestan-protests-2005", "Protests in Khuzestan, April 2005", "protest_crackdown",
          "2005-04-15", "2005-04-24", None, None, False),
    Event("nojeh-coup-plot", "Nojeh coup plot", "other", None, None, None, None, False),
)}

# event_context text -> events. Only contexts that name the event (or the span the
# archive's timeline gives it) are mapped; bare years ("1984", "2015 execution") are not.
EVENT_RULES: list[tuple[re.Pattern[str], str]] = [(re.compile(p, re.IGNORECASE), k) for p, k in (
    ((r"\b1988(-89)?\b.{0,25}\b(mass|massacre)|mass (killings|executions?)\b.{0,40}\b1988\b"
      r"|summer of 1988|^july-december 1988$"), "massacre-1988"),
    ((r"2025-2026 iranian nationwide protests|\b2026 iranian protests|january 2026 uprising"
      r"|december 2025 uprising"), "massacres-2026"),
    (r"woman, life, freedom|mahsa amini|^2022 protests", "woman-life-freedom-2022"),
    (r"\b2019 november protests|november 2019 protests|bloody november|aban 98",
     "bloody-november-2019"),
    ((r"\b2009 (presidential )?election protests|2009 post-election protests|green movement"
      r"|2009 ashura protests|^2009 protests$"), "green-movement-2009"),
    (r"1999 student|18 tir", "student-protests-1999"),
    (r"chain murders|1998 serial killings", "chain-murders"),
    ((r"from june 1981 to|june 20,? 1981 (demonstration|protest)|1981 june 20 demonstration"
      r"|demonstration of june 20, 1981|^june 1981 protests$|reign of terror"),
     "reign-of-terror-1981-1985"),
    (r"iran-iraq war", "iran-iraq-war"),
    (r"^(1979 (iranian |islamic )?revolution|islamic revolution)$|; 1979 revolution$",
     "revolution-1979"),
    (r"\bamia bombing", "amia-bombing-1994"),
    (r"bombing of the american embassy in beirut", "beirut-embassy-bombing-1983"),
    (r"protests in khuzestan.{0,40}2005|2005 khuzestan protests", "khuzestan-protests-2005"),
    (r"\bnoje?h?\b.{0,20}coup|coup.{0,40}\bnoje?h?\b", "nojeh-coup-plot"),
)]


def events_for(context: str) -> list[str]:
    """The event keys an ``event_context`` text names (deduplicated, in rule order)."""
    return list(_events_for(context))


@lru_cache(maxsize=8192)
def _events_for(context: str) -> tuple[str, ...]:
    return tuple(key for pattern, key in EVENT_RULES if pattern.search(context))


# cause_of_death -> incident kind (first match wins; unmatched causes -> "other").
_KIND_RULES: list[tuple[re.Pattern[str], str]] = [(re.compile(p, re.IGNORECASE), k) for p, k in (
    (r"enforced disappearance", "enforced_disappearance"),
    (r"custody|tortured? to death|under torture|interrogation|^torture", "death_in_custody"),
    (r"^(judicial )?execution|^hanging$|stoning|beheading", "execution"),
    ((r"extrajudicial|arbitrary execution|gunshot|bullet|shot|pellet|beat|beaten|stabbing"
      r"|assault|sniper|tear gas|bombing|killing|hit on head|^burn$"), "killing"),
)]


@lru_cache(maxsize=4096)
def incident_kind(cause: str | None) -> str:
    if not cause:
        return "other"
    for pattern, kind in _KIND_RULES:
        if pattern.search(cause):
            return kind
    return "other"


_KIND_LABEL = {"execution": "Execution", "killing": "Killing",
               "death_in_custody": "Death in custody", "enforced_disappearance":
               "Enforced disappearance"}

_SOURCE_KINDS = {"ngo_report": "report", "news": "news", "court_document": "court_document",
                 "witness_testimony": "testimony", "memorial_database": "web_page",
                 "encyclopedia": "web_page", "community_database": "web_page",
                 "primary": "web_page", "social_media": "web_page"}


class RecordError(Exception):
    """A record that cannot be loaded; ``field`` and ``line`` say where."""

    def __init__(self, field: str, reason: str, line: int | str = 0) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
        self.line = line


# -- bundle ------------------------------------------------------------------------------

@dataclass
class MemorialBundle(Bundle):
    """A bundle that also carries notes for the report and *optional* links: SAME_AS claims
    to seed-graph nodes, kept only when the seed node is in the graph at load time (the
    reader has no store, the loader calls ``check_references`` with one)."""

    notes: list[str] = field(default_factory=list)
    optional_rels: set[str] = field(default_factory=set)
    record_list: bool = True

    def check_references(self, store: Store) -> dict[str, NodeRecord]:
        if self.optional_rels:
            wanted = {self.rels[r].to_id for r in self.optional_rels if r in self.rels}
            present = store.get_nodes(wanted) if wanted else {}
            dropped = 0
            for rel_id in sorted(self.optional_rels):
                rel = self.rels.get(rel_id)
                if rel is not None and rel.to_id not in present and rel.to_id not in self.nodes:
                    del self.rels[rel_id]
                    self.where.pop(rel_id, None)
                    dropped += 1
            self.optional_rels = set()
            if dropped:
                self.notes.append(f"{dropped} SAME_AS link(s) to seed-graph nodes not made: the "
                                  "seed graph is not loaded (run `accgraph seed`, then re-ingest)")
        return super().check_references(store)


# -- reading members ---------------------------------------------------------------------

@dataclass
class Member:
    name: str  # path as shown in problems, e.g. data/victims/1988/x.yaml
    data: bytes | None
    problem: str | None = None


def _classify(name: str) -> str | None:
    """``record``, ``timeline``, ``template`` or None (not part of the data we read)."""
    p = PurePosixPath(name)
    if p.suffix.lower() not in RECORD_SUFFIXES:
        return None
    parts = p.parts
    if p.name.lower() == "timeline.yaml" and len(parts) >= 2 and parts[-2] == "events":
        return "timeline"
    if "victims" in parts[:-1]:
        return "template" if p.name.startswith("_") else "record"
    return None


def _iter_tar(path: Path, notes: list[str]) -> Iterator[Member]:
    count = 0
    total = 0
    ignored = 0
    with tarfile.open(path, mode="r|*") as tar:  # streaming: one pass, no random access
        for info in tar:
            count += 1
            if count > MAX_MEMBERS:
                yield Member(path.name, None, f"more than {MAX_MEMBERS} members; reading stopped")
                return
            name = info.name.lstrip("./") if info.name.startswith("./") else info.name
            what = _classify(name)
            if what is None or not info.isfile():
                if info.isfile():
                    ignored += 1
                continue
            if info.size > MAX_MEMBER_BYTES:
                yield Member(name, None, f"file of {info.size} bytes is larger than the "
                                         f"{MAX_MEMBER_BYTES} bytes a record may have")
                continue
            total += info.size
            if total > MAX_TOTAL_BYTES:
                yield Member(name, None, f"archive holds more than {MAX_TOTAL_BYTES} bytes of "
                                         "records; reading stopped")
                return
            handle = tar.extractfile(info)
            if handle is None:
                continue
            yield Member(name, handle.read(MAX_MEMBER_BYTES + 1))
    if ignored:
        notes.append(f"{ignored} file(s) in the archive are not victim records or the "
                     "timeline and were not read (CSV/TXT imports, source notes)")


def _iter_folder(root: Path, notes: list[str]) -> Iterator[Member]:
    count = 0
    total = 0
    ignored = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for fname in sorted(filenames):
            full = Path(dirpath) / fname
            rel = f"{root.name}/{full.relative_to(root).as_posix()}"
            count += 1
            if count > MAX_MEMBERS:
                yield Member(root.name, None, f"more than {MAX_MEMBERS} files; reading stopped")
                return
            if _classify(rel) is None or full.is_symlink() or not full.is_file():
                ignored += 1
                continue
            size = full.stat().st_size
            if size > MAX_MEMBER_BYTES:
                yield Member(rel, None, f"file of {size} bytes is larger than the "
                                        f"{MAX_MEMBER_BYTES} bytes a record may have")
                continue
            total += size
            if total > MAX_TOTAL_BYTES:
                yield Member(rel, None, "folder holds too many bytes of records; reading stopped")
                return
            with full.open("rb") as fh:
                yield Member(rel, fh.read(MAX_MEMBER_BYTES + 1))
    if ignored:
        notes.append(f"{ignored} file(s) in the folder are not victim records or the timeline "
                     "and were not read")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- parsing -----------------------------------------------------------------------------

def parse_yaml(data: bytes) -> Any:
    """Parse one YAML document safely, or raise RecordError with the parser's reason."""
    if len(data) > MAX_MEMBER_BYTES:
        raise RecordError("-", f"larger than {MAX_MEMBER_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RecordError("-", f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
                               f"{exc.start})", line) from exc
    try:
        value = _load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise RecordError("-", f"malformed YAML: {_reason(exc)}", line) from exc
    except yaml.YAMLError as exc:
        position = getattr(exc, "position", None)
        line = text[:position].count("\n") + 1 if isinstance(position, int) else 0
        raise RecordError("-", f"malformed YAML: {_reason(exc)}", line) from exc
    except RecursionError as exc:
        raise RecordError("-", "YAML nested too deeply") from exc
    except (ValueError, TypeError, OverflowError) as exc:
        raise RecordError("-", f"malformed YAML value: {exc}") from exc
    _check_shape(value)
    return value


_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_FLATTENED_TAGS = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")


class _Unusual(Exception):
    """A document the fast construction leaves to PyYAML's own (merge or ``=`` keys)."""


def _load(text: str) -> Any:
    """``yaml.load(text, Loader=_Loader)``, with the plain values built directly.

    The C loader parses and composes in C, but PyYAML builds the Python values in Python,
    one generator per mapping: that was over half of reading the archive. A victim record
    is mappings, lists and strings; those are built here in one recursive pass, and every
    other scalar (numbers, booleans, nulls, dates left as text, unknown tags that must
    fail) by PyYAML's own constructor, so the values are the same. A node reached twice
    (an alias) is refused here, as ``_check_shape`` refuses a shared container; merge and
    ``=`` keys (which PyYAML rewrites) send the whole document back to PyYAML."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return _build(loader, node, set())
        except _Unusual:
            return loader.construct_document(node)
    finally:
        loader.dispose()


def _build(loader: Any, node: Any, seen: set[int]) -> Any:
    tag = node.tag
    if tag == _STR_TAG and isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        if id(node) in seen:
            raise RecordError("-", "YAML anchors/aliases are not allowed in a record")
        seen.add(id(node))
        if tag == _SEQ_TAG and isinstance(node, yaml.SequenceNode):
            return [_build(loader, child, seen) for child in node.value]
        if tag == _MAP_TAG and isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag in _FLATTENED_TAGS:
                    raise _Unusual  # PyYAML's flatten_mapping rewrites these keys
                key = _build(loader, key_node, seen)
                try:
                    hash(key)
                except TypeError as exc:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        "found unhashable key", key_node.start_mark) from exc
                out[key] = _build(loader, value_node, seen)
            return out
        raise _Unusual
    return loader.construct_object(node, deep=True)


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return re.sub(r'\s*in "<unicode string>",', "", text)


def _check_shape(value: Any) -> None:
    """Refuse aliases (a shared container: the "billion laughs"), deep nesting, huge records."""
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(value, 0)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES_PER_RECORD:
            raise RecordError("-", f"more than {MAX_NODES_PER_RECORD} values in one record")
        if depth > MAX_DEPTH:
            raise RecordError("-", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, (dict, list)):
            if id(item) in seen:
                raise RecordError("-", "YAML anchors/aliases are not allowed in a record")
            seen.add(id(item))
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children)


def _line_of(data: bytes, key: str) -> int:
    m = re.search(rb"^" + re.escape(key.encode()) + rb"\s*:", data, re.MULTILINE)
    return data[: m.start()].count(b"\n") + 1 if m else 0


def _text(rec: dict[str, Any], key: str, data: bytes, limit: int = MAX_TEXT) -> str | None:
    value = rec.get(key)
    if value is None:
        return None
    if isinstance(value, (bool, dict, list)):
        raise RecordError(key, f"expected text, got a {type(value).__name__}",
                          _line_of(data, key))
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[:limit] + " […]"
    return text or None


def _date(rec: dict[str, Any], key: str, *, year_placeholder: bool
          ) -> tuple[str | None, bool, str | None]:
    """The date as ``YYYY[-MM[-DD]]``, whether a 1 January placeholder was widened to the
    year, and the archive's text when it is no valid date (then the date is left unknown and
    the text kept in the notes: one bad date does not cost the whole record)."""
    value = rec.get(key)
    if value is None or value == "":
        return None, False, None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        text = value.isoformat()
    else:
        text = " ".join(str(value).split())[:100]
    try:
        parse_date(text)
    except DateError:
        return None, False, text
    if year_placeholder and len(text) == 10 and text.endswith("-01-01"):
        return text[:4], True, None
    return text, False, None


def _gender(value: Any) -> str | None:
    text = str(value or "").strip().lower()
    return text if text in ("male", "female", "other") else None


# -- building ----------------------------------------------------------------------------
# The archive is 28k records (about 200k nodes and claims): building them through
# ``build_node``/``build_rel`` (which validate arbitrary user cells) costs more than the rest
# of the ingest. The values here are already validated by this reader, so ``fast_node`` and
# ``fast_rel`` fill the same storage columns directly; tests/ingest/test_memorial.py checks
# that they give exactly what ``build_node``/``build_rel`` give.

_NODE_TEMPLATES: dict[str, dict[str, Any]] = {}
_DATE_FIELDS: dict[str, set[str]] = {}


def _template(kind: str) -> dict[str, Any]:
    tpl = _NODE_TEMPLATES.get(kind)
    if tpl is None:
        tpl = {}
        dates: set[str] = set()
        for f in NODE_KINDS[kind].fields:
            if f.name == "id" or f.derived:
                continue
            if f.type is FieldType.DATE:
                dates.add(f.name)
                tpl.update({f.name: None, f.name + "_lo": MIN_DAY, f.name + "_hi": MAX_DAY})
            elif f.type is FieldType.LIST:
                tpl[f.name] = []
            else:
                tpl[f.name] = None
        tpl["confidence"] = DEFAULT_CONFIDENCE
        tpl["restricted"] = False
        _NODE_TEMPLATES[kind] = tpl
        _DATE_FIELDS[kind] = dates
    return tpl


@lru_cache(maxsize=4096)
def _cached_keys(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(fast_name_keys(names))


def fast_node(kind: str, node_id: str, values: dict[str, Any],
              extra_names: list[dict[str, Any]] | None = None, *,
              cache_keys: bool = False, keys: list[str] | None = None) -> NodeRecord:
    """A node with the columns ``build_node`` would give for already-valid ``values``."""
    props = dict(_template(kind))
    dates = _DATE_FIELDS[kind]
    for k, v in values.items():
        if v is None:
            continue
        if k in dates:
            d = parse_date(v)
            props[k], props[k + "_lo"], props[k + "_hi"] = d.text or None, d.lo, d.hi
        else:
            props[k] = v
    if kind == "Source" and not props.get("name"):
        props["name"] = props.get("title")
    conf = props["confidence"]
    sources = list(props.get("source_ids") or [])
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n in [props.get("name") or ""] + list(props.get("aliases") or []):
        if n and n not in seen:
            seen.add(n)
            entries.append(name_entry(n, lang=None, confidence=conf, source_ids=sources))
    for e in extra_names or ():
        if e["name"] not in seen:
            seen.add(e["name"])
            entries.append(dict(e))
    props["names"] = json.dumps(entries, ensure_ascii=False, sort_keys=True)
    all_names = tuple(e["name"] for e in entries)
    if keys is not None:
        props["name_keys"] = keys
    elif cache_keys:
        props["name_keys"] = list(_cached_keys(all_names))
    else:
        props["name_keys"] = fast_name_keys(all_names)
    return NodeRecord(kind, node_id, props)


def fast_rel(rel_type: str, from_id: str, to_id: str, values: dict[str, Any]) -> RelRecord:
    """A claim with the columns ``build_rel`` would give (no dates: the archive has none)."""
    props: dict[str, Any] = {
        "valid_from": None, "from_lo": MIN_DAY, "from_hi": MAX_DAY,
        "valid_to": None, "to_lo": MIN_DAY, "to_hi": MAX_DAY,
        "confidence": values.get("confidence") or DEFAULT_CONFIDENCE,
        "source_ids": list(values.get("source_ids") or []),
        "note": values.get("note"),
    }
    for f in RELATION_TYPES[rel_type].fields:
        props.update({f.name: values.get(f.name)} if f.type is not FieldType.DATE else {
            f.name: values.get(f.name), f.name + "_lo": MIN_DAY, f.name + "_hi": MAX_DAY})
    rel_id = claim_id(rel_type, from_id, to_id, None, None, props.get("role"))
    return RelRecord(rel_type, rel_id, from_id, to_id, kind_of_id(from_id) or "",
                     kind_of_id(to_id) or "", props)


@dataclass
class _Source:
    props: dict[str, Any]
    public_use: bool = False  # cited by at least one record that is not restricted


@dataclass
class _State:
    bundle: MemorialBundle
    sources: dict[str, _Source] = field(default_factory=dict)
    used_forces: dict[str, Force] = field(default_factory=dict)
    used_events: set[str] = field(default_factory=set)
    unmatched_forces: dict[str, int] = field(default_factory=dict)
    bad_dates: list[str] = field(default_factory=list)
    records: int = 0
    restricted: int = 0
    placeholders: int = 0


def _source_key(entry: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    url = str(entry.get("url") or "").strip()
    name = " ".join(str(entry.get("name") or "").split())
    if not url and not name:
        return None
    bare = re.sub(r"^https?://(www\.)?", "", url).rstrip("/")
    key = url if "/" in bare else f"{url}#{name}"  # a bare home page: the name identifies it
    slug = re.sub(r"[^a-z0-9]+", "-", (bare or name).lower()).strip("-")[:90].strip("-")
    sid = f"source:memorial-{slug}-{short_hash(key, length=6)}" if slug else \
        f"source:memorial-{short_hash(key, length=12)}"
    generic = name.lower() in ("", "source")
    title = url if generic and url else name
    publisher = name.split(" — ")[0].strip() if " — " in name else (None if generic else name)
    date = entry.get("date")
    if isinstance(date, dt.datetime):
        date = date.date()
    date_text = date.isoformat() if isinstance(date, dt.date) else (str(date) if date else None)
    if date_text:
        try:
            parse_date(date_text)
        except DateError:
            date_text = None
    props = {"id": sid, "title": title[:2000], "publisher": publisher, "url": url or None,
             "kind": _SOURCE_KINDS.get(str(entry.get("type") or "").lower(), "web_page"),
             "date": date_text}
    return sid, props


def _add_source(state: _State, props: dict[str, Any], restricted: bool) -> None:
    sid = props["id"]
    prior = state.sources.get(sid)
    if prior is None:
        state.sources[sid] = _Source(props, not restricted)
        return
    # One row per source whatever the order of the records: the smallest description wins.
    order = lambda p: tuple(str(p.get(k) or "") for k in ("title", "kind", "date", "publisher"))
    if order(props) < order(prior.props):
        prior.props = props
    prior.public_use = prior.public_use or not restricted


def build_record(state: _State, rec: Any, key: str, member: str, data: bytes) -> None:
    """Turn one parsed record into nodes and claims in ``state.bundle`` (or raise)."""
    if not isinstance(rec, dict):
        raise RecordError("-", f"a record must be a mapping, got a {type(rec).__name__}")
    where = Where(member, 0)
    status = str(rec.get("status") or "unverified").strip().lower()
    conf = CONFIDENCE.get(status, "low")
    name_latin = _text(rec, "name_latin", data, 500)
    name_farsi = _text(rec, "name_farsi", data, 500)
    aliases_raw = rec.get("aliases") or []
    if not isinstance(aliases_raw, list):
        aliases_raw = [aliases_raw]
    aliases = [" ".join(str(a).split()) for a in aliases_raw
               if isinstance(a, (str, int)) and str(a).strip()][:50]
    updated_by = str(rec.get("updated_by") or "")
    boroumand = updated_by.startswith("boroumand")
    death, widened_death, bad_death = _date(rec, "date_of_death", year_placeholder=boroumand)
    birth, widened_birth, bad_birth = _date(rec, "date_of_birth", year_placeholder=boroumand)
    for field_name, bad in (("date_of_death", bad_death), ("date_of_birth", bad_birth)):
        if bad:
            state.bad_dates.append(f"{member}:{_line_of(data, field_name)}: {field_name}: "
                                   f"'{bad}' is not a valid date (loaded as unknown)")
    place = _text(rec, "place_of_death", data, 500)
    province = _text(rec, "province", data, 200)
    cause = _text(rec, "cause_of_death", data, 500)
    circumstances = _text(rec, "circumstances", data)
    context = _text(rec, "event_context", data, 2000)
    forces_raw = _text(rec, "responsible_forces", data, 2000)
    sensitive_text = " ".join(t for t in (cause, circumstances, context,
                                          _text(rec, "legal_proceedings", data)) if t)
    restricted = _is_sensitive(sensitive_text) or bool(rec.get("family_persecution"))

    # Sources cited by this record.
    cited: list[str] = []
    entries = rec.get("sources") or []
    if not isinstance(entries, list):
        raise RecordError("sources", "expected a list of sources", _line_of(data, "sources"))
    for entry in entries[:500]:
        if not isinstance(entry, dict):
            continue
        found = _source_key(entry)
        if found is None:
            continue
        sid, props = found
        _add_source(state, props, restricted)
        if sid not in cited:
            cited.append(sid)
    sources = [DATASET_SOURCE_ID] + cited

    slug = key
    person_id = f"person:memorial-{slug}"
    incident_id = f"incident:memorial-{slug}-death"

    # The victim.
    display = name_latin or name_farsi
    notes: list[str] = []
    for label, k in (("Occupation", "occupation"), ("Education", "education"),
                     ("Beliefs", "beliefs"), ("Religion (as the archive records it)", "religion"),
                     ("Ethnicity", "ethnicity"), ("Place of birth", "place_of_birth")):
        v = rec.get(k)
        if isinstance(v, (str, int)) and str(v).strip():
            notes.append(f"{label}: {' '.join(str(v).split())[:1000]}")
    age = rec.get("age_at_death")
    if isinstance(age, int) and not isinstance(age, bool) and 0 <= age < 130:
        notes.append(f"Age at death: {age}")
    if widened_birth:
        notes.append("Birth date given as 1 January by the archive: read as the year only")
    if bad_birth:
        notes.append(f"Birth date as the archive gives it: '{bad_birth}' (not a valid date)")
    photo = rec.get("photo")
    if isinstance(photo, str) and photo.startswith(("http://", "https://")):
        notes.append(f"Photo: {photo[:500]}")
    notes.append(f"Memorial record: {member} (status {status})")
    extra: list[dict[str, Any]] = []
    if name_latin and name_farsi and name_farsi != name_latin:
        extra.append(name_entry(name_farsi, lang="fa", confidence=conf, source_ids=sources))
    person = fast_node("Person", person_id, {
        "name": display or f"Unnamed victim (memorial record {slug})",
        "aliases": aliases, "birth_date": birth, "gender": _gender(rec.get("gender")),
        "notes": "; ".join(notes), "source_ids": sources, "confidence": conf,
        "restricted": restricted,
    }, extra)
    if display:
        if name_farsi and not name_latin or any(has_persian(a) for a in aliases):
            names = json.loads(person.props["names"])
            for e in names:
                if e.get("script") == "Arab" and not e.get("lang"):
                    e["lang"] = "fa"
            person.props["names"] = json.dumps(names, ensure_ascii=False, sort_keys=True)
    else:  # no name: searchable by nothing rather than by "unnamed victim"
        person.props["names"] = "[]"
        person.props["name_keys"] = []

    # The death.
    kind = incident_kind(cause)
    label = _KIND_LABEL.get(kind, "Death")
    who = display or f"an unnamed victim (memorial record {slug})"
    where_text = place
    if province and place and province.lower() not in place.lower() and province != "Unknown":
        where_text = f"{place} ({province})"
    elif province and not place:
        where_text = province
    inc_notes: list[str] = []
    if circumstances:
        inc_notes.append(circumstances)
    if context:
        inc_notes.append(f"Event context (archive): {context}")
    if forces_raw:
        inc_notes.append(f"Responsible forces (archive): {forces_raw}")
    if bad_death:
        inc_notes.append(f"Date of death as the archive gives it: '{bad_death}' "
                         "(not a valid date)")
    if widened_death:
        state.placeholders += 1
        inc_notes.append("Date given as 1 January by the archive (its placeholder when only the "
                         "year is known): read as the year only")
    # The incident is found by the victim's names and its kind: its keys are the person's
    # keys plus those of "Execution of" (computing them afresh for 28k titles doubles the
    # cost of the whole read; only the joined pair "of"+first name is missing).
    inc_keys = sorted(set(person.props["name_keys"]) | set(_cached_keys((f"{label} of",))))
    incident = fast_node("Incident", incident_id, {
        "name": f"{label} of {who}", "kind": kind, "date": death,
        "place": where_text, "cause": cause, "notes": "\n\n".join(inc_notes) or None,
        "source_ids": sources, "confidence": conf, "restricted": restricted,
    }, keys=inc_keys if display else [])

    rels: list[RelRecord] = []

    def rel(rel_type: str, from_id: str, to_id: str, **values: Any) -> None:
        rels.append(fast_rel(rel_type, from_id, to_id,
                             {"source_ids": sources, "confidence": conf, **values}))

    rel("VICTIM_OF", person_id, incident_id)
    if context:
        for ev in events_for(context):
            rel("PART_OF_EVENT", incident_id, EVENTS[ev].id, note=f"event_context: {context}")
            state.used_events.add(ev)
    if forces_raw:
        named = normalise(forces_raw)
        for force in named.forces:
            rel("PERPETRATED_BY", incident_id, force.id, role="responsible",
                note=f"responsible_forces: {forces_raw}")
            state.used_forces[force.key] = force
        for part in named.unmatched:
            state.unmatched_forces[part] = state.unmatched_forces.get(part, 0) + 1

    bundle = state.bundle
    bundle.add_node(person, where)
    bundle.add_node(incident, where)
    for r in rels:
        bundle.add_rel(r, where)
    state.records += 1
    if restricted:
        state.restricted += 1


def _dataset_source(path: Path) -> dict[str, Any]:
    is_file = path.is_file()
    return {
        "id": DATASET_SOURCE_ID,
        "title": "Iran Memorial victim archive (pedramholi/iran-memorial, data/)",
        "publisher": "Iran Memorial project (github.com/pedramholi/iran-memorial)",
        "url": "https://github.com/pedramholi/iran-memorial",
        "kind": "dataset",
        "reference": path.name,
        "sha256": _sha256(path) if is_file else None,
        "licence": "CC BY-SA 4.0",
        "reliability": ("Community archive of victims of the Islamic Republic (1979-2026); most "
                        "records are imported from the Abdorrahman Boroumand Center's Omid "
                        "Memorial. Records the archive marks 'unverified' are loaded with low "
                        "confidence, 'verified' ones with medium."),
    }


def _timeline_events(data: bytes) -> dict[str, Event]:
    """Event names and dates from the archive's own timeline (fallback values otherwise)."""
    out: dict[str, Event] = {}
    value = parse_yaml(data)
    if not isinstance(value, list):
        raise RecordError("-", "the timeline must be a list of events")
    for item in value:
        if not isinstance(item, dict) or str(item.get("id")) not in TIMELINE_KINDS:
            continue
        key = str(item["id"])
        base = EVENTS[key]

        def d(v: Any) -> str | None:
            if isinstance(v, dt.date):
                return v.isoformat()
            return str(v) if v else None

        out[key] = Event(key, " ".join(str(item.get("title_en") or base.name).split()),
                         base.kind, d(item.get("date_start")), d(item.get("date_end")),
                         " ".join(str(item.get("title_fa")).split()) if item.get("title_fa")
                         else None, base.seed_id, True)
    return out


def _same_as(bundle: MemorialBundle, from_id: str, to_id: str, where: Where) -> None:
    r, _ = build_rel("SAME_AS", {
        "from": from_id, "to": to_id, "score": 1.0, "method": "curated",
        "judged_by": "ingest.memorial (curated table)", "judged_at": JUDGED_AT,
        "confidence": "high", "source_ids": [DATASET_SOURCE_ID],
        "note": "The same institution or event in the seed graph."}, where)
    if r is not None and kind_of_id(to_id) == kind_of_id(from_id):
        bundle.add_rel(r, where)
        bundle.optional_rels.add(r.id)


def read_memorial(path: Path, progress: Progress | None = None) -> MemorialBundle:
    """Read the archive (tarball, extracted folder or one YAML file) into a bundle."""
    progress = progress or Progress.quiet()
    bundle = MemorialBundle()
    if not path.exists():
        bundle.problems.append(Problem(str(path), 0, "-", "no such file or folder"))
        return bundle
    state = _State(bundle)
    timeline: dict[str, Event] = {}
    # Start the worker processes now, so that they import this module while the archive
    # is being read (a spawned worker takes about a second to start).
    if path.is_dir():
        large = sum(1 for _ in itertools.islice(path.rglob("*.yaml"), 4 * CHUNK)) >= 4 * CHUNK
    else:
        large = path.stat().st_size > 2_000_000 and path.suffix.lower() not in RECORD_SUFFIXES
    pool = _start_pool() if large else None
    try:
        return _read(path, progress, bundle, state, timeline, pool)
    except _PoolFailed:
        # the records a dead worker held cannot be told apart from the others: start
        # again without workers (same result, slower); rare (a host that kills children)
        bundle = MemorialBundle()
        return _read(path, progress, bundle, _State(bundle), {}, None)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _read(path: Path, progress: Progress, bundle: MemorialBundle, state: _State,
          timeline: dict[str, Event], pool: Any) -> MemorialBundle:
    if path.is_dir():
        members: Iterator[Member] = _iter_folder(path, bundle.notes)
    elif path.suffix.lower() in RECORD_SUFFIXES:
        members = iter([Member(f"{path.parent.name}/{path.name}",
                               path.read_bytes()[: MAX_MEMBER_BYTES + 1])])
    else:
        try:
            members = _iter_tar(path, bundle.notes)
        except (tarfile.TarError, OSError) as exc:
            bundle.problems.append(Problem(path.name, 0, "-", f"not a readable tar archive: {exc}"))
            return bundle
    # Keys: the file stem; stems that occur in two folders get the folder appended (the
    # archive has two different victims both filed as amini-mohammad). That is known only
    # at the end of the archive, but parsing starts while it is still being read (the
    # workers would otherwise wait for the whole tarball to be decompressed): a chunk is
    # sent with the plain stems as keys, and the few chunks holding a stem that turned
    # out to be shared are built again with the folder in the key.
    raw: list[tuple[str, bytes]] = []
    sent: list[tuple[list[tuple[str, bytes]], Any]] = []
    single = path.suffix.lower() in RECORD_SUFFIXES
    stems: dict[str, int] = {}
    with progress.task("reading memorial archive", total=None) as tick:
        try:
            for m in members:
                if m.problem:
                    bundle.problems.append(Problem(m.name, 0, "-", m.problem))
                    continue
                assert m.data is not None
                what = "record" if single else _classify(m.name)
                if what == "template":
                    bundle.notes.append(f"{m.name}: the archive's record template, not a record")
                    continue
                if what == "timeline":
                    try:
                        timeline = _timeline_events(m.data)
                    except RecordError as exc:
                        bundle.problems.append(Problem(m.name, exc.line, exc.field, exc.reason))
                    continue
                stem = PurePosixPath(m.name).stem
                stems[stem] = stems.get(stem, 0) + 1
                raw.append((m.name, m.data))
                if pool is not None and len(raw) == CHUNK:
                    sent.append((raw, _submit(pool, _keyed(raw, None))))
                    raw = []
                tick(1)
        except (tarfile.TarError, OSError, EOFError) as exc:
            bundle.problems.append(Problem(path.name, 0, "-", f"archive is damaged: {exc}"))
    shared = {stem for stem, n in stems.items() if n > 1}
    chunks: list[tuple[list[tuple[str, str, bytes]], Any]] = []
    for part_raw, future in sent:
        if future is None or any(PurePosixPath(name).stem in shared for name, _ in part_raw):
            if future is not None:
                future.cancel()  # keyed without the folder: build it again
            chunks.append((_keyed(part_raw, shared), None))
        else:
            chunks.append(([], future))
    for i in range(0, len(raw), CHUNK):
        chunks.append((_keyed(raw[i:i + CHUNK], shared), None))
    del raw, sent
    total = sum(stems.values())
    with progress.task("parsing and building records", total=total) as tick:
        for part in _results(chunks, pool):
            _merge(state, part)
            tick(part.records + len(part.bundle.problems))
    _finish(state, path, timeline)
    return bundle


def _keyed(raw: list[tuple[str, bytes]], shared: set[str] | None
           ) -> list[tuple[str, str, bytes]]:
    """(member, key, bytes): the key is the file stem, with the folder appended for the
    stems in ``shared`` (None: not known yet, see ``_read``)."""
    out: list[tuple[str, str, bytes]] = []
    for name, data in raw:
        p = PurePosixPath(name)
        stem = p.stem
        out.append((name, _slug_key(f"{stem}-{p.parent.name}" if shared and stem in shared
                                    else stem), data))
    return out


def _submit(pool: Any, items: list[tuple[str, str, bytes]]) -> Any:
    """The chunk's future, or None when the pool cannot take work (then it is built here)."""
    try:
        return pool.submit(_build_chunk, items)
    except (OSError, RuntimeError):
        return None


def _results(chunks: list[tuple[list[tuple[str, str, bytes]], Any]], pool: Any
             ) -> Iterator[_State]:
    """Each chunk's built records, in archive order: from its worker when it was sent
    (and built here when the pool broke), else built now (in the pool when there is one
    and enough work to share, else here)."""
    from concurrent.futures.process import BrokenProcessPool

    todo = [c for c, f in chunks if f is None]
    late = iter(_map_chunks(todo, pool))
    for _items, future in chunks:
        if future is None:
            yield next(late)
            continue
        try:
            yield future.result()
        except (BrokenProcessPool, OSError, RuntimeError):
            raise _PoolFailed from None


class _PoolFailed(Exception):
    """A worker died mid-read: ``read_memorial`` reads the archive again without workers."""


CHUNK = 500


def _worker_count() -> int:
    """Processes for parsing: YAML construction and name keys are pure Python, so a
    process per core nearly divides the time (ACCGRAPH_INGEST_WORKERS=1 turns it off)."""
    wanted = os.environ.get("ACCGRAPH_INGEST_WORKERS")
    if wanted and wanted.isdigit():
        return max(1, int(wanted))
    return max(1, min(os.cpu_count() or 1, 4))


def _warm() -> None:
    """Nothing: running it makes a worker import this module before real work arrives."""


def _start_pool() -> Any:
    workers = _worker_count()
    if workers <= 1:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: the caller may hold a database connection and threads.
    try:
        pool = ProcessPoolExecutor(max_workers=workers,
                                   mp_context=multiprocessing.get_context("spawn"))
        for _ in range(workers):
            pool.submit(_warm)
    except (OSError, RuntimeError):
        return None
    return pool


def _map_chunks(chunks: list[list[tuple[str, str, bytes]]], pool: Any) -> Iterator[_State]:
    """Build the chunks in the pool, or here when there is no pool or little work. A pool
    cannot run in every host (an unguarded __main__ script, a sandbox): then the chunks
    not yet done are built here, serially; the result is the same."""
    from concurrent.futures.process import BrokenProcessPool

    if pool is None or sum(len(c) for c in chunks) < 4 * CHUNK:
        for chunk in chunks:
            yield _build_chunk(chunk)
        return
    done = 0
    try:
        for part in pool.map(_build_chunk, chunks):
            done += 1
            yield part
    except (BrokenProcessPool, OSError, RuntimeError):
        for chunk in chunks[done:]:
            yield _build_chunk(chunk)


def _build_chunk(items: list[tuple[str, str, bytes]]) -> _State:
    """Parse and build one chunk of records (in a worker process when there are many)."""
    state = _State(MemorialBundle())
    bundle = state.bundle
    for name, key, data in items:
        try:
            build_record(state, parse_yaml(data), key, name, data)
        except RecordError as exc:
            bundle.problems.append(Problem(name, exc.line, exc.field, exc.reason))
            bundle.rejected_ids.update({f"person:memorial-{key}", f"incident:memorial-{key}-death"})
    return state


def _merge(state: _State, part: _State) -> None:
    bundle, other = state.bundle, part.bundle
    for node_id, node in other.nodes.items():
        bundle.add_node(node, other.where[node_id])
    for rel_id, rel in other.rels.items():
        bundle.add_rel(rel, other.where[rel_id])
    bundle.problems.extend(other.problems)
    bundle.rejected_ids.update(other.rejected_ids)
    for src in part.sources.values():
        _add_source(state, src.props, not src.public_use)
    state.used_forces.update(part.used_forces)
    state.used_events.update(part.used_events)
    for k, v in part.unmatched_forces.items():
        state.unmatched_forces[k] = state.unmatched_forces.get(k, 0) + v
    state.bad_dates.extend(part.bad_dates)
    state.records += part.records
    state.restricted += part.restricted
    state.placeholders += part.placeholders


def _slug_key(stem: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return slug[:120] if slug else short_hash(stem, length=12)


def _finish(state: _State, path: Path, timeline: dict[str, Event]) -> None:
    bundle = state.bundle
    here = Where(path.name, 0)
    if not state.records:
        return
    node, problems = build_node("Source", _dataset_source(path), here)
    assert node is not None, problems
    bundle.add_node(node, here)
    for sid in sorted(state.sources):
        src = state.sources[sid]
        values = {k: v for k, v in src.props.items() if k != "id"}
        node = fast_node("Source", sid, {**values, "restricted": not src.public_use},
                         cache_keys=True)
        bundle.add_node(node, here)
    for key in sorted(state.used_forces):
        force = state.used_forces[key]
        node, problems = build_node("Organization", {
            "id": force.id, "name": force.name, "kind": force.kind, "country": force.country,
            "aliases": list(force.aliases), "source_ids": [DATASET_SOURCE_ID],
            "notes": "Named in the responsible_forces field of the Iran memorial archive; each "
                     "claim keeps the archive's own spelling in its note.",
        }, here)
        assert node is not None, problems
        bundle.add_node(node, here)
        if force.seed_id:
            _same_as(bundle, force.id, force.seed_id, here)
    for key in sorted(state.used_events):
        ev = timeline.get(key) or EVENTS[key]
        origin = ("the archive's timeline (data/events/timeline.yaml)" if ev.from_timeline
                  else "the event_context of the archive's victim records")
        fa = [name_entry(ev.name_fa, lang="fa", confidence=DEFAULT_CONFIDENCE,
                         source_ids=[DATASET_SOURCE_ID])] if ev.name_fa else []
        node = fast_node("Incident", ev.id, {
            "name": ev.name, "kind": ev.kind, "date": ev.date,
            "date_end": ev.date_end, "source_ids": [DATASET_SOURCE_ID],
            "notes": f"Event as named in {origin}; victims' deaths are linked to it only where "
                     "their record's event_context names it.",
        }, fa)
        bundle.add_node(node, here)
        if ev.seed_id:
            _same_as(bundle, ev.id, ev.seed_id, here)
    if state.restricted:
        bundle.notes.append(f"{state.restricted} victim record(s) loaded as restricted (their "
                            "text mentions sexual violence or sexuality-related charges, or "
                            "persecution of the family)")
    if state.placeholders:
        bundle.notes.append(f"{state.placeholders} death date(s) given as 1 January by Omid "
                            "Memorial imports were read as the year only")
    if state.bad_dates:
        bundle.notes.extend(state.bad_dates)
    if state.unmatched_forces:
        top = sorted(state.unmatched_forces.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ", ".join(f"'{k}' ({v})" for k, v in top[:10])
        bundle.notes.append(f"{len(top)} responsible_forces part(s) name no identifiable "
                            f"organisation (kept as text on the incident): {shown}")


@dataclass
class MemorialReader:
    name: str = FORMAT
    atomic: bool = False

    def read(self, path: Path, progress: Progress) -> Bundle:
        return read_memorial(path, progress)


def summary(bundle: Bundle) -> dict[str, Any]:
    """Counts of what a bundle holds, per kind and type (for reports and the benchmark)."""
    out: dict[str, int] = {}
    for n in bundle.nodes.values():
        out[n.kind] = out.get(n.kind, 0) + 1
    for r in bundle.rels.values():
        out[r.type] = out.get(r.type, 0) + 1
    return json.loads(json.dumps(out, sort_keys=True))
