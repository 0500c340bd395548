"""Stored runs fill a reporting supplier's upstream beyond its known suppliers: from its
disclosed upstream, from its disclosed purchased spend (with and without known suppliers, in
another currency than its revenue), or from the documented sector default; every figure is
computed by hand here. Runs stay append-only, a failing run writes nothing, the price-basis
column holds the margins option, and the console shows the parts in both languages."""

from __future__ import annotations

import csv
import hashlib
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

import spend_factors
from supplychain import jobs
from supplychain.db import unit_of_work
from supplychain.footprint.storage import FootprintRunError, latest_run, run_footprint
from supplychain.models import (
    Disclosure,
    FootprintNodeResult,
    FootprintPath,
    FootprintRun,
    JobStatus,
    Organization,
    OrgKind,
    Role,
    SpendLine,
    SupplyEdge,
)
from tests.support import builders

pytestmark = pytest.mark.integration

YEAR = 2025
SHARES_FILE = Path(spend_factors.__file__).parent / "data" / "bea2007_intermediate_input_shares.csv"


def _factor(code: str, margins: str = "include") -> float:
    ds = spend_factors.load_dataset("starter")
    return float(ds.factors.set_index("code").loc[code, ds.factor_column(margins)])


def _usd_2021(amount: float, currency: str, year: int = YEAR) -> float:
    out, _ = spend_factors.convert_money(amount, currency, year, "USD", 2021)
    return float(out[0])


def _intermediate_share(subsector: str) -> float:
    """The BEA 2007 intermediate-input share of a NAICS subsector, read from the shipped table."""
    with SHARES_FILE.open(encoding="utf-8") as fh:
        rows = {row["naics"]: float(row["intermediate_input_share"]) for row in csv.DictReader(fh)}
    return rows[subsector]


def _org(s, name: str, naics: str, currency: str = "CNY") -> Organization:
    org = Organization(
        slug=f"gap-{uuid.uuid4().hex[:10]}",
        kind=OrgKind.SUPPLIER,
        name=name,
        country="CN",
        sector_code=naics,
        sector_system="NAICS2017",
        default_currency=currency,
    )
    s.add(org)
    s.flush()
    return org


def _disclose(s, brand, supplier, *, scope1: str, scope2: str, share: str, **fields) -> None:
    s.add(
        Disclosure(
            brand_id=brand.id,
            supplier_id=supplier.id,
            reporting_year=YEAR,
            source="questionnaire",
            source_ref=uuid.uuid4().hex[:8],
            scope1_kg=Decimal(scope1),
            scope2_market_kg=Decimal(scope2),
            allocation_share=Decimal(share),
            allocation_method="revenue",
            provenance={"scope1_kg": {"method": "reported"}},
            **fields,
        )
    )


def _link(s, brand, supplier, customer, spend: str, currency: str) -> None:
    s.add(
        SupplyEdge(
            brand_id=brand.id,
            supplier_id=supplier.id,
            customer_id=customer.id,
            spend=Decimal(spend),
            currency=currency,
            year=YEAR,
        )
    )


def _network(url: str) -> dict[str, int]:
    """Four reporting tier-1 suppliers, one per gap rule, two of them with a known supplier."""
    with unit_of_work(url) as s:
        brand = builders.brand(s, f"gap-{uuid.uuid4().hex[:6]}", name="Gap Brand")
        up = _org(s, "Upstream Reporter", "326199")
        resin = _org(s, "Resin Maker", "325211", currency="USD")
        buyer = _org(s, "Purchases Reporter 采购", "331110")
        boxes = _org(s, "Box Maker", "322211")
        lone = _org(s, "Purchases Only", "334418")
        default = _org(s, "Default Reporter", "322211")
        for code, org in (("U", up), ("P", buyer), ("L", lone), ("D", default)):
            builders.relationship(s, brand, org, code, tier=1, category=org.name)
        _disclose(s, brand, up, scope1="1000", scope2="500", share="0.5", scope3_upstream_kg=4000)
        _link(s, brand, resin, up, "1000.00", "USD")
        _disclose(
            s,
            brand,
            buyer,
            scope1="2000",
            scope2="1000",
            share="0.2",
            revenue=Decimal("1000000"),
            revenue_currency="CNY",
            revenue_year=YEAR,
            purchased_spend=Decimal("30000.00"),
            purchased_currency="USD",
            purchased_naics="331313",
        )
        _link(s, brand, boxes, buyer, "50000.00", "CNY")
        _disclose(
            s,
            brand,
            lone,
            scope1="100",
            scope2="100",
            share="0.1",
            purchased_spend=Decimal("80000.00"),
            purchased_currency="CNY",
        )
        _disclose(
            s,
            brand,
            default,
            scope1="300",
            scope2="200",
            share="0.1",
            revenue=Decimal("500000"),
            revenue_currency="CNY",
            revenue_year=YEAR,
        )
        return {
            "brand": brand.id,
            "up": up.id,
            "buyer": buyer.id,
            "lone": lone.id,
            "default": default.id,
        }


