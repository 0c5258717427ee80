"""What the three sanctions-list readers (OFAC, UN, Canada SEMA) share: the list file as a
``Source`` node, names with per-name provenance, designations as ``Sanction`` nodes with
their ``TARGETS`` claim, the few organisation kinds a name states plainly, and the dates of
birth that lists give in words ("circa 1956", "1951 to 1953").

Every record a reader emits cites the Source of the file it came from, so a lawyer can
always go back from a designation to the exact file (name and sha256) it was read from.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby, pairwise
from json.encoder import encode_basestring as _json_str  # what ensure_ascii=False uses
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from normality import slugify

from graph.dates import DateError, FuzzyDate, parse_date
from graph.ids import _APOS, MAX_ID_LENGTH, claim_id, make_id
from graph.model import NODE_KINDS
from graph.names import script_of, skeleton, tokens
from graph.records import NodeRecord, Problem, RelRecord
from ingest.build import MAX_CELL, Where, build_node
from ingest.bundle import Bundle

SIDECAR = "fetch.json"  # written by ``accgraph fetch`` beside a downloaded file: url, date
_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2}|\d{4}-\d{2})")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sidecar(folder: Path) -> dict[str, Any]:
    """The fetch sidecar (url, retrieved date) of a downloaded list, or {}."""
    path = folder / SIDECAR
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def snapshot_date(path: Path, hint: str | None = None) -> str | None:
    """The list's date: given by the file itself (``hint``), else a date in the file or
    folder name (``ofac_legacy_set_2021-07``), else the fetch sidecar's date, else unknown.
    Never the file's mtime: a copy's mtime says nothing about the list."""
    for text in (hint, path.name, path.parent.name if path.is_file() else None):
        if not text:
            continue
        m = _DATE_IN_NAME.search(text)
        if m:
            try:
                return parse_date(m.group(1)).text
            except DateError:
                continue
    folder = path if path.is_dir() else path.parent
    date = sidecar(folder).get("date")
    if isinstance(date, str):
        try:
            return parse_date(date[:10]).text
        except DateError:
            return None
    return None


def source_record(*, prefix: str, path: Path, digest: str, title: str, publisher: str,
                  date: str | None, url: str | None, notes: str | None = None,
                  licence: str | None = None) -> NodeRecord:
    """The Source node of one list file. Its id carries the file's hash, so each snapshot
    is its own source and re-reading the same bytes gives the same id."""
    values = {
        "id": f"source:{prefix}-{digest[:12]}",
        "title": title,
        "publisher": publisher,
        "date": date,
        "url": url,
        "kind": "sanctions_list",
        "reference": path.name,
        "sha256": digest,
        "licence": licence,
        "reliability": "Official list published by the designating authority.",
        "notes": notes,
        "confidence": "high",
    }
    node, problems = build_node("Source", values, Where(path.name, 0))
    if node is None:  # only a bug can get here: the values above are well-formed
        raise ValueError("; ".join(str(p) for p in problems))
    return node


@dataclass
class NameSet:
    """Names of one record, each with its own confidence and source (the ``names`` column)."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    def add(self, name: str | None, source_ids: Sequence[str], *, confidence: str = "high",
            lang: str | None = None) -> None:
        if not name:
            return
        name = " ".join(name.split())
        if not name or name in self._seen:
            return
        self._seen.add(name)
        # an ASCII name holds no Arabic-script letter: skip the regex search
        self.entries.append({"name": name, "lang": lang,
                             "script": "Latn" if name.isascii() else script_of(name),
                             "confidence": confidence, "source_ids": list(source_ids)})

    def fill(self, props: dict[str, Any], *, keys: bool = True) -> None:
        """Set ``name`` (first entry), ``aliases``, ``names`` and ``name_keys`` on props.
        ``keys=False`` for kinds search never looks at (Sanction: its name is derived
        from its target's), which saves a third of an OFAC read."""
        props["name"] = self.entries[0]["name"] if self.entries else props.get("name")
        props["aliases"] = [e["name"] for e in self.entries[1:]]
        props["names"] = names_json(self.entries)
        props["name_keys"] = fast_name_keys([e["name"] for e in self.entries]) if keys else []


# -- the ``names`` column, written directly ----------------------------------------------
# ``json.dumps(entries, ensure_ascii=False, sort_keys=True)`` was a third of an OFAC read
# (its encoder object is rebuilt and every dict's keys sorted on each call); the entries
# NameSet makes always have the same five keys and value types, so their JSON is written
# here with the same string encoder, and anything else goes to json.dumps. Checked equal
# on every provided list by tests/ingest/test_ofac.py.
_ENTRY_KEYS = frozenset(("confidence", "lang", "name", "script", "source_ids"))


