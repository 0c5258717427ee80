"""RDF export (Turtle, JSON-LD) with rdflib: the graph under the project's own vocabulary,
every claim as a reified statement carrying its dates, confidence and PROV-O provenance.

Namespaces (see docs/exports.md):
- ``ag:``   https://w3id.org/accountability-graph/ns#  the project's vocabulary
  (exports/vocabulary.ttl, generated from graph.model by ``vocabulary_graph()``);
- records   https://w3id.org/accountability-graph/id/<prefix>/<slug>  (``person:x`` ->
  ``.../id/person/x``), claims ``.../id/claim/<type>/<claim id>``.

Claims are NOT asserted as direct triples by default. A claim is a statement some source
makes, with a confidence and (often imprecise) dates; ``<judge> ag:holds <post>`` as a bare
triple would say it is simply true, always, on no one's word, which is exactly what a
court file must not do. Each claim is an ``rdf:Statement`` (``ag:Claim`` and, e.g.,
``ag:HoldsClaim``) with ``rdf:subject``/``rdf:predicate``/``rdf:object``, ``ag:validFrom``
(typed ``xsd:gYear``/``xsd:gYearMonth``/``xsd:date`` so the precision is kept) and
``ag:validFromEarliest``/``ag:validFromLatest`` (``xsd:date`` bounds), the same for
``validTo`` (or ``ag:stillHolds true``), ``ag:confidence`` and ``prov:wasDerivedFrom`` each
source; a claim without a source is also typed ``ag:UnsourcedClaim``. Callers who want plain
triples for traversal can ask for them (``direct=True``) knowing they drop all of that.

The SHACL shapes (exports/shapes.ttl, ``shapes_graph()``) check what the model promises:
every claim is sourced or typed unsourced, confidence is one of high/medium/low, ends are
of the kinds the relation allows, enumerations hold, dates are well typed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SDO, SH, XSD
from rdflib.term import Node

from exports.snapshot import Snapshot, software_version, take_snapshot
from graph.dates import MAX_DAY, MIN_DAY, DateError, Precision, day_text, parse_date
from graph.model import (
    CLAIM_FIELDS,
    CONFIDENCE,
    NODE_KINDS,
    RELATION_TYPES,
    Field,
    FieldType,
)  # fmt: skip
from graph.records import NodeRecord, RelRecord
from graph.store import Store

BASE = "https://w3id.org/accountability-graph/"
AG = Namespace(BASE + "ns#")
ID = BASE + "id/"
HERE = Path(__file__).resolve().parent
VOCABULARY_FILE = HERE / "vocabulary.ttl"
SHAPES_FILE = HERE / "shapes.ttl"

PREFIXES = {
    "ag": AG, "rdf": RDF, "rdfs": RDFS, "xsd": XSD, "owl": OWL, "prov": PROV, "foaf": FOAF,
    "org": ORG, "schema": SDO, "dcterms": DCTERMS, "dcat": DCAT, "sh": SH,
}  # fmt: skip

# Node kinds -> external classes they are a kind of (asserted on every record too, so tools
# without our vocabulary still understand the data).
KIND_CLASSES: dict[str, tuple[URIRef, ...]] = {
    "Person": (FOAF.Person, SDO.Person),
    "Organization": (ORG.Organization, SDO.Organization),
    "Position": (ORG.Post,),
    "Case": (PROV.Entity,),
    "Incident": (SDO.Event,),
    "Sanction": (PROV.Entity,),
    "Location": (SDO.Place,),
    "Source": (PROV.Entity, SDO.CreativeWork),
}

# Relation types -> external properties they refine (documentation of meaning: direct
# triples are not asserted unless asked for).
REL_SUPER: dict[str, URIRef] = {
    "HOLDS": ORG.holds,
    "POSITION_IN": ORG.postIn,
    "MEMBER_OF": ORG.memberOf,
    "PART_OF": ORG.subOrganizationOf,
    "LOCATED_IN": SDO.containedInPlace,
    "MENTIONED_IN": SDO.subjectOf,
    "SAME_AS": OWL.sameAs,
    "SIGNED": DCTERMS.contributor,
}

# Node fields written with a well-known property instead of an ag: one.
FIELD_PROPERTIES: dict[tuple[str, str], URIRef] = {
    ("*", "id"): DCTERMS.identifier,
    ("*", "name"): RDFS.label,
    ("*", "aliases"): SDO.alternateName,
    ("*", "notes"): RDFS.comment,
    ("*", "source_ids"): PROV.wasDerivedFrom,
    ("Source", "title"): DCTERMS.title,
    ("Source", "publisher"): DCTERMS.publisher,
    ("Source", "url"): SDO.url,
    ("Source", "licence"): DCTERMS.license,
}
# ag: node properties that refine a well-known one.
FIELD_SUPER: dict[str, URIRef] = {
    "birthDate": SDO.birthDate,
    "gender": FOAF.gender,
    "nationality": SDO.nationality,
    "date": DCTERMS.date,
    "dateEnd": SDO.endDate,
    "country": SDO.addressCountry,
}

SKIPPED_FIELDS = {"name_keys"}  # derived search keys: an artefact of the store, not data
EXEMPT_JUDGEMENT = "SAME_AS"  # a judgement (method, who, when), never "unsourced"


def camel(name: str) -> str:
    """``birth_date`` -> ``birthDate``; ``POSITION_IN`` -> ``positionIn``."""
    parts = name.lower().split("_")
    return parts[0] + "".join(p.title() for p in parts[1:])


def pascal(name: str) -> str:
    return "".join(p.title() for p in name.lower().split("_"))


def node_iri(node_id: str) -> URIRef:
    prefix, _, rest = node_id.partition(":")
    return URIRef(f"{ID}{prefix}/{quote(rest, safe='/-._~')}")


def claim_iri(rel: RelRecord) -> URIRef:
    return URIRef(f"{ID}claim/{rel.type.lower()}/{quote(rel.id, safe='-._~:')}")


def rel_property(rel_type: str) -> URIRef:
    return AG[camel(rel_type)]


def claim_class(rel_type: str) -> URIRef:
    return AG[pascal(rel_type) + "Claim"]


def field_property(kind: str, f: Field) -> URIRef:
    return FIELD_PROPERTIES.get((kind, f.name)) or FIELD_PROPERTIES.get(("*", f.name)) or AG[
        camel(f.name)]


def date_literal(text: str | None) -> Literal | None:
    """An imprecise date as a typed literal that keeps its precision."""
    if not text:
        return None
    try:
        d = parse_date(text, allow_open=True)
    except DateError:
        return Literal(text)
    dtype = {Precision.YEAR: XSD.gYear, Precision.MONTH: XSD.gYearMonth,
             Precision.DAY: XSD.date}.get(d.precision)
    return Literal(d.text, datatype=dtype) if dtype else None


def _bound(day: Any) -> Literal | None:
    if not isinstance(day, int) or day in (MIN_DAY, MAX_DAY):
        return None
    return Literal(day_text(day), datatype=XSD.date)


def _value_literal(f: Field, value: Any) -> Literal:
    if f.type is FieldType.BOOL:
        return Literal(bool(value))
    if f.type is FieldType.INT:
        return Literal(int(value), datatype=XSD.integer)
    if f.type is FieldType.FLOAT:
        return Literal(float(value), datatype=XSD.double)
    return Literal(str(value))


def bind_prefixes(g: Graph) -> Graph:
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True)
    return g


# -- data --------------------------------------------------------------------------------


def _add_date(g: Graph, subject: URIRef | BNode, prop: str, text: Any, lo: Any, hi: Any) -> None:
    lit = date_literal(text)
    if lit is not None:
        g.add((subject, AG[prop], lit))
    for suffix, day in (("Earliest", lo), ("Latest", hi)):
        b = _bound(day)
        if b is not None:
            g.add((subject, AG[prop + suffix], b))


def _add_node(g: Graph, node: NodeRecord) -> None:
    s = node_iri(node.id)
    g.add((s, RDF.type, AG[node.kind]))
    for cls in KIND_CLASSES.get(node.kind, ()):
        g.add((s, RDF.type, cls))
    for f in NODE_KINDS[node.kind].fields:
        value = node.props.get(f.name)
        if f.name in SKIPPED_FIELDS or value is None or value == [] or value == "":
            continue
        if f.name == "names":
            _add_names(g, s, value)
            continue
        if f.type is FieldType.DATE:
            _add_date(g, s, camel(f.name), value, node.props.get(f.name + "_lo"),
                      node.props.get(f.name + "_hi"))
            continue
        prop = field_property(node.kind, f)
        if f.name == "source_ids":
            for sid in value:
                g.add((s, prop, node_iri(sid)))
            continue
        if f.name == "name":
            g.add((s, SDO.name, Literal(value)))
        values = value if f.type is FieldType.LIST else [value]
        for v in values:
            g.add((s, prop, _value_literal(f, v)))


def _add_names(g: Graph, subject: URIRef, names_json: str) -> None:
    """Every name with its language, script, confidence and sources (a blank node each)."""
    for entry in json.loads(names_json or "[]"):
        b = BNode()
        g.add((subject, AG.hasName, b))
        g.add((b, RDF.type, AG.Name))
        lang = entry.get("lang") or None
        g.add((b, AG.nameValue, Literal(entry["name"], lang=lang)))
        if entry.get("script"):
            g.add((b, AG.script, Literal(entry["script"])))
        if entry.get("confidence"):
            g.add((b, AG.confidence, Literal(entry["confidence"])))
        for sid in entry.get("source_ids") or []:
            g.add((b, PROV.wasDerivedFrom, node_iri(sid)))


def _add_claim(g: Graph, rel: RelRecord, known: set[str], direct: bool) -> None:
    c = claim_iri(rel)
    g.add((c, RDF.type, RDF.Statement))
    g.add((c, RDF.type, AG.Claim))
    g.add((c, RDF.type, claim_class(rel.type)))
    g.add((c, RDF.subject, node_iri(rel.from_id)))
    g.add((c, RDF.predicate, rel_property(rel.type)))
    g.add((c, RDF.object, node_iri(rel.to_id)))
    g.add((c, DCTERMS.identifier, Literal(rel.id)))
    p = rel.props
    _add_date(g, c, "validFrom", p.get("valid_from"), p.get("from_lo"), p.get("from_hi"))
    if (p.get("valid_to") or "").lower() == "open":
        g.add((c, AG.stillHolds, Literal(True)))
    else:
        _add_date(g, c, "validTo", p.get("valid_to"), p.get("to_lo"), p.get("to_hi"))
    if p.get("confidence"):
        g.add((c, AG.confidence, Literal(p["confidence"])))
    if p.get("note"):
        g.add((c, RDFS.comment, Literal(p["note"])))
    sources = [s for s in (p.get("source_ids") or []) if s]
    for sid in sources:
        g.add((c, PROV.wasDerivedFrom, node_iri(sid)))
    if not sources:
        if rel.type == "MENTIONED_IN":
            g.add((c, PROV.wasDerivedFrom, node_iri(rel.to_id)))  # the document itself
        elif rel.type != EXEMPT_JUDGEMENT:
            g.add((c, RDF.type, AG.UnsourcedClaim))
    if rel.type == EXEMPT_JUDGEMENT:
        g.add((c, RDF.type, AG.Judgement))
    for f in RELATION_TYPES[rel.type].fields:
        value = p.get(f.name)
        if value is None or value == "":
            continue
        if f.type is FieldType.DATE:
            _add_date(g, c, camel(f.name), value, p.get(f.name + "_lo"), p.get(f.name + "_hi"))
        else:
            g.add((c, AG[camel(f.name)], _value_literal(f, value)))
    if direct:
        g.add((node_iri(rel.from_id), rel_property(rel.type), node_iri(rel.to_id)))


def snapshot_graph(snap: Snapshot, *, direct: bool = False) -> Graph:
    """The RDF graph of a snapshot, with a record of when and from which data it was made."""
    g = bind_prefixes(Graph())
    for node in snap.nodes.values():
        _add_node(g, node)
    known = set(snap.nodes)
    for rel in snap.rels:
        _add_claim(g, rel, known, direct)
    digest = snap.content_hash()
    meta = URIRef(f"{ID}export/{digest}")
    g.add((meta, RDF.type, DCAT.Dataset))
    g.add((meta, RDF.type, PROV.Entity))
    g.add((meta, DCTERMS.created, Literal(snap.taken_at, datatype=XSD.dateTime)))
    g.add((meta, AG.contentSha256, Literal(digest)))
    g.add((meta, AG.includesRestricted, Literal(snap.include_restricted)))
    g.add((meta, AG.assertsDirectTriples, Literal(direct)))
    g.add((meta, DCTERMS.conformsTo, URIRef(BASE + "ns")))
    g.add((meta, PROV.wasAttributedTo,
           Literal(f"accountability-graph {software_version()}")))
    return g


def export_rdf(store: Store, out: Path, fmt: str = "ttl", include_restricted: bool = True,
               *, direct: bool = False) -> dict[str, Any]:
    """Write the graph as Turtle (``ttl``) or JSON-LD (``jsonld``); returns a small report."""
    snap = take_snapshot(store, include_restricted=include_restricted)
    g = snapshot_graph(snap, direct=direct)
    write_graph(g, out, fmt)
    return {"format": fmt, "out": str(out), "triples": len(g), "counts": snap.counts(),
            "content_sha256": snap.content_hash(), "include_restricted": include_restricted}


def jsonld_context() -> dict[str, str]:
    """Prefixes for JSON-LD; ``agid:`` shortens record IRIs (``agid:person/x``)."""
    return {**{p: str(ns) for p, ns in PREFIXES.items() if p != "sh"}, "agid": ID}


def write_graph(g: Graph, out: Path, fmt: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "ttl":
        g.serialize(destination=str(out), format="turtle", encoding="utf-8")
    elif fmt == "jsonld":
        g.serialize(destination=str(out), format="json-ld", context=jsonld_context(),
                    auto_compact=True, encoding="utf-8")
    else:
        raise ValueError(f"unknown RDF format '{fmt}' (ttl or jsonld)")


# -- vocabulary --------------------------------------------------------------------------


def vocabulary_graph() -> Graph:
    """The ``ag:`` vocabulary, derived from graph.model (written to exports/vocabulary.ttl)."""
    g = bind_prefixes(Graph())
    onto = URIRef(BASE + "ns")
    g.add((onto, RDF.type, OWL.Ontology))
    g.add((onto, RDFS.label, Literal("accountability-graph vocabulary", lang="en")))
    g.add((onto, RDFS.comment, Literal(
        "Perpetrators, victims and institutions of grave human-rights violations; every "
        "relation is a dated, sourced claim (rdf:Statement) with a confidence.", lang="en")))

    def cls(c: URIRef, label: str, comment: str, *supers: URIRef) -> None:
        g.add((c, RDF.type, OWL.Class))
        g.add((c, RDFS.label, Literal(label, lang="en")))
        if comment:
            g.add((c, RDFS.comment, Literal(comment, lang="en")))
        for sup in supers:
            g.add((c, RDFS.subClassOf, sup))

    def prop(p: URIRef, label: str, comment: str = "", *supers: URIRef,
             datatype: bool = True) -> None:
        if (p, RDF.type, None) in g:
            return
        g.add((p, RDF.type, OWL.DatatypeProperty if datatype else OWL.ObjectProperty))
        g.add((p, RDFS.label, Literal(label, lang="en")))
        g.add((p, RDFS.isDefinedBy, onto))
        if comment:
            g.add((p, RDFS.comment, Literal(comment, lang="en")))
        for sup in supers:
            g.add((p, RDFS.subPropertyOf, sup))

    for kind, nk in NODE_KINDS.items():
        cls(AG[kind], kind, nk.doc, *KIND_CLASSES.get(kind, ()))
        g.add((AG[kind], RDFS.isDefinedBy, onto))
        for f in nk.fields:
            if f.name in SKIPPED_FIELDS or f.name == "names":
                continue
            p = field_property(kind, f)
            if not str(p).startswith(str(AG)):
                continue
            if f.type is FieldType.DATE:
                _date_props(prop, camel(f.name), f.doc, FIELD_SUPER.get(camel(f.name)))
            else:
                sup = FIELD_SUPER.get(camel(f.name))
                prop(p, f.name.replace("_", " "), f.doc, *((sup,) if sup else ()))
    cls(AG.Claim, "claim", "A relation stated by one or more sources, with dates and a "
        "confidence; never asserted as a bare fact.", RDF.Statement, PROV.Entity)
    cls(AG.UnsourcedClaim, "unsourced claim", "A claim no source supports: always shown as "
        "such, never as fact.", AG.Claim)
    cls(AG.Judgement, "identity judgement", "A SAME_AS claim: a judgement (method, score, "
        "who, when) that two records are one entity.", AG.Claim)
    cls(AG.Name, "name", "One name of an entity with its language, script, confidence and "
        "sources.")
    for rel_type, rt in RELATION_TYPES.items():
        ends = ", ".join(f"{a} -> {b}" for a, b in rt.ends)
        cls(claim_class(rel_type), f"{rel_type} claim", f"{rt.doc} ({ends})".strip(),
            AG.Claim)
        g.add((claim_class(rel_type), RDFS.isDefinedBy, onto))
        sup = REL_SUPER.get(rel_type)
        prop(rel_property(rel_type), rel_type, f"{rt.doc} ({ends}). Used as the rdf:predicate "
             "of claims; asserted directly only in exports made with direct triples.",
             *((sup,) if sup else ()), datatype=False)
        for f in rt.fields:
            if f.type is FieldType.DATE:
                _date_props(prop, camel(f.name), f.doc, None)
            else:
                prop(AG[camel(f.name)], f.name.replace("_", " "), f.doc)
    for f in CLAIM_FIELDS:
        if f.type is FieldType.DATE:
            _date_props(prop, camel(f.name), f.doc, None)
    prop(AG.stillHolds, "still holds", "The claim had not ended when its source was written "
         "(valid_to 'open').")
    prop(AG.confidence, "confidence", "high, medium or low")
    prop(AG.hasName, "has name", "a name with its own provenance", datatype=False)
    prop(AG.nameValue, "name value", "the name, language-tagged when the language is known")
    prop(AG.script, "script", "ISO 15924 script of the name (Latn, Arab...)")
    prop(AG.contentSha256, "content sha256", "sha256 of the data an export was made from")
    prop(AG.includesRestricted, "includes restricted",
         "whether restricted records were included in the export")
    prop(AG.assertsDirectTriples, "asserts direct triples",
         "whether the export also asserts each claim as a plain triple")
    return g


def _date_props(prop: Any, name: str, doc: str, sup: URIRef | None) -> None:
    prop(AG[name], name, (doc + " " if doc else "") + "As given (xsd:gYear, xsd:gYearMonth or "
         "xsd:date: the precision of the source).", *((sup,) if sup else ()))
    prop(AG[name + "Earliest"], name + " earliest", "first day the date may denote")
    prop(AG[name + "Latest"], name + " latest", "last day the date may denote")


# -- shapes ------------------------------------------------------------------------------


class _Shapes:
    def __init__(self) -> None:
        self.g = bind_prefixes(Graph())

    def rdf_list(self, items: list[Any]) -> BNode:
        head = BNode()
        Collection(self.g, head, items)
        return head

    def node_shape(self, name: str, target: URIRef) -> URIRef:
        s = AG[name]
        self.g.add((s, RDF.type, SH.NodeShape))
        self.g.add((s, SH.targetClass, target))
        return s

    def prop(self, shape: URIRef, path: URIRef, **constraints: Any) -> BNode:
        b = BNode()
        self.g.add((shape, SH.property, b))
        self.g.add((b, SH.path, path))
        for key, value in constraints.items():
            if key == "in_":
                self.g.add((b, SH["in"], self.rdf_list(value)))
            elif key == "or_":
                self.g.add((b, SH["or"], self.rdf_list(value)))
            else:
                node: Node = Literal(value) if isinstance(value, int) else value
                self.g.add((b, SH[key], node))
        return b

    def alt(self, **constraints: Any) -> BNode:
        b = BNode()
        for key, value in constraints.items():
            self.g.add((b, SH[key], value))
        return b

    def date_props(self, shape: URIRef, name: str) -> None:
        self.prop(shape, AG[name], maxCount=1, or_=[
            self.alt(datatype=XSD.gYear), self.alt(datatype=XSD.gYearMonth),
            self.alt(datatype=XSD.date)])
        for suffix in ("Earliest", "Latest"):
            self.prop(shape, AG[name + suffix], maxCount=1, datatype=XSD.date)


def shapes_graph() -> Graph:
    """SHACL shapes for exports, derived from graph.model (written to exports/shapes.ttl)."""
    sh = _Shapes()
    conf = [Literal(c) for c in CONFIDENCE]
    for kind, nk in NODE_KINDS.items():
        s = sh.node_shape(f"{kind}Shape", AG[kind])
        sh.prop(s, DCTERMS.identifier, minCount=1, maxCount=1, datatype=XSD.string,
                pattern=Literal(f"^{nk.prefix}:"))
        sh.prop(s, RDFS.label, minCount=1, maxCount=1)
        sh.prop(s, PROV.wasDerivedFrom, nodeKind=SH.IRI, **{"class": AG.Source})
        for f in nk.fields:
            if f.name in ("id", "name", "aliases", "names", "name_keys", "source_ids",
                          "notes"):
                continue
            p = field_property(kind, f)
            if f.type is FieldType.DATE:
                sh.date_props(s, camel(f.name))
                continue
            c: dict[str, Any] = {}
            if f.type is not FieldType.LIST:
                c["maxCount"] = 1
            if f.required:
                c["minCount"] = 1
            if f.type is FieldType.ENUM:
                c["in_"] = [Literal(v) for v in f.choices]
            elif f.type is FieldType.BOOL:
                c["datatype"] = XSD.boolean
            elif f.type is FieldType.INT:
                c["datatype"] = XSD.integer
            elif f.type is FieldType.FLOAT:
                c["datatype"] = XSD.double
            else:
                c["datatype"] = XSD.string
            sh.prop(s, p, **c)
    name = sh.node_shape("NameShape", AG.Name)
    sh.prop(name, AG.nameValue, minCount=1, maxCount=1)
    sh.prop(name, AG.confidence, maxCount=1, in_=conf)
    sh.prop(name, PROV.wasDerivedFrom, nodeKind=SH.IRI, **{"class": AG.Source})

    claim = sh.node_shape("ClaimShape", AG.Claim)
    sh.g.add((claim, RDFS.comment, Literal(
        "Every claim names its subject, predicate and object, has a confidence, and is "
        "derived from at least one source unless it is typed ag:UnsourcedClaim (or is an "
        "identity judgement).", lang="en")))
    sh.prop(claim, RDF.subject, minCount=1, maxCount=1, nodeKind=SH.IRI)
    sh.prop(claim, RDF.predicate, minCount=1, maxCount=1,
            in_=[rel_property(t) for t in RELATION_TYPES])
    sh.prop(claim, RDF.object, minCount=1, maxCount=1, nodeKind=SH.IRI)
    sh.prop(claim, DCTERMS.identifier, minCount=1, maxCount=1)
    sh.prop(claim, AG.confidence, minCount=1, maxCount=1, in_=conf)
    sh.prop(claim, PROV.wasDerivedFrom, nodeKind=SH.IRI, **{"class": AG.Source})
    sh.prop(claim, AG.stillHolds, maxCount=1, datatype=XSD.boolean)
    sh.date_props(claim, "validFrom")
    sh.date_props(claim, "validTo")
    sourced = BNode()
    sh.g.add((sourced, SH.path, PROV.wasDerivedFrom))
    sh.g.add((sourced, SH.minCount, Literal(1)))
    sh.g.add((claim, SH["or"], sh.rdf_list([
        sh.alt(property=sourced), sh.alt(**{"class": AG.UnsourcedClaim}),
        sh.alt(**{"class": AG.Judgement})])))
    unsourced = sh.node_shape("UnsourcedClaimShape", AG.UnsourcedClaim)
    sh.prop(unsourced, PROV.wasDerivedFrom, maxCount=0)

    for rel_type, rt in RELATION_TYPES.items():
        s = sh.node_shape(f"{pascal(rel_type)}ClaimShape", claim_class(rel_type))
        sh.prop(s, RDF.predicate, hasValue=rel_property(rel_type))
        froms = sorted({a for a, _ in rt.ends})
        tos = sorted({b for _, b in rt.ends})
        for path, kinds in ((RDF.subject, froms), (RDF.object, tos)):
            if len(kinds) == 1:
                sh.prop(s, path, **{"class": AG[kinds[0]]})
            else:
                sh.prop(s, path, or_=[sh.alt(**{"class": AG[k]}) for k in kinds])
        for f in rt.fields:
            if f.type is FieldType.DATE:
                sh.date_props(s, camel(f.name))
                continue
            dtype = {FieldType.INT: XSD.integer, FieldType.FLOAT: XSD.double,
                     FieldType.BOOL: XSD.boolean}.get(f.type, XSD.string)
            sh.prop(s, AG[camel(f.name)], maxCount=1, datatype=dtype)
    return sh.g


def load_shapes() -> Graph:
    """The shipped shapes file (falls back to generating it from the model)."""
    if SHAPES_FILE.exists():
        return Graph().parse(SHAPES_FILE, format="turtle")
    return shapes_graph()


def write_static_files() -> None:
    """Regenerate exports/vocabulary.ttl and exports/shapes.ttl from the model."""
    vocabulary_graph().serialize(destination=str(VOCABULARY_FILE), format="turtle")
    shapes_graph().serialize(destination=str(SHAPES_FILE), format="turtle")


if __name__ == "__main__":  # python -m exports.rdf --write-static
    if "--write-static" in sys.argv[1:]:
        write_static_files()
        print(f"wrote {VOCABULARY_FILE} and {SHAPES_FILE}")
    else:
        print("usage: python -m exports.rdf --write-static")