def _expected(margins: str = "include") -> dict[str, dict[str, float]]:
    """Own, allocated upstream and gap per reporting supplier, computed by hand."""
    resin = _usd_2021(1000, "USD") * _factor("325211", margins)
    purchased_cny, _ = spend_factors.convert_money(30000.0, "USD", YEAR, "CNY", YEAR)
    boxes = _usd_2021(50000, "CNY") * _factor("322211", margins)
    default_spend = 500000 * _intermediate_share("322")
    return {
        # disclosed upstream: the gap tops the known supplier up to the disclosed figure
        "up": {"own": 1500, "allocated": resin, "gap": 4000 - resin, "share": 0.5},
        # purchased spend, converted to the revenue's CNY, less the spend on Box Maker
        "buyer": {
            "own": 3000,
            "allocated": boxes,
            "gap": _usd_2021(float(purchased_cny[0]) - 50000, "CNY") * _factor("331313", margins),
            "share": 0.2,
        },
        # purchased spend with no known supplier, in its own sector (no purchased_naics)
        "lone": {
            "own": 200,
            "allocated": 0.0,
            "gap": _usd_2021(80000, "CNY") * _factor("334418", margins),
            "share": 0.1,
        },
        # neither: revenue × the sector's intermediate-input share, at its own sector's factor
        "default": {
            "own": 500,
            "allocated": 0.0,
            "gap": _usd_2021(default_spend, "CNY") * _factor("322211", margins),
            "share": 0.1,
        },
    }


def _results(s, run_id: int) -> dict[int, FootprintNodeResult]:
    rows = s.scalars(select(FootprintNodeResult).where(FootprintNodeResult.run_id == run_id))
    return {r.organization_id: r for r in rows}


def test_each_gap_rule_fills_the_upstream_as_computed_by_hand(any_db_url):
    ids = _network(any_db_url)
    expected = _expected()
    with unit_of_work(any_db_url) as s:
        run_id = run_footprint(s, brand_id=ids["brand"], year=YEAR, samples=0).id
    with unit_of_work(any_db_url) as s:
        run = s.get(FootprintRun, run_id)
        results = _results(s, run_id)
        total = 0.0
        for key, rule in (
            ("up", "disclosed-upstream"),
            ("buyer", "purchased-spend"),
            ("lone", "purchased-spend"),
            ("default", "hybrid-estimated-upstream"),
        ):
            want, node = expected[key], results[ids[key]]
            cradle = want["own"] + want["allocated"] + want["gap"]
            assert node.method == "hybrid", key
            assert float(node.cradle_to_gate_kg) == pytest.approx(cradle, abs=2e-3), key
            # what originates at the node: its own emissions and its gap (the known
            # supplier's part is that supplier's contribution)
            originated = want["share"] * (want["own"] + want["gap"])
            assert float(node.contribution_kg) == pytest.approx(originated, abs=2e-3), key
            parts = node.provenance["parts"]
            assert parts["gap_method"] == rule
            assert parts["own_kg"] == pytest.approx(want["own"])
            assert parts["upstream_allocated_kg"] == pytest.approx(want["allocated"], abs=1e-6)
            assert parts["gap_kg"] == pytest.approx(want["gap"], abs=1e-6)
            # only the own Scope 1 + 2 is primary data; the gap lowers the share
            assert node.primary_share == pytest.approx(want["own"] / cradle, rel=1e-9)
            total += want["share"] * cradle
        assert float(run.scope3_cat1_kg) == pytest.approx(total, abs=5e-3)
        assert run.breakdown["counts"]["by_gap_method"] == {
            "disclosed-upstream": 1,
            "purchased-spend": 2,
            "hybrid-estimated-upstream": 1,
        }

        buyer = results[ids["buyer"]].provenance
        assert buyer["purchased_spend"]["currency"] == "USD"
        assert buyer["purchased_spend"]["conversion"]["to"] == f"CNY {YEAR}"
        assert buyer["parts"]["gap_factor_codes"] == ["331313"]
        assert buyer["parts"]["gap_spend_currency"] == "CNY"
        lone = results[ids["lone"]].provenance["parts"]
        assert lone["gap_spend"] == pytest.approx(80000)
        assert lone["gap_factor_codes"] == ["334418"]
        default = results[ids["default"]]
        # the default gap has DQ 5, own reported emissions DQ 2: emission-weighted
        d = expected["default"]
        assert default.dq_score == pytest.approx(
            (d["own"] * 2 + d["gap"] * 5) / (d["own"] + d["gap"]), rel=1e-9
        )
        assert any(
            "Default Reporter" in w and "hybrid-estimated-upstream" in w for w in run.warnings
        )
        assert results[ids["up"]].provenance["upstream_kg"] == pytest.approx(4000)


