"""Refusals are one INFO line without a traceback; a 500 keeps its traceback under a reference
the user is shown and the response carries as X-Request-ID."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import select

from supplychain.db import unit_of_work
from supplychain.models import Organization, OrgKind
from tests.support import builders
from tests.unit.web.test_import_upload import BAD_CSV, upload
from web import get_db
from web.request_log import LOG_FORMAT, RequestIdFilter

REFERENCE = re.compile(r"^[0-9a-f]{12}$")


def refusal_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "web.request_log" and "refused" in r.message]


@pytest.fixture
def failing_app(app):
    """The app with two test-only routes that fail the way a bug would."""

    def broken_page():
        raise RuntimeError("the disk caught fire")

    app.add_url_rule("/test-only/broken", "broken_page", broken_page)
    app.add_url_rule("/api/test-only/broken", "broken_api", broken_page)

    def failed_write():
        db = get_db()
        builders.brand(db, "half-written")
        db.add(Organization(slug="alpha", kind=OrgKind.BRAND, name="duplicate slug"))
        db.flush()  # IntegrityError: the session now refuses every query until rolled back

    app.add_url_rule("/test-only/failed-write", "failed_write", failed_write)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production, not re-raise
    return app


@pytest.fixture
def traced(caplog):
    """caplog, with the request-id filter the production handler carries."""
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestIdFilter())
    yield caplog
    caplog.handler.filters.clear()


def test_rejected_upload_logs_one_info_line_without_traceback(client_a, caplog):
    caplog.set_level(logging.INFO)
    response = client_a.post(
        "/console/imports",
        data={"kind": "suppliers", "file": (io.BytesIO(b"MZ\x90\x00"), "suppliers.exe")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    lines = refusal_lines(caplog)
    assert len(lines) == 1
    (line,) = lines
    assert line.levelno == logging.INFO
    assert line.exc_info is None
    assert "import upload rejected" in line.message and "\n" not in line.message
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_refused_import_job_logs_info_without_traceback(client_a, caplog):
    caplog.set_level(logging.INFO)
    page = client_a.get(upload(client_a, BAD_CSV).location).get_data(as_text=True)
    assert "Nothing was imported" in page
    refused = [r for r in caplog.records if r.name == "supplychain.jobs"]
    assert len(refused) == 1
    assert refused[0].levelno == logging.INFO and refused[0].exc_info is None
    assert "Nothing was imported" in refused[0].message and "\n" not in refused[0].message


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [("GET", "/console/no-such-page", 404), ("POST", "/console/suppliers", 405)],
)
def test_not_found_and_wrong_method_log_one_info_line(client_a, caplog, method, url, status):
    caplog.set_level(logging.INFO)
    assert client_a.open(url, method=method).status_code == status
    (line,) = refusal_lines(caplog)
    assert line.levelno == logging.INFO and line.exc_info is None
    assert str(status) in line.message


def test_csrf_failure_logs_one_info_line(app, caplog):
    caplog.set_level(logging.INFO)
    response = app.test_client().post("/login", data={"email": "a@b.example", "password": "x"})
    assert response.status_code == 400
    (line,) = refusal_lines(caplog)
    assert "CSRF" in line.message and line.exc_info is None


def test_api_refusal_logs_one_info_line(app, caplog):
    caplog.set_level(logging.INFO)
    response = app.test_client().get("/api/v1/campaigns")
    assert response.status_code == 401
    (line,) = refusal_lines(caplog)
    assert "unauthorized" in line.message and line.exc_info is None


def test_unexpected_error_page_shows_the_reference_logged_with_the_traceback(failing_app, traced):
    response = failing_app.test_client().get("/test-only/broken")
    assert response.status_code == 500
    reference = response.headers["X-Request-ID"]
    assert REFERENCE.match(reference)
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and reference in page
    assert "the disk caught fire" not in page
    (error,) = [r for r in traced.records if r.levelno >= logging.ERROR]
    assert error.exc_info is not None and error.exc_info[0] is RuntimeError
    assert error.request_id == reference
    assert reference in error.getMessage()
    formatted = logging.Formatter(LOG_FORMAT).format(error)
    assert f"[{reference}]" in formatted and "Traceback" in formatted


def test_error_page_after_a_failed_write_keeps_nothing_and_still_renders(
    failing_app, client_a, tenants, sqlite_url
):
    response = client_a.get("/test-only/failed-write")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert response.headers["X-Request-ID"] in page
    assert "Sign out" in page  # the signed-in page frame, read after the rollback
    with unit_of_work(sqlite_url) as s:
        kept = s.scalars(select(Organization).where(Organization.slug == "half-written")).all()
    assert kept == []


def test_unexpected_error_page_is_translated(failing_app):
    client = failing_app.test_client()
    response = client.get("/test-only/broken", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] in response.get_data(as_text=True)
    assert "参考编号" in response.get_data(as_text=True)


def test_unexpected_api_error_answers_json_with_the_reference(failing_app, traced):
    response = failing_app.test_client().get("/api/test-only/broken")
    assert response.status_code == 500
    reference = response.headers["X-Request-ID"]
    error = response.get_json()["error"]
    assert error["code"] == "internal_error"
    assert error["details"] == {"request_id": reference}
    assert reference in error["message"]
    (logged,) = [r for r in traced.records if r.levelno >= logging.ERROR]
    assert logged.request_id == reference and logged.exc_info is not None


def test_every_response_carries_a_fresh_request_id(app):
    client = app.test_client()
    first = client.get("/login").headers["X-Request-ID"]
    second = client.get("/login").headers["X-Request-ID"]
    assert REFERENCE.match(first) and REFERENCE.match(second) and first != second


def test_a_well_formed_incoming_request_id_is_kept(app, traced):
    incoming = "edge-7f3a9c1b2d4e"
    response = app.test_client().get("/console/no-such-page", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] == incoming
    (line,) = refusal_lines(traced)
    assert line.request_id == incoming


@pytest.mark.parametrize(
    "incoming",
    ["short", "abc def ghi jkl", "x" * 65, "<script>alert(1)</script>", "ok-id-1234;forged=1"],
)
def test_a_malformed_incoming_request_id_is_replaced(app, incoming):
    response = app.test_client().get("/login", headers={"X-Request-ID": incoming})
    assert REFERENCE.match(response.headers["X-Request-ID"])


SERVE_ONE_REQUEST = """
import sys
from web import create_app
app = create_app({"database_url": sys.argv[1], "instance_path": sys.argv[2]})
response = app.test_client().get("/console/no-such-page")
print(response.headers["X-Request-ID"])
"""


def test_an_unconfigured_process_logs_refusals_with_their_request_id(sqlite_url, tmp_path):
    # A fresh interpreter, as under gunicorn: nobody has configured the root logger.
    done = subprocess.run(
        [sys.executable, "-c", SERVE_ONE_REQUEST, sqlite_url, str(tmp_path / "instance")],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k not in ("BASE_URL", "PUBLIC_BASE_URL")},
    )
    assert done.returncode == 0, done.stderr
    reference = done.stdout.strip().splitlines()[-1]
    (line,) = [x for x in done.stderr.splitlines() if "refused" in x]
    assert f"INFO web.request_log [{reference}] GET /console/no-such-page refused" in line
    assert "WARNING web [-] BASE_URL is not set" in done.stderr
    assert "Traceback" not in done.stderr
