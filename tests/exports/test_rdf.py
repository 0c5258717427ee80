"""RDF export: Turtle and JSON-LD parse back to the same graph, the SHACL shapes accept the
export (and reject broken claims), reified claims carry dates, confidence and
prov:wasDerivedFrom, restricted records are absent from public exports."""

from __future__ import annotations

from pathlib import Path

import pyshacl
import pytest
from rdflib import BNode, Graph, Literal
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, PROV, RDF, XSD

from exports.rdf import (
    AG,
    SHAPES_FILE,
    VOCABULARY_FILE,
    claim_class,
    export_rdf,
    load_shapes,
    node_iri,
    shapes_graph,
    snapshot_graph,
    vocabulary_graph,
)  # fmt: skip
from exports.snapshot import take_snapshot
from graph.embedded import EmbeddedStore

from .conftest import RESTRICTED_PERSON, RESTRICTED_SOURCE


def _validate(g: Graph) -> tuple[bool, str]:
    ok, _, text = pyshacl.validate(g, shacl_graph=load_shapes(), advanced=False)
    return bool(ok), str(text)


def _holds_claims(g: Graph) -> list:
    return sorted(g.subjects(RDF.type, claim_class("HOLDS")))


@pytest.mark.parametrize("fmt, parse_as", [("ttl", "turtle"), ("jsonld", "json-ld")])
def test_export_parses_back_identically(fixture_store: EmbeddedStore, tmp_path: Path,
                                        fmt: str, parse_as: str) -> None:
    out = tmp_path / f"graph.{fmt}"
    report = export_rdf(fixture_store, out, fmt)
    assert report["triples"] > 100
    parsed = Graph().parse(out, format=parse_as)
    expected = snapshot_graph(take_snapshot(fixture_store))
    # the export's own record (created time) differs between the two runs: compare the rest
    for g in (parsed, expected):
        for meta in list(g.subjects(AG.contentSha256, None)):
            g.remove((meta, None, None))
    assert isomorphic(parsed, expected)


def test_export_conforms_to_the_shapes(fixture_store: EmbeddedStore) -> None:
    ok, text = _validate(snapshot_graph(take_snapshot(fixture_store)))
    assert ok, text


def test_seed_graph_conforms_to_the_shapes(tmp_path: Path) -> None:
    from ingest.seed import seed_data_path

    from .conftest import load

    if not any(seed_data_path().glob("*.csv")):
        pytest.skip("no seed-facts graph yet")
    store = EmbeddedStore(tmp_path / "db" / "graph.lbdb")
    try:
        load(store, seed_data_path())
        g = snapshot_graph(take_snapshot(store))
    finally:
        store.close()
    ok, text = _validate(g)
    assert ok, text


def test_reified_claims_carry_dates_confidence_and_sources(fixture_store: EmbeddedStore) -> None:
    g = snapshot_graph(take_snapshot(fixture_store))
    claims = {str(g.value(c, DCTERMS.identifier)): c for c in _holds_claims(g)}
    alpha = claims["holds:alpha-judge"]
    assert g.value(alpha, RDF.subject) == node_iri("person:zzyzx-judge-alpha")
    assert g.value(alpha, RDF.predicate) == AG.holds
    assert g.value(alpha, RDF.object) == node_iri("position:judge-testland-court-one")
    assert g.value(alpha, AG.validFrom) == Literal("2015", datatype=XSD.gYear)
    assert g.value(alpha, AG.validFromEarliest) == Literal("2015-01-01", datatype=XSD.date)
    assert g.value(alpha, AG.validToLatest) == Literal("2021-12-31", datatype=XSD.date)
    assert g.value(alpha, AG.confidence) == Literal("high")
    assert g.value(alpha, PROV.wasDerivedFrom) == node_iri("source:synthetic-report-1")
    assert (node_iri("source:synthetic-report-1"), RDF.type, AG.Source) in g
    beta = claims["holds:beta-head"]
    assert g.value(beta, AG.validFrom) == Literal("2018-03", datatype=XSD.gYearMonth)
    assert g.value(beta, AG.stillHolds) == Literal(True)
    # not asserted as a bare fact by default
    assert (node_iri("person:zzyzx-judge-alpha"), AG.holds, None) not in g
    direct = snapshot_graph(take_snapshot(fixture_store), direct=True)
    assert (node_iri("person:zzyzx-judge-alpha"), AG.holds,
            node_iri("position:judge-testland-court-one")) in direct


