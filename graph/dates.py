"""Imprecise dates: a year, a month, a day, "open" (still ongoing) or unknown.

Sources rarely give a day. A post "since 1988" and an execution on "1988-07-27" must still
compare, so every date is held as the closed interval of days it may denote, encoded as
``YYYYMMDD`` integers (readable, and ordered the same way in every engine). Unknown dates
span everything, so a comparison with them is never certain, which is exactly what the
``dates_unknown`` marking of the queries needs.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from enum import Enum

MIN_DAY = 10101  # 0001-01-01
MAX_DAY = 99991231  # 9999-12-31

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
OPEN_WORDS = frozenset({"open", "present", "ongoing"})


class Precision(str, Enum):
    """How much of a date a source gave."""

    UNKNOWN = "unknown"
    YEAR = "year"
    MONTH = "month"
    DAY = "day"
    OPEN = "open"


class DateError(ValueError):
    """Raised for text that is not an imprecise date; the message says what is wrong."""


@dataclass(frozen=True, order=False)
class FuzzyDate:
    """A date known to some precision; ``lo``/``hi`` bound the days it may denote."""

    text: str
    precision: Precision
    lo: int
    hi: int

    @property
    def known(self) -> bool:
        return self.precision not in (Precision.UNKNOWN,)

    def __str__(self) -> str:
        return self.text

    def certainly_before(self, other: FuzzyDate) -> bool:
        """True when every day this may denote lies before every day ``other`` may denote."""
        return self.hi < other.lo

    def certainly_not_after(self, other: FuzzyDate) -> bool:
        return self.hi <= other.lo

    def may_overlap(self, other: FuzzyDate) -> bool:
        return self.lo <= other.hi and other.lo <= self.hi

    def contains(self, other: FuzzyDate) -> bool:
        return self.lo <= other.lo and other.hi <= self.hi


UNKNOWN = FuzzyDate("", Precision.UNKNOWN, MIN_DAY, MAX_DAY)
OPEN = FuzzyDate("open", Precision.OPEN, MAX_DAY, MAX_DAY)


def _ymd(year: int, month: int, day: int) -> int:
    return year * 10000 + month * 100 + day


def parse_date(value: object, *, allow_open: bool = False) -> FuzzyDate:
    """Parse ``""``/None (unknown), ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ``open``.

    ``open`` says a claim still holds (no end); it only makes sense as an end date, so it
    is refused unless ``allow_open``.
    """
    if value is None:
        return UNKNOWN
    text = str(value).strip()
    if text == "" or text.lower() in ("unknown", "?"):
        return UNKNOWN
    if text.lower() in OPEN_WORDS:
        if not allow_open:
            raise DateError(f"'{text}' (open) is only allowed as an end date")
        return OPEN
    match = _DATE_RE.match(text)
    if not match:
        raise DateError(f"'{text}' is not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)")
    year = int(match.group(1))
    if year < 1:
        raise DateError(f"'{text}': year must be at least 0001")
    if match.group(2) is None:
        return FuzzyDate(text, Precision.YEAR, _ymd(year, 1, 1), _ymd(year, 12, 31))
    month = int(match.group(2))
    if not 1 <= month <= 12:
        raise DateError(f"'{text}': month {month} is not 01-12")
    last = calendar.monthrange(year, month)[1]
    if match.group(3) is None:
        return FuzzyDate(text, Precision.MONTH, _ymd(year, month, 1), _ymd(year, month, last))
    day = int(match.group(3))
    if not 1 <= day <= last:
        raise DateError(f"'{text}': day {day} is not in {year}-{month:02d}")
    ymd = _ymd(year, month, day)
    return FuzzyDate(text, Precision.DAY, ymd, ymd)


def day_text(ymd: int) -> str:
    """``19880727`` -> ``1988-07-27`` (for messages and answers)."""
    return f"{ymd // 10000:04d}-{ymd // 100 % 100:02d}-{ymd % 100:02d}"


class Validity(str, Enum):
    """Whether a claim holds on a date, as far as its dates let us decide."""

    VALID = "valid"
    DATES_UNKNOWN = "dates_unknown"
    INVALID = "invalid"


def validity_on(
    start_lo: int, start_hi: int, end_lo: int, end_hi: int, at_lo: int, at_hi: int
) -> Validity:
    """Decide whether a claim spanning [start, end] holds at ``at`` (all as day bounds).

    VALID: it certainly started by the first day of ``at`` and certainly had not ended
    before its last day. INVALID: it certainly started after ``at`` or ended before it.
    Anything else (a missing or imprecise date straddling ``at``) is DATES_UNKNOWN: kept,
    never shown as certain. The same arithmetic is written in Cypher by the stores, so
    this function is the reference the oracle tests compare against.
    """
    if start_lo > at_hi or end_hi < at_lo:
        return Validity.INVALID
    if start_hi <= at_lo and end_lo >= at_hi:
        return Validity.VALID
    return Validity.DATES_UNKNOWN


def claim_validity(valid_from: FuzzyDate, valid_to: FuzzyDate, at: FuzzyDate) -> Validity:
    return validity_on(valid_from.lo, valid_from.hi, valid_to.lo, valid_to.hi, at.lo, at.hi)
