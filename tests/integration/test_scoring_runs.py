"""Stored scoring runs on SQLite and PostgreSQL: reproducible, append-only, re-scored on accept,
and all-or-nothing when a run fails part-way."""

from __future__ import annotations

import logging
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from questionnaires import responses
from scoring import queries
from scoring.actions import NOT_DISCLOSED_ACTION, NOT_DISCLOSED_ITEM
from scoring.inputs import gather_inputs
from scoring.methodology import load_methodology
from scoring.service import (
    ActionConflict,
    ActionNotFound,
    run_scoring,
    save_settings,
    submit_scoring,
    update_action,
)
from supplychain.api_keys import create_api_key
from supplychain.config import load_settings
from supplychain.db import get_engine, unit_of_work
from supplychain.models import (
    ActionStatus,
    CorrectiveAction,
    Invitation,
    InvitationStatus,
    JobRecord,
    JobStatus,
    ScoreItem,
    ScoringRun,
    ScoringSettings,
    SupplierScore,
    User,
)
from tests.support import builders
from tests.support import scoring as sb
from web import create_app

pytestmark = pytest.mark.integration

SCORE_FIELDS = (
    "relationship_id",
    "responded",
    "composite",
    "emissions_score",
    "targets_score",
    "maturity_score",
    "data_quality_score",
    "band",
    "disclosed_group",
    "rank",
    "maturity_level",
    "maturity_letter",
    "risk_level",
    "capability_level",
    "grid_cell",
    "top_items",
)


@pytest.fixture
def scored(any_db_url, tmp_path):
    settings = load_settings(database_url=any_db_url, instance_path=tmp_path / "instance")
    with unit_of_work(any_db_url) as s:
        brand, run = sb.scored_brand(s, settings, "acme")
        return any_db_url, settings, brand.id, run.id


def _scores(session, run_id: int) -> list[tuple]:
    rows = session.scalars(
        select(SupplierScore)
        .where(SupplierScore.run_id == run_id)
        .order_by(SupplierScore.relationship_id)
    )
    return [tuple(getattr(r, f) for f in SCORE_FIELDS) for r in rows]


def _items(session, run_id: int) -> list[tuple]:
    return list(
        session.execute(
            select(
                SupplierScore.relationship_id,
                ScoreItem.item,
                ScoreItem.earned,
                ScoreItem.possible,
                ScoreItem.reason,
            )
            .join(SupplierScore, SupplierScore.id == ScoreItem.score_id)
            .where(SupplierScore.run_id == run_id)
            .order_by(SupplierScore.relationship_id, ScoreItem.item)
        )
    )


def _actions(session, brand_id: int) -> list[tuple]:
    return list(
        session.execute(
            select(
                CorrectiveAction.id,
                CorrectiveAction.relationship_id,
                CorrectiveAction.item,
                CorrectiveAction.status,
                CorrectiveAction.points_at_stake,
                CorrectiveAction.closed_by_run_id,
            )
            .where(CorrectiveAction.brand_id == brand_id)
            .order_by(CorrectiveAction.id)
        )
    )


def test_same_inputs_same_scores_and_runs_are_appended(scored):
    url, _settings, brand_id, first_id = scored
    with unit_of_work(url) as s:
        actions_before = _actions(s, brand_id)
    with unit_of_work(url) as s:
        second_id = run_scoring(s, brand_id=brand_id, year=sb.YEAR).id
    with unit_of_work(url) as s:
        first, second = s.get(ScoringRun, first_id), s.get(ScoringRun, second_id)
        assert second_id != first_id
        assert s.scalar(select(func.count()).select_from(ScoringRun)) == 2
        assert (first.inputs_hash, first.config_hash) == (second.inputs_hash, second.config_hash)
        assert first.methodology == second.methodology
        assert _scores(s, first_id) == _scores(s, second_id)
        assert len(_scores(s, first_id)) == 8
        assert _items(s, first_id) == _items(s, second_id)
        assert queries.latest_run(s, brand_id).id == second_id
        # a re-score of unchanged data opens no second action per item and closes none
        after = _actions(s, brand_id)
        assert [a[:4] for a in after] == [a[:4] for a in actions_before]
        live = [(a[1], a[2]) for a in after if a[3] == ActionStatus.OPEN]
        assert len(live) == len(set(live)) > 0


