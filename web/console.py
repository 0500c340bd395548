"""Brand console: the supplier list (search, sort, paging), supplier detail, imports, jobs."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from supplychain import jobs
from supplychain import suppliers as supplier_service
from supplychain.models import ImportBatch, JobRecord, OrgKind, Role
from supplychain.tenancy import get_scoped, parse_public_id, scoped
from supplychain.uploads import UploadRejected, store_upload
from web import get_db, get_settings
from web.auth import BRAND_ROLES, current_org_id, login_required, roles_required
from web.request_log import log_refusal

bp = Blueprint("console", __name__, url_prefix="/console")
IMPORT_ROLES = (Role.ADMIN, Role.PROCUREMENT, Role.SUSTAINABILITY)
# The text encodings the import form offers: what Chinese, Japanese and Western ERP and
# spreadsheet exports use. An empty value lets the importer detect it (or ask).
ENCODING_CHOICES = (
    ("", lazy_gettext("Detect automatically")),
    ("utf-8", "UTF-8"),
    ("gb18030", "GB18030 / GBK"),
    ("big5", "Big5"),
    ("shift_jis", "Shift_JIS"),
    ("latin-1", "Latin-1 (ISO-8859-1)"),
    ("cp1252", "Windows-1252"),
    ("cp1251", "Windows-1251"),
)


@bp.context_processor
def _import_form_choices() -> dict:
    return {"encoding_choices": ENCODING_CHOICES}


def _int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except ValueError:
        return default


@bp.route("/suppliers")
@roles_required(*BRAND_ROLES)
def suppliers():
    sort = request.args.get("sort", "name")
    if sort not in supplier_service.SORT_COLUMNS:
        sort = "name"
    descending = request.args.get("dir") == "desc"
    page = supplier_service.list_suppliers(
        get_db(),
        current_org_id(),
        search=request.args.get("q", ""),
        sort=sort,
        descending=descending,
        page=_int_arg("page", 1),
        per_page=_int_arg("per_page", 50),
    )
    return render_template(
        "console/suppliers.html",
        page=page,
        q=request.args.get("q", ""),
        sort=sort,
        descending=descending,
    )


@bp.route("/suppliers/<relationship_id>")
@roles_required(*BRAND_ROLES)
def supplier_detail(relationship_id: str):
    relationship, by_currency, recent = supplier_service.supplier_detail(
        get_db(), current_org_id(), relationship_id
    )
    return render_template(
        "console/supplier_detail.html", rel=relationship, by_currency=by_currency, recent=recent
    )


@bp.route("/imports", methods=["GET", "POST"])
@roles_required(*IMPORT_ROLES)
def imports():
    db = get_db()
    if request.method == "POST":
        kind = request.form.get("kind")
        upload = request.files.get("file")
        encoding = request.form.get("encoding", "")
        if kind not in ("suppliers", "spend") or upload is None or not upload.filename:
            flash(_("Choose what to import and a CSV or XLSX file."), "error")
            return redirect(url_for("console.imports"))
        if encoding not in dict(ENCODING_CHOICES):
            flash(_("Choose one of the text encodings offered."), "error")
            return redirect(url_for("console.imports"))
        settings = get_settings()
        try:
            stored = store_upload(
                upload.stream,
                upload.filename,
                settings.uploads_path / "imports",
                allowed={"csv", "xlsx"},
                max_bytes=settings.upload_max_bytes,
            )
        except UploadRejected as exc:
            log_refusal(f"import upload rejected: {exc}")
            flash(_("Upload refused: %(reason)s", reason=str(exc)), "error")
            return redirect(url_for("console.imports"))
        job = jobs.submit(
            settings.database_url,
            settings.redis_url,
            "supplychain.importer:import_file_job",
            kind=f"import.{kind}",
            organization_id=current_org_id(),
            created_by_id=g.user.id,
            params={
                "brand_id": current_org_id(),
                "kind": kind,
                "path": str(stored.path),
                "skip_invalid": request.form.get("skip_invalid") == "on",
                "encoding": encoding or None,
                "actor_id": g.user.id,
                "source_name": stored.original_name,
            },
        )
        return redirect(url_for("console.job_detail", job_id=job.public_id))
    batches = db.scalars(
        scoped(ImportBatch, current_org_id()).order_by(ImportBatch.created_at.desc()).limit(50)
    ).all()
    return render_template("console/imports.html", batches=batches)


@bp.route("/imports/<batch_id>")
@roles_required(*IMPORT_ROLES)
def import_detail(batch_id: str):
    batch = get_scoped(get_db(), ImportBatch, batch_id, current_org_id())
    return render_template("console/import_detail.html", batch=batch)


@bp.route("/jobs/<job_id>")
@roles_required(*IMPORT_ROLES)
def job_detail(job_id: str):
    settings = get_settings()
    job = get_scoped(get_db(), JobRecord, job_id, current_org_id())
    jobs.fail_if_dead(get_db(), settings.database_url, settings.redis_url, job)
    batch = None
    if job.result and job.result.get("batch_public_id"):
        batch = (
            get_db()
            .scalars(
                scoped(ImportBatch, current_org_id()).where(
                    ImportBatch.public_id == parse_public_id(job.result["batch_public_id"])
                )
            )
            .first()
        )
    return render_template("console/job.html", job=job, batch=batch)


@bp.route("/jobs/<job_id>/encoding", methods=["POST"])
@roles_required(*IMPORT_ROLES)
def import_with_encoding(job_id: str):
    """Run an import refused for an unclear encoding again on the stored upload, now with the
    encoding the user chose, so the file need not be uploaded twice."""
    job = get_scoped(get_db(), JobRecord, job_id, current_org_id())
    refusal = (job.result or {}).get("refusal") or {}
    candidates = (refusal.get("params") or {}).get("candidates") or []
    encoding = request.form.get("encoding", "")
    offered = {value for value, _label in ENCODING_CHOICES if value} | set(candidates)
    if refusal.get("code") != "encoding_uncertain" or encoding not in offered:
        flash(_("Choose one of the text encodings offered."), "error")
        return redirect(url_for("console.job_detail", job_id=job.public_id))
    settings = get_settings()
    retry = jobs.submit(
        settings.database_url,
        settings.redis_url,
        "supplychain.importer:import_file_job",
        kind=job.kind,
        organization_id=current_org_id(),
        created_by_id=g.user.id,
        params={**job.params, "encoding": encoding, "actor_id": g.user.id},
    )
    return redirect(url_for("console.job_detail", job_id=retry.public_id))


@bp.route("/organisation")
@login_required
def my_organisation():
    """A supplier contact's home: their organisation and the brands it serves."""
    if g.membership is None:
        abort(403)
    org = g.membership.organization
    customers = []
    if org.kind == OrgKind.SUPPLIER:
        customers = supplier_service.customers_of(get_db(), org.id)
    return render_template("console/organisation.html", org=org, customers=customers)
