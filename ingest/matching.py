"""Entity matching: does a record just loaded describe an entity the graph already holds?

Candidates come from the graph by shared name keys (``graph.names``: normalised tokens and
consonant skeletons, which bridge Persian script and Latin transliterations). Each candidate
is scored on

- names: every pair of the two records' names (weak, low-confidence aliases left out), each
  aligned token by token (adjacent tokens may join, so "Gholam-Hossein" meets
  "Gholamhossein"; tokens compare by edit similarity and by skeleton, so "Qolam" meets
  "Gholam"); the score is the share of both names' letters covered by the alignment;
- dates of birth (agreement corroborates, a conflict costs 0.3), nationality (ISO codes via
  followthemoney), gender (a conflict costs 0.4) and, for organisations, their kind.

A pair scoring at least ``LINK_THRESHOLD`` whose names are distinctive (three tokens or more
for a person, two for an organisation, fully covered) or whose attributes corroborate it is
linked ``SAME_AS`` (score, method, ``judged_by = matcher:<version>``, ``judged_at``); a pair
scoring at least ``REVIEW_THRESHOLD`` goes to the review queue (``ingest.review``).
Nothing is ever merged: both records stay as they were. Decisions taken in review win over
the matcher, on every run.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process

from graph import catalog
from graph.ids import claim_id
from graph.names import latinise, normalise
from graph.records import NodeRecord, RelRecord
from graph.store import Store
from ingest.build import Where, build_rel
from ingest.bundle import Bundle
from ingest.loader import LoadReport, gc_paused, load_bundle, stored_count
from ingest.progress import Progress
from ingest.review import ACCEPTED, REJECTED, ReviewQueue, ordered
from ingest.sanctions_common import (
    birth_intervals,
    fast_tokens,
    gram_skeleton,
    joined_skeleton,
)

VERSION = "1"
METHOD = f"names+attributes v{VERSION}"
LINK_THRESHOLD = 0.90
REVIEW_THRESHOLD = 0.75
MAX_CANDIDATES = 12  # per record, the ones sharing most keys
MAX_KEY_FREQUENCY = 400  # keys carried by more graph records than this do not propose
MATCHED_KINDS = ("Person", "Organization")
MIN_TOKEN_SIMILARITY = 0.65  # token pairs less alike than this are not aligned

# Honorifics and particles that say nothing about who someone is.
STOP_TOKENS = frozenset({
    "seyed", "seyyed", "sayyed", "sayed", "seyyid", "sayyid", "syed", "hojatoleslam",
    "hojjatoleslam", "hojjat", "hojat", "ayatollah", "haj", "haji", "hajj", "mr", "mrs",
    "dr", "sheikh", "shaykh", "mullah", "mawlawi", "maulavi", "al", "el", "ol", "ul", "e",
    "the", "of", "and", "general", "brigadier", "colonel",
})  # fmt: skip

_PROFILE_COLUMNS = {
    "Person": ("id AS id, n.names AS names, n.name_keys AS name_keys, n.birth_date AS birth_date, "
               "n.birth_date_lo AS birth_date_lo, n.birth_date_hi AS birth_date_hi, "
               "n.notes AS notes, n.nationality AS nationality, n.gender AS gender, "
               "n.source_ids AS source_ids"),
    "Organization": ("id AS id, n.names AS names, n.name_keys AS name_keys, n.kind AS kind, "
                     "n.country AS country, n.source_ids AS source_ids"),
}
for _kind, _cols in _PROFILE_COLUMNS.items():
    catalog.register(
        f"matching.profiles.{_kind.lower()}",
        ladybug=f"MATCH (n:{_kind}) RETURN n.{_cols}",
        doc="every record of one kind with what the matcher compares (names, keys, dates)")
    catalog.register(
        f"matching.profiles_by_id.{_kind.lower()}",
        ladybug=f"UNWIND $ids AS i MATCH (n:{_kind} {{id: i}}) RETURN n.{_cols}",
        doc="the records of one kind with these ids, with what the matcher compares")
    catalog.register(
        f"matching.ids.{_kind.lower()}",
        ladybug=f"MATCH (n:{_kind}) RETURN n.id AS id",
        doc="the ids of every record of one kind (to find those a load did not bring)")


# -- names ----------------------------------------------------------------------------
@lru_cache(maxsize=200_000)
def prepare(name: str) -> tuple[str, ...]:
    """A name's comparable tokens: normalised, Persian latinised, honorifics dropped."""
    out = []
    for tok in fast_tokens(name):
        lat = tok if tok.isascii() else latinise(tok)  # no Persian letter in ASCII
        if lat and lat not in STOP_TOKENS:
            out.append(lat)
            if lat != tok:
                _FROM_PERSIAN.add(lat)
    return tuple(out)


# Latinised Persian tokens carry no vowels ("mhsny"): they compare by skeleton only.
_FROM_PERSIAN: set[str] = set()


# Words that name what kind of body an organisation is, not which one: they count for
# little in an organisation's name ("AMAN GROUP" is not "Miaan Group").
ORG_GENERIC = frozenset({
    "group", "company", "co", "corp", "corporation", "ltd", "limited", "llc", "inc", "plc",
    "holding", "holdings", "international", "organization", "organisation", "org", "bank",
    "trading", "trade", "industries", "industrial", "industry", "sa", "s", "a", "c", "v",
    "de", "cv", "srl", "gmbh", "jsc", "pjsc", "ojsc", "cjsc", "services", "service",
    "center", "centre", "institute", "foundation", "association", "national", "prison",
    "court", "forces", "force", "ministry", "office", "agency", "department", "general",
    "network", "human", "rights", "for", "in", "iran", "iranian", "islamic", "republic",
    "enterprise", "enterprises", "establishment", "commercial", "shipping", "investment",
    "investments", "fze", "fzco", "fzc", "sdn", "bhd", "pte", "pvt", "private", "llp",
})  # fmt: skip


