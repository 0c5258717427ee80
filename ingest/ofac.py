"""Reader for OFAC's legacy CSV set: ``sdn.csv`` with ``add.csv``, ``alt.csv`` and
``sdn_comments.csv`` beside it when present (see docs/sanctions.md).

The files are headerless, use ``-0-`` (often followed by a space) for null, are encoded in
latin-1/cp1252, quote with ``"`` and end with a DOS end-of-file byte (0x1A). Remarks longer
than OFAC's 1,000-character column continue in ``sdn_comments.csv``, and carry the dates
and places of birth, nationalities, gender, weak aliases and links that the legacy format
has no column for: they are parsed item by item, and every item not understood is kept
verbatim in the record's notes, so nothing a lawyer may need is lost.

Each entry becomes a Person (``person:ofac-<ent_num>``) or an Organization
(``org:ofac-<ent_num>``; vessels and aircraft too, kind ``other``, since the model has no
vessel kind), and each of its programmes a Sanction (``sanction:ofac-<ent_num>-<programme>``,
authority OFAC) that TARGETS it. A bad row is rejected with its file, line, field and
reason; the others load.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.records import NodeRecord, Problem
from ingest.build import Where
from ingest.bundle import Bundle
from ingest.loader import gc_paused
from ingest.name_keys_helper import NameKeysHelper
from ingest.progress import Progress
from ingest.sanctions_common import (
    NameSet,
    add_note,
    birth_note,
    date_props,
    fast_make_id,
    node,
    org_kind,
    sanction,
    sha256_file,
    sidecar,
    snapshot_date,
    source_record,
    word_date,
)

NULL = "-0-"
SDN_COLUMNS = ("ent_num", "name", "type", "programs", "title", "call_sign", "vess_type",
               "tonnage", "grt", "vess_flag", "vess_owner", "remarks")
ADD_COLUMNS = ("ent_num", "add_num", "address", "city_state_zip", "country", "remarks")
ALT_COLUMNS = ("ent_num", "alt_num", "alt_type", "alt_name", "remarks")
COMMENT_COLUMNS = ("ent_num", "remarks_extension")
ENTRY_TYPES = {"individual": "Person", "": "Organization", "vessel": "Organization",
               "aircraft": "Organization"}
PUBLISHER = "US Department of the Treasury, Office of Foreign Assets Control (OFAC)"
DEFAULT_URL = "https://www.treasury.gov/ofac/downloads/sdn.csv"
# sdn.csv size from which the name keys are computed in a helper process: about 1,000
# entries (starting the helper costs about 0.1 s of the other core, computing their keys
# here about 0.03 s of this one)
HELPER_MIN_BYTES = 200_000
_HELPER_BATCH = 1000  # entries' names per message to the helper

_ITEM_SPLIT = re.compile(r";\s+")
_DOB = re.compile(r"^(?:alt\. )?DOB (.+)$")
_POB = re.compile(r"^(?:alt\. )?POB (.+)$")
_NATIONALITY = re.compile(r"^(?:alt\. )?(?:nationality|citizen) (.+)$")
_GENDER = re.compile(r"^Gender (Male|Female)$", re.IGNORECASE)
_WEAK_ALIAS = re.compile(r"^(a\.k\.a\.|f\.k\.a\.|n\.k\.a\.) '(.+)'$")
_LINKED = re.compile(r"^Linked To: (.+)$")


def _clean(cell: str | None) -> str:
    """A cell's value with OFAC's null marker and padding removed."""
    if cell is None:
        return ""
    text = cell.strip()
    return "" if text == NULL else text


def decode(data: bytes) -> str:
    """OFAC's legacy files are latin-1/cp1252; newer copies may be UTF-8. Try UTF-8 first
    (it fails loudly on latin-1 bytes), then cp1252, then latin-1 (which never fails)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_csv(path: Path, columns: tuple[str, ...],
             problems: list[Problem]) -> list[tuple[int, dict[str, str]]]:
    """The rows of a headerless OFAC file as dicts, with their line numbers; malformed rows
    become problems. The trailing DOS end-of-file byte and blank lines are skipped."""
    text = decode(path.read_bytes()).replace("\x1a", "")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, dict[str, str]]] = []
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(path.name, line, "-", f"malformed CSV: {exc}"))
            break
        start, line = line, reader.line_num + 1
        if not "".join(cells).strip():  # no cell holds anything: a blank line
            continue
        if len(cells) != len(columns):
            problems.append(Problem(path.name, start, "-",
                                    f"row has {len(cells)} fields, expected {len(columns)} "
                                    f"({', '.join(columns)})"))
            continue
        rows.append((start, dict(zip(columns, cells))))
    return rows


