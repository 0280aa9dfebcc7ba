"""The shipped seed file: exact names from the standards, complete guidance, and the checks on it."""

from __future__ import annotations

import copy
import json

import pytest

from procure.values.seed import SEED_FILE, load_seed_file, validate_seed

WELLBEING_GOALS = [
    ("prosperous", "A prosperous Wales", "Cymru lewyrchus"),
    ("resilient", "A resilient Wales", "Cymru gydnerth"),
    ("healthier", "A healthier Wales", "Cymru iachach"),
    ("moreEqual", "A more equal Wales", "Cymru sy'n fwy cyfartal"),
    ("cohesiveCommunities", "A Wales of cohesive communities", "Cymru o gymunedau cydlynus"),
    ("vibrantCultureWelshLanguage", "A Wales of vibrant culture and thriving Welsh language",
     "Cymru â diwylliant bywiog lle mae'r Gymraeg yn ffynnu"),
    ("globallyResponsible", "A globally responsible Wales", "Cymru sy'n gyfrifol ar lefel fyd-eang"),
]

WAYS_OF_WORKING = [
    ("longTerm", "Long-term", "Hirdymor"),
    ("prevention", "Prevention", "Atal"),
    ("integration", "Integration", "Integreiddio"),
    ("collaboration", "Collaboration", "Cydweithio"),
    ("involvement", "Involvement", "Cynnwys"),
]


def _by_code() -> dict[str, dict]:
    return {f["code"]: f for f in load_seed_file()}


def _raw() -> dict:
    return json.loads(SEED_FILE.read_text(encoding="utf-8"))


def test_the_shipped_seed_has_the_three_frameworks_at_version_1_in_order():
    frameworks = load_seed_file()
    assert [(f["code"], f["version"], f["position"]) for f in frameworks] == [
        ("wellbeing-goals", 1, 0), ("ways-of-working", 1, 1), ("solution-quality", 1, 2)]
    assert _by_code()["wellbeing-goals"]["name_cy"] == (
        "Nodau llesiant Deddf Llesiant Cenedlaethau'r Dyfodol (Cymru) 2015")


@pytest.mark.parametrize("code, expected", [("wellbeing-goals", WELLBEING_GOALS),
                                            ("ways-of-working", WAYS_OF_WORKING)])
def test_wellbeing_act_criteria_have_exactly_the_standard_names_in_both_languages(code, expected):
    criteria = _by_code()[code]["criteria"]
    assert [(c["code"], c["name_en"], c["name_cy"]) for c in criteria] == expected
    assert {c["kind"] for c in criteria} == {"scored"}


def test_solution_quality_has_six_scored_criteria_and_the_two_gates():
    criteria = _by_code()["solution-quality"]["criteria"]
    assert [c["code"] for c in criteria if c["kind"] == "scored"] == [
        "technicalFeasibility", "innovation", "valueForMoney", "teamCapability",
        "userCentredDesign", "scalabilityReuse"]
    gates = [(c["code"], c["name_en"]) for c in criteria if c["kind"] == "gate"]
    assert gates == [("eligibility", "Eligibility"),
                     ("dataProtectionSecurity", "Data protection and security")]


def test_every_criterion_has_descriptions_and_guidance_for_each_point_in_both_languages():
    for framework in load_seed_file():
        assert framework["name_en"] and framework["name_cy"]
        assert framework["description_en"] and framework["description_cy"]
        for c in framework["criteria"]:
            points = 5 if c["kind"] == "scored" else 2
            for lang in ("en", "cy"):
                assert c[f"description_{lang}"], c["code"]
                assert len(c[f"guidance_{lang}"]) == points, (c["code"], lang)
                assert all(g.strip() for g in c[f"guidance_{lang}"]), (c["code"], lang)
            # Each point says something of its own, and the Welsh is not the English copied.
            assert len(set(c["guidance_en"])) == points, c["code"]
            assert len(set(c["guidance_cy"])) == points, c["code"]
            assert c["guidance_en"] != c["guidance_cy"], c["code"]


def test_load_seed_file_reads_another_path(tmp_path):
    path = tmp_path / "frameworks.json"
    path.write_text(SEED_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_seed_file(path) == load_seed_file()


def _broken(change) -> dict:
    data = copy.deepcopy(_raw())
    change(data)
    return data


def _criterion(data, framework=0, index=0) -> dict:
    return data["frameworks"][framework]["criteria"][index]


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(extra=1), 'one key, "frameworks"'),
    (lambda d: d.update(frameworks=[]), "non-empty list"),
    (lambda d: d["frameworks"].append(copy.deepcopy(d["frameworks"][0])),
     "framework code 'wellbeing-goals' appears more than once"),
    (lambda d: d["frameworks"][1].update(version=0), "version must be a whole number"),
    (lambda d: d["frameworks"][1].update(version="1"), "version must be a whole number"),
    (lambda d: d["frameworks"][1].update(name_cy="  "), "(ways-of-working): name_cy must be a non-empty"),
    (lambda d: d["frameworks"][0].pop("description_en"), "missing description_en"),
    (lambda d: d["frameworks"][0].update(colour="red"), "unknown colour"),
    (lambda d: d["frameworks"][0].update(criteria=[]), '"criteria" must be a non-empty list'),
    (lambda d: d["frameworks"][0].update(code="has space"), "code must be"),
    (lambda d: _criterion(d, 0, 1).update(code="prosperous"),
     "criterion code 'prosperous' appears more than once"),
    (lambda d: _criterion(d).update(kind="bonus"), "kind must be one of scored, gate"),
    (lambda d: _criterion(d).update(name_en=""), "(prosperous): name_en must be a non-empty string"),
    (lambda d: _criterion(d).update(name_en="x" * 201), "name_en must be 200 characters or fewer"),
    (lambda d: _criterion(d)["guidance_cy"].pop(), "guidance_cy must be a list of 5 non-empty strings"),
    (lambda d: _criterion(d)["guidance_en"].__setitem__(2, " "), "guidance_en must be a list of 5"),
    (lambda d: _criterion(d, 2, 6)["guidance_en"].append("Maybe"),
     "(eligibility): guidance_en must be a list of 2 non-empty strings (fail, then pass)"),
    (lambda d: _criterion(d, 2, 0).update(kind="gate"),
     "(technicalFeasibility): guidance_en must be a list of 2"),
])
def test_a_broken_seed_is_refused_with_a_message_saying_what_and_where(change, message):
    with pytest.raises(ValueError) as e:
        validate_seed(_broken(change))
    assert message in str(e.value)


def test_a_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "frameworks.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_seed_file(path)
