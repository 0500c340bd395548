"""Demo data is deterministic, spans three tiers and several countries, and signs in."""

from __future__ import annotations

from sqlalchemy import func, select

from supplychain import demo
from supplychain.accounts import authenticate
from supplychain.db import unit_of_work
from supplychain.models import Organization, SpendLine, SupplierRelationship, SupplyEdge


def snapshot(url: str) -> dict:
    with unit_of_work(url) as s:
        summary = demo.load(s, suppliers=60, seed=11)
        rels = s.scalars(select(SupplierRelationship).order_by(SupplierRelationship.id)).all()
        return {
            "summary": (summary.suppliers, summary.edges, summary.spend_lines),
            "names": [r.supplier.name for r in rels],
            "ids": [str(r.public_id) for r in rels],
            "tiers": sorted({r.tier for r in rels}),
            "countries": {r.supplier.country for r in rels},
            "spend": str(s.scalar(select(func.sum(SpendLine.amount)))),
        }


def test_same_seed_same_data(tmp_path):
    from supplychain import migrate

    urls = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.db"
        migrate.upgrade(url)
        urls.append(url)
    first, second = snapshot(urls[0]), snapshot(urls[1])
    assert first == second
    assert first["tiers"] == [1, 2, 3]
    assert "CN" in first["countries"] and len(first["countries"]) >= 3
    assert any("有限公司" in name for name in first["names"])


def test_demo_logins_work_and_links_cover_the_tiers(sqlite_url):
    with unit_of_work(sqlite_url) as s:
        demo.load(s, suppliers=40, seed=3)
    with unit_of_work(sqlite_url) as s:
        assert demo.exists(s)
        for email, _role in demo.existing_logins(s):
            assert authenticate(s, email, demo.DEMO_PASSWORD) is not None
        assert s.scalar(select(func.count()).select_from(SupplyEdge)) > 0
        assert s.scalar(select(func.count()).select_from(SpendLine)) > 0
        assert s.scalar(select(func.count()).select_from(Organization)) == 41


def test_demo_command_ends_with_a_scoring_run_with_a_spread(sqlite_url, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from scoring import queries
    from supplychain.cli import main

    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = CliRunner().invoke(main, ["demo", "--suppliers", "120"])
    assert result.exit_code == 0, result.output
    assert "scoring 2025:" in result.output
    with unit_of_work(sqlite_url) as s:
        brand = s.scalars(select(Organization).where(Organization.slug == demo.DEMO_BRAND_SLUG))
        brand_id = brand.one().id
        runs = queries.latest_runs_by_year(s, brand_id)
        assert [r.reporting_year for r in runs] == [2024, 2025]  # scorecards have a history
        summary = runs[-1].summary
        disclosed = summary["bands_by_group"]["disclosed"]
        assert {"approved", "conditional", "rejected"} <= set(disclosed)
        assert summary["groups"]["not_disclosed"] > 0
        assert sum(1 for cell in summary["grid"].values() if cell["count"]) >= 3
        assert queries.actions_for(s, brand_id, open_only=True)


def test_demo_if_empty_scores_a_demo_loaded_before_scoring_existed(
    sqlite_url, tmp_path, monkeypatch
):
    from click.testing import CliRunner

    from scoring import queries
    from supplychain.cli import main

    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    with unit_of_work(sqlite_url) as s:
        demo.load(s, suppliers=40, seed=3)
    first = CliRunner().invoke(main, ["demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "scoring 2025:" in first.output
    again = CliRunner().invoke(main, ["demo", "--if-empty"])
    assert again.exit_code == 0 and "scoring" not in again.output
    with unit_of_work(sqlite_url) as s:
        brand = s.scalars(select(Organization).where(Organization.slug == demo.DEMO_BRAND_SLUG))
        assert len(queries.latest_runs_by_year(s, brand.one().id)) == 2
