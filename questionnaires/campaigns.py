"""Campaigns and invitations: choose suppliers, issue links, remind, and follow the response rate.

Mail bodies are bilingual (Chinese first, then English): the recipient's language is not known
until they open the link.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from questionnaires.tokens import new_token
from supplychain import audit
from supplychain.config import Settings
from supplychain.mail import send_mail
from supplychain.models import (
    Campaign,
    CampaignStatus,
    Invitation,
    InvitationEvent,
    InvitationStatus,
    InvitationToken,
    Organization,
    QuestionnaireVersion,
    RelationshipStatus,
    SupplierRelationship,
    VersionStatus,
    utcnow,
)
from supplychain.tenancy import scoped

log = logging.getLogger(__name__)
TOKEN_VALID_AFTER_DEADLINE = timedelta(days=90)
OPEN_STATUSES = (
    InvitationStatus.INVITED,
    InvitationStatus.OPENED,
    InvitationStatus.IN_PROGRESS,
    InvitationStatus.RETURNED,
    InvitationStatus.OVERDUE,
)
RESPONDED = (InvitationStatus.SUBMITTED, InvitationStatus.ACCEPTED, InvitationStatus.RETURNED)


class CampaignError(ValueError):
    """A campaign request that cannot be carried out, with a message saying why."""

    def __init__(self, message: str, code: str = "campaign_error"):
        super().__init__(message)
        self.code = code


@dataclass
class SupplierFilter:
    """Which of the brand's suppliers a campaign goes to."""

    tiers: list[int] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=lambda: [RelationshipStatus.ACTIVE.value])
    top_by_spend: int | None = None

    def as_dict(self) -> dict:
        return {
            "tiers": self.tiers,
            "categories": self.categories,
            "countries": self.countries,
            "statuses": self.statuses,
            "top_by_spend": self.top_by_spend,
        }


def select_suppliers(
    session: Session, brand_id: int, supplier_filter: SupplierFilter
) -> list[SupplierRelationship]:
    """The relationships matching the filter; spend rank compares like currencies only."""
    stmt = scoped(SupplierRelationship, brand_id).join(
        Organization, Organization.id == SupplierRelationship.supplier_id
    )
    if supplier_filter.tiers:
        stmt = stmt.where(SupplierRelationship.tier.in_(supplier_filter.tiers))
    if supplier_filter.categories:
        stmt = stmt.where(SupplierRelationship.category.in_(supplier_filter.categories))
    if supplier_filter.countries:
        stmt = stmt.where(Organization.country.in_(supplier_filter.countries))
    if supplier_filter.statuses:
        stmt = stmt.where(
            SupplierRelationship.status.in_(
                [RelationshipStatus(s) for s in supplier_filter.statuses]
            )
        )
    chosen = list(session.scalars(stmt.order_by(SupplierRelationship.supplier_code)))
    if supplier_filter.top_by_spend:
        chosen = _top_by_spend(chosen, supplier_filter.top_by_spend)
    return chosen


def _top_by_spend(relationships: list[SupplierRelationship], n: int) -> list[SupplierRelationship]:
    """Rank by annual spend converted to USD of the same year (recorded conversion)."""
    import numpy as np

    from spend_factors import convert_money

    with_spend = [r for r in relationships if r.annual_spend is not None and r.spend_currency]
    if not with_spend:
        return []
    usd = []
    for rel in with_spend:
        year = rel.spend_year or utcnow().year - 1
        converted, _ = convert_money(
            np.array([float(rel.annual_spend)]), rel.spend_currency, year, "USD", year
        )
        usd.append(float(converted[0]))
    order = sorted(range(len(with_spend)), key=lambda i: -usd[i])
    return [with_spend[i] for i in order[:n]]


