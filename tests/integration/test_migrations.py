"""Migrations build the schema up and take it down again, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from supplychain import migrate
from supplychain.db import get_engine, unit_of_work
from supplychain.models import AuditEvent, Base

pytestmark = pytest.mark.integration


def tables(url: str) -> set[str]:
    return set(inspect(get_engine(url)).get_table_names()) - {"alembic_version"}


def test_upgrade_creates_every_model_table(any_db_url):
    assert tables(any_db_url) == set(Base.metadata.tables)
    assert migrate.is_up_to_date(any_db_url)


def test_downgrade_to_base_and_up_again(any_db_url):
    migrate.downgrade(any_db_url, "base")
    assert tables(any_db_url) == set()
    assert migrate.current_revision(any_db_url) is None
    migrate.upgrade(any_db_url)
    assert tables(any_db_url) == set(Base.metadata.tables)


def test_audit_trail_is_append_only_in_the_database(any_db_url):
    with unit_of_work(any_db_url) as s:
        s.add(AuditEvent(action="test", entity_type="thing", entity_id="1"))
    engine = get_engine(any_db_url)
    for statement in ("UPDATE audit_event SET action = 'changed'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM audit_event")).scalar_one() == "test"


def test_models_and_migrations_agree(any_db_url):
    """Autogenerate finds nothing to do: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with get_engine(any_db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
