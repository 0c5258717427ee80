"""Property-based fuzzing of every read endpoint from the OpenAPI schema (schemathesis and
hypothesis): whatever the parameters, the answer is 2xx or a 4xx problem, never a 500, and
it conforms to the documented schema."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

FUZZ_SETTINGS = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))


def test_no_500_and_schema_conformance(env) -> None:  # type: ignore[no-untyped-def]
    schema = (schemathesis.openapi.from_asgi("/openapi.json", env.app)
              .include(method="GET")
              .exclude(path_regex=r"^/(export|admin)/"))
    checked: list[str] = []
    calls = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy())
        def run(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call()
            calls.append(response.status_code)
            assert response.status_code < 500, (case.path, case.query, response.text[:300])
            if response.status_code >= 400:
                ctype = response.headers.get("content-type") or [""]
                assert ctype[0].startswith("application/problem+json"), ctype
            else:
                case.validate_response(response, checks=[
                    schemathesis.checks.response_schema_conformance])

        run()
        checked.append(operation.path)
    assert "/entities/{ref}/chain" in checked and "/search" in checked
    assert len(checked) >= 12 and len(calls) >= 5 * len(checked)
    assert any(c == 200 for c in calls) and any(400 <= c < 500 for c in calls)