def test_accepting_a_response_rescores_and_closes_a_satisfied_action(scored, tmp_path):
    url, settings, brand_id, first_id = scored
    with unit_of_work(url) as s:
        pending = sb.pending_invitation(s, s.get(ScoringRun, first_id).brand)
        rel_id, invitation_id = pending.relationship_id, str(pending.public_id)
        before = {
            a.item: a
            for a in queries.actions_for(s, brand_id, rel_id)
            if a.status == ActionStatus.OPEN
        }
        assert list(before) == [NOT_DISCLOSED_ITEM]  # not answered yet: one thing to do
    app = create_app(
        {"TESTING": True, "database_url": url, "instance_path": settings.instance_path}
    )
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    login = client.post(
        "/login", data={"email": "buyer@acme.example", "password": builders.PASSWORD}
    )
    assert login.status_code == 302
    response = client.post(
        f"/console/invitations/{invitation_id}/decision", data={"decision": "accept"}
    )
    assert response.status_code == 302 and "/disclosures/" in response.headers["Location"]
    with unit_of_work(url) as s:
        latest = queries.latest_run(s, brand_id)
        assert latest.id != first_id
        assert s.scalar(select(func.count()).select_from(ScoringRun)) == 2
        score = s.scalars(
            select(SupplierScore).where(
                SupplierScore.run_id == latest.id, SupplierScore.relationship_id == rel_id
            )
        ).one()
        assert score.responded and score.disclosed_group == "disclosed"
        closed = s.get(CorrectiveAction, before[NOT_DISCLOSED_ITEM].id)
        assert closed.status == ActionStatus.DONE
        assert closed.closed_by_run_id == latest.id
        assert closed.lock_version == before[NOT_DISCLOSED_ITEM].lock_version + 1


def test_a_non_responder_has_one_action_until_it_responds(scored):
    """One "answer the questionnaire" action per non-responder; the run after its response
    closes it and opens the actions of the items it still loses points on."""
    url, _settings, brand_id, first_id = scored
    with unit_of_work(url) as s:
        first = s.get(ScoringRun, first_id)
        silent = s.scalars(
            select(SupplierScore).where(
                SupplierScore.run_id == first_id, SupplierScore.responded.is_(False)
            )
        ).all()
        assert silent
        for score in silent:
            live = [
                a
                for a in queries.actions_for(s, brand_id, score.relationship_id)
                if a.status == ActionStatus.OPEN
            ]
            assert [(a.item, a.action_code) for a in live] == [
                (NOT_DISCLOSED_ITEM, NOT_DISCLOSED_ACTION)
            ]
            assert live[0].points_at_stake == pytest.approx(100 - score.composite, abs=0.01)
            assert live[0].opened_by_run_id == first_id
        pending = sb.pending_invitation(s, first.brand)
        rel_id = pending.relationship_id
        (waiting,) = [
            a for a in queries.actions_for(s, brand_id, rel_id) if a.status == ActionStatus.OPEN
        ]
        waiting_id, waiting_lock = waiting.id, waiting.lock_version
        responses.accept(s, pending, user_id=None)
    with unit_of_work(url) as s:
        second_id = run_scoring(s, brand_id=brand_id, year=sb.YEAR).id
    with unit_of_work(url) as s:
        done = s.get(CorrectiveAction, waiting_id)
        assert (done.status, done.closed_by_run_id) == (ActionStatus.DONE, second_id)
        assert done.lock_version == waiting_lock + 1
        opened = [
            a for a in queries.actions_for(s, brand_id, rel_id) if a.status == ActionStatus.OPEN
        ]
        assert opened and all(a.opened_by_run_id == second_id for a in opened)
        assert NOT_DISCLOSED_ACTION not in {a.action_code for a in opened}
        assert len({a.item for a in opened}) == len(opened)
        # a run with nothing new leaves it closed and opens nothing twice
        third_id = run_scoring(s, brand_id=brand_id, year=sb.YEAR).id
        s.flush()
        again = [
            a for a in queries.actions_for(s, brand_id, rel_id) if a.status == ActionStatus.OPEN
        ]
        assert sorted(a.id for a in again) == sorted(a.id for a in opened)
        assert s.get(CorrectiveAction, waiting_id).closed_by_run_id == second_id != third_id


