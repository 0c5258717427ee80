"""Query parameters shared by the routers, validated before any query runs.

A reference is an id (``person:...``) or a name; it is passed to the query layer as a
parameter value, never spliced into query text, so quotes, Cypher syntax and control
characters are just characters of a name that matches nothing. Lengths are bounded so a
megabyte of "name" is a 422, not a slow scan.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from api.problems import ApiProblem
from graph.dates import DateError, parse_date

MAX_REF = 500
MAX_TEXT = 500

Ref = Annotated[str, Path(min_length=1, max_length=MAX_REF,
                          description="an id (person:...) or a name in any script")]
AtDate = Annotated[str | None, Query(max_length=20, description="YYYY, YYYY-MM or YYYY-MM-DD",
                                     examples=["1988-07-27"])]
RequiredAtDate = Annotated[str, Query(min_length=1, max_length=20,
                                      description="YYYY, YYYY-MM or YYYY-MM-DD",
                                      examples=["1988-07-27"])]


def check_date(value: str | None, field: str = "at") -> str | None:
    """A date the query layer can use, or a 422 that says what is wrong with it."""
    if value is None or value == "":
        return None
    try:
        parse_date(value)
    except DateError as exc:
        raise ApiProblem(422, f"{field}: {exc}", field=field) from exc
    return value


def check_text(value: str, field: str) -> str:
    if not value.strip():
        raise ApiProblem(422, f"{field}: must not be empty", field=field)
    if "\x00" in value:
        raise ApiProblem(422, f"{field}: must not contain NUL characters", field=field)
    return value