def create_campaign(
    session: Session,
    *,
    brand_id: int,
    name: str,
    questionnaire_version: QuestionnaireVersion,
    reporting_year: int,
    deadline: date,
    supplier_filter: SupplierFilter,
    message: str = "",
    reminder_days_before: list[int] | None = None,
    reminder_days_after: list[int] | None = None,
    created_by_id: int | None = None,
) -> Campaign:
    """A draft campaign; nothing is sent until it is launched."""
    if questionnaire_version.status != VersionStatus.PUBLISHED:
        raise CampaignError("only a published questionnaire version can be sent")
    if not name.strip():
        raise CampaignError("a campaign needs a name")
    for days in (reminder_days_before or []) + (reminder_days_after or []):
        if not 0 <= days <= 365:
            raise CampaignError(f"reminder offset {days} days is outside 0..365")
    campaign = Campaign(
        brand_id=brand_id,
        name=name.strip(),
        questionnaire_version_id=questionnaire_version.id,
        reporting_year=reporting_year,
        deadline=deadline,
        reminder_days_before=sorted(set(reminder_days_before or [7, 1]), reverse=True),
        reminder_days_after=sorted(set(reminder_days_after or [3])),
        message=message,
        supplier_filter=supplier_filter.as_dict(),
        status=CampaignStatus.DRAFT,
        created_by_id=created_by_id,
    )
    session.add(campaign)
    session.flush()
    audit.record(
        session,
        action="campaign.created",
        entity_type="campaign",
        entity_id=str(campaign.public_id),
        organization_id=brand_id,
        actor_id=created_by_id,
        after={"name": campaign.name, "filter": campaign.supplier_filter},
    )
    return campaign


@dataclass
class LaunchResult:
    invited: list[Invitation]
    links: dict[int, str]
    skipped: list[tuple[str, str]]


def launch(
    session: Session, settings: Settings, campaign: Campaign, *, base_url: str, actor_id=None
) -> LaunchResult:
    """Invite every selected supplier that has a contact email; report the ones skipped."""
    if campaign.status == CampaignStatus.CLOSED:
        raise CampaignError("this campaign is closed", "campaign_closed")
    chosen = select_suppliers(
        session, campaign.brand_id, SupplierFilter(**(campaign.supplier_filter or {}))
    )
    already = {
        i.relationship_id
        for i in session.scalars(select(Invitation).where(Invitation.campaign_id == campaign.id))
    }
    result = LaunchResult([], {}, [])
    for rel in chosen:
        if rel.id in already:
            continue
        if not rel.contact_email:
            result.skipped.append((rel.supplier_code, "no contact email"))
            continue
        invitation, link = _invite(session, campaign, rel, base_url)
        result.invited.append(invitation)
        result.links[invitation.id] = link
    campaign.status = CampaignStatus.RUNNING
    session.flush()
    for invitation in result.invited:
        _mail_invitation(settings, campaign, invitation, result.links[invitation.id])
    audit.record(
        session,
        action="campaign.launched",
        entity_type="campaign",
        entity_id=str(campaign.public_id),
        organization_id=campaign.brand_id,
        actor_id=actor_id,
        after={"invited": len(result.invited), "skipped": result.skipped},
    )
    return result


def _expiry(campaign: Campaign) -> datetime:
    return datetime.combine(campaign.deadline, time.max, tzinfo=UTC) + TOKEN_VALID_AFTER_DEADLINE


def _invite(
    session: Session, campaign: Campaign, rel: SupplierRelationship, base_url: str
) -> tuple[Invitation, str]:
    invitation = Invitation(
        campaign_id=campaign.id,
        brand_id=campaign.brand_id,
        relationship_id=rel.id,
        supplier_id=rel.supplier_id,
        contact_email=rel.contact_email,
        status=InvitationStatus.INVITED,
    )
    session.add(invitation)
    session.flush()
    set_status(session, invitation, InvitationStatus.INVITED)
    return invitation, new_link(session, invitation, campaign, base_url)


def new_link(
    session: Session,
    invitation: Invitation,
    campaign: Campaign,
    base_url: str,
    *,
    revoke_previous: bool = False,
) -> str:
    """A fresh link token for the invitation; only its hash is stored."""
    now = utcnow()
    if revoke_previous:
        for old in session.scalars(
            select(InvitationToken).where(
                InvitationToken.invitation_id == invitation.id,
                InvitationToken.revoked_at.is_(None),
            )
        ):
            old.revoked_at = now
    token, token_hash = new_token()
    session.add(
        InvitationToken(
            invitation_id=invitation.id,
            token_hash=token_hash,
            expires_at=max(_expiry(campaign), now + timedelta(days=30)),
        )
    )
    session.flush()
    return portal_link(base_url, token)


