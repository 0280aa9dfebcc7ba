"""Pure proposal rules: price, what a submission needs, file names, file types read from the
content, and names made distinct."""

from __future__ import annotations

import pytest

from procure.submissions.rules import (
    MAX_ATTACHMENTS,
    MAX_FILE_BYTES,
    MAX_FILENAME,
    attachments_problem,
    clean_filename,
    deduplicate_name,
    detect_type,
    file_problem,
    filename_problem,
    price_problem,
    submit_problems,
)
from tests.submissions.builders import JPEG, PDF, PNG, docx, odt, png, zip_of

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT_MIME = "application/vnd.oasis.opendocument.text"


def test_the_limits_are_those_of_the_specification():
    assert (MAX_ATTACHMENTS, MAX_FILE_BYTES, MAX_FILENAME) == (5, 10 * 1024 * 1024, 150)


# --- price ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("price", "maximum", "expected"), [
    (None, 2_500_000, "price_missing"),
    (None, None, "price_missing"),
    (0, 2_500_000, "price_invalid"),
    (-1, 2_500_000, "price_invalid"),
    (-2_000_000, None, "price_invalid"),
    (1, 2_500_000, None),
    (2_499_999, 2_500_000, None),
    (2_500_000, 2_500_000, None),           # the maximum itself is allowed
    (2_500_001, 2_500_000, "price_above_maximum"),
    (10**12, 2_500_000, "price_above_maximum"),
    (10**12, None, None),                   # no maximum set
])
def test_price_problem(price, maximum, expected):
    assert price_problem(price, maximum) == expected


# --- what a submission needs ---------------------------------------------------------------------

def _complete(**overrides) -> dict:
    values = dict(summary="Sensors in every bin", team="Two engineers", price_pence=1_000_000,
                  max_value_pence=2_500_000, timeline="Three months",
                  responses={11: "Our answer", 12: "Another answer"}, criterion_ids=[11, 12],
                  declarations={"declare_accurate": True, "declare_no_collusion": True,
                                "declare_eligible": True})
    values.update(overrides)
    return values


def _declarations(**given: bool) -> dict[str, bool]:
    return {"declare_accurate": True, "declare_no_collusion": True, "declare_eligible": True,
            **given}


def test_a_complete_proposal_has_no_problems():
    assert submit_problems(**_complete()) == {}


@pytest.mark.parametrize(("change", "expected"), [
    ({"summary": ""}, {"summary": "summary_missing"}),
    ({"summary": " \n\t "}, {"summary": "summary_missing"}),
    ({"team": ""}, {"team": "team_missing"}),
    ({"team": "   "}, {"team": "team_missing"}),
    ({"timeline": ""}, {"timeline": "timeline_missing"}),
    ({"price_pence": None}, {"price": "price_missing"}),
    ({"price_pence": 0}, {"price": "price_invalid"}),
    ({"price_pence": 2_500_001}, {"price": "price_above_maximum"}),
    ({"responses": {11: "Our answer"}}, {"response-12": "response_missing"}),
    ({"responses": {11: "Our answer", 12: "  "}}, {"response-12": "response_missing"}),
    ({"responses": {}}, {"response-11": "response_missing", "response-12": "response_missing"}),
    ({"declarations": _declarations(declare_accurate=False)}, {"declare_accurate": "declaration_missing"}),
    ({"declarations": _declarations(declare_no_collusion=False)},
     {"declare_no_collusion": "declaration_missing"}),
    ({"declarations": _declarations(declare_eligible=False)}, {"declare_eligible": "declaration_missing"}),
], ids=lambda v: "-".join(v) if isinstance(v, dict) else str(v))
def test_each_missing_part_is_named(change, expected):
    assert submit_problems(**_complete(**change)) == expected


def test_an_answer_to_a_criterion_the_phase_does_not_have_does_not_count():
    problems = submit_problems(**_complete(responses={11: "Our answer", 99: "Stray"}))
    assert problems == {"response-12": "response_missing"}


def test_an_empty_proposal_lists_every_part():
    problems = submit_problems(summary="", team="", price_pence=None, max_value_pence=2_500_000,
                               timeline="", responses={}, criterion_ids=[11, 12],
                               declarations=_declarations(declare_accurate=False,
                                                          declare_no_collusion=False,
                                                          declare_eligible=False))
    assert problems == {"summary": "summary_missing", "team": "team_missing", "price": "price_missing",
                        "timeline": "timeline_missing", "response-11": "response_missing",
                        "response-12": "response_missing", "declare_accurate": "declaration_missing",
                        "declare_no_collusion": "declaration_missing",
                        "declare_eligible": "declaration_missing"}


# --- file names ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("plan.pdf", None),
    ("Cynllun gwaith – ŵ ŷ (terfynol).pdf", None),
    ("report.final.v2.docx", None),
    ("x" * (MAX_FILENAME - 4) + ".pdf", None),
    ("x" * (MAX_FILENAME - 3) + ".pdf", "filename_too_long"),
    ("x" * 1000 + ".pdf", "filename_too_long"),
    ("", "file_missing"),
    ("   ", "file_missing"),
    ("../a.pdf", "filename_path"),
    ("a/b.pdf", "filename_path"),
    ("/etc/passwd", "filename_path"),
    ("C:\\x\\a.pdf", "filename_path"),
    ("..\\a.pdf", "filename_path"),
    ("..", "filename_path"),
    (".", "filename_path"),
    ("a\x00.pdf", "filename_control"),
    ("\x00", "filename_control"),
    ("a\n.pdf", "filename_control"),
    ("a\r.pdf", "filename_control"),
    ("a\t.pdf", "filename_control"),
    ("a\x1b[31m.pdf", "filename_control"),
    ("a\x7f.pdf", "filename_control"),
    ("invoice\u202efdp.exe", "filename_control"),   # right-to-left override
    ("a\u200b.pdf", "filename_control"),             # zero-width space
    ("a\ufeff.pdf", "filename_control"),             # byte order mark
    ("a\u2028b.pdf", "filename_control"),            # line separator
    ("a\u2029b.pdf", "filename_control"),            # paragraph separator
], ids=repr)
def test_filename_problem(name, expected):
    assert filename_problem(name) == expected


