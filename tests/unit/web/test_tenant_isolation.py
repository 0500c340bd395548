"""A user of brand A who asks for any id of brand B gets 404, on every route that takes an id."""

from __future__ import annotations

import uuid

import pytest

# Every URL argument that carries a public id, and where the tenant fixture keeps one.
ID_ARGUMENTS = {
    "relationship_id": "relationship_id",
    "batch_id": "batch_id",
    "job_id": "job_id",
    "campaign_id": "campaign_id",
    "invitation_id": "invitation_id",
    "evidence_id": "evidence_id",
    "disclosure_id": "disclosure_id",
    "run_id": "run_id",
    "action_id": "action_id",
}
# A portal link token is not an id of a record; token checks live in test_portal.py.
NON_ID_ARGUMENTS = {"filename", "token"}


def brand_route(rule) -> bool:
    """Portal routes serve supplier contacts and link holders: brand users get 404 on all."""
    return not rule.endpoint.startswith("portal.")


def id_routes(app):
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            continue  # bearer-key API; its own isolation loop is in test_api.py
        args = set(rule.arguments) - NON_ID_ARGUMENTS
        if not args:
            continue
        unknown = args - set(ID_ARGUMENTS)
        assert not unknown, f"{rule.rule} takes {unknown}: add it to the tenant isolation test"
        if "GET" in rule.methods:
            routes.append(rule)
    return routes


def test_every_id_route_is_covered(app):
    assert len(id_routes(app)) >= 12


def test_other_tenants_ids_answer_404(app, client_a, tenants):
    own, other = tenants
    for rule in id_routes(app):
        own_url = rule.build({a: getattr(own, ID_ARGUMENTS[a]) for a in rule.arguments})[1]
        other_url = rule.build({a: getattr(other, ID_ARGUMENTS[a]) for a in rule.arguments})[1]
        if brand_route(rule):
            assert client_a.get(own_url).status_code == 200, own_url
        else:
            assert client_a.get(own_url).status_code == 404, own_url
        response = client_a.get(other_url)
        assert response.status_code == 404, f"{other_url} leaked across tenants"
        assert "Beta Steel Works" not in response.get_data(as_text=True)


@pytest.mark.parametrize("bad_id", [str(uuid.uuid4()), "1", "not-a-uuid", "%27%20OR%201=1"])
def test_unknown_and_malformed_ids_answer_404(app, client_a, bad_id):
    for rule in id_routes(app):
        url = rule.build({a: "X" for a in rule.arguments})[1].replace("X", bad_id)
        assert client_a.get(url).status_code == 404, url
