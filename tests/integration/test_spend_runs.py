"""A brand's stored ledger estimated as a job: one transaction, every line with provenance."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

import spend_factors
from supplychain import jobs
from supplychain.db import unit_of_work
from supplychain.models import (
    JobStatus,
    Organization,
    SpendEstimate,
    SpendEstimateRun,
    SpendLine,
)
from supplychain.spend_runs import estimate_ledger, latest_run, ledger_frame, run_estimate
from tests.support import builders

pytestmark = pytest.mark.integration


def _ledger(url: str) -> int:
    with unit_of_work(url) as s:
        brand = builders.brand(s, "ledger-brand")
        cement = builders.supplier(s, "水泥厂")
        cement.sector_code, cement.sector_system = "327310", "NAICS2017"
        mystery = builders.supplier(s, "Mystery Trading")
        rel_cement = builders.relationship(s, brand, cement, "C-1")
        rel_mystery = builders.relationship(s, brand, mystery, "M-1")
        line = builders.spend_line(s, rel_cement, "1000.00", currency="USD")
        line.spend_date = date(2021, 6, 1)
        other = builders.spend_line(s, rel_cement, "2000.00", currency="USD")
        other.spend_date = date(2021, 9, 1)
        unknown = builders.spend_line(s, rel_mystery, "500.00", currency="USD")
        unknown.spend_date = date(2021, 3, 1)
        unknown.description = "misc."
        outside = builders.spend_line(s, rel_cement, "999.00", currency="USD")
        outside.spend_date = date(2020, 12, 31)
        return brand.id


def test_run_stores_every_line_with_provenance(any_db_url):
    brand_id = _ledger(any_db_url)
    with unit_of_work(any_db_url) as s:
        run = run_estimate(s, brand_id=brand_id, year=2021)
    with unit_of_work(any_db_url) as s:
        run = s.get(SpendEstimateRun, run.id)
        assert (run.lines_total, run.lines_estimated, run.lines_review) == (3, 2, 1)
        # 3,000 USD of 2021 spend on cement at 3.858 kg/USD (starter set, purchaser price).
        assert float(run.total_kg_co2e) == pytest.approx(3000 * 3.858, rel=1e-6)
        rows = s.scalars(select(SpendEstimate).where(SpendEstimate.run_id == run.id)).all()
        estimated = [r for r in rows if r.kg_co2e is not None]
        assert {r.factor_code for r in estimated} == {"327310"}
        assert all(3 <= r.dq_score <= 5 and r.uncertainty_pct > 0 for r in estimated)
        assert all(r.conversions and r.classification_method == "supplier" for r in estimated)
        # the sector comes only from the supplier's main activity: DQ 3.5, ±60 %
        assert {(r.dq_score, r.uncertainty_pct) for r in estimated} == {(3.5, 60.0)}
        assert run.price_basis == "include"
        review = [r for r in rows if r.needs_review]
        assert len(review) == 1 and review[0].kg_co2e is None


def test_new_run_keeps_the_previous_one(any_db_url):
    brand_id = _ledger(any_db_url)
    with unit_of_work(any_db_url) as s:
        first = run_estimate(s, brand_id=brand_id, year=2021).id
    with unit_of_work(any_db_url) as s:
        line = s.scalars(select(SpendLine).order_by(SpendLine.id)).first()
        line.amount = Decimal("2000.00")
    with unit_of_work(any_db_url) as s:
        second = run_estimate(s, brand_id=brand_id, year=2021)
        assert second.id != first and latest_run(s, brand_id, 2021).id == second.id
        before = s.get(SpendEstimateRun, first)
        assert second.inputs_hash != before.inputs_hash
        assert float(second.total_kg_co2e) > float(before.total_kg_co2e)


def test_job_failure_leaves_no_partial_run(any_db_url):
    brand_id = _ledger(any_db_url)
    job = jobs.submit(
        any_db_url,
        None,
        "supplychain.spend_runs:estimate_ledger_job",
        kind="spend.estimate",
        organization_id=brand_id,
        params={"brand_id": brand_id, "year": 2021, "dataset": "no-such-dataset"},
    )
    assert job.status == JobStatus.FAILED and "no-such-dataset" in job.error
    with unit_of_work(any_db_url) as s:
        assert s.scalar(select(func.count()).select_from(SpendEstimateRun)) == 0
        assert s.scalar(select(func.count()).select_from(SpendEstimate)) == 0
    ok = jobs.submit(
        any_db_url,
        None,
        "supplychain.spend_runs:estimate_ledger_job",
        kind="spend.estimate",
        organization_id=brand_id,
        params={"brand_id": brand_id, "year": 2021},
    )
    assert ok.status == JobStatus.FINISHED and ok.result["lines"] == 3


def test_empty_year_is_a_clear_error(sqlite_url):
    brand_id = _ledger(sqlite_url)
    with (
        unit_of_work(sqlite_url) as s,
        pytest.raises(ValueError, match="no spend lines dated 2019"),
    ):
        run_estimate(s, brand_id=brand_id, year=2019)
    with unit_of_work(sqlite_url) as s:  # the shared pipeline answers an empty year with nothing
        empty = estimate_ledger(s, brand_id, 2019, dataset="starter")
    assert empty.lines.empty and empty.total_kg_co2e == 0 and "method" in empty.lines


def test_estimate_ledger_gives_the_stored_total(any_db_url):
    brand_id = _ledger(any_db_url)
    with unit_of_work(any_db_url) as s:
        stored = float(run_estimate(s, brand_id=brand_id, year=2021).total_kg_co2e)
        result = estimate_ledger(s, brand_id, 2021, dataset="starter")
        exclude = estimate_ledger(s, brand_id, 2021, dataset="starter", margins="exclude")
        line_ids = {line.id for line in s.scalars(select(SpendLine))}
    assert result.total_kg_co2e == pytest.approx(3000 * 3.858, rel=1e-9)
    assert round(result.total_kg_co2e, 3) == pytest.approx(stored, abs=1e-3)
    lines = result.lines
    needed = {"line_id", "supplier_id", "kg_co2e", "dq_score", "uncertainty_pct", "factor_code"}
    needed |= {"factor_dataset", "factor_version", "conversions", "method", "needs_review"}
    assert needed <= set(lines.columns)
    assert set(lines["line_id"]) < line_ids and len(lines) == 3  # the 2020 line is left out
    assert lines["method"].tolist() == lines["classification_method"].tolist()
    assert result.margins == "include"
    assert exclude.total_kg_co2e == pytest.approx(3000 * 3.768, rel=1e-9)


def test_margins_are_stored_as_include_or_exclude(sqlite_url):
    brand_id = _ledger(sqlite_url)
    with unit_of_work(sqlite_url) as s:
        new = run_estimate(s, brand_id=brand_id, year=2021, margins="exclude")
        assert (new.price_basis, float(new.total_kg_co2e)) == ("exclude", 11304.0)
        old = run_estimate(s, brand_id=brand_id, year=2021, price_basis="producer")  # old jobs
        assert old.price_basis == "exclude" and old.inputs_hash == new.inputs_hash
        assert spend_factors.margins_option(old.price_basis) == "exclude"


def _systems_ledger(url: str) -> int:
    """One line per way a sector system can be spelled, plus one the engine must not read."""
    with unit_of_work(url) as s:
        brand = builders.brand(s, "systems-brand")
        plain = builders.supplier(s, "Plain Trading")
        naics22 = builders.supplier(s, "Chip Co")
        naics22.sector_code, naics22.sector_system = "334413", "NAICS 2022"
        gbt = builders.supplier(s, "塑胶厂")
        gbt.sector_code, gbt.sector_system = "C29", "GB/T 4754"
        rel_plain = builders.relationship(s, brand, plain, "P-1")
        rel_chip = builders.relationship(s, brand, naics22, "C-1")
        rel_gbt = builders.relationship(s, brand, gbt, "G-1")
        rows = [
            (rel_plain, "327310", "naics 2017"),
            (rel_plain, "327310", None),
            (rel_plain, "2410", "ISIC Rev.4"),
            (rel_plain, "2410", "ISICREV.4"),  # as the importer stored it before
            (rel_plain, "C3130", "GB/T 4754-2017"),
            (rel_plain, "24.10", "NACE Rev.2"),
            (rel_chip, None, None),
            (rel_gbt, None, None),
        ]
        for rel, code, system in rows:
            line = builders.spend_line(s, rel, "100.00", currency="USD")
            line.spend_date = date(2021, 5, 1)
            line.sector_code, line.sector_system = code, system
        return brand.id


def test_ledger_frame_normalises_sector_systems(sqlite_url):
    brand_id = _systems_ledger(sqlite_url)
    with unit_of_work(sqlite_url) as s:
        frame = ledger_frame(s, brand_id, 2021)
        result = estimate_ledger(s, brand_id, 2021, dataset="starter")
    cols = ["naics", "naics_system", "isic", "gbt4754", "supplier_naics", "supplier_naics_system"]
    got = [tuple(None if v is None or v != v else v for v in r) for r in frame[cols].to_numpy()]
    assert got == [
        ("327310", "NAICS2017", None, None, None, None),
        ("327310", "NAICS2017", None, None, None, None),
        (None, None, "2410", None, None, None),
        (None, None, "2410", None, None, None),
        (None, None, None, "C3130", None, None),
        ("24.10", "NACE Rev.2", None, None, None, None),
        (None, None, None, None, "334413", "NAICS2022"),
        (None, None, None, "C29", None, None),  # the supplier's GB/T division, crosswalked
    ]
    out = result.lines
    assert out["factor_code"].astype(object).fillna("").tolist() == [
        "327310",
        "327310",
        "331110",
        "331110",
        "331110",
        "",
        "334413",
        "326199",
    ]
    assert out["method"].tolist() == [
        "explicit",
        "explicit",
        "crosswalk-isic",
        "crosswalk-isic",
        "crosswalk-gbt4754",
        "explicit",
        "supplier",
        "crosswalk-gbt4754",
    ]
    nace = out.iloc[5]
    assert nace["needs_review"] and "NACE Rev.2 code" in nace["review_reason"]
    chip = out.iloc[6]
    assert chip["dq_score"] == 3.5 and chip["classification_confidence"] == 85.0
    assert "NAICS 2022 code" in chip["classification_note"]
    assert result.total_kg_co2e == pytest.approx(
        100 * (2 * 3.858 + 3 * 0.979 + 0.269 + 0.403), rel=1e-9
    )
    assert not result.errors


def test_stored_run_keeps_the_edition_note(sqlite_url):
    brand_id = _systems_ledger(sqlite_url)
    with unit_of_work(sqlite_url) as s:
        run = run_estimate(s, brand_id=brand_id, year=2021)
        notes = run.summary["notes"]
    assert len(notes) == 1 and "NAICS 2022 code" in notes[0] and notes[0].endswith("(1 line)")


def test_factor_store_is_passed_explicitly(sqlite_url, tmp_path, monkeypatch):
    brand_id = _ledger(sqlite_url)
    store = tmp_path / "store"
    factors = tmp_path / "f.csv"
    factors.write_text(
        "# name: house\n# version: 1\n# currency: USD\n# price_year: 2021\n"
        "# classification: NAICS 2017\ncode,purchaser_factor\n327310,2.0\n",
        encoding="utf-8",
    )
    spend_factors.import_dataset(factors, "generic-csv", store_root=store)
    monkeypatch.delenv("FACTOR_STORE", raising=False)
    with unit_of_work(sqlite_url) as s:
        run = run_estimate(s, brand_id=brand_id, year=2021, dataset="house", store_root=store)
        assert float(run.total_kg_co2e) == pytest.approx(6000.0)
        with pytest.raises(spend_factors.DatasetNotFoundError, match="house"):
            estimate_ledger(s, brand_id, 2021, dataset="house")  # not in this instance's store
        monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(tmp_path / "inst"))
        spend_factors.import_dataset(factors, "generic-csv", store_root=tmp_path / "inst/factors")
        fallback = estimate_ledger(s, brand_id, 2021, dataset="house")  # settings' store
        assert fallback.total_kg_co2e == pytest.approx(6000.0)


def test_spend_run_command_margins_and_deprecated_flag(sqlite_url, tmp_path, monkeypatch):
    from supplychain.cli import main

    brand_id = _ledger(sqlite_url)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("FACTOR_STORE", raising=False)
    runner = CliRunner()
    new = runner.invoke(
        main, ["spend", "run", "--brand", "ledger-brand", "--year", "2021", "--margins", "exclude"]
    )
    assert new.exit_code == 0, new.output
    assert "11.3 t CO2e" in new.output and "deprecated" not in new.stderr
    old = runner.invoke(
        main,
        ["spend", "run", "--brand", "ledger-brand", "--year", "2021", "--price-basis", "producer"],
    )
    assert old.exit_code == 0, old.output
    assert "--price-basis producer means --margins exclude" in old.stderr
    clash = runner.invoke(
        main,
        [
            "spend",
            "run",
            "--brand",
            "ledger-brand",
            "--year",
            "2021",
            "--price-basis",
            "purchaser",
            "--margins",
            "exclude",
        ],
    )
    assert clash.exit_code != 0 and "contradicts" in clash.output
    assert "FACTOR_STORE" not in os.environ  # the CLI sets no environment
    with unit_of_work(sqlite_url) as s:
        runs = s.scalars(
            select(SpendEstimateRun).where(SpendEstimateRun.brand_id == brand_id)
        ).all()
        assert [r.price_basis for r in runs] == ["exclude", "exclude"]


def test_estimate_ledger_matches_the_stored_run_on_the_seeded_demo_ledger(sqlite_url):
    from supplychain import demo

    with unit_of_work(sqlite_url) as s:
        demo.load(s, suppliers=30, seed=5)
        brand_id = s.scalars(
            select(Organization.id).where(Organization.slug == demo.DEMO_BRAND_SLUG)
        ).one()
    year = demo.YEARS[-1]
    with unit_of_work(sqlite_url) as s:
        run = run_estimate(s, brand_id=brand_id, year=year)
        stored_total, stored_lines = float(run.total_kg_co2e), run.lines_total
        stored = {
            r.spend_line_id: r.kg_co2e
            for r in s.scalars(select(SpendEstimate).where(SpendEstimate.run_id == run.id))
        }
        result = estimate_ledger(s, brand_id, year, dataset="starter")
    assert stored_total > 0 and len(result.lines) == stored_lines == len(stored)
    assert result.total_kg_co2e == pytest.approx(stored_total, abs=1e-3)
    for line_id, kg in zip(result.lines["line_id"], result.lines["kg_co2e"], strict=True):
        want = stored[int(line_id)]
        assert (want is None) == (kg != kg)
        assert want is None or float(want) == pytest.approx(kg, abs=5e-4)
