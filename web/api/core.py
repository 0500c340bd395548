"""The API blueprint and what every endpoint shares: bearer-key auth, role and tenant checks,
loading input and dumping output through marshmallow schemas, and pagination.

Each view is wrapped by :func:`operation`, which holds the endpoint's role list and schemas. The
same record drives the checks at request time and the OpenAPI document, so the document cannot
drift from what the code enforces.
"""

from __future__ import annotations

import functools
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, g, jsonify, request
from marshmallow import Schema
from sqlalchemy import Select, func, select

from supplychain.api_keys import authenticate_api_key
from supplychain.models import Role
from web import get_db
from web.api.errors import ApiError, register_error_handlers
from web.security import api_key_failure_limit

bp = Blueprint("api", __name__, url_prefix="/api")
register_error_handlers(bp)
# Only refused keys count, per client address: guessing keys is throttled, working clients not.
api_key_failure_limit(bp)

# JSON bodies are questionnaire definitions and answers; 2 MiB is far above any real one.
MAX_BODY_BYTES = 2 * 1024 * 1024
# Definitions and table answers nest a handful of levels; this keeps far from the stack limit.
MAX_JSON_DEPTH = 64
# More digits than the largest double (about 1.8e308) has, with room for a sign.
MAX_INT_DIGITS = 310
NOT_AN_OBJECT = "send a JSON object with 'Content-Type: application/json'"
TOO_DEEP = f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep"
OUT_OF_RANGE = "a number is out of range (JSON numbers must fit a double, about ±1.8e308)"
NUL_IN_TEXT = "text may not contain the NUL character (\\u0000)"
SUPPLIER_ROLES = (Role.SUPPLIER,)


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one endpoint, and what the wrapper enforces."""

    summary: str
    tag: str
    roles: tuple[Role, ...] | None
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    description: str = ""


@bp.before_request
def _limit_body() -> None:
    """Refuse oversized bodies before anything reads them (the app limit is sized for uploads)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(
            413,
            "payload_too_large",
            f"request bodies are limited to {MAX_BODY_BYTES // (1024 * 1024)} MiB",
        )


def _authenticate(roles: tuple[Role, ...]) -> None:
    """Only a bearer key counts: the session cookie is ignored, so CSRF cannot reach the API."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "send an API key as 'Authorization: Bearer <key>'")
    db = get_db()
    found = authenticate_api_key(db, token.strip())
    if found is None:
        raise ApiError(401, "unauthorized", "this API key is not valid or has been revoked")
    key, membership = found
    if db.dirty:
        db.commit()  # last_used_at, recorded even if the request is then refused
    g.api_key, g.api_membership = key, membership
    if membership.role not in roles:
        raise ApiError(403, "forbidden", "this API key's role may not use this endpoint")


def org_id() -> int:
    """The tenant every query of this request is scoped to: the key's organisation."""
    return g.api_membership.organization_id


def user_id() -> int:
    return g.api_key.user_id


def _finite_float(text: str) -> float:
    """`1e999` would parse as infinity, which JSON cannot carry back out."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(OUT_OF_RANGE)
    return value


def _bounded_int(text: str) -> int:
    """Integers beyond the range of a double are not interoperable JSON (RFC 8259 §6) and
    break every computation that goes through float."""
    if len(text) > MAX_INT_DIGITS or abs(value := int(text)) > sys.float_info.max:
        raise ValueError(OUT_OF_RANGE)
    return value


def _no_constant(name: str) -> Any:
    """NaN and Infinity are Python's extensions, not JSON."""
    raise ValueError(f"{name} is not a JSON value")


def _refused_content(data: Any) -> str | None:
    """What the parser lets through but the API refuses, walked without recursion: nesting
    beyond MAX_JSON_DEPTH, and the NUL character, which PostgreSQL text cannot hold."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            return NUL_IN_TEXT
        if isinstance(value, dict):
            value = [*value, *value.values()]
        if isinstance(value, list):
            if depth > MAX_JSON_DEPTH:
                return TOO_DEEP
            stack.extend((child, depth + 1) for child in value)
    return None


def _json_body() -> dict[str, Any]:
    """The body as a JSON object of finite numbers, bounded nesting and text without NUL, or
    a 400 that says what is wrong (Python's own parser accepts NaN and overflows the stack on
    deep nesting)."""
    if not request.is_json:
        raise ApiError(400, "invalid_json", NOT_AN_OBJECT)
    try:
        data = json.loads(
            request.get_data(),
            parse_float=_finite_float,
            parse_int=_bounded_int,
            parse_constant=_no_constant,
        )
    except RecursionError:
        raise ApiError(400, "invalid_json", TOO_DEEP) from None
    except ValueError as exc:  # also malformed UTF-8
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", NOT_AN_OBJECT)
    problem = _refused_content(data)
    if problem is not None:
        raise ApiError(400, "invalid_json", problem)
    return data


def operation(
    *,
    summary: str,
    tag: str,
    roles: tuple[Role, ...] | None,
    body: type[Schema] | None = None,
    query: type[Schema] | None = None,
    response: type[Schema] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    description: str = "",
) -> Callable:
    """Authenticate, check the role, load `query`/`body` (passed to the view as keyword
    arguments) and dump the view's return value through `response`."""
    op = Operation(summary, tag, roles, body, query, response, status, errors, description)

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(**kwargs: Any):
            if op.roles is not None:
                _authenticate(op.roles)
            if op.query is not None:
                kwargs["query"] = op.query().load(request.args.to_dict())
            if op.body is not None:
                kwargs["body"] = op.body().load(_json_body())
            result = view(**kwargs)
            payload = op.response().dump(result) if op.response is not None else result
            return jsonify(payload), op.status

        wrapped.api_operation = op  # type: ignore[attr-defined]
        return wrapped

    return decorator


def paginate(stmt: Select, query: dict[str, Any]) -> dict[str, Any]:
    """One page of `stmt` with the total count, in the shape every list endpoint returns."""
    db = get_db()
    page, per_page = query["page"], query["per_page"]
    total = db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = db.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": list(items), "page": page, "per_page": per_page, "total": total or 0}


class Extended:
    """A record with extra computed attributes for dumping (stats, errors, comments …).

    Schemas read plain attributes; this lets a view add what needs the session without
    putting request logic into the schemas.
    """

    def __init__(self, record: Any, **extra: Any) -> None:
        self._record = record
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._record, name)