@dataclass
class Entry:
    """One SDN entry with what the side files add to it."""

    ent_num: str
    row: dict[str, str]
    line: int
    remarks: str = ""
    aliases: list[tuple[str, str, str]] = field(default_factory=list)  # (type, name, remarks)
    addresses: list[str] = field(default_factory=list)


@dataclass
class OfacReader:
    name: str = "ofac-csv"
    atomic: bool = False

    def read(self, path: Path, progress: Progress) -> Bundle:
        return read_ofac(path, progress)


def _locate(path: Path) -> tuple[Path | None, Path]:
    """(sdn.csv, folder) for a folder or an sdn.csv path; file names in any case."""
    if path.is_file():
        return path, path.parent
    if path.is_dir():
        for child in path.iterdir():
            if child.name.lower() == "sdn.csv":
                return child, path
    return None, path


def _sibling(folder: Path, name: str) -> Path | None:
    for child in folder.iterdir():
        if child.name.lower() == name:
            return child
    return None


def read_ofac(path: Path, progress: Progress | None = None) -> Bundle:
    with gc_paused():
        return _read_ofac(path, progress or Progress.quiet())


def _read_ofac(path: Path, progress: Progress) -> Bundle:
    bundle = Bundle(record_list=True)  # independent records: a bad one is rejected alone
    sdn_path, folder = _locate(path)
    if sdn_path is None:
        bundle.problems.append(Problem(str(path), 0, "-", "no sdn.csv found (give the folder "
                                                          "of the OFAC legacy CSV set or sdn.csv)"))
        return bundle
    # a list this big is worth a second process for its name keys, started now so that it
    # is ready when the names are (see name_keys_helper.NameKeysHelper)
    helper = (NameKeysHelper.start() if sdn_path.stat().st_size >= HELPER_MIN_BYTES
              else None)
    try:
        return _read_entries(bundle, sdn_path, folder, progress, helper)
    finally:
        if helper is not None:
            helper.close()