def test_per_item_respond_actions_of_earlier_runs_are_closed(scored):
    """Actions stored before a non-responder had one action are closed by the next run."""
    url, _settings, brand_id, first_id = scored
    with unit_of_work(url) as s:
        rel_id, supplier_id = s.execute(
            select(SupplierScore.relationship_id, SupplierScore.supplier_id).where(
                SupplierScore.run_id == first_id, SupplierScore.responded.is_(False)
            )
        ).first()
        old = CorrectiveAction(
            brand_id=brand_id,
            relationship_id=rel_id,
            supplier_id=supplier_id,
            item="trend",
            dimension="emissions",
            action_code=NOT_DISCLOSED_ACTION,
            params={},
            points_at_stake=8.24,
            status=ActionStatus.OPEN,
            opened_by_run_id=first_id,
        )
        s.add(old)
        s.flush()
        old_id = old.id
    with unit_of_work(url) as s:
        second_id = run_scoring(s, brand_id=brand_id, year=sb.YEAR).id
    with unit_of_work(url) as s:
        closed = s.get(CorrectiveAction, old_id)
        assert (closed.status, closed.closed_by_run_id) == (ActionStatus.DONE, second_id)
        live = [
            a.item
            for a in queries.actions_for(s, brand_id, rel_id)
            if a.status == ActionStatus.OPEN
        ]
        assert live == [NOT_DISCLOSED_ITEM]


def _break_item_inserts(url: str) -> None:
    """A real database failure half-way through a run: score items cannot be written."""
    with get_engine(url).begin() as conn:
        if url.startswith("sqlite"):
            conn.execute(
                text(
                    "CREATE TRIGGER no_items BEFORE INSERT ON score_item "
                    "BEGIN SELECT RAISE(ABORT, 'score items refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_items() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'score items refused'; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER no_items BEFORE INSERT ON score_item "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_items()"
                )
            )


def test_failed_job_leaves_the_previous_run_intact(scored):
    url, settings, brand_id, first_id = scored
    with unit_of_work(url) as s:
        scores_before = _scores(s, first_id)
        actions_before = _actions(s, brand_id)
        # the brand gains a supplier, so a run that got through would open actions
        sup = builders.supplier(s, "Newcomer Ltd")
        builders.relationship(s, s.get(ScoringRun, first_id).brand, sup, "NEW-1")
    _break_item_inserts(url)
    job = submit_scoring(url, None, brand_id=brand_id, year=sb.YEAR)
    assert job.status == JobStatus.FAILED
    assert "score items refused" in job.error
    with unit_of_work(url) as s:
        assert s.scalar(select(func.count()).select_from(ScoringRun)) == 1
        assert queries.latest_run(s, brand_id).id == first_id
        assert s.scalar(select(func.count()).select_from(SupplierScore)) == len(scores_before)
        assert _scores(s, first_id) == scores_before
        assert _actions(s, brand_id) == actions_before