def portal_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/portal/i/{token}"


def set_status(session: Session, invitation: Invitation, status: InvitationStatus) -> None:
    """Change status and keep its history (the response-rate chart reads the history)."""
    invitation.status = status
    session.add(InvitationEvent(invitation_id=invitation.id, status=status))


def reissue_token(
    session: Session, settings: Settings, invitation: Invitation, *, base_url: str, actor_id=None
) -> str:
    """A new link replaces all earlier ones (which stop working) and is mailed again."""
    invitation.revoked_at = None
    link = new_link(session, invitation, invitation.campaign, base_url, revoke_previous=True)
    audit.record(
        session,
        action="invitation.reissued",
        entity_type="invitation",
        entity_id=str(invitation.public_id),
        organization_id=invitation.brand_id,
        actor_id=actor_id,
    )
    _mail_invitation(settings, invitation.campaign, invitation, link)
    return link


def revoke(session: Session, invitation: Invitation, *, actor_id=None) -> None:
    invitation.revoked_at = utcnow()
    audit.record(
        session,
        action="invitation.revoked",
        entity_type="invitation",
        entity_id=str(invitation.public_id),
        organization_id=invitation.brand_id,
        actor_id=actor_id,
    )


def _brand_name(invitation: Invitation) -> str:
    return invitation.supplier_relationship.brand.name


def _mail_invitation(settings: Settings, campaign: Campaign, invitation: Invitation, link: str):
    brand = _brand_name(invitation)
    subject = f"{brand}：碳信息披露问卷 / Carbon disclosure questionnaire — {campaign.name}"
    body = (
        f"您好，\n\n{brand} 邀请贵公司在 {campaign.deadline.isoformat()} 之前填写碳信息披露问卷"
        f"（报告年度 {campaign.reporting_year}）。\n"
        f"请通过以下专属链接填写（请勿转发）：\n{link}\n\n"
        f"{campaign.message or ''}\n\n"
        f"Hello,\n\n{brand} invites you to answer its carbon disclosure questionnaire for "
        f"{campaign.reporting_year} by {campaign.deadline.isoformat()}.\n"
        f"Your personal link (do not forward it):\n{link}\n"
    )
    send_mail(settings, to=invitation.contact_email, subject=subject, body=body)


def send_reminder(
    session: Session, settings: Settings, invitation: Invitation, *, base_url: str
) -> bool:
    """Remind one supplier that has not responded yet; a new link is added (earlier links keep
    working, so a supplier halfway through is not locked out)."""
    if invitation.status not in OPEN_STATUSES or invitation.revoked_at is not None:
        return False
    campaign = invitation.campaign
    link = new_link(session, invitation, campaign, base_url)
    invitation.last_reminded_at = utcnow()
    invitation.reminders_sent += 1
    brand = _brand_name(invitation)
    overdue = date.today() > campaign.deadline
    subject = f"提醒 / Reminder: {campaign.name} — " + (
        "已逾期 / overdue" if overdue else f"截止 / due {campaign.deadline.isoformat()}"
    )
    body = (
        f"您好，\n\n这是 {brand} 碳信息披露问卷的提醒。"
        f"截止日期：{campaign.deadline.isoformat()}。\n"
        f"请通过以下链接继续填写：\n{link}\n\n"
        f"Hello,\n\nThis is a reminder of {brand}'s carbon disclosure questionnaire, due "
        f"{campaign.deadline.isoformat()}.\nContinue here:\n{link}\n"
    )
    send_mail(settings, to=invitation.contact_email, subject=subject, body=body)
    return True


def reminder_dates(campaign: Campaign) -> list[date]:
    before = [campaign.deadline - timedelta(days=d) for d in campaign.reminder_days_before or []]
    after = [campaign.deadline + timedelta(days=d) for d in campaign.reminder_days_after or []]
    return sorted(before + after)


