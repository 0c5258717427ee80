"""Reader for the UN Security Council consolidated sanctions list (XML, see
docs/sanctions.md).

``INDIVIDUAL`` entries become Persons (``person:un-<reference>``), ``ENTITY`` entries
Organizations (``org:un-<reference>``), each with one Sanction (``sanction:un-<reference>``,
authority UN, programme = the UN list type such as ``Iran``, listed on = ``LISTED_ON``).
Aliases keep the list's quality ("Good" high, "Low" low confidence), names in original
script are kept as names in their script, and every date of birth as listed. The XML is
parsed with defusedxml (no entity expansion, no network), so a hostile file cannot hurt.
"""

from __future__ import annotations

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

PUBLISHER = "United Nations Security Council"
DEFAULT_URL = "https://scsanctions.un.org/resources/xml/en/consolidated.xml"


@dataclass
class UnReader:
    name: str = "un-xml"
    atomic: bool = False

    def read(self, path: Path, progress: Progress) -> Bundle:
        return read_un(path, progress)


def _text(el: Element | None, tag: str | None = None) -> str:
    if el is None:
        return ""
    target = el.find(tag) if tag else el
    if target is None or target.text is None:
        return ""
    return " ".join(target.text.split())


def _values(el: Element, tag: str) -> list[str]:
    out = []
    for group in el.findall(tag):
        for v in group.findall("VALUE"):
            text = _text(v)
            if text and text not in out:
                out.append(text)
    return out


def read_un(path: Path, progress: Progress | None = None) -> Bundle:
    progress = progress or Progress.quiet()
    bundle = Bundle(record_list=True)  # independent records: a bad one is rejected alone
    opened = open_xml_list(path, bundle, "CONSOLIDATED_LIST", "UN consolidated list")
    if opened is None:
        return bundle
    file, root = opened
    generated = (root.get("dateGenerated") or "")[:10]
    digest = sha256_file(file)
    meta = sidecar(file.parent)
    src = source_record(prefix="un-sc", path=file, digest=digest,
                        title="UN Security Council Consolidated List",
                        publisher=PUBLISHER, date=snapshot_date(file, generated or None),
                        url=meta.get("url") if isinstance(meta.get("url"), str) else None)
    bundle.add_node(src, Where(file.name, 0))
    people = root.findall("INDIVIDUALS/INDIVIDUAL")
    bodies = root.findall("ENTITIES/ENTITY")
    with progress.task("reading UN entries", total=len(people) + len(bodies)) as tick:
        for el in people:
            _entry(el, "Person", bundle, src.id, file.name)
            tick(1)
        for el in bodies:
            _entry(el, "Organization", bundle, src.id, file.name)
            tick(1)
    add_note(bundle, f"{len(people)} individuals and {len(bodies)} entities read")
    return bundle


def _dob(el: Element) -> str | None:
    """One INDIVIDUAL_DATE_OF_BIRTH in the worded form the matcher reads back."""
    kind = _text(el, "TYPE_OF_DATE").upper()
    date = _text(el, "DATE")[:10] or _text(el, "YEAR")
    if kind == "BETWEEN":
        a, b = _text(el, "FROM_YEAR"), _text(el, "TO_YEAR")
        return f"{a} to {b}" if a and b else None
    if not date:
        return None
    return f"circa {date}" if kind == "APPROXIMATELY" else date


def _entry(el: Element, kind: str, bundle: Bundle, src: str, fname: str) -> None:
    ref = _text(el, "REFERENCE_NUMBER")
    where = Where(fname, ref or _text(el, "DATAID") or "?")
    if not ref:
        bundle.problems.append(where.problem("REFERENCE_NUMBER", "required, but empty"))
        return
    parts = [_text(el, t) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
    name = " ".join(p for p in parts if p)
    if not name:
        bundle.problems.append(where.problem("FIRST_NAME", "no name given"))
        return
    listed_text = _text(el, "LISTED_ON")[:10]
    listed = word_date(listed_text) if listed_text else None
    notes: list[str] = [f"UN Security Council list entry {ref} ({_text(el, 'UN_LIST_TYPE')})"]
    if listed_text and not listed:
        notes.append(f"Listed on (as given): {listed_text}")
    names = NameSet()
    names.add(name, [src])
    original = _text(el, "NAME_ORIGINAL_SCRIPT")
    names.add(original, [src])
    alias_tag = "INDIVIDUAL_ALIAS" if kind == "Person" else "ENTITY_ALIAS"
    for alias in el.findall(alias_tag):
        alias_name = _text(alias, "ALIAS_NAME")
        quality = _text(alias, "QUALITY").lower()
        names.add(alias_name, [src], confidence="low" if quality == "low" else "high")
    titles = _values(el, "TITLE")
    designations = _values(el, "DESIGNATION")
    if titles:
        notes.append("Titles (per UN): " + "; ".join(titles))
    if designations:
        notes.append("Designation (per UN): " + "; ".join(designations))
    props: dict[str, Any] = {"source_ids": [src], "confidence": "high", "restricted": False}
    if kind == "Person":
        dobs = [d for d in (_dob(x) for x in el.findall("INDIVIDUAL_DATE_OF_BIRTH")) if d]
        if dobs:
            notes.append(birth_note(dobs) or "")
        pobs = []
        for pob in el.findall("INDIVIDUAL_PLACE_OF_BIRTH"):
            text = ", ".join(p for p in (_text(pob, t) for t in (
                "CITY", "STATE_PROVINCE", "COUNTRY")) if p)
            if text:
                pobs.append(text)
        if pobs:
            notes.append("Place of birth (as listed): " + "; ".join(pobs))
        single = word_date(dobs[0]) if len(dobs) == 1 else None
        props.update(date_props("birth_date", single))
        gender = _text(el, "GENDER").lower()
        props["gender"] = gender if gender in ("male", "female") else None
        props["nationality"] = _values(el, "NATIONALITY")
        node_id = make_id("Person", "un", ref)
    else:
        props["kind"] = org_kind(name)
        props["country"] = None
        node_id = make_id("Organization", "un", ref)
    addr_tag = "INDIVIDUAL_ADDRESS" if kind == "Person" else "ENTITY_ADDRESS"
    for addr in el.findall(addr_tag):
        text = ", ".join(p for p in (_text(addr, t) for t in (
            "STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY")) if p)
        note = _text(addr, "NOTE")
        if text:
            notes.append("Address: " + text + (f" ({note})" if note else ""))
    if kind == "Person":
        for doc in el.findall("INDIVIDUAL_DOCUMENT"):
            bits = [_text(doc, t) for t in ("TYPE_OF_DOCUMENT", "TYPE_OF_DOCUMENT2", "NUMBER",
                                            "ISSUING_COUNTRY", "DATE_OF_ISSUE", "NOTE")]
            text = " ".join(b for b in bits if b)
            if text:
                notes.append("Document: " + text)
    comments = _text(el, "COMMENTS1")
    if comments:
        notes.append("Comments (per UN): " + comments)
    props["notes"] = "\n".join(notes)
    names.fill(props)
    target = node(kind, node_id, props)
    bundle.add_node(target, where)
    sanction(bundle, where, sanction_id=make_id("Sanction", "un", ref), target=target,
             authority="UN", programme=_text(el, "UN_LIST_TYPE") or None, list_ref=ref,
             listed=listed, reason=None, source_ids=[src], name=f"UN {ref}: {name}")
