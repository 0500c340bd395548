"""Regression tests for what fuzzing the JSON API found (issue 8, finding 10 and after): input
that used to answer 500 or break the document's contract now answers a JSON 400 that names the
problem, and nothing is written."""

from __future__ import annotations

from datetime import date

import pytest
import schemathesis

from tests.support import campaigns as cs
from tests.support.api_world import World, app_on_copy, seed_world

V1 = "/api/v1"
LISTS = (
    "/campaigns",
    "/campaigns/{campaign_id}/invitations",
    "/questionnaires",
    "/disclosures",
    "/responses",
)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return seed_world(tmp_path_factory.mktemp("api-world"))


@pytest.fixture
def app(world, tmp_path):
    return app_on_copy(world, tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


def call(client, method: str, url: str, key: str, **kwargs):
    return client.open(url, method=method, headers={"Authorization": f"Bearer {key}"}, **kwargs)


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    return body["error"]


def _list_url(path: str, world: World) -> str:
    return V1 + path.format(campaign_id=world.ids["campaign_id"][0])


def _key_for(path: str, world: World) -> str:
    return world.supplier_key if path == "/responses" else world.brand_key


# --- paging -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", LISTS)
def test_a_page_number_beyond_any_integer_column_answers_400(client, world, path):
    url, key = _list_url(path, world), _key_for(path, world)
    for page in ("99999999999999999999", "1000001", "0", "-1"):
        error = error_of(call(client, "GET", f"{url}?page={page}", key), 400)
        assert error["code"] == "validation_error"
        assert list(error["details"]) == ["page"], page
    last = call(client, "GET", f"{url}?page=1000000&per_page=200", key)
    assert last.status_code == 200
    assert last.get_json()["items"] == [] and last.get_json()["page"] == 1_000_000


@pytest.mark.parametrize("per_page", ["0", "201", "99999999999999999999"])
def test_per_page_outside_1_to_200_answers_400(client, world, per_page):
    response = call(client, "GET", f"{V1}/campaigns?per_page={per_page}", world.brand_key)
    assert list(error_of(response, 400)["details"]) == ["per_page"]


def test_the_document_states_the_paging_bounds(client):
    doc = client.get("/api/openapi.json").get_json()
    parameters = doc["paths"]["/api/v1/campaigns"]["get"]["parameters"]
    bounds = {p["name"]: (p["schema"]["minimum"], p["schema"]["maximum"]) for p in parameters}
    assert bounds == {"page": (1, 1_000_000), "per_page": (1, 200)}


# --- JSON bodies --------------------------------------------------------------------------------


def _patch_raw(client, world: World, raw: str):
    return call(
        client,
        "PATCH",
        f"{V1}/responses/{world.ids['response_id'][0]}",
        world.supplier_key,
        data=raw,
        content_type="application/json",
    )


def _lock_version(client, world: World) -> int:
    url = f"{V1}/responses/{world.ids['response_id'][0]}"
    return call(client, "GET", url, world.supplier_key).get_json()["lock_version"]


@pytest.mark.parametrize(
    "number",
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "1e999",
        "-1e999",
        pytest.param("9" * 400, id="400-digit-int"),  # beyond a double: used to answer 500
        pytest.param("9" * 5000, id="5000-digit-int"),  # beyond Python's own digit limit
    ],
)
def test_numbers_json_cannot_carry_are_refused_and_nothing_is_saved(client, world, number):
    lock = _lock_version(client, world)
    raw = f'{{"lock_version": {lock}, "answers": {{"employees": {number}}}}}'
    error = error_of(_patch_raw(client, world, raw), 400)
    assert error["code"] == "invalid_json"
    assert "out of range" in error["message"] or "not a JSON value" in error["message"]
    assert _lock_version(client, world) == lock
    detail = call(
        client, "GET", f"{V1}/responses/{world.ids['response_id'][0]}", world.supplier_key
    )
    assert detail.get_json()["answers"]["employees"] == 12  # as seeded
    assert "NaN" not in detail.get_data(as_text=True)


