"""Open-record use cases: the editors' lessons and reusable assets, the preview, asking for
publication and the publication job that freezes the record, reusing a record as a new draft,
and registering interest in adopting the winning solution.

Each service loads what it needs, checks the actor's permission again with ``can()``, applies
the pure rules, writes the audit event and the outbox messages and commits, or changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from procure.accounts.models import User
from procure.assessment.models import Decision
from procure.audit import services as audit
from procure.bakeoff.models import AwardContract, BakeOffEntrant
from procure.challenges import recipients
from procure.challenges.lifecycle import ChallengeAction, ChallengeStatus, next_status
from procure.challenges.models import (
    Challenge,
    ChallengeFunder,
    ChallengeTag,
    FunderRole,
    FunderStatus,
    OutcomeMeasure,
    Phase,
    PhaseCriterion,
)
from procure.challenges.services import load_challenge
from procure.errors import InvalidTransition, NotFound, NotPermitted, RuleViolation
from procure.jobs import enqueue_after_commit
from procure.notifications.services import external_url
from procure.permissions import Permission, can
from procure.record import compose, rules, search
from procure.record.models import (
    AdoptionInterest,
    ChallengeRecord,
    RecordAsset,
    RecordCriterion,
    RecordResult,
)
from procure.record.rules import RecordStatus
from procure.submissions.services import _organisation_members

log = logging.getLogger(__name__)

PUBLISH_TASK = "procure.record.publish"
# A queued publication whose job has not run after this long is run by the sweeper.
SWEEP_AFTER = timedelta(minutes=2)
MAX_ATTEMPTS = 5
MAX_MESSAGE = 2_000


def _text(value: str | None) -> str:
    return (value or "").replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _audit(session: Session, challenge_id: int, action: str, actor: Any, now: datetime,
           **data: Any) -> None:
    audit.record(session, action=action, subject_type="challenge", subject_id=challenge_id,
                 actor_id=getattr(actor, "id", None), now=now, data=data or None)


def _commit(session: Session) -> None:
    try:
        session.commit()
    except Exception:
        session.rollback()
        raise


def _locked(session: Session, challenge_id: int) -> Challenge:
    """The challenge and its record as they are now, row-locked in that order (the challenge,
    then the record — the job takes them in the same order). What the session already held
    (read by the view before the lock was taken) is read again, so that a decision is never
    made on a state another transaction has since changed."""
    session.expire_all()
    challenge = load_challenge(session, challenge_id, lock=True)
    if challenge.record is not None:
        session.refresh(challenge.record, with_for_update=True)
    return challenge


def _authorised(session: Session, actor: Any, permission: Permission, challenge_id: int, *,
                lock: bool = True) -> Challenge:
    """The challenge (row-locked with its record), 404 if the actor may not know of it, 403 if
    not theirs."""
    challenge = _locked(session, challenge_id) if lock else load_challenge(session, challenge_id)
    if not can(actor, Permission.CHALLENGE_VIEW, challenge):
        raise NotFound("challenge")
    if permission == Permission.RECORD_EDIT:
        require_editable(actor, challenge)
    elif not can(actor, permission, challenge):
        raise NotPermitted(str(permission))
    return challenge


def require_editable(actor: Any, challenge: Challenge) -> None:
    """Refuse a change to the record: 409 (InvalidTransition) for a lead editor once the record
    is queued or published — the state, not the person, forbids it — else 403."""
    if can(actor, Permission.RECORD_EDIT, challenge):
        return
    record = challenge.record
    membership = getattr(actor, "active_membership", None)
    if (record is not None and record.status in (RecordStatus.QUEUED, RecordStatus.PUBLISHED)
            and can(actor, Permission.RECORD_PREPARE, challenge)
            and membership is not None and membership.role == "editor"):
        raise InvalidTransition(record.status, "edit")
    raise NotPermitted(str(Permission.RECORD_EDIT))


def _draft(session: Session, challenge: Challenge, now: datetime) -> ChallengeRecord:
    """The challenge's record, started as a draft the first time the editors touch it."""
    record = challenge.record
    if record is None:
        record = ChallengeRecord(challenge_id=challenge.id, status=RecordStatus.DRAFT,
                                 created_at=now, updated_at=now)
        session.add(record)
        challenge.record = record
        session.flush()
    return record


