"""Issue 4 acceptance in a real Chromium: a supplier answers in Chinese with activity data,
uploads evidence, leaves and comes back, submits; the brand returns it with a comment; the
supplier fixes and resubmits; the brand accepts and sees the computed Scope 1 and 2."""

from __future__ import annotations

import re

import pytest

from supplychain.config import load_settings
from supplychain.db import unit_of_work
from supplychain.models import Role
from tests.support import builders
from tests.support import campaigns as cs

pytestmark = pytest.mark.e2e
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def invitation_link(live_server):
    instance = live_server["instance"]
    settings = load_settings(
        instance_path=instance, database_url=f"sqlite:///{instance / 'supplychain.db'}"
    )
    with unit_of_work(settings.database_url) as s:
        supplier = builders.supplier(s, "苏州立新精密五金有限公司")
        brand, rels = cs.brand_with_suppliers(s, "e2e-brand", suppliers=[supplier])
        builders.user(s, "reviewer@e2e-brand.example", brand, Role.SUSTAINABILITY)
        _campaign, links = cs.launch_campaign(s, settings, brand, name="E2E 2025")
        link = links[rels[0].id].replace("http://testserver", live_server["url"])
    return link


def next_page(page) -> None:
    page.click("#next")
    page.wait_for_load_state("load")


def choose(page, name: str, value: str) -> None:
    page.select_option(f"select[name='{name}']", value)


def radio(page, name: str, value: str) -> None:
    page.check(f"input[name='{name}'][value='{value}']")


def sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button.primary")


