"""API for campaigns and invitations: create, launch, follow, remind, revoke, re-issue, review,
return and accept. Every call goes through the same services as the brand console.

Invitation links are mailed to suppliers and are never part of an API response.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from questionnaires import campaigns as campaign_service
from questionnaires import responses as response_service
from supplychain.models import (
    Campaign,
    Disclosure,
    Invitation,
    ResponseSubmission,
    VersionStatus,
)
from supplychain.tenancy import NotFound, get_scoped, scoped
from web import get_db, get_settings
from web.api import schemas
from web.api.core import Extended, bp, operation, org_id, paginate, user_id
from web.api.errors import ApiError
from web.api.questionnaires import visible_version
from web.auth import BRAND_ROLES
from web.campaigns import public_base_url, rescore_brand

CAMPAIGNS = "campaigns"
INVITATIONS = "invitations"


def _campaign(campaign_id: str) -> Campaign:
    return get_scoped(get_db(), Campaign, campaign_id, org_id())


def _invitation(invitation_id: str) -> Invitation:
    return get_scoped(get_db(), Invitation, invitation_id, org_id())


def _code(exc: campaign_service.CampaignError, fallback: str) -> str:
    """The service's own code when it names the reason, else a generic one."""
    code = getattr(exc, "code", "campaign_error")
    return fallback if code == "campaign_error" else code


def _with_stats(campaign: Campaign) -> Extended:
    stats = campaign_service.campaign_stats(get_db(), campaign)
    return Extended(
        campaign,
        stats={
            "counts": stats.counts,
            "total": stats.total,
            "response_rate": stats.response_rate,
            "rate_over_time": [{"date": day, "rate": rate} for day, rate in stats.rate_over_time],
            "overdue": stats.overdue,
        },
    )


@bp.route("/v1/campaigns", methods=["GET"])
@operation(
    summary="The brand's campaigns, newest first",
    tag=CAMPAIGNS,
    roles=BRAND_ROLES,
    query=schemas.PageQuerySchema,
    response=schemas.CampaignPageSchema,
)
def list_campaigns(query: dict[str, Any]):
    stmt = scoped(Campaign, org_id()).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    return paginate(stmt, query)


@bp.route("/v1/campaigns", methods=["POST"])
@operation(
    summary="Create a draft campaign (nothing is sent until it is launched)",
    tag=CAMPAIGNS,
    roles=BRAND_ROLES,
    body=schemas.CampaignCreateSchema,
    response=schemas.CampaignDetailSchema,
    status=201,
)
def create_campaign(body: dict[str, Any]):
    db = get_db()
    try:
        version = visible_version(body["questionnaire_version_id"], org_id())
    except NotFound:
        raise ValidationError(
            ["no questionnaire version with this id"], "questionnaire_version_id"
        ) from None
    if version.status != VersionStatus.PUBLISHED:
        raise ValidationError(
            ["only a published questionnaire version can be sent"], "questionnaire_version_id"
        )
    try:
        campaign = campaign_service.create_campaign(
            db,
            brand_id=org_id(),
            name=body["name"],
            questionnaire_version=version,
            reporting_year=body["reporting_year"],
            deadline=body["deadline"],
            supplier_filter=body["supplier_filter"],
            message=body["message"],
            reminder_days_before=body["reminder_days_before"],
            reminder_days_after=body["reminder_days_after"],
            created_by_id=user_id(),
        )
    except campaign_service.CampaignError as exc:
        raise ApiError(400, _code(exc, "invalid_request"), str(exc)) from None
    db.commit()
    return _with_stats(campaign)


@bp.route("/v1/campaigns/<campaign_id>", methods=["GET"])
@operation(
    summary="One campaign with its response statistics",
    tag=CAMPAIGNS,
    roles=BRAND_ROLES,
    response=schemas.CampaignDetailSchema,
)
def get_campaign(campaign_id: str):
    return _with_stats(_campaign(campaign_id))


@bp.route("/v1/campaigns/<campaign_id>/launch", methods=["POST"])
@operation(
    summary="Invite the selected suppliers (links go by mail, never in the response)",
    description="Launching again invites suppliers that match the filter and were not invited "
    "yet. A closed campaign answers 409 `campaign_closed`.",
    tag=CAMPAIGNS,
    roles=BRAND_ROLES,
    response=schemas.LaunchResultSchema,
    errors=(409,),
)
def launch_campaign(campaign_id: str):
    db = get_db()
    campaign = _campaign(campaign_id)
    settings = get_settings()
    try:
        result = campaign_service.launch(
            db, settings, campaign, base_url=public_base_url(), actor_id=user_id()
        )
    except campaign_service.CampaignError as exc:
        raise ApiError(409, _code(exc, "wrong_state"), str(exc)) from None
    db.commit()
    campaign_service.schedule_reminders(settings, campaign, base_url=public_base_url())
    return {
        "invited": len(result.invited),
        "skipped": [{"supplier_code": code, "reason": why} for code, why in result.skipped],
        "campaign": campaign,
    }


