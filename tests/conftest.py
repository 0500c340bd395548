"""Shared fixtures: migrated databases (SQLite always, PostgreSQL for integration) and data."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from supplychain import migrate
from supplychain.db import session_factory
from tests.support.servers import PostgresServer, RedisServer

# Shared, noisy machines: no per-example deadlines. In CI the examples are derandomised so a
# run can be repeated exactly; locally they stay random to keep finding new cases.
hypothesis_settings.register_profile("default", deadline=None, print_blob=True)
hypothesis_settings.register_profile("ci", deadline=None, print_blob=True, derandomize=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "default")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("SHARED_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer.start()
    yield server
    server.stop()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A fresh SQLite database built through the migrations."""
    url = f"sqlite:///{tmp_path / 'test.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh PostgreSQL database built through the migrations."""
    url = postgres_server.create_database("t_" + uuid.uuid4().hex[:12])
    migrate.upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_url(request) -> str:
    """Runs the test once on SQLite and once on the throw-away PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def db_url(sqlite_url) -> str:
    return sqlite_url


@pytest.fixture
def session(db_url):
    s = session_factory(db_url)()
    yield s
    s.rollback()
    s.close()
