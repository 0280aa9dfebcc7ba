"""Every form, as every role, fed hostile input by Hypothesis.

For each role the crawler reaches every page of the demo's world (challenges in every state,
proposals, assessments, a bake-off, published records) and finds every POST form on them. Each
form is then posted with the session's real CSRF token and generated values — overlong text,
control characters (NUL included), huge and negative numbers, wrong types, script and
``javascript:`` links, SQL fragments, unusual Unicode, options that are not offered, files with
hostile names. Never a 5xx; a 400 always shows the GOV.UK error summary; and afterwards no page
the role reaches carries an injected script or ``javascript:`` link.

Before posting, the crawl itself proves that no GET changes anything (no table's row count
moves; the only audit events are the reads TRUST wants audited) and that every response —
pages, errors, downloads, feeds, JSON — carries the security headers, with ``no-store`` when
signed in."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter

from procure.extensions import limiter
from tests.security import web
from tests.test_security import assert_security_headers

READS = ("read", "read_refused")  # reading a sealed thing is audited on purpose (TRUST)
SCRIPT = "<script>alert(1)</script>"
HOSTILE = [
    SCRIPT,
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    '"><img src=x onerror=alert(1)>',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "' OR 1=1--",
    "'; DROP TABLE users; --",
    "\x00",
    "a\x00b",
    "\x01\x02\x1b[31m\x7f",
    "\r\nSet-Cookie: stolen=1",
    "x" * 20_000,
    "9" * 400,
    "-1",
    "-99999999999999999999",
    "1e309",
    "NaN",
    "0x1F",
    "١٢٣",  # Arabic-Indic digits
    "\u202egnp.exe",  # right-to-left override
    "\u200b",
    "Ｆｕｌｌ　ｗｉｄｔｈ",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🏴󠁧󠁢󠁷󠁬󠁳󠁿",
    "{{7*7}}${7*7}%s%n",
    "../../../../etc/passwd",
    "",
    " ",
]
# Markers of stored script: none may appear in a page after the posts.
INJECTED = (re.compile(re.escape(SCRIPT), re.I), re.compile(r"<img src=x onerror", re.I),
            re.compile(r"""href\s*=\s*["']?\s*javascript:""", re.I))

# Account forms every signed-in role has; swept anonymously, as the supplier editor and as the
# authority viewer (who is also offered the two-step sign-in's forms) only.
ACCOUNT_FORMS = ("accounts.", "following.")
# Forms not posted: signing out would end the sweep's own session (its effect on a copied
# cookie is proven in tests/accounts).
NOT_POSTED = {"accounts.sign_out"}
EXAMPLES = 5  # per form and role: enough to reach every field's edge, bounded for speed
PER_ENDPOINT = 2  # forms posted for each endpoint (they differ in the object they act on)

# The POST routes each role's sweep must reach (a form on a page it can open).
EXPECTED = {
    "anonymous": {"accounts.sign_in", "accounts.register", "accounts.forgot_password"},
    "supplier editor": {
        "accounts.change_password", "accounts.update_language", "following.follow_tags",
        "following.update_preferences", "challenges.ask_question", "proposals.start_proposal",
        "proposals.edit_summary", "proposals.edit_responses", "proposals.edit_team",
        "proposals.edit_declarations", "proposals.edit_attachments", "accounts.mfa_set_up"},
    "authority editor": {
        "authoring.create_challenge", "authoring.edit_details", "authoring.edit_contact",
        "authoring.edit_tags", "authoring.edit_welsh", "authoring.add_phase",
        "authoring.edit_clarification_deadline", "authoring.set_lead_pledge",
        "authoring.withdraw_invitation", "challenges.amend_challenge",
        "challenges.answer_question", "challenges.cancel_challenge",
        "challenges.publish_clarification", "assessment.appoint_member",
        "assessment.invite_expert", "bakeoff.show_check_in", "organisations.change_role",
        "record.reuse_record"},
    "authority viewer": {"assessment.score", "accounts.mfa_verify", "accounts.mfa_recovery_codes"},
    "assessor": {"assessment.declare", "organisations.create_organisation",
                 "organisations.join_organisation"},
    "admin": {"admin.disable_user", "admin.verify_organisation", "values.create_version"},
}


def _sweeps_account_forms(role: str) -> bool:
    return role in ("anonymous", "supplier editor", "authority viewer")


def _value(f: web.Field) -> st.SearchStrategy:
    offered = [o for o in f.options if o] or [f.value]
    kinds = [st.sampled_from(HOSTILE), st.sampled_from(offered),
             st.text(max_size=40), st.integers(-10**24, 10**24).map(str)]
    return st.one_of(*kinds)


def _upload(name: str) -> st.SearchStrategy:
    names = st.sampled_from([f"{SCRIPT}.pdf", "../../evil.pdf", "a\x00b.pdf", "x" * 300 + ".pdf",
                             "proposal.exe", "résumé.pdf", ""])
    bodies = st.sampled_from([b"%PDF-1.4\n" + SCRIPT.encode(), b"MZ\x90\x00", b"",
                              b"<html>" + SCRIPT.encode()])
    return st.tuples(bodies, names).map(lambda t: (io.BytesIO(t[0]), t[1]))


def _payload(form: web.Form) -> st.SearchStrategy:
    """A dict of generated values for the form's fields (any may be left out); the CSRF token
    stays the real one."""
    parts = {}
    for name, f in form.fields.items():
        if name == "csrf_token":
            continue
        if f.kind == "submit":
            parts[name] = st.just(f.value)
        elif f.kind == "file":
            parts[name] = st.one_of(st.none(), _upload(name))
        else:
            parts[name] = st.one_of(st.none(), _value(f))
    return st.fixed_dictionaries(parts).map(
        lambda d: {k: v for k, v in d.items() if v is not None} | {"csrf_token": form.token})