def _read_entries(bundle: Bundle, sdn_path: Path, folder: Path, progress: Progress,
                  helper: NameKeysHelper | None) -> Bundle:
    meta = sidecar(folder)
    date = snapshot_date(sdn_path)
    files = {"sdn": sdn_path}
    for key, fname in (("add", "add.csv"), ("alt", "alt.csv"), ("comments", "sdn_comments.csv")):
        found = _sibling(folder, fname)
        if found is not None:
            files[key] = found
    sources: dict[str, str] = {}
    titles = {
        "sdn": "OFAC Specially Designated Nationals (SDN) list, legacy CSV: entries",
        "add": "OFAC SDN list, legacy CSV: addresses",
        "alt": "OFAC SDN list, legacy CSV: alternate names",
        "comments": "OFAC SDN list, legacy CSV: remarks continued",
    }
    for key, fpath in files.items():
        digest = sha256_file(fpath)
        url = meta.get("urls", {}).get(key) if isinstance(meta.get("urls"), dict) else None
        src = source_record(prefix=f"ofac-{key}", path=fpath, digest=digest, title=titles[key],
                            publisher=PUBLISHER, date=date, url=url)
        bundle.add_node(src, Where(fpath.name, 0))
        sources[key] = src.id

    problems = bundle.problems
    entries: dict[str, Entry] = {}
    sdn_rows = read_csv(sdn_path, SDN_COLUMNS, problems)
    for line, row in sdn_rows:
        ent = _clean(row["ent_num"])
        if not ent.isdigit():
            problems.append(Problem(sdn_path.name, line, "ent_num",
                                    f"'{row['ent_num'].strip()}' is not an entry number"))
            continue
        if ent in entries:
            problems.append(Problem(sdn_path.name, line, "ent_num",
                                    f"entry {ent} appears twice (first at line "
                                    f"{entries[ent].line})"))
            continue
        entries[ent] = Entry(ent, row, line, remarks=_clean(row["remarks"]))

    def side_rows(key: str, columns: tuple[str, ...]
                  ) -> list[tuple[int, Entry, dict[str, str]]]:
        """The rows of a side file with the entry each belongs to."""
        if key not in files:
            return []
        rows = read_csv(files[key], columns, problems)
        fname = files[key].name
        kept = []
        for line, row in rows:
            ent = _clean(row["ent_num"])
            entry = entries.get(ent)
            if entry is None:
                problems.append(Problem(fname, line, "ent_num",
                                        f"entry '{ent}' is not in {sdn_path.name}"))
                continue
            kept.append((line, entry, row))
        return kept

    for line, entry, row in side_rows("comments", COMMENT_COLUMNS):
        # the continuation starts exactly where sdn.csv cut the remark off (mid-word)
        entry.remarks += row["remarks_extension"].rstrip()
    for line, entry, row in side_rows("alt", ALT_COLUMNS):
        name = _clean(row["alt_name"])
        if not name:
            problems.append(Problem(files["alt"].name, line, "alt_name", "required, but empty"))
            continue
        entry.aliases.append((_clean(row["alt_type"]).lower() or "aka", name,
                              _clean(row["remarks"])))
    for line, entry, row in side_rows("add", ADD_COLUMNS):
        parts = [_clean(row["address"]), _clean(row["city_state_zip"]), _clean(row["country"])]
        text = ", ".join([p for p in parts if p])
        remarks = _clean(row["remarks"])
        if remarks:
            text += f" ({remarks})"
        if text:
            entry.addresses.append(text)

    with progress.task("reading OFAC entries", total=len(entries)) as tick:
        parsed: list[_Parsed | Problem] = []
        names: list[list[str]] = []
        for entry in entries.values():
            p = _parse_entry(entry, sources, sdn_path.name)
            parsed.append(p)
            if helper is not None and not isinstance(p, Problem):
                # the names go to the helper as they are read; their keys come back
                # while the records are built (``name_keys_helper.NameKeysHelper``)
                names.append([e["name"] for e in p.names.entries])
                if len(names) == _HELPER_BATCH:
                    helper.submit(names)
                    names = []
        if helper is not None:
            helper.submit(names)
        targets: list[tuple[NodeRecord, _Parsed]] = []
        for done, (entry, p) in enumerate(zip(entries.values(), parsed, strict=True), 1):
            if isinstance(p, Problem):
                problems.append(p)
            else:
                targets.append((_build_entry(entry, p, bundle, sources,
                                             with_keys=helper is None), p))
            if done % 1000 == 0:
                tick(1000)
        tick(len(entries) % 1000)
    if helper is not None:
        # what ``NameSet.fill`` sets, from the helper or computed here
        for (target, _), keys in zip(targets, helper.keys(), strict=True):
            target.props["name_keys"] = keys
    craft = sum(1 for e in entries.values()
                  if _clean(e.row["type"]).lower() in ("vessel", "aircraft"))
    add_note(bundle, f"{len(entries)} OFAC entries read; {craft} vessels/aircraft loaded "
                     f"as Organization (kind other, described in notes)")
    return bundle


def _split_remarks(remarks: str) -> list[str]:
    text = remarks.strip().removesuffix(".")
    return [p.strip() for p in _ITEM_SPLIT.split(text) if p.strip()]


@dataclass
class _Parsed:
    """What the first pass reads from an entry: its checked columns, its remarks item by
    item, and its names (whose keys may be computed elsewhere meanwhile)."""

    where: Where
    name: str
    etype: str
    programmes: list[str]
    titles: list[str]
    dobs: list[str]
    pobs: list[str]
    nationality: list[str]
    gender: str | None
    linked: list[str]
    other: list[str]
    former: list[str]
    names: NameSet


