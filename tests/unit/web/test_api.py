"""The JSON API end to end through the Flask app (SQLite): keys, roles, tenant isolation, the
campaign → response → review → disclosure flow, error shapes and the OpenAPI document."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from questionnaires import load_definition, responses, shipped_definitions
from questionnaires.publishing import create_draft
from supplychain.api_keys import (
    ApiKeyError,
    api_key_command,
    authenticate_api_key,
    create_api_key,
    hash_key,
    revoke_api_key,
)
from supplychain.db import unit_of_work
from supplychain.mail import read_outbox
from supplychain.models import (
    ApiKey,
    Invitation,
    Membership,
    Organization,
    QuestionnaireResponse,
    Role,
    User,
)
from tests.support import builders
from tests.support import campaigns as cs
from tests.unit.web.conftest import login
from web import api, csrf
from web.api.core import SUPPLIER_ROLES
from web.api.openapi import openapi_path, schema_name
from web.api.schemas import ALL_SCHEMAS
from web.auth import BRAND_ROLES

V1 = "/api/v1"


@pytest.fixture
def api_app(app):
    """The app with the API registered as the lead's factory will do (CSRF stays enabled)."""
    if "api" not in app.blueprints:
        app.register_blueprint(api.bp)
        csrf.exempt(api.bp)
    assert app.config.get("WTF_CSRF_ENABLED", True)
    return app


def custom_definition(key: str) -> dict:
    definition = load_definition(shipped_definitions()[0]).to_dict()
    definition["key"] = key
    return definition


@dataclass
class ApiTenant:
    brand_key: str
    supplier_key: str
    draft_version_id: str
    response_id: str
    supplier_org_id: str


def _api_tenant(session, tenant, slug: str) -> ApiTenant:
    brand = session.get(Organization, tenant.brand_id)
    buyer = session.scalars(select(User).where(User.email == tenant.email)).one()
    _key, brand_key = create_api_key(session, buyer, brand, "ERP sync")
    invitation = session.scalars(
        select(Invitation).where(Invitation.public_id == uuid.UUID(tenant.invitation_id))
    ).one()
    contact = builders.user(session, f"contact@{slug}-supplier.example", invitation.supplier)
    contact.memberships[0].role = Role.SUPPLIER
    _key, supplier_key = create_api_key(session, contact, invitation.supplier, "portal sync")
    draft = create_draft(session, custom_definition(f"{slug}_custom"), owner_id=brand.id)
    return ApiTenant(
        brand_key,
        supplier_key,
        str(draft.public_id),
        str(invitation.response.public_id),
        str(invitation.supplier.public_id),
    )


@pytest.fixture
def keyed(api_app, tenants, sqlite_url):
    """Both tenants with a brand key, a supplier-contact key and one draft questionnaire."""
    with unit_of_work(sqlite_url) as s:
        return _api_tenant(s, tenants[0], "alpha"), _api_tenant(s, tenants[1], "beta")


@pytest.fixture
def client(api_app):
    return api_app.test_client()


def call(client, method: str, url: str, key: str | None = None, **kwargs):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.open(url, method=method, headers=headers, **kwargs)


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    return body["error"]


def api_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")]


def operation_of(app, rule):
    return app.view_functions[rule.endpoint].api_operation


