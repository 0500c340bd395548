"""`supplychain campaigns send-reminders`: the cron path for installations without Redis."""

from __future__ import annotations

from datetime import date, timedelta

from click.testing import CliRunner

from supplychain.cli import main
from supplychain.config import load_settings
from supplychain.db import unit_of_work
from supplychain.mail import read_outbox
from tests.support import campaigns as cs


def test_due_reminders_are_sent_once_per_day(sqlite_url, tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(instance))
    settings = load_settings(instance_path=instance, database_url=sqlite_url)
    with unit_of_work(sqlite_url) as s:
        brand, _rels = cs.brand_with_suppliers(s, "cron")
        cs.launch_campaign(s, settings, brand, deadline=date.today() + timedelta(days=7))
    invitations = len(read_outbox(settings))
    runner = CliRunner()
    first = runner.invoke(main, ["campaigns", "send-reminders", "--base-url", "http://x"])
    assert first.exit_code == 0, first.output
    assert "2 reminders sent" in first.output
    again = runner.invoke(main, ["campaigns", "send-reminders", "--base-url", "http://x"])
    assert "0 reminders sent" in again.output
    assert len(read_outbox(settings)) == invitations + 2
    not_due = runner.invoke(
        main,
        [
            "campaigns",
            "send-reminders",
            "--base-url",
            "http://x",
            "--date",
            (date.today() + timedelta(days=2)).isoformat(),
        ],
    )
    assert "0 reminders sent" in not_due.output
