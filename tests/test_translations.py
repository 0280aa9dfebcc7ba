"""The Welsh catalogue is complete and sound, and Welsh pages really come out in Welsh.

A developer who wraps a new string in ``_()`` without translating it gets a failing
test here: run ``make translations``, translate the new entries in
``procure/translations/cy/LC_MESSAGES/messages.po``, and commit the catalogue.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "procure" / "translations"
BABEL_CFG = TRANSLATIONS / "babel.cfg"
WELSH_PO = TRANSLATIONS / "cy" / "LC_MESSAGES" / "messages.po"
WELSH_MO = WELSH_PO.with_suffix(".mo")

# Keep in step with the Makefile's `translations` target (pybabel extract -k ...).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
SKIP_DIRS = {"node_modules"}  # only to save time: babel.cfg never maps files there

OGL_EN = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
OGL_CY = "https://www.nationalarchives.gov.uk/doc/open-government-licence-cymraeg/version/3/"

# printf-style conversions, including %% (Jinja's newstyle gettext always %-formats).
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")


def load_catalogue() -> Catalog:
    with WELSH_PO.open("rb") as f:
        return read_po(f, locale="cy")


def entries(catalogue: Catalog) -> list[Message]:
    return [m for m in catalogue if m.id]


def label(message: Message) -> str:
    return repr(message.id[0] if isinstance(message.id, tuple | list) else message.id)


def forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def extract_source() -> dict[str, tuple[str, int]]:
    """Every msgid in the source, as `pybabel extract -F babel.cfg` finds it: msgid -> where."""
    with BABEL_CFG.open() as f:
        method_map, options_map = parse_mapping_cfg(f, str(BABEL_CFG))

    def directory_filter(dirpath: str) -> bool:
        name = os.path.basename(dirpath)
        return not (name.startswith((".", "_")) or name in SKIP_DIRS)

    found: dict[str, tuple[str, int]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS,
            directory_filter=directory_filter):
        msgid = message[0] if isinstance(message, tuple | list) else message
        if msgid:
            found.setdefault(msgid, (filename, lineno))
    return found


def compile_welsh() -> None:
    """Compile the .mo Flask-Babel reads when it is missing or older than the .po.

    Written to a temporary file and renamed, so parallel workers never read half a file.
    """
    if WELSH_MO.exists() and WELSH_MO.stat().st_mtime >= WELSH_PO.stat().st_mtime:
        return
    catalogue = load_catalogue()
    fd, tmp = tempfile.mkstemp(dir=WELSH_MO.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalogue)
        os.replace(tmp, WELSH_MO)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@pytest.fixture(scope="module")
def welsh_app(app: Flask) -> Iterator[Flask]:
    """The app, with the Welsh catalogue compiled and Flask-Babel's cache of it fresh."""
    from procure.extensions import babel

    compile_welsh()
    with app.app_context():
        babel.domain_instance.cache.clear()
    yield app


@pytest.fixture
def welsh_client(welsh_app: Flask, client: FlaskClient) -> FlaskClient:
    return client


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return html.unescape(response.get_data(as_text=True))


# (a) Complete: nothing untranslated, nothing fuzzy, the standard plural rule.

def test_welsh_catalogue_has_every_entry_translated() -> None:
    catalogue = load_catalogue()
    assert len(entries(catalogue)) > 100
    untranslated = [label(m) for m in entries(catalogue) if not all(s.strip() for s in forms(m))]
    assert not untranslated, f"untranslated in {WELSH_PO.name}: {untranslated}"


def test_welsh_catalogue_has_no_fuzzy_entries() -> None:
    catalogue = load_catalogue()
    assert not catalogue.fuzzy, "the catalogue header is marked fuzzy"
    fuzzy = [label(m) for m in entries(catalogue) if m.fuzzy]
    assert not fuzzy, f"fuzzy entries need checking and the flag removing: {fuzzy}"


WELSH_PLURAL = "(n==1?1:n==2?2:n==3?3:n==6?4:0)"


def test_welsh_plural_forms_are_complete() -> None:
    catalogue = load_catalogue()
    # gettext's five Welsh forms (STANDARDS §6), not CLDR's six, which newer Babel releases
    # give: 0 and the "many" numbers share a form; 1, 2, 3 and 6 have their own.
    assert catalogue.num_plurals == 5
    assert catalogue.plural_expr.replace(" ", "") == WELSH_PLURAL
    for message in entries(catalogue):
        if message.pluralizable:
            assert len(forms(message)) == 5, label(message)


