"""Export the graph as FollowTheMoney entities, one JSON object per line (the format of
OpenSanctions' exports), so it can be loaded into Aleph (``ftm`` / ``alephclient``) or yente.

Entities are built with the ``followthemoney`` model, so every value is cleaned and
checked by FtM itself. The mapping (docs/memorial-and-ftm.md) and why:

| graph | FtM |
|---|---|
| Person | Person (``topics: sanction`` when a Sanction targets it) |
| Organization | PublicBody for state kinds, Organization otherwise; our kind in ``classification`` |
| Position (+ POSITION_IN) | Position with ``organization`` |
| Sanction (+ TARGETS) | Sanction with ``entity`` (one FtM Sanction per target) |
| HOLDS | Occupancy (holder, post, startDate, endDate) |
| MEMBER_OF | Membership (member, organization, role) |
| PART_OF, AFFILIATED_WITH | UnknownLink (subject, object, role = the relation type) |
| Source | Document (title, publisher, sourceUrl); claims cite it in ``proof`` |
| restricted = true | ``keywords: accgraph:restricted`` (read back as restricted by ``ingest.ftm``) |

Incidents, cases and locations are not exported (Aleph/yente screen persons and
organisations; the accountability chains stay in the graph). Confidence has no FtM field.

Ids: FtM ids allow only ``[0-9a-zA-Z.-]``, so ``person:mohseni-ejei`` is written
``person.mohseni-ejei`` (the kind prefix never holds a dot, so the first dot is the
separator; ``_`` and ``/`` become ``U`` and ``S``, letters our lowercase ids never use). ``ingest.ftm`` decodes them back, so export-then-ingest keeps the ids.

Restricted records leave only with ``include_restricted=True`` (``exports.snapshot``).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from followthemoney import model
from followthemoney.proxy import EntityProxy

from exports.snapshot import take_snapshot
from graph.records import NodeRecord, RelRecord
from graph.store import Store

STATE_KINDS = frozenset({
    "judiciary", "court", "court_branch", "prosecutor_office", "prison", "detention_centre",
    "security_force", "intelligence", "military", "police", "government", "un_body",
})


_OURS = re.compile(r"^[a-zU]+\.[a-z0-9][a-z0-9.\-US]*$")


def encode_id(graph_id: str) -> str:
    """``person:mohseni-ejei`` -> ``person.mohseni-ejei``; claim ids such as
    ``member_of:0123...`` -> ``memberUof.0123...`` (a valid FtM id, reversible)."""
    return graph_id.replace(":", ".", 1).replace("_", "U").replace("/", "S")


def decode_id(ftm_id: str) -> str | None:
    """The graph id an exported FtM id stands for, or None if it is not one of ours."""
    if not _OURS.match(ftm_id):
        return None
    return ftm_id.replace(".", ":", 1).replace("U", "_").replace("S", "/")


def _names(node: NodeRecord) -> list[str]:
    out: list[str] = []
    for n in [node.props.get("name")] + list(node.props.get("aliases") or []):
        if n and n not in out:
            out.append(n)
    try:
        entries = json.loads(node.props.get("names") or "[]")
    except ValueError:
        entries = []
    for e in entries:
        if e.get("name") and e["name"] not in out:
            out.append(e["name"])
    return out


def _date(value: Any) -> str | None:
    text = str(value or "").strip()
    return text if text and text != "open" else None


def _proof(entity: EntityProxy, ids: list[str] | None, exported: set[str]) -> None:
    for sid in ids or []:
        if sid in exported:
            entity.add("proof", encode_id(sid))


def _thing(node: NodeRecord, sources: set[str]) -> EntityProxy | None:
    props = node.props
    if node.kind == "Person":
        e = model.make_entity("Person")
        e.id = encode_id(node.id)
        names = _names(node)
        e.add("name", names[:1])
        e.add("alias", names[1:])
        e.add("birthDate", _date(props.get("birth_date")))
        if props.get("gender") in ("male", "female", "other"):
            e.add("gender", props["gender"])
        e.add("nationality", list(props.get("nationality") or []), quiet=True)
    elif node.kind == "Organization":
        kind = props.get("kind") or "other"
        e = model.make_entity("PublicBody" if kind in STATE_KINDS else "Organization")
        e.id = encode_id(node.id)
        names = _names(node)
        e.add("name", names[:1])
        e.add("alias", names[1:])
        e.add("classification", kind)
        e.add("country", props.get("country"), quiet=True)
    elif node.kind == "Position":
        e = model.make_entity("Position")
        e.id = encode_id(node.id)
        names = _names(node)
        e.add("name", names[:1])
        e.add("alias", names[1:])
    elif node.kind == "Source":
        e = model.make_entity("Document")
        e.id = encode_id(node.id)
        e.add("title", props.get("title") or props.get("name"))
        e.add("publisher", props.get("publisher"))
        e.add("sourceUrl", props.get("url"), quiet=True)
        e.add("date", _date(props.get("date")), quiet=True)
        e.add("fileName", props.get("reference"))
        e.add("summary", props.get("reliability"))
        _mark_restricted(e, node)
        return e
    else:
        return None
    e.add("notes", props.get("notes"))
    _proof(e, props.get("source_ids"), sources)
    _mark_restricted(e, node)
    return e


RESTRICTED_KEYWORD = "accgraph:restricted"


def _mark_restricted(e: EntityProxy, node: NodeRecord) -> None:
    """FtM has no access marker; a restricted record (exported only on request) carries
    this keyword so that ``ingest.ftm`` loads it restricted again, never as public."""
    if node.props.get("restricted"):
        e.add("keywords", RESTRICTED_KEYWORD)


def _claim_dates(e: EntityProxy, rel: RelRecord) -> None:
    e.add("startDate", _date(rel.props.get("valid_from")), quiet=True)
    e.add("endDate", _date(rel.props.get("valid_to")), quiet=True)
    if rel.props.get("valid_to") == "open":  # FtM's way to say "still holds"
        e.add("status", "current")
    e.add("description", rel.props.get("note"))


def build_entities(store: Store, *, include_restricted: bool) -> list[EntityProxy]:
    """The graph as FtM entities (see the module docstring), in a stable order."""
    snap = take_snapshot(store, include_restricted=include_restricted)
    sources = {i for i, n in snap.nodes.items() if n.kind == "Source"}
    out: dict[str, EntityProxy] = {}
    for node in sorted(snap.nodes.values(), key=lambda n: n.id):
        e = _thing(node, sources)
        if e is not None:
            out[e.id or node.id] = e
    targets: dict[str, list[str]] = defaultdict(list)
    sanctioned: set[str] = set()
    for rel in snap.rels:
        if rel.from_id not in snap.nodes or rel.to_id not in snap.nodes:
            continue
        if rel.type == "TARGETS":
            targets[rel.from_id].append(rel.to_id)
            sanctioned.add(rel.to_id)
        elif rel.type == "POSITION_IN":
            pos = out.get(encode_id(rel.from_id))
            if pos is not None:
                pos.add("organization", encode_id(rel.to_id))
        elif rel.type == "HOLDS":
            e = model.make_entity("Occupancy")
            e.id = encode_id(rel.id)
            e.add("holder", encode_id(rel.from_id))
            e.add("post", encode_id(rel.to_id))
            _claim_dates(e, rel)
            _proof(e, rel.props.get("source_ids"), sources)
            out[e.id] = e
        elif rel.type == "MEMBER_OF":
            e = model.make_entity("Membership")
            e.id = encode_id(rel.id)
            e.add("member", encode_id(rel.from_id))
            e.add("organization", encode_id(rel.to_id))
            e.add("role", rel.props.get("role"))
            _claim_dates(e, rel)
            _proof(e, rel.props.get("source_ids"), sources)
            out[e.id] = e
        elif rel.type in ("PART_OF", "AFFILIATED_WITH"):
            e = model.make_entity("UnknownLink")
            e.id = encode_id(rel.id)
            e.add("subject", encode_id(rel.from_id))
            e.add("object", encode_id(rel.to_id))
            role = rel.type if not rel.props.get("role") else f"{rel.type}: {rel.props['role']}"
            e.add("role", role)
            _claim_dates(e, rel)
            _proof(e, rel.props.get("source_ids"), sources)
            out[e.id] = e
    for sid, tids in targets.items():
        node = snap.nodes[sid]
        for n, tid in enumerate(sorted(tids)):
            e = model.make_entity("Sanction")
            e.id = encode_id(sid) if n == 0 else f"{encode_id(sid)}-t{n + 1}"
            e.add("entity", encode_id(tid))
            p = node.props
            e.add("authority", p.get("authority"))
            e.add("program", p.get("programme"))
            e.add("authorityId", p.get("list_ref"))
            e.add("listingDate", _date(p.get("listed")), quiet=True)
            e.add("endDate", _date(p.get("delisted")), quiet=True)
            e.add("reason", p.get("reason"))
            e.add("summary", p.get("notes"))
            _proof(e, p.get("source_ids"), sources)
            out[e.id] = e
    for gid in sanctioned:
        e = out.get(encode_id(gid))
        if e is not None and e.schema.name in ("Person", "Organization", "PublicBody"):
            e.add("topics", "sanction")
    return [out[k] for k in sorted(out)]


def export_ftm(store: Store, out_path: Path | str, include_restricted: bool) -> int:
    """Write the graph as FtM JSON lines to ``out_path``; returns the number of entities.
    Written to a temporary file first, so a failed export never leaves half a file."""
    out_path = Path(out_path)
    entities = build_entities(store, include_restricted=include_restricted)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ftm-", suffix=".jsonl", dir=out_path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for e in entities:
                fh.write(json.dumps(e.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(entities)
