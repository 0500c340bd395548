"""A small job layer over RQ: enqueued to Redis when REDIS_URL is set, run inline otherwise.

A job function takes an open SQLAlchemy session plus keyword arguments and returns a JSON-able
dict. It runs inside one transaction together with the update of its `JobRecord`, so a job
either stores its whole result or, on failure or crash, nothing but the failure.

A running job records the process that runs it and, on PostgreSQL, a heartbeat every few
seconds. A job whose process is gone (killed, crashed, or its machine stopped) would otherwise
stay "running" forever: `reap_dead_jobs` finds such jobs and fails them with a clear reason. A
job declared dead can no longer finish: its final update is conditional on still running, so
its late result is rolled back rather than kept next to a "failed" record.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from supplychain.db import get_engine, session_factory, unit_of_work
from supplychain.models import JobRecord, JobStatus, utcnow

log = logging.getLogger(__name__)
QUEUE_NAME = "supplychain"
JOB_TIMEOUT_SECONDS = 3600
PROJECT_PACKAGES = ("supplychain.", "spend_factors.", "questionnaires.", "scoring.")
# A running job beats every HEARTBEAT_SECONDS; one silent for HEARTBEAT_STALE_SECONDS is dead.
HEARTBEAT_SECONDS = 10
HEARTBEAT_STALE_SECONDS = 90
# SQLite has one writer: a job's open transaction blocks its own heartbeats, so there a job is
# only taken for dead by silence once it has run longer than RQ would ever let it.
SQLITE_STALE_SECONDS = JOB_TIMEOUT_SECONDS + HEARTBEAT_STALE_SECONDS
WORKER_STOPPED = "worker_stopped"
WORKER_STOPPED_MESSAGE = (
    "The worker stopped while running this job (killed or crashed); nothing from it was kept."
)


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
    worker_name, worker_host, worker_pid = _this_process()
    with unit_of_work(database_url) as session:
        job = session.get(JobRecord, job_id)
        job.status = JobStatus.RUNNING
        job.started_at = job.heartbeat_at = utcnow()
        job.worker_name, job.worker_host, job.worker_pid = worker_name, worker_host, worker_pid
    heartbeat = _Heartbeat(database_url, job_id)
    if not database_url.startswith("sqlite"):
        heartbeat.start()
    session: Session = session_factory(database_url)()
    try:
        result = _resolve(func_path)(session, **params)
        heartbeat.stop()
        finished = session.execute(
            update(JobRecord)
            .where(JobRecord.id == job_id, JobRecord.status == JobStatus.RUNNING)
            .values(status=JobStatus.FINISHED, result=result, finished_at=utcnow())
        )
        if finished.rowcount != 1:
            session.rollback()
            log.error("job %s finished after it was declared dead; its result is discarded", job_id)
            return {"error": WORKER_STOPPED_MESSAGE}
        session.commit()
        return result
    except Exception as exc:
        heartbeat.stop()
        session.rollback()
        user_message = getattr(exc, "user_message", None)
        if user_message:  # refused input (an invalid import file): expected, no traceback
            log.info("job %s (%s) refused: %s", job_id, func_path, user_message.splitlines()[0])
        else:
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
        heartbeat.stop()
        if heartbeat.is_alive():  # joined only now: a beat may have waited for the job's commit
            heartbeat.join()


class _Heartbeat(threading.Thread):
    """Writes `heartbeat_at` while a job runs, in its own short transactions.

    Only started on PostgreSQL: on SQLite the job's own write transaction would block every beat.
    """

    def __init__(self, database_url: str, job_id: int) -> None:
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.database_url = database_url
        self.job_id = job_id
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            try:
                with get_engine(self.database_url).begin() as connection:
                    connection.execute(
                        update(JobRecord)
                        .where(JobRecord.id == self.job_id, JobRecord.status == JobStatus.RUNNING)
                        .values(heartbeat_at=utcnow())
                    )
            except SQLAlchemyError as exc:
                log.warning("heartbeat of job %s not written: %s", self.job_id, exc)

    def stop(self) -> None:
        self.stopped.set()


def _this_process() -> tuple[str, str, int]:
    """Who runs a job: the RQ worker's name (or "inline"), this host, this process."""
    return os.environ.get("RQ_WORKER_ID") or "inline", _host_key(), os.getpid()


