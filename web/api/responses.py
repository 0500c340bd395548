"""API for supplier contacts: their organisation's responses, saving answers with optimistic
locking, and submitting. Keys with the `supplier` role, tenant = the supplier organisation.
A key of an account claimed through an invitation reaches only the responses of the live
invitations that account may open, as in the portal.

Starting a response or sharing one with a brand stays in the portal, where the supplier gives
explicit consent per brand.
"""

from __future__ import annotations

from typing import Any

from flask import g, request
from sqlalchemy import select

from questionnaires import claims, validate_answers
from questionnaires import responses as response_service
from questionnaires.model import normalise_locale
from supplychain.models import Invitation, MembershipScope, QuestionnaireResponse
from supplychain.tenancy import NotFound, get_scoped, scoped
from web import get_db
from web.api import schemas
from web.api.core import SUPPLIER_ROLES, Extended, bp, operation, org_id, paginate, user_id

TAG = "responses"


def _reachable_invitations() -> list[Invitation] | None:
    """The invitations a claimed account's key reaches; None for an organisation-wide key."""
    membership = g.api_membership
    if membership.scope == MembershipScope.ORGANIZATION:
        return None
    return claims.reachable_invitations(get_db(), membership)


def _reachable_response_ids() -> set[int] | None:
    invitations = _reachable_invitations()
    if invitations is None:
        return None
    return {i.response_id for i in invitations if i.response_id is not None}


def _response(response_id: str) -> QuestionnaireResponse:
    response = get_scoped(get_db(), QuestionnaireResponse, response_id, org_id())
    reachable = _reachable_response_ids()
    if reachable is not None and response.id not in reachable:
        raise NotFound(response_id)
    return response


def _locale(query: dict[str, Any]) -> str:
    """`?locale=` first, then the Accept-Language header; English otherwise."""
    if query.get("locale"):
        return normalise_locale(query["locale"])
    return normalise_locale(request.accept_languages.best_match(["en", "zh", "zh-CN", "zh-TW"]))


@bp.route("/v1/responses", methods=["GET"])
@operation(
    summary="The supplier organisation's responses",
    tag=TAG,
    roles=SUPPLIER_ROLES,
    query=schemas.PageQuerySchema,
    response=schemas.ResponsePageSchema,
)
def list_responses(query: dict[str, Any]):
    stmt = scoped(QuestionnaireResponse, org_id()).order_by(
        QuestionnaireResponse.reporting_year.desc(), QuestionnaireResponse.id.desc()
    )
    reachable = _reachable_response_ids()
    if reachable is not None:
        stmt = stmt.where(QuestionnaireResponse.id.in_(reachable))
    return paginate(stmt, query)


@bp.route("/v1/responses/<response_id>", methods=["GET"])
@operation(
    summary="One response: answers, lock_version, status and validation messages",
    description="Messages are in `?locale=` (en, zh), else the Accept-Language language.",
    tag=TAG,
    roles=SUPPLIER_ROLES,
    query=schemas.LocaleQuerySchema,
    response=schemas.ResponseDetailSchema,
)
def get_response(response_id: str, query: dict[str, Any]):
    db = get_db()
    response = _response(response_id)
    locale = _locale(query)
    definition = response_service.definition_of(response)
    answers = dict(response.answers or {})
    invitations = db.scalars(
        select(Invitation)
        .where(Invitation.response_id == response.id, Invitation.supplier_id == org_id())
        .order_by(Invitation.id)
    ).all()
    reachable = _reachable_invitations()
    if reachable is not None:
        invitations = [i for i in invitations if i in reachable]
    comments = [
        Extended(comment, brand=invitation.supplier_relationship.brand.name)
        for invitation in invitations
        for comment in response_service.comments_for(db, invitation)
    ]
    return Extended(
        response,
        locale=locale,
        errors=validate_answers(definition, answers, locale=locale),
        submit_errors=validate_answers(definition, answers, locale=locale, for_submit=True),
        invitations=invitations,
        comments=comments,
    )


@bp.route("/v1/responses/<response_id>", methods=["PATCH"])
@operation(
    summary="Save answers against the lock_version they were made on",
    description="Someone else saved in between: 409 `edit_conflict` with `details.theirs` (their "
    "values of the keys you sent) and the current `details.lock_version`; nothing is "
    "overwritten. Invalid values are kept and reported in `errors`. A submitted response: 409 "
    "`response_locked`; every invitation it is shared with declined or withdrawn: 409 "
    "`invitation_declined` or `invitation_withdrawn`.",
    tag=TAG,
    roles=SUPPLIER_ROLES,
    query=schemas.LocaleQuerySchema,
    body=schemas.AnswersPatchSchema,
    response=schemas.SaveResultSchema,
    errors=(409,),
)
def patch_response(response_id: str, query: dict[str, Any], body: dict[str, Any]):
    db = get_db()
    result = response_service.save_answers(
        db,
        _response(response_id),
        body["answers"],
        expected_lock=body["lock_version"],
        user_id=user_id(),
        locale=_locale(query),
    )
    db.commit()
    return result


@bp.route("/v1/responses/<response_id>/submit", methods=["POST"])
@operation(
    summary="Submit the response to every brand it is shared with",
    description="Answers that need attention: 422 `validation_failed` with `details.errors`. "
    "Submitted already (also by a request a moment earlier): 409 `response_locked`; someone "
    "saved while this submit was checked: 409 `edit_conflict`; every invitation declined or "
    "withdrawn: 409 `invitation_declined` or `invitation_withdrawn`. Nothing is stored then.",
    tag=TAG,
    roles=SUPPLIER_ROLES,
    query=schemas.LocaleQuerySchema,
    response=schemas.SubmitResultSchema,
    errors=(409, 422),
)
def submit_response(response_id: str, query: dict[str, Any]):
    db = get_db()
    response = _response(response_id)
    submission = response_service.submit(db, response, user_id=user_id(), locale=_locale(query))
    db.commit()
    return Extended(response, submission=submission)
