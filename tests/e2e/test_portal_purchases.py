"""Issue 10 in a real Chromium: a supplier answers questionnaire version 2 in Chinese, including
its purchased goods and services (spend, currency, main categories) and its Scope 3 Category 1;
a currency the footprint cannot convert is refused in Chinese; the brand accepts and the stored
disclosure row carries the purchases the footprint reads."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from questionnaires import campaigns
from questionnaires.publishing import newest_shipped
from supplychain.config import load_settings
from supplychain.db import unit_of_work
from supplychain.models import Disclosure, Role
from tests.support import builders
from tests.support import campaigns as cs

pytestmark = pytest.mark.e2e
SUPPLIER = "东莞市恒通精密五金有限公司"


@pytest.fixture
def invitation_link(live_server):
    """A brand's campaign on the newest shipped questionnaire, the default for new campaigns."""
    instance = live_server["instance"]
    settings = load_settings(
        instance_path=instance, database_url=f"sqlite:///{instance / 'supplychain.db'}"
    )
    with unit_of_work(settings.database_url) as s:
        supplier = builders.supplier(s, SUPPLIER)
        brand, rels = cs.brand_with_suppliers(s, "e2e-purchases", suppliers=[supplier])
        builders.user(s, "reviewer@e2e-purchases.example", brand, Role.SUSTAINABILITY)
        version = newest_shipped(s)
        assert version.version == 2
        campaign = campaigns.create_campaign(
            s,
            brand_id=brand.id,
            name="E2E 2025 purchases",
            questionnaire_version=version,
            reporting_year=2025,
            deadline=date.today() + timedelta(days=30),
            supplier_filter=campaigns.SupplierFilter(),
        )
        result = campaigns.launch(s, settings, campaign, base_url="http://testserver")
        link = result.links[result.invited[0].id].replace("http://testserver", live_server["url"])
    return {"link": link, "database_url": settings.database_url, "supplier": SUPPLIER}


def next_page(page) -> None:
    page.click("#next")
    page.wait_for_load_state("load")


def choose(page, name: str, value: str) -> None:
    page.select_option(f"select[name='{name}']", value)


def radio(page, name: str, value: str) -> None:
    page.check(f"input[name='{name}'][value='{value}']")


def fill_profile_and_totals(page) -> None:
    page.fill("[name='q.company_name']", SUPPLIER)
    choose(page, "q.country", "CN")
    page.fill("input[name='q.reporting_year']", "2025")
    choose(page, "q.organisational_boundary", "operational_control")
    page.fill("input[name='q.revenue.amount']", "9800000")
    page.fill("input[name='q.revenue.currency']", "CNY")
    page.fill("input[name='q.employees']", "210")
    choose(page, "q.sector_code_system", "naics")
    page.fill("[name='q.sector_code']", "332119")
    next_page(page)
    choose(page, "q.emissions_method", "totals")
    next_page(page)
    page.fill("input[name='q.scope1_total.value']", "150")
    page.fill("input[name='q.scope2_location_total.value']", "380")
    next_page(page)
    next_page(page)  # renewable electricity (optional)


def fill_purchases(page) -> None:
    """The purchases page, in Chinese: a refused currency first, then the right answers."""
    assert page.locator("h1").inner_text() == "外购商品和服务（范围三类别1）"
    page.fill("input[name='q.purchased_spend.amount']", "3,600,000.50")
    page.fill("input[name='q.purchased_spend.currency']", "THB")
    choose(page, "q.purchased_categories.0.category", "331110")
    page.fill("input[name='q.purchased_categories.0.share_pct']", "55")
    page.click("#save")
    error = page.locator("[data-question=purchased_spend] .field-error")
    error.wait_for()
    assert error.inner_text() == (
        "本题不支持货币“THB”，请使用以下币种之一：CNY, USD, EUR, GBP, JPY。"
    )
    page.fill("input[name='q.purchased_spend.currency']", "cny")
    # The saved row comes back with an empty row after it for the next category.
    choose(page, "q.purchased_categories.1.category", "325211")
    page.fill("input[name='q.purchased_categories.1.share_pct']", "20")
    radio(page, "q.cat1_emissions_known", "yes")
    page.click("#save")
    page.wait_for_selector("input[name='q.cat1_emissions_total.value']")
    assert page.locator("[data-question=purchased_spend] .field-error").count() == 0
    page.fill("input[name='q.cat1_emissions_total.value']", "420")
    choose(page, "q.cat1_emissions_total.unit", "t CO2e")
    next_page(page)


