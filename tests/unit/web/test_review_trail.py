"""The brand's review page shows what was submitted, never the supplier's unsubmitted drafts:
the list of submissions and, between consecutive ones, which answers changed from what to what."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from supplychain.api_keys import create_api_key
from supplychain.db import unit_of_work
from supplychain.models import Evidence, Organization, User
from tests.support import campaigns as cs
from tests.unit.web.conftest import login
from tests.unit.web.test_portal import fill_everything, lock_of, open_link, save_section

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DRAFT_TEXT = "DRAFT-ONLY basis, never submitted"


@pytest.fixture
def returned(csrf_off, sqlite_url):
    """Submission 1 was returned; the supplier is now editing a draft the brand must not see."""
    settings = csrf_off.extensions["settings"]
    with unit_of_work(sqlite_url) as s:
        brand, rels = cs.brand_with_suppliers(s, "acme", n=1)
        _campaign, links = cs.launch_campaign(s, settings, brand)
        link = links[rels[0].id].replace("http://testserver", "")
    supplier = csrf_off.test_client()
    inv_url = open_link(supplier, link)
    supplier.post(inv_url + "/start")
    fill_everything(sqlite_url, inv_url)
    assert supplier.post(inv_url + "/submit").status_code == 302

    brand_client = csrf_off.test_client()
    assert login(brand_client, "buyer@acme.example").status_code == 302
    review_url = "/console/invitations/" + inv_url.rsplit("/", 1)[-1]
    brand_client.post(
        review_url + "/decision",
        data={"decision": "return", "comment:allocation_share": "Use physical quantities."},
    )
    form = supplier.get(inv_url + "/form?section=allocation").get_data(True)
    saved = save_section(
        supplier, inv_url, "allocation", lock_of(form), q__allocation_basis=DRAFT_TEXT
    )
    assert saved.status_code == 302
    supplier.post(
        inv_url + "/evidence",
        data={
            "question": "verification_evidence",
            "section": "verification",
            "file": (io.BytesIO(PDF), "draft-only-statement.pdf"),
        },
        content_type="multipart/form-data",
    )
    return supplier, brand_client, inv_url, review_url


def _history(html: str) -> str:
    found = re.search(r'<section id="submission-history".*?</section>', html, re.S)
    assert found, "the review page has no submission history"
    return found[0]


def test_a_draft_after_submitting_is_not_shown_to_the_brand(returned):
    _supplier, brand, _inv_url, review_url = returned
    page = brand.get(review_url).get_data(True)
    assert DRAFT_TEXT not in page
    assert "draft-only-statement.pdf" not in page
    assert "answer.changed" not in page
    history = _history(page)
    assert len(re.findall(r'<tr class="submission"', history)) == 1


def test_second_submission_shows_old_and_new_values(returned):
    supplier, brand, inv_url, review_url = returned
    form = supplier.get(inv_url + "/form?section=allocation").get_data(True)
    save_section(
        supplier,
        inv_url,
        "allocation",
        lock_of(form),
        q__allocation_method="physical_quantity",
        q__allocation_share="12.5",
        q__allocation_basis="12.5 % of our tonnage",
        q__allocation_uncertainty_pct="10",
        q__data_source_allocation="finance_records",
    )
    assert supplier.post(inv_url + "/submit").status_code == 302

    page = brand.get(review_url).get_data(True)
    assert DRAFT_TEXT not in page and "draft-only-statement.pdf" not in page
    history = _history(page)
    assert len(re.findall(r'<tr class="submission"', history)) == 2
    method = re.search(
        r'<tr class="change" data-changed-question="allocation_method">.*?</tr>', history, re.S
    )
    assert method, history
    assert "How do you allocate your emissions to this customer?" in method[0]
    assert re.search(r'class="before">\s*Share of revenue\s*<', method[0])
    assert re.search(r'class="after">\s*Share of physical output', method[0])
    share = re.search(r'data-changed-question="allocation_share">.*?</tr>', history, re.S)[0]
    assert re.search(r'class="before">\s*15 %\s*<', share)
    assert re.search(r'class="after">\s*12.5 %\s*<', share)
    assert 'data-changed-question="company_name"' not in history  # unchanged answers are not listed
    assert "{" not in history and "e+" not in history.lower()

    brand.post("/language", data={"lang": "zh_CN"})
    chinese = _history(brand.get(review_url).get_data(True))
    assert "按营业收入占比" in chinese and "按实物量占比" in chinese
    assert "贵公司采用何种方法将排放分摊至本客户？" in chinese


def test_the_brand_api_shows_the_submission_not_the_draft(returned, csrf_off, sqlite_url):
    _supplier, _brand, inv_url, _review_url = returned
    with unit_of_work(sqlite_url) as s:
        buyer = s.scalars(select(User).where(User.email == "buyer@acme.example")).one()
        brand = s.scalars(select(Organization).where(Organization.slug == "acme")).one()
        key = create_api_key(s, buyer, brand, "ERP")[1]
    invitation_id = inv_url.rsplit("/", 1)[-1]
    body = (
        csrf_off.test_client()
        .get(f"/api/v1/invitations/{invitation_id}", headers={"Authorization": f"Bearer {key}"})
        .get_json()
    )
    assert body["submission"]["number"] == 1
    submitted = body["submission"]["answers"]
    assert submitted["allocation_basis"] == cs.BASE_ANSWERS["allocation_basis"]
    assert DRAFT_TEXT not in str(body)


def test_a_file_uploaded_to_a_draft_cannot_be_downloaded_by_the_brand(returned, sqlite_url):
    _supplier, brand, _inv_url, _review_url = returned
    with unit_of_work(sqlite_url) as s:
        draft_only = s.scalars(
            select(Evidence.public_id).where(Evidence.original_name == "draft-only-statement.pdf")
        ).one()
    assert brand.get(f"/console/evidence/{draft_only}").status_code == 404


def test_a_file_a_submission_refers_to_can_be_downloaded_by_the_brand(client_a, tenants):
    # the tenant's submission carries its verification statement (see conftest)
    download = client_a.get(f"/console/evidence/{tenants[0].evidence_id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
