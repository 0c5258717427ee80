"""Shared helpers of the API tests: the restricted records of the fixture and assertions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).with_name("graph_fixture")

# Restricted records of the fixture, and words that only restricted records contain.
RESTRICTED_IDS = {
    "person:qwertyx-witness-delta", "person:qwertyx-survivor-epsilon", "person:zzyzx-twin-3",
    "incident:qwertyx-assault-epsilon", "source:synthetic-witness-statement",
}
RESTRICTED_WORDS = ("qwertyx", "Qwertyx", "twin-3", "witness-statement")
ROLES = ("public", "researcher", "lawyer", "admin")


def assert_problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body = resp.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in resp.text
    return body


def leaks(text: str) -> list[str]:
    """Restricted ids or words found in a response body."""
    return [w for w in (*RESTRICTED_IDS, *RESTRICTED_WORDS) if w in text]