# --- reading ------------------------------------------------------------------------------------

def editing(session: Session, *, actor: Any, challenge_id: int) -> Challenge:
    """The challenge whose record the actor is writing (its ``record`` may not exist yet)."""
    challenge = load_challenge(session, challenge_id)
    if not can(actor, Permission.CHALLENGE_VIEW, challenge):
        raise NotFound("challenge")
    if not can(actor, Permission.RECORD_PREPARE, challenge):
        raise NotPermitted(str(Permission.RECORD_PREPARE))
    return challenge


def preview(session: Session, *, actor: Any, challenge_id: int, now: datetime) -> dict[str, Any]:
    """The record exactly as publishing it now would freeze it; nothing is saved."""
    challenge = _authorised(session, actor, Permission.RECORD_EDIT, challenge_id, lock=False)
    record = challenge.record or ChallengeRecord(challenge_id=challenge.id, lessons_worked="",
                                                 lessons_not_worked="")
    return compose.compose(session, challenge, record, now=now)


def published_record(session: Session, challenge_id: int) -> ChallengeRecord:
    """A published record; NotFound for anything else."""
    record = session.execute(
        select(ChallengeRecord).where(ChallengeRecord.challenge_id == challenge_id,
                                      ChallengeRecord.status == RecordStatus.PUBLISHED)
    ).scalar_one_or_none()
    if record is None:
        raise NotFound("record")
    return record


# --- the editors' draft -----------------------------------------------------------------------

def save_lessons(session: Session, *, actor: Any, challenge_id: int, worked: str,
                 not_worked: str, now: datetime) -> ChallengeRecord:
    """Save what worked and what did not; either may be left for later."""
    challenge = _authorised(session, actor, Permission.RECORD_EDIT, challenge_id)
    worked, not_worked = _text(worked), _text(not_worked)
    problems = rules.lesson_problems(worked, not_worked)
    if problems:
        raise RuleViolation(problems)
    record = _draft(session, challenge, now)
    changed = [name for name, value in (("lessons_worked", worked),
                                        ("lessons_not_worked", not_worked))
               if getattr(record, name) != value]
    record.lessons_worked, record.lessons_not_worked = worked, not_worked
    record.updated_at = now
    if changed:
        _audit(session, challenge.id, "record.lessons_saved", actor, now, fields=changed)
    _commit(session)
    return record


def add_asset(session: Session, *, actor: Any, challenge_id: int, title: str, url: str,
              licence: str, description: str, now: datetime) -> RecordAsset:
    """List something another authority can reuse: what it is, where, under which licence."""
    challenge = _authorised(session, actor, Permission.RECORD_EDIT, challenge_id)
    title, url, description = _text(title), _text(url), _text(description)
    licence = (licence or "").strip()
    record = _draft(session, challenge, now)
    problems = rules.asset_problems(title, url, licence, description, len(record.assets))
    if problems:
        raise RuleViolation(problems)
    asset = RecordAsset(title=title, url=url, licence=licence, description=description,
                        position=max((a.position for a in record.assets), default=0) + 1)
    record.assets.append(asset)
    record.updated_at = now
    session.flush()
    _audit(session, challenge.id, "record.asset_added", actor, now, asset=asset.id, url=url,
           licence=licence)
    _commit(session)
    return asset


def remove_asset(session: Session, *, actor: Any, challenge_id: int, asset_id: int,
                 now: datetime) -> None:
    """Take an asset off the list."""
    challenge = _authorised(session, actor, Permission.RECORD_EDIT, challenge_id)
    record = challenge.record
    asset = next((a for a in record.assets if a.id == asset_id), None) if record else None
    if asset is None:
        raise NotFound("asset")
    record.assets.remove(asset)
    record.updated_at = now
    _audit(session, challenge.id, "record.asset_removed", actor, now, asset=asset_id)
    _commit(session)


