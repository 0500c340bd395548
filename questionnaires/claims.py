"""Invitation claims: a link holder turns an invitation into an account, once the invited address
confirms it, and that account reaches only the invitations it was granted.

Step one stores a pending claim (the chosen password already hashed, the confirmation token only
as its SHA-256) and mails a confirmation link to the invitation's contact address. Step two, from
that mailbox, creates the user with an invitation-scoped membership and grants it the invitation.

A grant remembers the link it came through. Withdrawing the invitation, re-issuing it (which
revokes its earlier links) or letting all its links expire ends access for the account as it does
for link holders. Later invitations that the same brand sends to the same address for the same
supplier are reachable too; any other invitation of the supplier organisation is not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from questionnaires.tokens import hash_token, new_token
from supplychain import audit
from supplychain.accounts import AccountError, add_user, hash_password
from supplychain.config import Settings
from supplychain.mail import send_mail
from supplychain.models import (
    Invitation,
    InvitationClaim,
    InvitationToken,
    Membership,
    MembershipInvitation,
    MembershipScope,
    Role,
    User,
    as_utc,
    utcnow,
)

CLAIM_VALID_FOR = timedelta(hours=48)


class ClaimError(ValueError):
    """A claim that cannot go ahead; `code` lets the web layer say why in the user's language."""

    code = "claim_invalid"


class ClaimInvalid(ClaimError):
    code = "claim_invalid"


class ClaimExpired(ClaimError):
    code = "claim_expired"


class ClaimUsed(ClaimError):
    code = "claim_used"


class ClaimWithdrawn(ClaimError):
    code = "claim_withdrawn"


class ClaimPasswordWrong(ClaimError):
    code = "claim_password_wrong"


def _live(token: InvitationToken) -> bool:
    return token.revoked_at is None and as_utc(token.expires_at) >= utcnow()


def invitation_is_live(session: Session, invitation: Invitation) -> bool:
    """Not withdrawn, and at least one of its links still works: a withdrawn or expired
    invitation gives no access to link holders or claimed accounts."""
    if invitation.revoked_at is not None:
        return False
    tokens = session.scalars(
        select(InvitationToken).where(InvitationToken.invitation_id == invitation.id)
    )
    return any(_live(token) for token in tokens)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def masked_email(email: str) -> str:
    """Enough of the address for its owner to recognise it: `w***@example.com`."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else f"{local[:1]}***"


def claim_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/portal/claims/{token}"


# --- step one: ask --------------------------------------------------------------------------


def start_claim(
    session: Session,
    invitation: Invitation,
    link_token_hash: str,
    *,
    display_name: str,
    password: str,
    locale: str | None,
) -> tuple[InvitationClaim, str]:
    """A pending claim made through one link of the invitation, and the confirmation token to
    mail (returned only here). Nothing is created for the user until the address confirms."""
    link = session.scalars(
        select(InvitationToken).where(
            InvitationToken.token_hash == link_token_hash,
            InvitationToken.invitation_id == invitation.id,
        )
    ).first()
    if link is None or not _live(link) or invitation.revoked_at is not None:
        raise ClaimWithdrawn("this invitation link no longer works; ask for a new one")
    email = normalise_email(invitation.contact_email)
    if session.scalars(select(User).where(User.email == email)).first() is not None:
        raise AccountError(f"a user with email {email} already exists", "email_taken")
    token, token_hash = new_token()
    now = utcnow()
    claim = InvitationClaim(
        invitation_id=invitation.id,
        invitation_token_id=link.id,
        email=email,
        display_name=display_name.strip()[:255] or email,
        password_hash=hash_password(password),
        locale=locale,
        token_hash=token_hash,
        created_at=now,
        expires_at=now + CLAIM_VALID_FOR,
    )
    session.add(claim)
    session.flush()
    audit.record(
        session,
        action="invitation.claim_requested",
        entity_type="invitation",
        entity_id=str(invitation.public_id),
        organization_id=invitation.supplier_id,
        after={"email": email},
    )
    return claim, token


def mail_claim_link(settings: Settings, claim: InvitationClaim, link: str) -> None:
    """Bilingual, like the invitation mail: the reader's language is not known yet."""
    invitation = claim.invitation
    brand = invitation.supplier_relationship.brand.name
    hours = CLAIM_VALID_FOR // timedelta(hours=1)
    subject = f"确认账户 / Confirm your account — {brand}"
    body = (
        f"您好，\n\n有人通过 {brand} 发给贵公司的问卷链接，申请以 {claim.email} 创建账户。\n"
        f"如果是您本人，请在 {hours} 小时内打开以下链接完成创建（需要输入您设置的密码）：\n"
        f"{link}\n\n如果不是您本人，请忽略此邮件，不会创建任何账户。\n\n"
        f"Hello,\n\nSomeone used the questionnaire link {brand} sent to your company to ask for "
        f"an account for {claim.email}.\nIf that was you, open this link within {hours} hours "
        f"to finish (you will need the password you chose):\n{link}\n\n"
        f"If it was not you, ignore this message; no account will be created.\n"
    )
    send_mail(settings, to=claim.email, subject=subject, body=body)


