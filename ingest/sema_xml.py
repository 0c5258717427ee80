"""Reader for Canada's consolidated autonomous sanctions list (SEMA / JVCFOR, XML; see
docs/sanctions.md).

Each ``record`` is an individual (``LastName``/``GivenName``) or an entity (``Entity``)
under a country's regulations, keyed by country, schedule and item: that triple is the
record's only stable key, so ids are ``person:ca-sema-<country>-<schedule>-<item>`` (and
``org:`` / ``sanction:`` alike). Names and countries are often bilingual ("English/
French"): the English part is the display name, the French part a name with
``lang = fr``. Each record gets one Sanction (authority CA, programme = the regulations'
country, reference = "<country> schedule S item I").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from graph.ids import make_id
from ingest.build import Where
from ingest.bundle import Bundle
from ingest.progress import Progress
from ingest.sanctions_common import (
    NameSet,
    add_note,
    birth_note,
    date_props,
    node,
    open_xml_list,
    org_kind,
    sanction,
    sha256_file,
    sidecar,
    snapshot_date,
    source_record,
    word_date,
)

PUBLISHER = "Global Affairs Canada"
DEFAULT_URL = ("https://www.international.gc.ca/world-monde/assets/office_docs/"
               "international_relations-relations_internationales/sanctions/sema-lmes.xml")
_ACRONYM = re.compile(r"\(([A-Z]{2,10})\)")
_SUFFIX = re.compile(r"^(ltd|inc|llc|co|corp|s\.a|jsc|pjsc|ojsc|cjsc|gmbh|llp|plc|limited)\.?$",
                     re.IGNORECASE)


@dataclass
class SemaReader:
    name: str = "sema-xml"
    atomic: bool = False

    def read(self, path: Path, progress: Progress) -> Bundle:
        return read_sema(path, progress)


def _text(el: Element, tag: str) -> str:
    target = el.find(tag)
    if target is None or target.text is None:
        return ""
    return " ".join(target.text.replace("\xa0", " ").split())


def bilingual(text: str) -> tuple[str, str | None]:
    """``"Burma / Birmanie"`` -> ("Burma", "Birmanie"); text without one "/" -> (text, None).
    Only a single slash splits, so a name with several slashes stays whole."""
    if text.count("/") != 1:
        return text, None
    en, fr = (p.strip() for p in text.split("/"))
    if not en or not fr:
        return text, None
    return en, fr


def split_aliases(text: str) -> list[str]:
    """Comma-separated aliases, re-joining company suffixes split off ("X Co., Ltd.")."""
    out: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if out and _SUFFIX.match(part):
            out[-1] = f"{out[-1]}, {part}"
        else:
            out.append(part)
    return out


def country_key(country_en: str) -> str:
    """The id part for a regulation's country: the acronym where one is given (JVCFOR)."""
    m = _ACRONYM.search(country_en)
    return m.group(1).lower() if m else country_en


def read_sema(path: Path, progress: Progress | None = None) -> Bundle:
    progress = progress or Progress.quiet()
    bundle = Bundle(record_list=True)  # independent records: a bad one is rejected alone
    opened = open_xml_list(path, bundle, "data-set", "SEMA list")
    if opened is None:
        return bundle
    file, root = opened
    meta = sidecar(file.parent)
    src = source_record(prefix="ca-sema", path=file, digest=sha256_file(file),
                        title="Consolidated Canadian Autonomous Sanctions List",
                        publisher=PUBLISHER, date=snapshot_date(file),
                        url=meta.get("url") if isinstance(meta.get("url"), str) else None)
    bundle.add_node(src, Where(file.name, 0))
    records = root.findall("record")
    counts = {"Person": 0, "Organization": 0}
    with progress.task("reading SEMA records", total=len(records)) as tick:
        for number, el in enumerate(records, start=1):
            kind = _record(el, number, bundle, src.id, file.name)
            if kind:
                counts[kind] += 1
            tick(1)
    add_note(bundle, f"{len(records)} records read: {counts['Person']} individuals, "
                     f"{counts['Organization']} entities")
    return bundle


def _record(el: Element, number: int, bundle: Bundle, src: str, fname: str) -> str | None:
    country_raw = _text(el, "Country")
    schedule, item = _text(el, "Schedule"), _text(el, "Item")
    where = Where(fname, f"record {number}" + (f" (item {item})" if item else ""))
    if not country_raw:
        bundle.problems.append(where.problem("Country", "required, but empty"))
        return None
    if not item:
        bundle.problems.append(where.problem("Item", "required, but empty"))
        return None
    country = bilingual(country_raw)[0]
    last, given, entity = _text(el, "LastName"), _text(el, "GivenName"), _text(el, "Entity")
    if entity and (last or given):
        bundle.problems.append(where.problem("Entity", "both an entity and a person's name"))
        return None
    kind = "Organization" if entity else "Person"
    names = NameSet()
    if entity:
        en, fr = bilingual(entity)
        names.add(en, [src])
        names.add(fr, [src], lang="fr")
    else:
        full = " ".join(p for p in (given, last) if p)
        if not full:
            bundle.problems.append(where.problem("LastName", "no name given"))
            return None
        names.add(full, [src])
    for alias in split_aliases(_text(el, "Aliases")):
        names.add(alias, [src])
    key = [country_key(country), schedule or "0", item]
    notes = [f"Canada autonomous sanctions: {country_raw}, schedule {schedule or '?'}, "
             f"item {item}"]
    title = _text(el, "Title")
    if title:
        notes.append("Title (per Canada): " + title)
    props: dict[str, Any] = {"source_ids": [src], "confidence": "high", "restricted": False}
    if kind == "Person":
        dob = _text(el, "DateOfBirth")
        if dob:
            notes.append(birth_note([dob]) or "")
        props.update(date_props("birth_date", word_date(dob) if dob else None))
        props["gender"] = None
        props["nationality"] = []
        node_id = make_id("Person", "ca-sema", *key)
    else:
        props["kind"] = org_kind(names.entries[0]["name"])
        props["country"] = None
        node_id = make_id("Organization", "ca-sema", *key)
    props["notes"] = "\n".join(notes)
    names.fill(props)
    target = node(kind, node_id, props)
    bundle.add_node(target, where)
    programme = country if len(country) < 40 else country_key(country).upper()
    sanction(bundle, where, sanction_id=make_id("Sanction", "ca-sema", *key), target=target,
             authority="CA", programme=programme,
             list_ref=f"{country_key(country)} schedule {schedule or '?'} item {item}",
             listed=None, reason=None, source_ids=[src],
             name=f"Canada {programme} schedule {schedule or '?'} item {item}: "
                  f"{names.entries[0]['name']}")
    return kind