def methods_of(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


# --- API keys ------------------------------------------------------------------------------------


def test_keys_are_random_shown_once_and_stored_hashed(api_app, tenants, sqlite_url):
    with unit_of_work(sqlite_url) as s:
        user = s.scalars(select(User).where(User.email == tenants[0].email)).one()
        brand = s.get(Organization, tenants[0].brand_id)
        other = s.get(Organization, tenants[1].brand_id)
        key, plaintext = create_api_key(s, user, brand, "ERP")
        _, second = create_api_key(s, user, brand, "ERP")
        assert plaintext.startswith("sc_") and len(plaintext) >= 40 and plaintext != second
        assert key.key_hash == hash_key(plaintext) != plaintext
        assert key.prefix == plaintext[:8]
        with pytest.raises(ApiKeyError, match="not a member"):
            create_api_key(s, user, other, "ERP")
        found_key, membership = authenticate_api_key(s, plaintext)
        assert found_key.id == key.id and membership.organization_id == brand.id
        assert found_key.last_used_at is not None
        assert authenticate_api_key(s, plaintext + "x") is None
        revoke_api_key(s, key)
        assert authenticate_api_key(s, plaintext) is None


def test_cli_creates_a_key_that_works(api_app, client, tenants, sqlite_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(tmp_path / "cli-instance"))
    result = CliRunner().invoke(
        api_key_command, ["--email", tenants[0].email, "--org", "alpha", "--name", "ERP"]
    )
    assert result.exit_code == 0, result.output
    plaintext = next(line for line in result.output.splitlines() if line.startswith("sc_"))
    assert call(client, "GET", f"{V1}/campaigns", plaintext).status_code == 200
    refused = CliRunner().invoke(
        api_key_command, ["--email", tenants[0].email, "--org", "beta", "--name", "ERP"]
    )
    assert refused.exit_code != 0 and "not a member" in refused.output


def test_missing_invalid_and_revoked_keys_answer_401(client, keyed, sqlite_url, tenants):
    own, _other = keyed
    with unit_of_work(sqlite_url) as s:
        user = s.scalars(select(User).where(User.email == tenants[0].email)).one()
        key, revoked = create_api_key(s, user, s.get(Organization, tenants[0].brand_id), "old")
        revoke_api_key(s, key)
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer sc_not-a-real-key"},
        {"Authorization": f"Basic {own.brand_key}"},
        {"Authorization": own.brand_key},
        {"Authorization": f"Bearer {revoked}"},
    ):
        response = client.get(f"{V1}/campaigns", headers=headers)
        assert response.status_code == 401, headers
        assert error_of(response)["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert call(client, "GET", f"{V1}/campaigns", own.brand_key).status_code == 200


def test_key_stops_with_the_user_or_the_membership(client, keyed, sqlite_url, tenants):
    own, _other = keyed
    assert call(client, "GET", f"{V1}/campaigns", own.brand_key).status_code == 200
    with unit_of_work(sqlite_url) as s:
        s.scalars(select(User).where(User.email == tenants[0].email)).one().is_active = False
    assert call(client, "GET", f"{V1}/campaigns", own.brand_key).status_code == 401
    with unit_of_work(sqlite_url) as s:
        user = s.scalars(select(User).where(User.email == tenants[0].email)).one()
        user.is_active = True
        s.delete(s.scalars(select(Membership).where(Membership.user_id == user.id)).one())
    assert call(client, "GET", f"{V1}/campaigns", own.brand_key).status_code == 401


def test_session_cookie_alone_answers_401_even_for_writes(api_app, keyed, tenants):
    browser = api_app.test_client()
    api_app.config["WTF_CSRF_ENABLED"] = False  # only to sign in through the HTML form
    assert login(browser, tenants[0].email).status_code == 302
    api_app.config["WTF_CSRF_ENABLED"] = True
    assert browser.get("/console/campaigns").status_code == 200  # the session is valid
    assert browser.get(f"{V1}/campaigns").status_code == 401
    posted = browser.post(f"{V1}/campaigns", json={"name": "x"})
    assert posted.status_code == 401 and error_of(posted)["code"] == "unauthorized"
    launched = browser.post(f"{V1}/campaigns/{tenants[0].campaign_id}/launch")
    assert launched.status_code == 401


# --- roles and tenants ----------------------------------------------------------------------------


def test_every_route_checks_the_role(api_app, client, keyed, tenants):
    own, _other = keyed
    checked = 0
    for rule in api_rules(api_app):
        op = operation_of(api_app, rule)
        if op.roles is None:
            continue
        assert op.roles in (BRAND_ROLES, SUPPLIER_ROLES), rule.rule
        wrong_key = own.supplier_key if op.roles == BRAND_ROLES else own.brand_key
        url = rule.build({a: str(uuid.uuid4()) for a in rule.arguments})[1]
        for method in methods_of(rule):
            response = call(client, method, url, wrong_key, json={})
            assert response.status_code == 403, f"{method} {url}"
            assert error_of(response)["code"] == "forbidden"
            checked += 1
    assert checked >= 19


# Every URL argument of the API that carries a public id, and where the fixtures keep one.
ID_ARGUMENTS = {
    "version_id": lambda t, k: k.draft_version_id,
    "campaign_id": lambda t, k: t.campaign_id,
    "invitation_id": lambda t, k: t.invitation_id,
    "disclosure_id": lambda t, k: t.disclosure_id,
    "response_id": lambda t, k: k.response_id,
    "relationship_id": lambda t, k: t.relationship_id,
}
# Valid bodies, so that a 404 cannot hide behind a 400.
BODIES = {
    "api.update_questionnaire": {"definition": custom_definition("isolation_probe")},
    "api.return_invitation": {"comments": {"_general": "Please check the totals."}},
    "api.patch_response": {"lock_version": 1, "answers": {"employees": 5}},
}


def _id_routes(app):
    routes = []
    for rule in api_rules(app):
        unknown = set(rule.arguments) - set(ID_ARGUMENTS)
        assert not unknown, f"{rule.rule} takes {unknown}: add it to the API isolation test"
        if rule.arguments:
            routes.append(rule)
    return routes


def test_other_tenants_ids_answer_404_on_every_id_route(api_app, client, keyed, tenants):
    own, other = keyed
    visited = 0
    for rule in _id_routes(api_app):
        op = operation_of(api_app, rule)
        key = own.brand_key if op.roles == BRAND_ROLES else own.supplier_key
        body = BODIES.get(rule.endpoint)
        foreign = rule.build({a: ID_ARGUMENTS[a](tenants[1], other) for a in rule.arguments})[1]
        mine = rule.build({a: ID_ARGUMENTS[a](tenants[0], own) for a in rule.arguments})[1]
        for method in methods_of(rule):
            response = call(client, method, foreign, key, json=body)
            assert response.status_code == 404, f"{method} {foreign} leaked across tenants"
            assert error_of(response)["code"] == "not_found"
            assert "Beta" not in response.get_data(as_text=True)
            for bad in (str(uuid.uuid4()), "1", "not-a-uuid"):
                url = rule.build({a: bad for a in rule.arguments})[1]
                assert call(client, method, url, key, json=body).status_code == 404, url
            visited += 1
    for rule in _id_routes(api_app):  # own ids are found (whatever the state answers)
        op = operation_of(api_app, rule)
        key = own.brand_key if op.roles == BRAND_ROLES else own.supplier_key
        mine = rule.build({a: ID_ARGUMENTS[a](tenants[0], own) for a in rule.arguments})[1]
        for method in methods_of(rule):
            response = call(client, method, mine, key, json=BODIES.get(rule.endpoint))
            assert response.status_code != 404, f"{method} {mine}"
    assert visited >= 16


def test_lists_show_only_the_callers_organisation(client, keyed, tenants):
    own, other = keyed
    campaigns = call(client, "GET", f"{V1}/campaigns", own.brand_key).get_json()
    assert [c["id"] for c in campaigns["items"]] == [tenants[0].campaign_id]
    disclosures = call(client, "GET", f"{V1}/disclosures", own.brand_key).get_json()
    assert [d["id"] for d in disclosures["items"]] == [tenants[0].disclosure_id]
    versions = call(client, "GET", f"{V1}/questionnaires?status=all", own.brand_key).get_json()
    ids = {v["id"] for v in versions["items"]}
    assert own.draft_version_id in ids and other.draft_version_id not in ids
    assert any(v["shipped"] and v["status"] == "published" for v in versions["items"])
    published = call(client, "GET", f"{V1}/questionnaires", own.brand_key).get_json()
    assert {v["status"] for v in published["items"]} == {"published"}
    mine = call(client, "GET", f"{V1}/responses", own.supplier_key).get_json()
    assert [r["id"] for r in mine["items"]] == [own.response_id] and mine["total"] == 1


# --- campaigns -----------------------------------------------------------------------------------


def _shipped_version(client, key: str) -> str:
    items = call(client, "GET", f"{V1}/questionnaires", key).get_json()["items"]
    return next(v["id"] for v in items if v["shipped"])


def test_create_and_launch_a_campaign_mails_links_but_never_returns_them(
    api_app, client, keyed, tenants
):
    own, _other = keyed
    settings = api_app.extensions["settings"]
    body = {
        "name": "Climate data 2025 (API)",
        "questionnaire_version_id": _shipped_version(client, own.brand_key),
        "reporting_year": 2025,
        "deadline": (date.today() + timedelta(days=30)).isoformat(),
        "reminder_days_before": [10, 2],
        "message": "Thank you!",
        "supplier_filter": {"tiers": [1], "countries": ["CN"]},
    }
    created = call(client, "POST", f"{V1}/campaigns", own.brand_key, json=body)
    assert created.status_code == 201, created.get_json()
    campaign = created.get_json()
    assert campaign["status"] == "draft" and campaign["stats"]["total"] == 0
    assert campaign["reminder_days_before"] == [10, 2]
    assert campaign["supplier_filter"]["statuses"] == ["active"]
    before = len(read_outbox(settings))

    launched = call(client, "POST", f"{V1}/campaigns/{campaign['id']}/launch", own.brand_key)
    assert launched.status_code == 200
    result = launched.get_json()
    assert result["invited"] == 1 and result["skipped"] == []
    assert result["campaign"]["status"] == "running"
    mails = read_outbox(settings)
    assert len(mails) == before + 1
    link = cs.links_in_outbox(settings)[-1][1]
    token = link.rsplit("/", 1)[-1]
    seen = [launched.get_data(as_text=True)]

    detail = call(client, "GET", f"{V1}/campaigns/{campaign['id']}", own.brand_key)
    stats = detail.get_json()["stats"]
    assert stats["counts"]["invited"] == 1 and stats["total"] == 1
    assert stats["response_rate"] == 0.0 and stats["overdue"] == []
    listed = call(client, "GET", f"{V1}/campaigns/{campaign['id']}/invitations", own.brand_key)
    invitations = listed.get_json()["items"]
    assert len(invitations) == 1 and invitations[0]["supplier"]["supplier_code"] == "ALPHA-000"
    invitation_id = invitations[0]["id"]
    seen += [detail.get_data(as_text=True), listed.get_data(as_text=True)]

    reissued = call(client, "POST", f"{V1}/invitations/{invitation_id}/reissue", own.brand_key)
    assert reissued.status_code == 200 and len(read_outbox(settings)) == before + 2
    reminded = call(client, "POST", f"{V1}/invitations/{invitation_id}/remind", own.brand_key)
    assert reminded.get_json()["sent"] is True and len(read_outbox(settings)) == before + 3
    revoked = call(client, "POST", f"{V1}/invitations/{invitation_id}/revoke", own.brand_key)
    assert revoked.get_json()["revoked_at"] is not None
    again = call(client, "POST", f"{V1}/invitations/{invitation_id}/remind", own.brand_key)
    assert again.get_json()["sent"] is False and len(read_outbox(settings)) == before + 3
    seen += [r.get_data(as_text=True) for r in (reissued, reminded, revoked, again)]
    for text in seen:
        assert token not in text and "/portal/i/" not in text

    page = call(client, "GET", f"{V1}/campaigns?per_page=1&page=2", own.brand_key).get_json()
    assert page["total"] == 2 and page["page"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["id"] == tenants[0].campaign_id  # newest first


def test_validation_errors_answer_400_with_field_details(client, keyed):
    own, other = keyed
    bad = call(
        client,
        "POST",
        f"{V1}/campaigns",
        own.brand_key,
        json={
            "questionnaire_version_id": "nope",
            "reporting_year": 1800,
            "deadline": "31/12/2025",
            "supplier_filter": {"countries": ["CHN"], "statuses": ["gone"]},
            "colour": "red",
        },
    )
    assert bad.status_code == 400
    error = error_of(bad)
    assert error["code"] == "validation_error"
    details = error["details"]
    assert {"name", "questionnaire_version_id", "reporting_year", "deadline", "colour"} <= set(
        details
    )
    assert set(details["supplier_filter"]) == {"countries", "statuses"}

    base = {"name": "x", "reporting_year": 2025, "deadline": "2026-03-31"}
    for version_id in (str(uuid.uuid4()), other.draft_version_id, own.draft_version_id):
        response = call(
            client,
            "POST",
            f"{V1}/campaigns",
            own.brand_key,
            json={**base, "questionnaire_version_id": version_id},
        )
        assert response.status_code == 400
        assert "questionnaire_version_id" in error_of(response)["details"]
    early = call(
        client,
        "POST",
        f"{V1}/campaigns",
        own.brand_key,
        json={
            **base,
            "deadline": "2024-12-31",
            "questionnaire_version_id": _shipped_version(client, own.brand_key),
        },
    )
    assert error_of(early)["details"] == {
        "deadline": ["the deadline is before the reporting year begins"]
    }
    too_many = call(client, "GET", f"{V1}/campaigns?per_page=500", own.brand_key)
    assert too_many.status_code == 400 and "per_page" in error_of(too_many)["details"]
    not_json = call(client, "POST", f"{V1}/campaigns", own.brand_key, data="name=x")
    assert not_json.status_code == 400 and error_of(not_json)["code"] == "invalid_json"


def test_oversized_body_answers_413(client, keyed):
    own, _other = keyed
    huge = {"definition": {"key": "x" * (3 * 1024 * 1024)}}
    response = call(client, "POST", f"{V1}/questionnaires", own.brand_key, json=huge)
    assert response.status_code == 413 and error_of(response)["code"] == "payload_too_large"


# --- questionnaires ------------------------------------------------------------------------------


def test_draft_edit_publish_and_frozen_versions(client, keyed):
    own, _other = keyed
    definition = custom_definition("alpha_energy")
    created = call(
        client, "POST", f"{V1}/questionnaires", own.brand_key, json={"definition": {**definition}}
    )
    assert created.status_code == 201
    version = created.get_json()
    assert version["status"] == "draft" and version["shipped"] is False
    assert version["key"] == "alpha_energy" and version["version"] == 1

    definition["title"] = {"en": "Energy data", "zh": "能源数据"}
    url = f"{V1}/questionnaires/{version['id']}"
    edited = call(client, "PUT", url, own.brand_key, json={"definition": definition})
    assert edited.status_code == 200
    assert edited.get_json()["definition"]["title"]["zh"] == "能源数据"

    broken = dict(definition, sections=[{"key": "s", "title": {"en": "only English"}}])
    refused = call(client, "PUT", url, own.brand_key, json={"definition": broken})
    assert refused.status_code == 400
    problems = error_of(refused)["details"]["definition"]
    assert problems and all(isinstance(p, str) for p in problems)
    assert any("zh" in p or "questions" in p for p in problems)

    published = call(client, "POST", url + "/publish", own.brand_key)
    assert published.status_code == 200 and published.get_json()["definition_sha256"]
    frozen = call(client, "PUT", url, own.brand_key, json={"definition": definition})
    assert frozen.status_code == 409 and error_of(frozen)["code"] == "version_frozen"
    twice = call(client, "POST", url + "/publish", own.brand_key)
    assert twice.status_code == 409 and error_of(twice)["code"] == "version_frozen"
    assert call(client, "GET", url, own.brand_key).get_json()["definition"]["title"]["en"] == (
        "Energy data"
    )

    shipped = f"{V1}/questionnaires/{_shipped_version(client, own.brand_key)}"
    assert call(client, "GET", shipped, own.brand_key).status_code == 200
    assert (
        call(client, "PUT", shipped, own.brand_key, json={"definition": definition}).status_code
        == 404
    )
    assert call(client, "POST", shipped + "/publish", own.brand_key).status_code == 404


# --- the supplier's response, review and disclosure ---------------------------------------------


@dataclass
class Fresh:
    brand_key: str
    supplier_key: str
    invitation_id: str
    response_id: str
    supplier_org_id: str


@pytest.fixture
def fresh(api_app, sqlite_url):
    """A brand with one invited supplier who has started an empty response."""
    settings = api_app.extensions["settings"]
    with unit_of_work(sqlite_url) as s:
        brand, rels = cs.brand_with_suppliers(s, "gamma", n=1)
        campaign, _links = cs.launch_campaign(s, settings, brand)
        invitation = campaign.invitations[0]
        response = responses.start_response(s, invitation, user_id=None)
        buyer = s.scalars(select(User).where(User.email == "buyer@gamma.example")).one()
        contact = builders.user(s, "contact@gamma-supplier.example", rels[0].supplier)
        contact.memberships[0].role = Role.SUPPLIER
        return Fresh(
            create_api_key(s, buyer, brand, "ERP")[1],
            create_api_key(s, contact, rels[0].supplier, "sync")[1],
            str(invitation.public_id),
            str(response.public_id),
            str(rels[0].supplier.public_id),
        )


def test_supplier_saves_with_optimistic_locking(client, fresh, sqlite_url):
    url = f"{V1}/responses/{fresh.response_id}"
    listed = call(client, "GET", f"{V1}/responses", fresh.supplier_key).get_json()
    assert [(r["id"], r["lock_version"], r["status"]) for r in listed["items"]] == [
        (fresh.response_id, 1, "draft")
    ]
    first = call(
        client,
        "PATCH",
        url,
        fresh.supplier_key,
        json={"lock_version": 1, "answers": {"employees": "lots"}},
    )
    assert first.status_code == 200
    saved = first.get_json()
    assert saved["lock_version"] == 2 and saved["changed"] == ["employees"]
    assert [e["question_key"] for e in saved["errors"]] == ["employees"]

    stale = call(
        client,
        "PATCH",
        url,
        fresh.supplier_key,
        json={"lock_version": 1, "answers": {"employees": 5}},
    )
    assert stale.status_code == 409
    error = error_of(stale)
    assert error["code"] == "edit_conflict"
    assert error["details"] == {"lock_version": 2, "theirs": {"employees": "lots"}}
    with unit_of_work(sqlite_url) as s:
        stored = s.scalars(
            select(QuestionnaireResponse).where(
                QuestionnaireResponse.public_id == uuid.UUID(fresh.response_id)
            )
        ).one()
        assert stored.answers == {"employees": "lots"} and stored.lock_version == 2

    unknown = call(
        client,
        "PATCH",
        url,
        fresh.supplier_key,
        json={"lock_version": 2, "answers": {"not_a_question": 1}},
    )
    assert unknown.status_code == 400 and "not_a_question" in error_of(unknown)["message"]
    missing = call(client, "PATCH", url, fresh.supplier_key, json={"answers": {}})
    assert missing.status_code == 400 and "lock_version" in error_of(missing)["details"]


def test_messages_follow_the_requested_locale(client, fresh):
    url = f"{V1}/responses/{fresh.response_id}"
    english = call(client, "GET", url, fresh.supplier_key).get_json()
    assert english["locale"] == "en"
    required = next(e for e in english["submit_errors"] if e["question_key"] == "company_name")
    assert required["message"] == "This question is required."
    chinese = call(client, "GET", url + "?locale=zh", fresh.supplier_key).get_json()
    assert chinese["locale"] == "zh"
    assert any(e["message"] == "此题为必填项。" for e in chinese["submit_errors"])
    by_header = client.get(
        url,
        headers={
            "Authorization": f"Bearer {fresh.supplier_key}",
            "Accept-Language": "zh-CN,zh;q=0.9",
        },
    )
    assert by_header.get_json()["locale"] == "zh"
    assert call(client, "GET", url + "?locale=fr", fresh.supplier_key).status_code == 400


def test_submit_refused_then_returned_fixed_and_accepted_as_a_disclosure(client, fresh):
    supplier, brand = fresh.supplier_key, fresh.brand_key
    response_url = f"{V1}/responses/{fresh.response_id}"
    invitation_url = f"{V1}/invitations/{fresh.invitation_id}"

    refused = call(client, "POST", response_url + "/submit", supplier)
    assert refused.status_code == 422
    error = error_of(refused)
    assert error["code"] == "validation_failed"
    keys = {e["question_key"] for e in error["details"]["errors"]}
    assert {"company_name", "reporting_year", "revenue"} <= keys
    assert call(client, "GET", invitation_url, brand).get_json()["submission"] is None

    saved = call(
        client,
        "PATCH",
        response_url,
        supplier,
        json={"lock_version": 1, "answers": dict(cs.BASE_ANSWERS)},
    )
    assert saved.status_code == 200 and saved.get_json()["errors"] == []
    submitted = call(client, "POST", response_url + "/submit", supplier)
    assert submitted.status_code == 200
    assert submitted.get_json()["status"] == "submitted"
    assert submitted.get_json()["submission"]["number"] == 1
    locked = call(
        client,
        "PATCH",
        response_url,
        supplier,
        json={"lock_version": 2, "answers": {"employees": 1}},
    )
    assert locked.status_code == 409 and error_of(locked)["code"] == "response_locked"

    review = call(client, "GET", invitation_url, brand).get_json()
    assert review["status"] == "submitted" and review["comments"] == []
    assert review["submission"]["answers"]["company_name"] == cs.BASE_ANSWERS["company_name"]
    wrong_key = call(
        client,
        "POST",
        invitation_url + "/return",
        brand,
        json={"comments": {"no_such_question": "?"}},
    )
    assert wrong_key.status_code == 400 and error_of(wrong_key)["code"] == "unknown_question"
    returned = call(
        client,
        "POST",
        invitation_url + "/return",
        brand,
        json={"comments": {"allocation_share": "Please use physical quantities."}},
    )
    assert returned.status_code == 200
    assert returned.get_json()["status"] == "returned"
    assert [c["question_key"] for c in returned.get_json()["comments"]] == ["allocation_share"]
    not_now = call(client, "POST", invitation_url + "/accept", brand)
    assert not_now.status_code == 409 and error_of(not_now)["code"] == "not_submitted"

    draft = call(client, "GET", response_url, supplier).get_json()
    assert draft["status"] == "draft"
    assert [(c["brand"], c["body"]) for c in draft["comments"]] == [
        ("Gamma Brand", "Please use physical quantities.")
    ]
    fixed = call(
        client,
        "PATCH",
        response_url,
        supplier,
        json={
            "lock_version": draft["lock_version"],
            "answers": {
                "allocation_method": "physical_quantity",
                "allocation_share": 12,
                "allocation_basis": "12 % of our tonnage",
            },
        },
    )
    assert fixed.status_code == 200 and fixed.get_json()["errors"] == []
    assert call(client, "POST", response_url + "/submit", supplier).status_code == 200

    accepted = call(client, "POST", invitation_url + "/accept", brand)
    assert accepted.status_code == 201
    disclosure = accepted.get_json()
    assert disclosure["supplier"]["id"] == fresh.supplier_org_id
    assert disclosure["revenue"] == {"amount": "8000000.00", "currency": "CNY"}
    assert float(disclosure["scope1_kg"]) > 30_000 and isinstance(disclosure["scope1_kg"], str)
    assert float(disclosure["allocation_share"]) == pytest.approx(0.12)
    assert disclosure["allocation_method"] == "physical_quantity"
    assert disclosure["provenance"]["scope1_kg"]["method"] == "computed-from-activity"
    assert disclosure["provenance"]["scope1_kg"]["submission"] == 2

    assert disclosure["created_at"].endswith("+00:00")  # UTC offset even from SQLite
    one = call(client, "GET", f"{V1}/disclosures/{disclosure['id']}", brand).get_json()
    assert one == disclosure
    assert (
        call(client, "GET", invitation_url, brand).get_json()["disclosure_id"] == (disclosure["id"])
    )
    by_year = call(client, "GET", f"{V1}/disclosures?reporting_year=2025", brand).get_json()
    assert [d["id"] for d in by_year["items"]] == [disclosure["id"]]
    assert (
        call(client, "GET", f"{V1}/disclosures?reporting_year=2024", brand).get_json()["total"] == 0
    )
    by_supplier = f"{V1}/disclosures?supplier={fresh.supplier_org_id}"
    assert call(client, "GET", by_supplier, brand).get_json()["total"] == 1
    other_supplier = f"{V1}/disclosures?supplier={uuid.uuid4()}"
    assert call(client, "GET", other_supplier, brand).get_json()["total"] == 0
    twice = call(client, "POST", invitation_url + "/accept", brand)
    assert twice.status_code == 409


def test_last_use_of_a_key_is_recorded(client, fresh, sqlite_url):
    assert call(client, "GET", f"{V1}/responses", fresh.supplier_key).status_code == 200
    with unit_of_work(sqlite_url) as s:
        used = s.scalar(
            select(func.count()).select_from(ApiKey).where(ApiKey.last_used_at.is_not(None))
        )
        assert used == 1


# --- OpenAPI -------------------------------------------------------------------------------------


def test_openapi_document_covers_every_route_and_schema(api_app, client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.")
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    rules = api_rules(api_app)
    assert len(rules) >= 20
    for rule in rules:
        path = openapi_path(rule.rule)
        assert path in doc["paths"], rule.rule
        for method in methods_of(rule):
            described = doc["paths"][path][method.lower()]
            assert described["responses"], f"{method} {path}"
            if operation_of(api_app, rule).roles is None:
                assert described["security"] == []
            else:
                assert described["security"] == [{"bearerAuth": []}]
                assert "401" in described["responses"] and "403" in described["responses"]
            for argument in rule.arguments:
                assert any(
                    p["name"] == argument and p["in"] == "path" for p in described["parameters"]
                )
    for schema in ALL_SCHEMAS:
        assert schema_name(schema) in doc["components"]["schemas"], schema.__name__
    patch = doc["paths"]["/api/v1/responses/{response_id}"]["patch"]
    assert "409" in patch["responses"] and "requestBody" in patch
    scope1 = doc["components"]["schemas"]["Disclosure"]["properties"]["scope1_kg"]
    assert "kg CO2e" in scope1["description"]
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)


def test_unmatched_api_urls_answer_json(app):
    client = app.test_client()
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    wrong = client.delete("/api/openapi.json")
    assert wrong.status_code == 405
    assert wrong.get_json()["error"]["code"] == "method_not_allowed"
