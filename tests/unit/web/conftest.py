"""Web fixtures: an app on a migrated SQLite database, two tenants, and signed-in clients."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from supplychain.db import unit_of_work
from supplychain.models import Role
from tests.support import builders
from web import create_app


@dataclass
class Tenant:
    brand_id: int
    relationship_id: str
    batch_id: str
    job_id: str
    email: str


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


def _make_tenant(url: str, slug: str, supplier_name: str) -> Tenant:
    with unit_of_work(url) as s:
        brand = builders.brand(s, slug)
        sup = builders.supplier(s, supplier_name)
        rel = builders.relationship(s, brand, sup, f"{slug.upper()}-001", tier=1)
        builders.spend_line(s, rel, "1000.00")
        batch = builders.import_batch(s, brand)
        job = builders.job(s, brand)
        email = f"buyer@{slug}.example"
        builders.user(s, email, brand, Role.PROCUREMENT)
        return Tenant(brand.id, str(rel.public_id), str(batch.public_id), str(job.public_id), email)


@pytest.fixture
def tenants(sqlite_url):
    return _make_tenant(sqlite_url, "alpha", "深圳市华瑞塑胶制品有限公司"), _make_tenant(
        sqlite_url, "beta", "Beta Steel Works"
    )


def login(client, email: str, password: str = builders.PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def client_a(csrf_off, tenants):
    client = csrf_off.test_client()
    assert login(client, tenants[0].email).status_code == 302
    return client
