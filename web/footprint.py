"""Brand console for multi-tier footprint runs: the latest result, older runs, and "run now".

A run is computed as a job and stored in one transaction, so this page always shows the
latest *completed* run, with its provenance, while a newer one may still be computing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import format_percent, lazy_gettext
from flask_babel import gettext as _
from sqlalchemy import func, select

from supplychain import jobs
from supplychain.footprint.storage import latest_run, run_hotspots, run_paths
from supplychain.models import (
    Disclosure,
    FootprintRun,
    JobRecord,
    JobStatus,
    SpendLine,
    SupplyEdge,
)
from supplychain.tenancy import get_scoped, scoped
from web import get_db, get_settings
from web.auth import BRAND_ROLES, current_org_id, roles_required
from web.labels import format_magnitude

bp = Blueprint("footprint", __name__, url_prefix="/console")

JOB_KIND = "footprint.run"
JOB_FUNCTION = "supplychain.footprint.storage:footprint_run_job"
DEFAULT_DATASET = ("starter", None)
HOTSPOT_LIMIT = 20
HISTORY_LIMIT = 10

METHOD_LABELS = {
    "supplier_specific": lazy_gettext("Supplier-specific"),
    "hybrid": lazy_gettext("Hybrid"),
    "spend_based": lazy_gettext("Spend-based"),
    "average_data": lazy_gettext("Average data"),
    "covered_by_factor": lazy_gettext("Covered by a sector factor"),
    "covered_by_product": lazy_gettext("Covered by a product footprint"),
    "no_data": lazy_gettext("No data"),
}
PATH_SOURCE_LABELS = {
    "own": lazy_gettext("reported emissions"),
    "spend_based": lazy_gettext("spend-based estimate"),
    "product": lazy_gettext("product footprint"),
    "average_data": lazy_gettext("average-data estimate"),
}
GAP_METHOD_LABELS = {
    "disclosed-upstream": lazy_gettext("from the disclosed upstream emissions"),
    "purchased-spend": lazy_gettext("spend-based estimate of the disclosed purchases"),
    "hybrid-estimated-upstream": lazy_gettext("default estimate from the sector, data quality 5"),
}
MARGINS_LABELS = {
    "include": lazy_gettext("with margins"),
    "exclude": lazy_gettext("without transport, wholesale and retail margins"),
}
DQ_BASIS_LABELS = {
    "reported, verified": lazy_gettext("reported, verified"),
    "reported": lazy_gettext("reported"),
    "computed from activity data": lazy_gettext("computed from activity data"),
}


def format_tonnes(kg: Decimal | float | None) -> str:
    """kg CO2e shown as tonnes, with fewer decimals the larger the number."""
    if kg is None:
        return "–"
    return format_magnitude(float(kg) / 1000)


def format_share(value: float | None) -> str:
    return "–" if value is None else format_percent(value, format="#,##0.0%")


def path_source_label(source: str) -> str:
    """What a path's last step is: reported emissions, an estimate, or a supplier's upstream gap."""
    if source in GAP_METHOD_LABELS:
        return str(_("upstream gap (%(how)s)", how=GAP_METHOD_LABELS[source]))
    return str(PATH_SOURCE_LABELS.get(source, source))


def method_label(method: str | None) -> str:
    return str(METHOD_LABELS.get(method or "", method or ""))


def source_label(provenance: dict[str, Any] | None) -> str:
    """Where a supplier's number came from, in words: disclosure or the factor behind it."""
    prov = provenance or {}
    kind = prov.get("data_source")
    if kind == "disclosure":
        basis = prov.get("dq_basis")
        text = _("Disclosure %(year)s", year=prov.get("reporting_year", ""))
        return f"{text} · {DQ_BASIS_LABELS.get(basis, basis)}" if basis else text
    if kind == "spend_based" and prov.get("dataset"):
        return _(
            "Spend-based: %(dataset)s %(version)s, factor %(codes)s",
            dataset=prov["dataset"],
            version=prov.get("dataset_version", ""),
            codes=", ".join(prov.get("factor_codes") or []) or "?",
        )
    return _("No data")


def margins_label(price_basis: str | None) -> str:
    """A run's factor boundary in words; runs stored before the margins option read alike."""
    import spend_factors

    try:
        key = spend_factors.margins_option(price_basis)
    except ValueError:
        return price_basis or ""
    return str(MARGINS_LABELS.get(key, key))


def parts_label(provenance: dict[str, Any] | None) -> str:
    """A reporting supplier's cradle-to-gate split into own, allocated upstream and gap."""
    parts = (provenance or {}).get("parts")
    if not parts or parts.get("own_kg") is None:
        return ""
    text = _(
        "Cradle-to-gate: own %(own)s, allocated upstream %(upstream)s, gap %(gap)s t CO2e",
        own=format_tonnes(parts["own_kg"]),
        upstream=format_tonnes(parts.get("upstream_allocated_kg") or 0),
        gap=format_tonnes(parts.get("gap_kg") or 0),
    )
    method = parts.get("gap_method")
    return f"{text} ({GAP_METHOD_LABELS.get(method, method)})" if method else text


def breakdown_label(kind: str, key: str) -> str:
    if kind == "by_tier":
        return _("Tier %(tier)s", tier=key) if key else _("Tier unknown")
    if kind == "by_method":
        return method_label(key)
    return key or _("Uncategorised")


