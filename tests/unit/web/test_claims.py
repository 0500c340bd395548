"""Claiming an account from an invitation (issue 8, finding 2): the invited address must confirm
it, the account reaches only the invitations it was claimed through, and withdrawing, re-issuing
or expiring an invitation ends access through it for link holders and claimed accounts alike."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from questionnaires import campaigns as campaign_service
from questionnaires import responses
from supplychain.api_keys import create_api_key
from supplychain.db import unit_of_work
from supplychain.mail import read_outbox
from supplychain.models import (
    Invitation,
    InvitationClaim,
    InvitationToken,
    MembershipInvitation,
    MembershipScope,
    Organization,
    Role,
    User,
    utcnow,
)
from tests.support import builders
from tests.support import campaigns as cs
from tests.unit.web.conftest import login

PASSWORD = "s3cret-pass"
CONFIRM_LINK = re.compile(r"https?://\S+(/portal/claims/[A-Za-z0-9_\-]+)")


@pytest.fixture
def settings(app):
    return app.extensions["settings"]


@pytest.fixture
def world(app, sqlite_url, settings):
    """Brand Acme invites contact0 of one supplier; brand Bravo invites another contact of the
    same supplier organisation."""
    with unit_of_work(sqlite_url) as s:
        brand, rels = cs.brand_with_suppliers(s, "acme", n=1)
        _campaign, links = cs.launch_campaign(s, settings, brand)
        supplier = rels[0].supplier
        bravo, bravo_rels = cs.brand_with_suppliers(s, "bravo", suppliers=[supplier])
        bravo_rels[0].contact_email = f"sales@{supplier.slug}.example"
        _campaign_b, links_b = cs.launch_campaign(s, settings, bravo, name="Bravo survey")
        inv_b = s.scalars(select(Invitation).where(Invitation.brand_id == bravo.id)).one()
        responses.start_response(s, inv_b, user_id=None)
        return {
            "acme_id": brand.id,
            "supplier_id": supplier.id,
            "contact": rels[0].contact_email,
            "link": _path(links[rels[0].id]),
            "link_b": _path(links_b[bravo_rels[0].id]),
            "inv_b": f"/portal/invitations/{inv_b.public_id}",
        }


def _path(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def open_link(client, link: str) -> str:
    response = client.get(link)
    assert response.status_code == 302, response.get_data(True)[:300]
    return response.location


def ask_for_account(client, inv_url: str, password: str = PASSWORD):
    return client.post(
        inv_url + "/claim",
        data={"display_name": "王强", "password": password, "password_confirm": password},
    )


def confirmation_links(settings, to: str) -> list[str]:
    found = []
    for message in read_outbox(settings):
        if message["To"] == to:
            found += dict.fromkeys(CONFIRM_LINK.findall(message.get_content()))
    return found


def claim_account(client, inv_url: str, settings, to: str, password: str = PASSWORD) -> str:
    """Ask for an account in the portal; the confirmation link mailed to `to`."""
    assert ask_for_account(client, inv_url, password).status_code == 302
    return confirmation_links(settings, to)[-1]


def confirmed_client(app, confirm: str, password: str = PASSWORD):
    """Confirm from the mailbox in another browser: signed in, with no invitation link in its
    session, so whatever it reaches it reaches through the account."""
    mailbox = app.test_client()
    done = mailbox.post(confirm, data={"password": password})
    assert done.status_code == 302, done.get_data(True)[:500]
    return mailbox


def users_with(sqlite_url: str, email: str) -> int:
    with unit_of_work(sqlite_url) as s:
        return s.scalar(select(func.count()).select_from(User).where(User.email == email))


def test_asking_for_an_account_creates_no_user_until_the_address_confirms(
    csrf_off, world, sqlite_url, settings
):
    client = csrf_off.test_client()
    inv_url = open_link(client, world["link"])
    asked = ask_for_account(client, inv_url)
    assert asked.status_code == 302
    page = client.get(asked.location).get_data(True)
    masked = "c***@" + world["contact"].split("@")[1]
    assert f"We sent a confirmation link to {masked}" in page
    assert users_with(sqlite_url, world["contact"]) == 0
    assert login(csrf_off.test_client(), world["contact"], PASSWORD).status_code == 401

    links = confirmation_links(settings, world["contact"])
    assert len(links) == 1
    token = links[0].rsplit("/", 1)[-1]
    assert len(token) >= 32  # at least 128 random bits
    with unit_of_work(sqlite_url) as s:
        claim = s.scalars(select(InvitationClaim)).one()
        assert claim.token_hash != token and len(claim.token_hash) == 64
        assert claim.password_hash != PASSWORD and claim.confirmed_at is None


def test_the_claim_page_is_in_chinese_for_chinese_readers(csrf_off, world):
    client = csrf_off.test_client()
    inv_url = open_link(client, world["link"])
    client.post("/language", data={"lang": "zh_CN", "next": inv_url})
    asked = ask_for_account(client, inv_url)
    assert "确认链接" in client.get(asked.location).get_data(True)


def test_confirming_creates_an_account_for_that_invitation_only(
    csrf_off, world, sqlite_url, settings
):
    client = csrf_off.test_client()
    inv_url = open_link(client, world["link"])
    confirm = claim_account(client, inv_url, settings, world["contact"])
    page = csrf_off.test_client().get(confirm)
    assert page.status_code == 200 and 'id="claim-confirm"' in page.get_data(True)

    account = confirmed_client(csrf_off, confirm)
    assert users_with(sqlite_url, world["contact"]) == 1
    with unit_of_work(sqlite_url) as s:
        user = s.scalars(select(User).where(User.email == world["contact"])).one()
        assert user.memberships[0].scope == MembershipScope.INVITATIONS
        assert user.memberships[0].role == Role.SUPPLIER
    assert account.get(inv_url).status_code == 200
    # Another invitation of the same supplier organisation, to another contact: not theirs.
    assert account.get(world["inv_b"]).status_code == 404
    assert account.get(world["inv_b"] + "/form").status_code == 404
    listed = account.get("/portal/").get_data(True)
    assert inv_url.rsplit("/", 1)[-1] in listed and "Bravo survey" not in listed

    # A contact an admin added for the whole organisation still sees both.
    with unit_of_work(sqlite_url) as s:
        org = s.get(Organization, world["supplier_id"])
        builders.user(s, "boss@supplier.example", org, Role.SUPPLIER)
    boss = csrf_off.test_client()
    login(boss, "boss@supplier.example")
    assert boss.get(inv_url).status_code == 200 and boss.get(world["inv_b"]).status_code == 200


def test_later_invitations_from_the_same_brand_to_the_same_address_are_reachable(
    csrf_off, world, sqlite_url, settings
):
    client = csrf_off.test_client()
    inv_url = open_link(client, world["link"])
    account = confirmed_client(csrf_off, claim_account(client, inv_url, settings, world["contact"]))
    with unit_of_work(sqlite_url) as s:
        acme = s.get(Organization, world["acme_id"])
        campaign, _links = cs.launch_campaign(s, settings, acme, name="Acme 2026 follow-up")
        later = f"/portal/invitations/{campaign.invitations[0].public_id}"
    assert account.get(later).status_code == 200
    assert "Acme 2026 follow-up" in account.get("/portal/").get_data(True)


def test_withdrawing_ends_access_for_link_holders_and_the_claimed_account(
    csrf_off, world, sqlite_url, settings
):
    client = csrf_off.test_client()
    inv_url = open_link(client, world["link"])
    account = confirmed_client(csrf_off, claim_account(client, inv_url, settings, world["contact"]))
    assert client.get(inv_url).status_code == 200 and account.get(inv_url).status_code == 200
    with unit_of_work(sqlite_url) as s:
        campaign_service.revoke(s, s.scalars(select(Invitation).order_by(Invitation.id)).first())
    assert client.get(inv_url).status_code == 404
    assert account.get(inv_url).status_code == 404
    assert account.get(inv_url + "/form").status_code == 404
    assert inv_url.rsplit("/", 1)[-1] not in account.get("/portal/").get_data(True)


def test_reissuing_ends_access_until_the_new_link_is_opened(csrf_off, world, sqlite_url, settings):
    client = csrf_off.test_client()
    inv_url = open_link(client, world["link"])
    account = confirmed_client(csrf_off, claim_account(client, inv_url, settings, world["contact"]))
    with unit_of_work(sqlite_url) as s:
        inv = s.scalars(select(Invitation).order_by(Invitation.id)).first()
        new_link = _path(
            campaign_service.reissue_token(s, settings, inv, base_url="http://testserver")
        )
    assert client.get(inv_url).status_code == 404
    assert account.get(inv_url).status_code == 404
    # The contact opens the new link while signed in: the account has the invitation again,
    # also in a later session without any link.
    assert open_link(account, new_link) == inv_url
    fresh = csrf_off.test_client()
    login(fresh, world["contact"], PASSWORD)
    assert fresh.get(inv_url).status_code == 200


def test_expiry_ends_access_for_link_holders_and_the_claimed_account(
    csrf_off, world, sqlite_url, settings
):
    client = csrf_off.test_client()
    inv_url = open_link(client, world["link"])
    account = confirmed_client(csrf_off, claim_account(client, inv_url, settings, world["contact"]))
    with unit_of_work(sqlite_url) as s:
        s.execute(update(InvitationToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert client.get(inv_url).status_code == 404
    assert account.get(inv_url).status_code == 404
    assert csrf_off.test_client().get(world["link"]).status_code == 410


def test_a_second_confirmation_creates_no_second_user(csrf_off, world, sqlite_url, settings):
    client = csrf_off.test_client()
    inv_url = open_link(client, world["link"])
    confirm = claim_account(client, inv_url, settings, world["contact"])
    confirmed_client(csrf_off, confirm)
    again = csrf_off.test_client().post(confirm, data={"password": PASSWORD})
    assert again.status_code == 410 and 'data-code="claim_used"' in again.get_data(True)
    assert users_with(sqlite_url, world["contact"]) == 1
    with unit_of_work(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(MembershipInvitation)) == 1


def test_expired_unknown_and_wrong_password_confirmations_are_refused(
    csrf_off, world, sqlite_url, settings
):
    client = csrf_off.test_client()
    inv_url = open_link(client, world["link"])
    confirm = claim_account(client, inv_url, settings, world["contact"])
    mailbox = csrf_off.test_client()

    wrong = mailbox.post(confirm, data={"password": "not-what-was-chosen"})
    assert wrong.status_code == 401
    assert "not the password you chose" in wrong.get_data(True)
    assert users_with(sqlite_url, world["contact"]) == 0

    unknown = mailbox.get("/portal/claims/" + "x" * 32)
    assert unknown.status_code == 404 and 'data-code="claim_invalid"' in unknown.get_data(True)

    with unit_of_work(sqlite_url) as s:
        s.execute(update(InvitationClaim).values(expires_at=utcnow() - timedelta(minutes=1)))
    expired = mailbox.get(confirm)
    assert expired.status_code == 410 and 'data-code="claim_expired"' in expired.get_data(True)
    assert mailbox.post(confirm, data={"password": PASSWORD}).status_code == 410
    assert users_with(sqlite_url, world["contact"]) == 0


def test_a_claim_for_a_withdrawn_invitation_cannot_be_confirmed(
    csrf_off, world, sqlite_url, settings
):
    client = csrf_off.test_client()
    inv_url = open_link(client, world["link"])
    confirm = claim_account(client, inv_url, settings, world["contact"])
    with unit_of_work(sqlite_url) as s:
        campaign_service.revoke(s, s.scalars(select(Invitation).order_by(Invitation.id)).first())
    refused = csrf_off.test_client().post(confirm, data={"password": PASSWORD})
    assert refused.status_code == 410 and 'data-code="claim_withdrawn"' in refused.get_data(True)
    assert users_with(sqlite_url, world["contact"]) == 0


def test_confirmation_needs_the_csrf_token(app, world, settings):
    browser = app.test_client()
    inv_url = open_link(browser, world["link"])
    page = browser.get(inv_url).get_data(True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    browser.post(
        inv_url + "/claim",
        data={
            "csrf_token": csrf,
            "display_name": "Wang",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    confirm = confirmation_links(settings, world["contact"])[-1]
    mailbox = app.test_client()
    assert mailbox.post(confirm, data={"password": PASSWORD}).status_code == 400
    form = mailbox.get(confirm).get_data(True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]
    assert mailbox.post(confirm, data={"password": PASSWORD, "csrf_token": csrf}).status_code == 302


def test_a_claimed_account_cannot_share_answers_it_cannot_see(
    csrf_off, world, sqlite_url, settings
):
    """Bravo's response belongs to another contact; Acme's contact may not pass it on."""
    client = csrf_off.test_client()
    inv_url = open_link(client, world["link"])
    account = confirmed_client(csrf_off, claim_account(client, inv_url, settings, world["contact"]))
    open_link(account, world["link"])
    assert 'id="share"' not in account.get(inv_url).get_data(True)
    assert account.post(inv_url + "/share", data={"consent": "on"}).status_code == 404
    with unit_of_work(sqlite_url) as s:
        inv = s.scalars(select(Invitation).order_by(Invitation.id)).first()
        assert inv.response_id is None


def test_the_api_key_of_a_claimed_account_reaches_only_its_responses(
    csrf_off, world, sqlite_url, settings
):
    client = csrf_off.test_client()
    inv_url = open_link(client, world["link"])
    account = confirmed_client(csrf_off, claim_account(client, inv_url, settings, world["contact"]))
    account.post(inv_url + "/start")
    with unit_of_work(sqlite_url) as s:
        user = s.scalars(select(User).where(User.email == world["contact"])).one()
        _key, plaintext = create_api_key(s, user, s.get(Organization, world["supplier_id"]), "sync")
        own = s.scalars(
            select(Invitation).where(Invitation.public_id == uuid.UUID(inv_url.rsplit("/", 1)[-1]))
        ).one()
        own_response = str(own.response.public_id)
        other = s.scalars(select(Invitation).where(Invitation.contact_email.like("sales@%"))).one()
        other_response = str(other.response.public_id)
    api = csrf_off.test_client()
    headers = {"Authorization": f"Bearer {plaintext}"}
    listed = api.get("/api/v1/responses", headers=headers).get_json()
    assert [r["id"] for r in listed["items"]] == [own_response]
    assert api.get(f"/api/v1/responses/{own_response}", headers=headers).status_code == 200
    assert api.get(f"/api/v1/responses/{other_response}", headers=headers).status_code == 404
    with unit_of_work(sqlite_url) as s:
        campaign_service.revoke(s, s.get(Invitation, own.id))
    assert api.get(f"/api/v1/responses/{own_response}", headers=headers).status_code == 404