@lru_cache(maxsize=4096)
def _json_ids(ids: tuple[str, ...]) -> str:
    return ", ".join(map(_json_str, ids))


def names_json(entries: Sequence[dict[str, Any]]) -> str:
    """Exactly ``json.dumps(entries, ensure_ascii=False, sort_keys=True)``."""
    parts: list[str] = []
    for e in entries:
        if e.keys() != _ENTRY_KEYS:
            return json.dumps(entries, ensure_ascii=False, sort_keys=True)
        conf, lang, name, script, ids = (e["confidence"], e["lang"], e["name"], e["script"],
                                         e["source_ids"])
        if (type(conf) is not str or type(name) is not str or type(script) is not str
                or (lang is not None and type(lang) is not str) or type(ids) is not list
                or not all(type(i) is str for i in ids)):
            return json.dumps(entries, ensure_ascii=False, sort_keys=True)
        parts.append(f'{{"confidence": {_json_str(conf)}, "lang": '
                     f'{"null" if lang is None else _json_str(lang)}, "name": {_json_str(name)}, '
                     f'"script": {_json_str(script)}, "source_ids": [{_json_ids(tuple(ids))}]}}')
    return "[" + ", ".join(parts) + "]"


# -- name keys, cached per word ---------------------------------------------------------
# ``graph.names.name_keys`` normalises every name from scratch (Unicode normalisation,
# Persian folding, transliteration per character), which was most of an OFAC read. Names
# share their words ("MOHAMMAD", "IRAN", "COMPANY"), and normalising a name is the same as
# normalising each of its space-separated words (every separator the tokeniser splits on
# includes whitespace; nothing it folds spans a space), so the work is cached per word.
# tests/ingest/test_ofac.py checks the result equals ``name_keys`` on every provided name.
_WORD_SPLIT = re.compile(r"[^\w]+")


@lru_cache(maxsize=262_144)
def word_tokens(word: str) -> tuple[str, ...]:
    """The normalised tokens of one whitespace-free word (``graph.names.tokens``). An
    ASCII word needs none of the Unicode folding: apostrophes go, the rest splits on
    non-word characters and is lowercased, exactly as ``normalise`` does."""
    if word.isascii():
        bare = word.replace("'", "").replace("`", "")
        return tuple(t.lower() for t in _WORD_SPLIT.split(bare) if t)
    return tuple(tokens(word))


def fast_tokens(name: str) -> list[str]:
    """``graph.names.tokens(name)``, from per-word cached results."""
    out: list[str] = []
    for word in name.split():
        out.extend(word_tokens(word))
    return out


_NON_AZ = re.compile(r"[^a-z]")
_RUNS = re.compile(r"(.)\1+")
_VOWELS = str.maketrans("", "", "aeiouyhwv")
_DIGRAPHS = (("kh", "x"), ("gh", "q"), ("zh", "j"), ("dj", "j"), ("sh", "S"), ("ch", "C"),
             ("ph", "f"), ("ck", "k"), ("ou", "u"), ("c", "k"))


def fast_skeleton(token: str) -> str:
    """Exactly ``graph.names.skeleton(token)``, with the same steps done by cheaper means
    for ASCII tokens (str.translate for the vowel drop, regexes only when needed); most
    joined token pairs are unique, so the cache there rarely helps. Checked equal on every
    provided name by tests/ingest/test_ofac.py."""
    if not token.isascii():
        return skeleton(token)
    latin = token.lower()
    if not latin.isalpha():
        latin = _NON_AZ.sub("", latin)
    return _raw_skeleton(latin).lower()


def _raw_skeleton(latin: str) -> str:
    """The skeleton steps after the letters are picked (lowercase a-z in), up to but
    not including the final lowercasing ("sh" is still "S" here)."""
    for a, b in _DIGRAPHS:
        if a in latin:
            latin = latin.replace(a, b)
    latin = latin.translate(_VOWELS)
    if _RUNS.search(latin):  # collapse runs ("mm" -> "m"); a regex template is slower
        latin = "".join([c for c, _ in groupby(latin)])
    return latin


@lru_cache(maxsize=262_144)
def _token_parts(token: str) -> tuple[str, str] | None:
    """An ASCII token's letters (lowercase a-z) and their ``_raw_skeleton``; None for
    other tokens."""
    if not token.isascii():
        return None
    latin = token.lower()
    if not latin.isalpha():
        latin = _NON_AZ.sub("", latin)
    return latin, _raw_skeleton(latin)


