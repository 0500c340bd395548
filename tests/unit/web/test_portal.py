"""The supplier portal and the brand review, end to end through the Flask app (SQLite)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from questionnaires import campaigns as campaign_service
from supplychain.db import unit_of_work
from supplychain.mail import read_outbox
from supplychain.models import (
    AuditEvent,
    Disclosure,
    Invitation,
    InvitationStatus,
    InvitationToken,
    QuestionnaireResponse,
    ReviewComment,
    utcnow,
)
from tests.support import campaigns as cs
from tests.unit.web.conftest import login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def settings(app):
    return app.extensions["settings"]


@pytest.fixture
def launched(csrf_off, sqlite_url, settings):
    with unit_of_work(sqlite_url) as s:
        brand, rels = cs.brand_with_suppliers(s, "acme")
        campaign, links = cs.launch_campaign(s, settings, brand)
        return {
            "brand_id": brand.id,
            "campaign": str(campaign.public_id),
            "links": [links[r.id].replace("http://testserver", "") for r in rels],
        }


def open_link(client, link: str) -> str:
    response = client.get(link)
    assert response.status_code == 302, response.get_data(True)[:500]
    return response.location


def lock_of(html: str) -> str:
    return re.search(r'name="lock_version" value="(\d+)"', html)[1]


def save_section(client, inv_url: str, section: str, lock: str, **fields):
    data = {"section": section, "lock_version": lock, "go": section}
    data.update({k.replace("__", "."): v for k, v in fields.items()})
    return client.post(inv_url + "/form", data=data)


def fill_everything(sqlite_url: str, inv_url: str) -> None:
    """Store a complete activity-data answer set directly (the form path is tested separately)."""
    invitation_id = inv_url.rsplit("/", 1)[-1]
    with unit_of_work(sqlite_url) as s:
        inv = s.scalars(
            select(Invitation).where(Invitation.public_id == _uuid(invitation_id))
        ).one()
        inv.response.answers = dict(cs.BASE_ANSWERS)


def _uuid(value):
    import uuid

    return uuid.UUID(value)


def test_invitation_mail_goes_to_the_outbox_with_a_link(launched, settings):
    sent = cs.links_in_outbox(settings)
    assert len(sent) == 2
    assert all("/portal/i/" in link for _to, link in sent)


def test_tokens_are_long_random_and_stored_hashed(launched, sqlite_url):
    token = launched["links"][0].rsplit("/", 1)[-1]
    assert len(token) >= 32
    with unit_of_work(sqlite_url) as s:
        hashes = s.scalars(select(InvitationToken.token_hash)).all()
    assert token not in hashes and all(len(h) == 64 for h in hashes)


def test_fill_save_reopen_and_see_normalised_units(csrf_off, launched):
    client = csrf_off.test_client()
    inv_url = open_link(client, launched["links"][0])
    client.post(inv_url + "/start")
    lock = lock_of(client.get(inv_url + "/form").get_data(True))
    save_section(client, inv_url, "reporting_method", lock, q__emissions_method="activity")
    form = client.get(inv_url + "/form?section=activity_data")
    assert form.status_code == 200
    lock = lock_of(form.get_data(True))
    saved = client.post(
        inv_url + "/form",
        data={
            "section": "activity_data",
            "lock_version": lock,
            "go": "activity_data",
            "q.electricity_use.0.site": "Plant 1",
            "q.electricity_use.0.grid_region": "CN",
            "q.electricity_use.0.quantity.value": "120",
            "q.electricity_use.0.quantity.unit": "MWh",
        },
    )
    assert saved.status_code == 302
    # A new browser session with the same link sees what was typed.
    again = csrf_off.test_client()
    open_link(again, launched["links"][0])
    html = again.get(inv_url + "/form?section=activity_data").get_data(True)
    assert 'value="Plant 1"' in html and 'value="120"' in html
    assert "= 120,000 kWh" in html


def test_server_side_validation_is_inline_and_translated(csrf_off, launched):
    client = csrf_off.test_client()
    inv_url = open_link(client, launched["links"][0])
    client.post(inv_url + "/start")
    lock = lock_of(client.get(inv_url + "/form").get_data(True))
    save_section(client, inv_url, "company_profile", lock, q__employees="-5")
    client.post("/language", data={"lang": "zh_CN"})
    html = client.get(inv_url + "/form?section=company_profile").get_data(True)
    assert 'class="field-error"' in html
    assert "不得小于" in html


def test_wrong_unit_dimension_is_named(csrf_off, launched):
    client = csrf_off.test_client()
    inv_url = open_link(client, launched["links"][0])
    client.post(inv_url + "/start")
    lock = lock_of(client.get(inv_url + "/form?section=emissions_totals").get_data(True))
    response = client.post(
        inv_url + "/form",
        headers={"X-Autosave": "1"},
        data={
            "section": "reporting_method",
            "lock_version": lock,
            "q.emissions_method": "totals",
        },
    )
    lock = str(response.get_json()["lock_version"])
    response = client.post(
        inv_url + "/form",
        headers={"X-Autosave": "1"},
        data={
            "section": "emissions_totals",
            "lock_version": lock,
            "q.scope1_total.value": "12",
            "q.scope1_total.unit": "kWh",
        },
    )
    body = response.get_json()
    assert body["ok"] is True  # the draft keeps what was typed
    assert any(e["code"] == "wrong_dimension" and "kWh" in e["message"] for e in body["errors"])


def test_concurrent_edit_is_refused_and_shows_the_other_change(csrf_off, launched, sqlite_url):
    first, second = csrf_off.test_client(), csrf_off.test_client()
    inv_url = open_link(first, launched["links"][0])
    open_link(second, launched["links"][0])
    first.post(inv_url + "/start")
    lock = lock_of(first.get(inv_url + "/form").get_data(True))
    assert (
        save_section(first, inv_url, "company_profile", lock, q__employees="120").status_code == 302
    )
    stale = save_section(second, inv_url, "company_profile", lock, q__employees="95")
    assert stale.status_code == 409
    html = stale.get_data(True)
    assert 'id="conflict"' in html and "120" in html and "95" in html
    with unit_of_work(sqlite_url) as s:
        answers = s.scalars(select(QuestionnaireResponse.answers)).one()
    assert answers["employees"] == "120"
    # Saving again after seeing the conflict is an explicit choice and goes through.
    resolved = save_section(second, inv_url, "company_profile", lock_of(html), q__employees="95")
    assert resolved.status_code == 302


def test_autosave_conflict_answers_409_json(csrf_off, launched):
    first, second = csrf_off.test_client(), csrf_off.test_client()
    inv_url = open_link(first, launched["links"][0])
    open_link(second, launched["links"][0])
    first.post(inv_url + "/start")
    lock = lock_of(first.get(inv_url + "/form").get_data(True))
    save_section(first, inv_url, "company_profile", lock, q__employees="7")
    response = second.post(
        inv_url + "/form",
        headers={"X-Autosave": "1"},
        data={"section": "company_profile", "lock_version": lock, "q.employees": "8"},
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "edit_conflict"
    assert response.get_json()["theirs"]["employees"] == "7"


def test_evidence_upload_checks_type_and_size(csrf_off, launched, app, sqlite_url):
    client = csrf_off.test_client()
    inv_url = open_link(client, launched["links"][0])
    client.post(inv_url + "/start")

    def upload(content: bytes, name: str):
        return client.post(
            inv_url + "/evidence",
            data={
                "question": "verification_evidence",
                "section": "verification",
                "file": (io.BytesIO(content), name),
            },
            content_type="multipart/form-data",
        )

    upload(b"MZ\x00\x01", "virus.exe")
    page = client.get(inv_url + "/form?section=verification").get_data(True)
    assert ".exe is not accepted" in page
    upload(b"not a pdf at all", "report.pdf")
    assert "does not match" in client.get(inv_url + "/form?section=verification").get_data(True)
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    assert upload(b"%PDF-" + b"x" * 20_000, "big.pdf").status_code == 413
    app.config["MAX_CONTENT_LENGTH"] = 1_000_000
    assert upload(PDF, "ISO14064 statement.pdf").status_code == 302
    with unit_of_work(sqlite_url) as s:
        answers = s.scalars(select(QuestionnaireResponse.answers)).one()
    files = answers["verification_evidence"]
    assert [f["filename"] for f in files] == ["ISO14064 statement.pdf"]
    download = client.get(f"/portal/evidence/{files[0]['file_id']}")
    assert download.status_code == 200 and download.data == PDF
    stranger = csrf_off.test_client()
    assert stranger.get(f"/portal/evidence/{files[0]['file_id']}").status_code == 404


def test_submit_with_missing_required_answers_is_refused(csrf_off, launched, sqlite_url):
    client = csrf_off.test_client()
    inv_url = open_link(client, launched["links"][0])
    client.post(inv_url + "/start")
    response = client.post(inv_url + "/submit")
    assert response.status_code == 302 and response.location.endswith("/review")
    html = client.get(response.location).get_data(True)
    assert 'id="submit-errors"' in html and "This question is required." in html
    with unit_of_work(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(Disclosure)) == 0
        inv = s.scalars(select(Invitation)).first()
        assert inv.status == InvitationStatus.IN_PROGRESS or inv.status == InvitationStatus.OPENED


def test_submit_return_fix_resubmit_accept(csrf_off, launched, sqlite_url):
    supplier = csrf_off.test_client()
    inv_url = open_link(supplier, launched["links"][0])
    supplier.post(inv_url + "/start")
    fill_everything(sqlite_url, inv_url)
    assert supplier.post(inv_url + "/submit").status_code == 302
    locked = save_section(supplier, inv_url, "company_profile", "99", q__employees="1")
    assert locked.status_code == 302  # refused with a message, nothing changed

    brand = csrf_off.test_client()
    assert login(brand, "buyer@acme.example").status_code == 302
    review_url = "/console/invitations/" + inv_url.rsplit("/", 1)[-1]
    page = brand.get(review_url).get_data(True)
    assert "Submission 1" in page
    brand.post(
        review_url + "/decision",
        data={"decision": "return", "comment:allocation_share": "Please use physical quantities."},
    )

    form = supplier.get(inv_url + "/form?section=allocation").get_data(True)
    assert "Please use physical quantities." in form
    save_section(
        supplier,
        inv_url,
        "allocation",
        lock_of(form),
        q__allocation_method="physical_quantity",
        q__allocation_share="12",
        q__allocation_basis="12 % of our tonnage",
        q__allocation_uncertainty_pct="5",
        q__data_source_allocation="production_records",
    )
    assert supplier.post(inv_url + "/submit").status_code == 302

    accepted = brand.post(review_url + "/decision", data={"decision": "accept"})
    assert accepted.status_code == 302
    disclosure_page = brand.get(accepted.location).get_data(True)
    assert "computed-from-activity" in disclosure_page
    with unit_of_work(sqlite_url) as s:
        d = s.scalars(select(Disclosure)).one()
        assert float(d.allocation_share) == pytest.approx(0.12)
        assert d.allocation_method == "physical_quantity"
        # 100 MWh of Chinese grid electricity and 10 t of diesel, through the activity factors.
        assert float(d.scope2_location_kg) > 50_000 and float(d.scope1_kg) > 30_000
        assert d.provenance["scope1_kg"]["method"] == "computed-from-activity"
        assert d.provenance["scope1_kg"]["submission"] == 2
        actions = s.scalars(select(AuditEvent.action)).all()
        assert actions.count("answer.changed") >= 4
        assert {"response.submitted", "response.returned", "response.accepted"} <= set(actions)
        statuses = s.scalars(select(Invitation.status)).all()
        assert InvitationStatus.ACCEPTED in statuses


def test_expired_revoked_and_cross_campaign_tokens(csrf_off, launched, sqlite_url, settings):
    client = csrf_off.test_client()
    assert client.get("/portal/i/not-a-real-token-at-all-xxxxxxxx").status_code == 404
    with unit_of_work(sqlite_url) as s:
        for token in s.scalars(select(InvitationToken)):
            token.expires_at = utcnow() - timedelta(days=1)
    expired = client.get(launched["links"][0])
    assert expired.status_code == 410 and 'data-code="token_expired"' in expired.get_data(True)

    with unit_of_work(sqlite_url) as s:
        for token in s.scalars(select(InvitationToken)):
            token.expires_at = utcnow() + timedelta(days=10)
    inv_url = open_link(client, launched["links"][0])
    assert client.get(inv_url).status_code == 200
    with unit_of_work(sqlite_url) as s:
        inv = s.scalars(select(Invitation).order_by(Invitation.id)).first()
        campaign_service.revoke(s, inv)
    assert client.get(inv_url).status_code == 404  # the open session loses access at once
    assert client.get(launched["links"][0]).status_code == 410

    # A link of supplier 1 never opens supplier 0's invitation, nor another campaign's.
    other = csrf_off.test_client()
    other_url = open_link(other, launched["links"][1])
    assert other.get(inv_url).status_code == 404
    assert other.get(other_url).status_code == 200


def test_reissue_replaces_the_old_link(csrf_off, launched, sqlite_url, settings):
    client = csrf_off.test_client()
    with unit_of_work(sqlite_url) as s:
        inv = s.scalars(select(Invitation).order_by(Invitation.id)).first()
        new = campaign_service.reissue_token(s, settings, inv, base_url="http://testserver")
    assert client.get(launched["links"][0]).status_code == 410
    assert client.get(new.replace("http://testserver", "")).status_code == 302


def test_sharing_with_a_second_brand_needs_consent(csrf_off, launched, sqlite_url, settings):
    with unit_of_work(sqlite_url) as s:
        first_rel = (
            s.scalars(select(Invitation).order_by(Invitation.id)).first().supplier_relationship
        )
        supplier_org = first_rel.supplier
        brand_b, rels_b = cs.brand_with_suppliers(s, "bravo", suppliers=[supplier_org])
        _campaign_b, links_b = cs.launch_campaign(s, settings, brand_b, name="Bravo survey")
        link_b = links_b[rels_b[0].id].replace("http://testserver", "")

    supplier = csrf_off.test_client()
    inv_a = open_link(supplier, launched["links"][0])
    supplier.post(inv_a + "/start")
    fill_everything(sqlite_url, inv_a)
    supplier.post(inv_a + "/submit")
    supplier.post(
        inv_a + "/claim",
        data={"display_name": "Wang", "password": "s3cret-pass", "password_confirm": "s3cret-pass"},
    )
    confirm = re.search(r"/portal/claims/[\w-]+", read_outbox(settings)[-1].get_content())[0]
    assert supplier.post(confirm, data={"password": "s3cret-pass"}).status_code == 302
    brand_a = csrf_off.test_client()
    login(brand_a, "buyer@acme.example")
    review_a = "/console/invitations/" + inv_a.rsplit("/", 1)[-1]
    brand_a.post(
        review_a + "/decision", data={"decision": "return", "comment:employees": "Acme-only remark"}
    )

    inv_b = open_link(supplier, link_b)
    landing = supplier.get(inv_b).get_data(True)
    assert 'id="share"' in landing
    brand_b_client = csrf_off.test_client()
    login(brand_b_client, "buyer@bravo.example")
    review_b = "/console/invitations/" + inv_b.rsplit("/", 1)[-1]
    assert "Nothing has been submitted yet." in brand_b_client.get(review_b).get_data(True)

    refused = supplier.post(inv_b + "/share", data={})
    assert refused.status_code == 302
    with unit_of_work(sqlite_url) as s:
        inv = s.scalars(select(Invitation).where(Invitation.brand_id == brand_b.id)).one()
        assert inv.response_id is None
    supplier.post(inv_b + "/share", data={"consent": "on"})
    with unit_of_work(sqlite_url) as s:
        inv = s.scalars(select(Invitation).where(Invitation.brand_id == brand_b.id)).one()
        assert inv.response_id is not None and inv.shared_at is not None
    page_b = brand_b_client.get(review_b).get_data(True)
    assert "Acme-only remark" not in page_b
    assert "Acme Brand" not in page_b and "Supplier climate disclosure 2025" not in page_b
    with unit_of_work(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(ReviewComment)) == 1


def test_campaign_page_counts_and_one_click_reminder(csrf_off, launched, sqlite_url, settings):
    brand = csrf_off.test_client()
    login(brand, "buyer@acme.example")
    page = brand.get(f"/console/campaigns/{launched['campaign']}").get_data(True)
    assert 'data-status="invited"' in page
    before = len(cs.links_in_outbox(settings))
    brand.post(f"/console/campaigns/{launched['campaign']}/remind")
    assert len(cs.links_in_outbox(settings)) == before + 2
    # Old links keep working after a reminder (a supplier may be halfway through).
    assert csrf_off.test_client().get(launched["links"][0]).status_code == 302


def test_overdue_suppliers_are_listed(csrf_off, sqlite_url, settings):
    with unit_of_work(sqlite_url) as s:
        brand, _rels = cs.brand_with_suppliers(s, "late")
        campaign, _links = cs.launch_campaign(
            s, settings, brand, deadline=date.today() - timedelta(days=2)
        )
        campaign_service.mark_overdue(s, campaign, date.today())
        public_id = campaign.public_id
    client = csrf_off.test_client()
    login(client, "buyer@late.example")
    page = client.get(f"/console/campaigns/{public_id}").get_data(True)
    invitations_table = page.split('id="invitations"', 1)[1]
    assert 'id="overdue"' in page and invitations_table.count('data-status="overdue"') == 2


def test_console_offers_only_shipped_and_own_questionnaires(csrf_off, sqlite_url, launched):
    from questionnaires.publishing import create_draft, publish
    from tests.support import builders

    with unit_of_work(sqlite_url) as s:
        other = builders.brand(s, "rival")
        own_definition = cs.shipped_definition()
        own_definition["key"] = "rival_private_survey"
        own_definition["title"] = {"en": "Rival private survey", "zh": "对手的内部问卷"}
        secret = publish(s, create_draft(s, own_definition, owner_id=other.id))
        secret_id = str(secret.public_id)
    client = csrf_off.test_client()
    login(client, "buyer@acme.example")
    page = client.get("/console/campaigns/new").get_data(as_text=True)
    assert "Rival private survey" not in page and secret_id not in page
    refused = client.post(
        "/console/campaigns/new",
        data={
            "name": "x",
            "version": secret_id,
            "reporting_year": "2025",
            "deadline": "2030-01-01",
        },
    )
    assert refused.status_code == 400
