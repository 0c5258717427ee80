"""Stable, readable identifiers: ``person:mohseni-ejei-gholamhossein``.

Ids are derived from the source's own key where there is one (an OFAC entry number, a
memorial record's file name), so re-ingesting the same file yields the same ids and
changes nothing.
"""

from __future__ import annotations

import hashlib
import re

from normality import slugify

from graph.model import NODE_KINDS, PREFIX_TO_KIND

_VALID_ID = re.compile(r"^[a-z]+:[a-z0-9][a-z0-9._\-/]*$")
MAX_ID_LENGTH = 200
_APOS = re.compile("['\u2019\u2018\u02bc`]")


def make_id(kind: str, *parts: object) -> str:
    """Build an id for a node of ``kind`` from readable parts (names, source keys)."""
    prefix = NODE_KINDS[kind].prefix
    slugs = [slugify(_APOS.sub("", str(p)), sep="-") or "" for p in parts if p is not None and str(p) != ""]
    body = "-".join(s for s in slugs if s)
    if not body:
        body = short_hash(*parts)
    if len(body) > MAX_ID_LENGTH - len(prefix) - 10:
        body = body[: MAX_ID_LENGTH - len(prefix) - 10] + "-" + short_hash(*parts)
    return f"{prefix}:{body}"


def short_hash(*parts: object, length: int = 8) -> str:
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def claim_id(rel_type: str, from_id: str, to_id: str, *qualifiers: object) -> str:
    """A claim id derived from what makes a claim distinct: its type, ends and qualifiers
    (dates, role). Two rows stating the same thing get the same id and so merge."""
    return f"{rel_type.lower()}:{short_hash(rel_type, from_id, to_id, *qualifiers, length=16)}"


def check_id(node_id: str) -> str | None:
    """Why ``node_id`` is not a valid node id, or None when it is."""
    if not node_id:
        return "empty id"
    if len(node_id) > MAX_ID_LENGTH:
        return f"id longer than {MAX_ID_LENGTH} characters"
    if not _VALID_ID.match(node_id):
        return (f"'{node_id}' is not a valid id (prefix:slug, lowercase ascii letters, digits, "
                "'.', '_', '-', '/')")
    prefix = node_id.split(":", 1)[0]
    if prefix not in PREFIX_TO_KIND:
        return f"unknown id prefix '{prefix}' (expected one of {', '.join(sorted(PREFIX_TO_KIND))})"
    return None
