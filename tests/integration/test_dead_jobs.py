"""Jobs whose process was killed are failed with a reason, and nothing from them is kept.

The killed job is a real supplier import on PostgreSQL, run by a real RQ worker. The test holds
a SHARE lock on `supplier_relationship`, so the import deterministically waits in the middle of
its transaction (batch and organisations written, relationships not yet) when it is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from supplychain import jobs
from supplychain.db import get_engine, unit_of_work
from supplychain.models import (
    ImportBatch,
    JobRecord,
    JobStatus,
    Organization,
    SupplierRelationship,
    utcnow,
)
from tests.support import builders
from tests.support.workers import run_burst_worker, start_worker

pytestmark = pytest.mark.integration

FIRST_CSV = "supplier_code,name,country,tier\nD-1,First Supplier,CN,1\nD-2,Second Supplier,DE,1\n"
SECOND_CSV = "supplier_code,name,country,tier\n" + "".join(
    f"K-{i},Killed Import Supplier {i},CN,2\n" for i in range(40)
)
WAIT_SECONDS = 90


def _brand(url: str) -> int:
    with unit_of_work(url) as s:
        return builders.brand(s, "dead-jobs-brand").id


def _import(url: str, redis_url: str | None, brand_id: int, path: Path) -> JobRecord:
    return jobs.submit(
        url,
        redis_url,
        "supplychain.importer:import_file_job",
        kind="import.suppliers",
        organization_id=brand_id,
        params={"brand_id": brand_id, "kind": "suppliers", "path": str(path)},
    )


def _job(url: str, job_id: int) -> JobRecord:
    with unit_of_work(url) as s:
        return s.get(JobRecord, job_id)


def _counts(url: str) -> tuple[int, int, int]:
    with unit_of_work(url) as s:
        return (
            s.scalar(select(func.count()).select_from(SupplierRelationship)),
            s.scalar(select(func.count()).select_from(ImportBatch)),
            s.scalar(
                select(func.count())
                .select_from(Organization)
                .where(Organization.name.like("Killed Import Supplier%"))
            ),
        )


def _until(condition, what: str, log: Path | None = None) -> None:
    """Poll until `condition()` holds; fail naming what never happened (and the worker log)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            detail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            pytest.fail(f"{what} did not happen within {WAIT_SECONDS} s\n{detail}")
        time.sleep(0.2)


def _import_waits_for_lock(url: str) -> bool:
    """A backend other than ours is waiting for a lock while inserting relationships."""
    with get_engine(url).connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query ILIKE '%supplier_relationship%' AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    return waiting > 0


def test_killed_worker_job_is_failed_and_the_earlier_import_stays(
    postgres_url, redis_server, tmp_path
):
    brand_id = _brand(postgres_url)
    (tmp_path / "first.csv").write_text(FIRST_CSV, encoding="utf-8")
    (tmp_path / "second.csv").write_text(SECOND_CSV, encoding="utf-8")
    first = _import(postgres_url, None, brand_id, tmp_path / "first.csv")
    assert first.status == JobStatus.FINISHED
    before = _counts(postgres_url)
    assert before == (2, 1, 0)

    instance = tmp_path / "instance"
    blocker = get_engine(postgres_url).connect()
    blocker.execute(text("LOCK TABLE supplier_relationship IN SHARE MODE"))
    worker = start_worker(postgres_url, redis_server.url, instance)
    try:
        job = _import(postgres_url, redis_server.url, brand_id, tmp_path / "second.csv")
        _until(
            lambda: _job(postgres_url, job.id).status == JobStatus.RUNNING,
            "the worker starting the job",
            instance / "worker.log",
        )
        _until(lambda: _import_waits_for_lock(postgres_url), "the import reaching the lock")
        running = _job(postgres_url, job.id)
        assert running.worker_pid != worker.pid  # RQ runs the job in a forked work horse
        assert running.worker_name not in (None, "inline") and running.heartbeat_at is not None
        # Nothing says it is dead while it runs.
        assert jobs.reap_dead_jobs(postgres_url, redis_server.url) == []

        os.kill(running.worker_pid, signal.SIGKILL)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=30)
        blocker.rollback()
        blocker.close()

    assert _job(postgres_url, job.id).status == JobStatus.RUNNING  # the stuck state of old
    # The next worker to start sweeps up the jobs of workers that died.
    printed = run_burst_worker(postgres_url, redis_server.url, instance)
    assert "1 dead jobs marked failed" in printed

    failed = _job(postgres_url, job.id)
    assert failed.status == JobStatus.FAILED
    assert failed.error.startswith(jobs.WORKER_STOPPED_MESSAGE)
    assert failed.result == {"failure": jobs.WORKER_STOPPED}
    assert failed.finished_at is not None
    # The earlier import is intact; the batch and organisations the killed import had
    # written inside its transaction are gone with it.
    assert _counts(postgres_url) == before
    with unit_of_work(postgres_url) as s:
        codes = set(s.scalars(select(SupplierRelationship.supplier_code)))
    assert codes == {"D-1", "D-2"}


