"""Login, logout, CSRF, cookie flags and role checks."""

from __future__ import annotations

import re

from supplychain.db import unit_of_work
from supplychain.models import Role
from tests.support import builders
from tests.unit.web.conftest import login


def test_login_lands_on_supplier_list(csrf_off, tenants):
    client = csrf_off.test_client()
    response = login(client, tenants[0].email)
    assert response.status_code == 302
    page = client.get(response.location, follow_redirects=True)
    assert page.status_code == 200
    assert "深圳市华瑞塑胶制品有限公司" in page.get_data(as_text=True)
    assert "Beta Steel Works" not in page.get_data(as_text=True)


def test_wrong_password_is_refused(csrf_off, tenants):
    client = csrf_off.test_client()
    response = login(client, tenants[0].email, "wrong-password")
    assert response.status_code == 401
    assert "Email or password is not correct." in response.get_data(as_text=True)
    assert client.get("/console/suppliers").status_code == 302


def test_anonymous_is_sent_to_login(app):
    response = app.test_client().get("/console/suppliers")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_logout_ends_the_session(client_a):
    assert client_a.post("/logout").status_code == 302
    assert client_a.get("/console/suppliers").status_code == 302


def test_password_is_stored_hashed(sqlite_url, tenants):
    from sqlalchemy import select

    from supplychain.models import User

    with unit_of_work(sqlite_url) as s:
        stored = s.scalars(select(User.password_hash)).all()
    assert all(h.startswith("scrypt:") and builders.PASSWORD not in h for h in stored)


def test_post_without_csrf_token_is_rejected(app, tenants):
    client = app.test_client()
    response = client.post(
        "/login", data={"email": tenants[0].email, "password": builders.PASSWORD}
    )
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_post_with_csrf_token_is_accepted(app, tenants):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(True))[1]
    response = client.post(
        "/login",
        data={"email": tenants[0].email, "password": builders.PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302


def test_session_cookie_flags(csrf_off, tenants):
    response = login(csrf_off.test_client(), tenants[0].email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_supplier_contact_cannot_open_brand_console(csrf_off, sqlite_url, tenants):
    with unit_of_work(sqlite_url) as s:
        sup = builders.supplier(s, "Contact Co")
        builders.user(s, "contact@supplier.example", sup, Role.SUPPLIER)
    client = csrf_off.test_client()
    login(client, "contact@supplier.example")
    assert client.get("/console/suppliers").status_code == 403
    assert client.get("/console/imports").status_code == 403
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200
    assert "Contact Co" in home.get_data(as_text=True)


def test_open_redirect_after_login_is_refused(csrf_off, tenants):
    client = csrf_off.test_client()
    response = client.post(
        "/login?next=//evil.example/x",
        data={"email": tenants[0].email, "password": builders.PASSWORD},
    )
    assert response.location == "/"
