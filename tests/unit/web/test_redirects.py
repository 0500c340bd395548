"""Redirect targets taken from the request (`next=`) stay on this site (issue 8, finding 3)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from supplychain.db import unit_of_work
from tests.support import builders

BUYER = "buyer@redirects.example"
# Forms that browsers (or a decoding proxy) read as another host or as script.
BYPASSES = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\/evil.example",
    "/\\/evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\x00//evil.example",
    " /evil.example",
    " //evil.example",
    "/ /evil.example",
    "\u3000//evil.example",
    "https:evil.example",
    "https://evil.example/",
    "HTTPS://evil.example/",
    "http:/\\evil.example",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "/%5Cevil.example",
    "/%252F%252Fevil.example",
    "%2F%2Fevil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "",
]
GOOD = "/console/suppliers?x=1"


@pytest.fixture
def buyer(sqlite_url):
    with unit_of_work(sqlite_url) as s:
        builders.user(s, BUYER, builders.brand(s, "redirects"))
    return BUYER


def same_origin_path(location: str) -> bool:
    parts = urlsplit(location)
    return (
        not parts.scheme
        and not parts.netloc
        and location.startswith("/")
        and not location.startswith("//")
        and "\\" not in location
        and not any(ch.isspace() or ord(ch) < 32 for ch in location)
    )


def refused_as_nul(target: str, response) -> bool:
    """A NUL character is refused before any view runs (400), which is no redirect at all."""
    if "\x00" not in target:
        return False
    assert response.status_code == 400 and "Location" not in response.headers, repr(target)
    return True


def test_login_refuses_every_off_site_next(csrf_off, buyer):
    client = csrf_off.test_client()
    for target in BYPASSES:
        response = client.post(
            "/login",
            query_string={"next": target},
            data={"email": buyer, "password": builders.PASSWORD},
        )
        if refused_as_nul(target, response):
            continue
        assert response.status_code == 302, repr(target)
        assert response.location == "/", repr(target)
        assert same_origin_path(response.location), repr(target)


def test_login_refuses_raw_tab_encoded_in_the_url(csrf_off, buyer):
    """The reported case, as it arrives on the wire: `?next=/%09/evil.example`."""
    response = csrf_off.test_client().post(
        "/login?next=/%09/evil.example", data={"email": buyer, "password": builders.PASSWORD}
    )
    assert response.location == "/"


def test_login_keeps_a_path_on_this_site(csrf_off, buyer):
    response = csrf_off.test_client().post(
        "/login", query_string={"next": GOOD}, data={"email": buyer, "password": builders.PASSWORD}
    )
    assert response.location == GOOD


def test_sign_in_page_round_trip_keeps_where_the_user_was_going(csrf_off, buyer):
    client = csrf_off.test_client()
    sent_to_login = client.get(GOOD)
    assert sent_to_login.status_code == 302
    landed = client.post(
        sent_to_login.location, data={"email": buyer, "password": builders.PASSWORD}
    )
    assert landed.location == GOOD


def test_language_switch_refuses_every_off_site_next(csrf_off):
    client = csrf_off.test_client()
    for target in BYPASSES:
        response = client.post("/language", data={"lang": "zh_CN", "next": target})
        if refused_as_nul(target, response):
            continue
        assert response.status_code == 302, repr(target)
        assert response.location == "/", repr(target)
    kept = client.post("/language", data={"lang": "en", "next": GOOD})
    assert kept.location == GOOD
