"""A brand with a stored scoring run, built through the real use cases, for scoring tests.

`scored_brand` launches a 2025 campaign to eight suppliers, drives four of them through
answer → submit → accept with different profiles (a verified SBTi leader, a committed supplier
with its own target, a basic responder, a laggard), leaves one submitted but not accepted
(``PENDING_CODE``, so a test can accept it and see the brand re-scored) and three without any
response. Every supplier has ledger spend in CNY (the brand reports in USD), then a footprint
run and a scoring run are stored.
"""

from __future__ import annotations

import io
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from questionnaires import responses
from scoring.service import run_scoring
from supplychain.config import Settings
from supplychain.footprint.storage import run_footprint
from supplychain.models import (
    Invitation,
    Organization,
    ScoringRun,
    SupplierRelationship,
)
from tests.support import builders
from tests.support import campaigns as cs
from tests.support import questionnaire_samples as samples

YEAR = 2025
PDF = b"%PDF-1.4\n%%EOF\n"

_COMMON = {k: v for k, v in cs.BASE_ANSWERS.items() if k not in samples.ACTIVITY}

PROFILES: dict[str, dict] = {
    # verified (reasonable assurance), SBTi validated, 5 %/yr target, renewables, governance
    "leader": {
        **_COMMON,
        **samples.TOTALS,
        "scope1_total": {"value": 40, "unit": "t CO2e"},
        "scope2_location_total": {"value": 60, "unit": "t CO2e"},
        "revenue": {"amount": "20000000.00", "currency": "CNY"},
        "renewable_electricity_share": 60,
        "renewable_instruments": ["onsite", "ppa"],
        "verified_third_party": True,
        "verification_standard": "iso14064_3",
        "verification_assurance_level": "reasonable",
        "has_target": True,
        "target_type": "absolute",
        "target_scopes": ["scope1", "scope2"],
        "target_base_year": 2020,
        "target_year": 2030,
        "target_reduction_pct": 50,
        "sbti_status": "validated",
        "board_oversight": True,
        "has_responsible_manager": True,
        "responsible_manager_name": "王经理",
        "engages_own_suppliers": True,
        "scope3_known": True,
        "scope3_upstream_total": {"value": 500, "unit": "t CO2e"},
    },
    # SBTi committed, own target of 2 %/yr, finance-based data
    "committed": {
        **cs.BASE_ANSWERS,
        "data_source_emissions": "finance_records",
        "renewable_electricity_share": 20,
        "has_target": True,
        "target_type": "intensity",
        "target_scopes": ["scope1", "scope2"],
        "target_base_year": 2020,
        "target_year": 2030,
        "target_reduction_pct": 20,
        "sbti_status": "committed",
        "board_oversight": True,
    },
    # answers everything required, no target, no verification
    "basic": dict(cs.BASE_ANSWERS),
    # high emissions on little revenue, estimates, no governance
    "laggard": {
        **_COMMON,
        **samples.TOTALS,
        "scope1_total": {"value": 9000, "unit": "t CO2e"},
        "scope2_location_total": {"value": 6000, "unit": "t CO2e"},
        "revenue": {"amount": "5000000.00", "currency": "CNY"},
        "data_source_emissions": "estimates",
        "board_oversight": False,
        "allocation_method": "other",
        "data_source_allocation": "estimates",
    },
}
ACCEPTED = ("leader", "committed", "basic", "laggard")
PENDING_CODE = "-004"  # supplier_code suffix of the submitted, not yet accepted supplier
SPEND_CNY = ("900000.00", "700000.00", "500000.00", "400000.00", "300000.00", "200000.00")


def answer(
    session: Session,
    settings: Settings,
    invitation: Invitation,
    answers: dict,
    *,
    accept: bool,
) -> None:
    """Answer (uploading the verification statement a verified profile needs) and submit."""
    response = responses.start_response(session, invitation, user_id=None)
    answers = dict(answers)
    if answers.get("verified_third_party"):
        evidence = responses.add_evidence(
            session,
            response,
            question_key="verification_evidence",
            stream=io.BytesIO(PDF),
            filename="statement.pdf",
            folder=settings.uploads_path / "evidence",
            max_bytes=10_000,
            user_id=None,
        )
        answers["verification_evidence"] = [
            {"file_id": str(evidence.public_id), "filename": "statement.pdf"}
        ]
    responses.save_answers(session, response, answers, expected_lock=1, user_id=None)
    responses.submit(session, response, user_id=None)
    if accept:
        responses.accept(session, invitation, user_id=None)


def pending_invitation(session: Session, brand: Organization) -> Invitation:
    """The brand's submitted, not yet accepted invitation."""
    return session.scalars(
        select(Invitation)
        .join(SupplierRelationship, SupplierRelationship.id == Invitation.relationship_id)
        .where(
            Invitation.brand_id == brand.id,
            SupplierRelationship.supplier_code.endswith(PENDING_CODE),
        )
    ).one()


def scored_brand(
    session: Session, settings: Settings, slug: str
) -> tuple[Organization, ScoringRun]:
    """A brand with eight suppliers in several states and one stored scoring run for 2025."""
    sectors = ("332119", "326199", "315210", "331110", "332119", "313210", "322211", "541330")
    countries = ("CN", "CN", "VN", "CN", "CN", "IN", "CN", "US")
    suppliers = [
        builders.supplier(session, f"{slug} 供应商 {i}", country=countries[i]) for i in range(8)
    ]
    for supplier, code in zip(suppliers, sectors, strict=True):
        supplier.sector_code, supplier.sector_system = code, "NAICS2017"
    brand, rels = cs.brand_with_suppliers(session, slug, suppliers=suppliers)
    categories = ("Metal parts", "Packaging", "Textiles", "Metal parts")
    for i, rel in enumerate(rels):
        rel.category = categories[i % len(categories)]
        if i < len(SPEND_CNY):
            builders.spend_line(session, rel, SPEND_CNY[i])
        else:  # no ledger: the relationship's annual spend stands in
            rel.annual_spend, rel.spend_currency, rel.spend_year = Decimal("80000"), "CNY", YEAR
        if i >= 5:  # these three are not invited at all
            rel.contact_email = None
    session.flush()
    campaign, _links = cs.launch_campaign(session, settings, brand)
    by_rel = {inv.relationship_id: inv for inv in campaign.invitations}
    for rel, profile in zip(rels, ACCEPTED, strict=False):
        answer(session, settings, by_rel[rel.id], PROFILES[profile], accept=True)
    answer(session, settings, by_rel[rels[4].id], PROFILES["leader"], accept=False)
    run_footprint(session, brand_id=brand.id, year=YEAR, samples=50)
    run = run_scoring(session, brand_id=brand.id, year=YEAR)
    return brand, run