def test_large_but_representable_numbers_are_still_accepted(client, world):
    lock = _lock_version(client, world)
    raw = f'{{"lock_version": {lock}, "answers": {{"employees": {"9" * 300}}}}}'
    saved = _patch_raw(client, world, raw)
    assert saved.status_code == 200
    assert [e["code"] for e in saved.get_json()["errors"]] == ["above_max"]


def _post_definition(client, world: World, raw: str):
    return call(
        client,
        "POST",
        f"{V1}/questionnaires",
        world.brand_key,
        data=raw,
        content_type="application/json",
    )


@pytest.mark.parametrize("lists", [64, 100_000])
def test_deeply_nested_bodies_answer_400(client, world, lists):
    """100 000 levels used to overflow the parser's stack (500); 65 levels (the object and 64
    lists) are one past the stated limit."""
    raw = '{"definition": ' + "[" * lists + "]" * lists + "}"
    error = error_of(_post_definition(client, world, raw), 400)
    assert error["code"] == "invalid_json"
    assert "nested more than 64 levels" in error["message"]


def test_nesting_up_to_the_limit_reaches_validation(client, world):
    raw = '{"definition": ' + "[" * 63 + "]" * 63 + "}"
    error = error_of(_post_definition(client, world, raw), 400)
    assert error["code"] == "validation_error"  # not a JSON matter: a list is not a definition


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Climate\u0000 2025"},  # PostgreSQL text cannot hold NUL: used to answer 500
        {"supplier_filter": {"categories": ["\u0000"]}},
        {"message": "ok", "supplier_filter": {"\u0000": []}},
    ],
)
def test_text_with_a_nul_character_answers_400_and_nothing_is_stored(client, world, body):
    response = call(
        client, "POST", f"{V1}/campaigns", world.brand_key, json=_campaign_body(world, **body)
    )
    error = error_of(response, 400)
    assert error["code"] == "invalid_json" and "NUL" in error["message"]
    listed = call(client, "GET", f"{V1}/campaigns", world.brand_key).get_json()
    assert len(listed["items"]) == 2  # the seeded ones


def test_malformed_json_says_where(client, world):
    error = error_of(_post_definition(client, world, '{"definition": {"key": "x",}}'), 400)
    assert error["code"] == "invalid_json" and "line 1 column" in error["message"]


# --- answers the disclosure could not store -----------------------------------------------------


@pytest.mark.parametrize("amount", ["1e16", "1e30", "1e999999"])
def test_a_revenue_the_disclosure_cannot_store_is_refused_at_submit(client, world, amount):
    """1e30 used to be submitted and then made every accept answer 500 (the frozen submission
    could never be accepted); 1e999999 also expanded to a million digits when normalised."""
    url = f"{V1}/responses/{world.ids['response_id'][0]}"
    answers = {**cs.BASE_ANSWERS, "revenue": {"amount": amount, "currency": "CNY"}}
    lock = _lock_version(client, world)
    saved = call(
        client, "PATCH", url, world.supplier_key, json={"lock_version": lock, "answers": answers}
    )
    assert saved.status_code == 200
    problems = [(e["question_key"], e["code"]) for e in saved.get_json()["errors"]]
    assert problems == [("revenue", "above_max")]
    assert "1e+16 CNY" in saved.get_json()["errors"][0]["message"]
    refused = error_of(call(client, "POST", url + "/submit", world.supplier_key), 422)
    assert ("revenue", "above_max") in {
        (e["question_key"], e["code"]) for e in refused["details"]["errors"]
    }


def test_the_largest_storable_revenue_is_accepted_as_a_disclosure(client, world):
    url = f"{V1}/responses/{world.ids['response_id'][0]}"
    revenue = {"amount": "9999999999999999.99", "currency": "CNY"}
    answers = {**cs.BASE_ANSWERS, "revenue": revenue}
    lock = _lock_version(client, world)
    saved = call(
        client, "PATCH", url, world.supplier_key, json={"lock_version": lock, "answers": answers}
    )
    assert saved.status_code == 200 and saved.get_json()["errors"] == []
    assert call(client, "POST", url + "/submit", world.supplier_key).status_code == 200
    invitation = world.ids["invitation_id"][2]  # the invitation of this draft response
    accepted = call(client, "POST", f"{V1}/invitations/{invitation}/accept", world.brand_key)
    assert accepted.status_code == 201, accepted.get_json()
    assert accepted.get_json()["revenue"] == revenue


