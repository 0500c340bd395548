"""Brand console for campaigns: create, launch, follow, remind, review, accept or return."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select

from questionnaires import campaigns as campaign_service
from questionnaires import responses as response_service
from supplychain.models import (
    Campaign,
    Disclosure,
    Evidence,
    Invitation,
    Organization,
    Questionnaire,
    QuestionnaireVersion,
    ResponseSubmission,
    SupplierRelationship,
    VersionStatus,
)
from supplychain.tenancy import find_by_public_id, get_scoped, maybe_public_id, scoped
from web import get_db, get_settings
from web.auth import BRAND_ROLES, current_org_id, roles_required
from web.errors import describe

bp = Blueprint("campaigns", __name__, url_prefix="/console")


def public_base_url() -> str:
    """The configured address for mailed links; the Host header is the sender's to forge."""
    return current_app.config["BASE_URL"]


def _int_list(raw: str) -> list[int]:
    values = []
    for part in raw.replace("，", ",").split(","):
        part = part.strip()
        if part:
            values.append(int(part))
    return values


@bp.route("/campaigns")
@roles_required(*BRAND_ROLES)
def campaigns():
    rows = (
        get_db()
        .scalars(scoped(Campaign, current_org_id()).order_by(Campaign.created_at.desc()))
        .all()
    )
    stats = {c.id: campaign_service.campaign_stats(get_db(), c) for c in rows}
    return render_template("campaigns/list.html", campaigns=rows, stats=stats)


def _filter_options(db, brand_id: int) -> dict:
    rels = scoped(SupplierRelationship, brand_id)
    categories = sorted(
        {c for c in db.scalars(rels.with_only_columns(SupplierRelationship.category)) if c}
    )
    countries = sorted(
        {
            c
            for c in db.scalars(
                select(Organization.country)
                .join(SupplierRelationship, SupplierRelationship.supplier_id == Organization.id)
                .where(SupplierRelationship.brand_id == brand_id)
            )
            if c
        }
    )
    versions = db.scalars(
        select(QuestionnaireVersion)
        .join(Questionnaire)
        .where(
            QuestionnaireVersion.status == VersionStatus.PUBLISHED,
            or_(Questionnaire.owner_id.is_(None), Questionnaire.owner_id == brand_id),
        )
        # the newest shipped version first: it is the form's pre-selected default
        .order_by(
            Questionnaire.owner_id.is_(None).desc(),
            Questionnaire.key,
            QuestionnaireVersion.version.desc(),
        )
    ).all()
    return {"categories": categories, "countries": countries, "versions": versions}


@bp.route("/campaigns/new", methods=["GET", "POST"])
@roles_required(*BRAND_ROLES)
def new_campaign():
    db = get_db()
    options = _filter_options(db, current_org_id())
    if request.method == "GET":
        return render_template("campaigns/new.html", form={}, **options)
    form = request.form
    try:
        supplier_filter = campaign_service.SupplierFilter(
            tiers=[int(t) for t in form.getlist("tiers")],
            categories=form.getlist("categories"),
            countries=form.getlist("countries"),
            statuses=form.getlist("statuses") or ["active"],
            top_by_spend=int(form["top_by_spend"]) if form.get("top_by_spend") else None,
        )
        version = next(
            (v for v in options["versions"] if v.public_id == maybe_public_id(form.get("version"))),
            None,
        )
        if version is None:
            raise campaign_service.CampaignError(_("Choose a questionnaire."))
        campaign = campaign_service.create_campaign(
            db,
            brand_id=current_org_id(),
            name=form.get("name", ""),
            questionnaire_version=version,
            reporting_year=int(form.get("reporting_year", "")),
            deadline=date.fromisoformat(form.get("deadline", "")),
            supplier_filter=supplier_filter,
            message=form.get("message", ""),
            reminder_days_before=_int_list(form.get("reminders_before", "")),
            reminder_days_after=_int_list(form.get("reminders_after", "")),
            created_by_id=g.user.id,
        )
    except (ValueError, campaign_service.CampaignError) as exc:
        db.rollback()
        flash(_("The campaign could not be created: %(reason)s", reason=str(exc)), "error")
        return render_template("campaigns/new.html", form=form, **options), 400
    db.commit()
    return redirect(url_for("campaigns.campaign_detail", campaign_id=campaign.public_id))