def token_similarity(x: str, y: str) -> float:
    """Edit similarity of two tokens, raised to 0.9 when their consonant skeletons agree
    (three consonants or more) and the spellings are not far apart ("qolam"/"gholam").
    Latinised Persian tokens compare by skeleton; whether a token is one is read now, not
    remembered from the first time the pair was scored (see ``_token_similarity``)."""
    return _token_similarity(x, y, x in _FROM_PERSIAN or y in _FROM_PERSIAN)


@lru_cache(maxsize=500_000)
def _token_similarity(x: str, y: str, persian: bool) -> float:
    """``token_similarity``, cached with whether either token is latinised Persian: a
    token joins ``_FROM_PERSIAN`` when a Persian-script name holding it is first
    prepared, so a cache keyed on the two tokens alone kept whichever answer the pair got
    first, and a pair's score depended on which names had been scored before it."""
    if x == y:
        return 1.0
    if persian:
        sx, sy = gram_skeleton(x), gram_skeleton(y)
        if sx and sx == sy:
            return 0.9
        return 0.9 * fuzz.ratio(sx, sy) / 100.0 if min(len(sx), len(sy)) >= 3 else 0.0
    if min(len(x), len(y)) < 4:
        return 0.0  # short tokens (initials, acronyms) count only when equal
    sim = fuzz.ratio(x, y) / 100.0
    if sim >= 0.6:
        sx = gram_skeleton(x)
        if len(sx) >= 3 and sx == gram_skeleton(y):
            sim = max(sim, 0.9)
    return sim


def _hooks(toks: tuple[str, ...]) -> frozenset[str]:
    """Cheap keys two names must share for an alignment to be worth computing: tokens and
    their skeletons (three letters or more), also of adjacent tokens joined."""
    return _hooks_at(toks, len(_FROM_PERSIAN))


@lru_cache(maxsize=200_000)
def _hooks_at(toks: tuple[str, ...], persian_version: int) -> frozenset[str]:
    """``_hooks`` for one state of ``_FROM_PERSIAN`` (its size: it only grows), so that an
    answer is never reused after the set has changed under it."""
    out: set[str] = set()
    for unit, start, end in _units(toks):
        out.add(unit)
        # a joined unit's skeleton from its two tokens' cached parts (most joined units
        # occur once: computing them whole was a third of the hooks)
        sk = (gram_skeleton(unit) if end - start == 1
              else joined_skeleton(toks[start], toks[start + 1]))
        if len(sk) >= 3 or (unit in _FROM_PERSIAN and sk):
            out.add("~" + sk)
    return frozenset(out)


def _units(toks: tuple[str, ...]) -> list[tuple[str, int, int]]:
    units = [(t, i, i + 1) for i, t in enumerate(toks)]
    units += [(toks[i] + toks[i + 1], i, i + 2) for i in range(len(toks) - 1)]
    return units


@dataclass(frozen=True)
class NameScore:
    score: float
    matched_tokens: int  # distinctive tokens of the shorter name covered
    coverage_a: float
    coverage_b: float
    # both names keep a distinctive token the other lacks ("Yasir" vs "Omar" between the
    # same family names): brothers, not spellings of one name
    unmatched_both: bool = False


@dataclass(frozen=True)
class _Prepared:
    toks: tuple[str, ...]
    weights: tuple[float, ...]
    distinct: frozenset[int]
    units: tuple[tuple[str, int, int], ...]
    total: float
    letters: int
    strs: tuple[str, ...]  # the units' strings, for rapidfuzz
    unit_set: frozenset[str]  # the same, to test against _FROM_PERSIAN at once


@lru_cache(maxsize=200_000)
def _prepared(name: str, org: bool) -> _Prepared:
    toks = prepare(name)
    weights = tuple(len(t) * (0.25 if org and t in ORG_GENERIC else 1.0) for t in toks)
    distinct = frozenset(i for i, t in enumerate(toks) if not (org and t in ORG_GENERIC))
    units = tuple(_units(toks))
    return _Prepared(toks, weights, distinct, units, sum(weights) or 1.0,
                     sum(len(t) for t in toks), tuple(u[0] for u in units),
                     frozenset(u[0] for u in units))


_Unit = tuple[str, int, int]
# A Latin token pair reaches MIN_TOKEN_SIMILARITY only if equal or if its edit ratio is at
# least 60 (token_similarity raises ratios from 0.6 only); the C prefilter keeps every
# cell from this (a little lower, for float rounding) and token_similarity decides.
_RATIO_PREFILTER = 59.0


def _aligned_pairs(pa: _Prepared, pb: _Prepared
                   ) -> list[tuple[float, int, _Unit, _Unit]]:
    """Every unit pair of two names alike enough to align, as (similarity, letters, unit
    a, unit b), in the order a-major, b-minor (ties in the greedy alignment keep it).
    For Latin names, rapidfuzz's ``cdist`` computes every edit ratio in C first and only
    the few cells that can pass are scored in Python (the Python double loop was most of
    a match); names with a latinised Persian unit compare by skeleton, so they take the
    loop."""
    units_a, units_b = pa.units, pb.units
    pairs: list[tuple[float, int, _Unit, _Unit]] = []
    if not (pa.unit_set.isdisjoint(_FROM_PERSIAN) and pb.unit_set.isdisjoint(_FROM_PERSIAN)):
        for ua in units_a:
            a_joined = ua[2] - ua[1] > 1
            for ub in units_b:
                if a_joined and ub[2] - ub[1] > 1:
                    continue  # joined with joined says no more than the two tokens do
                sim = token_similarity(ua[0], ub[0])
                if sim >= MIN_TOKEN_SIMILARITY:
                    pairs.append((sim, len(ua[0]) + len(ub[0]), ua, ub))
        return pairs
    ratios = process.cdist(pa.strs, pb.strs, scorer=fuzz.ratio, score_cutoff=_RATIO_PREFILTER)
    rows, cols = ratios.nonzero()  # row-major: the loop's order
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        ua, ub = units_a[i], units_b[j]
        if ua[2] - ua[1] > 1 and ub[2] - ub[1] > 1:
            continue
        sim = _token_similarity(ua[0], ub[0], False)  # no unit here is Persian
        if sim >= MIN_TOKEN_SIMILARITY:
            pairs.append((sim, len(ua[0]) + len(ub[0]), ua, ub))
    return pairs


