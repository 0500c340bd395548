"""Footprint runs on stored data: network from the database, hand-checked totals, append-only
storage, failures that leave nothing behind, and the job entry point."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import spend_factors
from supplychain import jobs
from supplychain.db import unit_of_work
from supplychain.footprint.storage import (
    FootprintRunError,
    latest_run,
    run_footprint,
    run_hotspots,
    run_paths,
)
from supplychain.models import (
    Disclosure,
    FootprintNodeResult,
    FootprintPath,
    FootprintRun,
    JobStatus,
    Organization,
    OrgKind,
    SpendLine,
    SupplierRelationship,
    SupplyEdge,
)
from tests.support import builders

pytestmark = pytest.mark.integration

YEAR = 2025


def _factor(code: str) -> float:
    ds = spend_factors.load_dataset("starter")
    table = ds.factors.set_index("code")
    return float(table.loc[code, ds.factor_column("purchaser")])


def _to_factor_basis(amount: float, currency: str) -> float:
    """Spend of YEAR in the starter dataset's basis (USD at 2021 prices)."""
    out, _ = spend_factors.convert_money(amount, currency, YEAR, "USD", 2021)
    return float(out[0])


def _supplier(s, name: str, naics: str | None, currency: str = "CNY") -> Organization:
    org = Organization(
        slug=f"sup-{uuid.uuid4().hex[:10]}",
        kind=OrgKind.SUPPLIER,
        name=name,
        country="CN",
        sector_code=naics,
        sector_system="NAICS2017" if naics else None,
        default_currency=currency,
    )
    s.add(org)
    s.flush()
    return org


def _line(s, rel: SupplierRelationship, amount: str, currency: str, day: date) -> None:
    s.add(
        SpendLine(
            brand_id=rel.brand_id,
            relationship_id=rel.id,
            amount=Decimal(amount),
            currency=currency,
            spend_date=day,
            line_key=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        )
    )


def _disclosure(s, brand, supplier, *, ref: str, scope1: str, share: str | None, **fields):
    record = Disclosure(
        brand_id=brand.id,
        supplier_id=supplier.id,
        reporting_year=YEAR,
        source="questionnaire",
        source_ref=ref,
        scope1_kg=Decimal(scope1),
        allocation_share=None if share is None else Decimal(share),
        allocation_method="revenue" if share is not None else None,
        provenance={"scope1_kg": {"method": "reported"}},
        **fields,
    )
    s.add(record)
    s.flush()
    return record


def _network(url: str) -> dict:
    """Brand ← Alpha (disclosed, 25 %) ← Beta resin (spend-based link); Gamma steel paid in two
    currencies; Delta packaging known only by its annual spend; one 2024 line to ignore."""
    with unit_of_work(url) as s:
        brand = builders.brand(s, f"fp-{uuid.uuid4().hex[:6]}", name="Footprint Brand")
        alpha = _supplier(s, "Alpha Plastics 阿尔法塑胶", "326199")
        beta = _supplier(s, "Beta Resin", "325211", currency="USD")
        gamma = _supplier(s, "Gamma Steel", "331110")
        delta = _supplier(s, "Delta Packaging", "322211", currency="USD")
        rel_alpha = builders.relationship(s, brand, alpha, "A-1", tier=1, category="Plastics")
        builders.relationship(s, brand, beta, "B-2", tier=2, category="Resin")
        rel_gamma = builders.relationship(s, brand, gamma, "G-1", tier=1, category="Steel")
        builders.relationship(
            s,
            brand,
            delta,
            "D-1",
            tier=1,
            category="Packaging",
            annual_spend=Decimal("2000.00"),
            spend_currency="USD",
            spend_year=YEAR,
        )
        _line(s, rel_alpha, "50000.00", "CNY", date(YEAR, 4, 1))
        _line(s, rel_gamma, "3000.00", "CNY", date(YEAR, 2, 1))
        _line(s, rel_gamma, "2000.00", "CNY", date(YEAR, 9, 1))
        _line(s, rel_gamma, "1000.00", "USD", date(YEAR, 6, 1))
        _line(s, rel_gamma, "99999.00", "CNY", date(YEAR - 1, 6, 1))
        s.add(
            SupplyEdge(
                brand_id=brand.id,
                supplier_id=beta.id,
                customer_id=alpha.id,
                spend=Decimal("10000.00"),
                currency="USD",
                year=YEAR,
            )
        )
        # an older disclosure of Alpha that the later one replaces
        _disclosure(
            s,
            brand,
            alpha,
            ref="old",
            scope1="999999",
            share="0.9",
            scope2_location_kg=Decimal("1"),
            created_at=datetime(YEAR + 1, 1, 1, tzinfo=UTC),
        )
        _disclosure(
            s,
            brand,
            alpha,
            ref="new",
            scope1="8000",
            share="0.25",
            scope2_location_kg=Decimal("3000"),
            scope2_market_kg=Decimal("2000"),
            details={"verification": {"third_party": True}},
            created_at=datetime(YEAR + 1, 2, 1, tzinfo=UTC),
        )
        return {
            "brand": brand.id,
            "alpha": alpha.id,
            "beta": beta.id,
            "gamma": gamma.id,
            "delta": delta.id,
        }


