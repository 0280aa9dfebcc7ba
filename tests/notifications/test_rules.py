"""The pure delivery rules: back-off, dead-lettering and stable Message-IDs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from procure.notifications import rules

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("attempts, wait", [
    (0, timedelta(minutes=1)),
    (1, timedelta(minutes=1)),
    (2, timedelta(minutes=2)),
    (3, timedelta(minutes=4)),
    (4, timedelta(minutes=8)),
    (6, timedelta(minutes=32)),
    (7, timedelta(minutes=60)),    # 64 minutes capped at an hour
    (20, timedelta(minutes=60)),
])
def test_back_off_doubles_up_to_an_hour(attempts, wait):
    assert rules.next_attempt(NOW, attempts) == NOW + wait


@pytest.mark.parametrize("attempts, max_attempts, dead", [
    (0, 8, False),
    (7, 8, False),
    (8, 8, True),
    (9, 8, True),
    (1, 1, True),
])
def test_dead_after_max_attempts(attempts, max_attempts, dead):
    assert rules.is_dead(attempts, max_attempts) is dead


@pytest.mark.parametrize("key, expected", [
    ("welcome:42", "<welcome-42@procure.test>"),
    ("reset:7:2026-11-22T10:00:00+00:00", "<reset-7-2026-11-22T10-00-00-00-00@procure.test>"),
    ("a b<c>@d", "<a-b-c--d@procure.test>"),  # nothing that could break the header
])
def test_message_id_is_stable_and_safe(key, expected):
    assert rules.message_id(key, "procure.test") == expected
    assert rules.message_id(key, "procure.test") == rules.message_id(key, "procure.test")
