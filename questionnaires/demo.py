"""Demo campaigns: a running 2025 campaign with responses in every status, and a late pilot.

Answers are generated deterministically from the seed, some as reported totals and some as
activity data, so the review pages, disclosures and the footprint run have real content. A share
of suppliers answer as climate leaders (verified, science-based targets, low intensity) and a
share as improvers, so the demo brand's scoring run spreads over every band and grid row.

The running 2025 campaign is sent on the newest shipped questionnaire (version 2), so its
disclosures carry purchased spend and categories, and leaders their Scope 3 Category 1; the
2024 pilot stays on version 1, as a campaign sent before version 2 existed would.
"""

from __future__ import annotations

import io
import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from questionnaires import campaigns, responses
from questionnaires.publishing import install_shipped, newest_shipped
from supplychain.config import Settings
from supplychain.models import (
    Campaign,
    Invitation,
    InvitationStatus,
    Organization,
)

DEMO_BASE_URL = "http://127.0.0.1:5000"
# The order in which invitations of the running campaign are driven to each status.
RUNNING_PLAN = (
    ["accepted"] * 14
    + ["submitted"] * 5
    + ["returned"] * 3
    + ["in_progress"] * 4
    + ["opened"] * 3
    + ["declined"] * 2
)


# What suppliers of each demo sector (their NAICS 2017 code) mainly buy: (category, share %).
# "other" is a category without a NAICS code, so the footprint falls back to the own sector.
PURCHASES = {
    "326199": (("325211", 70), ("326112", 10)),
    "325211": (("325110", 80),),
    "334413": (("325199", 35), ("334419", 25), ("other", 20)),
    "334418": (("334413", 45), ("334412", 25), ("334419", 15)),
    "332119": (("331110", 65), ("332813", 15)),
    "331110": (("other", 60), ("325180", 15)),
    "331313": (("325180", 55), ("other", 25)),
    "322211": (("322130", 75), ("325510", 5)),
    "313210": (("313110", 70), ("325199", 10)),
    "484121": (("333999", 30), ("541330", 10)),
    "335929": (("331420", 55), ("325211", 20)),
    "327211": (("325180", 40), ("327999", 30)),
}


def demo_answers(
    rng: random.Random, supplier: Organization, year: int, *, version: int = 2
) -> dict:
    """A complete, valid answer set; half report totals, half report activity data.

    ``version`` is the questionnaire version answered: version 2 adds purchases and asks for
    Scope 3 Category 1 instead of all upstream Scope 3. Purchases are drawn from their own
    generator, so the answers version 1 shares with version 2 are the same for both.
    """
    revenue = round(rng.lognormvariate(17.5, 0.8), 2)
    answers = {
        "company_name": supplier.name,
        "country": supplier.country if supplier.country in ("CN", "US", "DE", "JP") else "CN",
        "reporting_year": year,
        "organisational_boundary": "operational_control",
        "revenue": {"amount": f"{revenue:.2f}", "currency": "CNY"},
        "employees": rng.randint(40, 2500),
        "sector_code_system": "naics",
        "sector_code": supplier.sector_code or "332119",
        "scope3_known": False,
        "data_source_emissions": rng.choice(["production_records", "finance_records"]),
        "data_source_revenue": "audited_accounts",
        "verified_third_party": False,
        "has_target": False,
        "sbti_status": rng.choice(["none", "none", "committed"]),
        "board_oversight": rng.random() < 0.6,
        "has_responsible_manager": False,
        "engages_own_suppliers": rng.random() < 0.3,
        "allocation_method": "revenue_share",
        "allocation_share": round(rng.uniform(2, 30), 1),
        "allocation_basis": "Sales to this customer as a share of total sales.",
        "allocation_uncertainty_pct": rng.choice([5, 10, 15]),
        "data_source_allocation": "finance_records",
    }
    if rng.random() < 0.5:
        answers |= {
            "emissions_method": "totals",
            "scope1_total": {"value": round(rng.uniform(50, 4000), 1), "unit": "t CO2e"},
            "scope2_location_total": {"value": round(rng.uniform(100, 9000), 1), "unit": "t CO2e"},
        }
    else:
        answers |= {
            "emissions_method": "activity",
            "electricity_use": [
                {
                    "site": "Plant 1",
                    "grid_region": "CN",
                    "quantity": {"value": round(rng.uniform(0.2, 20), 2), "unit": "GWh"},
                }
            ],
            "fuel_use": [
                {"fuel": "diesel", "quantity": {"value": round(rng.uniform(1, 80), 1), "unit": "t"}}
            ],
        }
    answers |= _profile(rng, revenue)
    if version < 2:
        return answers
    cat1 = answers.pop("scope3_upstream_total", None)
    answers["cat1_emissions_known"] = answers.pop("scope3_known")
    if cat1 is not None:
        answers["cat1_emissions_total"] = cat1
    return answers | _purchases(supplier, year, revenue)


