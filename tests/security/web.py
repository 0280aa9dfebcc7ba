"""What the security sweeps share: the demo's world with a user for each role, a crawler that
finds every page a role can reach and every form on it (parsed with the standard library's
HTML parser), table row counts, and URL rules matched back to their endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, inspect, select, text
from werkzeug.exceptions import HTTPException, MethodNotAllowed

# Each role the sweeps act as, by the demo account that has it (None: not signed in).
ROLES = {
    "anonymous": None,
    "supplier editor": "supplier@bright.example",
    "authority editor": "editor@council.example",
    "authority viewer": "viewer@council.example",
    "assessor": "assessor@expert.example",
    "admin": "admin@procure.example",
}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def act_as(app: Flask, client: FlaskClient, role: str):
    """Sign ``client`` in as the demo user with ``role`` through a real server-side session
    (nobody for "anonymous"); returns the user's id."""
    from procure.accounts.models import User
    from procure.accounts.services import start_session
    from procure.db import get_session, utcnow

    email = ROLES[role]
    if email is None:
        return None
    with app.app_context():
        session = get_session()
        user = session.execute(select(User).where(User.email == email)).scalar_one()
        token = start_session(session, user=user, now=utcnow(), mfa=True)
        session.commit()
        user_id = user.id
    with client.session_transaction() as s:
        s["_user_id"] = token
        s["_fresh"] = True
    return user_id


def row_counts(app: Flask) -> dict[str, int]:
    """Every table's number of rows."""
    from procure.db import get_session

    with app.app_context():
        session = get_session()
        tables = [t for t in inspect(session.connection()).get_table_names()
                  if t != "alembic_version"]
        return {t: session.execute(select(func.count()).select_from(text(f'"{t}"'))).scalar_one()
                for t in sorted(tables)}


def audit_actions_since(app: Flask, seq: int) -> list[str]:
    from procure.audit.models import AuditEvent
    from procure.db import get_session

    with app.app_context():
        return list(get_session().execute(select(AuditEvent.action).where(AuditEvent.seq > seq)
                                          .order_by(AuditEvent.seq)).scalars())


def last_audit_seq(app: Flask) -> int:
    from procure.audit.models import AuditEvent
    from procure.db import get_session

    with app.app_context():
        return get_session().execute(select(func.max(AuditEvent.seq))).scalar_one() or 0


def endpoint_of(app: Flask, path: str, method: str = "GET") -> str | None:
    """The endpoint ``path`` reaches with ``method``, or None."""
    adapter = app.url_map.bind("localhost")
    parts = urlsplit(path)
    try:
        endpoint, _args = adapter.match(parts.path, method=method, query_args=parts.query)
    except MethodNotAllowed:
        return None
    except HTTPException:
        return None
    return endpoint


# --- pages and forms ----------------------------------------------------------------------------

@dataclass
class Field:
    name: str
    kind: str  # text, textarea, select, radio, checkbox, hidden, file, password, email, number, date
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    page: str  # the page the form is on
    action: str  # where it posts, a path with its query
    enctype: str = ""
    fields: dict[str, Field] = field(default_factory=dict)

    @property
    def token(self) -> str | None:
        f = self.fields.get("csrf_token")
        return f.value if f else None


class _PageParser(HTMLParser):
    """The links and POST forms of one page."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None
        self.script_srcs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            if a.get("method", "get").lower() == "post":
                action = urljoin(self.page, a.get("action") or self.page)
                self._form = Form(page=self.page, action=action, enctype=a.get("enctype", ""))
                self.forms.append(self._form)
            else:
                self._form = None
        elif self._form is None:
            return
        elif tag in ("input", "button") and a.get("name"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            name = a["name"]
            if kind in ("radio", "checkbox"):
                existing = self._form.fields.setdefault(name, Field(name, kind))
                existing.options.append(a.get("value", "on"))
                if "checked" in a:
                    existing.value = a.get("value", "on")
            elif kind == "submit":
                self._form.fields.setdefault(name, Field(name, "submit", a.get("value", "")))
            else:
                self._form.fields[name] = Field(name, kind, a.get("value", ""))
        elif tag == "select" and a.get("name"):
            self._select = self._form.fields[a["name"]] = Field(a["name"], "select")
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = self._form.fields[a["name"]] = Field(a["name"], "textarea")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data


def parse_page(path: str, html: str) -> tuple[list[str], list[Form]]:
    parser = _PageParser(path)
    parser.feed(html)
    parser.close()
    return parser.links, parser.forms


# Pages a crawl does not follow: switching language, downloads and feeds (the sweeps check them
# separately), and the static files.
_NOT_FOLLOWED = ("/static/", "/assets/", "/data/", "/feeds/", "/api/", "/ocds/")


@dataclass
class Page:
    path: str
    status: int
    mimetype: str
    headers: dict
    html: str  # the body, for HTML pages

    @property
    def is_html(self) -> bool:
        return self.status == 200 and self.mimetype == "text/html"


def fetch(client: FlaskClient, path: str) -> Page:
    with client.get(path) as response:  # downloads are streamed: close the file
        html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        return Page(path, response.status_code, response.mimetype, dict(response.headers), html)


def crawl(app: Flask, client: FlaskClient, *, per_endpoint: int = 3,
          limit: int = 400) -> Iterator[Page]:
    """Every page reachable from the routes without arguments by following links, at most
    ``per_endpoint`` addresses for each endpoint."""
    seeds = sorted(r.rule for r in app.url_map.iter_rules()
                   if "GET" in r.methods and not r.arguments
                   and not r.rule.startswith(_NOT_FOLLOWED))
    queue = list(seeds)
    seen: set[str] = set()
    per: dict[str, int] = {}
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        endpoint = endpoint_of(app, path)
        if endpoint is None or endpoint == "static" or per.get(endpoint, 0) >= per_endpoint:
            continue
        seen.add(path)
        per[endpoint] = per.get(endpoint, 0) + 1
        page = fetch(client, path)
        yield page
        if not page.is_html:
            continue
        links, _forms = parse_page(path, page.html)
        for href in links:
            url = urlsplit(urljoin(path, href))
            if url.scheme or url.netloc or url.path.startswith(_NOT_FOLLOWED):
                continue
            if "lang=" in url.query:
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if target not in seen:
                queue.append(target)
