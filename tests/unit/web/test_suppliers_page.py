"""The supplier list: search, sort and paging, scoped to the signed-in brand."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from supplychain.db import unit_of_work
from supplychain.models import Role
from tests.support import builders
from tests.unit.web.conftest import login


@pytest.fixture
def buyer(csrf_off, sqlite_url):
    with unit_of_work(sqlite_url) as s:
        brand = builders.brand(s, "gamma")
        for i in range(1, 121):
            sup = builders.supplier(s, f"Supplier {i:03d}", country="CN" if i % 2 else "DE")
            builders.relationship(
                s,
                brand,
                sup,
                f"G{i:03d}",
                tier=1 + i % 3,
                annual_spend=Decimal(i * 1000),
                spend_currency="USD",
                spend_year=2025,
            )
        builders.user(s, "buyer@gamma.example", brand, Role.PROCUREMENT)
    client = csrf_off.test_client()
    login(client, "buyer@gamma.example")
    return client


def codes(page_html: str) -> list[str]:
    return re.findall(r"<td>(G\d{3})</td>", page_html)


def test_first_page_sorted_by_name(buyer):
    html = buyer.get("/console/suppliers").get_data(as_text=True)
    assert codes(html)[:3] == ["G001", "G002", "G003"]
    assert len(codes(html)) == 50
    assert "120 suppliers" in html
    assert "Page 1 of 3" in html


def test_sort_by_spend_descending(buyer):
    html = buyer.get("/console/suppliers?sort=spend&dir=desc").get_data(as_text=True)
    assert codes(html)[:2] == ["G120", "G119"]
    assert "120,000.00 USD" in html


def test_paging(buyer):
    html = buyer.get("/console/suppliers?page=3").get_data(as_text=True)
    assert codes(html) == [f"G{i:03d}" for i in range(101, 121)]


def test_search_by_name_and_code(buyer):
    html = buyer.get("/console/suppliers?q=supplier 07").get_data(as_text=True)
    assert codes(html) == [f"G{i:03d}" for i in range(70, 80)]
    html = buyer.get("/console/suppliers?q=g015").get_data(as_text=True)
    assert codes(html) == ["G015"]


def test_bad_paging_arguments_fall_back(buyer):
    assert buyer.get("/console/suppliers?page=abc&per_page=-4&sort=drop").status_code == 200
