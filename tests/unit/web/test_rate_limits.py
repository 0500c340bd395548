"""Throttling of sign-in, invitation links, password change and API keys (issue 8, finding 8).

Only failed attempts count where the brief says so, 429 answers carry Retry-After and speak the
user's language (or the API's JSON), limits are settings, and with Redis the counts are shared
by every process of the deployment.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from supplychain.api_keys import create_api_key
from supplychain.config import RATE_LIMIT_DEFAULTS, load_settings
from supplychain.db import unit_of_work
from supplychain.models import User
from tests.support import builders
from tests.unit.web.conftest import login
from web import create_app

BUYER = "buyer@limits.example"
WRONG = "not-the-password"


@pytest.fixture
def buyer_key(sqlite_url) -> str:
    """The buyer's account and an API key of theirs (returned)."""
    with unit_of_work(sqlite_url) as s:
        brand = builders.brand(s, "limits")
        builders.user(s, BUYER, brand)
        _key, plaintext = create_api_key(s, s.scalars(select(User)).one(), brand, "ERP sync")
    return plaintext


def make_app(sqlite_url, tmp_path, *, redis_url=None, trusted_proxies=0, **config):
    settings = load_settings(
        database_url=sqlite_url,
        redis_url=redis_url,
        instance_path=tmp_path / "inst",
        trusted_proxies=trusted_proxies,
    )
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, **config}, settings=settings)


def retry_after(response) -> int:
    seconds = int(response.headers["Retry-After"])
    assert seconds >= 1
    return seconds


def test_sixth_wrong_password_in_a_minute_is_refused_in_chinese(csrf_off, buyer_key):
    client = csrf_off.test_client()
    client.post("/language", data={"lang": "zh_CN", "next": "/login"})
    for _attempt in range(5):
        assert login(client, BUYER, WRONG).status_code == 401
    refused = login(client, BUYER, WRONG)
    assert refused.status_code == 429
    assert retry_after(refused) <= 61  # a one-minute window, rounded up to whole seconds
    page = refused.get_data(as_text=True)
    assert "尝试次数过多" in page and "秒后再试" in page
    # The account is locked for now, even with the right password.
    assert login(client, BUYER).status_code == 429


def test_refusal_page_is_english_by_default(csrf_off, buyer_key):
    client = csrf_off.test_client()
    for _attempt in range(5):
        login(client, BUYER, WRONG)
    page = login(client, BUYER, WRONG).get_data(as_text=True)
    assert "Too many attempts. Wait" in page


def test_successful_sign_ins_do_not_count(csrf_off, buyer_key):
    for _attempt in range(8):
        assert login(csrf_off.test_client(), BUYER).status_code == 302
    client = csrf_off.test_client()
    for _attempt in range(5):
        assert login(client, BUYER, WRONG).status_code == 401
    assert login(client, BUYER, WRONG).status_code == 429


def test_other_accounts_from_the_same_address_hit_the_higher_address_limit(csrf_off, buyer_key):
    client = csrf_off.test_client()
    for _attempt in range(5):
        login(client, BUYER, WRONG)
    assert login(client, BUYER, WRONG).status_code == 429
    # Other accounts are not locked by BUYER's failures: 3 × 5 more make 20 from this address ...
    for number in range(3):
        for _attempt in range(5):
            assert login(client, f"guess{number}@limits.example", WRONG).status_code == 401
    # ... and then the address as a whole is refused, for any account.
    assert login(client, "fresh@limits.example", WRONG).status_code == 429
    assert login(client, "fresh@limits.example", builders.PASSWORD).status_code == 429


def test_with_a_trusted_proxy_each_client_address_has_its_own_count(
    sqlite_url, tmp_path, buyer_key
):
    app = make_app(sqlite_url, tmp_path, trusted_proxies=1, RATELIMIT_LOGIN_ADDRESS="3/minute")
    client = app.test_client()

    def attempt(address: str, email: str):
        return client.post(
            "/login",
            data={"email": email, "password": WRONG},
            headers={"X-Forwarded-For": address},
        )

    for number in range(3):
        assert attempt("198.51.100.1", f"a{number}@limits.example").status_code == 401
    assert attempt("198.51.100.1", "a9@limits.example").status_code == 429
    assert attempt("198.51.100.2", "a9@limits.example").status_code == 401