def _host_key() -> str:
    """This machine and process namespace: process ids can only be checked within it."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()} {namespace}".strip()[:255]


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their (UTC) zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def _process_gone(pid: int, started_at: datetime | None) -> bool:
    """Whether process `pid` on this host can no longer be the one running a job started then.

    A zombie counts as gone, and so does a newer process that got the same id after a restart.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        booted = _boot_time()
    except FileNotFoundError:
        return True
    except (OSError, IndexError, ValueError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    if fields[0] in ("Z", "X"):
        return True
    if started_at is None:
        return False
    process_started = booted + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return process_started > started_at.timestamp() + 2


def _stale_after(database_url: str) -> timedelta:
    seconds = SQLITE_STALE_SECONDS if database_url.startswith("sqlite") else HEARTBEAT_STALE_SECONDS
    return timedelta(seconds=seconds)


class _RQView:
    """What Redis knows about running jobs: abandoned or failed ones, and the live workers."""

    def __init__(self, redis_url: str, clean_registry: bool) -> None:
        from redis import Redis
        from rq import Queue, Worker
        from rq.registry import StartedJobRegistry

        self.connection = Redis.from_url(redis_url)
        if clean_registry:
            # Moves jobs whose worker stopped beating to the FailedJobRegistry (status failed).
            queue = Queue(QUEUE_NAME, connection=self.connection)
            StartedJobRegistry(queue=queue).cleanup()
        self.workers = {worker.name for worker in Worker.all(connection=self.connection)}

    def verdict(self, record: JobRecord) -> str | None:
        """Why RQ says the job is dead, or None when it does not."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job
        from rq.job import JobStatus as RQStatus

        if record.worker_name not in (None, "inline") and record.worker_name not in self.workers:
            return f"its RQ worker {record.worker_name} is no longer registered"
        if record.rq_job_id:
            try:
                status = Job.fetch(record.rq_job_id, connection=self.connection).get_status()
            except NoSuchJobError:
                return None
            if status in (RQStatus.FAILED, RQStatus.STOPPED, RQStatus.CANCELED):
                return f"RQ reports the job {status.value}"
        return None


def _why_dead(record: JobRecord, now: datetime, stale_after: timedelta, rq: _RQView | None):
    """The evidence that a running job's process is gone, or None while it may be alive."""
    started_at = _aware(record.started_at)
    if record.worker_host == _host_key() and record.worker_pid:
        if _process_gone(record.worker_pid, started_at):
            return f"process {record.worker_pid} on this host has ended"
        return None  # alive here, even when SQLite's lock kept its heartbeat from being written
    if rq is not None:
        reason = rq.verdict(record)
        if reason:
            return reason
    last_sign = _aware(record.heartbeat_at) or started_at
    if last_sign is None or now - last_sign > stale_after:
        return f"no heartbeat since {last_sign.isoformat() if last_sign else 'it started'}"
    return None


def reap_dead_jobs(
    database_url: str,
    redis_url: str | None = None,
    *,
    job_ids: Iterable[int] | None = None,
    clean_rq_registry: bool = False,
) -> list[int]:
    """Fail the running jobs whose process is gone; returns their ids.

    Cheap enough for a page load: one query for running jobs (of `job_ids` if given), then a
    look at this host's processes and, with Redis, at RQ's view. Each job is failed by one
    conditional update, so a job that finishes or beats meanwhile is left alone.
    """
    query = select(JobRecord).where(JobRecord.status == JobStatus.RUNNING)
    if job_ids is not None:
        query = query.where(JobRecord.id.in_(list(job_ids)))
    with unit_of_work(database_url) as session:
        running = session.scalars(query).all()
    if not running:
        return []
    rq = None
    if redis_url and any(r.rq_job_id or r.worker_name != "inline" for r in running):
        try:
            rq = _RQView(redis_url, clean_rq_registry)
        except Exception as exc:  # Redis down must not take the page down; silence still counts
            log.warning("cannot ask RQ about running jobs: %s", exc)
    now = utcnow()
    stale_after = _stale_after(database_url)
    reaped = []
    with unit_of_work(database_url) as session:
        for record in running:
            reason = _why_dead(record, now, stale_after, rq)
            if reason is None:
                continue
            seen = JobRecord.heartbeat_at.is_(None)
            if record.heartbeat_at is not None:
                seen = JobRecord.heartbeat_at == record.heartbeat_at
            failed = session.execute(
                update(JobRecord)
                .where(JobRecord.id == record.id, JobRecord.status == JobStatus.RUNNING, seen)
                .values(
                    status=JobStatus.FAILED,
                    error=f"{WORKER_STOPPED_MESSAGE}\n\nDetected: {reason}.",
                    result={"failure": WORKER_STOPPED},
                    finished_at=now,
                )
            )
            if failed.rowcount == 1:
                log.warning("job %s (%s) failed: %s", record.id, record.kind, reason)
                reaped.append(record.id)
    return reaped


def fail_if_dead(
    session: Session, database_url: str, redis_url: str | None, job: JobRecord
) -> JobRecord:
    """For a page showing a job: a running job whose worker is gone is failed now, not later."""
    if job.status == JobStatus.RUNNING and reap_dead_jobs(
        database_url, redis_url, job_ids=[job.id]
    ):
        session.refresh(job)
    return job


def sleep_probe(session: Session, *, seconds: float = 0) -> dict[str, Any]:
    """A job that only waits, for `supplychain jobs check`: do workers pick jobs up and finish?"""
    time.sleep(seconds)
    name, host, pid = _this_process()
    return {"slept_seconds": seconds, "worker": name, "host": host.split(" ")[0], "pid": pid}


def _describe(exc: Exception) -> str:
    """A message people can act on first, the traceback after it for operators."""
    message = getattr(exc, "user_message", None) or f"{type(exc).__name__}: {exc}"
    return message + "\n\n" + "".join(traceback.format_exception(exc))[-4000:]


def get_queue(redis_url: str):
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))


def run_worker(
    redis_url: str, burst: bool = False, upkeep: Callable[[], object] | None = None
) -> None:
    """Process jobs until stopped (or until the queue is empty with burst).

    `upkeep` (failing dead jobs, purging old uploads) runs with RQ's own maintenance, every ten
    minutes, so a worker that runs for months still does it; the caller runs it at start.
    """
    from redis import Redis
    from rq import Queue, Worker

    class _Worker(Worker):
        def run_maintenance_tasks(self) -> None:
            first = self.last_cleaned_at is None
            super().run_maintenance_tasks()
            if upkeep is not None and not first:
                try:
                    upkeep()
                except Exception:  # upkeep must never stop the worker from running jobs
                    log.exception("job upkeep failed")

    connection = Redis.from_url(redis_url)
    worker = _Worker([Queue(QUEUE_NAME, connection=connection)], connection=connection)
    worker.work(burst=burst, with_scheduler=True)
