"""Answer sets shared by the questionnaire tests (complete and valid for the shipped v1;
`v2_answers` builds the same for version 2)."""

from __future__ import annotations

import copy

BASE_ANSWERS = {
    "company_name": "宁波某五金制品有限公司",
    "country": "CN",
    "reporting_year": 2023,
    "organisational_boundary": "operational_control",
    "revenue": {"amount": "8000000.00", "currency": "CNY"},
    "employees": 120,
    "sector_code_system": "gbt4754",
    "sector_code": "3311",
    "scope3_known": False,
    "data_source_emissions": "production_records",
    "data_source_revenue": "audited_accounts",
    "verified_third_party": False,
    "has_target": False,
    "sbti_status": "none",
    "board_oversight": True,
    "has_responsible_manager": False,
    "engages_own_suppliers": False,
    "allocation_method": "revenue_share",
    "allocation_share": 15,
    "allocation_basis": "Sales to this customer were 1.2 M of 8 M CNY in 2023.",
    "allocation_uncertainty_pct": 10,
    "data_source_allocation": "finance_records",
}

TOTALS = {
    "emissions_method": "totals",
    "scope1_total": {"value": 120.5, "unit": "t CO2e"},
    "scope2_location_total": {"value": 300, "unit": "t CO2e"},
}

ACTIVITY = {
    "emissions_method": "activity",
    "electricity_use": [
        {"site": "Plant 1", "grid_region": "CN", "quantity": {"value": 100000, "unit": "kWh"}}
    ],
    "fuel_use": [{"fuel": "diesel", "quantity": {"value": 10, "unit": "t"}}],
}

REF = {"response_id": 42, "submission": 1, "questionnaire_version": 1}

# Version 2 asks for purchases and Scope 3 Category 1 (issue 10). BASE_ANSWERS minus the
# version-1-only key, plus these, is a complete version 2 answer set.
V1_ONLY = ("scope3_known",)
PURCHASES = {
    "purchased_spend": {"amount": "5,200,000.40", "currency": "cny"},
    "purchased_categories": [
        {"category": "331110", "share_pct": 40},
        {"category": "332813", "share_pct": 25},
        {"category": "other", "share_pct": 20},
    ],
    "cat1_emissions_known": False,
    "data_source_purchases": "management_accounts",
}


def v2_answers(*parts: dict) -> dict:
    """A version 2 answer set: the shared base and purchases, then ``parts`` (later win)."""
    answers = {k: v for k, v in BASE_ANSWERS.items() if k not in V1_ONLY} | PURCHASES
    for part in parts:
        answers |= part
    return copy.deepcopy(answers)