def _add_line(url: str, brand_id: int, org_id: int) -> None:
    with unit_of_work(url) as s:
        rel = builders.relationship(
            s, s.get(Organization, brand_id), s.get(Organization, org_id), "X", tier=1
        )
        s.add(
            SpendLine(
                brand_id=brand_id,
                relationship_id=rel.id,
                amount=Decimal("1000.00"),
                currency="CNY",
                spend_date=date(YEAR, 3, 1),
                line_key=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
            )
        )


def _counts(url: str) -> tuple[int, ...]:
    with unit_of_work(url) as s:
        return tuple(
            s.scalar(select(func.count()).select_from(model))
            for model in (FootprintRun, FootprintNodeResult, FootprintPath)
        )


def test_runs_are_append_only_and_a_failing_run_writes_nothing(any_db_url):
    ids = _network(any_db_url)
    with unit_of_work(any_db_url) as s:
        first = run_footprint(s, brand_id=ids["brand"], year=YEAR, samples=0)
        first_id, first_total = first.id, first.scope3_cat1_kg
    extra = _expected()["default"]
    with unit_of_work(any_db_url) as s:
        steel = _org(s, "Extra Steel", "331110")
        steel_id = steel.id
    _add_line(any_db_url, ids["brand"], steel_id)
    with unit_of_work(any_db_url) as s:
        second = run_footprint(s, brand_id=ids["brand"], year=YEAR, samples=0)
        second_id = second.id
        added = _usd_2021(1000, "CNY") * _factor("331110")
        assert float(second.scope3_cat1_kg) == pytest.approx(float(first_total) + added, abs=5e-3)
    before = _counts(any_db_url)
    with unit_of_work(any_db_url) as s:  # the default reporter now allocates 0.1 + 0.95
        s.add(
            SupplyEdge(
                brand_id=ids["brand"],
                supplier_id=ids["default"],
                customer_id=ids["up"],
                allocation_share=Decimal("0.95"),
                year=YEAR,
            )
        )
    with pytest.raises(FootprintRunError, match="Default Reporter"):
        with unit_of_work(any_db_url) as s:
            run_footprint(s, brand_id=ids["brand"], year=YEAR, samples=0)
    assert _counts(any_db_url) == before
    with unit_of_work(any_db_url) as s:
        assert latest_run(s, ids["brand"], YEAR).id == second_id
        kept = s.get(FootprintRun, first_id)
        assert kept.scope3_cat1_kg == first_total
        assert float(_results(s, first_id)[ids["default"]].provenance["parts"]["gap_kg"]) == (
            pytest.approx(extra["gap"], abs=1e-6)
        )