@bp.route("/campaigns/<campaign_id>")
@roles_required(*BRAND_ROLES)
def campaign_detail(campaign_id: str):
    db = get_db()
    campaign = get_scoped(db, Campaign, campaign_id, current_org_id())
    stats = campaign_service.campaign_stats(db, campaign)
    preview = []
    if campaign.status.value == "draft":
        preview = campaign_service.select_suppliers(
            db, campaign.brand_id, campaign_service.SupplierFilter(**campaign.supplier_filter)
        )
    invitations = sorted(campaign.invitations, key=lambda i: i.supplier_relationship.supplier_code)
    return render_template(
        "campaigns/detail.html",
        campaign=campaign,
        stats=stats,
        invitations=invitations,
        preview=preview,
        reminder_dates=campaign_service.reminder_dates(campaign),
    )


@bp.route("/campaigns/<campaign_id>/launch", methods=["POST"])
@roles_required(*BRAND_ROLES)
def launch(campaign_id: str):
    db = get_db()
    campaign = get_scoped(db, Campaign, campaign_id, current_org_id())
    settings = get_settings()
    try:
        result = campaign_service.launch(
            db, settings, campaign, base_url=public_base_url(), actor_id=g.user.id
        )
    except campaign_service.CampaignError as exc:
        db.rollback()
        flash(describe(exc), "error")
        return redirect(url_for("campaigns.campaign_detail", campaign_id=campaign_id))
    db.commit()
    campaign_service.schedule_reminders(settings, campaign, base_url=public_base_url())
    flash(_("%(n)d suppliers invited.", n=len(result.invited)), "info")
    for code, reason in result.skipped:
        flash(_("Not invited: %(code)s (%(reason)s)", code=code, reason=reason), "error")
    return redirect(url_for("campaigns.campaign_detail", campaign_id=campaign_id))


@bp.route("/campaigns/<campaign_id>/remind", methods=["POST"])
@roles_required(*BRAND_ROLES)
def remind(campaign_id: str):
    """The one-click reminder: every supplier that has not responded gets a fresh link."""
    db = get_db()
    campaign = get_scoped(db, Campaign, campaign_id, current_org_id())
    campaign_service.mark_overdue(db, campaign, date.today())
    sent = sum(
        campaign_service.send_reminder(db, get_settings(), i, base_url=public_base_url())
        for i in campaign.invitations
    )
    db.commit()
    flash(_("%(n)d reminders sent.", n=sent), "info")
    return redirect(url_for("campaigns.campaign_detail", campaign_id=campaign_id))


def _invitation(invitation_id: str) -> Invitation:
    return get_scoped(get_db(), Invitation, invitation_id, current_org_id())


@bp.route("/invitations/<invitation_id>/remind", methods=["POST"])
@roles_required(*BRAND_ROLES)
def remind_one(invitation_id: str):
    invitation = _invitation(invitation_id)
    sent = campaign_service.send_reminder(
        get_db(), get_settings(), invitation, base_url=public_base_url()
    )
    get_db().commit()
    flash(_("Reminder sent.") if sent else _("This supplier has already responded."), "info")
    return redirect(url_for("campaigns.campaign_detail", campaign_id=invitation.campaign.public_id))


@bp.route("/invitations/<invitation_id>/revoke", methods=["POST"])
@roles_required(*BRAND_ROLES)
def revoke(invitation_id: str):
    invitation = _invitation(invitation_id)
    campaign_service.revoke(get_db(), invitation, actor_id=g.user.id)
    get_db().commit()
    flash(_("The link was withdrawn."), "info")
    return redirect(url_for("campaigns.campaign_detail", campaign_id=invitation.campaign.public_id))


