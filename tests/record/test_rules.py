"""The open record's pure rules (readiness, reusable assets, which challenges can have a record
and when it can still change, how a challenge ended, what search reads) and the reduction of a
search to plain words (no database)."""

from __future__ import annotations

import pytest

from procure.record import rules, search
from procure.record.rules import RecordOutcome, RecordStatus

LONG = rules.MAX_LESSONS
OK_URL = "https://example.org/code"


def test_limits_and_vocabulary():
    assert (rules.MAX_LESSONS, rules.MAX_ASSETS, rules.MAX_ASSET_TITLE, rules.MAX_ASSET_URL,
            rules.MAX_ASSET_DESCRIPTION) == (10_000, 20, 200, 500, 1_000)
    assert [s.value for s in RecordStatus] == ["draft", "queued", "published", "failed"]
    assert [o.value for o in RecordOutcome] == ["awarded", "no_award", "cancelled"]
    assert rules.LICENCES["OGL-UK-3.0"][1] == (
        "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")
    assert "relevance" in rules.SORTS and len(set(rules.SORTS)) == len(rules.SORTS)


# --- lessons and readiness ----------------------------------------------------------------------

@pytest.mark.parametrize("worked, not_worked, expected", [
    ("Two prototypes side by side", "Measuring took long", {}),
    ("x" * LONG, "y" * LONG, {}),                                   # exactly at the limit
    ("", "", {"lessons_worked": "lessons_worked_missing",
              "lessons_not_worked": "lessons_not_worked_missing"}),
    ("   \n\t ", "Something", {"lessons_worked": "lessons_worked_missing"}),   # blank is missing
    ("Something", "\n", {"lessons_not_worked": "lessons_not_worked_missing"}),
    ("x" * (LONG + 1), "fine", {"lessons_worked": "lessons_too_long"}),
    ("fine", "y" * (LONG + 1), {"lessons_not_worked": "lessons_too_long"}),
    # Too long wins over anything else said of the same field.
    (" " * (LONG + 1), "", {"lessons_worked": "lessons_too_long",
                            "lessons_not_worked": "lessons_not_worked_missing"}),
])
def test_readiness(worked, not_worked, expected):
    assert rules.readiness(worked, not_worked) == expected


@pytest.mark.parametrize("worked, not_worked, expected", [
    ("", "", {}),                                                   # either may wait for later
    ("x" * LONG, "", {}),
    ("x" * (LONG + 1), "", {"lessons_worked": "lessons_too_long"}),
    ("", "y" * (LONG + 1), {"lessons_not_worked": "lessons_too_long"}),
])
def test_lesson_problems_when_saving(worked, not_worked, expected):
    assert rules.lesson_problems(worked, not_worked) == expected


# --- reusable assets ----------------------------------------------------------------------------

def _asset(title="Source code", url=OK_URL, licence="MIT", description="", existing=0):
    return rules.asset_problems(title, url, licence, description, existing)


@pytest.mark.parametrize("url, expected", [
    (OK_URL, None),
    ("http://example.org/", None),
    ("HTTPS://EXAMPLE.ORG/Code", None),
    ("https://example.org/path?q=1#part", None),
    ("https://[2001:db8::1]/code", None),
    ("  https://example.org/code  ", None),                 # spaces at either end are ignored
    ("https://example.org/" + "a" * (rules.MAX_ASSET_URL - 20), None),   # 500 characters
    ("https://example.org/" + "a" * (rules.MAX_ASSET_URL - 19), "asset_url_invalid"),
    ("", "asset_url_missing"),
    ("   ", "asset_url_missing"),
    # Addresses that could run as script, or go somewhere else than they say.
    ("javascript:alert(1)", "asset_url_invalid"),
    ("JavaScript:alert(document.cookie)", "asset_url_invalid"),
    (" javascript:alert(1)", "asset_url_invalid"),
    ("java\tscript:alert(1)", "asset_url_invalid"),
    ("data:text/html,<script>alert(1)</script>", "asset_url_invalid"),
    ("vbscript:msgbox", "asset_url_invalid"),
    ("//evil.example/code", "asset_url_invalid"),
    ("/\\evil.example", "asset_url_invalid"),
    ("https:evil.example", "asset_url_invalid"),
    ("https:///path-only", "asset_url_invalid"),
    ("https://user:secret@evil.example/", "asset_url_invalid"),
    ("https://example.org@evil.example/", "asset_url_invalid"),
    ("ftp://example.org/code", "asset_url_invalid"),
    ("file:///etc/passwd", "asset_url_invalid"),
    ("example.org/code", "asset_url_invalid"),
    ("https://exa mple.org/", "asset_url_invalid"),
    ("https://example.org/a b", "asset_url_invalid"),
    ("https://example.org/\u200bcode", "asset_url_invalid"),  # an invisible character
    ("https://example.org/\x00", "asset_url_invalid"),
    ("https://example.org/\nSet-Cookie:x", "asset_url_invalid"),
    ("https://[::1", "asset_url_invalid"),                     # not even parseable
])
def test_the_web_address_of_an_asset(url, expected):
    problems = _asset(url=url)
    assert problems.get("url") == expected
    assert set(problems) <= {"url"}


