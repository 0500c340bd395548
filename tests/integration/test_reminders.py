"""Reminders are real scheduled RQ jobs, executed by a real worker process."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from questionnaires import campaigns
from supplychain import jobs
from supplychain.config import load_settings
from supplychain.db import unit_of_work
from supplychain.mail import read_outbox
from supplychain.models import Invitation, InvitationStatus, JobRecord, JobStatus
from tests.support import campaigns as cs
from tests.support.workers import run_burst_worker

pytestmark = pytest.mark.integration


def test_scheduled_reminder_runs_on_a_real_worker(any_db_url, redis_server, tmp_path):
    instance = tmp_path / "instance"
    settings = load_settings(
        instance_path=instance, database_url=any_db_url, redis_url=redis_server.url
    )
    deadline = date.today() - timedelta(days=3)
    with unit_of_work(any_db_url) as s:
        brand, _rels = cs.brand_with_suppliers(s, "remind")
        campaign, _links = cs.launch_campaign(s, settings, brand, deadline=deadline)
        campaign.reminder_days_after = [3]
        campaign_id, brand_id = campaign.id, brand.id
    invitations_sent = len(read_outbox(settings))

    # Due a second ago, so the worker's scheduler moves it to the queue at once.
    job = jobs.schedule(
        any_db_url,
        redis_server.url,
        "questionnaires.campaigns:reminder_job",
        run_at=datetime.now(UTC) - timedelta(seconds=1),
        kind="campaign.reminders",
        organization_id=brand_id,
        params={
            "campaign_id": campaign_id,
            "base_url": "http://testserver",
            "today": date.today().isoformat(),
        },
    )
    assert job.status == JobStatus.QUEUED

    run_burst_worker(any_db_url, redis_server.url, instance)

    with unit_of_work(any_db_url) as s:
        record = s.get(JobRecord, job.id)
        assert record.status == JobStatus.FINISHED, record.error
        assert record.result["sent"] == 2
        statuses = s.scalars(select(Invitation.status)).all()
        assert statuses == [InvitationStatus.OVERDUE, InvitationStatus.OVERDUE]
    reminders = read_outbox(settings)[invitations_sent:]
    assert len(reminders) == 2
    assert all("overdue" in m["Subject"] for m in reminders)


def test_launch_schedules_one_job_per_future_reminder(sqlite_url, redis_server, tmp_path):
    settings = load_settings(
        instance_path=tmp_path / "i", database_url=sqlite_url, redis_url=redis_server.url
    )
    with unit_of_work(sqlite_url) as s:
        brand, _rels = cs.brand_with_suppliers(s, "sched")
        campaign, _links = cs.launch_campaign(
            s, settings, brand, deadline=date.today() + timedelta(days=20)
        )
    ids = campaigns.schedule_reminders(settings, campaign, base_url="http://testserver")
    # Defaults: 7 and 1 days before, 3 days after the deadline.
    assert len(ids) == 3
    registry = jobs.get_queue(redis_server.url).scheduled_job_registry
    assert set(ids) <= set(registry.get_job_ids())
