"""Value framework admin pages through the test client: who may see them, and what admins see and change."""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from procure.values import services
from procure.values.models import ValueFramework
from tests.conftest import NOW, post_form, sign_in
from tests.factories import OrganisationFactory, UserFactory, member


def page(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def location(response) -> str:
    return urlsplit(response.headers["Location"]).path


def field_error(response, field: str) -> str | None:
    match = re.search(rf'<p id="{field}-error" class="govuk-error-message">\s*'
                      r'<span class="govuk-visually-hidden">[^<]*</span>\s*(.*?)\s*</p>',
                      page(response), re.S)
    return match.group(1) if match else None


def textarea(response, field: str) -> str | None:
    match = re.search(rf'<textarea[^>]*\bname="{field}"[^>]*>(.*?)</textarea>', page(response), re.S)
    return match.group(1).strip() if match else None


@pytest.fixture
def frameworks(app, db, now):
    with app.app_context():
        services.load_seed(db, now=now)
    return {f.code: f for f in services.current_frameworks(db)}


@pytest.fixture
def admin(client, db):
    user = UserFactory(is_admin=True)
    sign_in(client, db, user)
    return user


def _draft(app, db, admin, code="solution-quality") -> ValueFramework:
    with app.app_context():
        return services.create_next_version(db, actor=admin, code=code, now=NOW)


def _criterion_form(criterion, **changes) -> dict:
    data = {"name_en": criterion.name_en, "name_cy": criterion.name_cy,
            "description_en": criterion.description_en, "description_cy": criterion.description_cy}
    for lang in ("en", "cy"):
        for n, text in enumerate(getattr(criterion, f"guidance_{lang}")):
            data[f"guidance_{lang}_{n}"] = text
    data.update(changes)
    return data


# --- who may see the pages ------------------------------------------------------------------

def test_a_visitor_is_sent_to_sign_in(client, frameworks):
    framework = frameworks["wellbeing-goals"]
    for path in ("/admin/values", f"/admin/values/{framework.id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert location(response) == "/sign-in"


@pytest.mark.parametrize("kind", ["authority", "supplier"])
def test_a_signed_in_non_admin_is_refused(client, db, frameworks, kind):
    sign_in(client, db, member(OrganisationFactory(kind=kind), role="editor"))
    framework = frameworks["wellbeing-goals"]
    criterion = framework.criteria[0]
    for path in ("/admin/values", f"/admin/values/{framework.id}",
                 f"/admin/values/{framework.id}/edit", f"/admin/values/criteria/{criterion.id}/edit"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "You do not have permission" in page(response)
    response = post_form(client, f"/admin/values/{framework.id}/new-version", {},
                         token_from="/account")
    assert response.status_code == 403
    assert services.framework_versions(db, "wellbeing-goals")[0].version == 1


def test_the_dashboard_links_to_the_frameworks(client, admin):
    assert 'href="/admin/values"' in page(client.get("/admin"))


# --- reading --------------------------------------------------------------------------------

def test_list_shows_nothing_loaded_yet(client, admin):
    response = client.get("/admin/values")
    assert response.status_code == 200
    assert "flask --app wsgi values load" in page(response)


def test_list_shows_every_framework_with_its_versions_and_status(app, client, db, admin, frameworks):
    _draft(app, db, admin)
    text = page(client.get("/admin/values"))
    for name in ("Well-being goals of the Well-being of Future Generations (Wales) Act 2015",
                 "Five ways of working of the Well-being of Future Generations (Wales) Act 2015",
                 "Solution quality"):
        assert name in text
    assert text.count("Published") >= 3 and "Draft" in text
    assert f'href="/admin/values/{frameworks["solution-quality"].id}"' in text


def test_a_version_shows_every_criterion_in_both_languages_with_its_guidance(client, admin, frameworks):
    framework = frameworks["wellbeing-goals"]
    response = client.get(f"/admin/values/{framework.id}")
    assert response.status_code == 200
    text = page(response)
    for criterion in framework.criteria:
        assert criterion.name_en in text and criterion.name_cy in text
        assert criterion.description_cy in text
        for guidance in criterion.guidance_en + criterion.guidance_cy:
            assert guidance in text
    assert "4 – excellent" in text and "Scored from 0 to 4" in text
    assert "Create a new version" in text
    assert "Publish this version" not in text and "Discard this draft" not in text
    # English first on an English page.
    assert text.index("A prosperous Wales") < text.index("Cymru lewyrchus")


def test_a_welsh_page_puts_the_welsh_text_first(client, admin, frameworks):
    framework = frameworks["wellbeing-goals"]
    text = page(client.get(f"/admin/values/{framework.id}?lang=cy"))
    assert "<h1 class=\"govuk-heading-l\">Nodau llesiant Deddf Llesiant" in text
    body = text[text.index("<main"):]
    assert body.index("Cymru lewyrchus") < body.index("A prosperous Wales")
    assert '<span lang="en">A prosperous Wales</span>' in body


def test_gates_show_fail_and_pass(client, admin, frameworks):
    text = page(client.get(f"/admin/values/{frameworks['solution-quality'].id}"))
    assert "Gate: pass or fail" in text
    eligibility = text[text.index('id="criterion-eligibility"'):]
    assert re.search(r'<th scope="row" class="govuk-table__header">Fail</th>', eligibility)
    assert re.search(r'<th scope="row" class="govuk-table__header">Pass</th>', eligibility)


def test_an_unknown_version_is_not_found(client, admin):
    assert client.get("/admin/values/999999").status_code == 404
    assert client.get("/admin/values/criteria/999999/edit").status_code == 404


# --- versions, drafts and publishing --------------------------------------------------------

def test_create_a_new_version_then_publish_it(client, db, admin, frameworks):
    source = frameworks["ways-of-working"]
    response = post_form(client, f"/admin/values/{source.id}/new-version", {},
                         token_from=f"/admin/values/{source.id}")
    draft = services.framework_versions(db, "ways-of-working")[0]
    assert (draft.version, draft.status) == (2, "draft")
    assert response.status_code == 302 and location(response) == f"/admin/values/{draft.id}"
    text = page(client.get(location(response)))
    assert "Version 2 has been created as a draft" in text
    assert "Publish this version" in text and "Discard this draft" in text
    assert f"/admin/values/criteria/{draft.criteria[0].id}/edit" in text
    # The published version now points at the draft instead of offering another one.
    text = page(client.get(f"/admin/values/{source.id}"))
    assert "Version 2 is a draft being prepared" in text and "Create a new version" not in text

    response = post_form(client, f"/admin/values/{draft.id}/publish", {},
                         token_from=f"/admin/values/{draft.id}")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(ValueFramework, draft.id).status == "published"
    text = page(client.get(location(response)))
    assert "Version 2 is published." in text and "Create a new version" in text


def test_a_second_draft_is_refused_with_a_message(app, client, db, admin, frameworks):
    source = frameworks["solution-quality"]
    _draft(app, db, admin)
    response = post_form(client, f"/admin/values/{source.id}/new-version", {},
                         token_from=f"/admin/values/{source.id}")
    assert response.status_code == 302
    assert "A draft of this framework already exists" in page(client.get(location(response)))
    assert len(services.framework_versions(db, "solution-quality")) == 2


def test_discard_a_draft(app, client, db, admin, frameworks):
    draft = _draft(app, db, admin)
    response = post_form(client, f"/admin/values/{draft.id}/discard", {},
                         token_from=f"/admin/values/{draft.id}")
    assert response.status_code == 302 and location(response) == "/admin/values"
    assert "The draft of version 2 has been discarded." in page(client.get("/admin/values"))
    assert [f.version for f in services.framework_versions(db, "solution-quality")] == [1]


def test_state_changes_are_post_only_and_need_the_csrf_token(client, db, admin, frameworks):
    framework = frameworks["solution-quality"]
    for action in ("new-version", "publish", "discard"):
        assert client.get(f"/admin/values/{framework.id}/{action}").status_code == 405
        assert client.post(f"/admin/values/{framework.id}/{action}").status_code == 400
    assert len(services.framework_versions(db, "solution-quality")) == 1


def test_a_published_version_cannot_be_published_discarded_or_edited(client, admin, frameworks):
    framework = frameworks["solution-quality"]
    token_page = f"/admin/values/{framework.id}"
    for action in ("publish", "discard"):
        response = post_form(client, f"/admin/values/{framework.id}/{action}", {}, token_from=token_page)
        assert response.status_code == 409
    assert client.get(f"/admin/values/{framework.id}/edit").status_code == 409
    assert client.get(f"/admin/values/criteria/{framework.criteria[0].id}/edit").status_code == 409
    response = post_form(client, f"/admin/values/criteria/{framework.criteria[0].id}/edit",
                         _criterion_form(framework.criteria[0], name_en="Changed"),
                         token_from=token_page)
    assert response.status_code == 409
    assert "Published" in page(client.get(token_page))


# --- editing a draft ------------------------------------------------------------------------

def test_the_criterion_page_has_a_box_for_each_point_of_the_scale(app, client, db, admin, frameworks):
    draft = _draft(app, db, admin)
    scored = next(c for c in draft.criteria if c.code == "innovation")
    text = page(client.get(f"/admin/values/criteria/{scored.id}/edit"))
    for lang in ("en", "cy"):
        assert re.findall(rf'name="(guidance_{lang}_\d)"', text) == [
            f"guidance_{lang}_{n}" for n in range(5)]
    assert "0 – unacceptable or no evidence" in text and "4 – excellent" in text
    assert 'lang="cy"' in text
    gate = next(c for c in draft.criteria if c.code == "dataProtectionSecurity")
    response = client.get(f"/admin/values/criteria/{gate.id}/edit")
    text = page(response)
    assert re.findall(r'name="(guidance_en_\d)"', text) == ["guidance_en_0", "guidance_en_1"]
    assert re.search(r'<label class="govuk-label" for="guidance_cy_0">\s*Fail\s*</label>', text)
    assert re.search(r'<label class="govuk-label" for="guidance_cy_1">\s*Pass\s*</label>', text)
    assert textarea(response, "guidance_cy_1") == gate.guidance_cy[1]


def test_saving_a_criterion(app, client, db, admin, frameworks):
    draft = _draft(app, db, admin)
    criterion = next(c for c in draft.criteria if c.code == "valueForMoney")
    path = f"/admin/values/criteria/{criterion.id}/edit"
    response = post_form(client, path, _criterion_form(
        criterion, name_en="Value for money and cost", guidance_cy_3="Da iawn."))
    assert response.status_code == 302
    assert location(response) == f"/admin/values/{draft.id}"
    assert "Changes saved." in page(client.get(location(response)))
    db.expire_all()
    saved = services.get_criterion(db, criterion.id)
    assert saved.name_en == "Value for money and cost"
    assert saved.guidance_cy[3] == "Da iawn."
    assert services.get_criterion(db, frameworks["solution-quality"].criteria[2].id).name_en == (
        "Value for money")


def test_empty_guidance_is_refused_with_an_error_and_the_input_is_kept(app, client, db, admin,
                                                                       frameworks):
    draft = _draft(app, db, admin)
    criterion = draft.criteria[0]
    path = f"/admin/values/criteria/{criterion.id}/edit"
    response = post_form(client, path, _criterion_form(
        criterion, guidance_en_2="   ", guidance_cy_0="", guidance_en_4="A new excellent."))
    assert response.status_code == 400
    text = page(response)
    assert "There is a problem" in text
    assert "<title>Error:" in text
    assert field_error(response, "guidance_en_2") == "Enter the English guidance for a score of 2"
    assert field_error(response, "guidance_cy_0") == "Enter the Welsh guidance for a score of 0"
    assert 'href="#guidance_en_2"' in text
    assert textarea(response, "guidance_en_4") == "A new excellent."
    db.expire_all()
    assert services.get_criterion(db, criterion.id).guidance_en[4] == criterion.guidance_en[4]


def test_an_empty_name_is_refused(app, client, db, admin, frameworks):
    draft = _draft(app, db, admin)
    gate = next(c for c in draft.criteria if c.code == "eligibility")
    response = post_form(client, f"/admin/values/criteria/{gate.id}/edit",
                         _criterion_form(gate, name_cy="", guidance_en_1=""))
    assert response.status_code == 400
    assert field_error(response, "name_cy") == "Enter the name in Welsh"
    assert field_error(response, "guidance_en_1") == "Enter the English guidance for a pass"
    # The error summary follows the page: the English fields come first on an English page.
    text = page(response)
    assert text.index('href="#guidance_en_1"') < text.index('href="#name_cy"')


def test_editing_a_draft_framework_name(app, client, db, admin, frameworks):
    draft = _draft(app, db, admin)
    path = f"/admin/values/{draft.id}/edit"
    assert client.get(path).status_code == 200
    data = {"name_en": "Solution quality", "name_cy": "", "description_en": "", "description_cy": ""}
    response = post_form(client, path, data)
    assert response.status_code == 400
    assert field_error(response, "name_cy") == "Enter the name in Welsh"
    response = post_form(client, path, {**data, "name_cy": "Ansawdd yr ateb a gynigir"})
    assert response.status_code == 302
    db.expire_all()
    framework = db.execute(select(ValueFramework).where(ValueFramework.id == draft.id)).scalar_one()
    assert framework.name_cy == "Ansawdd yr ateb a gynigir" and framework.description_en == ""