# A digraph can span the join of two tokens only where the first ends with a letter that
# starts one (kh gh zh dj sh ch ph ck ou) and the second starts with a letter that ends one,
# or with "zh" (which becomes the "j" of "dj").
_DIGRAPH_FIRSTS = frozenset("kgzdscpo")
_DIGRAPH_SECONDS = frozenset("hjku")


def joined_skeleton(a: str, b: str) -> str:
    """Exactly ``fast_skeleton(a + b)``, from the two tokens' cached parts: most joined
    pairs of a name are unique, and a name has several. When no digraph spans the join,
    each step works on the two halves separately, except that a run of one consonant may
    span it (collapsed here); otherwise the joined token is computed whole."""
    pa, pb = _token_parts(a), _token_parts(b)
    if pa is None or pb is None:
        return fast_skeleton(a + b)
    la, ra = pa
    lb, rb = pb
    if not la:
        return rb.lower()
    if not lb:
        return ra.lower()
    if la[-1] in _DIGRAPH_FIRSTS and (lb[0] in _DIGRAPH_SECONDS or lb.startswith("zh")):
        return fast_skeleton(a + b)
    if ra and rb and ra[-1] == rb[0]:
        return (ra + rb[1:]).lower()
    return (ra + rb).lower()


def gram_skeleton(gram: str) -> str:
    """``fast_skeleton``, from the cached parts of the token (``_token_parts``): the name
    keys of a read, ``joined_skeleton`` and the matcher's hooks and token comparisons all
    ask about the same tokens."""
    parts = _token_parts(gram)
    return skeleton(gram) if parts is None else parts[1].lower()


@lru_cache(maxsize=262_144)
def _gram_keys(gram: str) -> tuple[str, ...]:
    sk = gram_skeleton(gram)
    return ("t:" + gram, "k:" + sk) if len(sk) >= 2 else ("t:" + gram,)


@lru_cache(maxsize=262_144)
def _pair_keys(a: str, b: str) -> tuple[str, ...]:
    """``_gram_keys(a + b)`` for two tokens of adjacent words, the skeleton built from the
    tokens' own (``joined_skeleton``): two in three such pairs occur once in a list."""
    sk = joined_skeleton(a, b)
    return ("t:" + a + b, "k:" + sk) if len(sk) >= 2 else ("t:" + a + b,)