def _expected() -> dict[str, float]:
    beta_kg = _to_factor_basis(10000, "USD") * _factor("325211")
    usd_in_cny, _ = spend_factors.convert_money(1000.0, "USD", YEAR, "CNY", YEAR)
    gamma_cny = 5000.0 + float(usd_in_cny[0])
    gamma_kg = _to_factor_basis(gamma_cny, "CNY") * _factor("331110")
    delta_kg = _to_factor_basis(2000, "USD") * _factor("322211")
    alpha_total = 8000 + 2000 + beta_kg  # Scope 1 + market-based Scope 2 + its resin
    return {
        "alpha_total": alpha_total,
        "alpha": 0.25 * 10000,  # what originates at Alpha; its resin counts for Beta
        "beta": 0.25 * beta_kg,
        "gamma": gamma_kg,
        "delta": delta_kg,
        "total": 0.25 * alpha_total + gamma_kg + delta_kg,
        "primary": 0.25 * 10000 / (0.25 * alpha_total + gamma_kg + delta_kg),
    }


def test_stored_run_matches_a_hand_computation(any_db_url):
    ids = _network(any_db_url)
    expected = _expected()
    with unit_of_work(any_db_url) as s:
        run = run_footprint(s, brand_id=ids["brand"], year=YEAR, samples=200, seed=3)
        run_id = run.id
    with unit_of_work(any_db_url) as s:
        run = s.get(FootprintRun, run_id)
        assert float(run.scope3_cat1_kg) == pytest.approx(expected["total"], abs=2e-3)
        assert run.primary_share == pytest.approx(expected["primary"], rel=1e-6)
        assert run.ci95_low < run.scope3_cat1_kg < run.ci95_high
        assert run.dataset == "starter" and run.dataset_version
        assert len(run.inputs_hash) == 64
        results = {
            r.organization_id: r
            for r in s.scalars(
                select(FootprintNodeResult).where(FootprintNodeResult.run_id == run_id)
            )
        }
        alpha, beta = results[ids["alpha"]], results[ids["beta"]]
        assert float(alpha.cradle_to_gate_kg) == pytest.approx(expected["alpha_total"], abs=2e-3)
        assert float(alpha.contribution_kg) == pytest.approx(expected["alpha"], abs=2e-3)
        assert alpha.method == "hybrid" and alpha.tier == 1
        assert alpha.provenance["data_source"] == "disclosure"
        assert alpha.provenance["source_ref"] == "new"
        assert alpha.provenance["dq_basis"] == "reported, verified"
        # Alpha discloses neither upstream nor purchases: the sector default applies, but its
        # purchases (its sales to the brand × the plastics subsector's intermediate-input
        # share) are less than it pays Beta, so the gap is 0 and its total is unchanged
        parts = alpha.provenance["parts"]
        assert parts["gap_method"] == "hybrid-estimated-upstream" and parts["gap_kg"] == 0
        assert parts["own_kg"] == 10000
        assert parts["upstream_allocated_kg"] == pytest.approx(expected["beta"] / 0.25, abs=1e-6)
        assert beta.tier == 2 and beta.method == "spend_based"
        assert float(beta.contribution_kg) == pytest.approx(expected["beta"], abs=2e-3)
        assert beta.provenance["factor_codes"] == ["325211"]
        gamma = results[ids["gamma"]]
        assert float(gamma.contribution_kg) == pytest.approx(expected["gamma"], abs=2e-3)
        conversions = gamma.provenance["spend_to_brand"]["conversions"]
        assert {c["currency"] for c in conversions} == {"CNY", "USD"}
        assert gamma.provenance["spend_to_brand"]["currency"] == "CNY"
        # the estimate is the ledger's, line by line: three lines of the year, not the 2024 one
        assert gamma.provenance["spend_to_brand"]["lines"] == 3
        assert len(gamma.provenance["spend_to_brand"]["line_ids"]) == 3
        assert gamma.provenance["factor_codes"] == ["331110"]
        assert gamma.dq_score == pytest.approx(spend_factors.DQ_BY_METHOD["supplier"])
        delta = results[ids["delta"]]
        assert float(delta.contribution_kg) == pytest.approx(expected["delta"], abs=2e-3)
        assert delta.provenance["spend_to_brand"]["basis"] == "relationship annual spend"

        by_tier = {row["key"]: row["kg"] for row in run.breakdown["by_tier"]}
        assert sum(by_tier.values()) == pytest.approx(expected["total"], rel=1e-9)
        assert by_tier["2"] == pytest.approx(expected["beta"], rel=1e-9)
        assert {row["key"] for row in run.breakdown["by_category"]} == {
            "Plastics",
            "Resin",
            "Steel",
            "Packaging",
        }
        hotspots = run_hotspots(s, run)
        assert [h.contribution_kg for h in hotspots] == sorted(
            (h.contribution_kg for h in hotspots), reverse=True
        )
        paths = run_paths(s, run)
        names = [[n["name"] for n in p.nodes] for p in paths]
        assert ["Footprint Brand", "Alpha Plastics 阿尔法塑胶", "Beta Resin"] in names
        assert sum(float(p.contribution_kg) for p in paths) == pytest.approx(
            expected["total"], abs=5e-3
        )


