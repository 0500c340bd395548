"""The OpenAPI 3 document of the API, generated from the blueprint's routes and their schemas.

Every route of the blueprint is described from the `Operation` record its view carries (roles,
query, body, response), and every schema of :mod:`web.api.schemas` is a component, so the
document says exactly what the code checks and returns. Served at `GET /api/openapi.json`.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app

from web.api import schemas
from web.api.core import MAX_BODY_BYTES, MAX_JSON_DEPTH, Operation, bp, operation

TITLE = "Supply-chain carbon disclosure API"
API_VERSION = "1.0.0"
_RULE_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
ERROR_DESCRIPTIONS = {
    400: "The request is not valid: `validation_error` lists the problems per field in "
    "`details`; `invalid_json` says what is wrong with the body",
    401: "No API key, or the key is not valid or revoked",
    403: "The key's role may not use this endpoint",
    404: "No such record for this organisation",
    409: "Conflict with the record's current state (see `code`)",
    413: f"The request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB",
    422: "The answers need attention before submitting; `details.errors` lists them",
    429: "Too many refused API keys from this client address; wait `Retry-After` seconds",
}
# Headers that come with an error status, as the document states them.
ERROR_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": "how to authenticate: `Bearer`",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "seconds until requests are accepted again",
            "schema": {"type": "integer"},
        }
    },
}
# Every request of the blueprint can meet these: the body size check and the throttle on
# refused keys run before any view (see web.api.core).
ALWAYS = frozenset({413, 429})
DESCRIPTION = (
    "Authenticate with an API key: `Authorization: Bearer sc_…` (create one with "
    "`supplychain users api-key`). A key acts for one user in one organisation; every query is "
    "scoped to that organisation and another organisation's ids answer 404. Errors are "
    '`{"error": {"code", "message", "details"}}`. '
    f"Lists take `?page=` (1 to {schemas.MAX_PAGE:,}) and `?per_page=` "
    f"(1 to {schemas.MAX_PER_PAGE}). Bodies are JSON objects of finite numbers (no NaN or "
    f"Infinity, nothing beyond the range of a double) nested at most {MAX_JSON_DEPTH} levels, "
    "with no NUL character (\\u0000) in any text. "
    "Money is always an amount with its currency; emissions are kg CO2e; exact quantities "
    "are decimal strings."
)


def schema_name(schema: type) -> str:
    name = schema.__name__
    return name[: -len("Schema")] if name.endswith("Schema") and name != "Schema" else name


def openapi_path(rule: str) -> str:
    """Flask's `<campaign_id>` becomes OpenAPI's `{campaign_id}`."""
    return _RULE_ARGUMENT.sub(r"{\1}", rule)


def _json(schema: Any) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _describe(op: Operation, endpoint: str, arguments: set[str]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {
            "in": "path",
            "name": name,
            "required": True,
            "schema": {"type": "string", "format": "uuid"},
        }
        for name in sorted(arguments)
    ]
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    description = op.description
    if op.roles is not None:
        roles = ", ".join(role.value for role in op.roles)
        description = f"{description}\n\nRoles: {roles}.".strip()
    success: dict[str, Any] = {"description": op.summary}
    success["content"] = _json(op.response if op.response is not None else {"type": "object"})
    responses: dict[str, Any] = {str(op.status): success}
    errors = set(op.errors) | ALWAYS
    if op.roles is not None:
        errors |= {401, 403}
    if op.query is not None or op.body is not None:
        errors.add(400)
    if arguments:
        errors.add(404)
    for status in sorted(errors):
        responses[str(status)] = {
            "description": ERROR_DESCRIPTIONS[status],
            "content": _json(schemas.ErrorSchema),
        }
        if status in ERROR_HEADERS:
            responses[str(status)]["headers"] = ERROR_HEADERS[status]
    described: dict[str, Any] = {
        "operationId": endpoint.split(".", 1)[1],
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": parameters,
        "responses": responses,
        "security": [] if op.roles is None else [{"bearerAuth": []}],
    }
    if description:
        described["description"] = description
    if op.body is not None:
        described["requestBody"] = {"required": True, "content": _json(op.body)}
    return described


def build_spec(app: Flask) -> dict[str, Any]:
    """The whole document for the routes registered on `app` under this blueprint."""
    spec = APISpec(
        title=TITLE,
        version=API_VERSION,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": DESCRIPTION},
    )
    spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "an API key, sc_…"}
    )
    for schema in schemas.ALL_SCHEMAS:
        name = schema_name(schema)
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=schema)
    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(bp.name + "."):
            continue
        op: Operation = app.view_functions[rule.endpoint].api_operation
        operations = paths.setdefault(openapi_path(rule.rule), {})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations[method.lower()] = _describe(op, rule.endpoint, set(rule.arguments))
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    return spec.to_dict()


@bp.route("/openapi.json", methods=["GET"])
@operation(summary="This OpenAPI document", tag="meta", roles=None)
def openapi_document():
    """Built once per application (routes and schemas do not change while it runs)."""
    cache = current_app.extensions.setdefault("api_openapi", {})
    if "spec" not in cache:
        cache["spec"] = build_spec(current_app._get_current_object())
    return cache["spec"]
