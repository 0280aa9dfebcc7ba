"""The pure account rules: password policy and session timeouts (no database, no Flask)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from procure.accounts import rules

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)


@pytest.mark.parametrize("password, expected", [
    ("", "password_too_short"),
    ("a" * 3 + "bcdefgh", "password_too_short"),            # 10 characters
    ("wxyzabcdefg", "password_too_short"),                   # 11 characters
    ("wxyzabcdefgh", None),                                  # 12 characters
    ("tidy mug 4 u", None),                                  # 12 with spaces: no composition rules
    ("river" * 51 + "s", None),                             # 256 characters
    ("river" * 51 + "st", "password_too_long"),             # 257 characters
    ("horse-staple-" * 4 + "battery", None),                 # a long passphrase, 59 characters
    ("correct horse battery staple", None),
    ("mae hi'n bwrw hen wragedd a ffyn", None),              # Welsh passphrase, spaces kept
    ("password1234", "password_common"),                     # on the shipped list
    ("PASSWORD1234", "password_common"),                     # the list is checked case-blind
    ("qwerty123456", "password_common"),
    ("1q2w3e4r5t6y", "password_common"),
    ("international", "password_common"),
    ("aaaaaaaaaaaaaaaa", "password_common"),                 # one repeated character
    ("abababababababab", "password_common"),                 # two characters
], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None)
def test_password_policy(password, expected):
    assert rules.password_problem(password) == expected


@pytest.mark.parametrize("password, email, name, expected", [
    ("my name is annwen jones!", "annwen@example.org", "Annwen Jones", "password_personal"),
    ("ANNWEN and the dragons", "annwen@example.org", "", "password_personal"),
    ("Annwen Jones", "aj@example.org", "Annwen Jones", "password_personal"),  # the name itself
    ("annwen jones", "", "  Annwen Jones ", "password_personal"),  # compared case-blind, trimmed
    ("a dog at the ffair", "ann@example.org", "", None),      # a 3-letter local part is ignored
    ("rhiannon sings loudly", "rhian@example.org", "", "password_personal"),
    ("sunlit harbour morning", "rhian@example.org", "Rhian Evans", None),
])
def test_password_must_not_be_personal(password, email, name, expected):
    assert rules.password_problem(password, email=email, name=name) == expected


def test_common_list_is_shipped_and_large():
    words = rules.common_passwords()
    assert len(words) > 10_000
    assert "password" in words


def test_normalise_email():
    assert rules.normalise_email("  Ann@Example.ORG ") == "ann@example.org"


@pytest.mark.parametrize("created_ago, seen_ago, expected", [
    (timedelta(0), timedelta(0), False),
    (timedelta(minutes=30), timedelta(minutes=30), False),          # idle exactly 30 minutes
    (timedelta(minutes=31), timedelta(minutes=30, seconds=1), True),  # idle a second longer
    (timedelta(hours=2), timedelta(minutes=29, seconds=59), False),
    (timedelta(hours=12), timedelta(minutes=1), False),             # 12 hours exactly, active
    (timedelta(hours=12, seconds=1), timedelta(seconds=1), True),   # past the absolute limit
    (timedelta(days=3), timedelta(0), True),
])
def test_session_expired_boundaries(created_ago, seen_ago, expected):
    assert rules.session_expired(created_at=NOW - created_ago, last_seen_at=NOW - seen_ago,
                                 now=NOW, idle=IDLE, absolute=ABSOLUTE) is expected


@pytest.mark.parametrize("seen_ago, expected", [
    (timedelta(0), False),
    (timedelta(seconds=59), False),
    (timedelta(minutes=1), False),
    (timedelta(minutes=1, seconds=1), True),
    (timedelta(hours=1), True),
])
def test_should_touch_at_most_once_a_minute(seen_ago, expected):
    assert rules.should_touch(NOW - seen_ago, NOW) is expected
