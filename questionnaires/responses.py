"""Responses: open an invitation link, fill in, save with optimistic locking, submit, review.

A response belongs to the supplier organisation. A brand sees it only through an invitation the
supplier linked it to (explicit consent per brand). Submitting freezes a numbered snapshot; the
brand reviews that snapshot, returns it with comments per question or accepts it, and acceptance
turns the snapshot into a `Disclosure`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from questionnaires.campaigns import set_status
from questionnaires.publishing import definition_for
from questionnaires.tokens import hash_token
from supplychain import audit
from supplychain.models import (
    Disclosure,
    Evidence,
    Invitation,
    InvitationStatus,
    InvitationToken,
    QuestionnaireResponse,
    QuestionnaireVersion,
    ResponseStatus,
    ResponseSubmission,
    ReviewComment,
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


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
    if _as_utc(link.expires_at) < utcnow():
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
        and _as_utc(link.expires_at) >= utcnow()
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
    """A new response for this invitation, prefilled from last year's answers where possible."""
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
    invitation.response_id = response.id
    invitation.response = response
    invitation.shared_at = utcnow()
    invitation.shared_by_id = user_id
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
) -> SaveResult:
    """Merge `changes` into the draft if nobody saved in between; audit every changed answer.

    Invalid values are kept in the draft (nothing typed is lost) and reported; submit refuses
    them.
    """
    from questionnaires import validate_answers

    if response.status != ResponseStatus.DRAFT:
        raise ResponseLocked("this response has been submitted and can no longer be edited")
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
    for invitation in _invitations_of(session, response):
        if invitation.status in (
            InvitationStatus.INVITED,
            InvitationStatus.OPENED,
            InvitationStatus.OVERDUE,
        ):
            set_status(session, invitation, InvitationStatus.IN_PROGRESS)
    return SaveResult(
        response.lock_version, validate_answers(definition, merged, locale=locale), changed
    )


def _raise_conflict(session: Session, response: QuestionnaireResponse, changes: dict) -> None:
    session.refresh(response)
    theirs = {k: (response.answers or {}).get(k) for k in changes}
    raise EditConflict(
        "someone else saved this questionnaire after you opened it; review their answers "
        "before saving yours",
        current_lock=response.lock_version,
        theirs=theirs,
        mine=changes,
        by=response.updated_by_id,
    )


def _invitations_of(session: Session, response: QuestionnaireResponse) -> list[Invitation]:
    return list(session.scalars(select(Invitation).where(Invitation.response_id == response.id)))


def submit(
    session: Session, response: QuestionnaireResponse, *, user_id: int | None, locale: str = "en"
) -> ResponseSubmission:
    """Validate everything, freeze a snapshot, lock the response, notify the brands' queues."""
    from questionnaires import validate_answers

    if response.status != ResponseStatus.DRAFT:
        raise ResponseLocked("this response has already been submitted")
    errors = validate_answers(
        definition_of(response), response.answers or {}, locale=locale, for_submit=True
    )
    if errors:
        raise SubmitRefused(errors)
    number = len(response.submissions) + 1
    submission = ResponseSubmission(
        response_id=response.id,
        supplier_id=response.supplier_id,
        number=number,
        answers=json.loads(json.dumps(response.answers)),
        submitted_by_id=user_id,
    )
    session.add(submission)
    response.status = ResponseStatus.SUBMITTED
    session.flush()
    for invitation in _invitations_of(session, response):
        if invitation.status in (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED):
            continue
        invitation.reviewed_submission_id = submission.id
        invitation.submitted_at = utcnow()
        set_status(session, invitation, InvitationStatus.SUBMITTED)
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


def decline(session: Session, invitation: Invitation, *, reason: str, user_id: int | None) -> None:
    if invitation.status in (InvitationStatus.SUBMITTED, InvitationStatus.ACCEPTED):
        raise WrongState("a submitted response cannot be declined", code="decline_submitted")
    set_status(session, invitation, InvitationStatus.DECLINED)
    invitation.decided_at = utcnow()
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
    """The brand sends the submission back with a comment per question; the draft reopens."""
    if invitation.status != InvitationStatus.SUBMITTED:
        raise WrongState("only a submitted response can be returned", code="not_submitted")
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
    invitation.response.status = ResponseStatus.DRAFT
    set_status(session, invitation, InvitationStatus.RETURNED)
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


def accept(session: Session, invitation: Invitation, *, user_id: int | None) -> Disclosure:
    """The brand accepts the submission under review; it becomes this brand's disclosure."""
    from questionnaires import derive_disclosure

    if invitation.status != InvitationStatus.SUBMITTED:
        raise WrongState("only a submitted response can be accepted", code="not_submitted")
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
        allocation_share=_dec(derived.allocation_share, "0.0000000001"),
        allocation_method=derived.allocation_method,
        allocation_uncertainty_pct=_dec(derived.allocation_uncertainty_pct, "0.01"),
        details=derived.details_dict(),
        provenance=derived.provenance,
        submission_id=submission.id,
    )
    session.add(disclosure)
    invitation.decided_at = utcnow()
    set_status(session, invitation, InvitationStatus.ACCEPTED)
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
) -> Evidence:
    """Store an evidence file (type allow-list, sniffed content, random name, checksum)."""
    if response.status != ResponseStatus.DRAFT:
        raise ResponseLocked("this response has been submitted; evidence can no longer change")
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