# (b) Nothing in the source is missing from the catalogue.

def test_every_string_in_the_source_is_in_the_welsh_catalogue() -> None:
    source = extract_source()
    assert "Skip to main content" in source  # the extraction really ran over templates
    assert "Enter your full name" in source  # ...and over lazy_gettext in Python
    catalogue = load_catalogue()
    missing = sorted(f"{where}:{line}: {msgid!r}" for msgid, (where, line) in source.items()
                     if catalogue.get(msgid) is None or not all(forms(catalogue.get(msgid))))
    assert not missing, ("strings not in the Welsh catalogue; run `make translations` and "
                         "translate them:\n" + "\n".join(missing))


# (c) Translations keep their placeholders and still format.

def test_translations_keep_the_placeholders_of_their_msgid() -> None:
    problems = []
    for message in entries(load_catalogue()):
        ids = list(message.id) if message.pluralizable else [message.id]
        allowed = [placeholders(i) for i in ids]
        for text in forms(message):
            if placeholders(text) not in allowed:
                problems.append(f"{label(message)}: {placeholders(text)} not in {allowed}")
    assert not problems, "\n".join(problems)


def test_translations_with_placeholders_still_format() -> None:
    class Anything(dict):
        def __missing__(self, key: str) -> int:
            return 1

    for message in entries(load_catalogue()):
        if "%" in (message.id[0] if message.pluralizable else message.id):
            for text in forms(message):
                text % Anything()  # raises on a stray % or a malformed conversion


def test_the_licence_link_points_to_the_welsh_licence() -> None:
    catalogue = load_catalogue()
    assert catalogue.get(OGL_EN).string == OGL_CY


# (d) Welsh pages through the app.

def test_home_page_in_welsh(welsh_client: FlaskClient) -> None:
    body = page(welsh_client, "/?lang=cy")
    assert '<html lang="cy"' in body
    assert "Neidio i'r prif gynnwys" in body
    assert f'href="{OGL_CY}"' in body
    assert "Drwydded Llywodraeth Agored v3.0" in body  # mutated after "o dan y", as on GOV.UK
    assert "© Hawlfraint y Goron" in body
    assert "Skip to main content" not in body
    assert OGL_EN not in body
    # The link back to English is labelled in English, marked as English.
    assert re.search(r'<a [^>]*lang="en" hreflang="en">English</a>', body)


def test_the_welsh_licence_link_is_a_real_link(welsh_client: FlaskClient) -> None:
    """A link element, not escaped markup shown as text."""
    body = welsh_client.get("/?lang=cy").get_data(as_text=True)
    assert re.search(rf'<a [^>]*href="{re.escape(OGL_CY)}"[^>]*>Drwydded Llywodraeth Agored v3.0</a>',
                     body)


def test_the_choice_of_welsh_is_remembered(welsh_client: FlaskClient) -> None:
    page(welsh_client, "/?lang=cy")
    assert '<html lang="cy"' in page(welsh_client, "/cookies")


def test_english_stays_english(welsh_client: FlaskClient) -> None:
    body = page(welsh_client, "/?lang=en")
    assert '<html lang="en"' in body
    assert "Skip to main content" in body
    assert f'href="{OGL_EN}"' in body
    assert re.search(r'<a [^>]*lang="cy" hreflang="cy">Cymraeg</a>', body)


@pytest.mark.parametrize(("path", "welsh"), [
    ("/register", "Creu cyfrif"),
    ("/sign-in", "Mewngofnodi"),
    ("/password/forgot", "Ailosod eich cyfrinair"),
    ("/cookies", "Cwcis hanfodol"),
    ("/accessibility", "Datganiad hygyrchedd"),
    ("/privacy", "Hysbysiad preifatrwydd"),
    ("/transparency", "Ôl bys y cofnod archwilio"),
])
def test_public_pages_in_welsh_show_no_english_interface_text(
        welsh_client: FlaskClient, path: str, welsh: str) -> None:
    body = page(welsh_client, f"{path}?lang=cy")
    assert '<html lang="cy"' in body
    assert welsh in body
    # No English interface text is left as the whole text of an element.
    squeezed = re.sub(r"\s*([<>])\s*", r"\1", body)
    leftovers = [m.id for m in entries(load_catalogue())
                 if not m.pluralizable and "%" not in m.id and m.id != m.string
                 and f">{m.id}<" in squeezed]
    assert not leftovers, leftovers
