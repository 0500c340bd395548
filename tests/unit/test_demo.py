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


def test_demo_disclosures_of_the_running_campaign_carry_purchases(sqlite_url, tmp_path):
    """The 2025 campaign runs on questionnaire version 2, so its accepted disclosures give the
    footprint purchased spend (and leaders their Scope 3 Category 1) to fill the upstream gap;
    the 2024 pilot stays on version 1, as a campaign sent before version 2 would."""
    from questionnaires.demo import load_campaigns
    from supplychain.config import load_settings
    from supplychain.models import Campaign, Disclosure

    settings = load_settings(instance_path=tmp_path / "instance", database_url=sqlite_url)
    with unit_of_work(sqlite_url) as s:
        demo.load(s, suppliers=60, seed=11)
        brand = s.scalars(select(Organization).where(Organization.slug == demo.DEMO_BRAND_SLUG))
        load_campaigns(s, settings, brand.one(), seed=11)
    with unit_of_work(sqlite_url) as s:
        versions = {
            c.reporting_year: c.questionnaire_version.version for c in s.scalars(select(Campaign))
        }
        assert versions == {2025: 2, 2024: 1}
        rows = s.scalars(select(Disclosure)).all()
        current = [d for d in rows if d.reporting_year == 2025]
        pilot = [d for d in rows if d.reporting_year == 2024]
        assert len(current) == 14 and pilot
        assert all(d.purchased_spend > 0 for d in current)
        assert {d.purchased_currency for d in current} <= {"CNY", "USD"}
        assert sum(d.purchased_naics is not None for d in current) >= len(current) // 2
        cat1 = [d for d in current if d.scope3_upstream_kg is not None]
        assert 0 < len(cat1) < len(current)
        assert {d.details["scope3_upstream_boundary"] for d in cat1} == {"category_1"}
        assert all(d.purchased_spend is None and d.purchased_naics is None for d in pilot)
