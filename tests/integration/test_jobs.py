"""The job layer: inline without Redis, and through a real RQ worker process with Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from supplychain import jobs
from supplychain.db import unit_of_work
from supplychain.models import JobRecord, JobStatus, SupplierRelationship
from tests.support import builders
from tests.support.workers import run_burst_worker

pytestmark = pytest.mark.integration

SUPPLIERS_CSV = "supplier_code,name,country,tier\nJ-1,甲供应商,CN,1\nJ-2,Beta GmbH,DE,1\n"
BAD_CSV = "supplier_code,name,country,tier\nJ-1,甲供应商,CN,1\nJ-2,Beta GmbH,DE,eleven\n"


def _brand(url: str) -> int:
    with unit_of_work(url) as s:
        return builders.brand(s, "jobs-brand").id


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "suppliers.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _params(brand_id: int, path: str) -> dict:
    return {"brand_id": brand_id, "kind": "suppliers", "path": path, "source_name": "suppliers.csv"}


def _relationship_count(url: str) -> int:
    with unit_of_work(url) as s:
        return s.scalar(select(func.count()).select_from(SupplierRelationship))


def test_inline_job_runs_and_records_its_result(sqlite_url, tmp_path):
    brand_id = _brand(sqlite_url)
    job = jobs.submit(
        sqlite_url,
        None,
        "supplychain.importer:import_file_job",
        kind="import.suppliers",
        organization_id=brand_id,
        params=_params(brand_id, _write(tmp_path, SUPPLIERS_CSV)),
    )
    assert job.status == JobStatus.FINISHED
    assert job.result["inserted"] == 2
    assert _relationship_count(sqlite_url) == 2


def test_failed_job_writes_nothing_but_the_failure(sqlite_url, tmp_path):
    brand_id = _brand(sqlite_url)
    job = jobs.submit(
        sqlite_url,
        None,
        "supplychain.importer:import_file_job",
        kind="import.suppliers",
        organization_id=brand_id,
        params=_params(brand_id, _write(tmp_path, BAD_CSV)),
    )
    assert job.status == JobStatus.FAILED
    assert "tier" in job.error
    assert _relationship_count(sqlite_url) == 0


def test_job_functions_outside_the_project_are_refused(sqlite_url):
    with pytest.raises(ValueError, match="outside the project"):
        jobs.submit(sqlite_url, None, "os:system", kind="x", organization_id=None)


def test_job_runs_through_a_real_rq_worker(any_db_url, redis_server, tmp_path):
    brand_id = _brand(any_db_url)
    job = jobs.submit(
        any_db_url,
        redis_server.url,
        "supplychain.importer:import_file_job",
        kind="import.suppliers",
        organization_id=brand_id,
        params=_params(brand_id, _write(tmp_path, SUPPLIERS_CSV)),
    )
    assert job.status == JobStatus.QUEUED
    assert job.rq_job_id
    assert _relationship_count(any_db_url) == 0

    run_burst_worker(any_db_url, redis_server.url, tmp_path / "instance")

    with unit_of_work(any_db_url) as s:
        finished = s.get(JobRecord, job.id)
        assert finished.status == JobStatus.FINISHED, finished.error
        assert finished.result["inserted"] == 2
        assert finished.started_at is not None and finished.finished_at is not None
    assert _relationship_count(any_db_url) == 2
