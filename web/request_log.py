"""Request ids and what a request writes to the log.

Expected refusals (bad form input, rejected uploads, CSRF failures, 404, 429 ...) are one INFO
line without a traceback: nothing is broken, and a traceback per typo would bury real faults.
Unexpected errors keep their traceback under a request id, the same id the user is shown on the
error page and every response carries in `X-Request-ID`, so a quoted reference finds the trace.
"""

from __future__ import annotations

import logging
import re
import secrets
from types import TracebackType

from flask import Flask, g, has_request_context, request
from werkzeug.wrappers import Response

REQUEST_ID_HEADER = "X-Request-ID"
# An id set by a proxy or client is kept only when it is plainly an id: letters, digits and
# `-_.`, 8 to 64 characters. Anything else (spaces, markup, newlines that would forge log
# lines) is replaced by a fresh id.
INCOMING_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

log = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]


def request_id() -> str:
    """This request's id: a well-formed incoming X-Request-ID, else 12 random hex characters."""
    if "request_id" not in g:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        valid = INCOMING_REQUEST_ID.fullmatch(incoming)
        g.request_id = incoming if valid else secrets.token_hex(6)
    return g.request_id


def _route() -> str:
    """The matched URL rule rather than the raw path: portal paths carry invitation tokens."""
    return request.url_rule.rule if request.url_rule is not None else request.path


def log_refusal(reason: str) -> None:
    """One INFO line for an expected refusal of this request's input."""
    g.refusal_logged = True
    # Reasons can quote what was sent (a file name): keep it to one line of bounded length.
    one_line = " ".join(reason.split())[:300]
    log.info("%s %s refused: %s", request.method, _route(), one_line)


def log_unexpected(exc_info: ExcInfo) -> None:
    """The traceback of an unexpected error, under the reference the user is shown."""
    log.error(
        "unexpected error on %s %s, reference %s",
        request.method,
        _route(),
        request_id(),
        exc_info=exc_info,
    )


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request) so formats can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id() if has_request_context() else "-"
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Log INFO and above to stderr with request ids, unless the process configured logging.

    gunicorn configures only its own loggers, so without this the application's INFO lines
    (mail written, refusals) would be dropped. A deployment with its own logging configuration
    keeps it, and can add `web.request_log.RequestIdFilter` to its handlers.
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)


def init_app(app: Flask) -> None:
    """Tag every response with its request id and log 4xx answers no handler has explained."""
    configure_logging()

    @app.after_request
    def _tag_response(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = request_id()
        if 400 <= response.status_code < 500 and not g.get("refusal_logged"):
            log_refusal(f"answered {response.status}")
        return response
