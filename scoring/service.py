"""Scoring runs: gather a brand's inputs, score them with the engine, store the run.

``run_scoring`` adds one complete :class:`ScoringRun` (scores, items, and the reconciled
corrective actions) to the caller's transaction; nothing is added before the engine has
succeeded, so a failed run leaves the previous one as it was. Runs are append-only: the
console always reads the latest complete run.

Corrective actions are per brand, supplier relationship and rubric item, and live across runs.
A run of the brand's latest scored year reconciles them: an action still open (or in progress)
for an item the supplier still loses points on gets the new points at stake; an item without
one opens a new action (due ``correction_months`` after today for a conditional supplier); an
open action whose item now earns full points is marked done by this run. A supplier that has
not responded has one action, on the pseudo-item ``questionnaire_response`` (see
``scoring.actions``); the run in which it has responded marks that action done and opens the
actions of the items it still loses points on. A dismissed action stays dismissed while its
item still loses points; one marked done by hand whose item still loses points is opened again
as a new action. Scoring a past year leaves actions alone.
"""

from __future__ import annotations

import calendar
import logging
import math
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from supplychain import audit
from supplychain.models import (
    ActionStatus,
    CorrectiveAction,
    Organization,
    OrgKind,
    ScoreItem,
    ScoringRun,
    ScoringSettings,
    SupplierScore,
    utcnow,
)
from supplychain.numbers import finite_or_none
from supplychain.tenancy import NotFound, get_scoped

from .inputs import gather_inputs

__all__ = [
    "ActionConflict",
    "ActionNotFound",
    "ScoringRunError",
    "SettingsConflict",
    "brand_methodology",
    "rescore_after_accept",
    "run_scoring",
    "save_settings",
    "scoring_job",
    "submit_scoring",
    "update_action",
]

log = logging.getLogger(__name__)
MAX_WARNINGS = 200
RISK_LEVELS = ("low", "medium", "high")
LIVE_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.DISMISSED)
SCORE_FLOATS = (
    "composite",
    "emissions_score",
    "targets_score",
    "maturity_score",
    "data_quality_score",
)
INPUT_FLOATS = (
    "dq_score",
    "intensity",
    "sector_intensity",
    "spend",
    "spend_share",
    "contribution_kg",
)


class ScoringRunError(ValueError):
    """A run that cannot be computed; the message says what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.user_message = message


class ActionNotFound(NotFound):
    """No such corrective action for this brand (it may belong to another)."""


class ActionConflict(RuntimeError):
    """Someone saved the action after the version the editor started from; nothing was saved."""

    def __init__(self, action_public_id: str) -> None:
        super().__init__(f"corrective action {action_public_id} was changed by someone else")
        self.action_public_id = action_public_id


class SettingsConflict(RuntimeError):
    """Another save created the brand's settings row first; nothing was saved."""


def jsonable(value: Any) -> Any:
    """Numpy, Decimal and NaN into what JSON columns accept on every database."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | Decimal):
        return finite_or_none(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def brand_methodology(session: Session, brand_id: int):
    """The latest shipped methodology with the brand's saved overrides applied."""
    from .methodology import MethodologyError, load_methodology

    overrides = session.scalar(
        select(ScoringSettings.overrides).where(ScoringSettings.brand_id == brand_id)
    )
    try:
        return load_methodology(overrides=overrides or None)
    except MethodologyError as exc:
        raise ScoringRunError(f"the brand's scoring settings cannot be used: {exc}") from exc


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _score_rows(frame: pd.DataFrame, suppliers: pd.DataFrame, run_id: int) -> list[dict]:
    """One insert row per supplier: the engine's scores next to the inputs they came from."""
    taken = [*INPUT_FLOATS, "target_status"]
    source = frame[["relationship_id", *taken]].rename(
        columns={name: f"input_{name}" for name in taken}
    )
    merged = suppliers.merge(source, on="relationship_id", how="left", validate="one_to_one")
    rows = []
    for rec in merged.to_dict("records"):
        rank = finite_or_none(rec.get("rank"))
        rows.append(
            {
                "run_id": run_id,
                "relationship_id": int(rec["relationship_id"]),
                "supplier_id": int(rec["supplier_id"]),
                "responded": bool(rec["responded"]),
                **{name: float(rec[name]) for name in SCORE_FLOATS},
                "band": str(rec["band"]),
                "disclosed_group": str(rec["disclosed_group"]),
                "rank": None if rank is None else int(rank),
                "maturity_level": str(rec["maturity_level"]),
                "maturity_letter": str(rec["maturity_letter"]),
                "risk_level": str(rec["risk_level"]),
                "capability_level": str(rec["capability_level"]),
                "grid_cell": str(rec["grid_cell"]),
                **{name: finite_or_none(rec[f"input_{name}"]) for name in INPUT_FLOATS},
                "engagement_potential_kg": finite_or_none(rec.get("engagement_potential_kg")),
                "target_status": _text(rec["input_target_status"]),
                "top_items": jsonable(list(rec.get("top_items") or [])),
            }
        )
    return rows


