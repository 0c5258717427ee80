"""The serving layer of issue #7: readiness while the name index is built, the read-only
mode of a multi-worker server, the bounded answer cache, the JSON rendering path of the
guard, and a clean 500 (problem+json, connection kept) for an unhandled error."""

from __future__ import annotations

import json
import warnings
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from api.app import create_app
from api.guard import AnswerCache, collect_ids, collect_ids_json, render_json
from api.warmup import WarmUp
from tests.api.helpers import assert_problem, leaks

JUDGE = "person:zzyzx-judge-alpha"
DELTA = "person:qwertyx-witness-delta"


def _client(app: Any, env: Any, role: str = "public") -> TestClient:
    headers = {} if role == "public" else {"Authorization": f"Bearer {env.keys[role]}"}
    return TestClient(app, headers=headers, raise_server_exceptions=False)


def test_health_and_ready(public) -> None:  # type: ignore[no-untyped-def]
    assert public.get("/health").json() == {"status": "ok"}
    ready = public.get("/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True


def test_requests_needing_the_index_wait_then_get_503(env) -> None:  # type: ignore[no-untyped-def]
    app = create_app(env.store, env.admin)
    app.state.warmup = WarmUp(wait_seconds=0.05)  # a build that never finishes
    c = _client(app, env)
    body = assert_problem(c.get("/search", params={"q": "Zzyzx"}), 503)
    assert "name index" in body["detail"]
    resp = c.get("/entities/Zzyzx Judge Alpha/chain", params={"at": "2020"})  # a name
    assert_problem(resp, 503)
    assert resp.headers["retry-after"] == "1"
    assert_problem(c.get("/ready"), 503)
    # an entity given by id does not need the index: served at once
    assert c.get(f"/entities/{JUDGE}/chain", params={"at": "2020-01-15"}).status_code == 200
    assert c.get("/health").status_code == 200
    app.state.warmup.open()
    assert c.get("/search", params={"q": "Zzyzx"}).status_code == 200
    assert c.get("/ready").status_code == 200


def test_warm_up_builds_in_the_background_then_opens(env) -> None:  # type: ignore[no-untyped-def]
    from queries.structure import STRUCTURES

    STRUCTURES.pop(env.store, None)
    gate = WarmUp(wait_seconds=30)
    gate.start(env.store)
    gate.wait()  # returns when built (well within 30 s on the fixture)
    status = gate.status()
    assert status["ready"] and status["warmup_error"] is None
    # the hierarchy too, before the gate opened: the first chain does not build it
    assert STRUCTURES[env.store].generation == env.store.generation


def test_read_only_server_refuses_writes_with_409(env) -> None:  # type: ignore[no-untyped-def]
    app = create_app(env.store, env.admin, read_only=True)
    c = _client(app, env, "admin")
    body = assert_problem(c.post("/admin/ingest", data={"format": "native", "path": "/x"}), 409)
    assert "read-only" in body["detail"]
    body = assert_problem(c.post("/admin/review/accept",
                                 json={"a": JUDGE, "b": "person:zzyzx-judge-beta"}), 409)
    assert c.get(f"/entities/{JUDGE}").status_code == 200
    assert c.get("/ready").json()["read_only"] is True


def test_answer_cache_keys_on_role_and_request(env) -> None:  # type: ignore[no-untyped-def]
    app = create_app(env.store, env.admin, answer_cache_mib=1)
    public, lawyer = _client(app, env), _client(app, env, "lawyer")
    url = f"/entities/{JUDGE}/chain"
    first = public.get(url, params={"at": "2020-01-15"})
    again = public.get(url, params={"at": "2020-01-15"})
    assert first.headers["x-answer-cache"] == "miss" and again.headers["x-answer-cache"] == "hit"
    assert first.content == again.content
    other_date = public.get(url, params={"at": "2020-01-16"})
    assert other_date.headers["x-answer-cache"] == "miss"
    # a lawyer's request is another key: public answers are never served to a lawyer and
    # lawyer answers (which may hold restricted records) never to the public
    assert lawyer.get(url, params={"at": "2020-01-15"}).headers["x-answer-cache"] == "miss"
    hits = lawyer.get("/search", params={"q": "Qwertyx"})
    assert DELTA in hits.text
    pub = public.get("/search", params={"q": "Qwertyx"})
    assert pub.headers["x-answer-cache"] == "miss" and not leaks(pub.text, {"q": "Qwertyx"})
    stats = public.get("/ready").json()["answer_cache"]
    assert stats["hits"] >= 1 and stats["bytes"] <= stats["max_bytes"]


def test_cached_restricted_reads_are_audited(env) -> None:  # type: ignore[no-untyped-def]
    app = create_app(env.store, env.admin, answer_cache_mib=1)
    lawyer = _client(app, env, "lawyer")
    before = {e.seq for e in env.admin.audit_entries()}
    assert lawyer.get(f"/entities/{DELTA}").headers["x-answer-cache"] == "miss"
    assert lawyer.get(f"/entities/{DELTA}").headers["x-answer-cache"] == "hit"
    new = [e for e in env.admin.audit_entries() if e.seq not in before]
    assert [e.action for e in new] == ["read_restricted", "read_restricted"]


def test_answer_cache_is_bounded() -> None:
    cache = AnswerCache(10_000)
    for i in range(200):
        cache.put((0, "public", f"/x/{i}", ""), b"x" * 500, ())
    assert cache.size <= 10_000 and cache.get((0, "public", "/x/199", "")) is not None
    assert cache.get((0, "public", "/x/0", "")) is None  # the oldest went first
    cache.put((0, "public", "/big", ""), b"x" * 5_000, ())  # > 1/8 of the bound: not kept
    assert cache.get((0, "public", "/big", "")) is None


def test_unhandled_error_is_a_problem_500(env) -> None:  # type: ignore[no-untyped-def]
    app = create_app(env.store, env.admin)

    def boom() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/boom", boom)
    resp = _client(app, env).get("/boom")
    body = assert_problem(resp, 500)
    assert "secret" not in resp.text and body["reference"]
    assert resp.headers["x-content-type-options"] == "nosniff"


_ID_TEXT = st.sampled_from(["person:", "org:", "case:", "nope:", "", "source:"]).flatmap(
    lambda p: st.text(min_size=0, max_size=12).map(lambda t: p + t))
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _ID_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_ID_TEXT, inner, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_ids_found_in_rendered_json_cover_the_walk(data: Any) -> None:
    """The regex over the rendered bytes finds every id the object walk finds."""
    body = render_json(data)
    assert json.loads(body) == data
    assert collect_ids(data) <= collect_ids_json(body)


def test_tune_process_starts_one_trimming_thread() -> None:
    import threading

    from api.serve_app import TRIMMER, tune_process

    tune_process(trim_every=60)
    tune_process(trim_every=60)  # a second call (a second app in the process) adds none
    assert [t.name for t in threading.enumerate()].count(TRIMMER) == 1


def test_trimmer_trims_on_its_period_until_stopped() -> None:
    import threading
    import time

    from api.serve_app import trim_until

    calls: list[int] = []

    def trim(pad: int) -> int:
        calls.append(pad)
        return 1

    stop = threading.Event()
    thread = threading.Thread(target=trim_until, args=(trim, 0.01, stop), daemon=True)
    thread.start()
    time.sleep(0.2)
    stop.set()
    thread.join(1)
    assert not thread.is_alive() and len(calls) >= 3 and set(calls) == {0}