def _purchases(supplier: Organization, year: int, revenue_cny: float) -> dict:
    """Purchased goods and services: 45–75 % of revenue, in USD for suppliers outside China.

    The USD figure uses a round 7 CNY per USD: demo data, not a conversion anyone relies on.
    """
    rng = random.Random(f"purchases:{supplier.name}:{year}")
    amount = revenue_cny * rng.uniform(0.45, 0.75)
    currency = "CNY"
    if supplier.country not in (None, "CN"):
        amount, currency = amount / 7.0, "USD"
    categories = PURCHASES.get(supplier.sector_code or "", (("332999", 60),))
    return {
        "purchased_spend": {"amount": f"{amount:.2f}", "currency": currency},
        "purchased_categories": [
            {"category": code, "share_pct": share} for code, share in categories
        ],
        "data_source_purchases": rng.choice(["audited_accounts", "management_accounts"]),
    }


def _profile(rng: random.Random, revenue: float) -> dict:
    """How far along the supplier is: a climate leader, an improver, or the basic answers.

    Leaders and improvers report totals scaled to their revenue (kg CO2e per CNY), so their
    intensity sits well below or around the sector references of the starter factors.
    """
    draw = rng.random()
    if draw >= 0.7:
        return {}
    leader = draw < 0.3
    kg_per_cny = rng.uniform(0.004, 0.015) if leader else rng.uniform(0.01, 0.035)
    total_t = revenue * kg_per_cny / 1000
    scope1_share = rng.uniform(0.2, 0.5)
    answers = {
        "emissions_method": "totals",
        "scope1_total": {"value": round(total_t * scope1_share, 1), "unit": "t CO2e"},
        "scope2_location_total": {
            "value": round(total_t * (1 - scope1_share), 1),
            "unit": "t CO2e",
        },
        "board_oversight": True,
        "has_responsible_manager": True,
        "responsible_manager_name": "EHS 经理 / EHS manager",
        "has_target": True,
        "target_type": rng.choice(["absolute", "intensity"]),
        "target_scopes": ["scope1", "scope2"],
        "target_base_year": rng.choice([2019, 2020, 2021]),
        "target_year": 2030,
        "renewable_electricity_share": round(
            rng.uniform(30, 85) if leader else rng.uniform(5, 30), 1
        ),
        "renewable_instruments": ["onsite", "green_trading"] if leader else ["gec"],
        "reduction_initiatives": [
            {
                "description": "空压机变频改造 / variable-speed air compressors",
                "category": "energy_efficiency",
                "annual_savings": {"value": round(total_t * 0.05, 1), "unit": "t CO2e"},
            }
        ],
    }
    if leader:
        answers |= {
            "target_reduction_pct": round(rng.uniform(42, 60), 1),
            "sbti_status": rng.choice(["validated", "validated", "committed"]),
            "verified_third_party": True,
            "verification_standard": "iso14064_3",
            "verification_assurance_level": rng.choice(["reasonable", "limited"]),
            "verification_provider": "SGS",
            "data_source_emissions": "production_records",
            "engages_own_suppliers": True,
            "scope3_known": True,
            "scope3_upstream_total": {"value": round(total_t * 3, 1), "unit": "t CO2e"},
            "data_source_scope3": "finance_records",
            "allocation_method": "physical_quantity",
            "product_footprints": [
                {
                    "product_id": "P-100",
                    "declared_unit": "1 kg",
                    "kg_co2e_per_unit": {"value": round(rng.uniform(1, 6), 2), "unit": "kg CO2e"},
                    "standard": "iso14067",
                }
            ],
        }
    else:
        answers |= {
            "target_reduction_pct": round(rng.uniform(25, 45), 1),
            "sbti_status": rng.choice(["none", "committed", "committed"]),
            "data_source_emissions": rng.choice(["production_records", "finance_records"]),
        }
        if rng.random() < 0.5:
            answers |= {
                "verified_third_party": True,
                "verification_standard": "iso14064_3",
                "verification_assurance_level": "limited",
            }
    return answers