def test_a_scoring_failure_after_an_api_accept_keeps_the_accept(scored, caplog):
    url, settings, brand_id, first_id = scored
    with unit_of_work(url) as s:
        brand = s.get(ScoringRun, first_id).brand
        pending = sb.pending_invitation(s, brand)
        invitation_id = str(pending.public_id)
        buyer = s.scalars(select(User).where(User.email == "buyer@acme.example")).one()
        key = create_api_key(s, buyer, brand, "ERP")[1]
    _break_item_inserts(url)
    app = create_app(
        {"TESTING": True, "database_url": url, "instance_path": settings.instance_path}
    )
    with caplog.at_level(logging.INFO, logger="scoring.service"):
        response = app.test_client().post(
            f"/api/v1/invitations/{invitation_id}/accept",
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 201, response.get_json()
    with unit_of_work(url) as s:
        assert (
            s.scalars(
                select(Invitation.status).where(Invitation.public_id == pending.public_id)
            ).one()
            == InvitationStatus.ACCEPTED
        )
        assert s.scalar(select(func.count()).select_from(ScoringRun)) == 1
        job = s.scalars(select(JobRecord).where(JobRecord.kind == "scoring.run")).one()
        assert job.status == JobStatus.FAILED and "score items refused" in job.error
    assert any(
        r.levelno == logging.INFO and "after an accept" in r.getMessage() for r in caplog.records
    )


def test_responders_are_compared_on_their_footprint_cradle_to_gate(scored):
    """Methodology 1.1 end to end: with a footprint run of the year, a responder's stored
    intensity is its node's cradle-to-gate total over its revenue, not its Scope 1 + 2, and
    its intensity item names that basis."""
    url, _settings, brand_id, run_id = scored
    with unit_of_work(url) as s:
        run = s.get(ScoringRun, run_id)
        assert run.methodology_version == "1.1"
        inputs = gather_inputs(s, brand_id, run.reporting_year, load_methodology())
        frame = inputs.frame.set_index("relationship_id")
        rows = s.execute(
            select(SupplierScore, ScoreItem.reason, ScoreItem.params)
            .join(ScoreItem, ScoreItem.score_id == SupplierScore.id)
            .where(SupplierScore.run_id == run_id, ScoreItem.item == "intensity_vs_sector")
        ).all()
        compared = 0
        for score, reason, params in rows:
            row = frame.loc[score.relationship_id]
            if not score.responded:
                assert reason == "not_disclosed" and score.intensity is None
                continue
            compared += 1
            assert (reason, params["basis"]) == ("intensity_ratio", "cradle_to_gate")
            assert score.intensity == pytest.approx(row["cradle_to_gate_kg"] / row["revenue"])
            assert score.intensity > row["scope12_intensity"]  # the upstream counts
        assert compared == 4
        assert not any("Scope 1 + 2 only" in w for w in inputs.warnings)


def test_cli_scores_as_a_job_and_reports_the_bands(scored, monkeypatch):
    url, settings, brand_id, _first_id = scored
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(settings.instance_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    from supplychain.cli import main

    result = CliRunner().invoke(main, ["score", "--brand", "acme", "--year", str(sb.YEAR)])
    assert result.exit_code == 0, result.output
    assert "acme 2025: 8 suppliers scored under methodology 1.1" in result.output
    assert "; 4 disclosed, 4 not disclosed" in result.output
    with unit_of_work(url) as s:
        latest = queries.latest_run(s, brand_id)
        assert f"run {latest.public_id}" in result.output
        counts = latest.summary["bands"]
        expected = ", ".join(
            f"{counts.get(b, 0)} {b}" for b in ("approved", "conditional", "rejected")
        )
        assert expected in result.output
    unknown = CliRunner().invoke(main, ["score", "--brand", "nobody", "--year", "2025"])
    assert unknown.exit_code == 1 and "nobody" in unknown.output


def test_concurrent_runs_keep_one_live_action_per_item(postgres_url, tmp_path):
    """Two re-scores at once (two accepts, or an accept and the CLI) on PostgreSQL: the second
    waits for the first, so the new supplier's actions are opened once, not twice."""
    settings = load_settings(database_url=postgres_url, instance_path=tmp_path / "instance")
    with unit_of_work(postgres_url) as s:
        brand, _run = sb.scored_brand(s, settings, "acme")
        newcomer = builders.supplier(s, "Newcomer Ltd")
        rel_id = builders.relationship(s, brand, newcomer, "NEW-1").id
        brand_id = brand.id
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def score() -> None:
        try:
            start.wait()
            with unit_of_work(postgres_url) as s:
                run_scoring(s, brand_id=brand_id, year=sb.YEAR)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=score) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with unit_of_work(postgres_url) as s:
        assert s.scalar(select(func.count()).select_from(ScoringRun)) == 3
        live = [
            (a[1], a[2])
            for a in _actions(s, brand_id)
            if a[3] in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
        ]
        assert len(live) == len(set(live))
        assert any(rel == rel_id for rel, _item in live)


def test_console_edits_go_through_the_service(scored):
    """update_action: one edit per version, other brands' ids not found; save_settings audits."""
    url, _settings, brand_id, _first_id = scored
    with unit_of_work(url) as s:
        action = queries.actions_for(s, brand_id, open_only=True)[0]
        action_id, lock = str(action.public_id), action.lock_version
        saved = update_action(
            s,
            brand_id=brand_id,
            action_public_id=action_id,
            expected_lock=lock,
            status="in_progress",
            due_date=None,
            note="  call them  ",
            user_id=None,
        )
        assert (saved.status, saved.note, saved.lock_version) == (
            ActionStatus.IN_PROGRESS,
            "call them",
            lock + 1,
        )
    with unit_of_work(url) as s:
        edit = {
            "action_public_id": action_id,
            "expected_lock": lock,
            "status": "dismissed",
            "due_date": None,
            "note": None,
            "user_id": None,
        }
        with pytest.raises(ActionConflict):
            update_action(s, brand_id=brand_id, **edit)
        with pytest.raises(ActionNotFound):
            update_action(s, brand_id=brand_id + 999, **{**edit, "expected_lock": lock + 1})
        row = save_settings(
            s, brand_id=brand_id, overrides={"bands": {"correction_months": 6}}, user_id=None
        )
        assert row.id is not None
    with unit_of_work(url) as s:
        assert s.get(CorrectiveAction, saved.id).status == ActionStatus.IN_PROGRESS
        assert s.scalar(select(ScoringSettings.overrides)) == {"bands": {"correction_months": 6}}
