"""A declined or withdrawn invitation takes no more answers, files or submissions, whether they
come through the portal (by link or as a signed-in contact) or through the API."""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import func, select

from questionnaires import campaigns as campaign_service
from questionnaires import responses
from supplychain.api_keys import create_api_key
from supplychain.db import unit_of_work
from supplychain.models import (
    Evidence,
    Invitation,
    QuestionnaireResponse,
    ResponseSubmission,
    Role,
)
from tests.support import builders
from tests.support import campaigns as cs
from tests.unit.web.conftest import login
from tests.unit.web.test_portal import fill_everything, lock_of, open_link, save_section

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DECLINED_EN = "You declined this questionnaire; answers can no longer be saved or submitted."
DECLINED_ZH = "您已拒绝填写此问卷，答案不能再保存或提交。"
WITHDRAWN_EN = (
    "Your customer has withdrawn this invitation; answers can no longer be saved or submitted."
)


@pytest.fixture
def declined(csrf_off, sqlite_url):
    """A supplier opened the link, saved a draft and then declined, all through the portal."""
    settings = csrf_off.extensions["settings"]
    with unit_of_work(sqlite_url) as s:
        brand, rels = cs.brand_with_suppliers(s, "acme", n=1)
        _campaign, links = cs.launch_campaign(s, settings, brand)
        link = links[rels[0].id].replace("http://testserver", "")
    client = csrf_off.test_client()
    inv_url = open_link(client, link)
    client.post(inv_url + "/start")
    lock = lock_of(client.get(inv_url + "/form?section=company_profile").get_data(True))
    save_section(client, inv_url, "company_profile", lock, q__employees="120")
    fill_everything(sqlite_url, inv_url)
    assert client.post(inv_url + "/decline", data={"reason": "not this year"}).status_code == 302
    return client, inv_url


def _stored(sqlite_url: str) -> QuestionnaireResponse:
    with unit_of_work(sqlite_url) as s:
        return s.scalars(select(QuestionnaireResponse)).one()


def test_saving_through_the_same_link_after_declining_is_refused(declined, sqlite_url):
    client, inv_url = declined
    before = _stored(sqlite_url)
    form = client.get(inv_url + "/form?section=company_profile").get_data(True)
    refused = save_section(client, inv_url, "company_profile", lock_of(form), q__employees="999")
    assert refused.status_code == 302
    assert DECLINED_EN in client.get(refused.location).get_data(True)
    autosave = client.post(
        inv_url + "/form",
        headers={"X-Autosave": "1"},
        data={"section": "company_profile", "lock_version": lock_of(form), "q.employees": "998"},
    )
    assert autosave.status_code == 409
    assert autosave.get_json() == {"code": "invitation_declined", "message": DECLINED_EN}
    after = _stored(sqlite_url)
    assert after.answers == before.answers and after.lock_version == before.lock_version


def test_submitting_and_uploading_after_declining_are_refused(declined, sqlite_url, csrf_off):
    client, inv_url = declined
    client.post("/language", data={"lang": "zh_CN"})
    submitted = client.post(inv_url + "/submit")
    assert submitted.status_code == 302
    assert DECLINED_ZH in client.get(submitted.location).get_data(True)
    uploaded = client.post(
        inv_url + "/evidence",
        data={
            "question": "verification_evidence",
            "section": "verification",
            "file": (io.BytesIO(PDF), "statement.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    assert DECLINED_ZH in client.get(uploaded.location).get_data(True)
    with unit_of_work(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(ResponseSubmission)) == 0
        assert s.scalar(select(func.count()).select_from(Evidence)) == 0
    evidence_folder = csrf_off.extensions["settings"].uploads_path / "evidence"
    assert not evidence_folder.exists() or not any(evidence_folder.iterdir())


def test_a_signed_in_contact_cannot_save_on_a_withdrawn_invitation(csrf_off, sqlite_url):
    settings = csrf_off.extensions["settings"]
    with unit_of_work(sqlite_url) as s:
        brand, rels = cs.brand_with_suppliers(s, "acme", n=1)
        campaign, _links = cs.launch_campaign(s, settings, brand)
        invitation = campaign.invitations[0]
        responses.start_response(s, invitation, user_id=None)
        contact = builders.user(s, "wang@supplier.example", rels[0].supplier)
        contact.memberships[0].role = Role.SUPPLIER
        campaign_service.revoke(s, invitation)
        inv_url = f"/portal/invitations/{invitation.public_id}"
    client = csrf_off.test_client()
    assert login(client, "wang@supplier.example").status_code == 302
    form = client.get(inv_url + "/form?section=company_profile")
    assert form.status_code == 200
    refused = save_section(
        client, inv_url, "company_profile", lock_of(form.get_data(True)), q__employees="5"
    )
    assert refused.status_code == 302
    assert WITHDRAWN_EN in client.get(refused.location).get_data(True)
    assert "employees" not in _stored(sqlite_url).answers


def test_the_api_refuses_saving_and_submitting_a_declined_response(api_client, sqlite_url):
    client, key, invitation_id, response_id = api_client
    url = f"/api/v1/responses/{response_id}"
    headers = {"Authorization": f"Bearer {key}"}
    with unit_of_work(sqlite_url) as s:
        invitation = s.scalars(
            select(Invitation).where(Invitation.public_id == uuid.UUID(invitation_id))
        ).one()
        responses.decline(s, invitation, reason="not this year", user_id=None)
    patched = client.patch(
        url, headers=headers, json={"lock_version": 2, "answers": {"employees": 999}}
    )
    assert patched.status_code == 409
    error = patched.get_json()["error"]
    assert error["code"] == "invitation_declined" and "declined" in error["message"]
    submitted = client.post(url + "/submit", headers=headers)
    assert submitted.status_code == 409
    assert submitted.get_json()["error"]["code"] == "invitation_declined"
    stored = _stored(sqlite_url)
    assert stored.answers["employees"] == 120 and stored.status.value == "draft"


@pytest.fixture
def api_client(app, sqlite_url):
    """A started response with complete answers and a supplier-contact API key."""
    settings = app.extensions["settings"]
    with unit_of_work(sqlite_url) as s:
        brand, rels = cs.brand_with_suppliers(s, "gamma", n=1)
        campaign, _links = cs.launch_campaign(s, settings, brand)
        invitation = campaign.invitations[0]
        response = responses.start_response(s, invitation, user_id=None)
        responses.save_answers(s, response, dict(cs.BASE_ANSWERS), expected_lock=1, user_id=None)
        contact = builders.user(s, "contact@gamma-supplier.example", rels[0].supplier)
        contact.memberships[0].role = Role.SUPPLIER
        key = create_api_key(s, contact, rels[0].supplier, "sync")[1]
        return app.test_client(), key, str(invitation.public_id), str(response.public_id)
