"""Typed answers of every query (pydantic v2).

These models are the contract between ``queries.service.GraphQueries`` and its callers: the
CLI prints them (``--json`` is ``model_dump(mode="json")``), the HTTP API uses them as its
response models, the exporters and the dossier read them. Every link in an answer is a
``Claim`` carrying its dates, confidence and resolved sources, so no answer ever shows a
fact without its evidence.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["valid", "dates_unknown"]
ActorRole = Literal["direct", "judicial", "custodial", "superior", "institutional", "inciting"]
AUTHORITIES = ("OFAC", "EU", "UK", "UN", "CA", "AU")


class SourceRef(BaseModel):
    """A source a claim cites, resolved to what a reader needs to find it."""

    id: str
    title: str | None = None
    publisher: str | None = None
    date: str | None = None
    reference: str | None = None
    url: str | None = None
    kind: str | None = None
    missing: bool = False  # the claim cites an id that is not (or not visibly) in the graph


class EntityRef(BaseModel):
    """A node as answers show it. ``subtype`` is an organisation's or incident's ``kind``
    (court, prison, execution...), a location's kind or a sanction's authority."""

    id: str
    kind: str  # node kind: Person, Organization, Position, Case, Incident, Sanction, ...
    name: str | None = None
    subtype: str | None = None
    date: str | None = None  # an incident's date, a case's verdict date, a source's date


class Claim(BaseModel):
    """One relation (a claim about the world) with its evidence.

    ``status`` is only set when the question was asked at a date: ``valid`` when the claim's
    dates show it held on that date, ``dates_unknown`` when its dates (missing or imprecise)
    cannot decide; claims that certainly did not hold are never in an answer at a date.
    ``attested`` lists the dates of the sources that state the claim (a lower bound of
    when it was known to hold when its own dates are missing).
    """

    id: str
    type: str
    from_id: str
    to_id: str
    from_name: str | None = None
    to_name: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    confidence: str | None = None
    note: str | None = None
    role: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)  # rank, score, method, judged_by...
    source_ids: list[str] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)
    unsourced: bool = False
    status: Status | None = None
    attested: list[str] = Field(default_factory=list)


class SanctionRef(BaseModel):
    """One designation. ``target_id`` is the record it TARGETS; ``via`` is set when that
    record is not the entity asked about but one judged the same (SAME_AS)."""

    id: str
    authority: str
    programme: str | None = None
    list_ref: str | None = None
    listed: str | None = None
    delisted: str | None = None
    reason: str | None = None
    active: bool = True  # False when a delisting date is recorded
    target_id: str | None = None
    via: str | None = None
    claim: Claim | None = None
    sources: list[SourceRef] = Field(default_factory=list)


# -- profile -------------------------------------------------------------------------


class NameEntry(BaseModel):
    name: str
    lang: str | None = None
    script: str | None = None
    confidence: str | None = None
    record_id: str | None = None  # which record carries the name (SAME_AS records too)
    sources: list[SourceRef] = Field(default_factory=list)


class Relation(BaseModel):
    """A claim seen from one entity: ``direction`` out (entity is ``from``) or in."""

    claim: Claim
    direction: Literal["out", "in"]
    other: EntityRef
    via: str | None = None  # the SAME_AS record carrying the claim, if not the entity


class PostHeld(BaseModel):
    position: EntityRef
    organization: EntityRef | None = None
    holds: Claim
    position_in: Claim | None = None
    via: str | None = None


class Profile(BaseModel):
    entity: EntityRef
    names: list[NameEntry] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    posts: list[PostHeld] = Field(default_factory=list)
    memberships: list[Relation] = Field(default_factory=list)
    cases: list[Relation] = Field(default_factory=list)
    incidents: list[Relation] = Field(default_factory=list)
    sanctions: dict[str, list[SanctionRef]] = Field(default_factory=dict)
    same_as: list[Relation] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)  # every other claim
    sources: list[SourceRef] = Field(default_factory=list)  # the record's own sources
    restricted: bool = False


# -- chain of command ----------------------------------------------------------------


class ChainPost(BaseModel):
    """A post (or membership) the person held on the date: the entry into the chain."""

    person: EntityRef
    position: EntityRef | None = None  # None for a membership without a named post
    organization: EntityRef
    holds: Claim  # HOLDS (or MEMBER_OF for a membership)
    position_in: Claim | None = None
    status: Status
    via: str | None = None


class ChainHead(BaseModel):
    person: EntityRef
    position: EntityRef
    holds: Claim
    position_in: Claim
    status: Status


class ChainHeadPost(BaseModel):
    """A head post of an organisation on a chain taken at an unknown date: who held it then
    cannot be decided, so its holders are not listed (accountability for an undated act)."""

    position: EntityRef
    position_in: Claim
    status: Status


class ChainLink(BaseModel):
    parent: EntityRef
    claim: Claim  # PART_OF
    status: Status


class ChainOrg(BaseModel):
    organization: EntityRef
    level: int  # 0 = an organisation of the entry point, 1 = its parent, ...
    parents: list[ChainLink] = Field(default_factory=list)
    heads: list[ChainHead] = Field(default_factory=list)
    head_posts: list[ChainHeadPost] = Field(default_factory=list)  # set instead of heads
    # when the chain was taken at an unknown date for an accountability answer


class ChainAnswer(BaseModel):
    at: str
    entity: EntityRef
    posts: list[ChainPost] = Field(default_factory=list)
    entry: list[str] = Field(default_factory=list)  # organisation ids where the chain starts
    organizations: list[ChainOrg] = Field(default_factory=list)
    top: list[str] = Field(default_factory=list)  # organisations with no parent on the date
    dates_unknown: int = 0  # how many steps could not be decided on the date


# -- accountability ------------------------------------------------------------------


class Act(BaseModel):
    act: EntityRef  # an Incident or a Case
    date: str | None = None
    victims: list[EntityRef] = Field(default_factory=list)
    path: list[Claim] = Field(default_factory=list)  # from the subject to the act


class Actor(BaseModel):
    entity: EntityRef
    role: ActorRole
    detail: str  # "judge", "trial court", "upheld the sentence", "place of execution", ...
    act_id: str
    at: str | None = None  # the date of the act the chain was taken at
    path: list[Claim] = Field(default_factory=list)  # from the act to this actor
    status: Status | None = None  # dates_unknown when a dated step on the path is undecided
    sources: list[SourceRef] = Field(default_factory=list)
    sanctions: dict[str, list[SanctionRef]] = Field(default_factory=dict)


class NoticeItem(BaseModel):
    """An earlier incident attributed to an organisation on the chain (notice indicator)."""

    organization: EntityRef
    incident: EntityRef
    before_act: str
    claim: Claim


class AccountabilityAnswer(BaseModel):
    subject: EntityRef
    acts: list[Act] = Field(default_factory=list)
    actors: list[Actor] = Field(default_factory=list)
    notice: list[NoticeItem] = Field(default_factory=list)  # the 10 latest per organisation
    notice_total: int = 0  # all earlier incidents found


# -- linked officials and sanctions gaps ---------------------------------------------


class LinkedPost(BaseModel):
    position: EntityRef | None = None
    organization: EntityRef
    path: list[Claim]  # HOLDS, POSITION_IN, then PART_OF up to the organisation asked about
    status: Status | None = None


class LinkedOfficial(BaseModel):
    person: EntityRef
    posts: list[LinkedPost] = Field(default_factory=list)
    sanctions: dict[str, list[SanctionRef]] = Field(default_factory=dict)
    sanctioned_by: list[str] = Field(default_factory=list)  # authorities with an active listing


class LinkedAnswer(BaseModel):
    organization: EntityRef
    at: str | None = None
    units: list[EntityRef] = Field(default_factory=list)  # the organisation and its subordinates
    officials: list[LinkedOfficial] = Field(default_factory=list)
    authorities: list[str] = Field(default_factory=lambda: list(AUTHORITIES))


class GapReason(BaseModel):
    role: ActorRole
    detail: str
    act_id: str
    act_name: str | None = None


class Gap(BaseModel):
    person: EntityRef
    score: float
    # the first reasons in (act, role) order; all of them are counted in the score and in
    # ``reasons_total`` (the head of a top organisation is a superior in thousands of acts)
    reasons: list[GapReason] = Field(default_factory=list)
    reasons_total: int = 0
    other_sanctions: dict[str, list[SanctionRef]] = Field(default_factory=dict)


class GapsAnswer(BaseModel):
    authority: str
    gaps: list[Gap] = Field(default_factory=list)
    total: int = 0  # before the limit


# -- search, paths, timeline, analytics, neighbourhood -------------------------------


class SearchHit(BaseModel):
    entity: EntityRef
    matched: str  # the stored name that matched best
    score: float  # 0..100


class SearchAnswer(BaseModel):
    query: str
    normalised: str
    hits: list[SearchHit] = Field(default_factory=list)


class Path(BaseModel):
    nodes: list[EntityRef]
    claims: list[Claim]
    status: Status | None = None


class PathsAnswer(BaseModel):
    source: EntityRef
    target: EntityRef
    at: str | None = None
    length: int | None = None  # None when no path within max_len
    paths: list[Path] = Field(default_factory=list)


class TimelineEvent(BaseModel):
    date: str
    what: str  # "start", "end", "date", "listed", "delisted", "birth", ...
    label: str
    entity: EntityRef | None = None  # the other entity involved
    claim: Claim | None = None
    sources: list[SourceRef] = Field(default_factory=list)


class TimelineAnswer(BaseModel):
    entity: EntityRef
    events: list[TimelineEvent] = Field(default_factory=list)
    undated: list[Claim] = Field(default_factory=list)  # claims whose dates are unknown


class ScoredEntity(BaseModel):
    entity: EntityRef
    score: float


class Community(BaseModel):
    id: int
    size: int
    members: list[EntityRef]


class AnalyticsAnswer(BaseModel):
    measure: str
    kinds: list[str]
    at: str | None = None
    nodes: int
    edges: int
    ranking: list[ScoredEntity] = Field(default_factory=list)
    communities: list[Community] = Field(default_factory=list)


class Subgraph(BaseModel):
    center: EntityRef
    nodes: list[EntityRef] = Field(default_factory=list)
    edges: list[Claim] = Field(default_factory=list)
    truncated: bool = False