def name_similarity(a: str, b: str, *, org: bool = False) -> NameScore:
    """How far two names are the same name, in [0, 1], from the shares of each name's
    letters that the best token alignment covers: 0.65 x the larger share + 0.35 x the
    smaller, so a name missing a middle name or patronymic stays close but not equal."""
    return _name_similarity(a, b, org, len(_FROM_PERSIAN))


@lru_cache(maxsize=200_000)
def _name_similarity(a: str, b: str, org: bool, persian_version: int) -> NameScore:
    """``name_similarity`` for one state of ``_FROM_PERSIAN`` (see ``_hooks_at``)."""
    pa, pb = _prepared(a, org), _prepared(b, org)
    ta, tb = pa.toks, pb.toks
    if not ta or not tb or _hooks(ta).isdisjoint(_hooks(tb)):
        return NameScore(0.0, 0, 0.0, 0.0)
    if sorted(ta) == sorted(tb):
        return NameScore(1.0, min(len(pa.distinct), len(pb.distinct)), 1.0, 1.0)
    if pa.letters <= 6 or pb.letters <= 6:
        # acronyms and very short names: only an identical name means anything
        if "".join(ta) == "".join(tb):
            return NameScore(1.0, 1, 1.0, 1.0)
        return NameScore(0.0, 0, 0.0, 0.0)
    pairs = _aligned_pairs(pa, pb)
    if not pairs:
        return NameScore(0.0, 0, 0.0, 0.0)
    pairs.sort(key=lambda p: (-p[0], -p[1]))
    used_a: set[int] = set()
    used_b: set[int] = set()
    got_a = got_b = 0.0
    for sim, _, ua, ub in pairs:
        ra, rb = range(ua[1], ua[2]), range(ub[1], ub[2])
        if any(i in used_a for i in ra) or any(i in used_b for i in rb):
            continue
        used_a.update(ra)
        used_b.update(rb)
        got_a += sim * sum(pa.weights[i] for i in ra)
        got_b += sim * sum(pb.weights[i] for i in rb)
    cov_a = got_a / pa.total
    cov_b = got_b / pb.total
    matched = min(len(used_a & pa.distinct), len(used_b & pb.distinct))
    left_a = any(len(ta[i]) >= 3 for i in pa.distinct - used_a)
    left_b = any(len(tb[i]) >= 3 for i in pb.distinct - used_b)
    score = 0.65 * max(cov_a, cov_b) + 0.35 * min(cov_a, cov_b)
    return NameScore(round(score, 4), matched, cov_a, cov_b, left_a and left_b)


# -- a cheap upper bound of a pair's name score -----------------------------------------
# Most candidates the key index proposes share only a word or two with the record ("...
# INTERNATIONAL TRADING CO" and "International Federation for Human Rights") and score far
# below review. ``_name_bounds`` bounds each candidate's best name score from one
# rapidfuzz call per record (its units against those of all its candidates), so that
# ``judge`` aligns names (``score_pair``) only for the pairs that can reach review; the
# others are certain to be "none" and their alignment was most of a match.
@dataclass(frozen=True)
class _UnitMap:
    """The units of a profile's names, name after name: their strings (one rapidfuzz
    call), and for each the index of its name, the bitmask of that name's tokens it spans
    and whether it joins two tokens."""

    strs: tuple[str, ...]
    owners: tuple[tuple[int, int, bool], ...]

    @classmethod
    def of(cls, prepared: Sequence[_Prepared]) -> _UnitMap:
        strs: list[str] = []
        owners: list[tuple[int, int, bool]] = []
        for i, p in enumerate(prepared):
            for unit, start, end in p.units:
                strs.append(unit)
                owners.append((i, (1 << end) - (1 << start), end - start > 1))
        return cls(tuple(strs), tuple(owners))


def _covered(p: _Prepared, mask: int) -> float:
    """The share of a name's weight in the tokens of ``mask``."""
    got = 0.0
    for t, w in enumerate(p.weights):
        if mask >> t & 1:
            got += w
    return got / p.total