@lru_cache(maxsize=262_144)
def _word_keys(word: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """One whitespace-free word's tokens and the keys they make on their own (each token,
    and adjacent tokens within the word joined): a name's keys are its words' keys plus
    those of the token pairs that span two words."""
    toks = word_tokens(word)
    keys: set[str] = set()
    for tok in toks:
        keys.update(_gram_keys(tok))
    for a, b in pairwise(toks):
        keys.update(_gram_keys(a + b))
    return toks, frozenset(keys)


def fast_name_keys(names: Iterable[str]) -> list[str]:
    """Exactly ``graph.names.name_keys(names)``: tokens, adjacent pairs joined, and their
    consonant skeletons, sorted and de-duplicated; computed from per-word caches."""
    keys: set[str] = set()
    for name in names:
        last: str | None = None  # the previous word's last token (pairs span words)
        for word in name.split():
            toks, word_keys = _word_keys(word)
            if not toks:
                continue
            keys |= word_keys
            if last is not None:
                keys.update(_pair_keys(last, toks[0]))
            last = toks[-1]
    return sorted(keys)


@lru_cache(maxsize=65536)
def _parsed(text: str | None, allow_open: bool = False) -> FuzzyDate:
    """``parse_date``, cached: lists repeat the same few dates (and None) thousands of
    times. FuzzyDate is frozen, so sharing one is safe; errors are not cached."""
    return parse_date(text, allow_open=allow_open)


def date_props(name: str, text: str | None) -> dict[str, Any]:
    """Storage columns of a DATE field from an already checked ISO text (or None)."""
    d = _parsed(text)
    return {name: d.text or None, f"{name}_lo": d.lo, f"{name}_hi": d.hi}


@lru_cache(maxsize=65536)
def _slug(part: str) -> str:
    return slugify(_APOS.sub("", part), sep="-") or ""


def fast_make_id(kind: str, *parts: object) -> str:
    """Exactly ``graph.ids.make_id``, with each part's slug cached (an OFAC read makes
    10,759 sanction ids from a few dozen programme names; slugifying them was a sixth of
    the read). Unusual ids (empty or over-long bodies) go to ``make_id`` itself."""
    prefix = NODE_KINDS[kind].prefix
    body = "-".join(s for s in (str(p) if isinstance(p, str) and p.isdigit() and p.isascii()
                                else _slug(str(p))  # an entry number is its own slug
                                for p in parts if p is not None and str(p) != "") if s)
    if not body or len(body) > MAX_ID_LENGTH - len(prefix) - 10:
        return make_id(kind, *parts)
    return f"{prefix}:{body}"


def node(kind: str, node_id: str, props: dict[str, Any]) -> NodeRecord:
    """A node with every column of its kind present (absent = None/[]), so the loader's
    diff sees the same shape every time."""
    props.setdefault("confidence", "high")
    props.setdefault("restricted", False)
    props.setdefault("source_ids", [])
    return NodeRecord(kind, node_id, props)


def sanction(bundle: Bundle, where: Where, *, sanction_id: str, target: NodeRecord,
             authority: str, programme: str | None, list_ref: str | None,
             listed: str | None, reason: str | None, source_ids: list[str],
             name: str) -> None:
    """A designation and its TARGETS claim (valid from the listing date when known).
    Written out field by field (an OFAC read makes 10,759 of each): the same columns, in
    the same order, as ``date_props`` and ``NameSet.fill`` give."""
    d_from = _parsed(listed)
    d_none = _parsed(None)
    props: dict[str, Any] = {
        "authority": authority, "programme": programme, "list_ref": list_ref,
        "reason": reason, "source_ids": list(source_ids), "notes": None,
        "listed": d_from.text or None, "listed_lo": d_from.lo, "listed_hi": d_from.hi,
        "delisted": d_none.text or None, "delisted_lo": d_none.lo, "delisted_hi": d_none.hi,
    }
    name = " ".join(name.split())  # as NameSet.add
    if name:
        props["name"] = name
        props["aliases"] = []
        props["names"] = names_json([{"name": name, "lang": None,
                                      "script": "Latn" if name.isascii() else script_of(name),
                                      "confidence": "high", "source_ids": list(source_ids)}])
    else:
        props["name"] = None
        props["aliases"] = []
        props["names"] = "[]"
    props["name_keys"] = []  # search never looks at a Sanction's own name
    props["confidence"] = "high"
    props["restricted"] = False
    bundle.add_node(NodeRecord("Sanction", sanction_id, props), where)
    d_to = _parsed("open", True)
    rel_props = {
        "valid_from": d_from.text or None, "from_lo": d_from.lo, "from_hi": d_from.hi,
        "valid_to": d_to.text, "to_lo": d_to.lo, "to_hi": d_to.hi,
        "confidence": "high", "source_ids": list(source_ids), "note": None,
    }
    rel = RelRecord("TARGETS", claim_id("TARGETS", sanction_id, target.id), sanction_id,
                    target.id, "Sanction", target.kind, rel_props)
    bundle.add_rel(rel, where)


# Organisation kinds only where the name says so plainly ("EVIN PRISON"); else "other".
_ORG_KIND_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bprison\b(?!s)", re.IGNORECASE), "prison"),
    (re.compile(r"\bdetention (centre|center)\b", re.IGNORECASE), "detention_centre"),
    (re.compile(r"\brevolutionary court\b", re.IGNORECASE), "court"),
    (re.compile(r"\bministry of intelligence\b", re.IGNORECASE), "intelligence"),
    (re.compile(r"\b(police|law enforcement forces?)\b", re.IGNORECASE), "police"),
)


_ORG_KIND_WORDS = ("prison", "detention", "revolutionary court", "ministry of intelligence",
                   "police", "law enforcement")  # a rule above matches only names with one


def org_kind(name: str) -> str:
    if name.isascii():
        # most names hold none of the rules' words: skip the five searches (ASCII only,
        # where lowercasing is exactly what IGNORECASE compares)
        low = name.lower()
        if not any(w in low for w in _ORG_KIND_WORDS):
            return "other"
    for pattern, kind in _ORG_KIND_RULES:
        if pattern.search(name):
            return kind
    return "other"


# -- dates of birth as lists word them ------------------------------------------------
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_DAY_MON_YEAR = re.compile(r"^(?:(\d{1,2}) )?([A-Za-z]{3})[a-z]*\.? (\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")
_ISO = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_RANGE = re.compile(r"^(.+?)\s+(?:to|-)\s+(.+)$")
_CIRCA = re.compile(r"^(?:circa|ca\.?|approximately|about)\s+(.+)$", re.IGNORECASE)


