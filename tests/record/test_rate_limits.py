"""Costly public functions — search and exports — are rate limited per address."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("path", "allowed"), [
    ("/data/ocds/releases.json", 10),
    ("/catalogue?q=homes", 120),
    ("/api/v1/challenges?q=homes", 120),
    ("/api/v1/ocds/releases", 120),
    ("/data/catalogue.csv", 30),
])
def test_a_costly_public_call_is_refused_with_429_and_retry_after_beyond_its_limit(
        client, path, allowed):
    for _ in range(allowed):
        response = client.get(path)
        assert response.status_code == 200, path
        response.get_data()  # read a streamed body to its end
    refused = client.get(path)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