def mark_overdue(session: Session, campaign: Campaign, today: date) -> int:
    """Invitations still open after the deadline become overdue."""
    if today <= campaign.deadline:
        return 0
    changed = 0
    for invitation in campaign.invitations:
        if invitation.status in (
            InvitationStatus.INVITED,
            InvitationStatus.OPENED,
            InvitationStatus.IN_PROGRESS,
        ):
            set_status(session, invitation, InvitationStatus.OVERDUE)
            changed += 1
    return changed


def send_due_reminders(
    session: Session, settings: Settings, campaign: Campaign, *, base_url: str, today: date
) -> int:
    """Send today's scheduled reminders once (idempotent within a day)."""
    mark_overdue(session, campaign, today)
    if today not in reminder_dates(campaign):
        return 0
    sent = 0
    for invitation in campaign.invitations:
        reminded = invitation.last_reminded_at
        if reminded is not None and reminded.date() >= today:
            continue
        if send_reminder(session, settings, invitation, base_url=base_url):
            sent += 1
    return sent


def reminder_job(
    session: Session, *, campaign_id: int, base_url: str, today: str | None = None
) -> dict:
    """Job entry point: the scheduled reminder run for one campaign."""
    from supplychain.config import load_settings

    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.RUNNING:
        return {"sent": 0, "reason": "campaign not running"}
    day = date.fromisoformat(today) if today else date.today()
    settings = load_settings()
    # The worker's own BASE_URL wins over the address recorded when the job was scheduled.
    base_url = settings.base_url or base_url
    sent = send_due_reminders(session, settings, campaign, base_url=base_url, today=day)
    return {"sent": sent, "date": day.isoformat()}


def schedule_reminders(settings: Settings, campaign: Campaign, *, base_url: str) -> list[str]:
    """Enqueue one RQ job per reminder date (needs Redis; inline mode uses the CLI instead)."""
    if not settings.redis_url:
        return []
    from supplychain.jobs import schedule

    ids = []
    for day in reminder_dates(campaign):
        when = datetime.combine(day, time(hour=1), tzinfo=UTC)
        if when < utcnow():
            continue
        ids.append(
            schedule(
                settings.database_url,
                settings.redis_url,
                "questionnaires.campaigns:reminder_job",
                run_at=when,
                kind="campaign.reminders",
                organization_id=campaign.brand_id,
                params={"campaign_id": campaign.id, "base_url": base_url, "today": day.isoformat()},
            ).rq_job_id
        )
    return ids


@dataclass
class CampaignStats:
    counts: dict[str, int]
    total: int
    response_rate: float
    overdue: list[Invitation]
    rate_over_time: list[tuple[str, float]]


def campaign_stats(session: Session, campaign: Campaign) -> CampaignStats:
    """Counts per status, response rate, overdue suppliers and the response rate by day."""
    invitations = list(campaign.invitations)
    counts = Counter(i.status.value for i in invitations)
    total = len(invitations)
    responded = sum(1 for i in invitations if i.status in RESPONDED)
    events = session.execute(
        select(InvitationEvent.invitation_id, InvitationEvent.status, InvitationEvent.occurred_at)
        .join(Invitation, Invitation.id == InvitationEvent.invitation_id)
        .where(
            Invitation.campaign_id == campaign.id,
            InvitationEvent.status == InvitationStatus.SUBMITTED,
        )
        .order_by(InvitationEvent.occurred_at)
    ).all()
    first_submit: dict[int, datetime] = {}
    for invitation_id, _status, occurred in events:
        first_submit.setdefault(invitation_id, occurred)
    by_day = Counter(d.date().isoformat() for d in first_submit.values())
    running, series = 0, []
    for day in sorted(by_day):
        running += by_day[day]
        series.append((day, running / total if total else 0.0))
    overdue = [i for i in invitations if i.status == InvitationStatus.OVERDUE]
    return CampaignStats(
        counts={s.value: counts.get(s.value, 0) for s in InvitationStatus},
        total=total,
        response_rate=responded / total if total else 0.0,
        overdue=overdue,
        rate_over_time=series,
    )
