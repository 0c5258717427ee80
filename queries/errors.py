"""Errors every query can raise; the CLI maps them to exit code 2 and the API to 404, 409
and 422 problem responses, so both surfaces say the same thing about a bad reference."""

from __future__ import annotations

from typing import Any


class QueryError(ValueError):
    """Base: the request cannot be answered as asked; the message is for the user."""


class NotFound(QueryError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no entity matches '{ref}'")
        self.ref = ref


class Ambiguous(QueryError):
    def __init__(self, ref: str, candidates: list[dict[str, Any]]) -> None:
        names = "; ".join(f"{c.get('id')} ({c.get('name')})" for c in candidates[:10])
        super().__init__(f"'{ref}' matches {len(candidates)} entities: {names}")
        self.ref = ref
        self.candidates = candidates


class BadParameter(QueryError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
