"""Web fixtures: an app on a migrated SQLite database, two tenants, and signed-in clients."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

import pytest

from questionnaires import responses
from scoring import queries as scoring_queries
from scoring.service import run_scoring
from supplychain.db import unit_of_work
from supplychain.footprint.storage import run_footprint
from tests.support import builders
from tests.support import campaigns as cs
from web import create_app


@dataclass
class Tenant:
    """One brand with at least one record behind every id-taking route."""

    brand_id: int
    relationship_id: str
    batch_id: str
    job_id: str
    campaign_id: str
    invitation_id: str
    evidence_id: str
    disclosure_id: str
    run_id: str
    email: str
    action_id: str


@pytest.fixture
def app(sqlite_url, tmp_path):
    app = create_app(
        {"TESTING": True, "database_url": sqlite_url, "instance_path": tmp_path / "instance"}
    )
    return app


@pytest.fixture
def csrf_off(app):
    app.config["WTF_CSRF_ENABLED"] = False
    return app


PDF = b"%PDF-1.4\n%%EOF\n"


def _make_tenant(url: str, settings, slug: str, supplier_name: str) -> Tenant:
    with unit_of_work(url) as s:
        brand, rels = cs.brand_with_suppliers(s, slug, n=1)
        rel = rels[0]
        rel.supplier.name = supplier_name
        rel.supplier.sector_code, rel.supplier.sector_system = "326199", "NAICS2017"
        rel.annual_spend, rel.spend_currency, rel.spend_year = Decimal("50000"), "CNY", 2025
        builders.spend_line(s, rel, "1000.00")
        batch = builders.import_batch(s, brand)
        job = builders.job(s, brand)
        campaign, _links = cs.launch_campaign(s, settings, brand)
        invitation = campaign.invitations[0]
        response = responses.start_response(s, invitation, user_id=None)
        evidence = responses.add_evidence(
            s,
            response,
            question_key="verification_evidence",
            stream=io.BytesIO(PDF),
            filename="statement.pdf",
            folder=settings.uploads_path / "evidence",
            max_bytes=10_000,
            user_id=None,
        )
        answers = dict(cs.BASE_ANSWERS)
        answers["verification_evidence"] = [
            {"file_id": str(evidence.public_id), "filename": "statement.pdf"}
        ]
        responses.save_answers(s, response, answers, expected_lock=1, user_id=None)
        responses.submit(s, response, user_id=None)
        disclosure = responses.accept(s, invitation, user_id=None)
        run = run_footprint(s, brand_id=brand.id, year=2025, samples=100)
        run_scoring(s, brand_id=brand.id, year=2025)
        action = scoring_queries.actions_for(s, brand.id)[0]
        return Tenant(
            brand.id,
            str(rel.public_id),
            str(batch.public_id),
            str(job.public_id),
            str(campaign.public_id),
            str(invitation.public_id),
            str(evidence.public_id),
            str(disclosure.public_id),
            str(run.public_id),
            f"buyer@{slug}.example",
            action_id=str(action.public_id),
        )


@pytest.fixture
def tenants(sqlite_url, app):
    settings = app.extensions["settings"]
    return (
        _make_tenant(sqlite_url, settings, "alpha", "深圳市华瑞塑胶制品有限公司"),
        _make_tenant(sqlite_url, settings, "beta", "Beta Steel Works"),
    )


def login(client, email: str, password: str = builders.PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def client_a(csrf_off, tenants):
    client = csrf_off.test_client()
    assert login(client, tenants[0].email).status_code == 302
    return client
