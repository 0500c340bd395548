"""Procurement console for supplier scores: ranking, scorecards, the risk × capability grid,
corrective actions and the brand's scoring settings.

Views parse the request and render what `scoring.queries` reads; edits (corrective actions,
settings) go through `scoring.service`, which writes them with their audit records, and the
view commits; a scoring run is a job (`scoring.service.submit_scoring`). Brand admins,
procurement and sustainability users see the scores; admins and procurement edit corrective
actions (optimistic locking on `lock_version`, so two people editing one action never overwrite
each other); only admins change the settings, which take effect at the next scoring run.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from scoring import queries
from scoring import service as scoring_service
from scoring.methodology import MethodologyError, load_methodology
from scoring.service import ScoringRunError, brand_methodology, submit_scoring
from supplychain import jobs
from supplychain.models import (
    ActionStatus,
    CorrectiveAction,
    JobRecord,
    JobStatus,
    Role,
)
from supplychain.tenancy import NotFound, get_scoped, parse_public_id, scoped
from web import get_db, get_settings
from web.auth import BRAND_ROLES, current_org_id, roles_required
from web.footprint import year_choices as footprint_years
from web.scoring_labels import ACTION_STATUS_LABELS, BAND_LABELS
from web.scoring_labels import template_helpers as scoring_helpers

bp = Blueprint("scoring", __name__, url_prefix="/console/scores")

ACTION_ROLES = (Role.ADMIN, Role.PROCUREMENT)
SETTINGS_ROLES = (Role.ADMIN,)
JOB_KIND = "scoring.run"
PER_PAGE = 50
NOTE_MAX = 2000
# Ranking filters read from the query string (a value that cannot be read is ignored).
TEXT_FILTERS = ("band", "category", "country", "grid_cell", "risk_level", "capability_level")
NUMBER_FILTERS = ("spend_min", "spend_max", "score_min", "score_max", "dq_min", "dq_max")
# The insight pages (web/scoring_insights.py) linked from this section's navigation.
INSIGHT_LINKS = (
    ("scoring_insights.engagement", lazy_gettext("Engagement priority")),
    ("scoring_insights.sbti", lazy_gettext("SBTi engagement")),
    ("scoring_insights.compare", lazy_gettext("Award comparison")),
)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        **scoring_helpers(),
        "grid_levels": queries.GRID_LEVELS,
        "band_choices": list(BAND_LABELS),
        "action_statuses": list(ACTION_STATUS_LABELS),
        "can_edit_actions": _has_role(ACTION_ROLES),
        "can_change_settings": _has_role(SETTINGS_ROLES),
        "insight_links": [
            (endpoint, label)
            for endpoint, label in INSIGHT_LINKS
            if endpoint in current_app.view_functions
        ],
        "note_max": NOTE_MAX,
    }


def _has_role(roles: tuple[Role, ...]) -> bool:
    membership = getattr(g, "membership", None)
    return membership is not None and membership.role in roles


# --- forms -----------------------------------------------------------------------------------


def _percent(label: str, *, low: float = 0, high: float = 100) -> DecimalField:
    return DecimalField(
        label,
        places=None,
        validators=[
            InputRequired(message=lazy_gettext("Enter a number.")),
            NumberRange(
                min=low,
                max=high,
                message=lazy_gettext("Enter a number from %(min)s to %(max)s."),
            ),
        ],
    )


class SettingsForm(FlaskForm):
    """A brand's overrides of the shipped methodology: weights, bands, SBTi goal."""

    weight_emissions = _percent(lazy_gettext("Emissions performance"))
    weight_targets = _percent(lazy_gettext("Targets"))
    weight_maturity = _percent(lazy_gettext("Management maturity"))
    weight_data_quality = _percent(lazy_gettext("Data quality"))
    approved_min = _percent(lazy_gettext("Approved from (score)"))
    conditional_min = _percent(lazy_gettext("Conditional from (score)"))
    correction_months = IntegerField(
        lazy_gettext("Correction period for conditional suppliers (months)"),
        validators=[
            InputRequired(message=lazy_gettext("Enter a whole number of months.")),
            NumberRange(
                min=1, max=36, message=lazy_gettext("Enter a number of months from 1 to 36.")
            ),
        ],
    )
    approve_without_disclosure = BooleanField(
        lazy_gettext("Suppliers without a response can be approved on secondary data")
    )
    sbti_share = _percent(lazy_gettext("SBTi engagement goal: share of Category 1 emissions (%)"))
    sbti_year = IntegerField(
        lazy_gettext("SBTi engagement goal: by the year"),
        validators=[
            InputRequired(message=lazy_gettext("Enter a year.")),
            NumberRange(
                min=2000, max=2100, message=lazy_gettext("Enter a year from 2000 to 2100.")
            ),
        ],
    )

    WEIGHTS = {
        "emissions": "weight_emissions",
        "targets": "weight_targets",
        "maturity": "weight_maturity",
        "data_quality": "weight_data_quality",
    }

    def validate_weight_data_quality(self, field: DecimalField) -> None:
        weights = [getattr(self, name).data for name in self.WEIGHTS.values()]
        if all(w is not None for w in weights) and sum(weights) <= 0:
            raise ValidationError(_("At least one weight must be above 0."))

    def validate_conditional_min(self, field: DecimalField) -> None:
        approved = self.approved_min.data
        if approved is not None and field.data is not None and field.data >= approved:
            raise ValidationError(
                _("The conditional threshold must be below the approved threshold.")
            )

    def overrides(self) -> dict[str, Any]:
        """The settings as stored in `ScoringSettings.overrides` (weights are relative)."""
        return {
            "weights": {dim: float(getattr(self, name).data) for dim, name in self.WEIGHTS.items()},
            "bands": {
                "approved_min": float(self.approved_min.data),
                "conditional_min": float(self.conditional_min.data),
                "correction_months": int(self.correction_months.data),
                "approve_without_disclosure": bool(self.approve_without_disclosure.data),
            },
            "sbti_target": {
                "share": float(self.sbti_share.data) / 100,
                "year": int(self.sbti_year.data),
            },
        }

    def fill(self, config: dict[str, Any]) -> None:
        """Show an effective configuration (weights as percentages of the composite)."""
        for dim, name in self.WEIGHTS.items():
            getattr(self, name).data = round(config["weights"][dim] * 100, 1)
        bands = config["bands"]
        self.approved_min.data = bands["approved_min"]
        self.conditional_min.data = bands["conditional_min"]
        self.correction_months.data = bands["correction_months"]
        self.approve_without_disclosure.data = bands["approve_without_disclosure"]
        self.sbti_share.data = round(config["sbti_target"]["share"] * 100, 1)
        self.sbti_year.data = config["sbti_target"]["year"]