@bp.route("/v1/campaigns/<campaign_id>/invitations", methods=["GET"])
@operation(
    summary="The campaign's invitations",
    tag=CAMPAIGNS,
    roles=BRAND_ROLES,
    query=schemas.PageQuerySchema,
    response=schemas.InvitationPageSchema,
)
def list_invitations(campaign_id: str, query: dict[str, Any]):
    campaign = _campaign(campaign_id)
    stmt = (
        scoped(Invitation, org_id())
        .where(Invitation.campaign_id == campaign.id)
        .order_by(Invitation.id)
    )
    return paginate(stmt, query)


@bp.route("/v1/invitations/<invitation_id>", methods=["GET"])
@operation(
    summary="One invitation: status, the submission under review, this brand's comments",
    tag=INVITATIONS,
    roles=BRAND_ROLES,
    response=schemas.InvitationDetailSchema,
)
def get_invitation(invitation_id: str):
    return _detail(_invitation(invitation_id))


def _detail(invitation: Invitation) -> Extended:
    db = get_db()
    submission = (
        db.get(ResponseSubmission, invitation.reviewed_submission_id)
        if invitation.reviewed_submission_id
        else None
    )
    disclosure = None
    if submission is not None:
        disclosure = db.scalars(
            scoped(Disclosure, org_id())
            .where(Disclosure.submission_id == submission.id)
            .order_by(Disclosure.created_at.desc())
        ).first()
    return Extended(
        invitation,
        submission=submission,
        comments=response_service.comments_for(db, invitation),
        disclosure_id=disclosure.public_id if disclosure is not None else None,
    )


@bp.route("/v1/invitations/<invitation_id>/remind", methods=["POST"])
@operation(
    summary="Remind the supplier now (a new link is mailed; earlier links keep working)",
    tag=INVITATIONS,
    roles=BRAND_ROLES,
    response=schemas.RemindResultSchema,
)
def remind_invitation(invitation_id: str):
    db = get_db()
    invitation = _invitation(invitation_id)
    sent = campaign_service.send_reminder(
        db, get_settings(), invitation, base_url=public_base_url()
    )
    db.commit()
    return {"sent": sent, "invitation": invitation}


@bp.route("/v1/invitations/<invitation_id>/revoke", methods=["POST"])
@operation(
    summary="Withdraw the invitation's links (they stop working at once)",
    tag=INVITATIONS,
    roles=BRAND_ROLES,
    response=schemas.InvitationSchema,
)
def revoke_invitation(invitation_id: str):
    db = get_db()
    invitation = _invitation(invitation_id)
    campaign_service.revoke(db, invitation, actor_id=user_id())
    db.commit()
    return invitation


@bp.route("/v1/invitations/<invitation_id>/reissue", methods=["POST"])
@operation(
    summary="Mail a new link that replaces all earlier ones",
    tag=INVITATIONS,
    roles=BRAND_ROLES,
    response=schemas.InvitationSchema,
)
def reissue_invitation(invitation_id: str):
    db = get_db()
    invitation = _invitation(invitation_id)
    campaign_service.reissue_token(
        db, get_settings(), invitation, base_url=public_base_url(), actor_id=user_id()
    )
    db.commit()
    return invitation


@bp.route("/v1/invitations/<invitation_id>/return", methods=["POST"])
@operation(
    summary="Return the submission for revision with comments per question",
    description="Only a submitted response can be returned (409 `not_submitted`); unknown "
    "question keys answer 400 `unknown_question`, empty comments 400 `comment_required`.",
    tag=INVITATIONS,
    roles=BRAND_ROLES,
    body=schemas.ReturnBodySchema,
    response=schemas.InvitationDetailSchema,
    errors=(409,),
)
def return_invitation(invitation_id: str, body: dict[str, Any]):
    db = get_db()
    invitation = _invitation(invitation_id)
    response_service.return_for_revision(db, invitation, body["comments"], user_id=user_id())
    db.commit()
    return _detail(invitation)


@bp.route("/v1/invitations/<invitation_id>/accept", methods=["POST"])
@operation(
    summary="Accept the submission under review; it becomes the brand's disclosure",
    tag=INVITATIONS,
    roles=BRAND_ROLES,
    response=schemas.DisclosureSchema,
    status=201,
    errors=(409,),
)
def accept_invitation(invitation_id: str):
    db = get_db()
    disclosure = response_service.accept(db, _invitation(invitation_id), user_id=user_id())
    db.commit()
    rescore_brand(disclosure, actor_id=user_id())
    return disclosure