def test_names_keep_language_and_provenance(fixture_store: EmbeddedStore) -> None:
    g = snapshot_graph(take_snapshot(fixture_store))
    beta = node_iri("person:zzyzx-chief-beta")
    values = {g.value(n, AG.nameValue) for n in g.objects(beta, AG.hasName)}
    assert Literal("زیزیکس رئیس بتا", lang="fa") in values


def test_shapes_reject_broken_claims(fixture_store: EmbeddedStore) -> None:
    base = snapshot_graph(take_snapshot(fixture_store))
    claim = _holds_claims(base)[0]

    unsourced = Graph() + base
    unsourced.remove((claim, PROV.wasDerivedFrom, None))
    ok, text = _validate(unsourced)
    assert not ok and "ClaimShape" in text

    flagged = Graph() + unsourced
    flagged.add((claim, RDF.type, AG.UnsourcedClaim))
    assert _validate(flagged)[0]

    bad_conf = Graph() + base
    bad_conf.set((claim, AG.confidence, Literal("certain")))
    assert not _validate(bad_conf)[0]

    wrong_end = Graph() + base
    wrong_end.set((claim, RDF.subject, node_iri("org:testland-judiciary")))
    ok, text = _validate(wrong_end)
    assert not ok and "does not have class ag:Person" in text


def test_unsourced_claims_are_typed(tmp_path: Path) -> None:
    import shutil

    from .conftest import FIXTURE, load

    folder = tmp_path / "unsourced"
    shutil.copytree(FIXTURE, folder)
    (folder / "MEMBER_OF.csv").write_text(
        "from,to,role\nperson:zzyzx-judge-alpha,org:testland-court-one,member\n",
        encoding="utf-8")
    store = EmbeddedStore(tmp_path / "db" / "graph.lbdb")
    try:
        load(store, folder)
        g = snapshot_graph(take_snapshot(store))
    finally:
        store.close()
    member = next(g.subjects(RDF.type, claim_class("MEMBER_OF")))
    assert (member, RDF.type, AG.UnsourcedClaim) in g
    assert _validate(g)[0]


def test_public_rdf_has_no_restricted_record(restricted_store: EmbeddedStore,
                                             tmp_path: Path) -> None:
    out = tmp_path / "public.ttl"
    export_rdf(restricted_store, out, "ttl", include_restricted=False)
    text = out.read_text(encoding="utf-8")
    assert "witness-delta" not in text and "Witness-Delta" not in text
    assert "testimony-delta" not in text and "Testimony Delta" not in text
    ok, report = _validate(Graph().parse(out, format="turtle"))
    assert ok, report
    full = tmp_path / "full.ttl"
    export_rdf(restricted_store, full, "ttl", include_restricted=True)
    g = Graph().parse(full, format="turtle")
    assert (node_iri(RESTRICTED_PERSON), AG.restricted, Literal(True)) in g
    assert (node_iri(RESTRICTED_SOURCE), RDF.type, AG.Source) in g


def test_static_vocabulary_and_shapes_match_the_model() -> None:
    """exports/*.ttl are generated from graph.model: regenerate with
    ``python -m exports.rdf --write-static`` after changing the model."""
    assert _tree_form(Graph().parse(VOCABULARY_FILE, format="turtle")) == _tree_form(
        vocabulary_graph())
    assert _tree_form(Graph().parse(SHAPES_FILE, format="turtle")) == _tree_form(shapes_graph())


def _tree_form(g: Graph) -> list[str]:
    """A blank-node-insensitive form of a graph whose blank nodes form trees (property
    shapes, RDF lists): much faster than a general isomorphism test."""

    def term(t: object) -> str:
        if isinstance(t, BNode):
            return "[" + ", ".join(sorted(f"{p.n3()} {term(o)}"
                                          for p, o in g.predicate_objects(t))) + "]"
        return t.n3()  # type: ignore[attr-defined]

    return sorted(f"{s.n3()} {p.n3()} {term(o)}" for s, p, o in g if not isinstance(s, BNode))