# --- publication --------------------------------------------------------------------------------

def request_publication(session: Session, *, actor: Any, challenge_id: int,
                        now: datetime) -> ChallengeRecord:
    """Ask for the record to be published: the job freezes it in the background. Asking twice
    (two editors at once) publishes once: the second finds it queued and is refused."""
    challenge = _locked(session, challenge_id)
    if not can(actor, Permission.CHALLENGE_VIEW, challenge):
        raise NotFound("challenge")
    # Only the lead's members learn that it is already queued or published.
    if not can(actor, Permission.RECORD_PREPARE, challenge):
        raise NotPermitted(str(Permission.RECORD_PUBLISH))
    record = challenge.record
    if record is not None and record.status in (RecordStatus.QUEUED, RecordStatus.PUBLISHED):
        raise InvalidTransition(record.status, "publish")
    if not can(actor, Permission.RECORD_PUBLISH, challenge):
        raise NotPermitted(str(Permission.RECORD_PUBLISH))
    record = _draft(session, challenge, now)
    problems = rules.readiness(record.lessons_worked, record.lessons_not_worked)
    if problems:
        raise RuleViolation(problems)
    record.status = RecordStatus.QUEUED
    record.requested_at = record.updated_at = now
    record.requested_by_id = actor.id
    # Asked again after a failure: the job gets all its tries again.
    record.failure, record.attempts = "", 0
    _audit(session, challenge.id, "record.publication_requested", actor, now)
    enqueue_after_commit(session, PUBLISH_TASK, record.id)
    _commit(session)
    return record


def _load_for_publication(session: Session, challenge_id: int) -> Challenge:
    challenge = load_challenge(session, challenge_id)
    # Everything the record reads, in a fixed number of queries.
    session.execute(select(Phase).where(Phase.challenge_id == challenge_id).options(
        selectinload(Phase.entrants).selectinload(BakeOffEntrant.reports),
        selectinload(Phase.entrants).selectinload(BakeOffEntrant.organisation))).all()
    session.execute(select(Decision).join(Phase).where(Phase.challenge_id == challenge_id)
                    .options(selectinload(Decision.contracts)
                             .selectinload(AwardContract.organisation))).all()
    return challenge


def _notify_published(session: Session, challenge: Challenge, content: dict[str, Any],
                      now: datetime) -> None:
    url = external_url("record.show_record", challenge_id=challenge.id)
    people: list[User] = []
    for funder in challenge.accepted_funders:
        people += recipients.editors_of(session, funder.organisation_id)
    for organisation_id in sorted(compose.named_organisations(challenge.phases)):
        people += _organisation_members(session, organisation_id)
    recipients.tell(session, people, key=f"record_published:{challenge.id}",
                    template="record_published", challenge=challenge, now=now, record_url=url)


def publish_record(session: Session, record_id: int, *, now: datetime) -> bool:
    """The publication job: freeze the record, index it, publish the challenge and tell its
    funders and named suppliers. Safe to run twice: only a queued record is published."""
    challenge_id = session.execute(select(ChallengeRecord.challenge_id)
                                   .where(ChallengeRecord.id == record_id)).scalar_one_or_none()
    if challenge_id is None:
        session.rollback()
        return False
    # The locks in the editors' order (challenge, then record), so the two never deadlock.
    record = _locked(session, challenge_id).record
    if record is None or record.id != record_id or record.status != RecordStatus.QUEUED:
        session.rollback()
        return False
    try:
        challenge = _load_for_publication(session, challenge_id)
        if not rules.publishable(challenge.status, challenge.opened_at is not None):
            raise InvalidTransition(challenge.status, "publish_record")
        content = compose.compose(session, challenge, record, now=now)
        _freeze(session, challenge, record, content, now)
        _audit(session, challenge.id, "record.published", None, now,
               sha256=record.content_sha256, outcome=record.outcome)
        _notify_published(session, challenge, content, now)
        session.commit()
    except Exception as error:  # the job must leave the record in a state the page can show
        session.rollback()
        log.exception("publishing the record of challenge %s failed", challenge_id)
        _fail(session, record_id, error, now)
        return False
    return True


