"""Full-text search of published records, one interface over two engines.

On the embedded default (SQLite) an FTS5 table indexes each record's title and text, ranked by
BM25; on PostgreSQL a stored, generated ``tsvector`` column (``search_vector``: the title
weighted A, the rest B) with a GIN index, ranked by ``ts_rank_cd`` over the stored vector, so
that neither matching nor ranking parses any text at query time. Either way the title counts
more than the rest, every query is a bound parameter, and what the person typed is reduced to
plain words first, so no search syntax (quotes, operators, brackets) ever reaches an engine.

The schema objects are created by the migrations, outside the models (``create_statements`` for
0006, ``vector_statements`` for 0008): ``is_search_object`` tells Alembic's comparison to leave
them alone, and the ORM never loads the vector.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, column, func, literal_column, table, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Session

from procure.record.models import ChallengeRecord
from procure.record.rules import fold

FTS_TABLE = "record_search"
PG_INDEX = "ix_challenge_records_search"
PG_COLUMN = "search_vector"
PG_VECTOR_INDEX = "ix_challenge_records_search_vector"
PG_CONFIG = "english"
MAX_TERMS = 8
MAX_TERM_LENGTH = 40
TITLE_WEIGHT, BODY_WEIGHT = 8.0, 1.0

_WORD = re.compile(r"\w+", re.UNICODE)


def is_search_object(name: str | None) -> bool:
    """Whether a table or index belongs to the search engine rather than to the models."""
    return bool(name) and (name in (PG_INDEX, PG_COLUMN, PG_VECTOR_INDEX)
                           or name.startswith(FTS_TABLE))


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
    # The stored column (migration 0008), never loaded by the ORM.
    return literal_column(f"{ChallengeRecord.__tablename__}.{PG_COLUMN}", type_=TSVECTOR)


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
# Migration 0008: the weighted vector is stored (computed by PostgreSQL when a row is written)
# and indexed, in place of the expression index, which made every ranked search compute
# ``to_tsvector`` again for each matching record.
_PG_WEIGHTED = ("setweight(to_tsvector('english', coalesce(search_title, '')), 'A') || "
                "setweight(to_tsvector('english', coalesce(search_body, '')), 'B')")
_VECTOR = {"postgresql": [
    f"ALTER TABLE challenge_records ADD COLUMN {PG_COLUMN} tsvector "
    f"GENERATED ALWAYS AS ({_PG_WEIGHTED}) STORED",
    f"CREATE INDEX {PG_VECTOR_INDEX} ON challenge_records USING gin ({PG_COLUMN})",
    "DROP INDEX IF EXISTS ix_challenge_records_search"]}
_DROP_VECTOR = {"postgresql": [
    _CREATE["postgresql"][0],
    f"DROP INDEX IF EXISTS {PG_VECTOR_INDEX}",
    f"ALTER TABLE challenge_records DROP COLUMN IF EXISTS {PG_COLUMN}"]}


def create_statements(dialect: str) -> list[str]:
    """The DDL that made the search engine's objects in migration 0006."""
    return list(_CREATE.get(dialect, ()))


def drop_statements(dialect: str) -> list[str]:
    return list(_DROP.get(dialect, ()))


def vector_statements(dialect: str) -> list[str]:
    """Migration 0008's DDL: PostgreSQL's stored search vector and its index (SQLite's FTS5
    table is unchanged)."""
    return list(_VECTOR.get(dialect, ()))


def drop_vector_statements(dialect: str) -> list[str]:
    """Back to 0006: the expression index again, without the stored vector."""
    return list(_DROP_VECTOR.get(dialect, ()))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def index_record(session: Session, record: ChallengeRecord) -> None:
    """Add a newly published record to the index (PostgreSQL computes its stored vector itself;
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
