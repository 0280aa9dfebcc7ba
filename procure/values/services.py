"""Value framework use cases: loading the shipped seed, reading frameworks, and curating versions.

A published version is never changed: a challenge that pinned one of its criteria keeps
the words it was judged by. Admins change a framework by copying the latest published
version into a draft, editing the draft, and publishing it as the next version.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from procure.audit import services as audit
from procure.errors import InvalidTransition, NotFound, NotPermitted, RuleViolation
from procure.permissions import Permission, can
from procure.values.models import CriterionKind, FrameworkStatus, ValueCriterion, ValueFramework
from procure.values.seed import (
    DESCRIPTION_MAX,
    GUIDANCE_MAX,
    GUIDANCE_POINTS,
    NAME_MAX,
    load_seed_file,
)

_TEXT_FIELDS = ("name_en", "name_cy", "description_en", "description_cy")
_CRITERION_FIELDS = ("code", "kind", "position", *_TEXT_FIELDS, "guidance_en", "guidance_cy")


# --- the shipped seed -----------------------------------------------------------------------

def _seed_content(framework: dict[str, Any]) -> dict[str, Any]:
    return {**{f: framework[f] for f in _TEXT_FIELDS},
            "criteria": [{f: c[f] for f in _CRITERION_FIELDS} for c in framework["criteria"]]}


def _stored_content(framework: ValueFramework) -> dict[str, Any]:
    return {**{f: getattr(framework, f) for f in _TEXT_FIELDS},
            "criteria": [{f: (list(getattr(c, f)) if f.startswith("guidance") else getattr(c, f))
                          for f in _CRITERION_FIELDS} for c in framework.criteria]}


def load_seed(session: Session, *, now: datetime, path: str | Path | None = None) -> dict[str, int]:
    """Add every framework version of the seed file that the database lacks, as published.

    Safe to run again: a version already present with the same content is left alone. A
    version present with different content is refused (ValueError) before anything is
    written: published versions never change, so the seed's version must be bumped.
    """
    seed = load_seed_file(path)
    existing = {
        (f.code, f.version): f
        for f in session.execute(
            select(ValueFramework).where(ValueFramework.code.in_([s["code"] for s in seed]))
            .options(selectinload(ValueFramework.criteria))
        ).scalars()
    }
    to_add = []
    for item in seed:
        stored = existing.get((item["code"], item["version"]))
        if stored is None:
            to_add.append(item)
        elif not stored.is_published:
            raise ValueError(
                f"{item['code']} version {item['version']} is a draft in the database: publish or "
                f"discard it there, or give the seed's framework the next version number")
        elif _stored_content(stored) != _seed_content(item):
            raise ValueError(
                f"{item['code']} version {item['version']} is already loaded with different content; "
                f"published versions never change, so bump the version of {item['code']} in the seed "
                f"file to load the new content")
    for item in to_add:
        framework = ValueFramework(
            code=item["code"], version=item["version"], status=FrameworkStatus.PUBLISHED,
            position=item["position"], created_at=now, published_at=now, published_by_id=None,
            **{f: item[f] for f in _TEXT_FIELDS},
            criteria=[ValueCriterion(**{f: c[f] for f in _CRITERION_FIELDS}) for c in item["criteria"]])
        session.add(framework)
        session.flush()
        audit.record(session, action="values.framework_loaded", subject_type="value_framework",
                     subject_id=framework.id, actor_id=None, now=now,
                     data={"code": framework.code, "version": framework.version,
                           "criteria": len(framework.criteria)})
    session.commit()
    return {"added": len(to_add), "unchanged": len(seed) - len(to_add)}


# --- reading --------------------------------------------------------------------------------

def list_frameworks(session: Session) -> list[ValueFramework]:
    """Every version of every framework: by position, then code, newest version first."""
    return list(session.execute(
        select(ValueFramework)
        .options(selectinload(ValueFramework.criteria))
        .order_by(ValueFramework.position, ValueFramework.code, ValueFramework.version.desc())
    ).scalars())


def get_framework(session: Session, framework_id: int) -> ValueFramework:
    """One framework version with its criteria; NotFound if there is none."""
    framework = session.execute(
        select(ValueFramework).where(ValueFramework.id == framework_id)
        .options(selectinload(ValueFramework.criteria))
    ).scalar_one_or_none()
    if framework is None:
        raise NotFound("value_framework")
    return framework


def framework_versions(session: Session, code: str) -> list[ValueFramework]:
    """Every version of one framework, newest first."""
    return list(session.execute(
        select(ValueFramework).where(ValueFramework.code == code)
        .order_by(ValueFramework.version.desc())
    ).scalars())


def get_criterion(session: Session, criterion_id: int) -> ValueCriterion:
    """One criterion with its framework; NotFound if there is none."""
    criterion = session.execute(
        select(ValueCriterion).where(ValueCriterion.id == criterion_id)
        .options(selectinload(ValueCriterion.framework))
    ).scalar_one_or_none()
    if criterion is None:
        raise NotFound("value_criterion")
    return criterion


def current_frameworks(session: Session) -> list[ValueFramework]:
    """The latest published version of each framework, with its criteria: what challenges choose from."""
    latest = (
        select(ValueFramework.code, func.max(ValueFramework.version).label("version"))
        .where(ValueFramework.status == FrameworkStatus.PUBLISHED)
        .group_by(ValueFramework.code)
        .subquery()
    )
    return list(session.execute(
        select(ValueFramework)
        .join(latest, and_(ValueFramework.code == latest.c.code,
                           ValueFramework.version == latest.c.version))
        .options(selectinload(ValueFramework.criteria))
        .order_by(ValueFramework.position, ValueFramework.code)
    ).scalars())


def criteria_by_ids(session: Session, ids: Iterable[int]) -> dict[int, ValueCriterion]:
    """The criteria of published versions with these ids, by id, each with its framework loaded.

    Ids that do not exist, or that belong to a draft, are simply absent from the answer.
    """
    wanted = {int(i) for i in ids}
    if not wanted:
        return {}
    rows = session.execute(
        select(ValueCriterion).join(ValueCriterion.framework)
        .where(ValueCriterion.id.in_(wanted), ValueFramework.status == FrameworkStatus.PUBLISHED)
        .options(selectinload(ValueCriterion.framework))
    ).scalars()
    return {c.id: c for c in rows}


# --- curating (admins) ----------------------------------------------------------------------

def _require_manager(actor: Any) -> None:
    if not can(actor, Permission.VALUES_MANAGE):
        raise NotPermitted(str(Permission.VALUES_MANAGE))


def _lock_framework(session: Session, framework_id: int) -> ValueFramework:
    framework = session.execute(
        select(ValueFramework).where(ValueFramework.id == framework_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if framework is None:
        raise NotFound("value_framework")
    return framework


def _check_texts(values: dict[str, str]) -> dict[str, str]:
    """Problems with a name/description set, as RuleViolation codes by field."""
    errors = {}
    for lang in ("en", "cy"):
        name = values[f"name_{lang}"]
        if not name:
            errors[f"name_{lang}"] = "name_missing"
        elif len(name) > NAME_MAX:
            errors[f"name_{lang}"] = "name_too_long"
        if len(values[f"description_{lang}"]) > DESCRIPTION_MAX:
            errors[f"description_{lang}"] = "description_too_long"
    return errors


def _clean(text: str | None) -> str:
    return (text or "").strip()


def create_next_version(session: Session, *, actor: Any, code: str, now: datetime) -> ValueFramework:
    """Copy the latest published version of a framework into a new draft, one version up."""
    _require_manager(actor)
    versions = framework_versions(session, code)
    published = [f for f in versions if f.is_published]
    if not published:
        raise NotFound("value_framework")
    if any(not f.is_published for f in versions):
        raise RuleViolation({"framework": "draft_exists"})
    source = get_framework(session, published[0].id)
    draft = ValueFramework(
        code=source.code, version=versions[0].version + 1, status=FrameworkStatus.DRAFT,
        position=source.position, created_at=now, published_at=None, published_by_id=None,
        **{f: getattr(source, f) for f in _TEXT_FIELDS},
        criteria=[ValueCriterion(**{f: (list(getattr(c, f)) if f.startswith("guidance")
                                        else getattr(c, f)) for f in _CRITERION_FIELDS})
                  for c in source.criteria])
    try:
        with session.begin_nested():
            session.add(draft)
    except IntegrityError:  # another admin created the same version at the same moment
        if draft in session:
            session.expunge(draft)
        raise RuleViolation({"framework": "draft_exists"}) from None
    audit.record(session, action="values.version_created", subject_type="value_framework",
                 subject_id=draft.id, actor_id=actor.id, now=now,
                 data={"code": draft.code, "version": draft.version, "from_version": source.version})
    session.commit()
    return draft


def update_framework_text(session: Session, *, actor: Any, framework_id: int, name_en: str,
                          name_cy: str, description_en: str, description_cy: str,
                          now: datetime) -> ValueFramework:
    """Change a draft version's names and descriptions."""
    _require_manager(actor)
    framework = _lock_framework(session, framework_id)
    if framework.is_published:
        raise InvalidTransition(framework.status, "edit")
    values = {"name_en": _clean(name_en), "name_cy": _clean(name_cy),
              "description_en": _clean(description_en), "description_cy": _clean(description_cy)}
    errors = _check_texts(values)
    if errors:
        raise RuleViolation(errors)
    changed = [f for f, v in values.items() if getattr(framework, f) != v]
    if changed:
        for f in changed:
            setattr(framework, f, values[f])
        audit.record(session, action="values.framework_updated", subject_type="value_framework",
                     subject_id=framework.id, actor_id=actor.id, now=now,
                     data={"code": framework.code, "version": framework.version,
                           "fields": ",".join(changed)})
    session.commit()
    return framework


