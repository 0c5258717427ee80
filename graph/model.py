"""The domain model as data: which node kinds and relation types exist, their fields, and
which node kinds each relation may join.

Everything else (the embedded schema, the Neo4j constraints, the native-format validator,
the exporters, the docs) is derived from these tables, as followthemoney derives its
behaviour from its schema files, so adding a field or a relation is a one-line change here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class FieldType(str, Enum):
    STRING = "string"
    TEXT = "text"  # long free text (notes, reasons)
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATE = "date"  # imprecise date, see graph.dates
    ENUM = "enum"
    LIST = "list"  # list of strings
    JSON = "json"  # structured value kept as JSON text (names with provenance)


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType = FieldType.STRING
    required: bool = False
    choices: tuple[str, ...] = ()
    doc: str = ""
    # Set by the store from another field, never read from input files.
    derived: bool = False


@dataclass(frozen=True)
class NodeKind:
    name: str  # the graph label, e.g. "Person"
    prefix: str  # id prefix, e.g. "person"
    fields: tuple[Field, ...]
    doc: str = ""
    searchable: bool = True

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True)
class RelationType:
    name: str  # e.g. "HOLDS"
    ends: tuple[tuple[str, str], ...]  # allowed (from kind, to kind) pairs
    fields: tuple[Field, ...] = ()  # extra fields besides the claim fields
    doc: str = ""

    def allows(self, from_kind: str, to_kind: str) -> bool:
        return (from_kind, to_kind) in self.ends

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


CONFIDENCE = ("high", "medium", "low")

ORG_KINDS = (
    "judiciary", "court", "court_branch", "prosecutor_office", "prison", "detention_centre",
    "security_force", "intelligence", "military", "police", "government", "media",
    "political_group", "ngo", "un_body", "other",
)  # fmt: skip

INCIDENT_KINDS = (
    "execution", "killing", "death_in_custody", "arrest", "arbitrary_detention", "torture",
    "sexual_violence", "enforced_disappearance", "death_sentence", "incitement",
    "internet_shutdown", "mass_execution", "protest_crackdown", "unfair_trial", "other",
)  # fmt: skip

SOURCE_KINDS = (
    "statement", "letter", "report", "law", "dataset", "sanctions_list", "news", "web_page",
    "court_document", "testimony", "synthetic", "other",
)  # fmt: skip

LOCATION_KINDS = ("country", "province", "city", "site", "other")
GENDERS = ("male", "female", "other", "unknown")

# Fields every node kind has. `name` is the display name; `names` holds every name with its
# language and provenance; `name_keys` are the normalised search keys derived from them.
COMMON_NODE_FIELDS: tuple[Field, ...] = (
    Field("id", required=True, doc="stable readable id with the kind's prefix"),
    Field("name", required=True, doc="display name"),
    Field("aliases", FieldType.LIST, doc="other names, any script (same sources as the row)"),
    Field("names", FieldType.JSON, derived=True,
          doc="every name with lang, confidence and source_ids"),
    Field("name_keys", FieldType.LIST, derived=True, doc="normalised search keys"),
    Field("notes", FieldType.TEXT),
    Field("source_ids", FieldType.LIST, doc="sources for this record's attributes"),
    Field("confidence", FieldType.ENUM, choices=CONFIDENCE, doc="default medium"),
    Field("restricted", FieldType.BOOL, doc="victims/witnesses at risk: hidden from public roles"),
)  # fmt: skip


def _kind(name: str, prefix: str, extra: tuple[Field, ...], doc: str,
          searchable: bool = True) -> NodeKind:
    return NodeKind(name, prefix, COMMON_NODE_FIELDS + extra, doc, searchable)


NODE_KINDS: dict[str, NodeKind] = {
    k.name: k
    for k in (
        _kind("Person", "person", (
            Field("birth_date", FieldType.DATE),
            Field("gender", FieldType.ENUM, choices=GENDERS),
            Field("nationality", FieldType.LIST, doc="ISO country codes or names"),
        ), "a natural person: official, victim, witness"),
        _kind("Organization", "org", (
            Field("kind", FieldType.ENUM, required=True, choices=ORG_KINDS),
            Field("country"),
        ), "any body: judiciary, court, branch, prison, unit, agency, NGO, UN body"),
        _kind("Position", "position", (
            Field("is_head", FieldType.BOOL, doc="holding it means heading its organisation"),
        ), "a post within an organisation"),
        _kind("Case", "case", (
            Field("number"),
            Field("charges", FieldType.LIST),
            Field("verdict"),
            Field("sentence"),
            Field("opened", FieldType.DATE),
            Field("verdict_date", FieldType.DATE),
            Field("appeal_date", FieldType.DATE),
        ), "a judicial case"),
        _kind("Incident", "incident", (
            Field("kind", FieldType.ENUM, required=True, choices=INCIDENT_KINDS),
            Field("date", FieldType.DATE),
            Field("date_end", FieldType.DATE),
            Field("place", doc="place as the source words it"),
            Field("cause"),
        ), "a violation or act"),
        _kind("Sanction", "sanction", (
            Field("authority", required=True, doc="OFAC, EU, UK, UN, CA, AU, ..."),
            Field("programme"),
            Field("list_ref"),
            Field("listed", FieldType.DATE),
            Field("delisted", FieldType.DATE),
            Field("reason", FieldType.TEXT),
        ), "one designation by one authority", searchable=False),
        _kind("Location", "location", (
            Field("kind", FieldType.ENUM, choices=LOCATION_KINDS),
            Field("country"),
        ), "country, province, city or site"),
        _kind("Source", "source", (
            Field("title", required=True),
            Field("publisher"),
            Field("date", FieldType.DATE),
            Field("url"),
            Field("kind", FieldType.ENUM, choices=SOURCE_KINDS),
            Field("reference", doc="file name or citation by which the document is found"),
            Field("sha256"),
            Field("licence"),
            Field("reliability", FieldType.TEXT),
        ), "a document or dataset that claims cite"),
    )
}  # fmt: skip

# Claim fields every relation carries (DESIGN.md: every relation is a claim).
CLAIM_FIELDS: tuple[Field, ...] = (
    Field("id", doc="stable claim id; derived from type, ends, dates and role if absent"),
    Field("from", required=True),
    Field("to", required=True),
    Field("valid_from", FieldType.DATE),
    Field("valid_to", FieldType.DATE, doc="'open' = still holds"),
    Field("confidence", FieldType.ENUM, choices=CONFIDENCE, doc="default medium"),
    Field("source_ids", FieldType.LIST),
    Field("note", FieldType.TEXT),
)

_ORG_LIKE = ("Organization",)
ALL_KINDS = tuple(NODE_KINDS)


def _rel(name: str, ends: list[tuple[str, str]], extra: tuple[Field, ...] = (),
         doc: str = "") -> RelationType:
    return RelationType(name, tuple(ends), extra, doc)


ROLE = Field("role", doc="e.g. direct, ordered, sentenced, commanded, incited")

RELATION_TYPES: dict[str, RelationType] = {
    r.name: r
    for r in (
        _rel("HOLDS", [("Person", "Position")], (), "a person holds a post"),
        _rel("POSITION_IN", [("Position", "Organization")], (), "a post belongs to an organisation"),
        _rel("MEMBER_OF", [("Person", "Organization")], (ROLE, Field("rank")),
             "membership without a named post"),
        _rel("PART_OF", [("Organization", "Organization")], (),
             "subordinate unit, court branch, prison administered by"),
        _rel("AFFILIATED_WITH", [("Organization", "Organization"), ("Person", "Organization")],
             (ROLE,), "a looser link than PART_OF (e.g. a media outlet linked to a force)"),
        _rel("DEFENDANT_IN", [("Person", "Case")]),
        _rel("JUDGE_IN", [("Person", "Case")]),
        _rel("PROSECUTOR_IN", [("Person", "Case")]),
        _rel("HEARD_BY", [("Case", "Organization")], (), "trial court"),
        _rel("UPHELD_BY", [("Case", "Organization")], (), "court that upheld on appeal"),
        _rel("VICTIM_OF", [("Person", "Incident")]),
        _rel("PERPETRATED_BY", [("Incident", "Person"), ("Incident", "Organization")], (ROLE,)),
        _rel("OCCURRED_AT", [("Incident", "Location"), ("Incident", "Organization")]),
        _rel("RESULT_OF", [("Incident", "Case")], (), "an act that followed from a case"),
        _rel("PART_OF_EVENT", [("Incident", "Incident")], (),
             "an act within a wider event (the 1988 mass executions, a crackdown)"),
        _rel("DETAINED_AT", [("Person", "Organization")]),
        _rel("LOCATED_IN", [("Organization", "Location"), ("Location", "Location")]),
        _rel("TARGETS", [("Sanction", "Person"), ("Sanction", "Organization")]),
        _rel("SIGNED", [("Organization", "Source"), ("Person", "Source")], (),
             "a signatory of a statement or letter"),
        _rel("SAME_AS", [(k, k) for k in ALL_KINDS if k != "Source"], (
            Field("score", FieldType.FLOAT),
            Field("method"),
            Field("judged_by"),
            Field("judged_at", FieldType.DATE),
        ), "two records judged to be one entity (merges never destroy records)"),
        _rel("MENTIONED_IN", [(k, "Source") for k in ALL_KINDS if k != "Source"], (
            Field("offset", FieldType.INT),
        ), "an entity named in a document"),
    )
}  # fmt: skip

PREFIX_TO_KIND: dict[str, str] = {k.prefix: k.name for k in NODE_KINDS.values()}


def kind_of_id(node_id: str) -> str | None:
    """The node kind an id names by its prefix (``person:x`` -> ``Person``), or None."""
    prefix, sep, rest = node_id.partition(":")
    if not sep or not rest:
        return None
    return PREFIX_TO_KIND.get(prefix)


def ids_by_kind(ids: Iterable[str]) -> dict[str, list[str]]:
    """``ids`` grouped by the kind their prefix names, in the order given; ids naming no
    kind are left out (they cannot be stored, so a look-up has nothing to find)."""
    out: dict[str, list[str]] = {}
    for node_id in ids:
        kind = kind_of_id(node_id)
        if kind:
            out.setdefault(kind, []).append(node_id)
    return out
