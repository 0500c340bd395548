"""Command line for the job layer's upkeep: fail dead jobs, delete old failed uploads, probe.

`supplychain jobs reap` and `supplychain import purge` are safe to run from cron at any time;
`supplychain worker` runs both when it starts and every ten minutes. `supplychain jobs check`
shows whether jobs get picked up and finished.
"""

from __future__ import annotations

import time

import click

from supplychain.config import Settings, load_settings
from supplychain.db import unit_of_work
from supplychain.models import JobRecord, JobStatus

PROBE_KIND = "jobs.check"


def sweep(settings: Settings) -> tuple[list[int], int]:
    """Fail the jobs whose worker is gone and purge old uploads of failed imports."""
    from supplychain import jobs, retention

    reaped = jobs.reap_dead_jobs(settings.database_url, settings.redis_url, clean_rq_registry=True)
    return reaped, len(retention.purge_for(settings))


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs: detect dead ones, check that workers run them."""


@jobs_group.command("reap")
def reap_command() -> None:
    """Mark running jobs whose worker was killed or crashed as failed."""
    from supplychain import jobs

    settings = load_settings()
    reaped = jobs.reap_dead_jobs(settings.database_url, settings.redis_url, clean_rq_registry=True)
    click.echo(f"{len(reaped)} dead jobs marked failed" + (f": {reaped}" if reaped else ""))


@jobs_group.command("check")
@click.option("--seconds", default=0.0, show_default=True, help="how long the probe job sleeps")
@click.option("--wait", default=60.0, show_default=True, help="how long to wait for a worker")
def check_command(seconds: float, wait: float) -> None:
    """Run a probe job (on a worker when REDIS_URL is set) and report who ran it."""
    from redis.exceptions import RedisError

    from supplychain import jobs

    settings = load_settings()
    try:
        job = jobs.submit(
            settings.database_url,
            settings.redis_url,
            "supplychain.jobs:sleep_probe",
            kind=PROBE_KIND,
            organization_id=None,
            params={"seconds": seconds},
        )
    except RedisError as exc:
        raise click.ClickException(f"cannot queue the probe job, Redis answers: {exc}") from None
    deadline = time.monotonic() + wait
    while job.status in (JobStatus.QUEUED, JobStatus.RUNNING) and time.monotonic() < deadline:
        time.sleep(0.5)
        with unit_of_work(settings.database_url) as session:
            job = session.get(JobRecord, job.id)
    if job.status == JobStatus.FINISHED:
        result = job.result
        click.echo(
            f"probe job {job.public_id} ran on {result['worker']} "
            f"(host {result['host']}, process {result['pid']})"
        )
        return
    if job.status == JobStatus.FAILED:
        raise click.ClickException(f"probe job {job.public_id} failed: {job.error}")
    raise click.ClickException(
        f"probe job {job.public_id} is still {job.status.value} after {wait:g} s: is a "
        "`supplychain worker` running with the same REDIS_URL and DATABASE_URL?"
    )


@click.command("purge")
def purge_command() -> None:
    """Delete uploads of imports that failed more than IMPORT_FAILED_RETENTION_DAYS ago."""
    from supplychain import retention

    settings = load_settings()
    deleted = retention.purge_for(settings)
    click.echo(
        f"{len(deleted)} uploads of failed imports deleted "
        f"(kept for {settings.import_failed_retention_days} days)"
    )
