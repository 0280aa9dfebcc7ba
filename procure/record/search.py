"""Full-text search of published records, one interface over two engines.

On the embedded default (SQLite) an FTS5 table indexes each record's title and text, ranked by
BM25; on PostgreSQL a GIN expression index over a weighted ``tsvector`` of the same columns,
ranked by ``ts_rank_cd``. Either way the title counts more than the rest, every query is a
bound parameter, and what the person typed is reduced to plain words first, so no search
syntax (quotes, operators, brackets) ever reaches an engine.

The schema objects are created by the migrations (``create_statements``), outside the models:
``is_search_object`` tells Alembic's comparison to leave them alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, column, func, literal_column, table, text
from sqlalchemy.orm import Session

from procure.record.models import ChallengeRecord
from procure.record.rules import fold

FTS_TABLE = "record_search"
PG_INDEX = "ix_challenge_records_search"
PG_CONFIG = "english"
MAX_TERMS = 8
MAX_TERM_LENGTH = 40
TITLE_WEIGHT, BODY_WEIGHT = 8.0, 1.0

_WORD = re.compile(r"\w+", re.UNICODE)


def is_search_object(name: str | None) -> bool:
    """Whether a table or index belongs to the search engine rather than to the models."""
    return bool(name) and (name == PG_INDEX or name.startswith(FTS_TABLE))


def terms(query: str | None) -> list[str]:
    """The words of a query, without accents, lower-cased, each at most 40 characters, at most
    eight of them, without repeats. Pure: anything not a letter or a digit separates words."""
    seen: list[str] = []
    for word in _WORD.findall(fold(query or "").casefold()):
        word = word.strip("_")[:MAX_TERM_LENGTH]
        if word and word not in seen:
            seen.append(word)
        if len(seen) == MAX_TERMS:
            break
    return seen


def _pg_vector() -> Any:
    # Must be the very expression of the index below, or PostgreSQL cannot use the index
    # (constants written in, not bound, so that a generic plan can use it too).
    config, empty = literal_column(f"'{PG_CONFIG}'"), literal_column("''")

    def weighted(column: Any, weight: str) -> Any:
        return func.setweight(func.to_tsvector(config, func.coalesce(column, empty)),
                              literal_column(f"'{weight}'"))

    return weighted(ChallengeRecord.search_title, "A").op("||")(
        weighted(ChallengeRecord.search_body, "B"))


_REBUILD = "INSERT INTO record_search(record_search) VALUES ('rebuild')"
_INSERT = ("INSERT INTO record_search(rowid, search_title, search_body) "
           "VALUES (:id, :title, :body)")
_CREATE = {
    "sqlite": ["CREATE VIRTUAL TABLE record_search USING fts5(search_title, search_body, "
               "content='challenge_records', content_rowid='id', "
               "tokenize='porter unicode61 remove_diacritics 2')", _REBUILD],
    "postgresql": ["CREATE INDEX ix_challenge_records_search ON challenge_records USING gin (("
                   "setweight(to_tsvector('english', coalesce(search_title, '')), 'A') || "
                   "setweight(to_tsvector('english', coalesce(search_body, '')), 'B')))"],
}
_DROP = {"sqlite": ["DROP TABLE IF EXISTS record_search"],
         "postgresql": ["DROP INDEX IF EXISTS ix_challenge_records_search"]}


def create_statements(dialect: str) -> list[str]:
    """The DDL that makes the search engine's objects (run by the migration)."""
    return list(_CREATE.get(dialect, ()))


def drop_statements(dialect: str) -> list[str]:
    return list(_DROP.get(dialect, ()))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def index_record(session: Session, record: ChallengeRecord) -> None:
    """Add a newly published record to the index (PostgreSQL's expression index needs nothing;
    FTS5's external-content table is told of the new row)."""
    if _dialect(session) == "sqlite":
        session.flush()
        session.execute(text(_INSERT), {"id": record.id, "title": record.search_title,
                         "body": record.search_body})


def rebuild(session: Session) -> None:
    """Rebuild the whole index from the records (after a bulk load)."""
    if _dialect(session) == "sqlite":
        session.execute(text(_REBUILD))


@dataclass(frozen=True)
class Match:
    """A statement narrowed to the records that match, and how to order them best first."""

    statement: Select
    order_by: Any


def match(session: Session, statement: Select, query: str | None) -> Match | None:
    """Narrow ``statement`` (over ``ChallengeRecord``) to the records matching every word of
    ``query``, with the relevance ordering; None when the query has no words."""
    words = terms(query)
    if not words:
        return None
    if _dialect(session) == "sqlite":
        fts = table(FTS_TABLE, column("rowid"), column(FTS_TABLE))
        expression = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        narrowed = (statement.join(fts, fts.c.rowid == ChallengeRecord.id)
                    .where(fts.c[FTS_TABLE].op("MATCH")(expression)))
        # bm25 is lower for a better match.
        rank = func.bm25(literal_column(FTS_TABLE), TITLE_WEIGHT, BODY_WEIGHT)
        return Match(narrowed, rank.asc())
    query_vector = func.plainto_tsquery(literal_column(f"'{PG_CONFIG}'"), " ".join(words))
    vector = _pg_vector()
    narrowed = statement.where(vector.op("@@")(query_vector))
    return Match(narrowed, func.ts_rank_cd(vector, query_vector).desc())
