"""Read models over stored runs: ranking order, filters and paging, the grid, scorecards scoped to
their brand, and the supplier's view across brands, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, select

from scoring import queries
from scoring.queries import RankingFilters
from scoring.service import run_scoring
from supplychain.config import load_settings
from supplychain.db import get_engine, unit_of_work
from supplychain.models import ActionStatus, Organization, SupplierScore
from tests.support import builders
from tests.support import scoring as sb


@pytest.fixture
def world(any_db_url, tmp_path):
    settings = load_settings(database_url=any_db_url, instance_path=tmp_path / "instance")
    with unit_of_work(any_db_url) as s:
        acme, acme_run = sb.scored_brand(s, settings, "acme")
        beta, beta_run = sb.scored_brand(s, settings, "beta")
        return any_db_url, acme.id, acme_run.id, beta.id, beta_run.id


def _all(s, run, **kwargs):
    return queries.ranking(s, run, per_page=500, **kwargs)


def test_default_order_ranks_disclosed_suppliers_then_the_not_disclosed_group(world):
    url, acme_id, run_id, *_ = world
    with unit_of_work(url) as s:
        run = queries.latest_run(s, acme_id)
        assert run.id == run_id
        page = _all(s, run)
        groups = [r.score.disclosed_group for r in page.rows]
        assert page.total == 8 and groups == ["disclosed"] * 4 + ["not_disclosed"] * 4
        assert [r.score.rank for r in page.rows[:4]] == [1, 2, 3, 4]
        assert all(r.score.rank is None for r in page.rows[4:])
        undisclosed = [r.score.composite for r in page.rows[4:]]
        assert undisclosed == sorted(undisclosed, reverse=True)
        assert {r.supplier_code[:4] for r in page.rows} == {"ACME"}  # never another brand's


def test_paging_returns_consecutive_slices_in_two_queries(world):
    url, acme_id, *_ = world
    statements = []
    with unit_of_work(url) as s:
        run = queries.latest_run(s, acme_id)
        everything = [r.score.id for r in _all(s, run).rows]
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(get_engine(url), "before_cursor_execute", listener)
        try:
            second = queries.ranking(s, run, page=2, per_page=3)
        finally:
            event.remove(get_engine(url), "before_cursor_execute", listener)
        assert [r.score.id for r in second.rows] == everything[3:6]
        assert (second.total, second.pages, second.page) == (8, 3, 2)
        assert len(statements) == 2  # the count and the page, whatever the page size
        last = queries.ranking(s, run, page=3, per_page=3)
        assert [r.score.id for r in last.rows] == everything[6:]


def test_filters_match_the_rows_they_name(world):
    url, acme_id, *_ = world
    with unit_of_work(url) as s:
        run = queries.latest_run(s, acme_id)
        rows = _all(s, run).rows
        cases = {
            RankingFilters(band="rejected"): lambda r: r.score.band == "rejected",
            RankingFilters(disclosed_group="not_disclosed"): lambda r: not r.score.responded,
            RankingFilters(category="Packaging"): lambda r: r.category == "Packaging",
            RankingFilters(country="VN"): lambda r: r.country == "VN",
            RankingFilters(score_min=30.0, score_max=80.0): lambda r: 30 <= r.score.composite <= 80,
            RankingFilters(dq_max=2.0): lambda r: r.score.dq_score <= 2.0,
            RankingFilters(grid_cell=rows[0].score.grid_cell): (
                lambda r: r.score.grid_cell == rows[0].score.grid_cell
            ),
            RankingFilters(search="acme-00"): lambda r: r.supplier_code.startswith("ACME-00"),
            RankingFilters(search="%"): lambda r: False,  # a literal percent sign, not a wildcard
            RankingFilters(target_status="sbti_validated"): (
                lambda r: r.score.target_status == "sbti_validated"
            ),
        }
        for filters, keep in cases.items():
            expected = [r.score.id for r in rows if keep(r)]
            got = _all(s, run, filters=filters)
            assert [r.score.id for r in got.rows] == expected, filters
            assert got.total == len(expected)
        assert _all(s, run, filters=RankingFilters(band="rejected")).total > 0


def test_sorting_by_a_column_both_ways(world):
    url, acme_id, *_ = world
    with unit_of_work(url) as s:
        run = queries.latest_run(s, acme_id)
        spends = [r.score.spend for r in _all(s, run, sort="spend", descending=True).rows]
        assert spends == sorted(spends, reverse=True)
        names = [r.supplier_name for r in _all(s, run, sort="supplier_name").rows]
        assert names == sorted(names)
        with pytest.raises(ValueError, match="unknown sort"):
            queries.ranking(s, run, sort="password_hash")


def test_grid_has_nine_cells_adding_up_to_the_run(world):
    url, acme_id, *_ = world
    with unit_of_work(url) as s:
        run = queries.latest_run(s, acme_id)
        cells = queries.grid(s, run)
        assert len(cells) == 9 and cells[0].cell == "high:low"
        assert sum(c.count for c in cells) == 8
        for cell in cells:
            stored = run.summary["grid"][cell.cell]
            assert cell.count == stored["count"]
            assert cell.spend == pytest.approx(stored["spend"])
        assert sum(c.spend for c in cells) == pytest.approx(run.summary["spend_total"])


def test_scorecard_by_public_or_internal_id_and_only_for_its_brand(world):
    url, acme_id, run_id, beta_id, _beta_run = world
    with unit_of_work(url) as s:
        rel = queries.ranking(s, queries.latest_run(s, acme_id), per_page=1).rows[0]
        card = queries.scorecard(s, acme_id, rel.relationship_public_id)
        assert card.score.id == rel.score.id and card.run.id == run_id
        assert card.relationship.id == rel.score.relationship_id
        assert {i.dimension for i in card.items} == {
            "emissions",
            "targets",
            "maturity",
            "data_quality",
        }
        assert [h.run_public_id for h in card.history] == [card.run.public_id]
        assert queries.scorecard(s, acme_id, rel.score.relationship_id).score.id == rel.score.id
        assert queries.scorecard(s, beta_id, rel.relationship_public_id) is None
        assert queries.scorecard(s, acme_id, uuid.uuid4()) is None
        assert queries.scorecard(s, acme_id, rel.relationship_public_id, year=2024).score is None


def test_history_grows_with_runs(world):
    url, acme_id, run_id, *_ = world
    with unit_of_work(url) as s:
        second = run_scoring(s, brand_id=acme_id, year=sb.YEAR)
        rel_id = s.scalars(
            select(SupplierScore.relationship_id).where(SupplierScore.run_id == run_id)
        ).first()
        card = queries.scorecard(s, acme_id, rel_id)
        assert card.run.id == second.id
        assert len(card.history) == 2


def test_supplier_view_lists_every_brand_with_open_actions_only(world):
    url, acme_id, _run, beta_id, _beta_run = world
    with unit_of_work(url) as s:
        rel = queries.ranking(
            s,
            queries.latest_run(s, acme_id),
            filters=RankingFilters(disclosed_group="not_disclosed"),
            per_page=1,
        ).rows[0]
        supplier_id = rel.score.supplier_id
        beta = s.get(Organization, beta_id)
        builders.relationship(s, beta, s.get(Organization, supplier_id), "BETA-X")
        run_scoring(s, brand_id=beta_id, year=sb.YEAR)
        action = queries.actions_for(s, acme_id, rel.score.relationship_id, open_only=True)[0]
        action.status = ActionStatus.DISMISSED
        s.flush()
        cards = queries.supplier_view(s, supplier_id)
        assert [c.brand.slug for c in cards] == ["acme", "beta"]
        assert all(c.score.supplier_id == supplier_id for c in cards)
        assert all(
            a.status in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
            for c in cards
            for a in c.actions
        )
        assert action.id not in {a.id for a in cards[0].actions}
        # a non-responder has one action per brand: acme's is dismissed, beta's is open
        assert not cards[0].actions
        assert [a.item for a in cards[1].actions] == ["questionnaire_response"]


def test_a_scope12_only_intensity_counts_at_the_ratio_its_item_used():
    """Award comparisons read a Scope 1 + 2-only intensity (1.1) as the intensity item did:
    never below the sector reference; other bases and 1.0 runs (no basis) as stored."""
    low = SupplierScore(intensity=0.1, sector_intensity=0.4)
    assert queries.effective_intensity(low) == (0.1, "disclosed")
    raised = queries.effective_intensity(
        low, {"basis": "own_only", "ratio": 1.0, "measured_ratio": 0.25}
    )
    assert raised == (pytest.approx(0.4), "sector")
    kept = queries.effective_intensity(low, {"basis": "cradle_to_gate", "ratio": 0.25})
    assert kept == (0.1, "disclosed")
    high = SupplierScore(intensity=0.6, sector_intensity=0.4)
    kept_above = {"basis": "own_only", "ratio": 1.5, "measured_ratio": 1.5}
    assert queries.effective_intensity(high, kept_above) == (0.6, "disclosed")
    silent = SupplierScore(intensity=None, sector_intensity=0.4)
    assert queries.effective_intensity(silent, None) == (0.4, "sector")