def _name_bounds(prof: Profile, cands: Sequence[Profile]) -> list[float]:
    """For each candidate, an upper bound of the best name score ``score_pair`` finds for
    it and ``prof``. Only name pairs sharing a hook can score above 0 (``_hooks``). In
    ``name_similarity``, a token of one name is covered only through a unit (the token,
    or it joined with a neighbour) aligned with a unit of the other name, and, for names
    without a latinised Persian unit, only units whose edit ratio passes
    ``_RATIO_PREFILTER`` are ever aligned (``_aligned_pairs``). So each name's coverage
    is at most the weight share of its tokens in a passing cell against the other name
    (similarity 1 assumed), and the score at most 0.65 x the larger + 0.35 x the smaller
    of the two. Pairs with a very short name (six letters or fewer: ``name_similarity``
    answers 1.0 or 0.0 without aligning) are answered exactly, and pairs with a
    latinised Persian unit get 1 (always scored). Checked against ``score_pair`` on the
    provided lists by tests/ingest/test_matching.py."""
    mine = prof.prepared()  # first, as score_pair does (preparing may add Persian tokens)
    bounds = [0.0] * len(cands)
    if not cands:
        return bounds
    for cand in cands:
        cand.prepared()
    org = prof.kind == "Organization"
    hooks_a = prof.name_hooks()  # once every name involved is prepared
    units = prof.unit_map()
    choices: list[str] = []  # the units of the names of candidates worth a look
    owners: list[tuple[int, int, int, bool]] = []  # (candidate, name, tokens, joined)
    wanted: set[tuple[int, int, int]] = set()  # (candidate, my name, its name)
    for k, cand in enumerate(cands):
        theirs = cand.prepared()
        shared = [(i, j) for i, ha in enumerate(hooks_a)
                  for j, hb in enumerate(cand.name_hooks()) if not ha.isdisjoint(hb)]
        if not shared:
            continue  # every name pair scores 0
        if not all(mine[i].unit_set.isdisjoint(_FROM_PERSIAN)
                   and theirs[j].unit_set.isdisjoint(_FROM_PERSIAN) for i, j in shared):
            bounds[k] = 1.0  # compared by skeleton: not bounded here
            continue
        names_b: set[int] = set()
        for i, j in shared:
            pa, pb = mine[i], theirs[j]
            if pa.letters <= 6 or pb.letters <= 6:
                if pa.letters == pb.letters:  # else 0: neither equal nor joined-equal
                    bounds[k] = max(bounds[k], name_similarity(
                        prof.names[i], cand.names[j], org=org).score)
            else:
                wanted.add((k, i, j))
                names_b.add(j)
        cmap = cand.unit_map()
        for u, (j, mask, joined) in zip(cmap.strs, cmap.owners, strict=True):
            if j in names_b:
                choices.append(u)
                owners.append((k, j, mask, joined))
    if not choices:
        return bounds
    ratios = process.cdist(units.strs, choices, scorer=fuzz.ratio,
                           score_cutoff=_RATIO_PREFILTER)
    rows, cols = ratios.nonzero()
    # (candidate, my name, its name) -> [my tokens in a passing cell, its tokens]
    cover: dict[tuple[int, int, int], list[int]] = {}
    mine_owners = units.owners
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        i, mask_a, joined_a = mine_owners[r]
        k, j, mask_b, joined_b = owners[c]
        if joined_a and joined_b:
            continue  # never aligned (see _aligned_pairs)
        key = (k, i, j)
        got = cover.get(key)
        if got is None:
            if key in wanted:
                cover[key] = [mask_a, mask_b]
        else:
            got[0] |= mask_a
            got[1] |= mask_b
    for (k, i, j), (mask_a, mask_b) in cover.items():
        a, b = _covered(mine[i], mask_a), _covered(cands[k].prepared()[j], mask_b)
        bounds[k] = max(bounds[k], 0.65 * max(a, b) + 0.35 * min(a, b))
    return bounds


# -- profiles -------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _territory_index() -> dict[str, str]:
    """Country names and codes -> ISO code, from rigour's territory table (fast to load,
    unlike a full fuzzy lookup): "Iran", "Islamic Republic of Iran", "IR", "IRN" -> "ir"."""
    from rigour.territories import get_territories

    index: dict[str, str] = {}
    for t in get_territories():
        code = t.ftm_country or t.code
        for label in (t.code, t.alpha3, t.name, t.full_name):
            if label:
                index.setdefault(_country_key(label), code)
    return index


def _country_key(text: str) -> str:
    text = text.split("/")[0]  # bilingual "Russia / Russie"
    text = re.sub(r"\(([^)]*)\)", r" \1 ", text)  # "Iran (Islamic Republic of)"
    return " ".join(sorted(normalise(text).replace("the ", " ").split()))


@lru_cache(maxsize=4096)
def country_code(value: str) -> str | None:
    return _territory_index().get(_country_key(value))


@dataclass
class Profile:
    id: str
    kind: str
    names: list[str]
    keys: list[str]
    births: list[tuple[int, int]] = field(default_factory=list)
    nationality: set[str] = field(default_factory=set)
    gender: str | None = None
    org_kind: str | None = None
    source_ids: list[str] = field(default_factory=list)
    _hooks: tuple[int, list[frozenset[str]]] | None = field(default=None, repr=False,
                                                             compare=False)
    _prep: tuple[_Prepared, ...] | None = field(default=None, repr=False, compare=False)
    _units: _UnitMap | None = field(default=None, repr=False, compare=False)

    def is_prepared(self) -> bool:
        """Whether ``prepared`` has run (and so can add no Persian token any more)."""
        return self._prep is not None

    def prepared(self) -> tuple[_Prepared, ...]:
        """Each name's ``_prepared`` form (weights as for this profile's kind)."""
        if self._prep is None:
            org = self.kind == "Organization"
            self._prep = tuple(_prepared(n, org) for n in self.names)
        return self._prep

    def name_hooks(self) -> list[frozenset[str]]:
        """Each name's hooks (``_hooks``), computed once per profile (and state of
        ``_FROM_PERSIAN``): a graph record is scored against many loaded records."""
        prepared = self.prepared()  # first: preparing may add to _FROM_PERSIAN
        version = len(_FROM_PERSIAN)
        if self._hooks is None or self._hooks[0] != version:
            self._hooks = (version, [_hooks(p.toks) for p in prepared])
        return self._hooks[1]

    def unit_map(self) -> _UnitMap:
        """Every unit of every name, for ``_name_bounds`` (computed once per profile)."""
        if self._units is None:
            self._units = _UnitMap.of(self.prepared())
        return self._units


def profile_of(kind: str, node_id: str, props: dict[str, Any]) -> Profile:
    """What the matcher compares of one record (from a bundle or the graph)."""
    names: list[str] = []
    try:
        entries = json.loads(props.get("names") or "[]")
    except ValueError:
        entries = []
    for e in entries:
        if isinstance(e, dict) and e.get("name") and e.get("confidence") != "low":
            names.append(str(e["name"]))
    if not names:
        names = [n for n in [props.get("name"), *(props.get("aliases") or [])] if n]
    prof = Profile(node_id, kind, names, list(props.get("name_keys") or []),
                   source_ids=list(props.get("source_ids") or []))
    if kind == "Person":
        prof.births = birth_intervals(props)
        for value in props.get("nationality") or []:
            code = country_code(str(value))
            if code:
                prof.nationality.add(code)
        gender = props.get("gender")
        prof.gender = gender if gender in ("male", "female") else None
    elif kind == "Organization":
        prof.org_kind = props.get("kind")
        country = props.get("country")
        if country:
            code = country_code(str(country))
            if code:
                prof.nationality.add(code)
    return prof