class ActionForm(FlaskForm):
    """One corrective action's deadline, progress and note, against the version it was read at."""

    status = SelectField(
        lazy_gettext("Status"),
        choices=[s.value for s in ActionStatus],
        validators=[InputRequired(message=lazy_gettext("Choose a status."))],
    )
    due_date = DateField(
        lazy_gettext("Due date"),
        validators=[Optional()],
    )
    note = TextAreaField(
        lazy_gettext("Note"),
        validators=[
            Length(max=NOTE_MAX, message=lazy_gettext("Keep the note under %(max)d characters."))
        ],
    )
    lock_version = HiddenField(validators=[InputRequired()])

    def validate_due_date(self, field: DateField) -> None:
        if field.data is not None and not date(2000, 1, 1) <= field.data <= date(2100, 12, 31):
            raise ValidationError(_("Choose a due date between 2000 and 2100."))

    def expected_lock(self) -> int | None:
        try:
            return int(self.lock_version.data)
        except (TypeError, ValueError):
            return None


# --- request parsing -------------------------------------------------------------------------


def _year_arg() -> int | None:
    year = request.args.get("year", type=int)
    return year if year is not None and 1990 <= year <= 2100 else None


def _number_arg(name: str) -> float | None:
    value = request.args.get(name, type=float)
    return value if value is not None and abs(value) < 1e15 else None


def _filters() -> tuple[queries.RankingFilters, dict[str, Any]]:
    """The ranking filters of the query string, and the same as URL arguments for links."""
    values: dict[str, Any] = {}
    for name in TEXT_FILTERS:
        value = (request.args.get(name) or "").strip()
        if value:
            values[name] = value.upper() if name == "country" else value
    tier = request.args.get("tier", type=int)
    if tier is not None and 1 <= tier <= 10:
        values["tier"] = tier
    for name in NUMBER_FILTERS:
        number = _number_arg(name)
        if number is not None:
            values[name] = number
    search = (request.args.get("q") or "").strip()
    if search:
        values["search"] = search[:200]
    args = {("q" if k == "search" else k): v for k, v in values.items()}
    return queries.RankingFilters(**values), args


