"""The public catalogue of open records, a record's page (and the editors' preview of it),
reusing a record, registering interest in adopting its solution, and the shared-values view."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_number, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from procure.bakeoff.models import AdoptionCheckIn
from procure.challenges.rules import MAX_TAG_LENGTH
from procure.db import get_session, utcnow
from procure.errors import RuleViolation
from procure.extensions import limiter
from procure.forms import add_errors, whole_number
from procure.permissions import Permission, can, require
from procure.record import forms, present, queries, services
from procure.record.blueprint import bp
from procure.record.messages import ERROR_MESSAGES, licence_name
from procure.record.ocds import ocid
from procure.record.rules import SORTS, RecordOutcome

MAX_PAGE = 100_000
# Searching is costly: rate limited per address (429 with Retry-After).
SEARCH_LIMIT = "120 per minute"
# The catalogue counts its matches no further than this ("More than 1,000 records found"): an
# exact count of a common word's matches reads nearly every record.
CATALOGUE_COUNT_LIMIT = 1000


def _lang() -> str:
    return str(get_locale() or "en")


def _printable(text: str | None, limit: int) -> str:
    """Typed text with its control characters dropped and its spaces collapsed."""
    kept = "".join(ch for ch in (text or "")[:limit * 4] if ch.isprintable())
    return " ".join(kept.split())[:limit]


# --- the catalogue ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Search:
    """What the catalogue was asked, once cleaned: anything unknown is dropped."""

    filters: queries.Filters
    sort: str
    page: int

    @property
    def args(self) -> dict[str, Any]:
        """The query string that asks this again (without the page)."""
        f = self.filters
        args = {"q": f.query, "criterion": f.criterion, "authority": f.authority_id,
                "tag": f.tag, "outcome": f.outcome, "year": f.year}
        if self.sort != _default_sort(f):
            args["sort"] = self.sort
        return {k: v for k, v in args.items() if v}


def _default_sort(filters: queries.Filters) -> str:
    return "relevance" if filters.query else "newest"


def _search(args: Mapping[str, str], *, criteria: set[str], authorities: set[int],
            years: set[int]) -> Search:
    query = _printable(args.get("q"), forms.MAX_QUERY)
    criterion = (args.get("criterion") or "").strip()
    authority_id = whole_number(args.get("authority"))
    tag = _printable(args.get("tag"), MAX_TAG_LENGTH).casefold()
    outcome = (args.get("outcome") or "").strip()
    year = whole_number(args.get("year"), limit=9999)
    filters = queries.Filters(
        query=query, criterion=criterion if criterion in criteria else "",
        authority_id=authority_id if authority_id in authorities else None, tag=tag,
        outcome=outcome if outcome in {str(o) for o in RecordOutcome} else "",
        year=year if year in years else None)
    sort = (args.get("sort") or "").strip()
    if sort not in SORTS or (sort == "relevance" and not query):
        sort = _default_sort(filters)
    return Search(filters=filters, sort=sort,
                  page=whole_number(args.get("page"), limit=MAX_PAGE) or 1)


def _page_links(page: int, pages: int, args: dict[str, Any]) -> dict[str, Any]:
    """The GOV.UK pagination component's items: first, last, and the pages around this one."""
    def href(number: int) -> str:
        return url_for("record.catalogue", **args, page=number)

    items: list[dict[str, Any]] = []
    shown = sorted({1, pages, page - 1, page, page + 1} & set(range(1, pages + 1)))
    previous = 0
    for number in shown:
        if number - previous > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": href(number), "current": number == page,
                      "visuallyHiddenText": _("Page %(number)s", number=number)})
        previous = number
    params: dict[str, Any] = {"items": items, "landmarkLabel": _("Pages of open records")}
    if 1 < page <= pages:
        params["previous"] = {"href": href(page - 1),
                              "html": _("Previous<span class=\"govuk-visually-hidden\"> page</span>")}
    if page < pages:
        params["next"] = {"href": href(page + 1),
                          "html": _("Next<span class=\"govuk-visually-hidden\"> page</span>")}
    return params


def _outcome_labels() -> dict[str, tuple[str, str]]:
    return {"awarded": (_("Awarded"), "govuk-tag--green"),
            "no_award": (_("No award"), "govuk-tag--yellow"),
            "cancelled": (_("Cancelled"), "govuk-tag--red")}


def _sort_labels() -> dict[str, str]:
    return {"relevance": _("Best match"), "newest": _("Newest first"),
            "oldest": _("Oldest first"), "title": _("Title (A to Z)"),
            "budget": _("Largest budget first")}


@bp.app_template_global()
def licence_label(code: str, default: str = "") -> Any:
    """A reusable asset's licence named in the reader's language."""
    return licence_name(code, default)


