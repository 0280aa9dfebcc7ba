"""What the sweeps found, each pinned: a superscript digit is a digit to ``str.isdigit`` but not
to ``int``; a date posted without all three boxes; and API parameters the OpenAPI document and
the views read differently."""

from __future__ import annotations

import pytest
from flask import Flask
from wtforms import Form

from procure.api import openapi
from procure.forms import DayField
from tests.security import web

SUPERSCRIPT_ONE = "\u00b9"  # "¹": "¹".isdigit() is True, int("¹") raises


def _form_on(client, path: str) -> web.Form:
    response = client.get(path)
    assert response.status_code == 200, path
    [form] = [f for f in web.parse_page(path, response.get_data(as_text=True))[1]
              if f.action.split("?")[0] == path]
    return form


def _filled(form: web.Form, **changes: str) -> dict[str, str]:
    data = {name: (f.value or (f.options[0] if f.options else "")) for name, f in form.fields.items()
            if f.kind not in ("submit", "file")}
    data.update(changes)
    return data


def _shows_a_field_error(response, field: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html[:300]
    assert "govuk-error-summary" in html
    assert f'id="{field}-error"' in html or f"#{field}" in html


def test_a_score_typed_as_a_superscript_digit_is_a_field_error_not_a_500(demo_app):
    app = demo_app
    client = app.test_client()
    web.act_as(app, client, "authority viewer")  # the damp challenge's assessor
    pages = [p for p in web.crawl(app, client) if web.endpoint_of(app, p.path) == "assessment.score"
             and p.status == 200]
    assert pages
    form = _form_on(client, pages[0].path)
    marks = [name for name in form.fields if name.startswith("mark_")]
    assert marks
    data = _filled(form, **{name: SUPERSCRIPT_ONE for name in marks})
    response = client.post(form.action, data={**data, "submit": "y"})
    _shows_a_field_error(response, marks[0])


def test_a_whole_number_typed_as_a_superscript_digit_is_a_field_error_not_a_500(demo_app):
    app = demo_app
    client = app.test_client()
    web.act_as(app, client, "authority editor")
    # The demo's draft has no phase yet: add one, then type its number of contracts.
    added = _form_on(client, "/challenges/3/phases")
    response = client.post(added.action, data=_filled(added, kind="feasibility"))
    assert response.status_code in (302, 303)
    path = response.headers["Location"].removeprefix("http://localhost")
    form = _form_on(client, path)
    assert "contracts" in form.fields
    response = client.post(path, data=_filled(form, contracts=SUPERSCRIPT_ONE))
    _shows_a_field_error(response, "contracts")


def test_a_date_posted_without_its_boxes_is_a_field_error_not_a_500(demo_app):
    app = demo_app
    client = app.test_client()
    web.act_as(app, client, "authority editor")
    path = "/challenges/3/clarification-deadline"
    form = _form_on(client, path)
    date_fields = {n for n in form.fields if n not in ("csrf_token",) and
                   form.fields[n].kind == "text" and "time" not in n}
    assert date_fields
    for kept in ({}, {name: "27" for name in date_fields}):  # no box, then only one of three
        response = client.post(path, data={"csrf_token": form.token, **kept})
        html = response.get_data(as_text=True)
        assert response.status_code == 400, html[:300]
        assert "govuk-error-summary" in html


@pytest.mark.parametrize("raw", [[], ["27"], ["27", "3"], ["27", "3", "2027", "9"]])
def test_a_date_input_renders_whatever_number_of_boxes_came(app: Flask, raw):
    class F(Form):
        when = DayField("When")

    from werkzeug.datastructures import MultiDict

    with app.test_request_context():
        form = F(MultiDict([("when", v) for v in raw]))
        form.validate()
        html = str(form.when())
    assert html.count('name="when"') == 3
    if raw:
        assert 'value="27"' in html


@pytest.mark.parametrize("path", ["/challenges", "/catalogue"])
def test_the_lists_ignore_a_superscript_page_authority_or_year(client, path):
    for query in (f"authority={SUPERSCRIPT_ONE}", f"page={SUPERSCRIPT_ONE}", f"year={SUPERSCRIPT_ONE}"):
        assert client.get(f"{path}?{query}").status_code == 200, query


# --- the JSON API reads its parameters as its document says --------------------------------

@pytest.mark.parametrize(("query", "status"), [
    ("criterion=", 200), ("outcome=", 200), ("authority=", 200), ("year=", 200),  # empty: not given
    ("authority=4.0", 200), ("per_page=20.00", 200),  # JSON Schema's integers include 4.0
    (f"authority={openapi.MAX_ID}", 200), (f"authority={openapi.MAX_ID + 1}", 400),
    ("authority=4.5", 400), ("criterion=%20a.b", 400), ("outcome=%20awarded", 400),
    ("q=" + "x" * 199 + "%00", 200), ("q=" + "x" * 200 + "%00", 400),  # counted as sent
    ("tag=" + "%01" * 51, 400), ("tag=%00", 200),
])
def test_list_parameters_are_read_as_the_document_describes_them(client, query, status):
    response = client.get(f"/api/v1/challenges?{query}")
    assert response.status_code == status, response.get_json()


def test_the_document_allows_empty_values_and_bounds_ids_and_cursors(client):
    document = client.get("/api/v1/openapi.json").get_json()
    parameters = document["components"]["parameters"]
    assert all(p["allowEmptyValue"] for p in parameters.values() if p["in"] == "query")
    assert parameters["authority"]["schema"]["maximum"] == openapi.MAX_ID
    import re

    cursor = re.compile(parameters["cursor"]["schema"]["pattern"])
    assert cursor.fullmatch(f"{openapi.MAX_ID}.0") and not cursor.fullmatch(f"{openapi.MAX_ID + 1}.0")
    assert client.get(f"/api/v1/ocds/releases?cursor={openapi.MAX_ID}.0").status_code == 200
    assert client.get(f"/api/v1/ocds/releases?cursor={openapi.MAX_ID + 1}.0").status_code == 400
