"""Shared helpers of the API tests: the restricted records of the fixture and assertions."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).with_name("graph_fixture")

# Restricted records of the fixture, and words that only restricted records contain.
RESTRICTED_IDS = {
    "person:qwertyx-witness-delta", "person:qwertyx-survivor-epsilon", "person:zzyzx-twin-3",
    "incident:qwertyx-assault-epsilon", "source:synthetic-witness-statement",
}
RESTRICTED_WORDS = ("qwertyx", "twin-3", "witness-statement")
ROLES = ("public", "researcher", "lawyer", "admin")


def assert_problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body = resp.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in resp.text
    return body


def leaks(text: str, echo: Any = ()) -> list[str]:
    """Restricted ids or words found in a response body. The caller's own input echoed back
    (``echo``: the request's parameter values) is removed only where it is an echo: the
    ``query``/``normalised`` fields of a JSON search answer, and the search box and result
    heading of a page; so a restricted id in a result is still caught."""
    values = [str(v) for v in (echo.values() if isinstance(echo, dict) else echo)]
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("query", "normalised"):
            data.pop(key, None)
        text = json.dumps(data, ensure_ascii=False)
    else:
        for value in values:
            esc = html.escape(value)
            for form in (f'value="{esc}"', f"“{esc}”", f"{esc} – accountability-graph"):
                text = text.replace(form, "")
    text = text.lower()
    return [w for w in (*RESTRICTED_IDS, *RESTRICTED_WORDS) if w.lower() in text]
