"""A small job layer over RQ: enqueued to Redis when REDIS_URL is set, run inline otherwise.

A job function takes an open SQLAlchemy session plus keyword arguments and returns a JSON-able
dict. It runs inside one transaction together with the update of its `JobRecord`, so a job
either stores its whole result or, on failure or crash, nothing but the failure.
"""

from __future__ import annotations

import importlib
import logging
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from supplychain.db import session_factory, unit_of_work
from supplychain.models import JobRecord, JobStatus, utcnow

log = logging.getLogger(__name__)
QUEUE_NAME = "supplychain"
JOB_TIMEOUT_SECONDS = 3600
PROJECT_PACKAGES = ("supplychain.", "spend_factors.", "questionnaires.", "scoring.")


def _resolve(func_path: str) -> Callable[..., dict[str, Any]]:
    module_name, _, attr = func_path.partition(":")
    if not module_name.startswith(PROJECT_PACKAGES):
        raise ValueError(f"refusing to run job function outside the project: {func_path}")
    return getattr(importlib.import_module(module_name), attr)


def _record(database_url: str, func_path: str, kind: str, organization_id, created_by_id, params):
    """The job as users see it, committed before anything runs."""
    _resolve(func_path)
    with unit_of_work(database_url) as session:
        job = JobRecord(
            kind=kind,
            status=JobStatus.QUEUED,
            organization_id=organization_id,
            created_by_id=created_by_id,
            params=dict(params or {}),
        )
        session.add(job)
    return job


def _hand_to_rq(database_url: str, job: JobRecord, func_path: str, enqueue) -> JobRecord:
    """Enqueue `execute` for the recorded job and remember RQ's id for it."""
    rq_job = enqueue(
        execute,
        database_url,
        job.id,
        func_path,
        job.params,
        job_timeout=JOB_TIMEOUT_SECONDS,
        description=f"{job.kind} #{job.public_id}",
    )
    with unit_of_work(database_url) as session:
        record = session.get(JobRecord, job.id)
        record.rq_job_id = rq_job.id
        return record


def submit(
    database_url: str,
    redis_url: str | None,
    func_path: str,
    *,
    kind: str,
    organization_id: int | None,
    created_by_id: int | None = None,
    params: dict[str, Any] | None = None,
) -> JobRecord:
    """Record the job, then run it: through RQ if Redis is configured, else right here."""
    job = _record(database_url, func_path, kind, organization_id, created_by_id, params)
    if redis_url:
        return _hand_to_rq(database_url, job, func_path, get_queue(redis_url).enqueue)
    execute(database_url, job.id, func_path, job.params)
    with unit_of_work(database_url) as session:
        return session.get(JobRecord, job.id)


def schedule(
    database_url: str,
    redis_url: str,
    func_path: str,
    *,
    run_at: datetime,
    kind: str,
    organization_id: int | None,
    params: dict[str, Any] | None = None,
) -> JobRecord:
    """Record a job and hand it to RQ's scheduler to run at `run_at` (a worker runs it)."""
    job = _record(database_url, func_path, kind, organization_id, None, params)
    queue = get_queue(redis_url)
    return _hand_to_rq(
        database_url, job, func_path, lambda *a, **kw: queue.enqueue_at(run_at, *a, **kw)
    )


def execute(database_url: str, job_id: int, func_path: str, params: dict[str, Any]) -> dict:
    """Run a recorded job in one transaction; called inline or by an RQ worker."""
    with unit_of_work(database_url) as session:
        job = session.get(JobRecord, job_id)
        job.status = JobStatus.RUNNING
        job.started_at = utcnow()
    session: Session = session_factory(database_url)()
    try:
        result = _resolve(func_path)(session, **params)
        job = session.get(JobRecord, job_id)
        job.status = JobStatus.FINISHED
        job.result = result
        job.finished_at = utcnow()
        session.commit()
        return result
    except Exception as exc:
        session.rollback()
        log.exception("job %s (%s) failed", job_id, func_path)
        with unit_of_work(database_url) as failure:
            job = failure.get(JobRecord, job_id)
            job.status = JobStatus.FAILED
            job.error = _describe(exc)
            report = getattr(exc, "report", None)
            job.result = report.as_dict() if hasattr(report, "as_dict") else None
            job.finished_at = utcnow()
        return {"error": str(exc)}
    finally:
        session.close()


def _describe(exc: Exception) -> str:
    """A message people can act on first, the traceback after it for operators."""
    message = getattr(exc, "user_message", None) or f"{type(exc).__name__}: {exc}"
    return message + "\n\n" + "".join(traceback.format_exception(exc))[-4000:]


def get_queue(redis_url: str):
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))


def run_worker(redis_url: str, burst: bool = False) -> None:
    """Process jobs until stopped (or until the queue is empty with burst)."""
    from redis import Redis
    from rq import Queue, Worker

    connection = Redis.from_url(redis_url)
    worker = Worker([Queue(QUEUE_NAME, connection=connection)], connection=connection)
    worker.work(burst=burst, with_scheduler=True)