def _page_arg(name: str) -> int:
    page = request.args.get(name, 1, type=int)
    return min(max(page or 1, 1), 1_000_000)


# --- ranking, grid, scorecard ----------------------------------------------------------------


def _last_job(db, brand_id: int) -> JobRecord | None:
    return db.scalars(
        scoped(JobRecord, brand_id)
        .where(JobRecord.kind == JOB_KIND)
        .order_by(JobRecord.id.desc())
        .limit(1)
    ).first()


def _job_state(db, brand_id: int) -> dict[str, Any]:
    """Whether a scoring job is still running (the page refreshes) or the last one failed."""
    job = _last_job(db, brand_id)
    if job is None:
        return {"pending": False, "failed_job": None}
    settings = get_settings()
    jobs.fail_if_dead(db, settings.database_url, settings.redis_url, job)
    return {
        "pending": job.status in (JobStatus.QUEUED, JobStatus.RUNNING),
        "failed_job": job if job.status == JobStatus.FAILED else None,
    }


def _years(db, brand_id: int) -> list[int]:
    """Years with a scoring run, and years the brand has data for, newest first."""
    scored = {run.reporting_year for run in queries.latest_runs_by_year(db, brand_id)}
    return sorted(scored | set(footprint_years(db, brand_id)), reverse=True)


@bp.route("")
@roles_required(*BRAND_ROLES)
def ranking():
    """The latest run's suppliers: disclosed ones ranked, the not-disclosed group below."""
    db = get_db()
    brand_id = current_org_id()
    year = _year_arg()
    run = queries.latest_run(db, brand_id, year)
    filters, filter_args = _filters()
    sort = request.args.get("sort", "rank")
    if sort not in queries.SORTS:
        sort = "rank"
    descending = request.args.get("dir") == "desc"
    group = request.args.get("group")
    disclosed = not_disclosed = None
    categories: list[str] = []
    if run is not None:
        categories = queries.score_categories(db, run)
        for name in ("disclosed", "not_disclosed"):
            if group in ("disclosed", "not_disclosed") and group != name:
                continue
            page = queries.ranking(
                db,
                run,
                filters=replace(filters, disclosed_group=name),
                sort=sort,
                descending=descending,
                page=_page_arg("page" if name == "disclosed" else "npage"),
                per_page=PER_PAGE,
            )
            if name == "disclosed":
                disclosed = page
            else:
                not_disclosed = page
    return render_template(
        "scoring/ranking.html",
        run=run,
        disclosed=disclosed,
        not_disclosed=not_disclosed,
        filters=filters,
        filter_args=filter_args,
        group=group if group in ("disclosed", "not_disclosed") else None,
        sort=sort,
        descending=descending,
        categories=categories,
        years=_years(db, brand_id),
        scored_years=[r.reporting_year for r in queries.latest_runs_by_year(db, brand_id)],
        selected_year=run.reporting_year if run else year,
        **_job_state(db, brand_id),
    )


@bp.route("/grid")
@roles_required(*BRAND_ROLES)
def grid():
    """Risk × capability: how many suppliers and how much spend in each of the nine cells."""
    db = get_db()
    brand_id = current_org_id()
    run = queries.latest_run(db, brand_id, _year_arg())
    cells = {cell.cell: cell for cell in queries.grid(db, run)} if run else {}
    return render_template(
        "scoring/grid.html",
        run=run,
        cells=cells,
        total=sum(cell.count for cell in cells.values()),
        years=_years(db, brand_id),
    )


def _scorecard(relationship_id: str) -> queries.Scorecard:
    card = queries.scorecard(
        get_db(), current_org_id(), parse_public_id(relationship_id), year=_year_arg()
    )
    if card is None:
        raise NotFound(relationship_id)
    return card


def _render_scorecard(
    card: queries.Scorecard,
    *,
    status: int = 200,
    forms: dict[int, ActionForm] | None = None,
    conflict: CorrectiveAction | None = None,
):
    forms = dict(forms or {})
    for action in card.actions:
        if action.id not in forms:
            form = ActionForm(formdata=None, obj=action)
            form.status.data = action.status.value
            form.lock_version.data = str(action.lock_version)
            forms[action.id] = form
    weights = (card.run.methodology or {}).get("weights", {}) if card.run else {}
    items_by_dimension: dict[str, list] = {}
    for item in card.items:
        items_by_dimension.setdefault(item.dimension, []).append(item)
    return render_template(
        "scoring/scorecard.html",
        card=card,
        weights=weights,
        items_by_dimension=items_by_dimension,
        forms=forms,
        conflict=conflict,
    ), status


