"""JSON errors of the API: one shape for every refusal, `{"error": {code, message, details}}`.

Services raise their own exceptions (tenancy's NotFound, the portal's PortalError subclasses,
publishing's VersionFrozen, the loader's DefinitionError); this module maps each to a status and
a stable `code`, so views only call services and never build error bodies by hand.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from questionnaires import DefinitionError
from questionnaires import responses as response_service
from questionnaires.publishing import VersionFrozen
from supplychain.tenancy import NotFound
from web.request_log import log_refusal, request_id

# The service refusal classes and the HTTP status they answer with (others: 400). The service's
# own `code` (e.g. not_submitted, unknown_question) is passed through as the error code.
PORTAL_STATUS: dict[type[response_service.PortalError], int] = {
    response_service.EditConflict: 409,
    response_service.ResponseLocked: 409,
    response_service.WrongState: 409,
    response_service.SubmitRefused: 422,
}
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
}


class ApiError(Exception):
    """A refusal raised inside an API view; turned into the JSON error body."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def error_response(status: int, code: str, message: str, details: Any = None):
    if status < 500:
        log_refusal(f"{status} {code}: {message}")
    body = {"error": {"code": code, "message": message, "details": details}}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _discard_changes() -> None:
    """A refused request leaves nothing behind, whatever the service had already flushed."""
    db = g.get("db")
    if db is not None:
        db.rollback()


def register_error_handlers(bp: Blueprint) -> None:
    """Blueprint-level handlers win over the app's HTML error pages for API views."""

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        _discard_changes()
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @bp.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        _discard_changes()
        return error_response(
            400, "validation_error", "the request is not valid", exc.normalized_messages()
        )

    @bp.errorhandler(NotFound)
    def _not_found(_exc: NotFound):
        _discard_changes()
        return error_response(404, "not_found", "no such record")

    @bp.errorhandler(DefinitionError)
    def _definition(exc: DefinitionError):
        _discard_changes()
        return error_response(
            400,
            "validation_error",
            "the questionnaire definition is not valid",
            {"definition": exc.errors},
        )

    @bp.errorhandler(VersionFrozen)
    def _frozen(exc: VersionFrozen):
        _discard_changes()
        return error_response(409, "version_frozen", str(exc))

    @bp.errorhandler(response_service.PortalError)
    def _portal(exc: response_service.PortalError):
        _discard_changes()
        status = PORTAL_STATUS.get(type(exc), 400)
        code = exc.code if exc.code != response_service.PortalError.code else "invalid_request"
        details = None
        if isinstance(exc, response_service.EditConflict):
            details = {"lock_version": exc.current_lock, "theirs": exc.theirs}
        elif isinstance(exc, response_service.SubmitRefused):
            details = {"errors": [e.to_dict() for e in exc.errors]}
        return error_response(status, code, str(exc), details)

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        _discard_changes()
        status = exc.code or 500
        return error_response(status, HTTP_CODES.get(status, "error"), exc.description or "")

    @bp.errorhandler(500)
    def _internal(_exc):
        _discard_changes()
        # The traceback is already logged under this reference (web.WebApp.log_exception).
        reference = request_id()
        return error_response(
            500,
            "internal_error",
            f"something went wrong on our side; quote this reference: {reference}",
            {"request_id": reference},
        )