def _summary(frame: pd.DataFrame, suppliers: pd.DataFrame, method, currency: str) -> dict[str, Any]:
    """Counts per band and group, the grid, and the SBTi coverage of the run."""
    joined = suppliers[["relationship_id", "band", "disclosed_group", "grid_cell"]].merge(
        frame[["relationship_id", "spend", "contribution_kg", "target_status"]],
        on="relationship_id",
    )
    bands = {
        group: dict(Counter(joined.loc[joined["disclosed_group"] == group, "band"]))
        for group in ("disclosed", "not_disclosed")
    }
    grid = {}
    for risk in RISK_LEVELS:
        for capability in RISK_LEVELS:
            cell = joined[joined["grid_cell"] == f"{risk}:{capability}"]
            grid[f"{risk}:{capability}"] = {
                "count": len(cell),
                "spend": float(cell["spend"].sum()),
                "contribution_kg": float(cell["contribution_kg"].sum()),
            }
    spend_total = float(joined["spend"].sum())
    kg_total = float(joined["contribution_kg"].sum())
    sbti = {}
    for status in ("sbti_validated", "sbti_committed"):
        chosen = joined[joined["target_status"] == status]
        sbti[status] = {
            "count": len(chosen),
            "spend_share": float(chosen["spend"].sum()) / spend_total if spend_total else None,
            "emissions_share": (
                float(chosen["contribution_kg"].sum()) / kg_total if kg_total else None
            ),
        }
    return jsonable(
        {
            "currency": currency,
            "bands": dict(Counter(joined["band"])),
            "groups": dict(Counter(joined["disclosed_group"])),
            "bands_by_group": bands,
            "grid": grid,
            "spend_total": spend_total,
            "contribution_kg_total": kg_total,
            "sbti": sbti,
            "sbti_target": method.config.get("sbti_target"),
        }
    )


def _insert_items(session: Session, items: pd.DataFrame, score_ids: dict[int, int]) -> None:
    if items.empty:
        return
    session.execute(
        insert(ScoreItem),
        [
            {
                "score_id": score_ids[int(rec["relationship_id"])],
                "dimension": str(rec["dimension"]),
                "item": str(rec["item"]),
                "earned": float(rec["earned"]),
                "possible": float(rec["possible"]),
                "reason": str(rec["reason"]),
                "params": jsonable(rec.get("params") or {}),
            }
            for rec in items.to_dict("records")
        ],
    )


def _full_points(items: pd.DataFrame) -> set[tuple[int, str]]:
    """(relationship, item) pairs that earned every point possible in this run."""
    if items.empty:
        return set()
    # an item that did not apply this time (nothing possible) proves nothing either way
    full = items[(items["possible"] > 0) & (items["earned"] >= items["possible"])]
    return set(zip(full["relationship_id"].astype(int), full["item"].astype(str), strict=True))


def _responded(suppliers: pd.DataFrame) -> set[tuple[int, str]]:
    """(relationship, ``questionnaire_response``) for every supplier that responded this run:
    its one "answer the questionnaire" action is met (it is no engine item, so never earns
    full points itself)."""
    from .actions import NOT_DISCLOSED_ITEM

    answered = suppliers.loc[suppliers["responded"].astype(bool), "relationship_id"]
    return {(int(rel), NOT_DISCLOSED_ITEM) for rel in answered}


def _superseded(action: CorrectiveAction) -> bool:
    """A per-item "answer the questionnaire" action from before those were one action per
    supplier: the supplier's ``questionnaire_response`` action now stands for it."""
    from .actions import NOT_DISCLOSED_ACTION, NOT_DISCLOSED_ITEM

    return action.action_code == NOT_DISCLOSED_ACTION and action.item != NOT_DISCLOSED_ITEM