@dataclass
class Judgement:
    a: str
    b: str
    kind: str
    score: float
    decision: str  # link | review | none
    details: dict[str, Any]


def _overlap(x: tuple[int, int], y: tuple[int, int]) -> bool:
    return x[0] <= y[1] and y[0] <= x[1]


def _attributes(a: Profile, b: Profile, score: float, details: dict[str, Any]
                ) -> tuple[float, bool, bool]:
    """``score`` (a name score) adjusted for the two records' attributes (dates of birth,
    nationality, gender, organisation kind), whether they corroborate the pair and whether
    they conflict; each verdict goes to ``details``. A function of its own because
    ``judge`` also applies it to an upper bound of the name score, to skip pairs that
    cannot reach review before their names are aligned (the additions are the same, in
    the same order, so the floats are too)."""
    corroborated = conflict = False
    if a.births and b.births:
        if any(_overlap(x, y) for x in a.births for y in b.births):
            score += 0.05
            corroborated = True
            details["birth"] = "agrees"
        else:
            score -= 0.3
            conflict = True
            details["birth"] = "conflicts"
    if a.nationality and b.nationality:
        if a.nationality & b.nationality:
            score += 0.03
            corroborated = True
            details["nationality"] = "agrees"
        else:
            score -= 0.1
            details["nationality"] = "differs"
    if a.kind == "Person" and a.gender and b.gender and a.gender != b.gender:
        score -= 0.4
        conflict = True
        details["gender"] = "conflicts"
    if a.kind == "Organization" and a.org_kind and b.org_kind:
        if "other" not in (a.org_kind, b.org_kind):
            if a.org_kind == b.org_kind:
                score += 0.03
                corroborated = True
                details["org_kind"] = "agrees"
            else:
                score -= 0.1
                details["org_kind"] = "differs"
    return score, corroborated, conflict


def score_pair(a: Profile, b: Profile) -> Judgement:
    """Score two profiles of one kind and decide: link, review or none."""
    best: NameScore | None = None
    best_names = ("", "")
    org = a.kind == "Organization"
    hooks_a, hooks_b = a.name_hooks(), b.name_hooks()
    for na, ha in zip(a.names, hooks_a, strict=True):
        for nb, hb in zip(b.names, hooks_b, strict=True):
            if best is not None and ha.isdisjoint(hb):
                # names sharing no hook score 0 (see name_similarity), which never beats
                # the best so far: most name pairs of a candidate end here, cheaply
                continue
            ns = name_similarity(na, nb, org=org)
            if best is None or (ns.score, ns.matched_tokens) > (best.score, best.matched_tokens):
                best, best_names = ns, (na, nb)
            if ns.score == 1.0 and ns.matched_tokens >= 3:
                break
    if best is None:
        return Judgement(a.id, b.id, a.kind, 0.0, "none", {})
    details: dict[str, Any] = {"name": best.score, "names": list(best_names)}
    score, corroborated, conflict = _attributes(a, b, best.score, details)
    score = round(max(0.0, min(1.0, score)), 4)
    full = min(best.coverage_a, best.coverage_b) >= 0.9 and not best.unmatched_both
    if best.unmatched_both:
        details["unmatched_tokens"] = True
    distinctive = (best.matched_tokens >= 3 and full) if a.kind == "Person" else (
        best.matched_tokens >= 2 and full)
    details["distinctive"] = distinctive
    details["corroborated"] = corroborated
    if a.kind == "Organization":
        # a unit is not its parent ("... GUARD CORPS AIR FORCE" / "... Guard Corps"): an
        # organisation links only when both names are covered in full
        corroborated = corroborated and full
    elif best.unmatched_both:
        corroborated = False  # "Yasir ... Hasan" and "Omar ... Hasan": kin, not one person
    if score >= LINK_THRESHOLD and not conflict and (distinctive or corroborated):
        decision = "link"
    elif score >= REVIEW_THRESHOLD:
        decision = "review"
    else:
        decision = "none"
    return Judgement(a.id, b.id, a.kind, score, decision, details)


