"""Responses: open an invitation link, fill in, save with optimistic locking, submit, review.

A response belongs to the supplier organisation. A brand sees it only through an invitation the
supplier linked it to (explicit consent per brand). Submitting freezes a numbered snapshot; the
brand reviews that snapshot, returns it with comments per question or accepts it, and acceptance
turns the snapshot into a `Disclosure`.

Every once-only change (submit, accept, return, decline) is one conditional UPDATE whose row count
decides who won, so two requests at the same moment cannot both apply it. Rows are always locked
in the same order, the response before its invitations, so these updates cannot deadlock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from questionnaires.campaigns import set_status
from questionnaires.publishing import definition_for
from questionnaires.submission_diff import AnswerChange, diff_answers
from questionnaires.tokens import hash_token
from supplychain import audit
from supplychain.models import (
    Disclosure,
    Evidence,
    Invitation,
    InvitationEvent,
    InvitationStatus,
    InvitationToken,
    QuestionnaireResponse,
    QuestionnaireVersion,
    ResponseStatus,
    ResponseSubmission,
    ReviewComment,
    User,
    as_utc,
    utcnow,
)
from supplychain.uploads import store_upload

EVIDENCE_TYPES = {"pdf", "png", "jpeg", "xlsx", "csv"}


class PortalError(ValueError):
    """A refusal the supplier or brand user can act on; `code` is stable for the API and lets
    the web layer show the message in the user's language."""

    code = "portal_error"

    def __init__(self, message: str, *, code: str | None = None, **params):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.params = params


class TokenInvalid(PortalError):
    code = "token_invalid"


class TokenExpired(PortalError):
    code = "token_expired"


class TokenRevoked(PortalError):
    code = "token_revoked"


class ResponseLocked(PortalError):
    code = "response_locked"


class WrongState(PortalError):
    code = "wrong_state"


class EditConflict(PortalError):
    """Someone else saved since this editor loaded the page; nothing of theirs is overwritten."""

    code = "edit_conflict"

    def __init__(
        self, message: str, *, current_lock: int, theirs: dict, mine: dict, by: int | None
    ):
        super().__init__(message)
        self.current_lock = current_lock
        self.theirs = theirs
        self.mine = mine
        self.by = by


class SubmitRefused(PortalError):
    code = "validation_failed"

    def __init__(self, errors: list):
        super().__init__(f"{len(errors)} answer(s) need attention before submitting")
        self.errors = errors


def invitation_for_token(session: Session, token: str) -> Invitation:
    """The invitation a link token opens, or a refusal that says why."""
    link = session.scalars(
        select(InvitationToken).where(InvitationToken.token_hash == hash_token(token))
    ).first()
    if link is None:
        raise TokenInvalid("this link is not valid; check that it was copied completely")
    invitation = session.get(Invitation, link.invitation_id)
    if invitation.revoked_at is not None or link.revoked_at is not None:
        raise TokenRevoked("this link has been withdrawn; ask your customer for a new one")
    if as_utc(link.expires_at) < utcnow():
        raise TokenExpired("this link has expired; ask your customer for a new one")
    return invitation


def link_is_valid(session: Session, invitation: Invitation, token_hash: str) -> bool:
    """Re-checked on every portal request, so a withdrawn link stops working at once."""
    link = session.scalars(
        select(InvitationToken).where(
            InvitationToken.token_hash == token_hash,
            InvitationToken.invitation_id == invitation.id,
        )
    ).first()
    return (
        link is not None
        and link.revoked_at is None
        and invitation.revoked_at is None
        and as_utc(link.expires_at) >= utcnow()
    )


def mark_opened(session: Session, invitation: Invitation) -> None:
    if invitation.opened_at is None:
        invitation.opened_at = utcnow()
    if invitation.status == InvitationStatus.INVITED:
        set_status(session, invitation, InvitationStatus.OPENED)


