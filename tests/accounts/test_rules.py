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


# --- two-step sign-in -------------------------------------------------------------------------

@pytest.mark.parametrize("is_admin, authority_member, accepted_assessor, expected", [
    (False, False, False, False),   # a supplier, or someone with no organisation: offered only
    (True, False, False, True),     # an admin
    (False, True, False, True),     # an active member of an authority
    (False, False, True, True),     # an assessor, such as an independent expert
    (True, True, True, True),
    (False, True, True, True),
])
def test_who_must_use_two_step_sign_in(is_admin, authority_member, accepted_assessor, expected):
    assert rules.mfa_required(is_admin=is_admin, authority_member=authority_member,
                              accepted_assessor=accepted_assessor) is expected


@pytest.mark.parametrize("step, last_used, expected", [
    (100, None, True),    # the current step, nothing used before
    (99, None, True),     # one step behind (clock drift)
    (101, None, True),    # one step ahead
    (98, None, False),    # two steps behind: expired
    (102, None, False),   # two steps ahead
    (100, 99, True),      # later than the last one used
    (100, 100, False),    # the same step again: a replay
    (99, 100, False),     # an earlier step after a later one was used
    (101, 100, True),
])
def test_totp_step_window_and_replay(step, last_used, expected):
    assert rules.totp_step_acceptable(step, current_step=100, last_used_step=last_used) is expected


@pytest.mark.parametrize("typed, expected", [
    ("123 456", "123456"), ("ab12-CD34-ef56", "ab12cd34ef56"), (" 000000 ", "000000"), ("", ""),
])
def test_codes_are_compared_without_spaces_dashes_or_case(typed, expected):
    assert rules.normalise_code(typed) == expected


@pytest.mark.parametrize("after, expected", [
    (timedelta(minutes=4, seconds=59), False), (timedelta(minutes=5), False),
    (timedelta(minutes=5, seconds=1), True), (timedelta(hours=1), True),
])
def test_half_signed_in_state_lasts_five_minutes(after, expected):
    assert rules.pending_expired(NOW, NOW + after) is expected