@bp.route("/suppliers/<relationship_id>")
@roles_required(*BRAND_ROLES)
def scorecard(relationship_id: str):
    """One supplier: dimension scores, every item with its reason, history and actions."""
    return _render_scorecard(_scorecard(relationship_id))


# --- corrective actions ----------------------------------------------------------------------


@bp.route("/actions/<action_id>", methods=["POST"])
@roles_required(*ACTION_ROLES)
def update_action(action_id: str):
    """Set an action's due date, status and note; a stale `lock_version` answers 409."""
    db = get_db()
    action = get_scoped(db, CorrectiveAction, action_id, current_org_id())
    relationship_id = str(action.supplier_relationship.public_id)
    form = ActionForm()
    expected = form.expected_lock()
    if not form.validate() or expected is None:
        flash(_("The action was not saved: check the highlighted fields."), "error")
        card = _scorecard(relationship_id)
        return _render_scorecard(card, status=400, forms={action.id: form})
    try:
        scoring_service.update_action(
            db,
            brand_id=current_org_id(),
            action_public_id=action_id,
            expected_lock=expected,
            status=form.status.data,
            due_date=form.due_date.data,
            note=form.note.data,
            user_id=g.user.id,
        )
    except scoring_service.ActionConflict:
        db.rollback()
        card = _scorecard(relationship_id)
        current = next((a for a in card.actions if a.id == action.id), None)
        return _render_scorecard(card, status=409, conflict=current)
    db.commit()
    flash(_("The corrective action has been saved."), "info")
    return redirect(
        url_for("scoring.scorecard", relationship_id=relationship_id, _anchor="actions")
    )


# --- scoring runs and settings ---------------------------------------------------------------


@bp.route("/run", methods=["POST"])
@roles_required(*BRAND_ROLES)
def run_now():
    """Submit a scoring run for a year as a job: inline without Redis, on a worker with it."""
    year = request.form.get("year", type=int)
    back = request.form.get("back")
    target = "scoring.settings" if back == "settings" else "scoring.ranking"
    if year is None or not 1990 <= year <= 2100:
        flash(_("Choose a reporting year."), "error")
        return redirect(url_for(target))
    settings = get_settings()
    job = submit_scoring(
        settings.database_url,
        settings.redis_url,
        brand_id=current_org_id(),
        year=year,
        created_by_id=g.user.id,
    )
    if job.status == JobStatus.FINISHED:
        flash(_("Suppliers scored for %(year)d.", year=year), "info")
    elif job.status == JobStatus.FAILED:
        reason = (job.error or "").split("\n\n")[0]
        flash(_("The scoring run failed: %(reason)s", reason=reason), "error")
    else:
        flash(_("The scoring run has been queued; the scores appear here when it is done."))
    return redirect(url_for("scoring.ranking", year=year))


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(*SETTINGS_ROLES)
def settings():
    """Weights, band thresholds and correction period; saving does not re-score by itself."""
    db = get_db()
    brand_id = current_org_id()
    form = SettingsForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            overrides = form.overrides()
            try:
                load_methodology(overrides=overrides)
            except MethodologyError as exc:
                form.form_errors.append(str(exc))
            else:
                try:
                    scoring_service.save_settings(
                        db, brand_id=brand_id, overrides=overrides, user_id=g.user.id
                    )
                except scoring_service.SettingsConflict:
                    form.form_errors.append(
                        _("Someone else saved the settings just now; check them and save again.")
                    )
                else:
                    db.commit()
                    flash(
                        _(
                            "Scoring settings saved. Scores change at the next scoring run: "
                            "re-score now to apply them."
                        ),
                        "info",
                    )
                    return redirect(url_for("scoring.settings", saved=1))
        status = 400
    else:
        try:
            form.fill(brand_methodology(db, brand_id).config)
        except ScoringRunError as exc:
            form.fill(load_methodology().config)
            form.form_errors.append(exc.user_message)
    run = queries.latest_run(db, brand_id)
    return render_template(
        "scoring/settings.html",
        form=form,
        run=run,
        saved=request.args.get("saved") == "1",
        years=_years(db, brand_id),
        shipped=load_methodology().config,
    ), status