def test_a_second_run_keeps_the_first(any_db_url):
    ids = _network(any_db_url)
    with unit_of_work(any_db_url) as s:
        first = run_footprint(s, brand_id=ids["brand"], year=YEAR, samples=50, seed=1)
    with unit_of_work(any_db_url) as s:
        second = run_footprint(s, brand_id=ids["brand"], year=YEAR, samples=50, seed=2)
    with unit_of_work(any_db_url) as s:
        assert s.scalar(select(func.count()).select_from(FootprintRun)) == 2
        assert latest_run(s, ids["brand"]).id == second.id
        assert latest_run(s, ids["brand"], YEAR - 1) is None
        kept = s.get(FootprintRun, first.id)
        assert kept.scope3_cat1_kg == second.scope3_cat1_kg
        assert kept.inputs_hash == second.inputs_hash
        assert (
            s.scalar(
                select(func.count())
                .select_from(FootprintNodeResult)
                .where(FootprintNodeResult.run_id == first.id)
            )
            == 4
        )


def _over_allocate(url: str, ids: dict) -> None:
    """Alpha also tells of 90 % going to another customer: 25 % + 90 % > 100 %."""
    with unit_of_work(url) as s:
        other = _supplier(s, "Omega Assembly", "334418")
        s.add(
            SupplyEdge(
                brand_id=ids["brand"],
                supplier_id=ids["alpha"],
                customer_id=other.id,
                allocation_share=Decimal("0.9"),
                allocation_basis="revenue",
                year=YEAR,
            )
        )
        s.add(
            SupplyEdge(
                brand_id=ids["brand"],
                supplier_id=other.id,
                customer_id=ids["brand"],
                spend=Decimal("10.00"),
                currency="USD",
                year=YEAR,
            )
        )


def _stored_counts(url: str) -> tuple[int, int, int]:
    with unit_of_work(url) as s:
        return tuple(
            s.scalar(select(func.count()).select_from(model))
            for model in (FootprintRun, FootprintNodeResult, FootprintPath)
        )


