"""The JSON API fuzzed from its own OpenAPI document: every operation, with generated valid and
invalid parameters, against a database holding published records; no response is a 5xx and
every response matches what the document says for its status."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from procure.extensions import limiter
from tests.record import builders as rb


@pytest.fixture
def api_schema(app, db, now):
    with app.app_context():
        rb.publish(db, rb.concluded_world(db, now, suppliers=2))
        db.commit()
    limiter.reset()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_documented(case):
    limiter.reset()  # the fuzzing itself is not what the rate limit is for
    case.call_and_validate()
