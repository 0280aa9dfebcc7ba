"""Read-only queries over published records: the catalogue with its search, filters, sorting
and pages; the filters' choices; and the shared-values view across every record.

Each listing is a fixed number of queries whatever the number of records: the page of rows
(plain columns, never the frozen content), the count, and one query per filter's choices."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, load_only
from sqlalchemy.sql import operators

from procure.accounts.models import Organisation
from procure.challenges.models import ChallengeFunder, ChallengeTag, FunderStatus
from procure.record import search
from procure.record.models import ChallengeRecord, RecordCriterion, RecordResult
from procure.record.rules import SORTS, RecordStatus
from procure.values.models import ValueCriterion, ValueFramework

PER_PAGE = 20
MAX_PER_PAGE = 100
# Best match first is decided among at most this many matching records, the most recently
# published: ranking costs a read of each candidate's search vector, so ranking every match
# of a common word would cost time in proportion to the whole record. Beyond them, the
# matches follow newest first. A query with fewer matches has every one ranked.
RANKED_CANDIDATES = 1000
LISTING_COLUMNS = (ChallengeRecord.id, ChallengeRecord.challenge_id, ChallengeRecord.title,
                   ChallengeRecord.title_cy, ChallengeRecord.summary, ChallengeRecord.summary_cy,
                   ChallengeRecord.lead_name, ChallengeRecord.outcome, ChallengeRecord.year,
                   ChallengeRecord.budget_pence, ChallengeRecord.published_at,
                   ChallengeRecord.status)


@dataclass(frozen=True)
class Filters:
    """What the catalogue (and the JSON API, and the CSV) can be narrowed by. ``criterion`` is
    ``<framework code>.<criterion code>`` (every version of the framework), e.g.
    ``wellbeing-goals.healthier``."""

    query: str = ""
    criterion: str = ""
    authority_id: int | None = None
    tag: str = ""
    outcome: str = ""
    year: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.query or self.criterion or self.authority_id or self.tag
                    or self.outcome or self.year)


@dataclass(frozen=True)
class Page:
    items: list[ChallengeRecord]
    total: int
    page: int
    per_page: int
    sort: str
    # When set, the matches were counted no further than one past this: ``total`` is then at
    # most ``count_limit + 1``, and only the first ``count_limit`` matches are offered in pages.
    count_limit: int | None = None

    @property
    def more(self) -> bool:
        """More matches than were counted (show "more than ``count_limit``")."""
        return self.count_limit is not None and self.total > self.count_limit

    @property
    def pages(self) -> int:
        shown = self.total if self.count_limit is None else min(self.total, self.count_limit)
        return max(1, -(-shown // self.per_page))


def published() -> Select:
    return select(ChallengeRecord).where(ChallengeRecord.status == RecordStatus.PUBLISHED)


def _filtered(stmt: Select, filters: Filters) -> Select:
    if filters.criterion:
        framework, _, code = filters.criterion.partition(".")
        stmt = stmt.where(ChallengeRecord.id.in_(
            select(RecordCriterion.record_id)
            .join(ValueCriterion, ValueCriterion.id == RecordCriterion.criterion_id)
            .join(ValueFramework, ValueFramework.id == ValueCriterion.framework_id)
            .where(ValueFramework.code == framework, ValueCriterion.code == code)))
    if filters.authority_id is not None:
        stmt = stmt.where(ChallengeRecord.challenge_id.in_(
            select(ChallengeFunder.challenge_id).where(
                ChallengeFunder.organisation_id == filters.authority_id,
                ChallengeFunder.status == FunderStatus.ACCEPTED)))
    if filters.tag:
        stmt = stmt.where(ChallengeRecord.challenge_id.in_(
            select(ChallengeTag.challenge_id).where(ChallengeTag.tag == filters.tag)))
    if filters.outcome:
        stmt = stmt.where(ChallengeRecord.outcome == filters.outcome)
    if filters.year is not None:
        stmt = stmt.where(ChallengeRecord.year == filters.year)
    return stmt


def _order(sort: str, relevance: Any) -> list[Any]:
    newest = [ChallengeRecord.published_at.desc(), ChallengeRecord.id.desc()]
    match sort:
        case "relevance" if relevance is not None:
            return [relevance, *newest]
        case "oldest":
            return [ChallengeRecord.published_at.asc(), ChallengeRecord.id.asc()]
        case "title":
            return [func.lower(ChallengeRecord.title).asc(), ChallengeRecord.id.asc()]
        case "budget":
            return [ChallengeRecord.budget_pence.desc(), *newest]
    return newest


def catalogue(session: Session, filters: Filters, *, sort: str = "relevance", page: int = 1,
              per_page: int = PER_PAGE, count_limit: int | None = None) -> Page:
    """A page of published records matching ``filters``: best match first when searching
    (``relevance``), otherwise newest first, or as ``sort`` asks.

    The total is exact unless ``count_limit`` is given: then the database counts at most
    ``count_limit + 1`` matches (a common word can match most records, and an exact count
    reads every one of them) and the page says whether there were more (``Page.more``). The
    limit is never below ``RANKED_CANDIDATES``, which the ranking below compares the total with."""
    if count_limit is not None:
        count_limit = max(count_limit, RANKED_CANDIDATES)
    sort = sort if sort in SORTS else "relevance"
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    stmt = _filtered(published(), filters)
    relevance = None
    matched = search.match(session, stmt, filters.query)
    if matched is not None:
        stmt, relevance = matched.statement, matched.order_by
    elif filters.query.strip():
        # Typed, but no word in it (only punctuation): nothing can match.
        return Page(items=[], total=0, page=page, per_page=per_page, sort=sort,
                    count_limit=count_limit)
    if relevance is None and sort == "relevance":
        sort = "newest"
    counted = stmt.with_only_columns(ChallengeRecord.id)
    if count_limit is not None:
        counted = counted.limit(count_limit + 1)
    total = session.execute(select(func.count()).select_from(counted.subquery())).scalar_one()
    offset = (page - 1) * per_page
    order = _order(sort, relevance)
    if sort == "relevance" and total > RANKED_CANDIDATES:
        if offset + per_page <= RANKED_CANDIDATES:
            # The page lies among the candidates: rank only them.
            stmt = stmt.where(ChallengeRecord.id.in_(_candidates(stmt)))
        else:
            order = _ranked_among_newest(stmt, relevance)
    items = list(session.execute(
        stmt.options(load_only(*LISTING_COLUMNS)).order_by(*order)
        .limit(per_page).offset(offset)).scalars())
    return Page(items=items, total=total, page=page, per_page=per_page, sort=sort,
                count_limit=count_limit)


def _newest() -> list[Any]:
    return [ChallengeRecord.published_at.desc(), ChallengeRecord.id.desc()]


def _candidates(stmt: Select) -> Select:
    """The ids of the ``RANKED_CANDIDATES`` most recently published records ``stmt`` finds
    (which the database can read in the order of the published-date index, stopping there,
    without reading every match)."""
    return (stmt.with_only_columns(ChallengeRecord.id).order_by(*_newest())
            .limit(RANKED_CANDIDATES))


def _ranked_among_newest(stmt: Select, relevance: Any) -> list[Any]:
    """The candidates best match first, then every other match newest first."""
    candidate = ChallengeRecord.id.in_(_candidates(stmt))
    rank = case((candidate, relevance.element), else_=None)
    descending = getattr(relevance, "modifier", None) is operators.desc_op
    return [case((candidate, 0), else_=1), rank.desc() if descending else rank.asc(),
            *_newest()]


def stream(session: Session, filters: Filters | None = None, *,
           batch: int = 500) -> Iterator[ChallengeRecord]:
    """Every published record (by id), fetched in batches, so that memory stays flat however
    many there are. Each batch is detached and its transaction ended before the records are
    handed on, so a slow download holds no transaction (nor, on SQLite, the write lock)
    while it waits for the client. The caller must not hold on to them. Full-text search is
    not offered here (``filters.query`` is refused)."""
    filters = filters or Filters()
    if filters.query:
        raise ValueError("stream() does not search; use catalogue()")
    last = 0
    while True:
        rows = list(session.execute(_filtered(published(), filters)
                                    .where(ChallengeRecord.id > last)
                                    .order_by(ChallengeRecord.id).limit(batch)).scalars())
        for row in rows:
            session.expunge(row)
        session.rollback()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


# --- the filters' choices -----------------------------------------------------------------------

@dataclass(frozen=True)
class CriterionChoice:
    key: str            # "<framework>.<criterion>"
    framework_en: str
    framework_cy: str
    name_en: str
    name_cy: str


def criterion_choices(session: Session) -> list[CriterionChoice]:
    """Every criterion of a published framework, grouped by framework (latest version's names)."""
    rows = session.execute(
        select(ValueFramework.code, ValueFramework.version, ValueFramework.name_en,
               ValueFramework.name_cy, ValueCriterion.code, ValueCriterion.name_en,
               ValueCriterion.name_cy)
        .join(ValueCriterion, ValueCriterion.framework_id == ValueFramework.id)
        .where(ValueFramework.status == "published")
        .order_by(ValueFramework.position, ValueFramework.code, ValueFramework.version.desc(),
                  ValueCriterion.position)).all()
    seen: dict[str, CriterionChoice] = {}
    for fw_code, _version, fw_en, fw_cy, code, name_en, name_cy in rows:
        key = f"{fw_code}.{code}"
        if key not in seen:
            seen[key] = CriterionChoice(key, fw_en, fw_cy, name_en, name_cy)
    return list(seen.values())


def _any(statement: Select) -> Any:
    """Whether ``statement`` (correlated to the row around it) finds a row, as a scalar
    subquery with LIMIT 1 rather than EXISTS: PostgreSQL may turn an EXISTS into a join or a
    hashed subplan over every matching row of the big table, whereas this stays one index probe
    that stops at the first match, for each row of the small table it is asked about."""
    return statement.limit(1).scalar_subquery().is_not(None)


def authority_choices(session: Session) -> list[tuple[int, str]]:
    """Authorities that led or co-funded a published record: for each organisation (a small
    table), whether one accepted funding row of it belongs to a published record."""
    funded = _any(select(ChallengeFunder.id)
                  .join(ChallengeRecord,
                        ChallengeRecord.challenge_id == ChallengeFunder.challenge_id)
                  .where(ChallengeFunder.organisation_id == Organisation.id,
                         ChallengeFunder.status == FunderStatus.ACCEPTED,
                         ChallengeRecord.status == RecordStatus.PUBLISHED))
    return [(i, n) for i, n in session.execute(
        select(Organisation.id, Organisation.name).where(funded).order_by(Organisation.name))]


def _distinct_in_index(column: Any, published: Any, limit: int) -> Select:
    """At most ``limit`` distinct values of an indexed ``column``, in order, that a published
    record has (``published(value)``), by a loose index scan: a recursive query that jumps
    from one value to the next in the index, one probe per distinct value (and one to check
    it) rather than a scan of every row."""
    first = select(func.min(column)).scalar_subquery()
    seed = select(first.label("value")).cte("distinct_values", recursive=True)
    following = select(func.min(column)).where(column > seed.c.value).scalar_subquery()
    walk = seed.union_all(select(following.label("value")).where(seed.c.value.is_not(None)))
    return (select(walk.c.value).where(walk.c.value.is_not(None), _any(published(walk.c.value)))
            .order_by(walk.c.value).limit(limit))


def tag_choices(session: Session, limit: int = 200) -> list[str]:
    """The tags of published records, most used first (at most ``limit``), then A–Z.

    The distinct tags are found through the tag index; only when more than ``limit`` of them
    are on published records are the records counted to keep the most used."""
    def published(value: Any) -> Select:
        return (select(ChallengeTag.challenge_id)
                .join(ChallengeRecord, ChallengeRecord.challenge_id == ChallengeTag.challenge_id)
                .where(ChallengeTag.tag == value,
                       ChallengeRecord.status == RecordStatus.PUBLISHED))

    tags = list(session.execute(_distinct_in_index(ChallengeTag.tag, published, limit + 1))
                .scalars())
    if len(tags) <= limit:
        return sorted(tags)  # as Python orders them, whatever the database's collation
    count = func.count(ChallengeTag.challenge_id)
    return sorted(session.execute(
        select(ChallengeTag.tag)
        .join(ChallengeRecord, ChallengeRecord.challenge_id == ChallengeTag.challenge_id)
        .where(ChallengeRecord.status == RecordStatus.PUBLISHED)
        .group_by(ChallengeTag.tag).order_by(count.desc(), ChallengeTag.tag).limit(limit)
    ).scalars())


def year_choices(session: Session) -> list[int]:
    """The years of published records, newest first (through the year index)."""
    record = ChallengeRecord.__table__.alias("published_in_year")

    def published(value: Any) -> Select:
        return select(record.c.id).where(record.c.year == value,
                                         record.c.status == RecordStatus.PUBLISHED)

    return sorted(session.execute(_distinct_in_index(ChallengeRecord.year, published, 10_000))
                  .scalars(), reverse=True)


# --- the shared-values view ---------------------------------------------------------------------

@dataclass
class CriterionUse:
    """One criterion across every published record."""

    key: str
    framework_code: str
    framework_en: str
    framework_cy: str
    code: str
    name_en: str
    name_cy: str
    kind: str
    records: int = 0                         # published records that used it
    phases: int = 0                          # phases that used it
    average_weight: Decimal | None = None    # over the phases that weighted it
    measurements: int = 0                    # verified measurements evidencing it
    average_achievement: Decimal | None = None  # 0…100 %


def _percent(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def shared_values(session: Session) -> list[CriterionUse]:
    """For each criterion of the shared frameworks (every version together): how many published
    records used it, its average weight, and the average verified achievement of the outcome
    measures that evidence it. Three queries, whatever the number of records."""
    uses: dict[str, CriterionUse] = {}
    for choice_row in session.execute(
            select(ValueFramework.code, ValueFramework.name_en, ValueFramework.name_cy,
                   ValueCriterion.code, ValueCriterion.name_en, ValueCriterion.name_cy,
                   ValueCriterion.kind)
            .join(ValueCriterion, ValueCriterion.framework_id == ValueFramework.id)
            .where(ValueFramework.status == "published")
            .order_by(ValueFramework.position, ValueFramework.code, ValueFramework.version.desc(),
                      ValueCriterion.position)):
        fw_code, fw_en, fw_cy, code, name_en, name_cy, kind = choice_row
        key = f"{fw_code}.{code}"
        uses.setdefault(key, CriterionUse(key, fw_code, fw_en, fw_cy, code, name_en, name_cy,
                                          kind))
    key_of = (ValueFramework.code + "." + ValueCriterion.code)
    published_ids = select(ChallengeRecord.id).where(
        ChallengeRecord.status == RecordStatus.PUBLISHED)
    for key, records, phases, weight in session.execute(
            select(key_of, func.count(func.distinct(RecordCriterion.record_id)),
                   func.count(RecordCriterion.id), func.avg(RecordCriterion.weight))
            .join(ValueCriterion, ValueCriterion.id == RecordCriterion.criterion_id)
            .join(ValueFramework, ValueFramework.id == ValueCriterion.framework_id)
            .where(RecordCriterion.record_id.in_(published_ids)).group_by(key_of)):
        if key in uses:
            uses[key].records, uses[key].phases = records, phases
            uses[key].average_weight = _percent(weight)
    for key, count, achievement in session.execute(
            select(key_of, func.count(RecordResult.id), func.avg(RecordResult.achievement))
            .join(ValueCriterion, ValueCriterion.id == RecordResult.criterion_id)
            .join(ValueFramework, ValueFramework.id == ValueCriterion.framework_id)
            .where(RecordResult.record_id.in_(published_ids)).group_by(key_of)):
        if key in uses:
            uses[key].measurements = count
            uses[key].average_achievement = _percent(
                Decimal(achievement) * 100 if achievement is not None else None)
    return list(uses.values())