@pytest.mark.parametrize("fields, expected", [
    ({}, {}),
    ({"licence": "OGL-UK-3.0", "description": "d" * rules.MAX_ASSET_DESCRIPTION}, {}),
    ({"title": "t" * rules.MAX_ASSET_TITLE}, {}),
    ({"title": ""}, {"title": "asset_title_missing"}),
    ({"title": " \n "}, {"title": "asset_title_missing"}),
    ({"title": "t" * (rules.MAX_ASSET_TITLE + 1)}, {"title": "asset_title_too_long"}),
    ({"licence": ""}, {"licence": "asset_licence_missing"}),
    ({"licence": "mit"}, {"licence": "asset_licence_missing"}),      # codes are exact
    ({"licence": "WTFPL"}, {"licence": "asset_licence_missing"}),
    ({"description": "d" * (rules.MAX_ASSET_DESCRIPTION + 1)},
     {"description": "asset_description_too_long"}),
    # Every problem at once, each on its own field.
    ({"title": "", "url": "javascript:x", "licence": "", "description": "d" * 1_001},
     {"title": "asset_title_missing", "url": "asset_url_invalid",
      "licence": "asset_licence_missing", "description": "asset_description_too_long"}),
    # A full list: nothing more can be added, whatever is typed.
    ({"existing": rules.MAX_ASSETS}, {"title": "assets_too_many"}),
    ({"existing": rules.MAX_ASSETS, "title": ""}, {"title": "assets_too_many"}),
    ({"existing": rules.MAX_ASSETS - 1}, {}),
])
def test_asset_problems(fields, expected):
    assert _asset(**fields) == expected


def test_every_licence_has_a_name_and_the_open_ones_an_address():
    for code, (name, url) in rules.LICENCES.items():
        assert name and code
        assert url == "" if code == "proprietary" else rules.is_web_address(url), code


# --- which challenges have a record, and when it can still change -----------------------------

@pytest.mark.parametrize("challenge_status, was_public, expected", [
    ("concluded", True, True),
    ("cancelled", True, True),        # cancelled after it was opened: its record says why
    ("cancelled", False, False),      # a draft cancelled unseen leaves no record
    ("draft", False, False),
    ("open", True, False),
    ("in_progress", True, False),
    ("published", True, False),       # already has its record
])
def test_publishable(challenge_status, was_public, expected):
    assert rules.publishable(challenge_status, was_public) is expected


@pytest.mark.parametrize("record_status, challenge_status, was_public, expected", [
    (None, "concluded", True, True),
    ("draft", "concluded", True, True),
    ("failed", "concluded", True, True),      # after a failure the editors may try again
    ("queued", "concluded", True, False),     # the job is freezing it
    ("published", "published", True, False),  # frozen for good
    ("published", "cancelled", True, False),
    ("draft", "cancelled", True, True),
    (None, "cancelled", False, False),
    ("draft", "in_progress", True, False),
    (None, "open", True, False),
])
def test_editable(record_status, challenge_status, was_public, expected):
    assert rules.editable(record_status, challenge_status, was_public) is expected


@pytest.mark.parametrize("challenge_status, awarded, expected", [
    ("concluded", True, RecordOutcome.AWARDED),
    ("concluded", False, RecordOutcome.NO_AWARD),
    ("published", True, RecordOutcome.AWARDED),
    ("published", False, RecordOutcome.NO_AWARD),
    ("cancelled", False, RecordOutcome.CANCELLED),
    ("cancelled", True, RecordOutcome.CANCELLED),   # cancelled is what the catalogue shows
])
def test_record_outcome(challenge_status, awarded, expected):
    assert rules.record_outcome(challenge_status, awarded) is expected


# --- what search reads --------------------------------------------------------------------------

def _content(**overrides):
    content = {
        "challenge": {"title": "Warmer homes", "title_cy": "Cartrefi cynhesach",
                      "summary": "Fix the coldest first", "summary_cy": "Trwsio'r oeraf",
                      "problem_statement": "Solid walls lose heat", "context": "Valleys stock",
                      "affected": "Tenants", "outcomes_sought": "Lower bills",
                      "tags": ["housing", "energy"],
                      # Never in a frozen record, but if it were, search must not read it.
                      "contact_name": "Zqxcontact Person", "contact_email": "zqx@example.org"},
        "lead": {"organisation_id": 1, "name": "Cyngor Example"},
        "phases": [{"measures": [{"name": "Homes fixed"}, {"name": "Cost per home"}],
                    "ranked": [{"organisation": "Zqxsupplier Ltd", "summary": "Zqxsummary"}],
                    "entrants": [{"organisation": "Zqxentrant Ltd"}]},
                   {"measures": []}],
        "clarifications": [{"question": "Zqxquestion", "answer": "Zqxanswer"}],
        "lessons": {"worked": "Side by side trials", "not_worked": "Slow measuring"},
        "assets": [{"title": "Zqxasset"}],
    }
    content.update(overrides)
    return content


