"""Sessions end on the server (issue 8, finding 7) and cookie/proxy trust is fixed at start-up
(finding 5): logout, password change and deactivation stop copied cookies and API keys; a
client's forwarded headers change nothing unless a proxy count is configured."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner
from flask import request
from sqlalchemy import select

from supplychain.accounts import authenticate, end_sessions
from supplychain.api_keys import create_api_key
from supplychain.cli import main as cli
from supplychain.config import load_settings
from supplychain.db import unit_of_work
from supplychain.models import AuditEvent, User
from tests.support import builders
from tests.unit.web.conftest import login
from web import create_app

BUYER = "buyer@sessions.example"
PAGE = "/console/suppliers"
NEW_PASSWORD = "battery-staple-77"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def buyer_key(sqlite_url) -> str:
    """The buyer's account and an API key of theirs (returned)."""
    with unit_of_work(sqlite_url) as s:
        brand = builders.brand(s, "sessions")
        builders.user(s, BUYER, brand)
        _key, plaintext = create_api_key(s, s.scalars(select(User)).one(), brand, "ERP sync")
    return plaintext


def signed_in(app, password: str = builders.PASSWORD):
    client = app.test_client()
    assert login(client, BUYER, password).status_code == 302
    assert client.get(PAGE).status_code == 200
    return client


