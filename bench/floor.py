"""The load benchmark's floor: the least a page of the catalogue can cost on this stack.

A minimal Flask app with SQLAlchemy and Jinja, no features (no sessions, CSRF, translations,
security headers, rate limits or layout): ``GET /`` lists the 20 newest published rows of the
same ``challenge_records`` table the catalogue reads, in a small HTML table. Served by gunicorn
with the same settings as the app (``gunicorn --pythonpath bench floor:app``), reading the
database from ``PROCURE_DATABASE_URL``. Every page of the load benchmark is given as a ratio to
this one, measured in the same run on the same data.
"""

from __future__ import annotations

import os

from flask import Flask, render_template_string
from sqlalchemy import create_engine, text

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Records</title></head>
<body><h1>Published records</h1>
<table>
<tr><th>Challenge</th><th>Title</th><th>Lead</th><th>Outcome</th><th>Year</th><th>Published</th></tr>
{% for row in rows %}<tr><td>{{ row.challenge_id }}</td><td>{{ row.title }}</td>
<td>{{ row.lead_name }}</td><td>{{ row.outcome }}</td><td>{{ row.year }}</td>
<td>{{ row.published_at }}</td></tr>
<tr><td colspan="6">{{ row.summary }}</td></tr>{% endfor %}
</table></body></html>
"""
LIST = text("SELECT id, challenge_id, title, summary, lead_name, outcome, year, published_at "
            "FROM challenge_records WHERE status = 'published' "
            "ORDER BY published_at DESC, id DESC LIMIT 20")

app = Flask(__name__)
engine = create_engine(os.environ["PROCURE_DATABASE_URL"].replace(
    "postgresql://", "postgresql+psycopg://", 1), pool_pre_ping=True)


@app.get("/")
def listing() -> str:
    with engine.connect() as conn:
        rows = conn.execute(LIST).all()
    return render_template_string(PAGE, rows=rows)