def test_price_basis_column_stores_the_margins_option(any_db_url):
    ids = _network(any_db_url)
    expected = _expected("exclude")
    with unit_of_work(any_db_url) as s:
        without = run_footprint(s, brand_id=ids["brand"], year=YEAR, samples=0, margins="exclude")
        old_word = run_footprint(
            s, brand_id=ids["brand"], year=YEAR, samples=0, price_basis="purchaser"
        )
        assert (without.price_basis, old_word.price_basis) == ("exclude", "include")
        assert without.inputs_hash != old_word.inputs_hash
        lone = _results(s, without.id)[ids["lone"]].provenance["parts"]
        assert lone["gap_kg"] == pytest.approx(expected["lone"]["gap"], abs=1e-6)
        with pytest.raises(FootprintRunError, match="wholesale"):
            run_footprint(s, brand_id=ids["brand"], year=YEAR, samples=0, margins="wholesale")
    job = jobs.submit(
        any_db_url,
        None,
        "supplychain.footprint.storage:footprint_run_job",
        kind="footprint.run",
        organization_id=ids["brand"],
        params={"brand_id": ids["brand"], "year": YEAR, "samples": 0, "price_basis": "producer"},
    )
    assert job.status == JobStatus.FINISHED, job.error
    with unit_of_work(any_db_url) as s:
        assert latest_run(s, ids["brand"], YEAR).price_basis == "exclude"


def test_the_job_reads_factors_from_the_configured_store(sqlite_url, tmp_path, monkeypatch):
    ids = _network(sqlite_url)
    factors = tmp_path / "house.csv"
    factors.write_text(
        "# name: house\n# version: 1\n# currency: USD\n# price_year: 2021\n"
        "# classification: NAICS 2017\ncode,purchaser_factor\n"
        "325211,1.0\n322211,1.0\n331313,1.0\n334418,1.0\n",
        encoding="utf-8",
    )
    monkeypatch.delenv("FACTOR_STORE", raising=False)
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(tmp_path / "inst"))
    spend_factors.import_dataset(factors, "generic-csv", store_root=tmp_path / "inst/factors")
    job = jobs.submit(
        sqlite_url,
        None,
        "supplychain.footprint.storage:footprint_run_job",
        kind="footprint.run",
        organization_id=ids["brand"],
        params={"brand_id": ids["brand"], "year": YEAR, "samples": 0, "dataset": "house"},
    )
    assert job.status == JobStatus.FINISHED, job.error
    resin_kg = _usd_2021(1000, "USD") * 1.0
    with unit_of_work(sqlite_url) as s:
        run = latest_run(s, ids["brand"], YEAR)
        assert (run.dataset, run.dataset_version) == ("house", "1")
        up = _results(s, run.id)[ids["up"]].provenance["parts"]
        assert up["upstream_allocated_kg"] == pytest.approx(resin_kg, abs=1e-6)
        with pytest.raises(FootprintRunError, match="house"):
            run_footprint(  # another store does not have it
                s, brand_id=ids["brand"], year=YEAR, dataset="house", store_root=tmp_path / "no"
            )


def test_console_shows_the_parts_in_both_languages(sqlite_url, tmp_path):
    from tests.unit.web.conftest import login
    from web import create_app

    ids = _network(sqlite_url)
    with unit_of_work(sqlite_url) as s:
        run_footprint(s, brand_id=ids["brand"], year=YEAR, samples=0)
        builders.user(s, "gaps@brand.example", s.get(Organization, ids["brand"]), Role.PROCUREMENT)
    app = create_app(
        {"TESTING": True, "database_url": sqlite_url, "instance_path": tmp_path / "instance"}
    )
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    login(client, "gaps@brand.example")
    english = client.get("/console/footprint").get_data(as_text=True)
    assert "Cradle-to-gate: own 1.50, allocated upstream" in english
    assert "default estimate from the sector, data quality 5" in english
    assert "spend-based estimate of the disclosed purchases" in english
    assert "e+" not in english and "e-0" not in english
    # a path ending in a supplier's upstream gap names the gap, never the raw method code
    assert "upstream gap (" in english
    for code in ("disclosed-upstream", "purchased-spend", "hybrid-estimated-upstream"):
        assert f">{code}<" not in english
    client.post("/language", data={"lang": "zh_CN", "next": "/console/footprint"})
    chinese = client.get("/console/footprint").get_data(as_text=True)
    assert "摇篮到大门" in chinese and "Cradle-to-gate" not in chinese
    assert "行业默认估算" in chinese
    assert "上游缺口（" in chinese
