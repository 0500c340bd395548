"""Issue 9 acceptance in a real Chromium: procurement opens the ranking, the demo supplier's
scorecard and sets a due date on one of its corrective actions; the supplier contact signs in,
switches to Chinese and sees that action with its due date on the portal scorecard."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from supplychain.config import load_settings
from supplychain.db import unit_of_work
from supplychain.demo import DEMO_PASSWORD, SUPPLIER_LOGIN
from supplychain.models import Organization, OrgKind, SupplierRelationship, User

pytestmark = pytest.mark.e2e
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def demo_supplier(live_server) -> dict:
    """The demo brand's relationship with the organisation of the demo supplier login."""
    instance = live_server["instance"]
    settings = load_settings(
        instance_path=instance, database_url=f"sqlite:///{instance / 'supplychain.db'}"
    )
    with unit_of_work(settings.database_url) as s:
        user = s.scalars(select(User).where(User.email == SUPPLIER_LOGIN[0])).one()
        supplier_id = user.memberships[0].organization_id
        rel = s.scalars(
            select(SupplierRelationship)
            .join(Organization, Organization.id == SupplierRelationship.brand_id)
            .where(
                SupplierRelationship.supplier_id == supplier_id,
                Organization.kind == OrgKind.BRAND,
            )
        ).one()
        return {"relationship_id": str(rel.public_id), "code": rel.supplier_code}


def new_page(browser, locale: str = "en-US"):
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button.primary")
    page.wait_for_load_state("load")


def test_action_due_date_reaches_the_supplier_in_chinese(
    browser, live_server, demo_supplier, tmp_path
):
    base = live_server["url"]
    due = (date.today() + timedelta(days=75)).isoformat()

    # Procurement: ranking → the demo supplier's scorecard → a due date on its top action.
    brand, page = new_page(browser)
    sign_in(page, base, "procurement@demo.example")
    page.click("nav a[href='/console/scores']")
    page.wait_for_selector("#filters")
    page.fill("#filters input[name=q]", demo_supplier["code"])
    page.click("#filters button[type=submit]")
    row = page.locator(f"tr[data-relationship='{demo_supplier['relationship_id']}']")
    row.wait_for()
    page.screenshot(path=str(tmp_path / "1-ranking.png"), full_page=True)
    row.locator("a").first.click()
    page.wait_for_url(re.compile(r"/console/scores/suppliers/" + demo_supplier["relationship_id"]))
    action = page.locator("section.action").first
    action_id = action.get_attribute("data-action")
    action.locator("input[name=due_date]").fill(due)
    action.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    saved = page.locator(f"#action-{action_id}")
    assert due in saved.inner_text()
    assert saved.locator("input[name=due_date]").input_value() == due
    page.screenshot(path=str(tmp_path / "2-scorecard.png"), full_page=True)
    brand.close()

    # The supplier contact: portal home → 中文 → scorecard with that action and its due date.
    supplier, page = new_page(browser)
    sign_in(page, base, SUPPLIER_LOGIN[0])
    page.wait_for_url(re.compile(r"/portal/"))
    if page.locator("html").get_attribute("lang") == "zh-CN":  # the demo contact prefers zh
        page.click("form.lang-switch button")
        page.wait_for_selector("html[lang=en]")
    assert page.locator("#scorecard-link").inner_text() == "Your scorecards and corrective actions"
    page.click("form.lang-switch button")  # 中文
    page.wait_for_selector("html[lang=zh-CN]")
    page.click("#scorecard-link")
    page.wait_for_url(re.compile(r"/portal/scorecard$"))
    assert page.locator("h1").inner_text() == "我的评分卡"
    card = page.locator("section.scorecard")
    assert card.count() == 1  # one brand scored this supplier
    assert "Aurora Devices" in card.locator("h2").inner_text()
    shown = card.locator(f"tr[data-action='{action_id}']")
    assert shown.locator("td.due").inner_text() == due
    assert CJK.search(shown.locator("td").first.inner_text())  # what to do, in Chinese
    assert "整改措施" in card.inner_text()
    page.screenshot(path=str(tmp_path / "3-portal-scorecard-zh.png"), full_page=True)
    supplier.close()


def test_insight_pages_on_the_demo(browser, live_server, tmp_path):
    """Engagement priority, SBTi tracking and an award comparison on the scored demo brand."""
    base = live_server["url"]
    context, page = new_page(browser)
    sign_in(page, base, "sustainability@demo.example")
    page.goto(f"{base}/console/scores/engagement")
    rows = page.locator("#engagement tbody tr[data-relationship]")
    assert rows.count() > 10
    cumulative = rows.locator("td:nth-child(8)").all_inner_texts()
    shares = [float(text.replace("%", "").replace(",", "").strip()) for text in cumulative]
    assert shares == sorted(shares) and shares[-1] <= 100
    page.screenshot(path=str(tmp_path / "4-engagement.png"), full_page=True)

    page.click("#insights-nav a[href='/console/scores/sbti']")
    page.wait_for_selector("#sbti-chart")
    assert page.locator("#sbti-years tbody tr").count() >= 1
    assert page.locator("#sbti-target-default").is_visible()  # the demo brand set no target
    page.screenshot(path=str(tmp_path / "5-sbti.png"), full_page=True)

    page.click("#insights-nav a[href='/console/scores/compare']")
    page.select_option("#compare-category", index=1)
    page.click("#compare-form button[type=submit]")
    boxes = page.locator("#compare-candidates input[name=suppliers]")
    boxes.first.wait_for()
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.fill("#compare-amount", "250000")
    page.click("#compare-form button[type=submit]")
    page.wait_for_selector("#comparison")
    assert page.locator("#comparison tbody tr").count() == 2
    deltas = page.locator("#comparison td[data-field=delta]").all_inner_texts()
    assert all(re.match(r"^[+−±][\d,.]+$", d) or d == "–" for d in deltas), deltas
    page.screenshot(path=str(tmp_path / "6-compare.png"), full_page=True)
    context.close()
