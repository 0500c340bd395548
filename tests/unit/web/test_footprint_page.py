"""The footprint console page: latest run with provenance, older runs per tenant, run now."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from supplychain.db import unit_of_work
from supplychain.footprint.storage import latest_run, run_footprint
from supplychain.models import FootprintRun, Organization, Role, SupplierRelationship
from tests.support import builders
from tests.unit.web.conftest import login
from web import footprint as footprint_page


def _give_sector(url: str, brand_id: int, naics: str) -> None:
    with unit_of_work(url) as s:
        supplier_ids = select(SupplierRelationship.supplier_id).where(
            SupplierRelationship.brand_id == brand_id
        )
        s.execute(
            update(Organization).where(Organization.id.in_(supplier_ids)).values(sector_code=naics)
        )


@pytest.fixture
def runs(sqlite_url, tenants):
    """One completed 2025 run for each tenant (their suppliers get a NAICS sector)."""
    out = []
    for tenant, naics in zip(tenants, ("326199", "331110"), strict=True):
        _give_sector(sqlite_url, tenant.brand_id, naics)
        with unit_of_work(sqlite_url) as s:
            run = run_footprint(s, brand_id=tenant.brand_id, year=2025, samples=100)
            out.append((str(run.public_id), run.scope3_cat1_kg))
    return out


def test_page_shows_the_latest_run_with_provenance(client_a, runs, app):
    page = client_a.get("/console/footprint")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    with app.test_request_context():
        total = footprint_page.format_tonnes(runs[0][1])
    assert f'<strong id="run-total">{total}</strong>' in html
    assert "深圳市华瑞塑胶制品有限公司" in html  # the hotspot supplier
    # The tenant's supplier disclosed its emissions; the hotspot says so.
    assert "Disclosure 2025" in html
    assert 'name="csrf_token"' in html and "Run footprint now" in html
    assert "Beta Steel Works" not in html


def test_empty_page_invites_a_first_run(csrf_off, sqlite_url):
    with unit_of_work(sqlite_url) as s:
        brand = builders.brand(s, "newcomer")
        builders.user(s, "buyer@newcomer.example", brand, Role.PROCUREMENT)
    client = csrf_off.test_client()
    login(client, "buyer@newcomer.example")
    html = client.get("/console/footprint").get_data(as_text=True)
    assert 'id="no-run"' in html


def test_an_older_run_of_the_same_tenant_opens(client_a, runs):
    page = client_a.get(f"/console/footprint/runs/{runs[0][0]}")
    assert page.status_code == 200
    assert runs[0][0] in page.get_data(as_text=True)  # listed in the run history


def test_another_tenants_run_is_not_found(client_a, runs):
    assert client_a.get(f"/console/footprint/runs/{runs[1][0]}").status_code == 404
    assert client_a.get("/console/footprint/runs/not-a-uuid").status_code == 404


def _run_count(url: str, brand_id: int) -> int:
    with unit_of_work(url) as s:
        return s.scalar(
            select(func.count()).select_from(FootprintRun).where(FootprintRun.brand_id == brand_id)
        )


def test_run_now_submits_the_job_and_keeps_earlier_runs(client_a, runs, sqlite_url, tenants):
    before = _run_count(sqlite_url, tenants[0].brand_id)
    response = client_a.post("/console/footprint/run", data={"year": "2025"})
    assert response.status_code == 302
    assert "/console/footprint?year=2025" in response.headers["Location"]
    assert _run_count(sqlite_url, tenants[0].brand_id) == before + 1
    with unit_of_work(sqlite_url) as s:
        assert str(latest_run(s, tenants[0].brand_id).public_id) != runs[0][0]
    html = client_a.get("/console/footprint?year=2025").get_data(as_text=True)
    assert "Footprint calculated for 2025." in html


def test_run_now_requires_a_year(client_a):
    response = client_a.post("/console/footprint/run", data={"year": "soon"})
    assert response.status_code == 302
    assert "Choose a reporting year." in client_a.get("/console/footprint").get_data(as_text=True)


def test_run_now_needs_the_csrf_token(app, tenants):
    client = app.test_client()
    login_form = client.get("/login").get_data(as_text=True)
    token = login_form.split('name="csrf_token" value="')[1].split('"')[0]
    client.post(
        "/login",
        data={"email": tenants[0].email, "password": builders.PASSWORD, "csrf_token": token},
    )
    assert client.post("/console/footprint/run", data={"year": "2025"}).status_code == 400


def test_supplier_contacts_are_refused(csrf_off, sqlite_url, tenants, runs):
    with unit_of_work(sqlite_url) as s:
        supplier = s.get(
            Organization,
            s.scalar(
                select(SupplierRelationship.supplier_id).where(
                    SupplierRelationship.brand_id == tenants[0].brand_id
                )
            ),
        )
        builders.user(s, "contact@supplier.example", supplier, Role.SUPPLIER)
    client = csrf_off.test_client()
    assert login(client, "contact@supplier.example").status_code == 302
    assert client.get("/console/footprint").status_code == 403
    assert client.get(f"/console/footprint/runs/{runs[0][0]}").status_code == 403
    assert client.post("/console/footprint/run", data={"year": "2025"}).status_code == 403
