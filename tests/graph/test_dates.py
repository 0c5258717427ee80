"""Imprecise dates: parsing, ordering and the validity rule the queries rely on."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.dates import (
    MAX_DAY,
    MIN_DAY,
    OPEN,
    UNKNOWN,
    DateError,
    Precision,
    Validity,
    claim_validity,
    parse_date,
)


def test_precisions() -> None:
    assert parse_date("1988").precision is Precision.YEAR
    assert parse_date("1988-07").precision is Precision.MONTH
    assert parse_date("1988-07-27").precision is Precision.DAY
    assert parse_date("") is UNKNOWN and parse_date(None) is UNKNOWN
    assert parse_date("open", allow_open=True) is OPEN


def test_year_contains_its_days() -> None:
    year, day = parse_date("1988"), parse_date("1988-07-27")
    assert year.contains(day)
    assert year.may_overlap(day)
    assert not year.certainly_before(day) and not day.certainly_before(year)
    assert parse_date("1987").certainly_before(day)
    assert day.certainly_before(parse_date("1989"))


def test_month_bounds_respect_calendar() -> None:
    feb = parse_date("2024-02")
    assert (feb.lo, feb.hi) == (20240201, 20240229)
    assert parse_date("2023-02").hi == 20230228


@pytest.mark.parametrize("bad", ["1988-13", "1988-02-30", "88", "1988/07/27", "July 1988",
                                 "0000", "1988-7-2", "open"])
def test_bad_dates_are_rejected_with_reason(bad: str) -> None:
    with pytest.raises(DateError) as err:
        parse_date(bad)
    assert bad in str(err.value) or "open" in str(err.value)


days = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


def fuzzy(d: dt.date, precision: str) -> str:
    return {"year": f"{d.year:04d}", "month": f"{d.year:04d}-{d.month:02d}",
            "day": d.isoformat()}[precision]


precisions = st.sampled_from(["year", "month", "day"])


@settings(max_examples=300, deadline=None)
@given(days, precisions, days, precisions)
def test_comparisons_agree_with_the_days_they_denote(a: dt.date, pa: str, b: dt.date, pb: str) -> None:
    """An imprecise date is the set of days it may denote: 'certainly before' must hold
    exactly when every day of one precedes every day of the other."""
    x, y = parse_date(fuzzy(a, pa)), parse_date(fuzzy(b, pb))
    assert x.lo <= x.hi
    assert x.certainly_before(y) == (x.hi < y.lo)
    assert x.may_overlap(y) == y.may_overlap(x)
    if x.certainly_before(y):
        assert not x.may_overlap(y) and not y.certainly_before(x)
    # the exact day always lies within its imprecise forms
    exact = parse_date(a.isoformat())
    assert x.contains(exact)


maybe_dates = st.one_of(st.just(""), st.tuples(days, precisions).map(lambda t: fuzzy(*t)))


@settings(max_examples=400, deadline=None)
@given(maybe_dates, st.one_of(maybe_dates, st.just("open")), days, precisions)
def test_validity_is_sound(start: str, end: str, at_day: dt.date, pat: str) -> None:
    """VALID only if every possible reading of the dates makes the claim hold at every day
    of D; INVALID only if no reading does; everything else is DATES_UNKNOWN."""
    s, e = parse_date(start), parse_date(end, allow_open=True)
    at = parse_date(fuzzy(at_day, pat))
    v = claim_validity(s, e, at)
    if v is Validity.VALID:
        assert s.known and e.known
        assert s.hi <= at.lo and e.lo >= at.hi
    elif v is Validity.INVALID:
        assert s.lo > at.hi or e.hi < at.lo
    else:
        assert not (s.lo > at.hi or e.hi < at.lo)
    if not s.known or not e.known:
        assert v is not Validity.VALID or e is OPEN and s.known


def test_unknown_dates_are_never_valid_nor_invalid() -> None:
    assert claim_validity(UNKNOWN, UNKNOWN, parse_date("2026-01")) is Validity.DATES_UNKNOWN
    assert claim_validity(parse_date("2021"), OPEN, parse_date("2026-01")) is Validity.VALID
    assert claim_validity(parse_date("2021"), UNKNOWN, parse_date("2026-01")) is Validity.DATES_UNKNOWN
    assert claim_validity(parse_date("2027"), UNKNOWN, parse_date("2026-01")) is Validity.INVALID
    assert MIN_DAY < MAX_DAY