def test_without_a_trusted_proxy_a_forged_address_does_not_escape(sqlite_url, tmp_path, buyer_key):
    app = make_app(sqlite_url, tmp_path, RATELIMIT_LOGIN_ADDRESS="3/minute")
    client = app.test_client()
    for number in range(3):
        forged = {"X-Forwarded-For": f"198.51.100.{number}"}
        response = client.post(
            "/login", data={"email": f"a{number}@x.example", "password": WRONG}, headers=forged
        )
        assert response.status_code == 401
    response = client.post(
        "/login",
        data={"email": "a9@x.example", "password": WRONG},
        headers={"X-Forwarded-For": "203.0.113.50"},
    )
    assert response.status_code == 429


def test_invitation_links_are_limited_per_address(sqlite_url, tmp_path):
    app = make_app(sqlite_url, tmp_path, RATELIMIT_INVITATION_LINK="3 per minute")
    client = app.test_client()
    for _attempt in range(3):
        assert client.get(f"/portal/i/{uuid.uuid4().hex}").status_code == 404
    refused = client.get(f"/portal/i/{uuid.uuid4().hex}")
    assert refused.status_code == 429
    retry_after(refused)
    assert "Too many attempts" in refused.get_data(as_text=True)


def test_wrong_current_passwords_are_limited_per_user(csrf_off, buyer_key):
    client = csrf_off.test_client()
    assert login(client, BUYER).status_code == 302
    form = {"current_password": WRONG, "new_password": "x" * 12, "password_confirm": "x" * 12}
    for _attempt in range(5):
        assert client.post("/account/password", data=form).status_code == 401
    refused = client.post("/account/password", data=form)
    assert refused.status_code == 429
    retry_after(refused)


def test_refused_api_keys_are_limited_and_answer_json(sqlite_url, tmp_path, buyer_key):
    app = make_app(sqlite_url, tmp_path, RATELIMIT_API_KEY="3 per minute")
    client = app.test_client()
    good = {"Authorization": f"Bearer {buyer_key}"}
    for _attempt in range(5):
        assert client.get("/api/v1/campaigns", headers=good).status_code == 200
    bad = {"Authorization": "Bearer sc_guessed-key"}
    for _attempt in range(3):
        assert client.get("/api/v1/campaigns", headers=bad).status_code == 401
    refused = client.get("/api/v1/campaigns", headers=bad)
    assert refused.status_code == 429
    retry_after(refused)
    error = refused.get_json()["error"]
    assert error["code"] == "rate_limited"
    assert "retry in" in error["message"]


def test_limits_can_be_switched_off_for_load_benchmarks(sqlite_url, tmp_path, buyer_key):
    app = make_app(sqlite_url, tmp_path, RATELIMIT_ENABLED=False)
    client = app.test_client()
    for _attempt in range(8):
        assert login(client, BUYER, WRONG).status_code == 401
    assert make_app(sqlite_url, tmp_path).config["RATELIMIT_ENABLED"] is True


def test_limit_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RATELIMIT_LOGIN", "3 per minute")
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    settings = load_settings(instance_path=tmp_path)
    assert settings.rate_limits["login"] == "3 per minute"
    assert settings.rate_limits["claim"] == RATE_LIMIT_DEFAULTS["claim"]
    assert settings.rate_limiting is False


def test_a_malformed_limit_stops_the_start(sqlite_url, tmp_path):
    with pytest.raises(ValueError, match="RATELIMIT_LOGIN"):
        make_app(sqlite_url, tmp_path, RATELIMIT_LOGIN="five a minute")


def test_with_redis_every_worker_shares_the_counts(sqlite_url, tmp_path, redis_server, buyer_key):
    """Two app instances (as two gunicorn workers): failures seen by one lock out the other."""
    email = f"{uuid.uuid4().hex}@limits.example"
    first = make_app(sqlite_url, tmp_path, redis_url=redis_server.url)
    for _attempt in range(5):
        assert login(first.test_client(), email, WRONG).status_code == 401
    second = make_app(sqlite_url, tmp_path, redis_url=redis_server.url)
    assert login(second.test_client(), email, WRONG).status_code == 429