def update_criterion(session: Session, *, actor: Any, criterion_id: int, name_en: str, name_cy: str,
                     description_en: str, description_cy: str, guidance_en: list[str],
                     guidance_cy: list[str], now: datetime) -> ValueCriterion:
    """Change a criterion of a draft version: names, descriptions and guidance for each point.

    Guidance has one entry per score 0-4 for a scored criterion, or fail then pass for a gate.
    """
    _require_manager(actor)
    criterion = session.get(ValueCriterion, criterion_id)
    if criterion is None:
        raise NotFound("value_criterion")
    framework = _lock_framework(session, criterion.framework_id)
    if framework.is_published:
        raise InvalidTransition(framework.status, "edit")
    values: dict[str, Any] = {"name_en": _clean(name_en), "name_cy": _clean(name_cy),
                              "description_en": _clean(description_en),
                              "description_cy": _clean(description_cy)}
    errors = _check_texts(values)
    points = GUIDANCE_POINTS[CriterionKind(criterion.kind)]
    for lang, guidance in (("en", guidance_en), ("cy", guidance_cy)):
        cleaned = [_clean(g) for g in guidance]
        if len(cleaned) != points:
            errors[f"guidance_{lang}"] = "guidance_count"
            continue
        for point, text in enumerate(cleaned):
            if not text:
                errors[f"guidance_{lang}_{point}"] = "guidance_missing"
            elif len(text) > GUIDANCE_MAX:
                errors[f"guidance_{lang}_{point}"] = "guidance_too_long"
        values[f"guidance_{lang}"] = cleaned
    if errors:
        raise RuleViolation(errors)
    changed = [f for f, v in values.items() if getattr(criterion, f) != v]
    if changed:
        for f in changed:
            setattr(criterion, f, values[f])
        audit.record(session, action="values.criterion_updated", subject_type="value_criterion",
                     subject_id=criterion.id, actor_id=actor.id, now=now,
                     data={"framework": framework.code, "version": framework.version,
                           "criterion": criterion.code, "fields": ",".join(changed)})
    session.commit()
    return criterion


def publish_version(session: Session, *, actor: Any, framework_id: int, now: datetime) -> ValueFramework:
    """Publish a draft version: from now on challenges choose from it, and it never changes."""
    _require_manager(actor)
    framework = _lock_framework(session, framework_id)
    if framework.is_published:
        raise InvalidTransition(framework.status, "publish")
    framework.status = FrameworkStatus.PUBLISHED
    framework.published_at = now
    framework.published_by_id = actor.id
    audit.record(session, action="values.version_published", subject_type="value_framework",
                 subject_id=framework.id, actor_id=actor.id, now=now,
                 data={"code": framework.code, "version": framework.version})
    session.commit()
    return framework


def discard_draft(session: Session, *, actor: Any, framework_id: int, now: datetime) -> str:
    """Delete a draft version and its criteria; returns the framework's code."""
    _require_manager(actor)
    framework = _lock_framework(session, framework_id)
    if framework.is_published:
        raise InvalidTransition(framework.status, "discard")
    code, version = framework.code, framework.version
    audit.record(session, action="values.draft_discarded", subject_type="value_framework",
                 subject_id=framework.id, actor_id=actor.id, now=now,
                 data={"code": code, "version": version})
    session.delete(framework)
    session.commit()
    return code