def test_supplier_answers_brand_returns_then_accepts(
    browser, live_server, invitation_link, tmp_path
):
    base = live_server["url"]
    evidence = tmp_path / "核查声明.pdf"
    evidence.write_bytes(PDF)

    supplier = browser.new_context(locale="en-US")
    page = supplier.new_page()
    page.set_default_timeout(15_000)
    page.goto(invitation_link)
    invitation_url = page.url
    assert re.search(r"/portal/invitations/[0-9a-f-]{36}$", invitation_url)
    page.click("form.lang-switch button")  # 中文
    page.wait_for_selector("html[lang=zh-CN]")
    page.click("#start")

    # Company profile
    page.fill("[name='q.company_name']", "苏州立新精密五金有限公司")
    choose(page, "q.country", "CN")
    page.fill("input[name='q.reporting_year']", "2025")
    choose(page, "q.organisational_boundary", "operational_control")
    page.fill("input[name='q.revenue.amount']", "8000000")
    page.fill("input[name='q.revenue.currency']", "CNY")
    page.fill("input[name='q.employees']", "180")
    choose(page, "q.sector_code_system", "naics")
    page.fill("[name='q.sector_code']", "332119")
    next_page(page)
    choose(page, "q.emissions_method", "activity")
    next_page(page)

    # Activity data: 120 MWh of Chinese grid electricity and 10 t of diesel.
    page.fill("input[name='q.electricity_use.0.site']", "一号厂房")
    choose(page, "q.electricity_use.0.grid_region", "CN")
    page.fill("input[name='q.electricity_use.0.quantity.value']", "120")
    choose(page, "q.electricity_use.0.quantity.unit", "MWh")
    choose(page, "q.fuel_use.0.fuel", "diesel")
    page.fill("input[name='q.fuel_use.0.quantity.value']", "10")
    choose(page, "q.fuel_use.0.quantity.unit", "t")
    page.click("#save")
    page.wait_for_selector(".normalised")
    assert "120,000 kWh" in page.locator("[data-question=electricity_use]").inner_text()

    # Typed but never explicitly saved: the autosave keeps it.
    next_page(page)
    page.fill("input[name='q.renewable_electricity_share']", "35")
    # A selector, not wait_for_function: the page's CSP forbids evaluating strings as script.
    page.wait_for_selector("#autosave-status:not(:empty)")

    # Close the browser, come back with the same link: nothing typed is lost.
    supplier.close()
    supplier = browser.new_context(locale="zh-CN")
    page = supplier.new_page()
    page.set_default_timeout(15_000)
    page.goto(invitation_link)
    page.click("#continue")
    page.goto(page.url + "?section=activity_data")
    assert page.input_value("input[name='q.electricity_use.0.quantity.value']") == "120"
    next_page(page)  # renewable electricity
    assert page.input_value("input[name='q.renewable_electricity_share']") == "35"
    next_page(page)  # scope 3
    radio(page, "q.scope3_known", "no")
    next_page(page)
    choose(page, "q.data_source_emissions", "production_records")
    choose(page, "q.data_source_revenue", "audited_accounts")
    next_page(page)

    # Verification: answering "yes" brings up the follow-up questions and the upload.
    radio(page, "q.verified_third_party", "yes")
    page.click("#save")
    page.wait_for_selector("select[name='q.verification_standard']")
    choose(page, "q.verification_standard", "iso14064_3")
    choose(page, "q.verification_assurance_level", "limited")
    page.click("#save")
    page.wait_for_selector("input[form='upload-verification_evidence']")
    page.set_input_files("input[form='upload-verification_evidence']", str(evidence))
    page.click("button[form='upload-verification_evidence']")
    page.wait_for_selector("[data-question=verification_evidence] ul.files li")
    assert "核查声明.pdf" in page.locator("[data-question=verification_evidence]").inner_text()
    next_page(page)
    radio(page, "q.has_target", "no")
    choose(page, "q.sbti_status", "none")
    next_page(page)
    radio(page, "q.board_oversight", "yes")
    radio(page, "q.has_responsible_manager", "no")
    radio(page, "q.engages_own_suppliers", "no")
    next_page(page)
    next_page(page)  # reduction initiatives (optional)
    choose(page, "q.allocation_method", "revenue_share")
    page.fill("input[name='q.allocation_share']", "15")
    page.fill("textarea[name='q.allocation_basis']", "对该客户销售额占总销售额的比例")
    page.fill("input[name='q.allocation_uncertainty_pct']", "10")
    choose(page, "q.data_source_allocation", "finance_records")
    next_page(page)
    page.click("#to-review")
    page.wait_for_selector("#submit")
    assert page.locator("#submit-errors").count() == 0
    page.click("#submit")
    page.wait_for_url(invitation_url)
    assert page.locator("#invitation-status").inner_text() == "已提交"

    # The brand returns it with a comment on the allocation share.
    brand = browser.new_context(locale="en-US")
    review = brand.new_page()
    review.set_default_timeout(15_000)
    sign_in(review, base, "reviewer@e2e-brand.example", builders.PASSWORD)
    review_url = base + "/console/invitations/" + invitation_url.rsplit("/", 1)[-1]
    review.goto(review_url)
    assert "120" in review.locator("[data-question=electricity_use]").inner_text()
    review.fill("textarea[name='comment:allocation_share']", "Please base the share on tonnage.")
    review.click("button[value=return]")
    review.wait_for_selector("#invitation-status")
    assert review.locator("#invitation-status").inner_text() == "Returned for revision"

    # The supplier sees the comment, fixes the share and resubmits.
    page.goto(invitation_url)
    page.click("#continue")
    page.click("#returned-comments a")  # the comment links to its question
    page.wait_for_url(re.compile(r"section=allocation"))
    assert (
        "Please base the share on tonnage."
        in page.locator("[data-question=allocation_share]").inner_text()
    )
    choose(page, "q.allocation_method", "physical_quantity")
    page.fill("input[name='q.allocation_share']", "12")
    page.fill("textarea[name='q.allocation_basis']", "按吨位计算：12%")
    page.click("#save")
    page.goto(invitation_url + "/review")
    page.click("#submit")
    page.wait_for_url(invitation_url)

    # The brand accepts; the disclosure shows Scope 1 and 2 computed from activity data.
    review.goto(review_url)
    review.click("button[value=accept]")
    review.wait_for_selector("#disclosure")
    scope1 = review.locator("tr[data-field=scope1_kg]").inner_text()
    scope2 = review.locator("tr[data-field=scope2_location_kg]").inner_text()
    assert "computed-from-activity" in scope1 and "IPCC" in scope1
    assert "computed-from-activity" in scope2 and "Ministry of Ecology" in scope2
    assert re.search(r"3[12],\d{3}\.\d{3} kg CO2e", scope1)  # 10 t diesel ≈ 31,967 kg
    share = review.locator("tr[data-field=allocation_share]").inner_text()
    assert "0.12" in share
    supplier.close()
    brand.close()
