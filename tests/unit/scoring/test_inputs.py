"""gather_inputs puts money on the brand's basis and maps disclosures the way the contract says.

Expected values are computed by hand from the shipped tables (spend_factors/data): CNY 7.18 and
EUR 0.885 per USD in 2025, CNY 7.1896 in 2024; USD GDP deflator 110.186 (2021), 125.428 (2024),
128.986 (2025); starter factor 332119: with margins 0.406, without margins 0.371 kg CO2e per
USD 2021. The responder's 2025 disclosure: Scope 1 1,000 kg + market-based Scope 2 2,000 kg on
a revenue of 71,800 CNY = 10,000 USD, so its Scope 1 + 2 intensity is 0.3 kg per USD.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from scoring.inputs import COLUMNS, compared_intensity, gather_inputs
from scoring.methodology import load_methodology
from supplychain.db import unit_of_work
from supplychain.models import (
    Disclosure,
    FootprintNodeResult,
    FootprintRun,
    RelationshipStatus,
)
from tests.support import builders

METHOD = load_methodology()
YEAR = 2025


def _disclosure(s, brand, supplier, year=YEAR, **fields) -> Disclosure:
    row = Disclosure(
        brand_id=brand.id,
        supplier_id=supplier.id,
        reporting_year=year,
        source="questionnaire",
        source_ref=fields.pop("source_ref", f"submission:{supplier.id}-{year}"),
        provenance={},
        **fields,
    )
    s.add(row)
    s.flush()
    return row


def _line(s, rel, amount: str, currency: str, day: date = date(YEAR, 3, 1)):
    line = builders.spend_line(s, rel, amount, currency)
    line.spend_date = day
    return line


@pytest.fixture
def world(any_db_url):
    """A USD brand: a responder, a non-responder, an unconvertible one, a delisted one."""
    with unit_of_work(any_db_url) as s:
        brand = builders.brand(s, "inputs")
        brand.default_currency = "USD"
        names = ("responder", "silent", "exotic", "delisted")
        sups = {n: builders.supplier(s, n) for n in names}
        sups["responder"].sector_code = "332119"
        sups["responder"].sector_system = "NAICS2017"
        rels = {
            n: builders.relationship(s, brand, sup, f"C-{i}", category="Metal parts")
            for i, (n, sup) in enumerate(sups.items())
        }
        rels["delisted"].status = RelationshipStatus.DELISTED
        _line(s, rels["responder"], "7180.00", "CNY")  # 1,000 USD
        _line(s, rels["responder"], "885.00", "EUR")  # 1,000 USD
        _line(s, rels["responder"], "99999.00", "CNY", date(YEAR - 1, 12, 31))  # other year
        rels["silent"].annual_spend = Decimal("1000")  # USD of 2024 → 2025 prices
        rels["silent"].spend_currency, rels["silent"].spend_year = "USD", 2024
        _line(s, rels["exotic"], "500.00", "XAF")
        _disclosure(
            s,
            brand,
            sups["responder"],
            source_ref="older",
            scope1_kg=Decimal("1"),
            scope2_location_kg=Decimal("1"),
        )
        _disclosure(
            s,
            brand,
            sups["responder"],
            scope1_kg=Decimal("1000"),
            scope2_location_kg=Decimal("3000"),
            scope2_market_kg=Decimal("2000"),
            revenue=Decimal("71800.00"),
            revenue_currency="CNY",
            revenue_year=YEAR,
            details={
                "renewable_electricity_share": 0.25,
                "sbti_status": "validated",
                "targets": {"exists": True, "reduction_pct": 50, "base_year": 2020, "year": 2030},
                "verification": {"third_party": True, "assurance_level": "reasonable"},
                "data_sources": {"emissions": "logistics_records"},
                "maturity": {
                    "measurement": {"earned": 3, "possible": 6},
                    "governance": {"earned": 2, "possible": 3},
                    "targets": {"earned": 1, "possible": 4},
                    "verification": {"earned": 0, "possible": 5},
                },
            },
        )
        _disclosure(
            s,
            brand,
            sups["responder"],
            year=YEAR - 1,
            scope1_kg=Decimal("1000"),
            scope2_location_kg=Decimal("3000"),
            revenue=Decimal("71896.00"),
            revenue_currency="CNY",
            revenue_year=YEAR - 1,
            details={},
        )
        ids = {n: (rels[n].id, sups[n].id) for n in names}
        return any_db_url, brand.id, ids


def _gather(url, brand_id, year=YEAR, method=METHOD):
    with unit_of_work(url) as s:
        return gather_inputs(s, brand_id, year, method)


def _row(inputs, rel_id):
    frame = inputs.frame.set_index("relationship_id")
    return frame.loc[rel_id]


def test_one_row_per_active_relationship_with_every_column(world):
    url, brand_id, ids = world
    inputs = _gather(url, brand_id)
    assert list(inputs.frame.columns) == COLUMNS
    assert sorted(inputs.frame["relationship_id"]) == sorted(
        ids[n][0] for n in ("responder", "silent", "exotic")
    )
    assert inputs.currency == "USD" and inputs.price_year == YEAR
    assert inputs.footprint_run_id is None
    assert inputs.frame["responded"].dtype == bool
    assert inputs.frame["spend"].dtype == "float64"


def test_spend_converted_to_the_reporting_currency_and_year(world):
    url, brand_id, ids = world
    inputs = _gather(url, brand_id)
    responder = _row(inputs, ids["responder"][0])
    silent = _row(inputs, ids["silent"][0])
    assert responder["spend"] == pytest.approx(2000.0)  # 7180 CNY + 885 EUR, 2024 line ignored
    assert silent["spend"] == pytest.approx(1000 * 128.986 / 125.428)
    total = 2000.0 + 1000 * 128.986 / 125.428
    assert responder["spend_share"] == pytest.approx(2000.0 / total)


def test_unconvertible_spend_stays_unknown_and_is_named(world):
    url, brand_id, ids = world
    inputs = _gather(url, brand_id)
    assert math.isnan(_row(inputs, ids["exotic"][0])["spend"])
    assert math.isnan(_row(inputs, ids["exotic"][0])["spend_share"])
    assert any("XAF" in w and "C-2" in w for w in inputs.warnings)


def test_disclosure_fields_mapped(world):
    url, brand_id, ids = world
    row = _row(_gather(url, brand_id), ids["responder"][0])
    assert bool(row["responded"]) is True
    assert row["emissions_kg"] == pytest.approx(3000.0)  # market-based Scope 2 preferred
    assert row["revenue"] == pytest.approx(10000.0)  # 71,800 CNY / 7.18
    assert row["intensity"] == pytest.approx(0.3)
    # 2024: 4,000 kg on 71,896 CNY = 10,000 USD of 2024 = 10,283.67 USD at 2025 prices
    assert row["prev_intensity"] == pytest.approx(4000 / (10000 * 128.986 / 125.428))
    assert row["renewable_share"] == pytest.approx(0.25)
    assert row["target_status"] == "sbti_validated"
    assert row["target_annual_reduction_pct"] == pytest.approx(5.0)
    assert row["verification"] == "reasonable"
    assert row["data_source"] == "logistics"
    assert row["completeness"] == 1.0
    # levels: disclosure = measurement, awareness = governance, management = targets +
    # verification, leadership = reduction + supplier_engagement + disclosure (none possible)
    assert row["maturity_disclosure"] == pytest.approx(0.5)
    assert row["maturity_awareness"] == pytest.approx(2 / 3)
    assert row["maturity_management"] == pytest.approx(1 / 9)
    assert math.isnan(row["maturity_leadership"])
    assert row["sector_code"] == "332119"
    assert row["sector_intensity"] == pytest.approx(0.406 * 110.186 / 128.986)
    assert row["dq_score"] == 5.0  # no footprint run yet


def test_non_responder_gets_secondary_defaults(world):
    url, brand_id, ids = world
    row = _row(_gather(url, brand_id), ids["silent"][0])
    assert bool(row["responded"]) is False
    assert row["data_source"] == "statistical_average"
    assert row["completeness"] == 0.0
    assert row["verification"] == "none" and row["target_status"] == "none"
    assert math.isnan(row["intensity"]) and math.isnan(row["maturity_disclosure"])


def test_footprint_node_and_its_dataset_are_used(world):
    url, brand_id, ids = world
    with unit_of_work(url) as s:
        run = FootprintRun(
            brand_id=brand_id,
            reporting_year=YEAR,
            dataset="starter",
            dataset_version="1.2-starter.1",
            price_basis="producer",
            samples=0,
            inputs_hash="0" * 64,
            scope3_cat1_kg=Decimal("750"),
        )
        s.add(run)
        s.flush()
        s.add(
            FootprintNodeResult(
                run_id=run.id,
                organization_id=ids["responder"][1],
                method="disclosure",
                cradle_to_gate_kg=Decimal("5000"),
                contribution_kg=Decimal("750"),
                dq_score=1.5,
            )
        )
        run_id = run.id
    inputs = _gather(url, brand_id)
    row = _row(inputs, ids["responder"][0])
    assert inputs.footprint_run_id == run_id
    assert row["dq_score"] == 1.5
    assert row["cradle_to_gate_kg"] == 5000.0 and row["contribution_kg"] == 750.0
    # the reference's margins are the methodology's (1.1: with margins), whatever the run used
    assert row["sector_intensity"] == pytest.approx(0.406 * 110.186 / 128.986)
    # a node not solved from the supplier's own data ("disclosure" is no such method) is no
    # cradle-to-gate total of the supplier: Scope 1 + 2 only
    assert row["intensity_basis"] == "own_only" and row["intensity"] == pytest.approx(0.3)
    assert _row(inputs, ids["silent"][0])["dq_score"] == 5.0  # not in the run
    # version 1.0 priced the reference like the run (without margins here)
    old = _row(_gather(url, brand_id, method=load_methodology("1.0")), ids["responder"][0])
    assert old["sector_intensity"] == pytest.approx(0.371 * 110.186 / 128.986)


def test_sector_reference_in_another_reporting_currency(world):
    url, brand_id, ids = world
    with unit_of_work(url) as s:
        from supplychain.models import Organization

        s.get(Organization, brand_id).default_currency = "EUR"
    inputs = _gather(url, brand_id)
    row = _row(inputs, ids["responder"][0])
    assert inputs.currency == "EUR"
    # the factor's basis (USD 2021) is exchanged at 2021 (0.84530854 EUR per USD), then inflated
    # with the euro HICP (107.8 in 2021, 128.8 in 2025): one USD 2021 is 1.00998 EUR 2025
    assert row["sector_intensity"] == pytest.approx(0.406 / (0.84530854 * 128.8 / 107.8))
    assert row["spend"] == pytest.approx(2 * 885.0)  # 7180 CNY = 885 EUR, plus 885 EUR
    assert row["revenue"] == pytest.approx(8850.0)


def test_inputs_hash_is_stable_and_follows_the_data(world):
    url, brand_id, ids = world
    first, second = _gather(url, brand_id), _gather(url, brand_id)
    assert first.inputs_hash() == second.inputs_hash()
    with unit_of_work(url) as s:
        from supplychain.models import SupplierRelationship

        s.get(SupplierRelationship, ids["silent"][0]).annual_spend = Decimal("1001")
    assert _gather(url, brand_id).inputs_hash() != first.inputs_hash()


def test_year_without_anything_gives_empty_disclosure_columns(world):
    url, brand_id, ids = world
    inputs = _gather(url, brand_id, year=2023)
    assert not inputs.frame["responded"].any()
    assert inputs.frame["spend"].isna().sum() == 2  # ledger lines are all of 2024 and 2025


# --- the intensity compared with the sector (methodology 1.1) ---------------------------------


def _latest(s, supplier_id: int) -> Disclosure:
    """The disclosure gather_inputs reads: the latest accepted one of the year."""
    return s.scalars(
        select(Disclosure)
        .where(Disclosure.supplier_id == supplier_id, Disclosure.reporting_year == YEAR)
        .order_by(Disclosure.created_at.desc(), Disclosure.id.desc())
    ).first()


def _run_with_node(url, brand_id, supplier_id, *, method="hybrid", provenance=None, kg="9000"):
    """A footprint run of the year with one node for the supplier; returns the run id."""
    with unit_of_work(url) as s:
        run = FootprintRun(
            brand_id=brand_id,
            reporting_year=YEAR,
            dataset="starter",
            dataset_version="1.2-starter.1",
            price_basis="include",
            samples=0,
            inputs_hash="0" * 64,
            scope3_cat1_kg=Decimal("900"),
        )
        s.add(run)
        s.flush()
        if provenance is None:
            provenance = {
                "disclosure": str(_latest(s, supplier_id).public_id),
                "parts": {
                    "own_kg": 3000.0,
                    "upstream_allocated_kg": 1000.0,
                    "gap_kg": 5000.0,
                    "gap_method": "purchased-spend",
                },
            }
        s.add(
            FootprintNodeResult(
                run_id=run.id,
                organization_id=supplier_id,
                method=method,
                cradle_to_gate_kg=Decimal(kg),
                contribution_kg=Decimal("900"),
                dq_score=2.5,
                provenance=provenance,
            )
        )
        return run.id


def _disclose_upstream(url, supplier_id: int, kg: str) -> None:
    with unit_of_work(url) as s:
        latest = _latest(s, supplier_id)
        latest.scope3_upstream_kg = Decimal(kg)
        latest.details = {**(latest.details or {}), "scope3_upstream_boundary": "category_1"}


def test_cradle_to_gate_basis_from_the_suppliers_footprint_node(world):
    url, brand_id, ids = world
    rel_id, supplier_id = ids["responder"]
    _disclose_upstream(url, supplier_id, "2000")  # the node wins over the disclosed upstream
    _run_with_node(url, brand_id, supplier_id)
    row = _row(_gather(url, brand_id), rel_id)
    # 9,000 kg cradle-to-gate (3,000 own + 1,000 known suppliers + 5,000 gap) / 10,000 USD
    assert row["intensity_basis"] == "cradle_to_gate"
    assert row["intensity"] == pytest.approx(0.9)
    # the trend stays on Scope 1 + 2: 3,000 kg / 10,000 USD, and 4,000 kg the year before
    assert row["scope12_intensity"] == pytest.approx(0.3)
    assert row["prev_intensity"] == pytest.approx(4000 / (10000 * 128.986 / 125.428))
    assert row["emissions_kg"] == pytest.approx(3000.0)


def test_own_plus_disclosed_upstream_without_a_footprint_node(world):
    url, brand_id, ids = world
    rel_id, supplier_id = ids["responder"]
    _disclose_upstream(url, supplier_id, "2000")
    inputs = _gather(url, brand_id)
    row = _row(inputs, rel_id)
    assert row["intensity_basis"] == "own_plus_disclosed_upstream"
    assert row["intensity"] == pytest.approx((3000 + 2000) / 10000)
    assert row["scope12_intensity"] == pytest.approx(0.3)
    assert not any("Scope 1 + 2 only" in w for w in inputs.warnings)


def test_scope12_only_basis_is_named_in_a_warning(world):
    url, brand_id, ids = world
    inputs = _gather(url, brand_id)
    row = _row(inputs, ids["responder"][0])
    assert row["intensity_basis"] == "own_only" and row["intensity"] == pytest.approx(0.3)
    (warning,) = [w for w in inputs.warnings if "Scope 1 + 2 only" in w]
    assert "responder (C-0)" in warning and "no lower than the sector reference" in warning
    silent = _row(inputs, ids["silent"][0])
    assert silent["intensity_basis"] is None and math.isnan(silent["intensity"])


@pytest.mark.parametrize(
    ("node", "said"),
    [
        ({"provenance": {"disclosure": None}}, "predates the upstream gap method"),
        (
            {"provenance": {"disclosure": "older", "parts": {"gap_method": "purchased-spend"}}},
            "older disclosure",
        ),
        ({"provenance": "latest-without-gap"}, "knows nothing of their purchases"),
        ({"method": "spend_based"}, None),
    ],
    ids=["run-before-gap-method", "stale", "no-gap-rule", "not-primary"],
)
def test_a_node_that_is_no_cradle_to_gate_total_falls_back_with_a_reason(world, node, said):
    url, brand_id, ids = world
    rel_id, supplier_id = ids["responder"]
    _disclose_upstream(url, supplier_id, "2000")
    provenance = node.get("provenance")
    with unit_of_work(url) as s:
        latest = str(_latest(s, supplier_id).public_id)
        older = str(
            s.scalars(select(Disclosure).where(Disclosure.source_ref == "older")).one().public_id
        )
    if provenance == "latest-without-gap":
        provenance = {"disclosure": latest, "parts": {"own_kg": 3000.0, "gap_method": ""}}
    elif provenance is not None and provenance.get("disclosure") == "older":
        provenance = {**provenance, "disclosure": older}
    run_id = _run_with_node(
        url, brand_id, supplier_id, method=node.get("method", "hybrid"), provenance=provenance
    )
    inputs = _gather(url, brand_id)
    row = _row(inputs, rel_id)
    assert row["intensity_basis"] == "own_plus_disclosed_upstream"
    assert row["intensity"] == pytest.approx(0.5)
    node_warnings = [w for w in inputs.warnings if f"footprint run {run_id}" in w]
    if said is None:
        assert node_warnings == []
    else:
        (warning,) = node_warnings
        assert said in warning and "responder (C-0)" in warning


def test_version_1_0_compares_scope12_even_with_a_footprint_node(world):
    url, brand_id, ids = world
    rel_id, supplier_id = ids["responder"]
    _disclose_upstream(url, supplier_id, "2000")
    _run_with_node(url, brand_id, supplier_id)
    row = _row(_gather(url, brand_id, method=load_methodology("1.0")), rel_id)
    assert row["intensity"] == pytest.approx(0.3) and row["intensity_basis"] == "own_only"


def test_sector_reference_follows_the_methodologys_margins_option(world):
    url, brand_id, ids = world
    _run_with_node(url, brand_id, ids["responder"][1])  # the run says "include"
    config = {**METHOD.config, "sector_reference": {"margins": "exclude"}}
    without = dataclasses.replace(METHOD, config=config)
    row = _row(_gather(url, brand_id, method=without), ids["responder"][0])
    # the factor without margins, 0.371 kg per USD 2021, at 2025 prices
    assert row["sector_intensity"] == pytest.approx(0.371 * 110.186 / 128.986)
    row = _row(_gather(url, brand_id), ids["responder"][0])
    assert row["sector_intensity"] == pytest.approx(0.406 * 110.186 / 128.986)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((300.0, 1000.0, None, None), (0.3, "own_only")),
        ((300.0, 1000.0, 700.0, None), (1.0, "own_plus_disclosed_upstream")),
        ((300.0, 1000.0, 700.0, 1500.0), (1.5, "cradle_to_gate")),
        ((300.0, 1000.0, float("nan"), float("nan")), (0.3, "own_only")),
        ((300.0, 0.0, 700.0, 1500.0), (math.nan, None)),
        ((math.nan, 1000.0, 700.0, 1500.0), (math.nan, None)),
    ],
)
def test_compared_intensity_takes_the_most_complete_emissions_known(args, expected):
    scope12, revenue, upstream, cradle = args
    got = compared_intensity(scope12, revenue, upstream_kg=upstream, cradle_to_gate_kg=cradle)
    if math.isnan(expected[0]):
        assert math.isnan(got[0]) and got[1] is None
    else:
        assert got == (pytest.approx(expected[0]), expected[1])
