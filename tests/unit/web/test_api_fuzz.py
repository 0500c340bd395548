"""Fuzz the JSON API from its own OpenAPI document with schemathesis (in-process WSGI, SQLite).

Every operation of the document gets generated query strings and bodies, sent with a valid key
of a tenant whose records are in every state (tests/support/api_world.py); URL ids are drawn
from those records and one unknown id, so requests reach the views rather than stopping at 404.
Each operation runs against its own copy of the seeded database, so what one operation's
writes leave behind cannot change another's outcome. The checks are the contract
of the document: no 5xx, only documented status codes, the documented content type and bodies
that match the documented schemas. Examples are derandomised in CI (env `CI`) and random locally.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.support.api_world import World, app_on_copy, seed_world
from web import api
from web.api.core import SUPPLIER_ROLES
from web.api.openapi import build_spec

OPENAPI_URL = "/api/openapi.json"
# The contract the document states; checks about semantics (e.g. "valid data is accepted")
# are left out because schema-valid values can still be refused by business rules with a 4xx.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
# About 20 operations on a shared 2-core machine: enough examples to reach every field's
# bounds, few enough that the whole module stays around a minute.
MAX_EXAMPLES = 50


def _document() -> dict:
    """The document of the API's routes, built without a database (the test below checks that
    the running app serves exactly this)."""
    bare = Flask(__name__)
    bare.register_blueprint(api.bp)
    return build_spec(bare)


schema = schemathesis.openapi.from_dict(
    _document(),
    config=schemathesis.Config.from_dict(
        {
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            # Our key on every request: refused keys are tested elsewhere and would only spend
            # the per-address budget of failed authentications (429).
            "generation": {"mode": "all", "with-security-parameters": False},
        }
    ),
)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return seed_world(tmp_path_factory.mktemp("api-world"))


@pytest.fixture
def fuzz_app(world, tmp_path):
    """A fresh copy of the seeded world for each operation."""
    return app_on_copy(world, tmp_path)


def _key_for(app: Flask, operation_id: str, world: World) -> str:
    roles = app.view_functions[f"api.{operation_id}"].api_operation.roles
    return world.supplier_key if roles == SUPPLIER_ROLES else world.brand_key


@schema.given(data=st.data())
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    database=None,  # nothing written into the work tree; CI repeats runs exactly anyway
    # Large generated bodies are slow to build on a shared machine; that is not a failure.
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(data, case, fuzz_app, world):
    """No generated request makes the API fail or answer outside its document."""
    if case.path_parameters:
        case.path_parameters = {
            name: data.draw(st.sampled_from(world.ids[name]), label=name)
            for name in case.path_parameters
        }
    if isinstance(case.body, dict) and "questionnaire_version_id" in case.body:
        case.body["questionnaire_version_id"] = world.published_version_id
    key = _key_for(fuzz_app, case.operation.definition.raw["operationId"], world)
    case.call_and_validate(app=fuzz_app, headers={"Authorization": f"Bearer {key}"})


def test_the_app_serves_the_fuzzed_document(fuzz_app):
    """The fuzzer reads the document the app itself serves at /api/openapi.json."""
    served = fuzz_app.test_client().get(OPENAPI_URL)
    assert served.status_code == 200
    assert served.get_json() == _document()
