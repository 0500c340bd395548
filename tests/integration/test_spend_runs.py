"""A brand's stored ledger estimated as a job: one transaction, every line with provenance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from supplychain import jobs
from supplychain.db import unit_of_work
from supplychain.models import JobStatus, SpendEstimate, SpendEstimateRun, SpendLine
from supplychain.spend_runs import latest_run, run_estimate
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