def year_choices(db, brand_id: int) -> list[int]:
    """Years the brand has ledger lines, tier-n links or disclosures for (newest first)."""
    years: set[int] = set()
    first, last = db.execute(
        select(func.min(SpendLine.spend_date), func.max(SpendLine.spend_date)).where(
            SpendLine.brand_id == brand_id
        )
    ).one()
    if first is not None and last is not None:
        years |= set(range(first.year, last.year + 1))
    years |= set(db.scalars(select(SupplyEdge.year).where(SupplyEdge.brand_id == brand_id)))
    years |= set(
        db.scalars(select(Disclosure.reporting_year).where(Disclosure.brand_id == brand_id))
    )
    if not years:
        this_year = date.today().year
        years = {this_year - 1, this_year}
    return sorted(years, reverse=True)


def _dataset_choices() -> list[tuple[str, str]]:
    """``name|version`` values and labels of the factor datasets a run can use."""
    import spend_factors

    try:
        datasets = spend_factors.list_datasets(get_settings().factor_store_path)
    except Exception:  # an unreadable store must not take the page down
        datasets = [spend_factors.starter_dataset().metadata]
    return [(f"{m.name}|{m.version}", f"{m.name} {m.version}") for m in datasets]


def _last_job(db, brand_id: int) -> JobRecord | None:
    return db.scalars(
        scoped(JobRecord, brand_id)
        .where(JobRecord.kind == JOB_KIND)
        .order_by(JobRecord.id.desc())
        .limit(1)
    ).first()


def _failed_after(job: JobRecord | None, run: FootprintRun | None) -> bool:
    """The last run attempt failed after the run shown was stored (so it is news)."""
    if job is None or job.status != JobStatus.FAILED:
        return False
    if run is None:
        return True
    return job.created_at.replace(tzinfo=None) > run.created_at.replace(tzinfo=None)


def _render(run: FootprintRun | None, *, is_latest: bool, year: int | None) -> str:
    db = get_db()
    brand_id = current_org_id()
    years = year_choices(db, brand_id)
    selected = year or (run.reporting_year if run else years[0])
    job = _last_job(db, brand_id)
    if job is not None:
        settings = get_settings()
        jobs.fail_if_dead(db, settings.database_url, settings.redis_url, job)
    pending = job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    failed = job if _failed_after(job, run) else None
    history = db.scalars(
        scoped(FootprintRun, brand_id).order_by(FootprintRun.id.desc()).limit(HISTORY_LIMIT)
    ).all()
    datasets = _dataset_choices()
    current_dataset = f"{run.dataset}|{run.dataset_version}" if run else datasets[0][0]
    return render_template(
        "footprint/run.html",
        run=run,
        is_latest=is_latest,
        hotspots=run_hotspots(db, run, HOTSPOT_LIMIT) if run else [],
        paths=run_paths(db, run) if run else [],
        years=years,
        selected_year=selected,
        datasets=datasets,
        current_dataset=current_dataset,
        pending=pending,
        failed_job=failed if is_latest else None,
        history=history,
        tonnes=format_tonnes,
        share=format_share,
        method_label=method_label,
        source_label=source_label,
        parts_label=parts_label,
        margins_label=margins_label,
        breakdown_label=breakdown_label,
        path_source_label=path_source_label,
    )


@bp.route("/footprint")
@roles_required(*BRAND_ROLES)
def footprint():
    """The latest completed run (of the chosen year, when one is asked for)."""
    year = request.args.get("year", type=int)
    run = latest_run(get_db(), current_org_id(), year)
    return _render(run, is_latest=True, year=year)


@bp.route("/footprint/runs/<run_id>")
@roles_required(*BRAND_ROLES)
def run_detail(run_id: str):
    """One stored run, e.g. an older one; another tenant's run id is simply not found."""
    run = get_scoped(get_db(), FootprintRun, run_id, current_org_id())
    return _render(run, is_latest=False, year=run.reporting_year)


@bp.route("/footprint/run", methods=["POST"])
@roles_required(*BRAND_ROLES)
def run_now():
    """Submit a footprint run as a job: inline without Redis, on a worker with it."""
    year = request.form.get("year", type=int)
    if year is None or not 1990 <= year <= 2100:
        flash(_("Choose a reporting year."), "error")
        return redirect(url_for("footprint.footprint"))
    dataset, version = DEFAULT_DATASET
    chosen = request.form.get("dataset", "")
    if chosen in {value for value, _label in _dataset_choices()}:
        dataset, version = chosen.split("|", 1)
    settings = get_settings()
    brand_id = current_org_id()
    job = jobs.submit(
        settings.database_url,
        settings.redis_url,
        JOB_FUNCTION,
        kind=JOB_KIND,
        organization_id=brand_id,
        created_by_id=g.user.id,
        params={
            "brand_id": brand_id,
            "year": year,
            "dataset": dataset,
            "version": version,
            "actor_id": g.user.id,
        },
    )
    if job.status == JobStatus.FINISHED:
        flash(_("Footprint calculated for %(year)d.", year=year), "info")
    elif job.status == JobStatus.FAILED:
        reason = (job.error or "").split("\n\n")[0]
        flash(_("The footprint run failed: %(reason)s", reason=reason), "error")
    else:
        flash(_("The footprint run has been queued; the result appears here when it is done."))
    return redirect(url_for("footprint.footprint", year=year))
