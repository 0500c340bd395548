"""The pages work in a real Chromium under the Content-Security-Policy (no inline script):
language switch, autosave, added table rows, follow-up questions and confirm dialogs, with no
policy violation reported by the browser."""

from __future__ import annotations

import re

import pytest

from supplychain.config import load_settings
from supplychain.db import unit_of_work
from supplychain.models import Role
from tests.support import builders
from tests.support import campaigns as cs

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def csp_campaign(live_server):
    instance = live_server["instance"]
    settings = load_settings(
        instance_path=instance, database_url=f"sqlite:///{instance / 'supplychain.db'}"
    )
    with unit_of_work(settings.database_url) as s:
        brand, rels = cs.brand_with_suppliers(s, "csp-brand", n=1)
        builders.user(s, "reviewer@csp-brand.example", brand, Role.SUSTAINABILITY)
        campaign, links = cs.launch_campaign(s, settings, brand, name="CSP 2025")
        link = links[rels[0].id].replace("http://testserver", live_server["url"])
        return {"link": link, "campaign": str(campaign.public_id)}


def watch_policy(page) -> list[str]:
    """Every message Chromium logs about a Content-Security-Policy violation on this page."""
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return violations


def test_portal_works_under_the_policy(browser, live_server, csp_campaign):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = watch_policy(page)
    response = page.goto(csp_campaign["link"])
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.click("form.lang-switch button")
    page.wait_for_selector("html[lang=zh-CN]")
    page.click("form.lang-switch button")
    page.wait_for_selector("html[lang=en]")
    page.click("#start")
    page.wait_for_selector("#questionnaire-form")

    # portal.js: autosave after typing.
    page.fill("[name='q.company_name']", "CSP Precision Parts")
    page.wait_for_selector("#autosave-status:not(:empty)")
    assert "Draft saved" in page.locator("#autosave-status").inner_text()

    # portal.js: a table question gains a row.
    page.goto(page.url.split("?")[0] + "?section=reporting_method")
    page.select_option("select[name='q.emissions_method']", "activity")
    page.click("#next")
    page.wait_for_selector("table[data-table='electricity_use']")
    rows = page.locator("table[data-table='electricity_use'] tbody tr")
    before = rows.count()
    page.click("button.add-row[data-table='electricity_use']")
    assert rows.count() == before + 1

    # A follow-up question appears once the answer that asks for it is saved.
    page.goto(page.url.split("?")[0] + "?section=verification")
    assert page.locator("select[name='q.verification_standard']").count() == 0
    page.check("input[name='q.verified_third_party'][value='yes']")
    page.click("#save")
    page.wait_for_selector("select[name='q.verification_standard']")
    assert violations == []
    context.close()


def test_withdrawing_a_link_asks_first(browser, live_server, csp_campaign):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = watch_policy(page)
    page.goto(f"{live_server['url']}/login")
    page.fill("input[name=email]", "reviewer@csp-brand.example")
    page.fill("input[name=password]", builders.PASSWORD)
    page.click("button.primary")
    page.wait_for_url(re.compile(r"/console/"))
    page.goto(f"{live_server['url']}/console/campaigns/{csp_campaign['campaign']}")
    withdraw = page.locator("form.revoke button")
    assert withdraw.count() == 1

    questions: list[str] = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    withdraw.click()
    assert questions and "Withdraw every link" in questions[0]
    page.reload()  # what the server holds: the link is still there
    assert page.locator("form.revoke button").count() == 1

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        withdraw.click()
    assert "The link was withdrawn." in page.locator("p.flash").all_inner_texts()
    assert page.locator("form.revoke button").count() == 0
    assert violations == []
    context.close()