# -- candidates -----------------------------------------------------------------------
class CandidateIndex:
    """Graph records of one kind, looked up by shared name keys."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        self.profiles: dict[str, Profile] = {}
        self.by_key: defaultdict[str, list[str]] = defaultdict(list)
        for p in profiles:
            self.profiles[p.id] = p
            for k in p.keys:
                self.by_key[k].append(p.id)
        # the keys that propose candidates, with their weight: a load looks up every key
        # of thousands of records, and most keys propose nothing
        self._proposing: dict[str, tuple[int, list[str]]] = {}
        for k, ids in self.by_key.items():
            weight = 2 if k.startswith("t:") else (1 if len(k) >= 5 else 0)
            # two-consonant skeletons ("k:md") are too common to propose, and so are
            # keys carried by very many records
            if weight and ids and len(ids) <= MAX_KEY_FREQUENCY:
                self._proposing[k] = (weight, ids)

    def candidates(self, prof: Profile, exclude: set[str] | frozenset[str] = frozenset(),
                   limit: int = MAX_CANDIDATES) -> list[Profile]:
        return self.candidates_for_keys(prof.id, prof.keys, exclude, limit)

    def candidates_for_keys(self, own_id: str, keys: Iterable[str],
                            exclude: set[str] | frozenset[str] = frozenset(),
                            limit: int = MAX_CANDIDATES) -> list[Profile]:
        """The records sharing most (weighted) keys with a record of id ``own_id``."""
        proposing = self._proposing
        if proposing.keys().isdisjoint(keys):
            return []  # most records of a load: one test at C speed, no Counter
        shared: Counter[str] = Counter()
        for k in keys:
            hit = proposing.get(k)
            if hit is None:
                continue
            weight, ids = hit
            for i in ids:
                if i != own_id and i not in exclude:
                    shared[i] += weight
        if not shared:
            return []
        return [self.profiles[i] for i, n in shared.most_common(limit) if n >= 2]


def graph_profiles(store: Store, kind: str) -> list[Profile]:
    rows = store.run(f"matching.profiles.{kind.lower()}")
    return [profile_of(kind, r["id"], r) for r in rows]


_ID_BATCH = 5000


def other_profiles(store: Store, kind: str, own: set[str] | frozenset[str],
                   own_count: int) -> list[Profile]:
    """Profiles of the graph's records of ``kind`` that are not among ``own`` (the records
    just loaded, ``own_count`` of them of this kind, all stored). A load is compared with
    what the graph held besides it, so reading its own records back (and parsing their
    names) would be wasted: the count says whether anything else exists at all (nothing,
    when the graph held nothing before: then matching costs one query), the ids say which
    records, and only those are read in full."""
    total = stored_count(store, kind)
    if total <= own_count:
        return []
    return _profiles_except(store, kind, own)


def profiles_before_load(store: Store, kind: str, own: set[str] | frozenset[str]
                         ) -> list[Profile]:
    """``other_profiles`` read before the load that brings ``own`` is written: the same
    profiles in the same order, since a load only writes its own records (appended when
    new, updated in place when changed), so the graph's records outside them are the same
    before and after. Lets the matcher score while the load is written (``load_and_link``)."""
    return [profile_of(kind, r["id"], r) for r in profile_rows_before_load(store, kind, own)]


def profile_rows_before_load(store: Store, kind: str, own: set[str] | frozenset[str]
                             ) -> list[dict[str, Any]]:
    """The stored rows ``profiles_before_load`` makes its profiles of: reading them needs
    the store (before the write), making profiles of them does not, so the write
    companion does that in its own thread while the engine writes (``_JudgeWhileWriting``:
    the country table the profiles' nationalities are looked up in is built on first use,
    a twentieth of a second that would otherwise delay the write)."""
    if not stored_count(store, kind):
        return []
    return _profile_rows_except(store, kind, own)


def _profiles_except(store: Store, kind: str, own: set[str] | frozenset[str]
                     ) -> list[Profile]:
    return [profile_of(kind, r["id"], r) for r in _profile_rows_except(store, kind, own)]


def _profile_rows_except(store: Store, kind: str, own: set[str] | frozenset[str]
                         ) -> list[dict[str, Any]]:
    others = [r["id"] for r in store.run(f"matching.ids.{kind.lower()}") if r["id"] not in own]
    out: list[dict[str, Any]] = []
    for start in range(0, len(others), _ID_BATCH):
        out.extend(store.run(f"matching.profiles_by_id.{kind.lower()}",
                             {"ids": others[start:start + _ID_BATCH]}))
    return out


# -- SAME_AS records ------------------------------------------------------------------
def same_as_id(a: str, b: str) -> str:
    x, y = ordered(a, b)
    return claim_id("SAME_AS", x, y)


def same_as_record(a: str, b: str, *, score: float, method: str, judged_by: str,
                   judged_at: str, confidence: str, source_ids: Sequence[str],
                   note: str | None = None) -> RelRecord:
    x, y = ordered(a, b)
    rel, problems = build_rel("SAME_AS", {
        "id": same_as_id(x, y), "from": x, "to": y, "score": score, "method": method,
        "judged_by": judged_by, "judged_at": judged_at, "confidence": confidence,
        "source_ids": sorted(set(source_ids)), "note": note,
    }, Where("matcher", 0))
    if rel is None:
        raise ValueError("; ".join(str(p) for p in problems))
    return rel


DELETE_SAME_AS = catalog.register(
    "matching.delete_same_as",
    ladybug="MATCH ()-[r:SAME_AS]->() WHERE r.id = $id DELETE r",
    doc="remove a SAME_AS judgement that a reviewer rejected (the records themselves stay)",
)


def delete_same_as(store: Store, rel_id: str) -> bool:
    """Remove a SAME_AS judgement a reviewer rejected, in its own transaction."""
    with store.transaction():
        store.run(DELETE_SAME_AS, {"id": rel_id})
    return True


@dataclass
class MatchReport:
    compared: int = 0
    linked: int = 0
    queued: int = 0
    rejected_by_review: int = 0
    accepted_by_review: int = 0
    rels: list[RelRecord] = field(default_factory=list)
    judgements: list[Judgement] = field(default_factory=list)

    def summary(self) -> str:
        return (f"matcher v{VERSION}: {self.compared} records compared with the graph, "
                f"{self.linked} SAME_AS link(s) judged, {self.queued} pair(s) in the review "
                f"queue from this load, {self.rejected_by_review} pair(s) skipped as rejected "
                f"in review")


@dataclass
class Judged:
    """The scores of one match, before the review queue's decisions are applied: every
    (profile, candidate, judgement) in the order they were scored, and the pairs left out
    because they could not reach review (``skipped``). Computing it touches
    neither the store nor the review queue, so it can run in a second thread while the
    engine writes the load (``load_and_link``)."""

    compared: int = 0
    scored: list[tuple[Profile, Profile, Judgement]] = field(default_factory=list)
    # (record id, candidate id) of the pairs whose name score bound says "none" without
    # aligning their names (``_judge_pair``)
    skipped: list[tuple[str, str]] = field(default_factory=list)


class Matcher:
    def __init__(self, store: Store, queue: ReviewQueue | None = None) -> None:
        self.store = store
        self.queue = queue

    def match(self, records: Sequence[NodeRecord]) -> MatchReport:
        """Judge ``records`` against the graph records outside this set; returns the
        SAME_AS records to write (not yet written) and queues review pairs."""
        own = {r.id for r in records}
        others = {kind: other_profiles(self.store, kind, own, n)
                  for kind, n in Counter(r.kind for r in records).items()
                  if kind in MATCHED_KINDS}
        return self.decide(judge(records, others))

    def decide(self, judged: Judged) -> MatchReport:
        """Apply the review queue's decisions to scored pairs: SAME_AS records for the
        links (not yet written), review pairs queued and committed."""
        report = MatchReport(compared=judged.compared)
        today = _dt.date.today().isoformat()
        decisions = self.queue.decisions() if self.queue else {}
        rels: dict[str, RelRecord] = {}
        for a, b in judged.skipped:  # "none" for certain: only a rejection to count
            decided = decisions.get(ordered(a, b))
            if decided is not None and decided.status == REJECTED:
                report.rejected_by_review += 1
        for prof, cand, j in judged.scored:
            key = ordered(j.a, j.b)
            decided = decisions.get(key)
            if decided is not None and decided.status == REJECTED:
                report.rejected_by_review += 1
                continue
            if decided is not None and decided.status == ACCEPTED:
                continue  # written by accepted_links()
            if j.decision == "link":
                report.linked += 1
                report.judgements.append(j)
                rels[same_as_id(j.a, j.b)] = same_as_record(
                    j.a, j.b, score=j.score, method=METHOD,
                    judged_by=f"matcher:{VERSION}", judged_at=today,
                    confidence="medium",
                    source_ids=sorted(set(prof.source_ids) | set(cand.source_ids)),
                    note=_note(j))
            elif j.decision == "review" and self.queue is not None:
                if self.queue.propose(j.a, j.b, prof.kind, j.score, METHOD, j.details):
                    report.queued += 1
                report.judgements.append(j)
        if self.queue is not None:
            self.queue.commit()
        report.rels = list(rels.values())
        return report


def judge(records: Sequence[NodeRecord], others: dict[str, list[Profile]]) -> Judged:
    """Score each record of ``records`` against its candidates among ``others`` (the graph's
    profiles outside ``records``, per kind). Pure computation: no store, no queue."""
    out = Judged()
    own = {r.id for r in records}
    for kind in MATCHED_KINDS:
        mine = [r for r in records if r.kind == kind]
        if not mine:
            continue
        index = CandidateIndex(others.get(kind) or ())
        if not index.profiles:
            continue
        for rec in mine:
            out.compared += 1
            # candidates come from the keys alone; the full profile (names parsed
            # from JSON, dates of birth read from the notes) only when there is one
            cands = index.candidates_for_keys(rec.id, rec.props.get("name_keys") or (), own)
            if not cands:
                continue
            prof = profile_of(kind, rec.id, rec.props)
            if all(c.is_prepared() for c in cands):
                bounds = _name_bounds(prof, cands)  # one rapidfuzz call for them all
                for cand, bound in zip(cands, bounds, strict=True):
                    _judge_pair(out, prof, cand, bound)
            else:
                # a candidate seen for the first time may bring latinised Persian tokens,
                # which change how later pairs compare: score in score_pair's order, each
                # candidate prepared just before its pair, as if no pair were skipped
                for cand in cands:
                    _judge_pair(out, prof, cand, _name_bounds(prof, [cand])[0])
    return out


# Margin below REVIEW_THRESHOLD under which a bound skips a pair: the name score is
# rounded to 4 decimals before the attributes are added, and the bound's sums may differ
# from the alignment's in the last bits.
_BOUND_MARGIN = 1e-3


def _judge_pair(out: Judged, prof: Profile, cand: Profile, bound: float) -> None:
    """Score one pair into ``out``, unless the bound of its name score (``_name_bounds``)
    with its attributes added stays below review: such a pair can only be "none", and is
    listed in ``out.skipped`` instead (``decide`` still counts review rejections on it)."""
    top, _, _ = _attributes(prof, cand, bound, {})
    if top < REVIEW_THRESHOLD - _BOUND_MARGIN:
        out.skipped.append((prof.id, cand.id))
        return
    out.scored.append((prof, cand, score_pair(prof, cand)))


def _note(j: Judgement) -> str:
    names = j.details.get("names") or ["", ""]
    bits = [f"names '{names[0]}' ~ '{names[1]}' ({j.details.get('name')})"]
    for k in ("birth", "nationality", "gender", "org_kind"):
        if k in j.details:
            bits.append(f"{k} {j.details[k]}")
    return "; ".join(bits)


def accepted_links(store: Store, queue: ReviewQueue, ids: set[str] | None = None
                   ) -> list[RelRecord]:
    """SAME_AS records for every accepted review decision whose two records exist
    (restricted to pairs touching ``ids`` when given)."""
    out: list[RelRecord] = []
    pairs = [p for p in queue.decisions().values() if p.status == ACCEPTED
             and (ids is None or p.a in ids or p.b in ids)]
    if not pairs:
        return out
    nodes = store.get_nodes({p.a for p in pairs} | {p.b for p in pairs})
    for p in pairs:
        if p.a in nodes and p.b in nodes and nodes[p.a].kind == nodes[p.b].kind:
            sources = set(nodes[p.a].props.get("source_ids") or []) | set(
                nodes[p.b].props.get("source_ids") or [])
            out.append(same_as_record(
                p.a, p.b, score=p.score, method=f"review ({p.method})",
                judged_by=f"review:{p.decided_by}", judged_at=p.decided_at or p.proposed_at,
                confidence="high", source_ids=sorted(sources), note=p.note))
    return out


def link_after_load(store: Store, records: Sequence[NodeRecord], report: Any,
                    queue: ReviewQueue | None = None) -> MatchReport:
    """Run the matcher for a load's records and write its judgements in one atomic write
    (new or changed SAME_AS only, so a re-ingest writes nothing). Counts go to ``report``
    (a LoadReport) under SAME_AS, and a summary line to its notes."""
    with gc_paused():
        return _link_after_load(store, records, report, queue)


def _link_after_load(store: Store, records: Sequence[NodeRecord], report: Any,
                     queue: ReviewQueue | None, judged: Judged | None = None,
                     new_ids: set[str] | frozenset[str] = frozenset()) -> MatchReport:
    """``link_after_load``; ``judged``: the scores when already computed (``load_and_link``),
    ``new_ids``: records the load added, so no SAME_AS touching one can be stored yet."""
    own_queue = queue is None
    queue = queue or ReviewQueue.for_store(store)
    try:
        matcher = Matcher(store, queue)
        if judged is None:
            result = matcher.match([r for r in records if r.kind in MATCHED_KINDS])
        else:
            result = matcher.decide(judged)
        wanted = {r.id: r for r in result.rels}
        for rel in accepted_links(store, queue, {r.id for r in records}):
            wanted[rel.id] = rel
        # a rejected pair is never linked; a link an earlier run made is removed
        own = {r.id for r in records}
        rejected = [p for p in queue.decisions().values() if p.status == REJECTED
                    and (p.a in own or p.b in own)]
        for p in rejected:
            wanted.pop(same_as_id(p.a, p.b), None)
        if rejected:
            probes = [same_as_record(p.a, p.b, score=0.0, method="probe", judged_by="probe",
                                     judged_at="2000-01-01", confidence="low", source_ids=[])
                      for p in rejected]
            for rel_id in store.get_rels(probes):
                if delete_same_as(store, rel_id):
                    report.written = True
                    report.notes.append(f"removed SAME_AS {rel_id}: the pair was rejected "
                                        "in review")
        changed: list[RelRecord] = []
        if wanted:
            lookup = [r for r in wanted.values()
                      if r.from_id not in new_ids and r.to_id not in new_ids]
            stored = store.get_rels(lookup) if lookup else {}
            for rid, rel in wanted.items():
                old = stored.get(rid)
                if old is None:
                    report.bump("SAME_AS", "added")
                    changed.append(rel)
                    continue
                old_by = old.props.get("judged_by") or ""
                if old_by.startswith("review:") and not str(
                        rel.props.get("judged_by")).startswith("review:"):
                    report.bump("SAME_AS", "unchanged")  # a reviewer's link stays
                    continue
                same = all(old.props.get(k) == rel.props.get(k)
                           for k in ("score", "method", "judged_by"))
                if same:
                    report.bump("SAME_AS", "unchanged")
                else:
                    report.bump("SAME_AS", "updated")
                    changed.append(rel)
        if changed:
            store.write([], changed)
            report.written = True
        report.notes.append(result.summary())
        return result
    finally:
        if own_queue:
            queue.close()


class _JudgeWhileWriting:
    """The loader's write companion (``ingest.loader.WriteCompanion``) for the matcher:
    reads the graph's other profiles before the write, then scores in a second thread
    while the engine writes the load (its COPY and COMMIT run without the GIL: 0.7 s of
    the 1 s an OFAC write takes), so matching costs little wall time on top of the load."""

    def __init__(self) -> None:
        self.records: list[NodeRecord] = []
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.judged: Judged | None = None
        self.new_ids: set[str] = set()
        self._ready = False

    def before_write(self, store: Store, nodes: Sequence[NodeRecord],
                     new_ids: set[str]) -> None:
        """Read the other records now (their profiles are made in ``during_write``). Any
        error here (or in ``during_write``) leaves ``judged`` unset, so the load goes on
        and ``load_and_link`` matches the ordinary way after it (where the same error is
        raised as it always was)."""
        self.records = [r for r in nodes if r.kind in MATCHED_KINDS]
        self.new_ids = new_ids
        own = {r.id for r in self.records}
        kinds = {r.kind for r in self.records}
        try:
            self.rows = {kind: profile_rows_before_load(store, kind, own)
                         for kind in MATCHED_KINDS if kind in kinds}
            self._ready = True
        except Exception:
            self._ready = False

    def during_write(self) -> None:
        """Make the other records' profiles (as ``profiles_before_load``) and score (see
        ``before_write`` for errors)."""
        try:
            if self._ready:
                others = {kind: [profile_of(kind, r["id"], r) for r in rows]
                          for kind, rows in self.rows.items()}
                self.judged = judge(self.records, others)
            else:
                self.judged = None
        except Exception:
            self.judged = None
        self.rows = {}


def load_and_link(store: Store, bundle: Bundle, report: LoadReport,
                  progress: Progress | None = None, *, match: bool = True,
                  queue: ReviewQueue | None = None,
                  timings: dict[str, float] | None = None) -> MatchReport | None:
    """``load_bundle``, then (when the load was accepted and brought records, as
    ``ingest_path`` decides) ``link_after_load`` for its records, with the same outcome,
    but faster: the matcher scores the load's records in a second thread while the engine
    writes them (``_JudgeWhileWriting``), and only the review queue's decisions and the
    SAME_AS write are left for after the load. Returns the matcher's report, or None when
    matching did not run. ``timings``, when given, receives the seconds of the load (the
    scoring included) and of what follows it (``load_s``, ``link_s``: the benchmark)."""
    started = time.perf_counter()
    companion = _JudgeWhileWriting() if match else None
    load_bundle(store, bundle, report, progress, companion=companion)
    loaded = time.perf_counter()
    if timings is not None:
        timings["load_s"] = loaded - started
    if companion is None or report.rejected or not bundle.nodes:
        return None
    records = list(bundle.nodes.values())
    judged = companion.judged
    if judged is not None and [r.id for r in companion.records] != [
            r.id for r in records if r.kind in MATCHED_KINDS]:
        judged = None  # (cannot happen: the loader hands over the records it loads)
    with gc_paused():
        result = _link_after_load(store, records, report, queue, judged,
                                  companion.new_ids if judged is not None else frozenset())
    if timings is not None:
        timings["link_s"] = time.perf_counter() - loaded
    return result