@lru_cache(maxsize=65536)
def word_date(text: str) -> str | None:
    """``28 Jun 1973`` -> ``1973-06-28``, ``Jun 1973`` -> ``1973-06``, ``1973`` -> ``1973``;
    None for anything else (ranges, circa: see ``date_interval``). Cached: lists repeat
    the same dates of birth thousands of times."""
    text = text.strip().rstrip(".")
    if _ISO.match(text):
        try:
            return parse_date(text).text
        except DateError:
            return None
    m = _DAY_MON_YEAR.match(text)
    if m:
        month = _MONTHS.get(m.group(2).lower()[:3])
        if month is None:
            return None
        iso = f"{m.group(3)}-{month:02d}" + (f"-{int(m.group(1)):02d}" if m.group(1) else "")
        try:
            return parse_date(iso).text
        except DateError:
            return None
    return None


def date_interval(text: str) -> tuple[int, int] | None:
    """The day bounds a worded date may denote, ranges and ``circa`` included (circa widens
    by a year each side). Used by the matcher; None when the text is not a date."""
    text = text.strip().rstrip(".")
    circa = _CIRCA.match(text)
    if circa:
        inner = date_interval(circa.group(1))
        if inner is None:
            return None
        return inner[0] - 10000, inner[1] + 10000
    single = word_date(text)
    if single:
        d = parse_date(single)
        return d.lo, d.hi
    rng = _RANGE.match(text)
    if rng:
        a, b = word_date(rng.group(1)), word_date(rng.group(2))
        if a and b:
            return parse_date(a).lo, parse_date(b).hi
    return None


BIRTH_NOTE = "Date of birth (as listed): "


def birth_note(values: Iterable[str]) -> str | None:
    """The notes line that keeps every listed date of birth verbatim; the matcher reads it
    back (``birth_intervals``), since one imprecise date cannot hold "1951 to 1953"."""
    vals = [v for v in values if v]
    return BIRTH_NOTE + "; ".join(vals) if vals else None


def birth_intervals(props: dict[str, Any]) -> list[tuple[int, int]]:
    """Every birth interval a stored record states: its birth_date and the listed dates of
    birth kept in its notes."""
    out: list[tuple[int, int]] = []
    lo, hi = props.get("birth_date_lo"), props.get("birth_date_hi")
    if props.get("birth_date") and lo and hi:
        out.append((int(lo), int(hi)))
    notes = props.get("notes") or ""
    if BIRTH_NOTE in notes:
        line = notes.split(BIRTH_NOTE, 1)[1].split("\n", 1)[0]
        for iv in _line_intervals(line):
            if iv not in out:
                out.append(iv)
    return out


@lru_cache(maxsize=65536)
def _line_intervals(line: str) -> tuple[tuple[int, int], ...]:
    """The intervals of one ``Date of birth (as listed)`` line; cached, since thousands of
    records list the same few dates ("1960", "circa 1956")."""
    out: list[tuple[int, int]] = []
    for part in line.split(";"):
        iv = date_interval(part)
        if iv and iv not in out:
            out.append(iv)
    return tuple(out)


def problem(file: str, line: int | str, field_name: str, reason: str) -> Problem:
    return Problem(file, line, field_name, reason)


def add_note(bundle: Bundle, note: str) -> None:
    """A line for the load report's notes (counts of skipped or converted records);
    ``formats.ingest_path`` copies ``bundle.notes`` into the report."""
    bundle.notes.append(note)


def bundle_notes(bundle: Bundle) -> list[str]:
    return list(bundle.notes)


def open_xml_list(path: Path, bundle: Bundle, root_tag: str, what: str
                  ) -> tuple[Path, Element] | None:
    """Find the list's XML file (the file, or the only .xml in a folder), parse it without
    entity expansion or external entities (defusedxml), and check its root element and
    that no text is absurdly long. Problems go to the bundle; None means nothing to read."""
    file: Path | None = path if path.is_file() else None
    if path.is_dir():
        xmls = sorted(p for p in path.iterdir() if p.suffix.lower() == ".xml")
        file = xmls[0] if len(xmls) == 1 else None
    if file is None:
        bundle.problems.append(Problem(str(path), 0, "-", f"no {what} XML file found "
                                                          "(give the .xml file)"))
        return None
    try:
        root = SafeET.parse(str(file)).getroot()
    except Exception as exc:  # defusedxml raises several types; all mean "not this file"
        bundle.problems.append(Problem(file.name, 0, "-", f"not a readable XML file: {exc}"))
        return None
    if root.tag != root_tag:
        bundle.problems.append(Problem(file.name, 0, "-",
                                       f"root element is <{root.tag}>, not <{root_tag}>"))
        return None
    for el in root.iter():
        if el.text and len(el.text) > MAX_CELL:
            bundle.problems.append(Problem(file.name, 0, el.tag, f"text longer than {MAX_CELL} "
                                           "characters: not a sanctions list entry"))
            return None
    return file, root