def copy_of(app, client):
    """A second browser holding the same cookie, as a thief with a copy would."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def is_signed_out(client) -> bool:
    response = client.get(PAGE)
    return response.status_code == 302 and response.location.startswith("/login")


# --- finding 7: revocation ----------------------------------------------------------------------


def test_copied_cookie_stops_working_after_logout(csrf_off, buyer_key):
    owner = signed_in(csrf_off)
    thief = copy_of(csrf_off, owner)
    assert thief.get(PAGE).status_code == 200
    logged_out = owner.post("/logout", follow_redirects=True)
    assert "signed out on all your devices" in logged_out.get_data(as_text=True)
    assert is_signed_out(thief)
    assert is_signed_out(owner)


def test_logout_ends_every_session_of_the_user_and_a_new_sign_in_works(csrf_off, buyer_key):
    laptop, phone = signed_in(csrf_off), signed_in(csrf_off)
    laptop.post("/logout")
    assert is_signed_out(phone)
    assert signed_in(csrf_off).get(PAGE).status_code == 200


def test_logout_keeps_the_language_choice(csrf_off, buyer_key):
    client = signed_in(csrf_off)
    client.post("/language", data={"lang": "zh_CN", "next": "/login"})
    page = client.post("/logout", follow_redirects=True).get_data(as_text=True)
    assert "您已在所有设备上退出登录。" in page


def test_password_change_ends_other_sessions_and_keeps_this_one(csrf_off, sqlite_url, buyer_key):
    here, elsewhere = signed_in(csrf_off), signed_in(csrf_off)
    thief = copy_of(csrf_off, here)
    changed = here.post(
        "/account/password",
        data={
            "current_password": builders.PASSWORD,
            "new_password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert here.get(PAGE).status_code == 200
    assert is_signed_out(elsewhere)
    assert is_signed_out(thief)
    with unit_of_work(sqlite_url) as s:
        assert authenticate(s, BUYER, builders.PASSWORD) is None
        assert authenticate(s, BUYER, NEW_PASSWORD) is not None
        actions = s.scalars(select(AuditEvent.action)).all()
    assert "user.password_changed" in actions


@pytest.mark.parametrize(
    ("current", "new", "confirm", "status", "message"),
    [
        ("wrong-password", NEW_PASSWORD, NEW_PASSWORD, 401, "The current password is not correct."),
        (builders.PASSWORD, NEW_PASSWORD, "other-password", 400, "The two passwords do not match."),
        (builders.PASSWORD, "short", "short", 400, "Passwords need at least 8 characters."),
    ],
)
def test_refused_password_change_keeps_everything(
    csrf_off, sqlite_url, buyer_key, current, new, confirm, status, message
):
    here, elsewhere = signed_in(csrf_off), signed_in(csrf_off)
    refused = here.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "password_confirm": confirm},
    )
    assert refused.status_code == status
    assert message in refused.get_data(as_text=True)
    assert elsewhere.get(PAGE).status_code == 200
    with unit_of_work(sqlite_url) as s:
        assert authenticate(s, BUYER, builders.PASSWORD) is not None


def test_password_page_needs_sign_in_and_csrf_and_speaks_chinese(app, buyer_key):
    client = app.test_client()
    assert client.get("/account/password").location.startswith("/login")
    token = CSRF.search(client.get("/login").get_data(as_text=True))[1]
    client.post("/login", data={"email": BUYER, "password": builders.PASSWORD, "csrf_token": token})
    fields = {
        "current_password": builders.PASSWORD,
        "new_password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
    }
    assert client.post("/account/password", data=fields).status_code == 400
    token = CSRF.search(client.get("/account/password").get_data(as_text=True))[1]
    client.post("/language", data={"lang": "zh_CN", "csrf_token": token})
    page = client.get("/account/password").get_data(as_text=True)
    assert "修改密码" in page and "当前密码" in page
    changed = client.post("/account/password", data={**fields, "csrf_token": token})
    assert changed.status_code == 302


def test_deactivation_ends_sessions_and_api_keys(
    csrf_off, sqlite_url, buyer_key, monkeypatch, tmp_path
):
    bearer = {"Authorization": f"Bearer {buyer_key}"}
    client = signed_in(csrf_off)
    assert client.get("/api/v1/campaigns", headers=bearer).status_code == 200
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(tmp_path / "cli-instance"))
    done = CliRunner().invoke(cli, ["users", "deactivate", BUYER.upper()])
    assert done.exit_code == 0, done.output
    assert "deactivated" in done.output
    assert is_signed_out(client)
    refused = client.get("/api/v1/campaigns", headers=bearer)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"
    assert login(csrf_off.test_client(), BUYER).status_code == 401
    again = CliRunner().invoke(cli, ["users", "deactivate", BUYER])
    assert again.exit_code != 0 and "already deactivated" in again.output
    unknown = CliRunner().invoke(cli, ["users", "deactivate", "nobody@example.com"])
    assert unknown.exit_code != 0 and "no user with email" in unknown.output


# --- finding 5: cookie flags and proxies fixed at start-up --------------------------------------


def test_forwarded_proto_from_a_client_changes_no_cookie_flags(app, buyer_key):
    """One client claiming HTTPS must not make everyone's cookie Secure (which broke plain-HTTP
    sign-in: the browser then withholds the cookie carrying the CSRF token)."""
    app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert app.config["SESSION_COOKIE_SECURE"] is False
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True))[1]
    response = client.post(
        "/login", data={"email": BUYER, "password": builders.PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert "Secure" not in response.headers["Set-Cookie"]
    assert client.get(PAGE).status_code == 200


def _settings(sqlite_url, tmp_path, **overrides):
    return load_settings(
        database_url=sqlite_url, redis_url=None, instance_path=tmp_path / "inst", **overrides
    )


def test_session_cookie_is_secure_when_the_site_is_https(sqlite_url, tmp_path, buyer_key):
    app = create_app(
        {"TESTING": True, "WTF_CSRF_ENABLED": False},
        settings=_settings(sqlite_url, tmp_path, base_url="https://carbon.example"),
    )
    response = login(app.test_client(), BUYER)
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize(
    ("env", "base_url", "secure"),
    [
        ({}, None, False),
        ({}, "http://127.0.0.1:5000", False),
        ({}, "https://carbon.example", True),
        ({"SESSION_COOKIE_SECURE": "1"}, "http://127.0.0.1:5000", True),
        ({"SESSION_COOKIE_SECURE": "off"}, "https://carbon.example", False),
    ],
)
def test_secure_cookie_setting(monkeypatch, tmp_path, env, base_url, secure):
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(instance_path=tmp_path, base_url=base_url)
    assert settings.session_cookie_secure is secure


def test_malformed_proxy_and_cookie_settings_stop_the_start(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUSTED_PROXIES", "one")
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        load_settings(instance_path=tmp_path)
    monkeypatch.setenv("TRUSTED_PROXIES", "2")
    assert load_settings(instance_path=tmp_path).trusted_proxies == 2
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "maybe")
    with pytest.raises(ValueError, match="SESSION_COOKIE_SECURE"):
        load_settings(instance_path=tmp_path)


def _whoami_app(sqlite_url, tmp_path, proxies: int):
    app = create_app(
        {"TESTING": True}, settings=_settings(sqlite_url, tmp_path, trusted_proxies=proxies)
    )
    app.add_url_rule(
        "/whoami", "whoami", lambda: f"{request.remote_addr} {request.scheme}", methods=["GET"]
    )
    return app


FORWARDED = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7", "X-Forwarded-Proto": "https"}


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(sqlite_url, tmp_path):
    client = _whoami_app(sqlite_url, tmp_path, 0).test_client()
    answer = client.get("/whoami", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert answer.get_data(as_text=True) == "10.0.0.5 http"


def test_forwarded_headers_count_through_the_configured_proxies(sqlite_url, tmp_path):
    client = _whoami_app(sqlite_url, tmp_path, 1).test_client()
    answer = client.get("/whoami", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.5"})
    # One proxy: only the address it appended is trusted, not what the client sent before it.
    assert answer.get_data(as_text=True) == "203.0.113.7 https"


def test_concurrent_logouts_each_move_the_generation_on(postgres_url):
    """The increment is one UPDATE in the database: sessions ended at the same moment from
    several devices are all counted (a read-then-write would lose some on PostgreSQL)."""
    with unit_of_work(postgres_url) as s:
        builders.user(s, BUYER, builders.brand(s, "sessions"))
    devices = 8
    start = threading.Barrier(devices)

    def log_out() -> None:
        with unit_of_work(postgres_url) as s:
            user = s.scalars(select(User).where(User.email == BUYER)).one()
            start.wait()
            end_sessions(s, user)

    with ThreadPoolExecutor(devices) as pool:
        for done in [pool.submit(log_out) for _device in range(devices)]:
            done.result()
    with unit_of_work(postgres_url) as s:
        assert s.scalars(select(User.session_generation)).one() == devices