@bp.route("/invitations/<invitation_id>/reissue", methods=["POST"])
@roles_required(*BRAND_ROLES)
def reissue(invitation_id: str):
    invitation = _invitation(invitation_id)
    campaign_service.reissue_token(
        get_db(), get_settings(), invitation, base_url=public_base_url(), actor_id=g.user.id
    )
    get_db().commit()
    flash(_("A new link was sent to %(email)s.", email=invitation.contact_email), "info")
    return redirect(url_for("campaigns.campaign_detail", campaign_id=invitation.campaign.public_id))


@bp.route("/invitations/<invitation_id>")
@roles_required(*BRAND_ROLES)
def review(invitation_id: str):
    """The brand's review of the submission it was sent, with this brand's comments only.

    Only submitted answers show: the submission under review, the evidence it refers to and
    the history of submissions with what changed between them, never the supplier's draft.
    """
    db = get_db()
    invitation = _invitation(invitation_id)
    submission = (
        db.get(ResponseSubmission, invitation.reviewed_submission_id)
        if invitation.reviewed_submission_id
        else None
    )
    definition = None
    evidence = []
    history = []
    if invitation.response is not None and submission is not None:
        definition = response_service.definition_of(invitation.response)
        evidence = response_service.submitted_evidence(db, submission)
        history = response_service.submission_history(db, invitation, locale=get_locale().language)
    disclosure = db.scalars(
        scoped(Disclosure, current_org_id())
        .where(Disclosure.submission_id == invitation.reviewed_submission_id)
        .order_by(Disclosure.created_at.desc())
    ).first()
    return render_template(
        "campaigns/review.html",
        invitation=invitation,
        submission=submission,
        definition=definition,
        comments=response_service.comments_for(db, invitation),
        evidence=evidence,
        history=history,
        disclosure=disclosure,
    )


@bp.route("/invitations/<invitation_id>/decision", methods=["POST"])
@roles_required(*BRAND_ROLES)
def decide(invitation_id: str):
    db = get_db()
    invitation = _invitation(invitation_id)
    try:
        if request.form.get("decision") == "accept":
            disclosure = response_service.accept(db, invitation, user_id=g.user.id)
            db.commit()
            rescore_brand(disclosure, actor_id=g.user.id)
            flash(_("Accepted. The disclosure is now on record."), "info")
            return redirect(url_for("campaigns.disclosure", disclosure_id=disclosure.public_id))
        comments = {
            key.removeprefix("comment:"): value
            for key, value in request.form.items()
            if key.startswith("comment:")
        }
        response_service.return_for_revision(db, invitation, comments, user_id=g.user.id)
    except response_service.PortalError as exc:
        db.rollback()
        flash(describe(exc), "error")
        return redirect(url_for("campaigns.review", invitation_id=invitation_id))
    db.commit()
    flash(_("Returned to the supplier with your comments."), "info")
    return redirect(url_for("campaigns.review", invitation_id=invitation_id))


def rescore_brand(disclosure: Disclosure, *, actor_id: int | None) -> None:
    """After an accept has committed: re-score the brand for the disclosure's year.

    Runs as a job (inline without Redis); a failure is logged and never undoes the accept.
    """
    from scoring.service import rescore_after_accept

    settings = get_settings()
    rescore_after_accept(
        settings.database_url,
        settings.redis_url,
        brand_id=disclosure.brand_id,
        year=disclosure.reporting_year,
        created_by_id=actor_id,
    )


@bp.route("/evidence/<evidence_id>")
@roles_required(*BRAND_ROLES)
def evidence(evidence_id: str):
    """Evidence is served to a brand only if a submission shared with it refers to the file."""
    db = get_db()
    item = find_by_public_id(db, Evidence, evidence_id)
    if not response_service.evidence_visible_to_brand(db, item, current_org_id()):
        abort(404)
    path = get_settings().uploads_path / "evidence" / item.stored_name
    return send_file(path, as_attachment=True, download_name=item.original_name)


@bp.route("/disclosures/<disclosure_id>")
@roles_required(*BRAND_ROLES)
def disclosure(disclosure_id: str):
    record = get_scoped(get_db(), Disclosure, disclosure_id, current_org_id())
    return render_template("campaigns/disclosure.html", d=record)
