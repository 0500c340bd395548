"""Form and query input that no column can hold is refused with a clear page, never a 500."""

from __future__ import annotations

from sqlalchemy import func, select

from supplychain.db import unit_of_work
from supplychain.models import QuestionnaireResponse
from tests.unit.web import test_portal
from tests.unit.web.test_portal import lock_of, open_link, save_section

# The portal tests' fixtures: a launched campaign and the app's settings.
launched, settings = test_portal.launched, test_portal.settings


def test_a_page_number_beyond_any_integer_shows_the_last_possible_page(client_a):
    response = client_a.get("/console/suppliers?page=99999999999999999999")
    assert response.status_code == 200


def test_a_nul_character_in_a_query_string_is_refused_by_name(client_a):
    response = client_a.get("/console/suppliers?q=abc%00def")
    assert response.status_code == 400
    assert "NUL character (U+0000)" in response.get_data(as_text=True)


def test_a_nul_character_in_an_answer_is_refused_and_nothing_is_saved(
    csrf_off, launched, sqlite_url
):
    supplier = csrf_off.test_client()
    inv_url = open_link(supplier, launched["links"][0])
    supplier.post(inv_url + "/start")
    form = supplier.get(inv_url + "/form?section=allocation").get_data(True)
    refused = save_section(
        supplier, inv_url, "allocation", lock_of(form), q__allocation_basis="tonnage\x00"
    )
    assert refused.status_code == 400
    assert "U+0000" in refused.get_data(as_text=True)
    with unit_of_work(sqlite_url) as s:
        versions = s.scalar(select(func.max(QuestionnaireResponse.lock_version)))
    assert versions == 1

    supplier.post("/language", data={"lang": "zh_CN", "next": "/portal/"})
    chinese = save_section(
        supplier, inv_url, "allocation", lock_of(form), q__allocation_basis="吨位\x00"
    )
    assert "NUL 字符" in chinese.get_data(as_text=True)