def test_file_names_are_stored_in_one_unicode_form():
    assert clean_filename("  Cafe\u0301.pdf ") == "Caf\u00e9.pdf"


# --- file types, read from the content ----------------------------------------------------------

@pytest.mark.parametrize(("name", "data", "mime"), [
    ("plan.pdf", PDF, "application/pdf"),
    ("photo.png", PNG, "image/png"),
    ("photo.png", png(), "image/png"),
    ("photo.jpg", JPEG, "image/jpeg"),
    ("photo.jpeg", JPEG, "image/jpeg"),
    ("PHOTO.JPG", JPEG, "image/jpeg"),
    ("Plan.PDF", PDF, "application/pdf"),
    ("plan.docx", docx(), DOCX_MIME),
    ("plan.odt", odt(), ODT_MIME),
], ids=lambda v: v if isinstance(v, str) and len(v) < 20 else "")
def test_accepted_files(name, data, mime):
    assert file_problem(name, data) == (None, mime)
    assert detect_type(data) == mime


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
PLAIN_ZIP = zip_of({"notes.txt": "hello"})
SPREADSHEET = zip_of({"mimetype": "application/vnd.oasis.opendocument.spreadsheet",
                      "content.xml": "<office:document-content/>"})
XLSX = zip_of({"[Content_Types].xml": '<Types><Override PartName="/xl/workbook.xml" ContentType="'
                                      'application/vnd.openxmlformats-officedocument.spreadsheetml.'
                                      'sheet.main+xml"/></Types>'})


@pytest.mark.parametrize(("name", "data"), [
    ("page.pdf", HTML),
    ("setup.pdf", EXE),
    ("archive.pdf", PLAIN_ZIP),
    ("archive.docx", PLAIN_ZIP),
    ("sheet.odt", SPREADSHEET),
    ("sheet.docx", XLSX),
    ("image.png", GIF),
    ("image.png", SVG),
    ("notes.pdf", b"just some text"),
    ("broken.docx", b"PK\x03\x04" + b"\x00" * 100),     # a zip header and nothing behind it
    ("cut.pdf", b"%PD"),
], ids=["html", "exe", "zip-as-pdf", "zip-as-docx", "ods", "xlsx", "gif", "svg", "text",
        "broken-zip", "cut-pdf"])
def test_content_of_a_type_not_accepted(name, data):
    assert file_problem(name, data) == ("file_type", None)


@pytest.mark.parametrize(("name", "data"), [
    ("photo.pdf", PNG),            # a PNG named .pdf
    ("plan.png", PDF),
    ("plan.jpg", PNG),
    ("photo.png", JPEG),
    ("plan.odt", docx()),
    ("plan.docx", odt()),
    ("plan.zip", docx()),
    ("plan", PDF),                 # no extension at all
    ("plan.pdf.exe", PDF),
    ("planpdf", PDF),
], ids=["png-as-pdf", "pdf-as-png", "png-as-jpg", "jpeg-as-png", "docx-as-odt", "odt-as-docx",
        "docx-as-zip", "no-extension", "double-extension", "no-dot"])
def test_content_that_does_not_match_the_name(name, data):
    assert file_problem(name, data) == ("file_type_mismatch", None)


def test_an_empty_file():
    assert file_problem("plan.pdf", b"") == ("file_empty", None)


def test_size_limit():
    at_limit = PDF + b"%" * (MAX_FILE_BYTES - len(PDF))
    assert file_problem("plan.pdf", at_limit) == (None, "application/pdf")
    assert file_problem("plan.pdf", at_limit + b"%") == ("file_too_big", None)


def test_a_bad_name_is_reported_before_the_content():
    assert file_problem("../plan.pdf", PDF) == ("filename_path", None)
    assert file_problem("plan\u202e.pdf", b"") == ("filename_control", None)


@pytest.mark.parametrize(("count", "expected"), [
    (0, None), (4, None), (5, "too_many_files"), (6, "too_many_files"),
])
def test_at_most_five_files(count, expected):
    assert attachments_problem(count) == expected


# --- distinct names --------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "taken", "expected"), [
    ("report.pdf", [], "report.pdf"),
    ("report.pdf", ["other.pdf"], "report.pdf"),
    ("report.pdf", ["report.pdf"], "report (2).pdf"),
    ("report.pdf", ["REPORT.PDF"], "report (2).pdf"),      # names differ by more than case
    ("report.pdf", ["report.pdf", "report (2).pdf"], "report (3).pdf"),
    ("report.pdf", ["report.pdf", "Report (2).PDF", "report (3).pdf"], "report (4).pdf"),
    ("report.pdf", ["report (2).pdf"], "report.pdf"),
    ("a.b.pdf", ["a.b.pdf"], "a.b (2).pdf"),
    ("README", ["readme"], "README (2)"),
])
def test_deduplicate_name(name, taken, expected):
    assert deduplicate_name(name, taken) == expected
