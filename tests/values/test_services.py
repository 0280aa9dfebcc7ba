"""Value framework services against the database: seed loading, versions, drafts and publishing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from procure.audit.models import AuditEvent
from procure.errors import InvalidTransition, NotFound, NotPermitted, RuleViolation
from procure.values import services
from procure.values.models import ValueCriterion, ValueFramework
from procure.values.seed import SEED_FILE
from tests.factories import OrganisationFactory, UserFactory, member

LATER = timedelta(hours=1)


def _actions(db) -> list[str]:
    return list(db.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def _count(db, model) -> int:
    return db.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def admin(db):
    return UserFactory(is_admin=True)


@pytest.fixture
def seeded(ctx, db, now):
    services.load_seed(db, now=now)
    return {f.code: f for f in services.current_frameworks(db)}


def _criterion(framework: ValueFramework, code: str) -> ValueCriterion:
    return next(c for c in framework.criteria if c.code == code)


def _edit(db, actor, criterion, now, **changes):
    fields = {f: getattr(criterion, f) for f in (
        "name_en", "name_cy", "description_en", "description_cy", "guidance_en", "guidance_cy")}
    fields.update(changes)
    return services.update_criterion(db, actor=actor, criterion_id=criterion.id, now=now, **fields)


# --- loading the seed -----------------------------------------------------------------------

def test_load_seed_adds_every_framework_as_published_and_audits_it(ctx, db, now):
    assert services.load_seed(db, now=now) == {"added": 3, "unchanged": 0}
    frameworks = services.list_frameworks(db)
    assert [(f.code, f.version, f.status) for f in frameworks] == [
        ("wellbeing-goals", 1, "published"), ("ways-of-working", 1, "published"),
        ("solution-quality", 1, "published")]
    assert all(f.published_at == now and f.published_by_id is None for f in frameworks)
    assert _count(db, ValueCriterion) == 7 + 5 + 8
    assert _actions(db).count("values.framework_loaded") == 3
    prosperous = _criterion(frameworks[0], "prosperous")
    assert (prosperous.name_cy, prosperous.kind, len(prosperous.guidance_cy)) == (
        "Cymru lewyrchus", "scored", 5)


def test_loading_twice_adds_nothing_and_changes_nothing(ctx, db, now):
    services.load_seed(db, now=now)
    assert services.load_seed(db, now=now + LATER) == {"added": 0, "unchanged": 3}
    assert _count(db, ValueFramework) == 3
    assert _count(db, ValueCriterion) == 20
    assert _actions(db).count("values.framework_loaded") == 3
    assert {f.published_at for f in services.list_frameworks(db)} == {now}


def _seed_copy(tmp_path, change) -> str:
    data = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "frameworks.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_changed_content_under_the_same_version_is_refused_and_nothing_is_written(ctx, db, now,
                                                                                 tmp_path):
    services.load_seed(db, now=now)

    def change(data):
        data["frameworks"][2]["criteria"][0]["guidance_en"][4] = "Brilliant."
        data["frameworks"].append({**data["frameworks"][0], "code": "another"})

    with pytest.raises(ValueError, match="solution-quality version 1 .*bump the version"):
        services.load_seed(db, now=now, path=_seed_copy(tmp_path, change))
    assert _count(db, ValueFramework) == 3  # "another" was not added either


def test_a_bumped_version_is_added_beside_the_old_one(ctx, db, now, tmp_path):
    services.load_seed(db, now=now)

    def change(data):
        data["frameworks"][2]["version"] = 2
        data["frameworks"][2]["criteria"][0]["name_en"] = "Technical feasibility and risk"

    path = _seed_copy(tmp_path, change)
    assert services.load_seed(db, now=now, path=path) == {"added": 1, "unchanged": 2}
    current = {f.code: f for f in services.current_frameworks(db)}
    assert current["solution-quality"].version == 2
    assert current["solution-quality"].criteria[0].name_en == "Technical feasibility and risk"
    old = [f for f in services.framework_versions(db, "solution-quality") if f.version == 1][0]
    assert old.criteria[0].name_en == "Technical feasibility"


def test_a_seed_version_that_is_a_draft_in_the_database_is_refused(seeded, db, now, admin, tmp_path):
    services.create_next_version(db, actor=admin, code="ways-of-working", now=now)
    path = _seed_copy(tmp_path, lambda d: d["frameworks"][1].update(version=2))
    with pytest.raises(ValueError, match="ways-of-working version 2 is a draft"):
        services.load_seed(db, now=now, path=path)


# --- reading --------------------------------------------------------------------------------

def test_get_framework_and_criterion_raise_not_found(ctx, db):
    with pytest.raises(NotFound):
        services.get_framework(db, 999_999)
    with pytest.raises(NotFound):
        services.get_criterion(db, 999_999)


def test_current_frameworks_are_the_latest_published_versions_with_criteria(seeded, db, now, admin):
    draft = services.create_next_version(db, actor=admin, code="wellbeing-goals", now=now)
    current = services.current_frameworks(db)
    assert [(f.code, f.version) for f in current] == [
        ("wellbeing-goals", 1), ("ways-of-working", 1), ("solution-quality", 1)]
    assert [c.code for c in current[2].criteria][-2:] == ["eligibility", "dataProtectionSecurity"]
    services.publish_version(db, actor=admin, framework_id=draft.id, now=now)
    assert [(f.code, f.version) for f in services.current_frameworks(db)][0] == ("wellbeing-goals", 2)
    assert [(f.code, f.version) for f in services.list_frameworks(db)][:2] == [
        ("wellbeing-goals", 2), ("wellbeing-goals", 1)]


def test_criteria_by_ids_returns_published_criteria_only(seeded, db, now, admin):
    published = seeded["solution-quality"].criteria[0]
    draft = services.create_next_version(db, actor=admin, code="solution-quality", now=now)
    found = services.criteria_by_ids(db, [published.id, draft.criteria[0].id, 999_999])
    assert list(found) == [published.id]
    assert found[published.id].framework.code == "solution-quality"
    assert services.criteria_by_ids(db, []) == {}


# --- versions, drafts, publishing -----------------------------------------------------------

def test_next_version_copies_the_latest_published_into_a_draft(seeded, db, now, admin):
    source = seeded["solution-quality"]
    draft = services.create_next_version(db, actor=admin, code="solution-quality", now=now)
    assert (draft.code, draft.version, draft.status, draft.published_at) == (
        "solution-quality", 2, "draft", None)
    assert [(c.code, c.kind, c.name_cy, c.guidance_en) for c in draft.criteria] == [
        (c.code, c.kind, c.name_cy, c.guidance_en) for c in source.criteria]
    assert {c.id for c in draft.criteria}.isdisjoint({c.id for c in source.criteria})
    assert _actions(db)[-1] == "values.version_created"


def test_only_one_draft_at_a_time(seeded, db, now, admin):
    services.create_next_version(db, actor=admin, code="solution-quality", now=now)
    with pytest.raises(RuleViolation) as e:
        services.create_next_version(db, actor=admin, code="solution-quality", now=now)
    assert e.value.errors == {"framework": "draft_exists"}


def test_next_version_of_an_unknown_framework_is_not_found(seeded, db, now, admin):
    with pytest.raises(NotFound):
        services.create_next_version(db, actor=admin, code="nonsense", now=now)


def test_editing_a_draft_criterion_changes_only_the_draft(seeded, db, now, admin):
    source = _criterion(seeded["wellbeing-goals"], "healthier")
    draft = services.create_next_version(db, actor=admin, code="wellbeing-goals", now=now)
    criterion = _criterion(draft, "healthier")
    guidance = ["Dim", "Gwael", "Derbyniol", "Da", "Rhagorol"]
    _edit(db, admin, criterion, now, description_en="  Healthier lives for everyone.  ",
          guidance_cy=guidance)
    db.expire_all()
    criterion = services.get_criterion(db, criterion.id)
    assert criterion.description_en == "Healthier lives for everyone."
    assert criterion.guidance_cy == guidance
    source = services.get_criterion(db, source.id)
    assert source.description_en.startswith("How far the solution improves")
    assert source.guidance_cy[0].startswith("Dim tystiolaeth")
    event = db.execute(select(AuditEvent).order_by(AuditEvent.seq.desc())).scalars().first()
    assert event.action == "values.criterion_updated"
    assert "description_en" in event.data and "guidance_cy" in event.data


def test_saving_without_changes_writes_no_audit_event(seeded, db, now, admin):
    draft = services.create_next_version(db, actor=admin, code="ways-of-working", now=now)
    before = _actions(db)
    _edit(db, admin, draft.criteria[0], now)
    assert _actions(db) == before


@pytest.mark.parametrize("changes, errors", [
    ({"name_en": "  "}, {"name_en": "name_missing"}),
    ({"name_cy": "x" * 201}, {"name_cy": "name_too_long"}),
    ({"description_cy": "x" * 2001}, {"description_cy": "description_too_long"}),
    ({"guidance_en": ["a", "b", "", "d", "e"]}, {"guidance_en_2": "guidance_missing"}),
    ({"guidance_cy": ["a", "b", "c", "d", "x" * 1001]}, {"guidance_cy_4": "guidance_too_long"}),
    ({"guidance_en": ["a", "b"]}, {"guidance_en": "guidance_count"}),
])
def test_bad_criterion_input_is_refused_and_nothing_changes(seeded, db, now, admin, changes, errors):
    draft = services.create_next_version(db, actor=admin, code="wellbeing-goals", now=now)
    criterion = draft.criteria[0]
    with pytest.raises(RuleViolation) as e:
        _edit(db, admin, criterion, now, **changes)
    assert e.value.errors == errors
    db.expire_all()
    assert services.get_criterion(db, criterion.id).name_en == "A prosperous Wales"


def test_a_gate_takes_exactly_fail_and_pass(seeded, db, now, admin):
    draft = services.create_next_version(db, actor=admin, code="solution-quality", now=now)
    gate = _criterion(draft, "eligibility")
    with pytest.raises(RuleViolation) as e:
        _edit(db, admin, gate, now, guidance_en=["No", "Yes", "Maybe", "Later", "Never"])
    assert e.value.errors == {"guidance_en": "guidance_count"}
    _edit(db, admin, gate, now, guidance_en=["Not eligible.", "Eligible."])
    assert services.get_criterion(db, gate.id).guidance_en == ["Not eligible.", "Eligible."]


def test_a_published_version_cannot_be_edited(seeded, db, now, admin):
    framework = seeded["wellbeing-goals"]
    with pytest.raises(InvalidTransition):
        _edit(db, admin, framework.criteria[0], now, name_en="Changed")
    with pytest.raises(InvalidTransition):
        services.update_framework_text(db, actor=admin, framework_id=framework.id, name_en="Changed",
                                       name_cy="Newid", description_en="", description_cy="", now=now)
    with pytest.raises(InvalidTransition):
        services.publish_version(db, actor=admin, framework_id=framework.id, now=now)
    with pytest.raises(InvalidTransition):
        services.discard_draft(db, actor=admin, framework_id=framework.id, now=now)
    db.expire_all()
    assert services.get_framework(db, framework.id).criteria[0].name_en == "A prosperous Wales"


def test_editing_a_draft_framework_text(seeded, db, now, admin):
    draft = services.create_next_version(db, actor=admin, code="solution-quality", now=now)
    services.update_framework_text(db, actor=admin, framework_id=draft.id, name_en=" Quality ",
                                   name_cy="Ansawdd", description_en="", description_cy="", now=now)
    assert (draft.name_en, draft.name_cy, draft.description_en) == ("Quality", "Ansawdd", "")
    assert _actions(db)[-1] == "values.framework_updated"
    with pytest.raises(RuleViolation) as e:
        services.update_framework_text(db, actor=admin, framework_id=draft.id, name_en="",
                                       name_cy="", description_en="", description_cy="", now=now)
    assert e.value.errors == {"name_en": "name_missing", "name_cy": "name_missing"}


def test_publishing_a_draft_makes_it_current_and_pins_the_old_version(seeded, db, now, admin):
    old = seeded["ways-of-working"]
    draft = services.create_next_version(db, actor=admin, code="ways-of-working", now=now)
    _edit(db, admin, _criterion(draft, "involvement"), now + LATER, name_en="Involving people")
    published = services.publish_version(db, actor=admin, framework_id=draft.id, now=now + LATER)
    assert (published.status, published.published_at, published.published_by_id) == (
        "published", now + LATER, admin.id)
    assert _actions(db)[-1] == "values.version_published"
    current = {f.code: f for f in services.current_frameworks(db)}["ways-of-working"]
    assert _criterion(current, "involvement").name_en == "Involving people"
    db.expire_all()
    assert _criterion(services.get_framework(db, old.id), "involvement").name_en == "Involvement"
    # The next draft starts from the new version.
    again = services.create_next_version(db, actor=admin, code="ways-of-working", now=now)
    assert again.version == 3
    assert _criterion(again, "involvement").name_en == "Involving people"


def test_discarding_a_draft_deletes_it_and_its_criteria(seeded, db, now, admin):
    draft = services.create_next_version(db, actor=admin, code="solution-quality", now=now)
    draft_id = draft.id
    assert services.discard_draft(db, actor=admin, framework_id=draft_id, now=now) == "solution-quality"
    with pytest.raises(NotFound):
        services.get_framework(db, draft_id)
    assert _count(db, ValueCriterion) == 20
    assert _actions(db)[-1] == "values.draft_discarded"
    # A new draft can be made again, and takes the freed number.
    assert services.create_next_version(db, actor=admin, code="solution-quality", now=now).version == 2


# --- permissions ----------------------------------------------------------------------------

@pytest.fixture(params=["visitor", "authority editor", "supplier editor", "disabled admin"])
def outsider(request, db):
    match request.param:
        case "visitor":
            return None
        case "disabled admin":
            return UserFactory(is_admin=True, is_disabled=True)
        case "authority editor":
            return member(role="editor")
        case _:
            return member(OrganisationFactory(kind="supplier"), role="editor")


def test_only_admins_may_curate_frameworks(seeded, db, now, admin, outsider):
    draft = services.create_next_version(db, actor=admin, code="solution-quality", now=now)
    before = _actions(db)
    calls = [
        lambda: services.create_next_version(db, actor=outsider, code="wellbeing-goals", now=now),
        lambda: _edit(db, outsider, draft.criteria[0], now, name_en="Mine"),
        lambda: services.update_framework_text(db, actor=outsider, framework_id=draft.id, name_en="x",
                                               name_cy="x", description_en="", description_cy="",
                                               now=now),
        lambda: services.publish_version(db, actor=outsider, framework_id=draft.id, now=now),
        lambda: services.discard_draft(db, actor=outsider, framework_id=draft.id, now=now),
    ]
    for call in calls:
        with pytest.raises(NotPermitted):
            call()
    assert _actions(db) == before
    db.expire_all()
    assert services.get_framework(db, draft.id).status == "draft"


def test_a_draft_created_at_the_same_moment_elsewhere_is_refused_cleanly(seeded, db, now, admin,
                                                                        monkeypatch):
    services.create_next_version(db, actor=admin, code="solution-quality", now=now)
    published_only = [f for f in services.framework_versions(db, "solution-quality") if f.is_published]
    # As if another admin's draft was committed between the check and the insert.
    monkeypatch.setattr(services, "framework_versions", lambda _session, _code: published_only)
    with pytest.raises(RuleViolation) as e:
        services.create_next_version(db, actor=admin, code="solution-quality", now=now)
    assert e.value.errors == {"framework": "draft_exists"}
    monkeypatch.undo()
    assert [f.version for f in services.framework_versions(db, "solution-quality")] == [2, 1]
    assert _actions(db).count("values.version_created") == 1