def shareable_response(session: Session, invitation: Invitation) -> QuestionnaireResponse | None:
    """An existing response of this supplier to the same version and year, made for another
    brand, which the supplier may choose to share with this one."""
    if invitation.response_id is not None:
        return None
    campaign = invitation.campaign
    return session.scalars(
        select(QuestionnaireResponse).where(
            QuestionnaireResponse.supplier_id == invitation.supplier_id,
            QuestionnaireResponse.questionnaire_version_id == campaign.questionnaire_version_id,
            QuestionnaireResponse.reporting_year == campaign.reporting_year,
        )
    ).first()


def share_response(
    session: Session, invitation: Invitation, response: QuestionnaireResponse, *, user_id: int
) -> None:
    """Explicit consent: the supplier shares one response with this invitation's brand."""
    if response.supplier_id != invitation.supplier_id:
        raise PortalError(
            "a response can only be shared by the supplier that owns it", code="not_owner"
        )
    campaign = invitation.campaign
    if (response.questionnaire_version_id, response.reporting_year) != (
        campaign.questionnaire_version_id,
        campaign.reporting_year,
    ):
        raise PortalError(
            "that response answers a different questionnaire version or year",
            code="share_mismatch",
        )
    invitation.response_id = response.id
    invitation.shared_at = utcnow()
    invitation.shared_by_id = user_id
    if response.status == ResponseStatus.SUBMITTED and response.submissions:
        invitation.reviewed_submission_id = response.submissions[-1].id
        invitation.submitted_at = utcnow()
        set_status(session, invitation, InvitationStatus.SUBMITTED)
    audit.record(
        session,
        action="response.shared",
        entity_type="response",
        entity_id=str(response.public_id),
        organization_id=invitation.supplier_id,
        actor_id=user_id,
        after={"brand_id": invitation.brand_id, "invitation": str(invitation.public_id)},
    )


def start_response(
    session: Session, invitation: Invitation, *, user_id: int | None
) -> QuestionnaireResponse:
    """A new response for this invitation, prefilled from last year's answers where possible.

    Linking it is a conditional UPDATE: of two starts at the same moment the first one's
    response is kept and the second request drops its own copy and returns that one.
    """
    if invitation.response_id is not None:
        return invitation.response
    campaign = invitation.campaign
    version = campaign.questionnaire_version
    response = QuestionnaireResponse(
        supplier_id=invitation.supplier_id,
        questionnaire_version_id=version.id,
        reporting_year=campaign.reporting_year,
        answers=_prefill(session, invitation.supplier_id, version, campaign.reporting_year),
        status=ResponseStatus.DRAFT,
        lock_version=1,
        updated_by_id=user_id,
    )
    session.add(response)
    session.flush()
    linked = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.response_id.is_(None))
        .values(response_id=response.id, shared_at=utcnow(), shared_by_id=user_id)
        .execution_options(synchronize_session=False)
    )
    if linked.rowcount != 1:
        session.delete(response)
        session.flush()
        session.refresh(invitation)
        return invitation.response
    session.expire(invitation, ["response_id", "response", "shared_at", "shared_by_id"])
    return response


def _prefill(
    session: Session, supplier_id: int, version: QuestionnaireVersion, year: int
) -> dict[str, Any]:
    """Carry over the supplier's latest earlier answers to the same questionnaire."""
    from questionnaires import carry_over_answers

    previous = session.scalars(
        select(QuestionnaireResponse)
        .join(QuestionnaireVersion)
        .where(
            QuestionnaireResponse.supplier_id == supplier_id,
            QuestionnaireVersion.questionnaire_id == version.questionnaire_id,
            QuestionnaireResponse.reporting_year < year,
        )
        .order_by(QuestionnaireResponse.reporting_year.desc())
    ).first()
    if previous is None:
        return {}
    return carry_over_answers(
        previous.answers,
        definition_for(previous.questionnaire_version),
        definition_for(version),
    )


def definition_of(response: QuestionnaireResponse):
    return definition_for(response.questionnaire_version)


