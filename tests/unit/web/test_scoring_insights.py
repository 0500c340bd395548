"""Procurement insights and the supplier portal scorecard (issue 9), through the Flask app.

The scores are stored directly (a small scored brand whose numbers are easy to follow), so every
expected figure below is worked out by hand from the rows in `world`.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from scoring import queries
from supplychain.accounts import add_user, hash_password
from supplychain.db import unit_of_work
from supplychain.models import (
    ActionStatus,
    CorrectiveAction,
    Invitation,
    InvitationToken,
    MembershipInvitation,
    MembershipScope,
    Organization,
    Role,
    ScoreItem,
    ScoringRun,
    ScoringSettings,
    SupplierScore,
    utcnow,
)
from tests.support import builders
from tests.support import campaigns as cs
from tests.support.scoring import scored_brand
from tests.unit.web.conftest import login

INTERNAL_NOTE = "Internal: push them hard, contract renewal in Q3"


def _run(s, brand, year: int, currency: str = "CNY") -> ScoringRun:
    run = ScoringRun(
        brand_id=brand.id,
        reporting_year=year,
        methodology_version="1.0",
        methodology={},
        config_hash="0" * 64,
        inputs_hash="1" * 64,
        currency=currency,
        supplier_count=0,
        summary={},
        warnings=[],
    )
    s.add(run)
    s.flush()
    return run


def _score(s, run, rel, *, composite=65.0, band="conditional", responded=True, **fields):
    values = dict(
        run_id=run.id,
        relationship_id=rel.id,
        supplier_id=rel.supplier_id,
        responded=responded,
        composite=composite,
        emissions_score=60.0,
        targets_score=50.0,
        maturity_score=70.0,
        data_quality_score=80.0,
        band=band,
        disclosed_group="disclosed" if responded else "not_disclosed",
        rank=1 if responded else None,
        maturity_level="awareness" if responded else "none",
        maturity_letter="C" if responded else "F",
        dq_score=3.0,
        risk_level="medium",
        capability_level="medium",
        grid_cell="medium:medium",
        target_status="none",
        top_items=[],
    )
    values.update(fields)
    score = SupplierScore(**values)
    s.add(score)
    s.flush()
    run.supplier_count += 1
    return score


def _item(s, score, item, dimension, earned, possible, reason):
    s.add(
        ScoreItem(
            score_id=score.id,
            dimension=dimension,
            item=item,
            earned=earned,
            possible=possible,
            reason=reason,
            params={},
        )
    )


def _action(s, brand, rel, run, *, item, dimension, code, points, due, note=None):
    action = CorrectiveAction(
        brand_id=brand.id,
        relationship_id=rel.id,
        supplier_id=rel.supplier_id,
        item=item,
        dimension=dimension,
        action_code=code,
        params={},
        points_at_stake=points,
        status=ActionStatus.OPEN,
        due_date=due,
        note=note,
        opened_by_run_id=run.id,
    )
    s.add(action)
    s.flush()
    return action


@pytest.fixture
def world(csrf_off, sqlite_url):
    """Brand Alpha (CNY) with six suppliers scored for 2024 and twice for 2025; brand Gamma
    also buys from Alpha's first supplier and scored it; brand Beta is another tenant.

    Alpha 2025 (latest run):
      code  category  spend    intensity  sector  contribution  potential  target
      A1    plastics  100,000  0.5        0.8     40,000        30,000     sbti_validated
      A2    plastics  300,000  0.2        –       50,000        10,000     sbti_committed
      A3    plastics  100,000  –          0.6     60,000        50,000     none (no response)
      A4    metals    500,000  0.1        –       50,000        –          own
      A5/A6 metals    –        –          –       –             –          none
    """
    settings = csrf_off.extensions["settings"]
    with unit_of_work(sqlite_url) as s:
        alpha, rels = cs.brand_with_suppliers(s, "alpha", n=6)
        for rel, category in zip(rels, ["plastics"] * 3 + ["metals"] * 3, strict=True):
            rel.category = category
        rels[0].supplier.name = "深圳市华瑞塑胶制品有限公司"
        rels[1].supplier.name = "Bravo Polymers"
        _campaign, _links = cs.launch_campaign(s, settings, alpha)
        old = _run(s, alpha, 2024)
        _score(
            s, old, rels[0], spend=50_000, contribution_kg=10_000, target_status="sbti_validated"
        )
        _score(s, old, rels[1], spend=150_000, contribution_kg=30_000)
        superseded = _run(s, alpha, 2025)
        _score(s, superseded, rels[0], spend=1.0, contribution_kg=1.0)
        run = _run(s, alpha, 2025)
        a1 = _score(
            s,
            run,
            rels[0],
            spend=100_000,
            intensity=0.5,
            sector_intensity=0.8,
            contribution_kg=40_000,
            engagement_potential_kg=30_000,
            target_status="sbti_validated",
        )
        _score(
            s,
            run,
            rels[1],
            spend=300_000,
            intensity=0.2,
            contribution_kg=50_000,
            engagement_potential_kg=10_000,
            target_status="sbti_committed",
            band="approved",
            composite=75.0,
        )
        _score(
            s,
            run,
            rels[2],
            responded=False,
            band="rejected",
            composite=20.0,
            spend=100_000,
            sector_intensity=0.6,
            contribution_kg=60_000,
            engagement_potential_kg=50_000,
        )
        _score(
            s,
            run,
            rels[3],
            spend=500_000,
            intensity=0.1,
            contribution_kg=50_000,
            target_status="own",
        )
        _score(s, run, rels[4])
        _score(s, run, rels[5])
        _item(s, a1, "verification", "data_quality", 0.0, 10.0, "no_verification")
        _action(
            s,
            alpha,
            rels[0],
            run,
            item="verification",
            dimension="data_quality",
            code="get_verified",
            points=4.0,
            due=date(2026, 3, 31),
            note=INTERNAL_NOTE,
        )
        _action(
            s,
            alpha,
            rels[1],
            run,
            item="sbti_target",
            dimension="targets",
            code="set_sbti_target",
            points=6.0,
            due=date(2026, 4, 30),
        )
        gamma, gamma_rels = cs.brand_with_suppliers(s, "gamma", suppliers=[rels[0].supplier])
        gamma_run = _run(s, gamma, 2025, currency="USD")
        _score(s, gamma_run, gamma_rels[0], spend=10_000, contribution_kg=5_000)
        _action(
            s,
            gamma,
            gamma_rels[0],
            gamma_run,
            item="renewable_share",
            dimension="emissions",
            code="buy_renewable_electricity",
            points=3.0,
            due=date(2026, 5, 15),
        )
        beta, beta_rels = cs.brand_with_suppliers(s, "beta", n=1)
        beta_run = _run(s, beta, 2025)
        _score(s, beta_run, beta_rels[0], spend=1_000, engagement_potential_kg=5.0)
        builders.user(s, "contact@a1.example", rels[0].supplier, Role.SUPPLIER)
        builders.user(s, "contact@a2.example", rels[1].supplier, Role.SUPPLIER)
        claimed = add_user(
            s,
            email=rels[0].contact_email,
            password_hash=hash_password(builders.PASSWORD),
            display_name="王强",
            organization=rels[0].supplier,
            role=Role.SUPPLIER,
            scope=MembershipScope.INVITATIONS,
        )
        invitation = s.scalars(
            select(Invitation).where(Invitation.relationship_id == rels[0].id)
        ).one()
        token = s.scalars(
            select(InvitationToken).where(InvitationToken.invitation_id == invitation.id)
        ).first()
        s.add(
            MembershipInvitation(
                membership=claimed.memberships[0],
                invitation_id=invitation.id,
                invitation_token_id=token.id,
            )
        )
        return {
            "alpha_id": alpha.id,
            "run_id": run.id,
            "rels": [str(r.public_id) for r in rels],
            "beta_rel": str(beta_rels[0].public_id),
            "claimed_email": claimed.email,
            "token_id": token.id,
        }


@pytest.fixture
def buyer(csrf_off, world):
    client = csrf_off.test_client()
    assert login(client, "buyer@alpha.example").status_code == 302
    return client


def order_of(html: str) -> list[str]:
    return re.findall(r'data-relationship="([0-9a-f-]{36})"', html)


# --- engagement priority --------------------------------------------------------------------


def test_engagement_orders_by_potential_with_cumulative_shares(world, sqlite_url):
    rels = world["rels"]
    with unit_of_work(sqlite_url) as s:
        run = s.get(ScoringRun, world["run_id"])
        priority = queries.engagement_priority(s, run)
        assert [str(r.relationship.public_id) for r in priority.rows] == [rels[2], rels[0], rels[1]]
        assert priority.total == 3 and priority.without_estimate == 3
        assert priority.total_potential_kg == pytest.approx(90_000)
        assert priority.cat1_kg == pytest.approx(200_000)  # no footprint run: sum of contributions
        assert [r.cumulative_cat1_share for r in priority.rows] == pytest.approx([0.30, 0.50, 0.75])
        assert [r.cumulative_potential_share for r in priority.rows] == pytest.approx(
            [50 / 90, 80 / 90, 1.0]
        )
        second = queries.engagement_priority(s, run, page=2, per_page=2)
        assert [r.position for r in second.rows] == [3]
        assert second.rows[0].cumulative_cat1_share == pytest.approx(0.75)


def test_engagement_page_lists_the_brands_suppliers_in_order(buyer, world):
    page = buyer.get("/console/scores/engagement")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert order_of(html) == [world["rels"][2], world["rels"][0], world["rels"][1]]
    assert world["beta_rel"] not in html
    assert "75 %" in html and "50 %" in html


# --- SBTi engagement tracking ---------------------------------------------------------------


def test_sbti_shares_per_year_from_the_latest_run_of_each_year(world, sqlite_url):
    with unit_of_work(sqlite_url) as s:
        years = queries.sbti_engagement(s, world["alpha_id"])
        assert [y.year for y in years] == [2024, 2025]
        y2024, y2025 = years
        assert y2025.run.id == world["run_id"]  # not the superseded 2025 run
        assert y2024.emissions_share == pytest.approx(10_000 / 40_000)
        assert y2024.spend_share == pytest.approx(50_000 / 200_000)
        assert y2025.validated_emissions_share == pytest.approx(40_000 / 200_000)
        assert y2025.committed_emissions_share == pytest.approx(50_000 / 200_000)
        assert y2025.emissions_share == pytest.approx(0.45)
        assert y2025.validated_spend_share == pytest.approx(100_000 / 1_000_000)
        assert y2025.spend_share == pytest.approx(0.40)


def test_sbti_page_shows_default_target_then_the_brands_own(buyer, world, sqlite_url):
    html = buyer.get("/console/scores/sbti").get_data(as_text=True)
    assert 'id="sbti-target-default"' in html and "67 %" in html and "2030" in html
    row = re.search(r'<tr data-year="2025">.*?</tr>', html, re.S)[0]
    assert re.search(r'data-field="emissions_share"><strong>45 %', row)
    assert 'data-field="spend_share">40 %' in row
    assert 'data-field="gap">22' in row and 'data-field="gap">22 %' not in row
    assert html.count('class="sbti-bar"') == 2 and "<svg" in html and "style=" not in html
    with unit_of_work(sqlite_url) as s:
        s.add(
            ScoringSettings(
                brand_id=world["alpha_id"], overrides={"sbti_target": {"share": 0.4, "year": 2028}}
            )
        )
    html = buyer.get("/console/scores/sbti").get_data(as_text=True)
    assert 'id="sbti-target-default"' not in html and "40 %" in html and "2028" in html
    row = re.search(r'<tr data-year="2025">.*?</tr>', html, re.S)[0]
    assert 'data-field="gap">' in row and "reached" in row


def test_unreadable_sbti_target_falls_back_to_the_default(world, sqlite_url):
    with unit_of_work(sqlite_url) as s:
        s.add(
            ScoringSettings(
                brand_id=world["alpha_id"], overrides={"sbti_target": {"share": 67, "year": "x"}}
            )
        )
    with unit_of_work(sqlite_url) as s:
        target = queries.sbti_target(s, world["alpha_id"])
        assert (target.share, target.year, target.is_default) == (0.67, 2030, True)


# --- award comparison -----------------------------------------------------------------------


def compare(client, suppliers, amount="10000", category="plastics"):
    return client.get(
        "/console/scores/compare",
        query_string={"category": category, "suppliers": suppliers, "amount": amount},
    )


def test_comparison_delta_is_amount_times_intensity_difference(buyer, world, sqlite_url):
    rels = world["rels"]
    # plastics now: (100k × 0.5 + 300k × 0.2 + 100k × 0.6 sector) / 500k = 0.34 kg per CNY
    with unit_of_work(sqlite_url) as s:
        run = s.get(ScoringRun, world["run_id"])
        picked = queries.scored_relationships(s, run, [rels[0], rels[1], rels[2]])
        result = queries.award_comparison(
            s, run, category="plastics", candidates=picked, amount=10_000
        )
        assert result.current_intensity == pytest.approx(0.34)
        assert [o.delta_kg for o in result.options] == pytest.approx([1_600, -1_400, 2_600])
        assert [o.intensity_basis for o in result.options] == ["disclosed", "disclosed", "sector"]
    page = compare(buyer, [rels[0], rels[1]])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert order_of(html.split('id="comparison"')[1]) == [rels[0], rels[1]]
    deltas = re.findall(r'data-field="delta">([^<]+)<', html)
    assert deltas == ["+1.60", "−1.40"]
    assert "340 kg CO2e per 1,000 CNY" in html  # current intensity
    assert 'id="compare-method"' in html


@pytest.mark.parametrize(
    ("count", "message"),
    [(1, "Pick at least 2 suppliers"), (6, "Pick at most 5 suppliers")],
)
def test_comparison_needs_two_to_five_suppliers(buyer, world, count, message):
    page = compare(buyer, world["rels"][:count])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert message in html and 'id="comparison"' not in html


def test_a_flood_of_ids_is_refused_without_looking_them_up(buyer, world):
    flood = [f"00000000-0000-4000-8000-{i:012d}" for i in range(40_000)]
    page = compare(buyer, flood)  # none of them exists, but the count is refused first
    assert page.status_code == 200
    assert "Pick at most 5 suppliers" in page.get_data(as_text=True)


def test_the_same_supplier_twice_counts_once(buyer, world):
    html = compare(buyer, [world["rels"][0], world["rels"][0]]).get_data(as_text=True)
    assert "Pick at least 2 suppliers" in html


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "", "NaN", "Infinity"])
def test_comparison_amount_must_be_positive(buyer, world, amount):
    html = compare(buyer, world["rels"][:2], amount=amount).get_data(as_text=True)
    assert "Enter the spend to move as a positive amount in CNY." in html
    assert 'id="comparison"' not in html


@pytest.mark.parametrize("kind", ["foreign", "malformed", "unknown"])
def test_comparison_with_ids_that_are_not_the_brands_is_404(buyer, world, kind):
    other = {
        "foreign": world["beta_rel"],
        "malformed": "not-a-uuid",
        "unknown": "00000000-0000-4000-8000-000000000000",
    }[kind]
    assert compare(buyer, [world["rels"][0], other]).status_code == 404


def test_insight_pages_need_a_brand_role(csrf_off, world):
    client = csrf_off.test_client()
    assert login(client, "contact@a1.example").status_code == 302
    for path in ("engagement", "sbti", "compare"):
        assert client.get(f"/console/scores/{path}").status_code == 403


# --- supplier portal scorecard --------------------------------------------------------------


def portal(csrf_off, email):
    client = csrf_off.test_client()
    assert login(client, email).status_code == 302
    return client.get("/portal/scorecard")


def test_supplier_sees_its_scorecard_and_actions_without_internal_notes(csrf_off, world):
    page = portal(csrf_off, "contact@a1.example")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Alpha Brand" in html and "Gamma Brand" in html  # organisation-wide: every brand
    assert "2026-03-31" in html and "2026-05-15" in html
    assert INTERNAL_NOTE not in html
    assert "Bravo Polymers" not in html and "2026-04-30" not in html  # supplier B's


def test_supplier_b_cannot_see_supplier_as_scorecard(csrf_off, world):
    html = portal(csrf_off, "contact@a2.example").get_data(as_text=True)
    assert "2026-04-30" in html
    assert "2026-03-31" not in html and "2026-05-15" not in html
    assert "Gamma Brand" not in html


def test_brand_users_get_404_on_the_portal_scorecard(buyer):
    assert buyer.get("/portal/scorecard").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(csrf_off, world):
    page = csrf_off.test_client().get("/portal/scorecard")
    assert page.status_code == 302 and "/login" in page.location


def test_claimed_account_sees_only_the_brands_of_its_invitations(csrf_off, world, sqlite_url):
    html = portal(csrf_off, world["claimed_email"]).get_data(as_text=True)
    assert "Alpha Brand" in html and "2026-03-31" in html
    assert "Gamma Brand" not in html and "2026-05-15" not in html
    with unit_of_work(sqlite_url) as s:  # the invitation is re-issued: its link is revoked
        s.get(InvitationToken, world["token_id"]).revoked_at = utcnow()
    html = portal(csrf_off, world["claimed_email"]).get_data(as_text=True)
    assert "Alpha Brand" not in html and "2026-03-31" not in html


def test_portal_scorecard_in_chinese(csrf_off, world):
    client = csrf_off.test_client()
    assert login(client, "contact@a1.example").status_code == 302
    client.post("/language", data={"lang": "zh_CN", "next": "/portal/scorecard"})
    html = client.get("/portal/scorecard").get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "整改措施" in html and "2026-03-31" in html


def test_portal_home_links_to_the_scorecard(csrf_off, world):
    client = csrf_off.test_client()
    assert login(client, "contact@a1.example").status_code == 302
    assert 'href="/portal/scorecard"' in client.get("/portal/").get_data(as_text=True)


# --- on a brand scored by the real service --------------------------------------------------


def test_pages_agree_with_a_run_stored_by_the_scoring_service(csrf_off, sqlite_url):
    settings = csrf_off.extensions["settings"]
    with unit_of_work(sqlite_url) as s:
        brand, run = scored_brand(s, settings, "delta")
        scores = s.scalars(select(SupplierScore).where(SupplierScore.run_id == run.id)).all()
        priority = queries.engagement_priority(s, run)
        potentials = [r.score.engagement_potential_kg for r in priority.rows]
        assert potentials == sorted(potentials, reverse=True) and potentials
        assert priority.total + priority.without_estimate == len(scores)
        (year,) = queries.sbti_engagement(s, brand.id)
        with_targets = [
            x for x in scores if x.target_status in ("sbti_validated", "sbti_committed")
        ]
        assert year.spend_share == pytest.approx(
            sum(x.spend or 0 for x in with_targets) / sum(x.spend or 0 for x in scores)
        )
        supplier = next(x for x in scores if x.target_status == "sbti_committed")
        builders.user(
            s, "contact@committed.example", s.get(Organization, supplier.supplier_id), Role.SUPPLIER
        )
        open_actions = s.scalars(
            select(CorrectiveAction).where(
                CorrectiveAction.relationship_id == supplier.relationship_id,
                CorrectiveAction.status.in_([ActionStatus.OPEN, ActionStatus.IN_PROGRESS]),
            )
        ).all()
    html = portal(csrf_off, "contact@committed.example").get_data(as_text=True)
    assert html.count('class="card scorecard"') == 1
    assert len(re.findall(r"<tr data-action=", html)) == len(open_actions) > 0


def test_insight_queries_on_sqlite_and_postgresql(any_db_url):
    """The window functions and sums behave the same on both databases."""
    with unit_of_work(any_db_url) as s:
        brand = builders.brand(s, "omega")
        rels = [
            builders.relationship(
                s, brand, builders.supplier(s, f"供应商 {i}"), f"O-{i}", category="resin"
            )
            for i in range(3)
        ]
        run = _run(s, brand, 2025)
        for rel, spend, intensity, kg, potential, target in zip(
            rels,
            (200.0, 600.0, 200.0),
            (0.4, 0.1, 0.9),
            (300.0, 500.0, 200.0),
            (20.0, 70.0, 70.0),
            ("sbti_validated", "none", "sbti_committed"),
            strict=True,
        ):
            _score(
                s, run, rel, spend=spend, intensity=intensity, contribution_kg=kg,
                engagement_potential_kg=potential, target_status=target,
            )  # fmt: skip
        priority = queries.engagement_priority(s, run)
        # equal potentials keep the score order: O-1 before O-2
        assert [r.relationship.supplier_code for r in priority.rows] == ["O-1", "O-2", "O-0"]
        assert [r.cumulative_cat1_share for r in priority.rows] == pytest.approx([0.5, 0.7, 1.0])
        (year,) = queries.sbti_engagement(s, brand.id)
        assert year.emissions_share == pytest.approx(0.5) and year.spend_share == pytest.approx(0.4)
        picked = queries.scored_relationships(s, run, [str(rels[1].public_id)])
        # resin now: (200 × 0.4 + 600 × 0.1 + 200 × 0.9) / 1000 = 0.32; O-1 at 0.1
        comparison = queries.award_comparison(
            s, run, category="resin", candidates=picked, amount=100.0
        )
        assert comparison.options[0].delta_kg == pytest.approx(100 * (0.1 - 0.32))