def test_search_text_reads_the_title_problem_outcomes_lessons_tags_and_measures():
    title, body = rules.search_text(_content())
    assert title == "Warmer homes\nCartrefi cynhesach"
    for words in ("Fix the coldest first", "Trwsio'r oeraf", "Solid walls lose heat",
                  "Valleys stock", "Tenants", "Lower bills", "housing energy", "Homes fixed",
                  "Cost per home", "Side by side trials", "Slow measuring", "Cyngor Example"):
        assert words in body, words
    # Nothing about people, suppliers or what is not the problem and its lessons.
    for secret in ("Zqxcontact", "zqx@example.org", "Zqxsupplier", "Zqxsummary", "Zqxentrant",
                   "Zqxquestion", "Zqxanswer", "Zqxasset"):
        assert secret not in title + body, secret


def test_search_text_of_a_record_with_little_in_it():
    content = _content(lessons={}, phases=[])
    content["challenge"] = {"title": "Only a title", "tags": []}
    content["lead"] = {}
    assert rules.search_text(content) == ("Only a title", "")


# --- the words of a search ----------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    (None, []),
    ("", []),
    ("   ", []),
    ("Heat PUMPS", ["heat", "pumps"]),
    ("heat, pumps; homes.", ["heat", "pumps", "homes"]),
    ("heat heat HEAT", ["heat"]),                                     # no repeats
    # Quotes, operators and brackets are only separators or plain words.
    ('"heat pumps"', ["heat", "pumps"]),
    ("'heat' `pumps`", ["heat", "pumps"]),
    ("heat NEAR/3 pumps", ["heat", "near", "3", "pumps"]),
    ("NEAR(heat pumps, 5)", ["near", "heat", "pumps", "5"]),
    ("heat AND pumps OR NOT homes", ["heat", "and", "pumps", "or", "not", "homes"]),
    ("heat* pump*", ["heat", "pump"]),
    ("***", []),
    ("title:heat ^pumps -homes +bills", ["title", "heat", "pumps", "homes", "bills"]),
    ("(heat) {pumps} [homes]", ["heat", "pumps", "homes"]),
    ("heat & pumps | homes ! <-> :*", ["heat", "pumps", "homes"]),   # PostgreSQL's operators
    ("'; DROP TABLE challenge_records; --", ["drop", "table", "challenge_records"]),
    ("__init__ _x_", ["init", "x"]),
    # Welsh (and other) letters are letters, their accents folded away.
    ("ŵyr", ["wyr"]),
    ("Ŵyr", ["wyr"]),
    ("dŵr ynni’r gwynt", ["dwr", "ynni", "r", "gwynt"]),
    ("Cymru lewyrchus", ["cymru", "lewyrchus"]),
    ("tŷ ŷd", ["ty", "yd"]),
    ("Straße", ["strasse"]),                                          # casefolded
    ("café", ["cafe"]),
])
def test_terms(query, expected):
    assert search.terms(query) == expected


def test_terms_keep_at_most_eight_words_of_at_most_forty_characters():
    assert search.terms(" ".join(f"w{n}" for n in range(20))) == [f"w{n}" for n in range(8)]
    assert search.terms("a" * 100) == ["a" * search.MAX_TERM_LENGTH]
    # Words that are the same once cut count once, and repeats do not use up the eight.
    assert search.terms("a" * 50 + " " + "a" * 45) == ["a" * 40]
    assert search.terms("x x x x x x x x x y") == ["x", "y"]
    assert (search.MAX_TERMS, search.MAX_TERM_LENGTH) == (8, 40)



@pytest.mark.parametrize(("typed", "words"), [
    ("dŵr", ["dwr"]),
    ("dw\u0302r", ["dwr"]),            # the same word typed with a combining accent
    ("Café CAFÉ cafe", ["cafe"]),
    ("Ysgolion—iach", ["ysgolion", "iach"]),
])
def test_search_words_lose_their_accents_however_they_were_typed(typed, words):
    from procure.record.search import terms

    assert terms(typed) == words


def test_search_text_is_folded_like_the_queries():
    title, body = rules.search_text({"challenge": {"title": "Dŵr glân", "tags": ["iechyd"]},
                                     "phases": [], "lessons": {}, "lead": {"name": "Cyngor"}})
    assert title == "Dwr glan"
    assert "iechyd" in body
