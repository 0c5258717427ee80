"""Reader for FollowTheMoney entities as JSON lines (the export format of OpenSanctions and
of ``exports.ftm``), parsed and cleaned with the ``followthemoney`` model.

Mapping (docs/memorial-and-ftm.md):

| FtM schema | graph |
|---|---|
| Person | Person (name, alias/weakAlias/previousName, birthDate, gender, nationality/citizenship) |
| Organization, LegalEntity, Company, PublicBody | Organization (kind from ``classification`` when it is one of ours, else government for PublicBody and other for the rest) |
| Position | Position (+ POSITION_IN from ``organization``) |
| Sanction | Sanction (authority, program, authorityId, listingDate/startDate, endDate, reason) + TARGETS to ``entity`` |
| Occupancy | HOLDS (holder -> post, startDate/endDate) |
| Membership, Directorship, Employment | MEMBER_OF (Person) or AFFILIATED_WITH (Organization) with role |
| UnknownLink with role PART_OF / AFFILIATED_WITH | PART_OF / AFFILIATED_WITH |
| Document | Source (entities cite it through ``proof``) |
| keyword ``accgraph:restricted`` (our export of restricted records) | ``restricted = true`` |
| anything else (Family, Associate, Address, Identification...) | skipped, counted with the reason |

Every record also cites the file itself as a Source (kind dataset, sha256 of the file),
so every claim is sourced. A list of entities is not one document: a bad line or an
entity that cannot be mapped is rejected with ``file:line: field: reason`` and the rest
loads (``atomic = False``).

Ids: entities exported by this project (``person.mohseni-ejei``) get their graph id back;
other FtM ids become ``<prefix>:ftm-<id>`` (with a short hash when the id has capitals,
since FtM ids are case-sensitive and ours are not), so re-ingesting a file changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from followthemoney import model
from followthemoney.exc import InvalidData
from followthemoney.proxy import EntityProxy

from exports.ftm import RESTRICTED_KEYWORD, decode_id
from graph.dates import DateError, parse_date
from graph.ids import check_id, make_id, short_hash
from graph.model import ORG_KINDS, kind_of_id
from graph.records import NodeRecord, Problem
from graph.store import Store
from ingest.build import Where, build_node, build_rel
from ingest.bundle import Bundle
from ingest.progress import Progress

FORMAT = "ftm"
MAX_LINE = 5_000_000  # characters in one JSON line
MAX_LINES = 20_000_000
MAX_VALUES = 200  # values kept per property

ORG_SCHEMATA = ("Organization", "LegalEntity", "Company", "PublicBody")
SKIP_REASONS = {
    "Family": "no person-to-person relation type in the graph model",
    "Associate": "no person-to-person relation type in the graph model",
    "Address": "addresses are not modelled (Location is for places of acts)",
    "Identification": "identity documents are not modelled",
    "Passport": "identity documents are not modelled",
}


@dataclass
class FtmBundle(Bundle):
    """A record-list bundle: relations whose ends exist neither in the file nor in the graph
    are rejected one by one (not the whole load), and notes say what was skipped."""

    notes: list[str] = field(default_factory=list)
    record_list: bool = True

    def check_references(self, store: Store) -> dict[str, NodeRecord]:
        wanted = {r.from_id for r in self.rels.values()} | {r.to_id for r in self.rels.values()}
        wanted -= set(self.nodes)
        present = store.get_nodes(wanted) if wanted else {}
        for rel_id in sorted(self.rels):
            rel = self.rels[rel_id]
            for end, ref in (("from", rel.from_id), ("to", rel.to_id)):
                if ref not in self.nodes and ref not in present:
                    where = self.where[rel_id]
                    # Appended to the list ingest_path took from ``problems`` (the rejected
                    # records it reports); see the report to the lead.
                    self.reader_problems.append(where.problem(
                        end, f"'{ref}' is neither in the file nor in the graph"))
                    del self.rels[rel_id]
                    break
        return super().check_references(store)


def _graph_id(kind: str, ftm_id: str) -> str:
    ours = decode_id(ftm_id)
    if ours and kind_of_id(ours) == kind and check_id(ours) is None:
        return ours
    extra = short_hash(ftm_id, length=6) if ftm_id != ftm_id.lower() else None
    return make_id(kind, "ftm", ftm_id.lower(), extra)


def _kind_for(schema: str) -> str | None:
    if schema == "Person":
        return "Person"
    if schema in ORG_SCHEMATA:
        return "Organization"
    if schema == "Position":
        return "Position"
    if schema == "Sanction":
        return "Sanction"
    if schema == "Document":
        return "Source"
    return None


def _values(e: EntityProxy, *props: str) -> list[str]:
    out: list[str] = []
    for p in props:
        if p in e.schema.properties:
            for v in e.get(p, quiet=True)[:MAX_VALUES]:
                if v and v not in out:
                    out.append(v)
    return out


def _first(e: EntityProxy, *props: str) -> str | None:
    vals = _values(e, *props)
    return vals[0] if vals else None


def _date(e: EntityProxy, *props: str) -> str | None:
    """The first value that is an imprecise date we can hold (FtM allows times too)."""
    for v in _values(e, *props):
        for text in (v[:10], v[:7], v[:4]):
            try:
                return parse_date(text).text or None
            except DateError:
                continue
    return None


class _Ctx:
    def __init__(self, file: str, source_id: str) -> None:
        self.file = file
        self.source_id = source_id
        self.ids: dict[str, str] = {}  # FtM id -> graph id (things in this file)

    def ref(self, ftm_id: str | None, kinds: tuple[str, ...]) -> str | None:
        """The graph id an entity reference stands for (in the file, or one of ours)."""
        if not ftm_id:
            return None
        gid = self.ids.get(ftm_id)
        if gid is None:
            decoded = decode_id(ftm_id)
            if decoded and kind_of_id(decoded) in kinds and check_id(decoded) is None:
                gid = decoded
        return gid if gid and kind_of_id(gid) in kinds else None


def read_ftm(path: Path, progress: Progress | None = None) -> FtmBundle:
    progress = progress or Progress.quiet()
    bundle = FtmBundle()
    bundle.reader_problems = bundle.problems
    if not path.is_file():
        bundle.problems.append(Problem(str(path), 0, "-", "no such file"))
        return bundle
    file = path.name
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    source_id = make_id("Source", "ftm", path.stem)
    ctx = _Ctx(file, source_id)
    entities: list[tuple[int, EntityProxy]] = []
    skipped: Counter[str] = Counter()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = data[: exc.start].count(b"\n") + 1
        bundle.problems.append(Problem(file, bad_line, "-", "not valid UTF-8"))
        return bundle
    del data
    with progress.task("reading FtM entities", total=None) as tick:
        for number, line_text in enumerate(text.splitlines(), start=1):
            if number > MAX_LINES:
                bundle.problems.append(Problem(file, number, "-", "too many lines; stopped"))
                break
            if not line_text.strip():
                continue
            if len(line_text) > MAX_LINE:
                bundle.problems.append(Problem(file, number, "-", "line too long"))
                continue
            try:
                raw = json.loads(line_text)
            except (ValueError, RecursionError) as exc:
                bundle.problems.append(Problem(file, number, "-", f"not JSON: {exc}"[:300]))
                continue
            if not isinstance(raw, dict):
                bundle.problems.append(Problem(file, number, "-", "each line must be an object"))
                continue
            if not raw.get("id") or not isinstance(raw.get("id"), str):
                bundle.problems.append(Problem(file, number, "id", "entity without an id"))
                continue
            if not isinstance(raw.get("properties", {}), dict):
                bundle.problems.append(Problem(file, number, "properties", "must be an object"))
                continue
            try:
                entity = model.get_proxy(raw, cleaned=False)
            except (InvalidData, TypeError, ValueError) as exc:
                bundle.problems.append(Problem(file, number, "schema", str(exc)[:300]))
                continue
            entities.append((number, entity))
            tick(1)
    # Things first, so that relations can resolve their ends.
    for number, e in entities:
        kind = _kind_for(e.schema.name)
        if kind is not None and e.id:
            ctx.ids[e.id] = _graph_id(kind, e.id)
    for number, e in entities:
        where = Where(file, number)
        schema = e.schema.name
        kind = _kind_for(schema)
        if kind is not None:
            if kind == "Sanction":
                _sanction(e, ctx, where, bundle)
            else:
                _node(e, kind, ctx, where, bundle)
        elif schema == "Occupancy":
            _link(bundle, where, "HOLDS", ctx.ref(_first(e, "holder"), ("Person",)),
                  ctx.ref(_first(e, "post"), ("Position",)), e, ctx, "holder/post")
        elif schema in ("Membership", "Directorship", "Employment"):
            a, b = {"Membership": ("member", "organization"),
                    "Directorship": ("director", "organization"),
                    "Employment": ("employee", "employer")}[schema]
            frm = ctx.ref(_first(e, a), ("Person", "Organization"))
            to = ctx.ref(_first(e, b), ("Organization",))
            role = _first(e, "role") or {"Directorship": "director",
                                         "Employment": "employee"}.get(schema)
            rel_type = "MEMBER_OF" if frm and kind_of_id(frm) == "Person" else "AFFILIATED_WITH"
            _link(bundle, where, rel_type, frm, to, e, ctx, f"{a}/{b}", role=role)
        elif schema == "UnknownLink":
            role = _first(e, "role") or ""
            rel_type, _, rest = role.partition(":")
            if rel_type in ("PART_OF", "AFFILIATED_WITH"):
                frm_kinds = ("Organization",) if rel_type == "PART_OF" else \
                    ("Organization", "Person")
                _link(bundle, where, rel_type, ctx.ref(_first(e, "subject"), frm_kinds),
                      ctx.ref(_first(e, "object"), ("Organization",)), e, ctx,
                      "subject/object", role=rest.strip() or None)
            else:
                skipped["UnknownLink (role not PART_OF/AFFILIATED_WITH)"] += 1
        else:
            skipped[f"{schema} ({SKIP_REASONS.get(schema, 'schema not mapped')})"] += 1
    if bundle.nodes or bundle.rels:
        node, problems = build_node("Source", {
            "id": source_id, "title": f"FollowTheMoney entities: {file}", "kind": "dataset",
            "reference": file, "sha256": sha,
            "reliability": "Entities as published in the file; provenance per entity in "
                           "the file's own sources (FtM 'proof' documents) where given.",
        }, Where(file, 0))
        assert node is not None, problems
        bundle.add_node(node, Where(file, 0))
    for what, n in sorted(skipped.items()):
        bundle.notes.append(f"skipped {n} {what}")
    return bundle


def _sources(e: EntityProxy, ctx: _Ctx) -> list[str]:
    out = [ctx.source_id]
    for ref in _values(e, "proof"):
        gid = ctx.ids.get(ref)  # only documents of this file: a citation must resolve
        if gid and kind_of_id(gid) == "Source" and gid not in out:
            out.append(gid)
    return out


def _node(e: EntityProxy, kind: str, ctx: _Ctx, where: Where, bundle: FtmBundle) -> None:
    gid = ctx.ids[e.id or ""]
    values: dict[str, Any] = {"id": gid, "source_ids": _sources(e, ctx),
                              "restricted": RESTRICTED_KEYWORD in _values(e, "keywords")}
    if kind == "Source":
        if gid == ctx.source_id:
            return
        values.update({
            "title": _first(e, "title", "name") or e.caption, "publisher": _first(e, "publisher"),
            "url": _first(e, "sourceUrl"), "date": _date(e, "date", "publishedAt"),
            "reference": _first(e, "fileName"), "reliability": _first(e, "summary"),
            "kind": "other", "source_ids": [], "restricted": values["restricted"],
        })
    else:
        names = _values(e, "name")
        if not names:
            bundle.problems.append(where.problem("name", f"{e.schema.name} without a name"))
            bundle.rejected_ids.add(gid)
            return
        aliases = [a for a in names[1:] + _values(e, "alias", "weakAlias", "previousName")
                   if a != names[0]]
        values.update({"name": names[0], "aliases": list(dict.fromkeys(aliases)),
                       "notes": "\n".join(_values(e, "notes", "description", "summary")) or None})
        if kind == "Person":
            gender = _first(e, "gender")
            values.update({
                "birth_date": _date(e, "birthDate"),
                "gender": gender if gender in ("male", "female", "other") else None,
                "nationality": [c.upper() for c in _values(e, "nationality", "citizenship")],
            })
        elif kind == "Organization":
            cls = [c for c in _values(e, "classification") if c in ORG_KINDS]
            values["kind"] = cls[0] if cls else (
                "government" if e.schema.name == "PublicBody" else "other")
            country = _first(e, "country", "jurisdiction", "mainCountry")
            values["country"] = country.upper() if country else None
    node, problems = build_node(kind, values, where)
    if node is None:
        bundle.problems.extend(problems)
        bundle.rejected_ids.add(gid)
        return
    bundle.add_node(node, where)
    if kind == "Position":
        for org in _values(e, "organization"):
            to = ctx.ref(org, ("Organization",))
            if to:
                _add_rel(bundle, where, "POSITION_IN", {"from": gid, "to": to,
                                                        "source_ids": values["source_ids"]})


def _sanction(e: EntityProxy, ctx: _Ctx, where: Where, bundle: FtmBundle) -> None:
    gid = ctx.ids[e.id or ""]
    base = re.sub(r"-t\d+$", "", e.id or "")
    if decode_id(base) and kind_of_id(decode_id(base) or "") == "Sanction":
        gid = decode_id(base) or gid  # one of our Sanctions exported once per target
    authority = _first(e, "authority", "publisher", "country")
    if not authority:
        bundle.problems.append(where.problem("authority", "Sanction without an authority"))
        return
    sources = _sources(e, ctx)
    node, problems = build_node("Sanction", {
        "id": gid, "name": f"{authority} {_first(e, 'program', 'programId') or 'sanction'}",
        "authority": authority, "programme": _first(e, "program", "programId"),
        "list_ref": _first(e, "authorityId", "unscId", "recordId"),
        "listed": _date(e, "listingDate", "startDate", "date"), "delisted": _date(e, "endDate"),
        "reason": "\n".join(_values(e, "reason", "provisions")) or None,
        "notes": _first(e, "summary"), "source_ids": sources,
    }, where)
    if node is None:
        bundle.problems.extend(problems)
        return
    node.props["name"] = node.props["name"].strip()
    bundle.add_node(node, where)
    target = ctx.ref(_first(e, "entity"), ("Person", "Organization"))
    if target is None:
        bundle.problems.append(where.problem(
            "entity", f"sanctioned entity '{_first(e, 'entity')}' is not a person or "
                      "organisation in the file"))
        return
    _add_rel(bundle, where, "TARGETS", {"from": gid, "to": target, "source_ids": sources})


def _link(bundle: FtmBundle, where: Where, rel_type: str, frm: str | None, to: str | None,
          e: EntityProxy, ctx: _Ctx, ends: str, role: str | None = None) -> None:
    if not frm or not to:
        bundle.problems.append(where.problem(
            ends, f"{e.schema.name}: an end is missing or is not a person/organisation/"
                  "position of the file or of this project"))
        return
    values: dict[str, Any] = {
        "from": frm, "to": to, "valid_from": _date(e, "startDate", "date"),
        "valid_to": _date(e, "endDate") or (
            "open" if (_first(e, "status") or "").lower() == "current" else None),
        "source_ids": _sources(e, ctx),
        "note": _first(e, "description", "summary"),
    }
    if rel_type in ("MEMBER_OF", "AFFILIATED_WITH"):
        values["role"] = role
    ours = decode_id(e.id or "")
    if ours and re.match(rf"^{rel_type.lower()}:[0-9a-f]{{16}}$", ours):
        values["id"] = ours  # a claim exported by this project keeps its id
    _add_rel(bundle, where, rel_type, values)


def _add_rel(bundle: FtmBundle, where: Where, rel_type: str, values: dict[str, Any]) -> None:
    rel, problems = build_rel(rel_type, values, where)
    if rel is None:
        bundle.problems.extend(problems)
        return
    bundle.add_rel(rel, where)


@dataclass
class FtmReader:
    name: str = FORMAT
    atomic: bool = False

    def read(self, path: Path, progress: Progress) -> Bundle:
        return read_ftm(path, progress)