def _parse_entry(entry: Entry, sources: dict[str, str], fname: str) -> _Parsed | Problem:
    """An entry's columns checked (a bad one gives its problem) and its remarks and names
    read."""
    row = entry.row
    where = Where(fname, entry.line)
    name = _clean(row["name"])
    etype = _clean(row["type"]).lower()
    if not name:
        return where.problem("name", "required, but empty")
    if etype not in ENTRY_TYPES:
        return where.problem(
            "type", f"'{etype}' is not an OFAC entry type (individual, vessel, aircraft or -0-)")
    programmes = [p.strip() for p in _clean(row["programs"]).strip("[]").split("] [")
                  if p.strip()]
    if not programmes:
        return where.problem("programs", "no sanctions programme given")
    sdn_src = sources["sdn"]
    titles = [t.strip() for t in _ITEM_SPLIT.split(_clean(row["title"])) if t.strip()]
    title_set = set(titles)

    dobs: list[str] = []
    pobs: list[str] = []
    nationality: list[str] = []
    gender: str | None = None
    weak: list[tuple[str, str]] = []
    linked: list[str] = []
    other: list[str] = []
    for item in _split_remarks(entry.remarks):
        if item in title_set:
            continue  # the title column already holds it
        if m := _DOB.match(item):
            dobs.append(m.group(1).strip())
        elif m := _POB.match(item):
            pobs.append(m.group(1).strip())
        elif m := _NATIONALITY.match(item):
            value = m.group(1).strip()
            if value not in nationality:
                nationality.append(value)
        elif m := _GENDER.match(item):
            gender = m.group(1).lower()
        elif m := _WEAK_ALIAS.match(item):
            weak.append((m.group(1), m.group(2).strip()))
        elif m := _LINKED.match(item):
            linked.append(m.group(1).strip())
        else:
            other.append(item)

    names = NameSet()
    names.add(name, [sdn_src])
    former: list[str] = []
    for alt_type, alt_name, alt_remarks in entry.aliases:
        names.add(alt_name, [sources["alt"]])
        if alt_type in ("fka", "nka"):
            former.append(f"{'formerly' if alt_type == 'fka' else 'now'} known as {alt_name}")
        if alt_remarks:
            other.append(f"alias '{alt_name}': {alt_remarks}")
    for marker, alias in weak:
        # OFAC's "weak" aliases (in the remarks): too broad to identify anyone alone
        names.add(alias, [sdn_src], confidence="low")
        if marker != "a.k.a.":
            former.append(f"{marker} '{alias}' (weak alias)")
    return _Parsed(where, name, etype, programmes, titles, dobs, pobs, nationality, gender,
                   linked, other, former, names)


def _build_entry(entry: Entry, parsed: _Parsed, bundle: Bundle, sources: dict[str, str],
                 with_keys: bool = True) -> NodeRecord:
    """The records of an entry read by ``_parse_entry``: its Person or Organization, which
    is returned (its ``name_keys`` left empty when not ``with_keys``: the caller fills
    them) and its Sanctions."""
    row = entry.row
    where, name, etype = parsed.where, parsed.name, parsed.etype
    kind = ENTRY_TYPES[etype]
    sdn_src = sources["sdn"]
    titles, dobs, pobs = parsed.titles, parsed.dobs, parsed.pobs
    former, linked, other = parsed.former, parsed.linked, parsed.other

    source_ids = [sdn_src]
    if entry.aliases and "alt" in sources:
        source_ids.append(sources["alt"])
    if entry.addresses and "add" in sources:
        source_ids.append(sources["add"])
    if "comments" in sources and entry.remarks != _clean(row["remarks"]):
        source_ids.append(sources["comments"])

    names = parsed.names
    notes: list[str] = [f"OFAC SDN entry {entry.ent_num}"
                        + (f" ({etype})" if etype else "")]
    if titles:
        notes.append("Titles/positions (per OFAC): " + "; ".join(titles))
    if dobs:
        notes.append(birth_note(dobs) or "")
    if pobs:
        notes.append("Place of birth (as listed): " + "; ".join(pobs))
    if etype in ("vessel", "aircraft"):
        vessel = [f"{label} {_clean(row[col])}" for label, col in (
            ("call sign", "call_sign"), ("type", "vess_type"), ("tonnage", "tonnage"),
            ("GRT", "grt"), ("flag", "vess_flag"), ("owner", "vess_owner")) if _clean(row[col])]
        notes.append(f"{etype.capitalize()}" + (": " + "; ".join(vessel) if vessel else ""))
    if former:
        notes.append("Other names: " + "; ".join(former))
    if linked:
        notes.append("Linked to (per OFAC): " + "; ".join(linked))
    for address in entry.addresses:
        notes.append("Address: " + address)
    if other:
        notes.append("Other remarks: " + "; ".join(other))

    props: dict[str, Any] = {"notes": "\n".join(notes), "source_ids": source_ids,
                             "confidence": "high", "restricted": False}
    if kind == "Person":
        birth = word_date(dobs[0]) if len(dobs) == 1 else None
        props.update(date_props("birth_date", birth))
        props["gender"] = parsed.gender
        props["nationality"] = parsed.nationality
        node_id = f"person:ofac-{entry.ent_num}"
    else:
        props["kind"] = org_kind(name) if etype == "" else "other"
        props["country"] = None
        node_id = f"org:ofac-{entry.ent_num}"
    names.fill(props, keys=with_keys)
    target = node(kind, node_id, props)
    bundle.add_node(target, where)
    for programme in parsed.programmes:
        sanction(bundle, where,
                 sanction_id=fast_make_id("Sanction", "ofac", entry.ent_num, programme),
                 target=target, authority="OFAC", programme=programme,
                 list_ref=entry.ent_num, listed=None, reason=None, source_ids=[sdn_src],
                 name=f"OFAC {programme}: {name}")
    return target