@dataclass
class SaveResult:
    lock_version: int
    errors: list
    changed: list[str]


def save_answers(
    session: Session,
    response: QuestionnaireResponse,
    changes: dict[str, Any],
    *,
    expected_lock: int,
    user_id: int | None,
    locale: str = "en",
    invitation: Invitation | None = None,
) -> SaveResult:
    """Merge `changes` into the draft if nobody saved in between; audit every changed answer.

    Invalid values are kept in the draft (nothing typed is lost) and reported; submit refuses
    them. `invitation` is the one the supplier works through (the portal); it must still be
    open, see :func:`ensure_open`.
    """
    from questionnaires import validate_answers

    if response.status != ResponseStatus.DRAFT:
        raise _locked()
    ensure_open(session, response, invitation=invitation)
    definition = definition_of(response)
    unknown = [key for key in changes if not definition.has_question(key)]
    if unknown:
        names = ", ".join(sorted(unknown))
        raise PortalError(f"unknown question(s): {names}", code="unknown_question", keys=names)
    before = dict(response.answers or {})
    merged = {**before, **changes}
    merged = {k: v for k, v in merged.items() if v is not None and v != ""}
    changed = sorted(k for k in set(before) | set(merged) if before.get(k) != merged.get(k))
    if not changed:
        if expected_lock != response.lock_version:
            _raise_conflict(session, response, changes)
        return SaveResult(
            response.lock_version, validate_answers(definition, merged, locale=locale), []
        )
    result = session.execute(
        update(QuestionnaireResponse)
        .where(
            QuestionnaireResponse.id == response.id,
            QuestionnaireResponse.status == ResponseStatus.DRAFT,
            QuestionnaireResponse.lock_version == expected_lock,
        )
        .values(
            answers=merged,
            lock_version=expected_lock + 1,
            updated_at=utcnow(),
            updated_by_id=user_id,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        _raise_conflict(session, response, changes)
    session.refresh(response)
    invitations = ensure_open(session, response, invitation=invitation, lock=True)
    for key in changed:
        audit.record(
            session,
            action="answer.changed",
            entity_type="response",
            entity_id=str(response.public_id),
            organization_id=response.supplier_id,
            actor_id=user_id,
            before={key: before.get(key)},
            after={key: merged.get(key)},
        )
    for shared in invitations:
        if shared.status in (
            InvitationStatus.INVITED,
            InvitationStatus.OPENED,
            InvitationStatus.OVERDUE,
        ):
            set_status(session, shared, InvitationStatus.IN_PROGRESS)
    return SaveResult(
        response.lock_version, validate_answers(definition, merged, locale=locale), changed
    )


def _raise_conflict(session: Session, response: QuestionnaireResponse, changes: dict) -> None:
    session.refresh(response)
    if response.status != ResponseStatus.DRAFT:
        raise _locked()
    theirs = {k: (response.answers or {}).get(k) for k in changes}
    raise EditConflict(
        "someone else saved this questionnaire after you opened it; review their answers "
        "before saving yours",
        current_lock=response.lock_version,
        theirs=theirs,
        mine=changes,
        by=response.updated_by_id,
    )


def _locked() -> ResponseLocked:
    return ResponseLocked("this response has been submitted and can no longer be edited")


def _closed_refusal(invitation: Invitation) -> WrongState | None:
    """Why this invitation's brand takes no more answers, or None while it is open."""
    if invitation.status == InvitationStatus.DECLINED:
        return WrongState(
            "this invitation was declined; answers can no longer be saved or submitted",
            code="invitation_declined",
        )
    if invitation.revoked_at is not None:
        return WrongState(
            "this invitation has been withdrawn; answers can no longer be saved or submitted",
            code="invitation_withdrawn",
        )
    return None


def ensure_open(
    session: Session,
    response: QuestionnaireResponse,
    *,
    invitation: Invitation | None = None,
    lock: bool = False,
) -> list[Invitation]:
    """Refuse changes no brand could receive; return the response's invitations.

    Working through an invitation (the portal), that invitation must be neither declined nor
    withdrawn; without one (the API), at least one invitation the response is shared with must
    be open. With `lock`, used after the response row is updated, the invitations are re-read
    under a row lock, so a decline committed meanwhile is seen and one arriving later waits.
    """
    stmt = select(Invitation).where(Invitation.response_id == response.id).order_by(Invitation.id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    invitations = list(session.scalars(stmt))
    if invitation is not None:
        refusal = _closed_refusal(invitation)
        if refusal is not None:
            raise refusal
        return invitations
    refusals = [_closed_refusal(i) for i in invitations]
    if not invitations:
        raise WrongState("this response is not shared with any customer", code="not_shared")
    if all(refusals):
        raise refusals[0]
    return invitations


def _transition(
    session: Session,
    invitation: Invitation,
    to: InvitationStatus,
    *,
    allowed: tuple[InvitationStatus, ...],
    where: tuple = (),
    **values: Any,
) -> bool:
    """Move the invitation to `to` in one conditional UPDATE, only from an `allowed` status.

    False, with the invitation re-read, when another request changed it first: the row count
    decides, so two requests at the same moment cannot both apply a once-only change.
    """
    result = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.status.in_(allowed), *where)
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(invitation)
        return False
    session.expire(invitation, ["status", *values])
    session.add(InvitationEvent(invitation_id=invitation.id, status=to))
    return True


def submit(
    session: Session,
    response: QuestionnaireResponse,
    *,
    user_id: int | None,
    locale: str = "en",
    invitation: Invitation | None = None,
) -> ResponseSubmission:
    """Validate everything, freeze a snapshot, lock the response, notify the brands' queues.

    The draft becomes submitted in one conditional UPDATE that also requires the lock_version
    whose answers were validated: of two submits at once only one goes on (the other gets
    `ResponseLocked`), and a save landing in between is refused rather than slipping
    unvalidated answers into the snapshot.
    """
    from questionnaires import validate_answers

    if response.status != ResponseStatus.DRAFT:
        raise ResponseLocked("this response has already been submitted")
    ensure_open(session, response, invitation=invitation)
    answers = json.loads(json.dumps(response.answers or {}))
    errors = validate_answers(definition_of(response), answers, locale=locale, for_submit=True)
    if errors:
        raise SubmitRefused(errors)
    validated_lock = response.lock_version
    result = session.execute(
        update(QuestionnaireResponse)
        .where(
            QuestionnaireResponse.id == response.id,
            QuestionnaireResponse.status == ResponseStatus.DRAFT,
            QuestionnaireResponse.lock_version == validated_lock,
        )
        .values(
            status=ResponseStatus.SUBMITTED,
            lock_version=validated_lock + 1,
            updated_at=utcnow(),
            updated_by_id=user_id,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(response)
    if result.rowcount != 1:
        if response.status != ResponseStatus.DRAFT:
            raise ResponseLocked("this response has already been submitted")
        raise EditConflict(
            "someone saved this questionnaire while you were submitting; review the answers "
            "and submit again",
            current_lock=response.lock_version,
            theirs={},
            mine={},
            by=response.updated_by_id,
        )
    invitations = ensure_open(session, response, invitation=invitation, lock=True)
    number = (
        session.scalar(
            select(func.max(ResponseSubmission.number)).where(
                ResponseSubmission.response_id == response.id
            )
        )
        or 0
    ) + 1
    submission = ResponseSubmission(
        response_id=response.id,
        supplier_id=response.supplier_id,
        number=number,
        answers=answers,
        submitted_by_id=user_id,
    )
    session.add(submission)
    session.flush()
    for shared in invitations:
        if _closed_refusal(shared) is not None or shared.status == InvitationStatus.ACCEPTED:
            continue
        shared.reviewed_submission_id = submission.id
        shared.submitted_at = utcnow()
        set_status(session, shared, InvitationStatus.SUBMITTED)
    audit.record(
        session,
        action="response.submitted",
        entity_type="response",
        entity_id=str(response.public_id),
        organization_id=response.supplier_id,
        actor_id=user_id,
        after={"submission": number},
    )
    return submission


DECLINABLE = (
    InvitationStatus.INVITED,
    InvitationStatus.OPENED,
    InvitationStatus.IN_PROGRESS,
    InvitationStatus.RETURNED,
    InvitationStatus.OVERDUE,
)


def decline(session: Session, invitation: Invitation, *, reason: str, user_id: int | None) -> None:
    """The supplier says no to this invitation, once; a submitted response cannot be declined."""
    if invitation.status not in DECLINABLE or not _transition(
        session,
        invitation,
        InvitationStatus.DECLINED,
        allowed=DECLINABLE,
        decided_at=utcnow(),
    ):
        if invitation.status == InvitationStatus.DECLINED:
            raise WrongState("this invitation has already been declined", code="already_declined")
        raise WrongState("a submitted response cannot be declined", code="decline_submitted")
    audit.record(
        session,
        action="invitation.declined",
        entity_type="invitation",
        entity_id=str(invitation.public_id),
        organization_id=invitation.brand_id,
        actor_id=user_id,
        after={"reason": reason},
    )


def return_for_revision(
    session: Session, invitation: Invitation, comments: dict[str, str], *, user_id: int | None
) -> list[ReviewComment]:
    """The brand sends the submission back with a comment per question; the draft reopens.

    The response row is written first (the lock order every change here keeps), then the
    invitation leaves `submitted` in a conditional UPDATE, so a second return or an accept at
    the same moment is refused.
    """
    if invitation.status != InvitationStatus.SUBMITTED:
        raise _not_under_review(invitation, "only a submitted response can be returned")
    comments = {k: v.strip() for k, v in comments.items() if v and v.strip()}
    if not comments:
        raise PortalError(
            "say what needs to change: add a comment to at least one question",
            code="comment_required",
        )
    definition = definition_of(invitation.response)
    unknown = [k for k in comments if k != "_general" and not definition.has_question(k)]
    if unknown:
        names = ", ".join(sorted(unknown))
        raise PortalError(f"unknown question(s): {names}", code="unknown_question", keys=names)
    invitation.response.status = ResponseStatus.DRAFT
    session.flush()
    if not _transition(
        session,
        invitation,
        InvitationStatus.RETURNED,
        allowed=(InvitationStatus.SUBMITTED,),
        where=(Invitation.reviewed_submission_id == invitation.reviewed_submission_id,),
    ):
        raise _not_under_review(invitation, "only a submitted response can be returned")
    created = [
        ReviewComment(
            invitation_id=invitation.id,
            brand_id=invitation.brand_id,
            submission_id=invitation.reviewed_submission_id,
            question_key=key,
            body=body,
            author_id=user_id,
        )
        for key, body in comments.items()
    ]
    session.add_all(created)
    audit.record(
        session,
        action="response.returned",
        entity_type="invitation",
        entity_id=str(invitation.public_id),
        organization_id=invitation.brand_id,
        actor_id=user_id,
        after={"questions": sorted(comments)},
    )
    return created


def comments_for(session: Session, invitation: Invitation) -> list[ReviewComment]:
    """This brand's comments on this invitation only; other brands' comments never show."""
    return list(
        session.scalars(
            select(ReviewComment)
            .where(
                ReviewComment.invitation_id == invitation.id,
                ReviewComment.brand_id == invitation.brand_id,
            )
            .order_by(ReviewComment.created_at)
        )
    )


@dataclass
class SubmissionEntry:
    """One submission as a brand's review lists it, with what changed since the one before."""

    submission: ResponseSubmission
    submitted_by: str | None
    changes: list[AnswerChange] | None


def submission_history(
    session: Session, invitation: Invitation, *, locale: str
) -> list[SubmissionEntry]:
    """The submissions this invitation's brand received, newest first; drafts never show.

    The history starts at the first submission the brand received (at submit time, or the
    one current when the supplier shared the response with it) and ends at the one under its
    review; what the supplier submitted to other brands before or after stays with them.
    """
    if invitation.reviewed_submission_id is None or invitation.response is None:
        return []
    reviewed = session.get(ResponseSubmission, invitation.reviewed_submission_id)
    first_received = session.scalar(
        select(func.min(InvitationEvent.occurred_at)).where(
            InvitationEvent.invitation_id == invitation.id,
            InvitationEvent.status == InvitationStatus.SUBMITTED,
        )
    )
    submissions = list(
        session.scalars(
            select(ResponseSubmission)
            .where(
                ResponseSubmission.response_id == invitation.response_id,
                ResponseSubmission.number <= reviewed.number,
            )
            .order_by(ResponseSubmission.number)
        )
    )
    if first_received is not None:
        earlier = [s for s in submissions if as_utc(s.submitted_at) <= as_utc(first_received)]
        if earlier:
            submissions = submissions[submissions.index(earlier[-1]) :]
    names = {
        user.id: user.display_name
        for user in session.scalars(
            select(User).where(User.id.in_({s.submitted_by_id for s in submissions}))
        )
    }
    definition = definition_of(invitation.response)
    entries = []
    for index, submission in enumerate(submissions):
        changes = None
        if index > 0:
            changes = diff_answers(
                definition, submissions[index - 1].answers, submission.answers, locale=locale
            )
        entries.append(SubmissionEntry(submission, names.get(submission.submitted_by_id), changes))
    return entries[::-1]


def submitted_evidence(session: Session, submission: ResponseSubmission) -> list[Evidence]:
    """The evidence files a submission refers to; files uploaded to a later draft stay out."""
    ids = set()
    for file_id in _file_ids(submission.answers):
        try:
            ids.add(uuid.UUID(str(file_id)))
        except ValueError:
            continue
    if not ids:
        return []
    return list(
        session.scalars(
            select(Evidence)
            .where(Evidence.response_id == submission.response_id, Evidence.public_id.in_(ids))
            .order_by(Evidence.id)
        )
    )


def evidence_visible_to_brand(session: Session, evidence: Evidence, brand_id: int) -> bool:
    """A brand may download a file only if a submission it received refers to it.

    Files the supplier uploaded to a later, unsubmitted draft stay private, like the draft.
    """
    invitations = session.scalars(
        select(Invitation).where(
            Invitation.response_id == evidence.response_id,
            Invitation.brand_id == brand_id,
            Invitation.shared_at.is_not(None),
            Invitation.reviewed_submission_id.is_not(None),
        )
    ).all()
    for invitation in invitations:
        reviewed = session.get(ResponseSubmission, invitation.reviewed_submission_id)
        received = session.scalars(
            select(ResponseSubmission).where(
                ResponseSubmission.response_id == evidence.response_id,
                ResponseSubmission.number <= reviewed.number,
            )
        )
        if any(str(evidence.public_id) in map(str, _file_ids(s.answers)) for s in received):
            return True
    return False


def _file_ids(value: Any) -> Iterator[Any]:
    """Every `file_id` in an answer set, however deep (file answers may sit in table rows)."""
    if isinstance(value, dict):
        if "file_id" in value:
            yield value["file_id"]
        for item in value.values():
            yield from _file_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _file_ids(item)


def accept(session: Session, invitation: Invitation, *, user_id: int | None) -> Disclosure:
    """The brand accepts the submission under review; it becomes this brand's disclosure."""
    from questionnaires import derive_disclosure

    if invitation.status != InvitationStatus.SUBMITTED or not _transition(
        session,
        invitation,
        InvitationStatus.ACCEPTED,
        allowed=(InvitationStatus.SUBMITTED,),
        where=(Invitation.reviewed_submission_id == invitation.reviewed_submission_id,),
        decided_at=utcnow(),
    ):
        raise _not_under_review(invitation, "only a submitted response can be accepted")
    submission = session.get(ResponseSubmission, invitation.reviewed_submission_id)
    response = invitation.response
    version = response.questionnaire_version
    ref = {
        "response": str(response.public_id),
        "submission": submission.number,
        "questionnaire": version.questionnaire.key,
        "questionnaire_version": version.version,
    }
    derived = derive_disclosure(definition_of(response), submission.answers, response_ref=ref)
    disclosure = Disclosure(
        brand_id=invitation.brand_id,
        supplier_id=invitation.supplier_id,
        reporting_year=derived.reporting_year or invitation.campaign.reporting_year,
        source="questionnaire",
        source_ref=f"submission:{submission.public_id}",
        scope1_kg=_dec(derived.scope1_kg),
        scope2_location_kg=_dec(derived.scope2_location_kg),
        scope2_market_kg=_dec(derived.scope2_market_kg),
        scope3_upstream_kg=_dec(derived.scope3_upstream_kg),
        revenue=_dec(derived.revenue, "0.01"),
        revenue_currency=derived.revenue_currency,
        revenue_year=derived.revenue_year,
        purchased_spend=_dec(derived.purchased_spend, "0.01"),
        purchased_currency=derived.purchased_currency,
        purchased_naics=derived.purchased_naics,
        allocation_share=_dec(derived.allocation_share, "0.0000000001"),
        allocation_method=derived.allocation_method,
        allocation_uncertainty_pct=_dec(derived.allocation_uncertainty_pct, "0.01"),
        details=derived.details_dict(),
        provenance=derived.provenance,
        submission_id=submission.id,
    )
    session.add(disclosure)
    session.flush()
    audit.record(
        session,
        action="response.accepted",
        entity_type="invitation",
        entity_id=str(invitation.public_id),
        organization_id=invitation.brand_id,
        actor_id=user_id,
        after={"submission": submission.number, "disclosure": str(disclosure.public_id)},
    )
    return disclosure


def _not_under_review(invitation: Invitation, message: str) -> WrongState:
    """The refusal for accepting or returning a submission that is no longer under review."""
    if invitation.status == InvitationStatus.ACCEPTED:
        return WrongState("this submission has already been accepted", code="already_accepted")
    return WrongState(message, code="not_submitted")


def _dec(value, quantum: str = "0.001") -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal(quantum))


def add_evidence(
    session: Session,
    response: QuestionnaireResponse,
    *,
    question_key: str,
    stream: BinaryIO,
    filename: str,
    folder: Path,
    max_bytes: int,
    user_id: int | None,
    invitation: Invitation | None = None,
) -> Evidence:
    """Store an evidence file (type allow-list, sniffed content, random name, checksum)."""
    if response.status != ResponseStatus.DRAFT:
        raise ResponseLocked("this response has been submitted; evidence can no longer change")
    ensure_open(session, response, invitation=invitation)
    if not definition_of(response).has_question(question_key):
        raise PortalError(
            f"unknown question: {question_key}", code="unknown_question", keys=question_key
        )
    stored = store_upload(stream, filename, folder, allowed=EVIDENCE_TYPES, max_bytes=max_bytes)
    evidence = Evidence(
        response_id=response.id,
        supplier_id=response.supplier_id,
        question_key=question_key,
        original_name=stored.original_name,
        stored_name=stored.path.name,
        content_type=stored.kind,
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by_id=user_id,
    )
    session.add(evidence)
    session.flush()
    audit.record(
        session,
        action="evidence.uploaded",
        entity_type="response",
        entity_id=str(response.public_id),
        organization_id=response.supplier_id,
        actor_id=user_id,
        after={"question": question_key, "file": stored.original_name, "sha256": stored.sha256},
    )
    return evidence