@bp.get("/catalogue")
@limiter.limit(SEARCH_LIMIT)
def catalogue():
    """Every published record: full-text search, filters, sorting and pages."""
    db = get_session()
    lang = _lang()
    criteria = queries.criterion_choices(db)
    authorities = queries.authority_choices(db)
    tags = queries.tag_choices(db)
    years = queries.year_choices(db)
    search = _search(request.args, criteria={c.key for c in criteria},
                     authorities={i for i, _n in authorities}, years=set(years))
    page = queries.catalogue(db, search.filters, sort=search.sort, page=search.page,
                             count_limit=CATALOGUE_COUNT_LIMIT)

    f = search.filters
    form = forms.CatalogueForm(formdata=None, data={
        "q": f.query, "criterion": f.criterion, "authority": str(f.authority_id or ""),
        "tag": f.tag, "outcome": f.outcome, "year": str(f.year or ""), "sort": page.sort})
    form.authority.choices = [("", _("All authorities"))] + [(str(i), n) for i, n in authorities]
    form.tag.choices = [("", _("All tags"))] + [(t, t) for t in tags] + (
        [(f.tag, f.tag)] if f.tag and f.tag not in tags else [])
    outcome_labels = _outcome_labels()
    form.outcome.choices = [("", _("Any outcome"))] + [(k, v[0]) for k, v in outcome_labels.items()]
    form.year.choices = [("", _("Any year"))] + [(str(y), str(y)) for y in years]
    sorts = _sort_labels()
    form.sort.choices = [(s, sorts[s]) for s in SORTS if s != "relevance" or f.query]

    groups: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for c in criteria:
        name = present.pick(c.framework_en, c.framework_cy, lang)
        groups.setdefault(c.key.partition(".")[0], (name, []))[1].append(
            (c.key, present.pick(c.name_en, c.name_cy, lang)))

    args = search.args
    return render_template(
        "record/catalogue.html", form=form, page=page, search=search, filtered=f.active,
        criterion_groups=list(groups.values()), outcome_labels=outcome_labels,
        pagination=_page_links(page.page, page.pages, args) if page.pages > 1 else None,
        beyond_end=page.page > page.pages and page.total > 0,
        first_page=url_for("record.catalogue", **args),
        count_limit=format_number(page.count_limit) if page.more else None)


# --- a record's page --------------------------------------------------------------------------

def _check_ins(challenge_id: int) -> list[AdoptionCheckIn]:
    """The challenge's recorded adoption check-ins, in one query."""
    return list(get_session().execute(
        select(AdoptionCheckIn).where(AdoptionCheckIn.challenge_id == challenge_id,
                                      AdoptionCheckIn.recorded_at.is_not(None))
        .order_by(AdoptionCheckIn.months)).scalars())


def _open_data(challenge_id: int) -> dict[str, str]:
    return {
        "ocds": url_for("api.ocds_record",
                        ocid=ocid(current_app.config["OCID_PREFIX"], challenge_id)),
        "json": url_for("api.get_challenge", challenge_id=challenge_id),
        "csv": url_for("record.catalogue_csv")}


def _record_context(content: Mapping[str, Any], challenge_id: int) -> dict[str, Any]:
    db = get_session()
    return {"view": present.record(content, _lang()),
            "check_ins": present.check_ins(_check_ins(challenge_id), content),
            "reuses": present.reuses(services.reuses(db, challenge_id)),
            "open_data": _open_data(challenge_id), "outcome_labels": _outcome_labels()}


@bp.get("/records/<int:challenge_id>")
def show_record(challenge_id: int):
    """A published record's public page, told from its frozen content."""
    record = services.published_record(get_session(), challenge_id)
    challenge = record.challenge
    return render_template(
        "record/show.html", preview=False,
        can_reuse=can(current_user, Permission.RECORD_REUSE, challenge),
        can_interest=can(current_user, Permission.RECORD_INTEREST, challenge),
        **_record_context(record.content, challenge_id))


@bp.get("/challenges/<int:challenge_id>/record/preview")
@login_required
def preview_record(challenge_id: int):
    """The record as publishing it now would freeze it, for the lead authority's editors."""
    content = services.preview(get_session(), actor=current_user, challenge_id=challenge_id,
                               now=utcnow())
    return render_template("record/show.html", preview=True, can_reuse=False,
                           can_interest=False, **_record_context(content, challenge_id))


# --- reuse and adoption -----------------------------------------------------------------------

@bp.post("/records/<int:challenge_id>/reuse")
@login_required
def reuse_record(challenge_id: int):
    """Start a draft in your authority from a published record."""
    draft = services.reuse_record(get_session(), actor=current_user, challenge_id=challenge_id,
                                  now=utcnow())
    flash(_("Your draft challenge has been started from the open record. Check every part of "
            "it before you publish it."), "success")
    return redirect(url_for("authoring.show_task_list", challenge_id=draft.id))


@bp.route("/records/<int:challenge_id>/interest", methods=["GET", "POST"])
@login_required
def register_interest(challenge_id: int):
    """Tell the lead authority and the winner that your authority would like to adopt the
    winning solution."""
    db = get_session()
    record = services.published_record(db, challenge_id)
    require(current_user, Permission.RECORD_INTEREST, record.challenge)
    form = forms.InterestForm()
    if form.validate_on_submit():
        try:
            services.register_interest(db, actor=current_user, challenge_id=challenge_id,
                                       message=form.message.data or "", now=utcnow())
        except RuleViolation as e:
            db.rollback()
            record = services.published_record(db, challenge_id)
            add_errors(form, e.errors, ERROR_MESSAGES)
        else:
            flash(_("Your interest has been registered. The lead authority and the winning "
                    "supplier have been told, and can reply to you by e-mail."), "success")
            return redirect(url_for("record.show_record", challenge_id=challenge_id))
    organisation_id = current_user.active_membership.organisation_id
    already = next((i for i in record.interests if i.organisation_id == organisation_id), None)
    status = 400 if form.errors else 200
    return render_template("record/interest.html", form=form, already=already,
                           view=present.record(record.content, _lang())), status


# --- the shared-values view -------------------------------------------------------------------

@bp.get("/shared-values")
def shared_values():
    """How often each shared criterion was used across the published records, its average
    weight, and the average verified achievement of the outcome measures evidencing it."""
    frameworks = present.shared_values(queries.shared_values(get_session()), _lang())
    return render_template("record/shared_values.html", frameworks=frameworks)