def test_inline_job_of_a_killed_process_is_failed(sqlite_url, tmp_path):
    """No Redis: the job runs in the process that asked for it (e.g. the web server)."""
    env = {
        **os.environ,
        "DATABASE_URL": sqlite_url,
        "SUPPLYCHAIN_INSTANCE": str(tmp_path / "instance"),
    }
    env.pop("REDIS_URL", None)
    probe = subprocess.Popen(
        [sys.executable, "-m", "supplychain.cli", "jobs", "check", "--seconds", "600"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        running_query = select(JobRecord.id).where(JobRecord.status == JobStatus.RUNNING)

        def running_ids() -> list[int]:
            with unit_of_work(sqlite_url) as s:
                return list(s.scalars(running_query))

        _until(lambda: running_ids() != [], "the probe job starting")
        [job_id] = running_ids()
        assert _job(sqlite_url, job_id).worker_pid == probe.pid
        assert jobs.reap_dead_jobs(sqlite_url) == []  # alive: left alone
    finally:
        probe.kill()
        probe.wait(timeout=30)

    reap = subprocess.run(
        [sys.executable, "-m", "supplychain.cli", "jobs", "reap"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert reap.returncode == 0, reap.stderr
    assert f"1 dead jobs marked failed: [{job_id}]" in reap.stdout
    failed = _job(sqlite_url, job_id)
    assert failed.status == JobStatus.FAILED
    assert failed.error.startswith(jobs.WORKER_STOPPED_MESSAGE)
    assert jobs.reap_dead_jobs(sqlite_url) == []


def _running_elsewhere(url: str, heartbeat_age: timedelta) -> int:
    with unit_of_work(url) as s:
        record = JobRecord(
            kind="footprint.run",
            status=JobStatus.RUNNING,
            started_at=utcnow() - heartbeat_age,
            heartbeat_at=utcnow() - heartbeat_age,
            worker_name="rq-worker-on-another-machine",
            worker_host="another-machine",
            worker_pid=4242,
        )
        s.add(record)
        s.flush()
        return record.id


def test_silent_job_on_another_machine_is_failed(postgres_url):
    silent = _running_elsewhere(postgres_url, timedelta(minutes=10))
    beating = _running_elsewhere(postgres_url, timedelta(seconds=5))
    assert jobs.reap_dead_jobs(postgres_url) == [silent]
    assert _job(postgres_url, silent).status == JobStatus.FAILED
    assert _job(postgres_url, beating).status == JobStatus.RUNNING


def test_job_declared_dead_cannot_store_its_result(postgres_url, tmp_path):
    """A job failed by the reaper (e.g. from another machine) rolls back if it wakes up."""
    brand_id = _brand(postgres_url)
    (tmp_path / "second.csv").write_text(SECOND_CSV, encoding="utf-8")
    with unit_of_work(postgres_url) as s:
        record = JobRecord(
            kind="import.suppliers", status=JobStatus.QUEUED, organization_id=brand_id
        )
        s.add(record)
    params = {"brand_id": brand_id, "kind": "suppliers", "path": str(tmp_path / "second.csv")}
    blocker = get_engine(postgres_url).connect()
    blocker.execute(text("LOCK TABLE supplier_relationship IN SHARE MODE"))
    outcome = {}
    runner = threading.Thread(
        target=lambda: outcome.update(
            jobs.execute(postgres_url, record.id, "supplychain.importer:import_file_job", params)
        )
    )
    runner.start()
    try:
        _until(lambda: _import_waits_for_lock(postgres_url), "the import reaching the lock")
        with unit_of_work(postgres_url) as s:
            s.execute(
                update(JobRecord)
                .where(JobRecord.id == record.id)
                .values(status=JobStatus.FAILED, result={"failure": jobs.WORKER_STOPPED})
            )
    finally:
        blocker.rollback()
        blocker.close()
        runner.join(timeout=WAIT_SECONDS)
    assert outcome == {"error": jobs.WORKER_STOPPED_MESSAGE}
    assert _job(postgres_url, record.id).status == JobStatus.FAILED
    assert _counts(postgres_url) == (0, 0, 0)