def test_over_allocated_shares_fail_naming_the_supplier_and_store_nothing(any_db_url):
    ids = _network(any_db_url)
    with unit_of_work(any_db_url) as s:
        run_footprint(s, brand_id=ids["brand"], year=YEAR, samples=0)
    before = _stored_counts(any_db_url)
    _over_allocate(any_db_url, ids)
    with pytest.raises(FootprintRunError, match="Alpha Plastics 阿尔法塑胶") as caught:
        with unit_of_work(any_db_url) as s:
            run_footprint(s, brand_id=ids["brand"], year=YEAR, samples=0)
    assert "1.15" in str(caught.value)
    assert _stored_counts(any_db_url) == before

    job = jobs.submit(
        any_db_url,
        None,
        "supplychain.footprint.storage:footprint_run_job",
        kind="footprint.run",
        organization_id=ids["brand"],
        params={"brand_id": ids["brand"], "year": YEAR, "samples": 0},
    )
    assert job.status == JobStatus.FAILED
    assert job.error.split("\n\n")[0].count("Alpha Plastics") == 1
    assert _stored_counts(any_db_url) == before
    with unit_of_work(any_db_url) as s:
        assert latest_run(s, ids["brand"]) is not None  # the earlier run is still there


def test_the_job_runs_inline_and_stores_the_run(any_db_url):
    ids = _network(any_db_url)
    job = jobs.submit(
        any_db_url,
        None,
        "supplychain.footprint.storage:footprint_run_job",
        kind="footprint.run",
        organization_id=ids["brand"],
        params={"brand_id": ids["brand"], "year": YEAR, "samples": 100, "seed": 0},
    )
    assert job.status == JobStatus.FINISHED, job.error
    assert job.result["scope3_cat1_kg"] == pytest.approx(_expected()["total"], abs=2e-3)
    with unit_of_work(any_db_url) as s:
        run = latest_run(s, ids["brand"], YEAR)
        assert str(run.public_id) == job.result["run"]
        assert run.samples == 100


def test_a_brand_without_disclosures_still_runs(any_db_url):
    with unit_of_work(any_db_url) as s:
        brand = builders.brand(s, f"plain-{uuid.uuid4().hex[:6]}")
        sup = _supplier(s, "Solo Cables", "335929")
        rel = builders.relationship(s, brand, sup, "S-1", tier=1)
        _line(s, rel, "7180.00", "CNY", date(YEAR, 5, 5))
        nameless = _supplier(s, "Unknown Sector Co", None)
        builders.relationship(s, brand, nameless, "S-2", tier=1)
        brand_id = brand.id
    with unit_of_work(any_db_url) as s:
        run = run_footprint(s, brand_id=brand_id, year=YEAR, samples=0)
        assert float(run.scope3_cat1_kg) == pytest.approx(
            _to_factor_basis(7180, "CNY") * _factor("335929"), abs=2e-3
        )
        assert run.primary_share == pytest.approx(0.0)
        assert any("Unknown Sector Co" in w for w in run.warnings)
        assert run.ci95_low is None  # no Monte Carlo with samples=0


def test_demo_brand_gets_a_completed_run_with_and_without_disclosures(any_db_url):
    from supplychain import demo

    with unit_of_work(any_db_url) as s:
        demo.load(s, suppliers=40, seed=3)
        line = demo.load_footprint(s, demo.DEMO_BRAND_SLUG)
        assert line.startswith(f"footprint {YEAR}: ")
        brand = s.scalars(select(Organization).where(Organization.slug == "demo-brand")).one()
        rel = s.scalars(
            select(SupplierRelationship)
            .where(SupplierRelationship.brand_id == brand.id, SupplierRelationship.tier == 1)
            .order_by(SupplierRelationship.id)
        ).first()
        _disclosure(
            s,
            brand,
            rel.supplier,
            ref="demo",
            scope1="50000",
            share="0.2",
            scope2_location_kg=Decimal("20000"),
        )
        demo.load_footprint(s, brand)
    with unit_of_work(any_db_url) as s:
        first, second = s.scalars(select(FootprintRun).order_by(FootprintRun.id)).all()
        assert first.scope3_cat1_kg > 0 and first.primary_share == pytest.approx(0.0)
        assert second.primary_share > 0
        assert first.inputs_hash != second.inputs_hash