def fill_the_rest(page) -> None:
    choose(page, "q.data_source_emissions", "production_records")
    choose(page, "q.data_source_revenue", "audited_accounts")
    choose(page, "q.data_source_purchases", "management_accounts")
    choose(page, "q.data_source_scope3", "finance_records")
    next_page(page)
    radio(page, "q.verified_third_party", "no")
    next_page(page)
    radio(page, "q.has_target", "no")
    choose(page, "q.sbti_status", "none")
    next_page(page)
    radio(page, "q.board_oversight", "yes")
    radio(page, "q.has_responsible_manager", "no")
    radio(page, "q.engages_own_suppliers", "yes")
    next_page(page)
    next_page(page)  # reduction initiatives (optional)
    choose(page, "q.allocation_method", "revenue_share")
    page.fill("input[name='q.allocation_share']", "8")
    page.fill("textarea[name='q.allocation_basis']", "对该客户销售额占总销售额的 8%")
    page.fill("input[name='q.allocation_uncertainty_pct']", "10")
    choose(page, "q.data_source_allocation", "finance_records")
    next_page(page)


def test_supplier_reports_purchases_in_chinese_and_the_brand_accepts(
    browser, live_server, invitation_link
):
    base = live_server["url"]
    supplier = browser.new_context(locale="zh-CN")
    page = supplier.new_page()
    page.set_default_timeout(15_000)
    page.goto(invitation_link["link"])
    invitation_url = page.url
    assert re.search(r"/portal/invitations/[0-9a-f-]{36}$", invitation_url)
    page.wait_for_selector("html[lang=zh-CN]")
    page.click("#start")
    fill_profile_and_totals(page)
    fill_purchases(page)
    fill_the_rest(page)
    page.click("#to-review")
    page.wait_for_selector("#submit")
    assert page.locator("#submit-errors").count() == 0
    page.click("#submit")
    page.wait_for_url(invitation_url)
    assert page.locator("#invitation-status").inner_text() == "已提交"

    brand = browser.new_context(locale="en-US")
    review = brand.new_page()
    review.set_default_timeout(15_000)
    review.goto(f"{base}/login")
    review.fill("input[name=email]", "reviewer@e2e-purchases.example")
    review.fill("input[name=password]", builders.PASSWORD)
    review.click("button.primary")
    review.goto(base + "/console/invitations/" + invitation_url.rsplit("/", 1)[-1])
    answers = review.locator("[data-question=purchased_categories]").inner_text()
    assert "NAICS 331110" in answers and "55" in answers
    review.click("button[value=accept]")
    review.wait_for_selector("#disclosure")
    upstream = review.locator("tr[data-field=scope3_upstream_kg]").inner_text()
    assert "420,000.000 kg CO2e" in upstream and "cat1_emissions_total" in upstream
    supplier.close()
    brand.close()

    with unit_of_work(invitation_link["database_url"]) as s:
        stored = s.scalars(
            select(Disclosure).where(Disclosure.source_ref.like("submission:%"))
        ).all()
        (row,) = [d for d in stored if d.supplier.name == invitation_link["supplier"]]
        assert row.reporting_year == 2025
        assert row.purchased_spend == Decimal("3600000.50")
        assert row.purchased_currency == "CNY"
        assert row.purchased_naics == "331110"
        assert row.scope3_upstream_kg == Decimal("420000.000")
        assert row.details["scope3_upstream_boundary"] == "category_1"
        assert row.details["purchased_categories"] == [
            {"naics": "331110", "share": 0.55},
            {"naics": "325211", "share": 0.20},
        ]
        assert row.details["data_sources"]["purchases"] == "management_accounts"
        assert row.provenance["purchased_spend"]["questionnaire_version"] == 2
        assert row.provenance["purchased_naics"]["method"] == "largest-purchased-category"