def _reconcile_actions(
    session: Session,
    run: ScoringRun,
    actions: pd.DataFrame,
    result_items: pd.DataFrame,
    suppliers: pd.DataFrame,
    method,
) -> dict[str, int]:
    """Open, update and close the brand's corrective actions against this run."""
    live: dict[tuple[int, str], CorrectiveAction] = {}
    for action in session.scalars(
        select(CorrectiveAction)
        .where(
            CorrectiveAction.brand_id == run.brand_id,
            CorrectiveAction.status.in_(LIVE_STATUSES),
        )
        .order_by(CorrectiveAction.id)
        .with_for_update()
    ):
        live.setdefault((action.relationship_id, action.item), action)
    band_of = dict(zip(suppliers["relationship_id"].astype(int), suppliers["band"], strict=True))
    supplier_of = dict(
        zip(suppliers["relationship_id"].astype(int), suppliers["supplier_id"], strict=True)
    )
    due = _add_months(date.today(), int(method.bands["correction_months"]))
    counts = {"opened": 0, "updated": 0, "closed": 0}
    wanted: set[tuple[int, str]] = set()
    for rec in actions.to_dict("records"):
        key = (int(rec["relationship_id"]), str(rec["item"]))
        wanted.add(key)
        points = float(rec["points_at_stake"])
        params = jsonable(rec.get("params") or {})
        existing = live.get(key)
        if existing is not None:
            if existing.status != ActionStatus.DISMISSED:
                existing.points_at_stake = points
                existing.params = params
                existing.action_code = str(rec["action_code"])
                counts["updated"] += 1
            continue
        session.add(
            CorrectiveAction(
                brand_id=run.brand_id,
                relationship_id=key[0],
                supplier_id=int(supplier_of[key[0]]),
                item=key[1],
                dimension=str(rec["dimension"]),
                action_code=str(rec["action_code"]),
                params=params,
                points_at_stake=points,
                status=ActionStatus.OPEN,
                due_date=due if band_of.get(key[0]) == "conditional" else None,
                opened_by_run_id=run.id,
            )
        )
        counts["opened"] += 1
    satisfied = _full_points(result_items) | _responded(suppliers)
    for key, action in live.items():
        if key in wanted or action.status == ActionStatus.DISMISSED:
            continue
        if key not in satisfied and not _superseded(action):
            continue
        action.status = ActionStatus.DONE
        action.closed_by_run_id = run.id
        action.lock_version += 1
        counts["closed"] += 1
    return counts


def _is_latest_year(session: Session, brand_id: int, year: int) -> bool:
    later = session.scalar(
        select(func.count())
        .select_from(ScoringRun)
        .where(ScoringRun.brand_id == brand_id, ScoringRun.reporting_year > year)
    )
    return not later


def run_scoring(
    session: Session, *, brand_id: int, year: int, created_by_id: int | None = None
) -> ScoringRun:
    """Score the brand's suppliers for the year and add the complete run to the transaction."""
    from .actions import corrective_actions
    from .engine import score_suppliers

    # one scoring run per brand at a time (PostgreSQL), so actions are reconciled once;
    # NO KEY UPDATE still lets other transactions add rows that refer to the brand
    brand = session.scalars(
        select(Organization).where(Organization.id == brand_id).with_for_update(key_share=True)
    ).first()
    if brand is None or brand.kind != OrgKind.BRAND:
        raise ScoringRunError(f"organisation {brand_id} is not a brand")
    method = brand_methodology(session, brand_id)
    inputs = gather_inputs(session, brand_id, year, method)
    result = score_suppliers(inputs.frame, method)
    actions = corrective_actions(result, method)
    suppliers = result.suppliers

    run = ScoringRun(
        brand_id=brand_id,
        reporting_year=year,
        methodology_version=result.method_version,
        methodology=jsonable(method.to_dict()),
        config_hash=method.config_hash,
        inputs_hash=inputs.inputs_hash(),
        currency=inputs.currency,
        footprint_run_id=inputs.footprint_run_id,
        supplier_count=len(suppliers),
        summary=_summary(inputs.frame, suppliers, method, inputs.currency),
        warnings=inputs.warnings[:MAX_WARNINGS],
        created_by_id=created_by_id,
    )
    session.add(run)
    session.flush()
    score_ids: dict[int, int] = {}
    rows = _score_rows(inputs.frame, suppliers, run.id)
    if rows:
        inserted = session.execute(
            insert(SupplierScore).returning(
                SupplierScore.relationship_id, SupplierScore.id, sort_by_parameter_order=True
            ),
            rows,
        )
        score_ids = {rel_id: score_id for rel_id, score_id in inserted}
    _insert_items(session, result.items, score_ids)
    counts = {"opened": 0, "updated": 0, "closed": 0}
    if _is_latest_year(session, brand_id, year):
        counts = _reconcile_actions(session, run, actions, result.items, suppliers, method)
    run.summary = {**run.summary, "actions": counts}
    audit.record(
        session,
        action="scoring.run",
        entity_type="scoring_run",
        entity_id=str(run.public_id),
        organization_id=brand_id,
        actor_id=created_by_id,
        after={
            "year": year,
            "methodology_version": run.methodology_version,
            "config_hash": run.config_hash,
            "inputs_hash": run.inputs_hash,
            "suppliers": run.supplier_count,
            "actions": counts,
        },
    )
    session.flush()
    return run