def _freeze(session: Session, challenge: Challenge, record: ChallengeRecord,
            content: dict[str, Any], now: datetime) -> None:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    record.content = content
    record.content_sha256 = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    record.outcome = content["outcome"]
    ended = challenge.cancelled_at or challenge.concluded_at or now
    record.year = ended.year
    record.title, record.title_cy = challenge.title, challenge.title_cy
    record.summary, record.summary_cy = challenge.summary, challenge.summary_cy
    record.lead_name = challenge.lead_organisation.name
    record.budget_pence = content["budget_pence"]
    record.search_title, record.search_body = rules.search_text(content)
    record.status = RecordStatus.PUBLISHED
    record.published_at = record.updated_at = now
    for phase in content["phases"]:
        for c in phase["criteria"]:
            session.add(RecordCriterion(record_id=record.id, phase_position=phase["position"],
                                        criterion_id=c["criterion_id"], weight=c["weight"]))
    for measure_id, criterion_id, achievement in compose.achievements(content):
        session.add(RecordResult(record_id=record.id, measure_id=measure_id,
                                 criterion_id=criterion_id, achievement=achievement))
    if challenge.status == ChallengeStatus.CONCLUDED:
        challenge.status = next_status(challenge.status, ChallengeAction.PUBLISH_RECORD)
    challenge.published_at = challenge.updated_at = now
    session.flush()
    search.index_record(session, record)


def _fail(session: Session, record_id: int, error: Exception, now: datetime) -> None:
    record = session.get(ChallengeRecord, record_id, with_for_update=True)
    if record is None or record.status != RecordStatus.QUEUED:
        session.rollback()
        return
    record.attempts += 1
    record.failure = type(error).__name__
    if record.attempts >= MAX_ATTEMPTS or isinstance(error, InvalidTransition):
        record.status = RecordStatus.FAILED
    record.updated_at = now
    _audit(session, record.challenge_id, "record.publication_failed", None, now,
           error=record.failure, attempts=record.attempts)
    session.commit()


def sweep_publications(session: Session, *, now: datetime) -> int:
    """Publish the queued records whose job was lost (the broker was down, a worker died)."""
    ids = list(session.execute(
        select(ChallengeRecord.id).where(ChallengeRecord.status == RecordStatus.QUEUED,
                                         ChallengeRecord.requested_at <= now - SWEEP_AFTER)
        .order_by(ChallengeRecord.id).limit(100)).scalars())
    session.rollback()
    return sum(1 for record_id in ids if publish_record(session, record_id, now=now))


# --- reuse and adoption -------------------------------------------------------------------------

