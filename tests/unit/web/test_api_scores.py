"""`/api/v1/scores`: the ranking with its filters and bounded paging, one supplier's scorecard
with reason codes and English text, the bands and the grid; brand keys only, and another
brand's ids answer 404 (SQLite, two scored brands and one not yet scored)."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from scoring import queries
from scoring.explain import ITEM_LABELS
from supplychain import migrate
from supplychain.api_keys import create_api_key
from supplychain.config import load_settings
from supplychain.db import unit_of_work
from supplychain.models import Role, ScoringSettings, User
from tests.support import builders
from tests.support import campaigns as cs
from tests.support import scoring as sb
from web import create_app

V1 = "/api/v1"
ROUTES = (
    "/scores",
    "/scores/bands",
    "/scores/grid",
    "/scores/suppliers/{relationship_id}",
)


@dataclass(frozen=True)
class World:
    url: str
    folder: object
    acme_key: str
    supplier_key: str
    gamma_key: str
    acme_run_id: str
    acme_currency: str
    acme_relationships: tuple[str, ...]  # scored, in ranking order
    unscored_relationship: str  # acme's, added after the run
    beta_relationship: str


def _key(s, brand, email: str) -> str:
    user = s.scalars(select(User).where(User.email == email)).one()
    return create_api_key(s, user, brand, "scores")[1]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    folder = tmp_path_factory.mktemp("api-scores")
    url = f"sqlite:///{folder / 'scores.db'}"
    migrate.upgrade(url)
    settings = load_settings(database_url=url, instance_path=folder / "instance")
    with unit_of_work(url) as s:
        acme, run = sb.scored_brand(s, settings, "acme")
        beta, _beta_run = sb.scored_brand(s, settings, "beta")
        gamma, _rels = cs.brand_with_suppliers(s, "gamma", n=1)
        s.add(
            ScoringSettings(
                brand_id=gamma.id,
                overrides={"bands": {"approved_min": 80.0, "conditional_min": 65.0}},
            )
        )
        late = builders.relationship(s, acme, builders.supplier(s, "Late Supplier"), "ACME-LATE")
        rows = queries.ranking(s, run, per_page=100).rows
        supplier_org = builders.supplier(s, "Contact Org")
        contact = builders.user(s, "contact@acme-supplier.example", supplier_org, Role.SUPPLIER)
        beta_rows = queries.ranking(s, queries.latest_run(s, beta.id), per_page=1).rows
        return World(
            url,
            folder,
            _key(s, acme, "buyer@acme.example"),
            create_api_key(s, contact, supplier_org, "portal")[1],
            _key(s, gamma, "buyer@gamma.example"),
            str(run.public_id),
            run.currency,
            tuple(str(r.relationship_public_id) for r in rows),
            str(late.public_id),
            str(beta_rows[0].relationship_public_id),
        )


@pytest.fixture
def client(world):
    app = create_app(
        {"TESTING": True, "database_url": world.url, "instance_path": world.folder / "instance"}
    )
    return app.test_client()


def get(client, url: str, key: str):
    return client.get(V1 + url, headers={"Authorization": f"Bearer {key}"})


def ok(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


def everything(client, world, query: str = "") -> list[dict]:
    return ok(get(client, f"/scores?per_page=200{query}", world.acme_key))["items"]


# --- the list -------------------------------------------------------------------------------------


def test_list_ranks_disclosed_suppliers_then_the_not_disclosed_group(client, world):
    body = ok(get(client, "/scores", world.acme_key))
    assert body["run"]["id"] == world.acme_run_id
    assert body["run"]["currency"] == world.acme_currency
    assert len(body["run"]["inputs_hash"]) == 64
    assert (body["total"], body["page"], body["per_page"]) == (8, 1, 50)
    items = body["items"]
    assert [i["relationship_id"] for i in items] == list(world.acme_relationships)
    assert [i["rank"] for i in items] == [1, 2, 3, 4, None, None, None, None]
    assert [i["disclosed_group"] for i in items] == ["disclosed"] * 4 + ["not_disclosed"] * 4
    assert all(i["supplier_code"].startswith("ACME-") for i in items)  # never beta's
    assert world.unscored_relationship not in {i["relationship_id"] for i in items}
    leader = items[0]
    assert leader["band"] == "approved" and leader["maturity_letter"].startswith("A")
    assert leader["spend"]["currency"] == world.acme_currency
    assert leader["top_items"] and all(t["text"] for t in leader["top_items"])
    assert "raised: science-based target validated by SBTi" in leader["explanation"]
    assert "_" not in leader["explanation"]


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("&band=rejected", lambda i: i["band"] == "rejected"),
        ("&group=not_disclosed", lambda i: i["disclosed_group"] == "not_disclosed"),
        ("&tier=1", lambda i: i["tier"] == 1),
        ("&tier=2", lambda i: i["tier"] == 2),
        ("&category=Packaging", lambda i: i["category"] == "Packaging"),
        ("&country=vn", lambda i: i["country"] == "VN"),
        ("&min_score=30&max_score=80", lambda i: 30 <= i["composite"] <= 80),
        ("&max_dq=2", lambda i: i["dq_score"] is not None and i["dq_score"] <= 2),
        ("&risk_level=medium&capability_level=low", lambda i: i["grid_cell"] == "medium:low"),
        ("&target_status=sbti_committed", lambda i: i["target_status"] == "sbti_committed"),
        ("&search=acme-00", lambda i: i["supplier_code"].startswith("ACME-00")),
        ("&min_spend=60000", lambda i: float(i["spend"]["amount"]) >= 60000),
    ],
)
def test_filters_keep_exactly_the_rows_they_name(client, world, query, keep):
    every = everything(client, world)
    body = ok(get(client, f"/scores?per_page=200{query}", world.acme_key))
    expected = [i["relationship_id"] for i in every if keep(i)]
    assert [i["relationship_id"] for i in body["items"]] == expected
    assert body["total"] == len(expected)


def test_filters_that_match_something_do(client, world):
    """The parametrised cases above are not all vacuous."""
    assert everything(client, world, "&band=rejected")
    assert len(everything(client, world, "&group=not_disclosed")) == 4
    assert len(everything(client, world, "&country=VN")) == 1
    assert everything(client, world, "&tier=2") == []


def test_sort_and_order(client, world):
    spends = [float(i["spend"]["amount"]) for i in everything(client, world, "&sort=spend")]
    assert spends == sorted(spends, reverse=True)  # numbers: largest first by default
    composites = [i["composite"] for i in everything(client, world, "&sort=composite&order=asc")]
    assert composites == sorted(composites)
    codes = [i["supplier_code"] for i in everything(client, world, "&sort=supplier_code")]
    assert codes == sorted(codes)
    ranks = [i["rank"] for i in everything(client, world, "&sort=rank&order=desc")]
    assert ranks[:4] == [4, 3, 2, 1]


def test_paging_is_consecutive_and_bounded(client, world):
    every = [i["relationship_id"] for i in everything(client, world)]
    pages = [
        ok(get(client, f"/scores?per_page=3&page={page}", world.acme_key)) for page in (1, 2, 3)
    ]
    assert [i["relationship_id"] for p in pages for i in p["items"]] == every
    assert {p["total"] for p in pages} == {8}
    beyond = ok(get(client, "/scores?per_page=3&page=1000000", world.acme_key))
    assert beyond["items"] == [] and beyond["total"] == 8
    for query, field in (
        ("per_page=201", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("page=1000001", "page"),
        ("page=" + "9" * 400, "page"),
    ):
        problem = error(get(client, f"/scores?{query}", world.acme_key), 400)
        assert problem["code"] == "validation_error" and field in problem["details"], query


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("band=great", "band"),
        ("group=everyone", "group"),
        ("min_score=101", "min_score"),
        ("min_score=nan", "min_score"),
        ("min_score=60&max_score=50", "min_score"),
        ("min_dq=4&max_dq=2", "min_dq"),
        ("country=CHN", "country"),
        ("sort=password_hash", "sort"),
        ("order=sideways", "order"),
        ("year=1999", "year"),
        ("search=a%00b", "search"),  # PostgreSQL text cannot hold NUL
        ("category=%00", "category"),
        ("country=%00%00", "country"),
    ],
)
def test_bad_queries_answer_400_naming_the_field(client, world, query, field):
    problem = error(get(client, f"/scores?{query}", world.acme_key), 400)
    assert field in problem["details"], problem


def test_a_year_or_brand_without_a_run_answers_empty_with_run_null(client, world):
    assert ok(get(client, "/scores?year=2024", world.acme_key)) == {
        "run": None,
        "items": [],
        "page": 1,
        "per_page": 50,
        "total": 0,
    }
    assert ok(get(client, "/scores", world.gamma_key))["run"] is None
    assert ok(get(client, "/scores/grid", world.gamma_key)) == {"run": None, "cells": []}


# --- one supplier's scorecard ---------------------------------------------------------------------


def test_scorecard_explains_every_item_with_code_and_english(client, world):
    leader = world.acme_relationships[0]
    card = ok(get(client, f"/scores/suppliers/{leader}", world.acme_key))
    assert card["relationship_id"] == leader
    assert card["supplier"]["supplier_code"] == "ACME-000"
    assert card["run"]["id"] == world.acme_run_id
    assert card["score"]["rank"] == 1 and card["score"]["band"] == "approved"
    dimensions = {d["dimension"]: d for d in card["dimensions"]}
    assert set(dimensions) == {"emissions", "targets", "maturity", "data_quality"}
    assert math.isclose(sum(d["weight"] for d in dimensions.values()), 1.0)
    weighted = sum(d["weight"] * d["score"] for d in dimensions.values())
    assert weighted == pytest.approx(card["score"]["composite"], abs=0.02)
    assert len(card["items"]) == 14
    for item in card["items"]:
        assert 0 <= item["earned"] <= item["possible"] + 1e-9
        assert item["label"] == ITEM_LABELS[item["item"]]
        assert item["reason"] and item["text"] and "_" not in item["text"]
    for dimension, found in dimensions.items():
        earned = sum(i["earned"] for i in card["items"] if i["dimension"] == dimension)
        assert earned == pytest.approx(found["score"], abs=0.05), dimension
    verification = next(i for i in card["items"] if i["item"] == "verification")
    assert verification["reason"] == "verification_reasonable"
    assert verification["text"] == "reasonable-assurance third-party verification"
    assert [h["run_id"] for h in card["history"]] == [world.acme_run_id]
    assert card["history"][0]["composite"] == card["score"]["composite"]
    assert card["actions"], "the leader still loses points somewhere"
    for action in card["actions"]:
        assert action["action_code"] and action["text"] and "_" not in action["text"]
        assert action["status"] in ("open", "in_progress", "done", "dismissed")
        assert action["points_at_stake"] > 0


def test_scorecard_of_a_silent_supplier_says_so(client, world):
    silent = world.acme_relationships[-1]
    card = ok(get(client, f"/scores/suppliers/{silent}", world.acme_key))
    assert card["score"]["responded"] is False and card["score"]["maturity_letter"] == "F"
    assert card["score"]["explanation"] == (
        "lowered: no accepted disclosure for the year (secondary data only)"
    )
    assert "respond_to_questionnaire" in {a["action_code"] for a in card["actions"]}


def test_scorecard_of_a_supplier_not_scored_yet(client, world):
    card = ok(get(client, f"/scores/suppliers/{world.unscored_relationship}", world.acme_key))
    assert card["supplier"]["name"] == "Late Supplier"
    assert card["run"] is None and card["score"] is None
    assert card["items"] == card["dimensions"] == card["history"] == card["actions"] == []
    past = ok(
        get(client, f"/scores/suppliers/{world.acme_relationships[0]}?year=2024", world.acme_key)
    )
    assert past["score"] is None and past["history"]  # history still spans every year


def test_other_brands_and_unknown_ids_answer_404(client, world):
    for bad in (world.beta_relationship, str(uuid.uuid4()), "1", "not-a-uuid"):
        response = get(client, f"/scores/suppliers/{bad}", world.acme_key)
        assert error(response, 404)["code"] == "not_found"
        assert "Beta" not in response.get_data(as_text=True)


# --- roles ----------------------------------------------------------------------------------------


def test_supplier_keys_are_refused_and_keys_are_required(client, world):
    for route in ROUTES:
        url = route.format(relationship_id=world.acme_relationships[0])
        assert error(get(client, url, world.supplier_key), 403)["code"] == "forbidden"
        assert client.get(V1 + url).status_code == 401
        basic = client.get(V1 + url, headers={"Authorization": "Basic abc"})
        assert basic.status_code == 401


# --- bands and grid -------------------------------------------------------------------------------


def test_bands_give_thresholds_and_counts_that_match_the_list(client, world):
    body = ok(get(client, "/scores/bands", world.acme_key))
    assert body["run"]["id"] == world.acme_run_id
    assert (body["approved_min"], body["conditional_min"]) == (70.0, 60.0)
    assert body["correction_months"] == 3 and body["approve_without_disclosure"] is False
    assert "higher band" in body["boundary"]
    bands = {b["band"]: b for b in body["bands"]}
    assert (bands["approved"]["min_score"], bands["approved"]["below"]) == (70.0, None)
    assert (bands["conditional"]["min_score"], bands["conditional"]["below"]) == (60.0, 70.0)
    assert (bands["rejected"]["min_score"], bands["rejected"]["below"]) == (0.0, 60.0)
    every = everything(client, world)
    for name, band in bands.items():
        listed = [i for i in every if i["band"] == name]
        assert band["count"] == len(listed), name
        assert band["disclosed"] == sum(i["responded"] for i in listed)
        assert band["not_disclosed"] == sum(not i["responded"] for i in listed)
    assert sum(b["count"] for b in bands.values()) == 8


def test_bands_without_a_run_are_the_brands_own_settings(client, world):
    body = ok(get(client, "/scores/bands", world.gamma_key))
    assert body["run"] is None
    assert (body["approved_min"], body["conditional_min"]) == (80.0, 65.0)
    assert [b["count"] for b in body["bands"]] == [0, 0, 0]


def test_grid_cells_add_up_to_the_list(client, world):
    body = ok(get(client, "/scores/grid", world.acme_key))
    cells = body["cells"]
    assert len(cells) == 9 and cells[0]["cell"] == "high:low"
    assert {c["cell"] for c in cells} == {
        f"{r}:{c}" for r in ("low", "medium", "high") for c in ("low", "medium", "high")
    }
    every = everything(client, world)
    for cell in cells:
        members = [i for i in every if i["grid_cell"] == cell["cell"]]
        assert cell["count"] == len(members)
        assert cell["spend"]["currency"] == world.acme_currency
        listed = sum(float(i["spend"]["amount"]) for i in members)
        assert float(cell["spend"]["amount"]) == pytest.approx(
            listed, abs=0.01 * len(members) + 0.01
        )
        filtered = ok(
            get(
                client,
                f"/scores?risk_level={cell['risk_level']}"
                f"&capability_level={cell['capability_level']}",
                world.acme_key,
            )
        )
        assert filtered["total"] == cell["count"]


# --- the document ---------------------------------------------------------------------------------


def test_openapi_documents_every_scores_operation_and_status(client):
    document = client.get("/api/openapi.json").get_json()
    for route in ROUTES:
        operation = document["paths"][f"/api/v1{route}"]["get"]
        statuses = set(operation["responses"])
        assert {"200", "400", "401", "403", "413", "429"} <= statuses, route
        assert ("404" in statuses) == ("{" in route), route
        assert operation["tags"] == ["scores"]
    schemas = document["components"]["schemas"]
    assert "Scorecard" in schemas and "ScorePage" in schemas and "Grid" in schemas
    assert "kg CO2e" in schemas["SupplierScore"]["properties"]["contribution_kg"]["description"]