# --- campaigns ------------------------------------------------------------------------------------


def _campaign_body(world: World, **changes) -> dict:
    return {
        "name": "Bounds",
        "questionnaire_version_id": world.published_version_id,
        "reporting_year": 2025,
        "deadline": "2026-03-31",
        **changes,
    }


@pytest.mark.parametrize("deadline", ["9999-12-31", "2031-01-01"])
def test_a_deadline_years_after_the_reporting_year_answers_400(client, world, deadline):
    """9999-12-31 was accepted, and launching the campaign then failed with a 500 (reminder
    and link expiry dates beyond the calendar)."""
    response = call(
        client,
        "POST",
        f"{V1}/campaigns",
        world.brand_key,
        json=_campaign_body(world, deadline=deadline),
    )
    error = error_of(response, 400)
    assert error["details"] == {
        "deadline": ["the deadline is more than 5 years after the reporting year"]
    }
    listed = call(client, "GET", f"{V1}/campaigns", world.brand_key).get_json()
    assert "Bounds" not in {c["name"] for c in listed["items"]}


def test_the_latest_allowed_deadline_can_be_launched(client, world):
    created = call(
        client,
        "POST",
        f"{V1}/campaigns",
        world.brand_key,
        json=_campaign_body(world, deadline="2030-12-31"),
    )
    assert created.status_code == 201, created.get_json()
    assert date.fromisoformat(created.get_json()["deadline"]) == date(2030, 12, 31)
    launched = call(
        client, "POST", f"{V1}/campaigns/{created.get_json()['id']}/launch", world.brand_key
    )
    assert launched.status_code == 200, launched.get_json()
    assert launched.get_json()["invited"] == 4


# --- the document matches what is returned --------------------------------------------------------


def test_empty_campaign_columns_match_the_document(client, world):
    """A campaign without reminders or a recorded filter answered nulls the document said could
    not be null."""
    sparse = world.ids["campaign_id"][1]
    one = call(client, "GET", f"{V1}/campaigns/{sparse}", world.brand_key)
    nulls = {name for name, value in one.get_json().items() if value is None}
    assert {"reminder_days_before", "reminder_days_after", "supplier_filter", "message"} <= nulls
    listed = call(client, "GET", f"{V1}/campaigns", world.brand_key)
    assert sparse in {c["id"] for c in listed.get_json()["items"]}
    document = schemathesis.openapi.from_dict(client.get("/api/openapi.json").get_json())
    document["/api/v1/campaigns/{campaign_id}"]["GET"].validate_response(one)
    document["/api/v1/campaigns"]["GET"].validate_response(listed)


def test_every_operation_documents_the_statuses_any_request_can_meet(client):
    """Any request can be too large (413) or throttled after refused keys (429, with
    Retry-After); a refused key answers 401 with WWW-Authenticate."""
    doc = client.get("/api/openapi.json").get_json()
    for path, operations in doc["paths"].items():
        for method, described in operations.items():
            responses = described["responses"]
            assert {"413", "429"} <= set(responses), f"{method} {path}"
            assert "Retry-After" in responses["429"]["headers"]
            if described["security"]:
                assert "WWW-Authenticate" in responses["401"]["headers"]
            for status, response in responses.items():
                if status.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}


def test_throttled_requests_answer_as_documented(client, world):
    """After too many refused keys from one address even a valid key gets the documented 429,
    so every operation's document lists it."""
    document = schemathesis.openapi.from_dict(client.get("/api/openapi.json").get_json())
    for _attempt in range(100):
        refused = call(client, "GET", f"{V1}/campaigns", "sc_not-a-key")
        if refused.status_code == 429:
            break
        document["/api/v1/campaigns"]["GET"].validate_response(refused)
    assert refused.status_code == 429
    throttled = call(client, "GET", f"{V1}/campaigns", world.brand_key)
    assert error_of(throttled, 429)["code"] == "rate_limited"
    assert int(throttled.headers["Retry-After"]) > 0
    document["/api/v1/campaigns"]["GET"].validate_response(throttled)