def reuse_record(session: Session, *, actor: Any, challenge_id: int, now: datetime) -> Challenge:
    """Start a draft in the actor's authority from a published record: the problem, the tags,
    the phases with their criteria, weights and outcome measures — linked "derived from"."""
    original = load_challenge(session, challenge_id)
    if not can(actor, Permission.RECORD_REUSE, original):
        if original.record is None or original.record.status != RecordStatus.PUBLISHED:
            raise NotFound("record")
        raise NotPermitted(str(Permission.RECORD_REUSE))
    organisation_id = actor.active_membership.organisation_id
    draft = Challenge(
        lead_organisation_id=organisation_id, created_by_id=actor.id,
        status=ChallengeStatus.DRAFT, title=original.title, title_cy=original.title_cy,
        summary=original.summary, summary_cy=original.summary_cy,
        problem_statement=original.problem_statement, context=original.context,
        affected=original.affected, outcomes_sought=original.outcomes_sought,
        contact_name=actor.name, contact_email=actor.email, version=1,
        created_at=now, updated_at=now, derived_from_id=original.id)
    draft.funders.append(ChallengeFunder(
        organisation_id=organisation_id, role=FunderRole.LEAD, status=FunderStatus.ACCEPTED,
        pledge_pence=0, created_at=now, decided_at=now))
    draft.tags = [ChallengeTag(tag=t) for t in original.tag_names]
    for phase in original.phases:
        copy = Phase(position=phase.position, kind=phase.kind, status="planned",
                     contracts=phase.contracts, max_value_pence=phase.max_value_pence,
                     duration_months=phase.duration_months,
                     min_assessments=phase.min_assessments,
                     threshold_percent=phase.threshold_percent,
                     outcome_share_percent=phase.outcome_share_percent)
        copy.criteria = [PhaseCriterion(criterion_id=pc.criterion_id, weight=pc.weight,
                                        position=pc.position) for pc in phase.criteria]
        copy.measures = [OutcomeMeasure(position=m.position, name=m.name, unit=m.unit,
                                        direction=m.direction, baseline=m.baseline,
                                        target=m.target, criterion_id=m.criterion_id,
                                        weight=m.weight) for m in phase.measures]
        draft.phases.append(copy)
    session.add(draft)
    session.flush()
    audit.record(session, action="challenge.created", subject_type="challenge",
                 subject_id=draft.id, actor_id=actor.id, now=now,
                 data={"derived_from": original.id})
    _audit(session, original.id, "record.reused", actor, now, draft=draft.id,
           organisation=organisation_id)
    _commit(session)
    return draft


def reuses(session: Session, challenge_id: int) -> list[tuple[int, str]]:
    """(challenge id, authority name) of every challenge derived from this one, oldest first.
    The authority is named only once its challenge has been opened to the public: a draft in
    preparation is counted, but who is preparing it is theirs to say ("" for those)."""
    from procure.accounts.models import Organisation

    return [(cid, name if opened is not None else "") for cid, name, opened in session.execute(
        select(Challenge.id, Organisation.name, Challenge.opened_at)
        .join(Organisation, Organisation.id == Challenge.lead_organisation_id)
        .where(Challenge.derived_from_id == challenge_id).order_by(Challenge.id))]


def register_interest(session: Session, *, actor: Any, challenge_id: int, message: str,
                      now: datetime) -> AdoptionInterest:
    """An authority would like to adopt the winning solution: the original authority and the
    winner are told (once per authority)."""
    challenge = load_challenge(session, challenge_id)
    if not can(actor, Permission.RECORD_INTEREST, challenge):
        if challenge.record is None or challenge.record.status != RecordStatus.PUBLISHED:
            raise NotFound("record")
        raise NotPermitted(str(Permission.RECORD_INTEREST))
    message = _text(message)
    if len(message) > MAX_MESSAGE:
        raise RuleViolation({"message": "interest_message_too_long"})
    record = challenge.record
    organisation = actor.active_membership.organisation
    interest = AdoptionInterest(record_id=record.id, organisation_id=organisation.id,
                                user_id=actor.id, message=message, created_at=now)
    try:
        with session.begin_nested():
            session.add(interest)
    except IntegrityError:
        session.rollback()
        raise RuleViolation({"message": "interest_already_registered"}) from None
    winners = sorted({c["organisation_id"] for p in record.content["phases"]
                      for c in p["contracts"]})
    people = recipients.editors_of(session, challenge.lead_organisation_id)
    for organisation_id in winners:
        people += _organisation_members(session, organisation_id)
    recipients.tell(session, people, key=f"adoption_interest:{interest.id}",
                    template="adoption_interest", challenge=challenge, now=now,
                    interested=organisation.name, contact_name=actor.name,
                    contact_email=actor.email, message=message,
                    record_url=external_url("record.show_record", challenge_id=challenge.id))
    _audit(session, challenge.id, "record.adoption_interest", actor, now,
           organisation=organisation.id)
    _commit(session)
    return interest
