"""Version 2 in the database: installed next to version 1, the default for new campaigns, and
accepted responses store purchased spend, currency and sector on the disclosure row."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from questionnaires import campaigns, loader, responses
from questionnaires.publishing import install_shipped, newest_shipped
from supplychain.config import load_settings
from supplychain.models import Disclosure, QuestionnaireVersion
from tests.support import campaigns as cs
from tests.support.questionnaire_samples import TOTALS, v2_answers


@pytest.fixture
def settings(tmp_path, sqlite_url):
    return load_settings(instance_path=tmp_path / "instance", database_url=sqlite_url)


def _campaign(session, settings, brand, version, year: int):
    campaign = campaigns.create_campaign(
        session,
        brand_id=brand.id,
        name=f"Disclosure {year} v{version.version}",
        questionnaire_version=version,
        reporting_year=year,
        deadline=date.today() + timedelta(days=30),
        supplier_filter=campaigns.SupplierFilter(),
    )
    campaigns.launch(session, settings, campaign, base_url="http://testserver")
    return campaign


def _answer_and_accept(session, invitation, answers: dict) -> Disclosure:
    response = responses.start_response(session, invitation, user_id=None)
    merged = {**(response.answers or {}), **answers}
    responses.save_answers(
        session, response, merged, expected_lock=response.lock_version, user_id=None
    )
    responses.submit(session, response, user_id=None)
    return responses.accept(session, invitation, user_id=None)


def test_installing_twice_publishes_each_version_once(session):
    first = install_shipped(session)
    again = install_shipped(session)
    assert [(v.questionnaire.key, v.version) for v in first] == [
        ("supplier_climate_disclosure", 1),
        ("supplier_climate_disclosure", 2),
    ]
    assert [v.id for v in again] == [v.id for v in first]
    assert newest_shipped(session).id == first[1].id
    assert first[1].definition["sections"][5]["key"] == "purchases"
    assert session.scalars(select(QuestionnaireVersion)).all() == first


def test_an_installation_with_only_version_1_gains_version_2(session, tmp_path, monkeypatch):
    only_v1 = tmp_path / "definitions"
    only_v1.mkdir()
    shipped = loader.DEFINITIONS_DIR / "supplier_climate_disclosure.v1.yaml"
    (only_v1 / shipped.name).write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(loader, "DEFINITIONS_DIR", only_v1)
    (old,) = install_shipped(session)
    monkeypatch.undo()
    v1, v2 = install_shipped(session)
    assert v1.id == old.id and (v1.version, v2.version) == (1, 2)
    assert newest_shipped(session).id == v2.id


def test_accepting_a_version_2_response_stores_the_purchases(session, settings):
    brand, rels = cs.brand_with_suppliers(session, "purchases", n=1)
    campaign = _campaign(session, settings, brand, newest_shipped(session), 2025)
    answers = v2_answers(TOTALS) | {
        "reporting_year": 2025,
        "cat1_emissions_known": True,
        "cat1_emissions_total": {"value": 1500, "unit": "t CO2e"},
    }
    disclosure = _answer_and_accept(session, campaign.invitations[0], answers)
    session.expire_all()
    stored = session.get(Disclosure, disclosure.id)
    assert stored.supplier_id == rels[0].supplier_id and stored.reporting_year == 2025
    assert stored.purchased_spend == Decimal("5200000.40")
    assert stored.purchased_currency == "CNY" and stored.purchased_naics == "331110"
    assert stored.scope3_upstream_kg == Decimal("1500000.000")
    assert stored.details["scope3_upstream_boundary"] == "category_1"
    assert stored.details["purchased_categories"] == [
        {"naics": "331110", "share": 0.40},
        {"naics": "332813", "share": 0.25},
    ]
    for name in ("purchased_spend", "purchased_currency"):
        assert stored.provenance[name]["question"] == "purchased_spend"
        assert stored.provenance[name]["questionnaire_version"] == 2
    assert stored.provenance["purchased_naics"]["method"] == "largest-purchased-category"


def test_version_1_campaigns_keep_working_and_prefill_version_2(session, settings):
    brand, _rels = cs.brand_with_suppliers(session, "both", n=1)
    v1, v2 = install_shipped(session)
    old = _campaign(session, settings, brand, v1, 2024)
    answers = {
        **cs.BASE_ANSWERS,
        "reporting_year": 2024,
        "scope3_known": True,
        "scope3_upstream_total": {"value": 10, "unit": "t CO2e"},
    }
    earlier = _answer_and_accept(session, old.invitations[0], answers)
    assert (earlier.purchased_spend, earlier.purchased_currency, earlier.purchased_naics) == (
        None,
        None,
        None,
    )
    assert earlier.scope3_upstream_kg == Decimal("10000.000")
    assert earlier.details["scope3_upstream_boundary"] == "upstream"

    new = _campaign(session, settings, brand, v2, 2025)
    response = responses.start_response(session, new.invitations[0], user_id=None)
    prefilled = response.answers
    assert prefilled["company_name"] == cs.BASE_ANSWERS["company_name"]
    assert prefilled["electricity_use"] == cs.BASE_ANSWERS["electricity_use"]
    assert "reporting_year" not in prefilled and "scope3_known" not in prefilled
    assert "scope3_upstream_total" not in prefilled


def test_the_api_shows_purchases_as_money_and_never_without_currency(session, settings):
    from web.api.schemas import DisclosureSchema

    brand, _rels = cs.brand_with_suppliers(session, "api", n=1)
    campaign = _campaign(session, settings, brand, newest_shipped(session), 2025)
    usd = {"purchased_spend": {"amount": "610000.5", "currency": "USD"}}
    disclosure = _answer_and_accept(session, campaign.invitations[0], v2_answers(TOTALS, usd))
    dumped = DisclosureSchema().dump(disclosure)
    assert dumped["purchased_spend"] == {"amount": "610000.50", "currency": "USD"}
    assert dumped["purchased_naics"] == "331110"
    disclosure.purchased_spend = disclosure.purchased_currency = disclosure.purchased_naics = None
    dumped = DisclosureSchema().dump(disclosure)
    assert dumped["purchased_spend"] is None and dumped["purchased_naics"] is None


def test_a_brand_copy_of_version_2_starts_as_its_own_version_1(session):
    from questionnaires import load_shipped
    from questionnaires.publishing import create_draft, definition_for, publish

    brand, _rels = cs.brand_with_suppliers(session, "copier", n=1)
    copy = load_shipped("supplier_climate_disclosure", 2).to_dict() | {"key": "copier_survey"}
    version = publish(session, create_draft(session, copy, owner_id=brand.id))
    loaded = definition_for(version)  # a carry-over from "version 1" of itself would not load
    assert (version.version, loaded.version, loaded.carry_over) == (1, 1, None)
    assert loaded.question("purchased_spend").currencies == ("CNY", "USD", "EUR", "GBP", "JPY")
