"""Failed and refused imports stay listed with their report; a dead job's page says so."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time

from sqlalchemy import func, select

from supplychain.db import unit_of_work
from supplychain.models import ImportBatch, JobRecord, JobStatus, Organization

BAD_CSV = "供应商编码,供应商名称,国家,层级\nH-1,好供应商,CN,1\nH-2,坏供应商,CN,十一\n"
NO_CODE_CSV = "供应商名称,国家\n没有编码的供应商,CN\n"


def upload(client, text: str, filename: str):
    data = {"kind": "suppliers", "file": (io.BytesIO(text.encode("utf-8")), filename)}
    return client.post("/console/imports", data=data, content_type="multipart/form-data")


def _recent_row(page: str, filename: str) -> str:
    rows = [row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if filename in row]
    assert len(rows) == 1, page
    return rows[0]


def test_failed_import_is_listed_with_its_report(client_a, sqlite_url):
    with unit_of_work(sqlite_url) as s:
        organisations = s.scalar(select(func.count()).select_from(Organization))
    job_page = client_a.get(upload(client_a, BAD_CSV, "bad-tiers.csv").location)
    job_text = job_page.get_data(as_text=True)
    assert "Failed" in job_text and "Nothing was imported" in job_text
    report_link = re.search(r'href="(/console/imports/[0-9a-f-]{36})"', job_text)[1]

    row = _recent_row(client_a.get("/console/imports").get_data(as_text=True), "bad-tiers.csv")
    assert "Failed: nothing imported" in row
    assert report_link in row

    report = client_a.get(report_link).get_data(as_text=True)
    assert "Failed: nothing imported" in report
    assert "Problems" in report and "Skipped rows" not in report
    assert "十一" in report and "bad_tier" in report
    with unit_of_work(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == organisations
        batch = s.scalars(select(ImportBatch).where(ImportBatch.filename == "bad-tiers.csv")).one()
        assert (batch.rows_total, batch.rows_inserted, batch.rows_updated) == (2, 0, 0)


def test_refused_file_is_listed_with_the_reason(client_a):
    job_page = client_a.get(upload(client_a, NO_CODE_CSV, "no-code.csv").location)
    assert "Failed" in job_page.get_data(as_text=True)
    row = _recent_row(client_a.get("/console/imports").get_data(as_text=True), "no-code.csv")
    assert "File refused: nothing imported" in row
    report_link = re.search(r'href="(/console/imports/[0-9a-f-]{36})"', row)[1]
    report = client_a.get(report_link).get_data(as_text=True)
    assert "File refused: nothing imported" in report
    assert "no-code.csv" in report and "supplier_code" in report


def test_succeeded_import_reads_as_imported(client_a, tenants):
    row = _recent_row(client_a.get("/console/imports").get_data(as_text=True), "x.csv")
    assert "Imported" in row and "nothing imported" not in row


def _inline_job_in_a_process_that_dies(sqlite_url: str, brand_id: int, tmp_path) -> int:
    """Like a web server killed while it runs an inline job: the record stays 'running'."""
    script = (
        "import sys\n"
        "from supplychain import jobs\n"
        "jobs.submit(sys.argv[1], None, 'supplychain.jobs:sleep_probe', kind='import.suppliers',"
        " organization_id=int(sys.argv[2]), params={'seconds': 600})\n"
    )
    env = {**os.environ, "SUPPLYCHAIN_INSTANCE": str(tmp_path / "killed")}
    process = subprocess.Popen(
        [sys.executable, "-c", script, sqlite_url, str(brand_id)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    query = select(JobRecord.id).where(
        JobRecord.status == JobStatus.RUNNING, JobRecord.worker_pid == process.pid
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with unit_of_work(sqlite_url) as s:
                job_id = s.scalars(query).first()
            if job_id is not None:
                return job_id
            assert time.monotonic() < deadline, "the inline job never started"
            time.sleep(0.2)
    finally:
        process.kill()
        process.wait(timeout=30)


def test_job_page_fails_a_job_whose_process_died(client_a, tenants, sqlite_url, tmp_path):
    job_id = _inline_job_in_a_process_that_dies(sqlite_url, tenants[0].brand_id, tmp_path)
    with unit_of_work(sqlite_url) as s:
        record = s.get(JobRecord, job_id)
        assert record.status == JobStatus.RUNNING
        public_id = record.public_id

    page = client_a.get(f"/console/jobs/{public_id}").get_data(as_text=True)

    assert "The worker stopped while running this job (killed or crashed)" in page
    assert 'http-equiv="refresh"' not in page
    with unit_of_work(sqlite_url) as s:
        assert s.get(JobRecord, job_id).status == JobStatus.FAILED
    client_a.post("/language", data={"lang": "zh_CN"})
    page = client_a.get(f"/console/jobs/{public_id}").get_data(as_text=True)
    assert "后台任务进程在运行此任务时停止" in page
