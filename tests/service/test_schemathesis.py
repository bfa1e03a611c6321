"""Property-based requests from the OpenAPI schema (schemathesis), a bounded number per
operation: whatever is sent, the service never answers 500 and every error is JSON."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

pytestmark = [pytest.mark.service, pytest.mark.lite, pytest.mark.embed]

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def api_schema(seeded):
    schema = schemathesis.openapi.from_url(seeded.url + "/openapi.json")
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case) -> None:
    response = case.call(timeout=60)
    assert response.status_code != 500, (
        f"{case.method} {case.path} answered 500: {response.text[:500]}"
    )
    if response.status_code >= 400 and case.path != "/ready":
        body = response.json()
        assert set(body) >= {"error", "message"}, body
