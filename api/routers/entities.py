"""``/entities/{ref}``: profile, chain of command at a date, accountability, linked
officials, timeline. ``ref`` is an id or a name: an unknown one is a 404, a name that
matches several entities a 409 listing the candidates."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import CurrentPrincipal, Queries
from api.guard import answer_response
from api.routers.params import AtDate, Ref, RequiredAtDate, check_date, check_text
from queries.answers import AccountabilityAnswer, ChainAnswer, LinkedAnswer, Profile, TimelineAnswer

router = APIRouter(prefix="/entities", tags=["entities"])


@router.get("/{ref}", response_model=Profile, summary="Profile of an entity")
def profile(request: Request, principal: CurrentPrincipal, queries: Queries,
            ref: Ref) -> Response:
    """Names in all scripts, attributes, posts over time, memberships, cases, incidents,
    sanctions per authority, and the sources of each."""
    return answer_response(request, principal,
                           lambda: queries.profile(check_text(ref, "ref")))


@router.get("/{ref}/chain", response_model=ChainAnswer,
            summary="Chain of command above an entity on a date")
def chain(request: Request, principal: CurrentPrincipal, queries: Queries, ref: Ref,
          at: RequiredAtDate) -> Response:
    """The posts held on the date, the PART_OF chain valid on the date up to the top, and
    each organisation's head(s) on the date. Steps whose dates cannot decide are kept and
    marked ``dates_unknown``."""
    return answer_response(request, principal,
                           lambda: queries.chain(check_text(ref, "ref"), check_date(at)))


@router.get("/{ref}/accountability", response_model=AccountabilityAnswer,
            summary="Who is responsible for an act (victim, incident or case)")
def accountability(request: Request, principal: CurrentPrincipal, queries: Queries,
                   ref: Ref) -> Response:
    """Acts, direct perpetrators, judicial actors, places, and the chain of command at the
    date of the act above each; every actor with the path and sources linking them."""
    return answer_response(request, principal,
                           lambda: queries.accountability(check_text(ref, "ref")))


@router.get("/{ref}/linked", response_model=LinkedAnswer,
            summary="Officials linked to an organisation (and its units)")
def linked(request: Request, principal: CurrentPrincipal, queries: Queries, ref: Ref,
           at: AtDate = None) -> Response:
    """Persons who held posts in the organisation or its subordinate units, at a date or
    over all time, with their sanctions status per authority."""
    return answer_response(request, principal,
                           lambda: queries.linked(check_text(ref, "ref"), at=check_date(at)))


@router.get("/{ref}/timeline", response_model=TimelineAnswer, summary="Dated events of an entity")
def timeline(request: Request, principal: CurrentPrincipal, queries: Queries, ref: Ref) -> Response:
    return answer_response(request, principal,
                           lambda: queries.timeline(check_text(ref, "ref")))