PDF = b"%PDF-1.4\n% demo verification statement\n%%EOF\n"


def _attach_statement(session: Session, settings: Settings, response, answers: dict) -> None:
    """A verified answer needs its verification statement uploaded."""
    evidence = responses.add_evidence(
        session,
        response,
        question_key="verification_evidence",
        stream=io.BytesIO(PDF),
        filename="verification-statement.pdf",
        folder=settings.uploads_path / "evidence",
        max_bytes=settings.upload_max_bytes,
        user_id=None,
    )
    answers["verification_evidence"] = [
        {"file_id": str(evidence.public_id), "filename": "verification-statement.pdf"}
    ]


def _drive(
    session: Session,
    settings: Settings,
    invitation: Invitation,
    status: str,
    rng: random.Random,
) -> None:
    """Take one invitation through the real use cases up to `status`."""
    if status == "declined":
        responses.decline(session, invitation, reason="No capacity this year", user_id=None)
        return
    responses.mark_opened(session, invitation)
    if status == "opened":
        return
    response = responses.start_response(session, invitation, user_id=None)
    answers = demo_answers(
        rng,
        invitation.supplier,
        invitation.campaign.reporting_year,
        version=invitation.campaign.questionnaire_version.version,
    )
    if status == "in_progress":
        partial = {k: answers[k] for k in list(answers)[:8]}
        responses.save_answers(session, response, partial, expected_lock=1, user_id=None)
        return
    if answers.get("verified_third_party"):
        _attach_statement(session, settings, response, answers)
    responses.save_answers(session, response, answers, expected_lock=1, user_id=None)
    responses.submit(session, response, user_id=None)
    if status == "returned":
        responses.return_for_revision(
            session,
            invitation,
            {
                "allocation_share": "请说明分摊比例的计算依据。"
                " / Please explain how the share was computed."
            },
            user_id=None,
        )
    elif status == "accepted":
        responses.accept(session, invitation, user_id=None)


def load_campaigns(
    session: Session,
    settings: Settings,
    brand: Organization,
    *,
    seed: int = 7,
    base_url: str = DEMO_BASE_URL,
):
    """Create and drive the demo campaigns in the caller's transaction."""
    rng = random.Random(seed + 1)
    first = install_shipped(session)[0]
    today = date.today()
    running = campaigns.create_campaign(
        session,
        brand_id=brand.id,
        name="2025 供应商气候信息披露 / Supplier climate disclosure 2025",
        questionnaire_version=newest_shipped(session),
        reporting_year=2025,
        deadline=today + timedelta(days=21),
        supplier_filter=campaigns.SupplierFilter(tiers=[1]),
        message="请于截止日期前填写。Please answer by the deadline.",
    )
    result = campaigns.launch(session, settings, running, base_url=base_url)
    invitations = sorted(result.invited, key=lambda i: i.supplier_relationship.supplier_code)
    contact = next(i for i in invitations if i.contact_email == "supplier@demo.example")
    # The demo supplier login gets a returned response to work on.
    _drive(session, settings, contact, "returned", rng)
    others = [i for i in invitations if i is not contact]
    for invitation, status in zip(others, RUNNING_PLAN, strict=False):
        _drive(session, settings, invitation, status, rng)
    _late_pilot(session, settings, brand, first, rng, base_url)
    session.flush()
    return running


def _late_pilot(session, settings, brand, version, rng, base_url) -> Campaign:
    """An earlier campaign past its deadline: some answered, the rest overdue."""
    pilot = campaigns.create_campaign(
        session,
        brand_id=brand.id,
        name="2024 试点 / Pilot 2024 (tier 1, Textiles and Packaging)",
        questionnaire_version=version,
        reporting_year=2024,
        deadline=date.today() - timedelta(days=10),
        supplier_filter=campaigns.SupplierFilter(tiers=[1], categories=["Textiles", "Packaging"]),
    )
    result = campaigns.launch(session, settings, pilot, base_url=base_url)
    for index, invitation in enumerate(result.invited):
        if index % 3 == 0:
            _drive(session, settings, invitation, "accepted", rng)
    campaigns.mark_overdue(session, pilot, date.today())
    return pilot


def status_counts(session: Session, brand: Organization) -> dict[str, int]:
    rows = session.scalars(select(Invitation.status).where(Invitation.brand_id == brand.id)).all()
    return {s.value: sum(1 for r in rows if r == s) for s in InvitationStatus}
