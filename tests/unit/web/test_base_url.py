"""Mailed links come from the configured BASE_URL, never from the request's Host header."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from questionnaires import campaigns as campaign_service
from questionnaires.publishing import install_shipped
from supplychain.api_keys import create_api_key
from supplychain.cli import _with_base_url, main
from supplychain.config import load_settings
from supplychain.db import unit_of_work
from supplychain.mail import read_outbox
from supplychain.models import Campaign, Organization, User
from supplychain.tenancy import find_by_public_id
from tests.support import campaigns as cs
from tests.support.builders import PASSWORD
from web import FALLBACK_BASE_URL, create_app
from web.campaigns import public_base_url

BASE = "https://carbon.example.com"
FORGED = {"Host": "evil.example"}


@pytest.fixture(autouse=True)
def _no_base_url_in_environment(monkeypatch):
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)


@pytest.fixture
def app(sqlite_url, tmp_path, monkeypatch):
    """The shared web fixtures, on an app whose BASE_URL is configured."""
    monkeypatch.setenv("BASE_URL", BASE + "/")
    return create_app(
        {"TESTING": True, "database_url": sqlite_url, "instance_path": tmp_path / "instance"}
    )


def _mails_since(settings, count: int) -> list[str]:
    return [m.get_content() for m in read_outbox(settings)[count:]]


def _assert_only_configured_links(bodies: list[str]) -> None:
    assert bodies
    for body in bodies:
        assert "evil.example" not in body
        assert BASE + "/portal/i/" in body, body


def test_launch_remind_and_new_link_ignore_a_forged_host(csrf_off, tenants, sqlite_url):
    settings = csrf_off.extensions["settings"]
    # Every request of this brand user names evil.example as the host, the sign-in too.
    client = csrf_off.test_client()
    signed_in = client.post(
        "/login", data={"email": tenants[0].email, "password": PASSWORD}, headers=FORGED
    )
    assert signed_in.status_code == 302
    assert not signed_in.location.startswith("/login")
    with unit_of_work(sqlite_url) as s:
        campaign = campaign_service.create_campaign(
            s,
            brand_id=tenants[0].brand_id,
            name="Forged host",
            questionnaire_version=install_shipped(s)[0],
            reporting_year=2025,
            deadline=date.today() + timedelta(days=30),
            supplier_filter=campaign_service.SupplierFilter(),
        )
        campaign_id = str(campaign.public_id)
    sent_before = len(read_outbox(settings))

    launched = client.post(f"/console/campaigns/{campaign_id}/launch", headers=FORGED)
    assert launched.status_code == 302
    reminded = client.post(f"/console/campaigns/{campaign_id}/remind", headers=FORGED)
    assert reminded.status_code == 302
    with unit_of_work(sqlite_url) as s:
        campaign = find_by_public_id(s, Campaign, campaign_id)
        invitation_id = str(campaign.invitations[0].public_id)
    reissued = client.post(f"/console/invitations/{invitation_id}/reissue", headers=FORGED)
    assert reissued.status_code == 302

    bodies = _mails_since(settings, sent_before)
    assert len(bodies) == 3  # invitation, reminder, new link
    _assert_only_configured_links(bodies)


def test_api_launch_ignores_a_forged_host(app, tenants, sqlite_url):
    settings = app.extensions["settings"]
    with unit_of_work(sqlite_url) as s:
        brand = s.get(Organization, tenants[0].brand_id)
        buyer = s.scalars(select(User).where(User.email == tenants[0].email)).one()
        _key, api_key = create_api_key(s, buyer, brand, "ERP")
        campaign = campaign_service.create_campaign(
            s,
            brand_id=brand.id,
            name="Forged host over the API",
            questionnaire_version=install_shipped(s)[0],
            reporting_year=2025,
            deadline=date.today() + timedelta(days=30),
            supplier_filter=campaign_service.SupplierFilter(),
        )
        campaign_id = str(campaign.public_id)
    sent_before = len(read_outbox(settings))
    response = app.test_client().post(
        f"/api/v1/campaigns/{campaign_id}/launch",
        headers={**FORGED, "Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["invited"] == 1
    _assert_only_configured_links(_mails_since(settings, sent_before))


def test_without_base_url_the_app_warns_once_and_never_uses_host(sqlite_url, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="web")
    app = create_app(
        {"TESTING": True, "database_url": sqlite_url, "instance_path": tmp_path / "instance"}
    )
    warnings = [r for r in caplog.records if "BASE_URL is not set" in r.getMessage()]
    assert len(warnings) == 1
    with app.test_request_context("/console/campaigns", headers=FORGED):
        assert public_base_url() == FALLBACK_BASE_URL
    with app.test_request_context("/console/campaigns", headers=FORGED):
        assert public_base_url() == FALLBACK_BASE_URL
    assert len([r for r in caplog.records if "BASE_URL is not set" in r.getMessage()]) == 1


def test_legacy_public_base_url_is_still_read(monkeypatch, tmp_path):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://old.example.com/")
    assert load_settings(instance_path=tmp_path).base_url == "https://old.example.com"
    monkeypatch.setenv("BASE_URL", BASE)
    assert load_settings(instance_path=tmp_path).base_url == BASE


@pytest.mark.parametrize("bad", ["carbon.example.com", "ftp://carbon.example.com", "https://"])
def test_malformed_base_url_stops_the_cli_with_its_name(bad, monkeypatch, tmp_path):
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(tmp_path))
    monkeypatch.setenv("BASE_URL", bad)
    result = CliRunner().invoke(main, ["db", "current"])
    assert result.exit_code != 0
    assert "BASE_URL must be" in result.output
    assert "Traceback" not in result.output


def test_serve_on_a_public_interface_refuses_without_base_url(monkeypatch, tmp_path):
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(tmp_path))
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "8000"])
    assert result.exit_code != 0
    assert "BASE_URL is not set" in result.output
    assert "0.0.0.0" in result.output


def test_serve_on_a_public_interface_with_base_url_passes_that_check(monkeypatch, tmp_path):
    # It goes on to the next check, the unmigrated database, which proves BASE_URL was accepted.
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(tmp_path))
    monkeypatch.setenv("BASE_URL", BASE)
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "8000"])
    assert result.exit_code != 0
    assert "BASE_URL" not in result.output
    assert "not migrated" in result.output


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "http://127.0.0.1:5000"),
        ("localhost", "http://localhost:5000"),
        ("::1", "http://[::1]:5000"),
    ],
)
def test_serve_on_loopback_defaults_to_its_own_address(host, expected, tmp_path):
    settings = load_settings(instance_path=tmp_path)
    assert settings.base_url is None
    assert _with_base_url(settings, host, 5000).base_url == expected


def test_configured_base_url_wins_on_loopback(monkeypatch, tmp_path):
    monkeypatch.setenv("BASE_URL", BASE)
    settings = load_settings(instance_path=tmp_path)
    assert _with_base_url(settings, "127.0.0.1", 5000).base_url == BASE


def _running_campaign(url: str, settings) -> int:
    with unit_of_work(url) as s:
        brand, _rels = cs.brand_with_suppliers(s, "remind")
        campaign, _links = cs.launch_campaign(
            s, settings, brand, deadline=date.today() + timedelta(days=7)
        )
        return campaign.id


def test_reminder_job_uses_the_workers_base_url(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(tmp_path))
    settings = load_settings(instance_path=tmp_path, database_url=sqlite_url)
    campaign_id = _running_campaign(sqlite_url, settings)
    sent_before = len(read_outbox(settings))
    monkeypatch.setenv("BASE_URL", BASE)
    with unit_of_work(sqlite_url) as s:
        # A job scheduled with a poisoned address (before this fix) still mails BASE_URL links.
        result = campaign_service.reminder_job(
            s, campaign_id=campaign_id, base_url="http://evil.example"
        )
    assert result["sent"] == 2
    _assert_only_configured_links(_mails_since(settings, sent_before))


def test_cron_reminders_use_base_url_or_refuse(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    settings = load_settings(instance_path=tmp_path, database_url=sqlite_url)
    _running_campaign(sqlite_url, settings)
    sent_before = len(read_outbox(settings))
    refused = CliRunner().invoke(main, ["campaigns", "send-reminders"])
    assert refused.exit_code != 0
    assert "BASE_URL" in refused.output
    monkeypatch.setenv("BASE_URL", BASE)
    done = CliRunner().invoke(main, ["campaigns", "send-reminders"])
    assert done.exit_code == 0, done.output
    assert "2 reminders sent" in done.output
    _assert_only_configured_links(_mails_since(settings, sent_before))