# --- step two: confirm ----------------------------------------------------------------------


def claim_for_token(session: Session, token: str) -> InvitationClaim:
    """The pending claim a confirmation link names, or a refusal that says why."""
    claim = session.scalars(
        select(InvitationClaim).where(InvitationClaim.token_hash == hash_token(token))
    ).first()
    if claim is None:
        raise ClaimInvalid("this confirmation link is not valid")
    if claim.confirmed_at is not None:
        raise ClaimUsed("this confirmation link has already been used")
    if as_utc(claim.expires_at) < utcnow():
        raise ClaimExpired("this confirmation link has expired; ask for an account again")
    link = session.get(InvitationToken, claim.invitation_token_id)
    if not _live(link) or not invitation_is_live(session, claim.invitation):
        raise ClaimWithdrawn("the invitation was withdrawn or replaced after the account was asked")
    return claim


def confirm_claim(session: Session, token: str, password: str) -> tuple[User, Invitation]:
    """Create the account a claim asked for, exactly once, and say which invitation it opens.

    The password chosen in step one must be given again, so the person who asked and the owner
    of the mailbox are the same person. `confirmed_at` is set by one conditional update: of two
    confirmations racing, only one finds it empty. On any refusal the caller rolls back.
    """
    claim = claim_for_token(session, token)
    if not check_password_hash(claim.password_hash, password):
        raise ClaimPasswordWrong("the password is not the one chosen when the account was asked")
    won = session.execute(
        update(InvitationClaim)
        .where(InvitationClaim.id == claim.id, InvitationClaim.confirmed_at.is_(None))
        .values(confirmed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        raise ClaimUsed("this confirmation link has already been used")
    invitation = claim.invitation
    try:
        user = add_user(
            session,
            email=claim.email,
            password_hash=claim.password_hash,
            display_name=claim.display_name,
            organization=invitation.supplier,
            role=Role.SUPPLIER,
            locale=claim.locale,
            scope=MembershipScope.INVITATIONS,
        )
    except IntegrityError as exc:  # another claim for the same address won the race
        taken = f"a user with email {claim.email} already exists"
        raise AccountError(taken, "email_taken") from exc
    session.execute(
        update(InvitationClaim)
        .where(InvitationClaim.id == claim.id)
        .values(user_id=user.id)
        .execution_options(synchronize_session=False)
    )
    membership = user.memberships[0]
    session.add(
        MembershipInvitation(
            membership=membership,
            invitation_id=invitation.id,
            invitation_token_id=claim.invitation_token_id,
        )
    )
    session.flush()
    audit.record(
        session,
        action="invitation.claimed",
        entity_type="invitation",
        entity_id=str(invitation.public_id),
        organization_id=invitation.supplier_id,
        actor_id=user.id,
        after={"user": str(user.public_id), "scope": MembershipScope.INVITATIONS.value},
    )
    return user, invitation


# --- what a membership reaches --------------------------------------------------------------


def _addressed_to(membership: Membership, invitation: Invitation) -> bool:
    return normalise_email(invitation.contact_email) == membership.user.email


def grant_from_link(
    session: Session, membership: Membership, invitation: Invitation, link_token_hash: str
) -> None:
    """A claimed account that opens a working link addressed to it keeps the invitation: this is
    how access comes back after a re-issue, or reaches another brand's invitation."""
    if (
        membership.scope != MembershipScope.INVITATIONS
        or membership.role != Role.SUPPLIER
        or membership.organization_id != invitation.supplier_id
        or not _addressed_to(membership, invitation)
    ):
        return
    link = session.scalars(
        select(InvitationToken).where(
            InvitationToken.token_hash == link_token_hash,
            InvitationToken.invitation_id == invitation.id,
        )
    ).first()
    if link is None or not _live(link):
        return
    grant = session.scalars(
        select(MembershipInvitation).where(
            MembershipInvitation.membership_id == membership.id,
            MembershipInvitation.invitation_id == invitation.id,
        )
    ).first()
    if grant is None:
        session.add(
            MembershipInvitation(
                membership_id=membership.id,
                invitation_id=invitation.id,
                invitation_token_id=link.id,
            )
        )
    elif grant.invitation_token.revoked_at is not None:
        grant.invitation_token_id = link.id
        grant.granted_at = utcnow()
    session.flush()


def _grants(session: Session, membership: Membership) -> list[MembershipInvitation]:
    return list(
        session.scalars(
            select(MembershipInvitation).where(MembershipInvitation.membership_id == membership.id)
        )
    )


def _first_grant_by_brand(grants: list[MembershipInvitation]) -> dict[int, datetime]:
    first: dict[int, datetime] = {}
    for grant in grants:
        brand_id, granted = grant.invitation.brand_id, as_utc(grant.granted_at)
        first[brand_id] = min(first.get(brand_id, granted), granted)
    return first


def member_may_open(session: Session, membership: Membership, invitation: Invitation) -> bool:
    """Whether this membership reaches the invitation, whether or not it is still live.

    Organisation-wide supplier members reach every invitation of their organisation. A claimed
    account reaches an invitation granted to it while the granting link is not revoked, and a
    later one from the same brand to the same address that has not been re-issued since.
    """
    if membership.role != Role.SUPPLIER or membership.organization_id != invitation.supplier_id:
        return False
    if membership.scope == MembershipScope.ORGANIZATION:
        return True
    grants = _grants(session, membership)
    for grant in grants:
        if grant.invitation_id == invitation.id:
            return grant.invitation_token.revoked_at is None
    since = _first_grant_by_brand(grants).get(invitation.brand_id)
    if since is None or not _addressed_to(membership, invitation):
        return False
    if as_utc(invitation.created_at) < since:
        return False
    reissued = session.scalars(
        select(InvitationToken.id).where(
            InvitationToken.invitation_id == invitation.id,
            InvitationToken.revoked_at.is_not(None),
        )
    ).first()
    return reissued is None


def member_candidates(session: Session, membership: Membership) -> ColumnElement[bool]:
    """A WHERE clause for the invitations this membership might reach (listing pages narrow it
    further with `member_may_open` and liveness)."""
    if membership.role != Role.SUPPLIER:
        return false()
    of_supplier = Invitation.supplier_id == membership.organization_id
    if membership.scope == MembershipScope.ORGANIZATION:
        return of_supplier
    grants = _grants(session, membership)
    brands = {grant.invitation.brand_id for grant in grants}
    granted = [grant.invitation_id for grant in grants]
    addressed = and_(
        func.lower(func.trim(Invitation.contact_email)) == membership.user.email,
        Invitation.brand_id.in_(brands),
    )
    return and_(of_supplier, or_(Invitation.id.in_(granted), addressed))


def reachable_invitations(session: Session, membership: Membership) -> list[Invitation]:
    """The live invitations a claimed account reaches (organisation-wide members: all of the
    organisation's invitations, live or not)."""
    candidates = session.scalars(
        select(Invitation).where(member_candidates(session, membership)).order_by(Invitation.id)
    )
    if membership.scope == MembershipScope.ORGANIZATION:
        return list(candidates)
    return [
        i
        for i in candidates
        if invitation_is_live(session, i) and member_may_open(session, membership, i)
    ]