def _check_response(form: web.Form, data: dict, response) -> None:
    body = response.get_data(as_text=True)
    where = f"POST {form.action} (form on {form.page}) with {_short(data)}"
    assert response.status_code < 500, f"{response.status_code} from {where}"
    if response.status_code == 400:
        assert "govuk-error-summary" in body, f"400 without an error summary from {where}"
    for marker in INJECTED:
        assert not marker.search(body), f"{marker.pattern} reflected by {where}"


def _short(data: dict) -> str:
    return repr({k: (v if not isinstance(v, str) or len(v) < 60 else v[:60] + "…")
                 for k, v in data.items() if k != "csrf_token"})


def _forms_to_post(app, role: str, pages: list[web.Page]) -> dict[str, list[web.Form]]:
    """Up to PER_ENDPOINT forms for each POST endpoint found on the role's pages."""
    found: dict[str, list[web.Form]] = {}
    for page in pages:
        if not page.is_html:
            continue
        for form in web.parse_page(page.path, page.html)[1]:
            endpoint = web.endpoint_of(app, form.action, "POST")
            if endpoint is None or endpoint in NOT_POSTED or form.token is None:
                continue
            if endpoint.startswith(ACCOUNT_FORMS) and not _sweeps_account_forms(role):
                continue
            forms = found.setdefault(endpoint, [])
            if len(forms) < PER_ENDPOINT and all(f.action != form.action for f in forms):
                forms.append(form)
    return found


def _get_paths(app) -> list[str]:
    """Every GET rule with the id 1 of a real demo object and made-up tokens."""
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        values = {arg: 1 if isinstance(rule._converters[arg], IntegerConverter) else "made-up"
                  for arg in rule.arguments}
        out.append(rule.build(values)[1])
    return sorted(out)


def _sweep(client, form: web.Form) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=_payload(form))
    def post(data):
        limiter.reset()  # the sign-in and registration limits are tested elsewhere
        _check_response(form, data, client.post(form.action, data=data))

    post()


def _nothing_changed_and_every_response_has_the_headers(app, role, pages, before, seq) -> None:
    """Every page the role reaches by links, and every GET rule with real ids, downloads and
    feeds included: no table gains or loses a row, the only audit events are the reads TRUST
    wants audited, and every response carries the headers (no-store when signed in)."""
    assert {200, 404} <= {p.status for p in pages}
    kinds = {p.mimetype for p in pages if p.status == 200}
    assert {"text/html", "application/json", "text/csv", "application/atom+xml"} <= kinds, kinds
    for page in pages:
        assert page.status < 500, page.path
        assert_security_headers(SimpleNamespace(headers=page.headers))
        if role != "anonymous" and page.status != 302:
            assert page.headers.get("Cache-Control") == "no-store", page.path
    after = web.row_counts(app)
    changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
    assert set(changed) <= {"audit_events"}, changed
    assert all(a.endswith(READS) for a in web.audit_actions_since(app, seq))


@pytest.mark.parametrize("role", list(web.ROLES))
def test_no_get_changes_anything_and_every_form_survives_hostile_input(demo_app, role):
    app = demo_app
    client = app.test_client()
    web.act_as(app, client, role)
    before, seq = web.row_counts(app), web.last_audit_seq(app)
    pages = list(web.crawl(app, client))
    _nothing_changed_and_every_response_has_the_headers(
        app, role, pages + [web.fetch(client, path) for path in _get_paths(app)], before, seq)

    forms = _forms_to_post(app, role, pages)
    assert EXPECTED[role] <= set(forms), f"{role} reached no form for {EXPECTED[role] - set(forms)}"

    for _endpoint, endpoint_forms in sorted(forms.items()):
        for form in endpoint_forms:
            _sweep(client, form)

    # Nothing posted comes back as script: every page the role reaches, read again.
    for page in pages:
        if page.status != 200:
            continue
        again = web.fetch(client, page.path)
        assert again.status < 500, f"{again.status} from GET {page.path} after the sweep"
        for marker in INJECTED:
            assert not marker.search(again.html), f"{marker.pattern} stored, shown on {page.path}"


def test_every_post_route_is_swept_or_has_a_reason(app):
    """The routes the demo's sweeps reach, with those reached in the worlds built for the forms
    the demo offers none of (test_form_sweep_worlds.py), account for every POST route but the
    few no page can offer."""
    from tests.security import test_form_sweep_worlds as worlds

    posts = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}
    swept = set().union(*EXPECTED.values()) | worlds.SWEPT
    assert set(NOT_SWEPT) | swept | NOT_POSTED >= posts, posts - set(NOT_SWEPT) - swept
    assert not set(NOT_SWEPT) & swept
    assert not set().union(*EXPECTED.values()) & worlds.SWEPT  # each route swept in one place


# POST routes no page offers a form for outside a sign-in under way, and why. The forms are
# posted with bad input by their features' own view tests.
_TOKEN = "reached only through a secret link from an e-mail"
_MFA = "offered only in the middle of a two-step sign-in, between the password and the code"
NOT_SWEPT: dict[str, str] = {
    "accounts.confirm_email": _TOKEN, "accounts.reset_password": _TOKEN,
    "assessment.accept_invitation": _TOKEN,
    "accounts.sign_in_code": _MFA, "accounts.sign_in_set_up": _MFA,
}