def scoring_job(
    session: Session, *, brand_id: int, year: int, created_by_id: int | None = None
) -> dict[str, Any]:
    """Job entry point (``scoring.service:scoring_job``); the job layer commits the run."""
    run = run_scoring(session, brand_id=brand_id, year=year, created_by_id=created_by_id)
    summary = run.summary or {}
    return {
        "run": str(run.public_id),
        "year": run.reporting_year,
        "methodology_version": run.methodology_version,
        "suppliers": run.supplier_count,
        "bands": summary.get("bands", {}),
        "groups": summary.get("groups", {}),
        "actions": summary.get("actions", {}),
        "warnings": len(run.warnings or []),
    }


def submit_scoring(
    database_url: str,
    redis_url: str | None,
    *,
    brand_id: int,
    year: int,
    created_by_id: int | None = None,
):
    """Record and run (inline without Redis, on a worker with it) a scoring job."""
    from supplychain import jobs

    return jobs.submit(
        database_url,
        redis_url,
        "scoring.service:scoring_job",
        kind="scoring.run",
        organization_id=brand_id,
        created_by_id=created_by_id,
        params={"brand_id": brand_id, "year": year, "created_by_id": created_by_id},
    )


def rescore_after_accept(
    database_url: str,
    redis_url: str | None,
    *,
    brand_id: int,
    year: int,
    created_by_id: int | None = None,
) -> None:
    """Re-score a brand once an accepted response has been committed.

    Called after the accept's own transaction: whatever happens here, the accept stands. A
    failure is logged (and recorded on the job) rather than shown to the reviewer.
    """
    try:
        job = submit_scoring(
            database_url, redis_url, brand_id=brand_id, year=year, created_by_id=created_by_id
        )
    except Exception as exc:  # the accept is committed; scoring can be run again later
        log.info("re-scoring brand %s %s after an accept could not start: %s", brand_id, year, exc)
        return
    log.info(
        "re-scoring brand %s %s after an accept: job %s %s",
        brand_id,
        year,
        job.public_id,
        job.status.value,
    )


# --- edits from the console ------------------------------------------------------------------


def _action_state(status: ActionStatus, due_date: date | None, note: str | None) -> dict:
    """What the audit trail records of an action edit."""
    return {
        "status": status.value,
        "due_date": due_date.isoformat() if due_date else None,
        "note": note,
    }


def update_action(
    session: Session,
    *,
    brand_id: int,
    action_public_id: str,
    expected_lock: int,
    status: ActionStatus | str,
    due_date: date | None,
    note: str | None,
    user_id: int | None,
) -> CorrectiveAction:
    """Set a corrective action's status, due date and note, with an audit record.

    One conditional UPDATE on ``lock_version``: it applies only if nobody saved since the editor
    read ``expected_lock``, so two people editing one action never overwrite each other (also
    under concurrent transactions). Raises :class:`ActionNotFound` for an id outside the brand
    and :class:`ActionConflict` when the version moved on; the caller commits or rolls back.
    """
    try:
        action = get_scoped(session, CorrectiveAction, action_public_id, brand_id)
    except NotFound as exc:
        raise ActionNotFound(str(action_public_id)) from exc
    new_status = ActionStatus(status)
    new_note = (note or "").strip() or None
    before = _action_state(action.status, action.due_date, action.note)
    after = _action_state(new_status, due_date, new_note)
    result = session.execute(
        update(CorrectiveAction)
        .where(CorrectiveAction.id == action.id, CorrectiveAction.lock_version == expected_lock)
        .values(
            status=new_status,
            due_date=due_date,
            note=new_note,
            lock_version=expected_lock + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise ActionConflict(str(action.public_id))
    audit.record(
        session,
        action="scoring.action_update",
        entity_type="corrective_action",
        entity_id=str(action.public_id),
        organization_id=action.brand_id,
        actor_id=user_id,
        before=before,
        after=after,
    )
    session.refresh(action)
    return action


def save_settings(
    session: Session, *, brand_id: int, overrides: dict[str, Any], user_id: int | None
) -> ScoringSettings:
    """Store the brand's methodology overrides (one row per brand), with an audit record.

    They take effect at the next scoring run; validate them with ``load_methodology`` first.
    When a concurrent save created the row first, the transaction is rolled back and
    :class:`SettingsConflict` raised, so the person saving can look again; the caller commits.
    """
    from .queries import scoring_settings

    row = scoring_settings(session, brand_id)
    before = dict(row.overrides or {}) if row is not None else None
    if row is None:
        row = ScoringSettings(brand_id=brand_id)
        session.add(row)
    row.overrides = overrides
    row.updated_by_id = user_id
    audit.record(
        session,
        action="scoring.settings",
        entity_type="scoring_settings",
        entity_id=None,
        organization_id=brand_id,
        actor_id=user_id,
        before=before,
        after=overrides,
    )
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise SettingsConflict(
            f"the scoring settings of brand {brand_id} were saved meanwhile"
        ) from exc
    return row
