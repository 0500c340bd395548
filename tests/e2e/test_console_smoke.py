"""The printed demo login reaches the supplier list in English and in Chinese, in a real browser."""

from __future__ import annotations

import re

import pytest

from supplychain.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button.primary")


def test_procurement_login_reaches_supplier_list_in_both_languages(page, live_server):
    assert "procurement@demo.example" in live_server["logins"]
    sign_in(page, live_server["url"], "procurement@demo.example")
    page.wait_for_url(re.compile(r"/console/suppliers"))
    # The demo procurement user prefers Chinese; the switch takes us to English and back.
    if page.locator("html").get_attribute("lang") == "zh-CN":
        page.click("form.lang-switch button")
    assert page.locator("h1").inner_text() == "Suppliers"
    assert page.locator("#suppliers tbody tr").count() == 50
    page.click("form.lang-switch button")
    page.wait_for_selector("html[lang=zh-CN]")
    assert page.locator("h1").inner_text() == "供应商"
    assert "年度采购额" in page.locator("#suppliers thead").inner_text()


def test_search_sort_and_open_a_supplier(page, live_server):
    sign_in(page, live_server["url"], "sustainability@demo.example")
    page.wait_for_url(re.compile(r"/console/suppliers"))
    page.fill("input[name=q]", "有限公司")
    page.click("form.search button")
    rows = page.locator("#suppliers tbody tr")
    assert rows.count() > 0
    assert all("有限公司" in t for t in rows.locator("td:nth-child(2)").all_inner_texts())
    page.click("#suppliers thead a:has-text('Annual spend')")
    page.locator("#suppliers tbody tr td:nth-child(2) a").first.click()
    assert page.locator("dl.facts").is_visible()


def test_supplier_contact_lands_on_their_questionnaires(page, live_server):
    sign_in(page, live_server["url"], "supplier@demo.example")
    page.wait_for_url(re.compile(r"/portal/"))
    assert "Aurora Devices" in page.locator("#portal-invitations").inner_text()
    response = page.goto(f"{live_server['url']}/console/suppliers")
    assert response.status == 403


def test_demo_footprint_run_is_visible(page, live_server):
    sign_in(page, live_server["url"], "sustainability@demo.example")
    page.wait_for_url(re.compile(r"/console/suppliers"))
    page.click("nav a[href='/console/footprint']")
    assert page.locator("#run-total").inner_text().strip() != ""
    assert page.locator("table").count() >= 4  # by tier, by method, hotspots, paths
