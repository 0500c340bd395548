"""Supplier portal: open an invitation link, claim an account, fill in page by page, submit.

Access to an invitation comes from its link (the token's hash is kept in the session and
re-checked on every request, so a withdrawn link stops working at once), from an account claimed
through an invitation (it reaches only the invitations granted to it, and only while they are
live), or from an organisation-wide supplier contact of the invited organisation. Anything else
answers 404. Claiming an account takes a confirmation link mailed to the invited address.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select
from werkzeug.datastructures import MultiDict

from questionnaires import claims, normalise_answers, validate_answers
from questionnaires import responses as service
from questionnaires.tokens import hash_token
from supplychain.accounts import AccountError
from supplychain.models import (
    Evidence,
    Invitation,
    InvitationStatus,
    MembershipScope,
    QuestionnaireResponse,
    ResponseStatus,
)
from supplychain.tenancy import find_by_public_id, parse_public_id
from supplychain.uploads import UploadRejected
from web import get_db, get_settings
from web.auth import BROWSER_KEYS, sign_in
from web.campaigns import public_base_url
from web.errors import describe
from web.request_log import log_refusal
from web.security import claim_limit, invitation_link_limit

bp = Blueprint("portal", __name__, url_prefix="/portal")
MAX_LINKS_IN_SESSION = 20
LINK_ERROR_STATUS = {"token_invalid": 404, "token_expired": 410, "token_revoked": 410}
CLAIM_ERROR_STATUS = {
    "claim_invalid": 404,
    "claim_expired": 410,
    "claim_used": 410,
    "claim_withdrawn": 410,
    "email_taken": 409,
}


def locale_code() -> str:
    return "zh" if get_locale().language == "zh" else "en"


# --- access ---------------------------------------------------------------------------------


@bp.route("/i/<token>")
@invitation_link_limit
def open_link(token: str):
    db = get_db()
    try:
        invitation = service.invitation_for_token(db, token)
    except (service.TokenInvalid, service.TokenExpired, service.TokenRevoked) as exc:
        return render_template("portal/link_error.html", code=exc.code), LINK_ERROR_STATUS[exc.code]
    links = dict(session.get("portal_links", {}))
    links[str(invitation.public_id)] = hash_token(token)
    session["portal_links"] = dict(list(links.items())[-MAX_LINKS_IN_SESSION:])
    if g.membership is not None:
        claims.grant_from_link(db, g.membership, invitation, hash_token(token))
    service.mark_opened(db, invitation)
    db.commit()
    return redirect(url_for("portal.invitation", invitation_id=invitation.public_id))


def _is_supplier_member(invitation: Invitation) -> bool:
    """Signed in as a supplier contact whose membership reaches this invitation."""
    return (
        g.user is not None
        and g.membership is not None
        and claims.member_may_open(get_db(), g.membership, invitation)
    )


def _is_organisation_member(invitation: Invitation) -> bool:
    return _is_supplier_member(invitation) and g.membership.scope == MembershipScope.ORGANIZATION


def _accessible(invitation_id: str) -> Invitation:
    """The invitation if this browser may open it; otherwise 404, as if it did not exist."""
    invitation = find_by_public_id(get_db(), Invitation, invitation_id)
    if not _allowed(invitation):
        abort(404)
    return invitation


def _actor_id() -> int | None:
    return g.user.id if g.user is not None else None


@bp.route("/")
def home():
    """The invitations this browser may open: by account, or by the links opened in it."""
    db = get_db()
    ids = [parse_public_id(i) for i in session.get("portal_links", {})]
    conditions = [Invitation.public_id.in_(ids)] if ids else []
    if g.user is not None and g.membership is not None:
        conditions.append(claims.member_candidates(db, g.membership))
    invitations = []
    if conditions:
        candidates = db.scalars(
            select(Invitation).where(or_(*conditions)).order_by(Invitation.created_at.desc())
        ).all()
        invitations = [i for i in candidates if _allowed(i)]
    return render_template("portal/home.html", invitations=invitations)


def _allowed(invitation: Invitation) -> bool:
    """Organisation-wide contacts keep their organisation's closed invitations (the form views
    refuse changes to them); link holders and claimed accounts lose a withdrawn, re-issued or
    expired invitation at once."""
    member = _is_supplier_member(invitation)
    if member and g.membership.scope == MembershipScope.ORGANIZATION:
        return True
    db = get_db()
    if not claims.invitation_is_live(db, invitation):
        return False
    if member:
        return True
    token_hash = session.get("portal_links", {}).get(str(invitation.public_id))
    return bool(token_hash) and service.link_is_valid(db, invitation, token_hash)


# --- landing: start, share, decline, claim an account ---------------------------------------


@bp.route("/invitations/<invitation_id>")
def invitation(invitation_id: str):
    inv = _accessible(invitation_id)
    shareable = service.shareable_response(get_db(), inv)
    if g.user is not None and shareable is not None and not _may_share(inv, shareable):
        shareable = None
    return render_template(
        "portal/invitation.html",
        inv=inv,
        shareable=shareable,
        is_member=_is_supplier_member(inv),
        claim_email=claims.masked_email(inv.contact_email),
    )


def _may_share(inv: Invitation, response: QuestionnaireResponse) -> bool:
    """Only a contact of the supplier who may already see the response can pass it on: a claimed
    account cannot reach another contact's answers by sharing them."""
    if g.user is None or g.membership is None:
        return False
    if _is_organisation_member(inv):
        return True
    others = get_db().scalars(select(Invitation).where(Invitation.response_id == response.id))
    return any(_is_supplier_member(i) and _allowed(i) for i in others)


@bp.route("/invitations/<invitation_id>/start", methods=["POST"])
def start(invitation_id: str):
    inv = _accessible(invitation_id)
    db = get_db()
    if inv.status == InvitationStatus.DECLINED:
        flash(_("You declined this questionnaire."), "error")
        return redirect(url_for("portal.invitation", invitation_id=invitation_id))
    service.start_response(db, inv, user_id=_actor_id())
    db.commit()
    return redirect(url_for("portal.form", invitation_id=invitation_id))


@bp.route("/invitations/<invitation_id>/share", methods=["POST"])
def share(invitation_id: str):
    inv = _accessible(invitation_id)
    db = get_db()
    response = service.shareable_response(db, inv)
    if response is None:
        abort(404)
    if request.form.get("consent") != "on":
        flash(_("Tick the box to confirm that you agree to share your answers."), "error")
        return redirect(url_for("portal.invitation", invitation_id=invitation_id))
    if g.user is None:
        flash(_("Sign in to share an existing response."), "error")
        return redirect(url_for("portal.invitation", invitation_id=invitation_id))
    if not _may_share(inv, response):
        abort(404)
    service.share_response(db, inv, response, user_id=g.user.id)
    db.commit()
    flash(_("Your response is now shared with %(brand)s.", brand=_brand_name(inv)), "info")
    return redirect(url_for("portal.invitation", invitation_id=invitation_id))


def _brand_name(inv: Invitation) -> str:
    return inv.supplier_relationship.brand.name


@bp.route("/invitations/<invitation_id>/decline", methods=["POST"])
def decline(invitation_id: str):
    inv = _accessible(invitation_id)
    db = get_db()
    try:
        service.decline(db, inv, reason=request.form.get("reason", ""), user_id=_actor_id())
    except service.PortalError as exc:
        flash(describe(exc), "error")
        return redirect(url_for("portal.invitation", invitation_id=invitation_id))
    db.commit()
    flash(_("You declined this questionnaire. Your customer has been told."), "info")
    return redirect(url_for("portal.invitation", invitation_id=invitation_id))


@bp.route("/invitations/<invitation_id>/claim", methods=["POST"])
@claim_limit
def claim(invitation_id: str):
    """Step one of an account: the link holder chooses a password; the account is created only
    when the invited address confirms through the link mailed to it."""
    inv = _accessible(invitation_id)
    back = url_for("portal.invitation", invitation_id=invitation_id)
    token_hash = session.get("portal_links", {}).get(str(inv.public_id))
    if g.user is not None or not token_hash:
        flash(_("Only the person who opened the invitation link can create an account."), "error")
        return redirect(back)
    form = request.form
    if form.get("password", "") != form.get("password_confirm", ""):
        flash(_("The two passwords do not match."), "error")
        return redirect(back)
    db = get_db()
    try:
        pending, token = claims.start_claim(
            db,
            inv,
            token_hash,
            display_name=form.get("display_name", ""),
            password=form.get("password", ""),
            locale=str(get_locale()),
        )
    except AccountError as exc:
        db.rollback()
        flash(describe(exc), "error")
        return redirect(url_for("auth.login") if exc.code == "email_taken" else back)
    except claims.ClaimError:
        db.rollback()
        abort(404)
    db.commit()
    try:
        claims.mail_claim_link(get_settings(), pending, claims.claim_link(public_base_url(), token))
    except OSError:
        flash(_("We could not send the confirmation email. Try again in a few minutes."), "error")
        return redirect(back)
    flash(
        _(
            "We sent a confirmation link to %(email)s. Open it within %(hours)d hours to finish "
            "creating your account.",
            email=claims.masked_email(pending.email),
            hours=claims.CLAIM_VALID_FOR // timedelta(hours=1),
        ),
        "info",
    )
    return redirect(back)


def _claim_refused(exc: Exception):
    code = exc.code if exc.code in CLAIM_ERROR_STATUS else "claim_invalid"
    return render_template("portal/claim_error.html", code=code), CLAIM_ERROR_STATUS[code]


@bp.route("/claims/<token>", methods=["GET"])
def confirm_claim_page(token: str):
    """Step two, opened from the mailbox: say what will be created and ask for the password."""
    try:
        pending = claims.claim_for_token(get_db(), token)
    except claims.ClaimError as exc:
        return _claim_refused(exc)
    return render_template("portal/claim_confirm.html", claim=pending, token=token)


@bp.route("/claims/<token>", methods=["POST"])
@claim_limit
def confirm_claim(token: str):
    """Create the account (once), sign it in and open the invitation it was claimed through."""
    db = get_db()
    try:
        user, inv = claims.confirm_claim(db, token, request.form.get("password", ""))
    except claims.ClaimPasswordWrong:
        db.rollback()
        wrong = _("This is not the password you chose when you asked for the account.")
        pending = claims.claim_for_token(db, token)
        return render_template(
            "portal/claim_confirm.html", claim=pending, token=token, error=wrong
        ), 401
    except (claims.ClaimError, AccountError) as exc:
        db.rollback()
        return _claim_refused(exc)
    db.commit()
    sign_in(user, keep=(*BROWSER_KEYS, "portal_links"))
    flash(_("Your account is ready. Sign in with %(email)s next time.", email=user.email), "info")
    return redirect(url_for("portal.invitation", invitation_id=inv.public_id))


# --- the form, page by page -----------------------------------------------------------------


def _visible_sections(definition, visible: set[str]) -> list:
    """The pages that have at least one question to show."""
    return [s for s in definition.sections if any(q.key in visible for q in s.questions)]


def _errors_by_key(errors) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for error in errors:
        grouped.setdefault(error.question_key, []).append(error)
    return grouped


def _page_context(inv: Invitation, section_key: str | None, answers: dict, **extra) -> dict:
    response = inv.response
    definition = service.definition_of(response)
    visible = definition.visible_keys(answers)
    sections = _visible_sections(definition, visible)
    current = next((s for s in sections if s.key == section_key), sections[0])
    index = sections.index(current)
    errors = validate_answers(definition, answers, locale=locale_code())
    normalised = normalise_answers(definition, answers)  # keeps only valid answers; never raises
    evidence = (
        get_db()
        .scalars(select(Evidence).where(Evidence.response_id == response.id).order_by(Evidence.id))
        .all()
    )
    return {
        "inv": inv,
        "response": response,
        "definition": definition,
        "sections": sections,
        "section": current,
        "previous": sections[index - 1] if index > 0 else None,
        "next": sections[index + 1] if index + 1 < len(sections) else None,
        "answers": answers,
        "normalised": normalised,
        "visible": visible,
        "errors": _errors_by_key(errors),
        "comments": service.comments_for(get_db(), inv),
        "evidence": evidence,
        "loc": locale_code(),
        "locked": response.status != ResponseStatus.DRAFT,
        **extra,
    }


@bp.route("/invitations/<invitation_id>/form", methods=["GET"])
def form(invitation_id: str):
    inv = _accessible(invitation_id)
    if inv.response is None:
        return redirect(url_for("portal.invitation", invitation_id=invitation_id))
    context = _page_context(inv, request.args.get("section"), dict(inv.response.answers or {}))
    return render_template("portal/form.html", **context)


def _field(form: MultiDict, name: str) -> str | None:
    value = form.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_answer(question, form: MultiDict, prefix: str) -> Any:
    """One question's answer from posted form fields, in the shape the validator expects."""
    kind = question.type
    if kind == "number" and question.dimension:
        value = _field(form, f"{prefix}.value")
        return (
            {"value": value, "unit": form.get(f"{prefix}.unit") or question.unit} if value else None
        )
    if kind == "currency_amount":
        amount = _field(form, f"{prefix}.amount")
        currency = _field(form, f"{prefix}.currency")
        return {"amount": amount, "currency": currency or ""} if amount else None
    if kind == "multiple_choice":
        return [v for v in form.getlist(prefix) if v] or None
    if kind == "yes_no":
        value = form.get(prefix)
        return {"yes": True, "no": False}.get(value)
    if kind == "table":
        return _parse_table(question, form, prefix)
    if kind == "file":
        return None
    return _field(form, prefix)


def _parse_table(question, form: MultiDict, prefix: str) -> list[dict] | None:
    indexes = sorted(
        {
            int(name[len(prefix) + 1 :].split(".", 1)[0])
            for name in form
            if name.startswith(prefix + ".") and name[len(prefix) + 1 :].split(".", 1)[0].isdigit()
        }
    )
    rows = []
    for index in indexes:
        row = {}
        for column in question.columns:
            cell = parse_answer(column, form, f"{prefix}.{index}.{column.key}")
            if cell not in (None, "", []):
                row[column.key] = cell
        if row:
            rows.append(row)
    return rows or None


def _section_changes(definition, section, form: MultiDict) -> dict[str, Any]:
    """Answers of one page; a file question keeps what was uploaded."""
    return {
        q.key: parse_answer(q, form, f"q.{q.key}") for q in section.questions if q.type != "file"
    }


@bp.route("/invitations/<invitation_id>/form", methods=["POST"])
def save(invitation_id: str):
    """Explicit save, page navigation and autosave (the same handler; autosave wants JSON)."""
    inv = _accessible(invitation_id)
    db = get_db()
    response = inv.response
    if response is None:
        abort(404)
    autosave = request.headers.get("X-Autosave") == "1" or request.args.get("autosave") == "1"
    definition = service.definition_of(response)
    section_key = request.form.get("section", "")
    section = next((s for s in definition.sections if s.key == section_key), None)
    if section is None:
        abort(400)
    changes = _section_changes(definition, section, request.form)
    try:
        expected = int(request.form.get("lock_version", "0"))
    except ValueError:
        abort(400)
    try:
        result = service.save_answers(
            db,
            response,
            changes,
            expected_lock=expected,
            user_id=_actor_id(),
            locale=locale_code(),
            invitation=inv,
        )
    except service.EditConflict as exc:
        db.rollback()
        return _conflict(inv, section_key, changes, exc, autosave)
    except service.ResponseLocked as exc:
        db.rollback()
        if autosave:
            return jsonify(code=exc.code, message=_("This response is submitted and locked.")), 409
        flash(_("This response is submitted and locked."), "error")
        return redirect(url_for("portal.form", invitation_id=invitation_id, section=section_key))
    except service.WrongState as exc:  # the invitation was declined or withdrawn
        db.rollback()
        if autosave:
            return jsonify(code=exc.code, message=describe(exc)), 409
        flash(describe(exc), "error")
        return redirect(url_for("portal.invitation", invitation_id=invitation_id))
    db.commit()
    if autosave:
        return jsonify(
            ok=True,
            lock_version=result.lock_version,
            changed=result.changed,
            errors=[e.to_dict() for e in result.errors if e.question_key in changes],
        )
    flash(_("Saved."), "info")
    go = request.form.get("go", "")
    if go == "__review__":
        return redirect(url_for("portal.review", invitation_id=invitation_id))
    target = _neighbour(definition, dict(response.answers or {}), section_key, go)
    return redirect(url_for("portal.form", invitation_id=invitation_id, section=target))


def _neighbour(definition, answers: dict, section_key: str, go: str) -> str:
    """The page to show next, decided after saving: an answer may have shown or hidden pages."""
    sections = [s.key for s in _visible_sections(definition, definition.visible_keys(answers))]
    if section_key not in sections or go not in ("__next__", "__previous__"):
        return section_key
    index = sections.index(section_key) + (1 if go == "__next__" else -1)
    return sections[min(max(index, 0), len(sections) - 1)]


def _conflict(inv, section_key, changes, exc, autosave: bool):
    """Nothing is overwritten: show the other person's answers next to this person's."""
    message = _(
        "Someone else saved this questionnaire after you opened it. Their answers are shown "
        "next to yours; save again to keep yours."
    )
    if autosave:
        return jsonify(
            code=exc.code, message=message, lock_version=exc.current_lock, theirs=exc.theirs
        ), 409
    answers = {**dict(inv.response.answers or {}), **{k: v for k, v in changes.items() if v}}
    context = _page_context(
        inv,
        section_key,
        answers,
        conflict={"message": message, "theirs": exc.theirs, "mine": exc.mine},
        lock_override=exc.current_lock,
    )
    return render_template("portal/form.html", **context), 409


# --- evidence ---------------------------------------------------------------------------------


@bp.route("/invitations/<invitation_id>/evidence", methods=["POST"])
def upload_evidence(invitation_id: str):
    inv = _accessible(invitation_id)
    db = get_db()
    response = inv.response
    if response is None:
        abort(404)
    question_key = request.form.get("question", "")
    section_key = request.form.get("section", "")
    upload = request.files.get("file")
    back = url_for("portal.form", invitation_id=invitation_id, section=section_key)
    if upload is None or not upload.filename:
        flash(_("Choose a file to upload."), "error")
        return redirect(back)
    settings = get_settings()
    try:
        item = service.add_evidence(
            db,
            response,
            question_key=question_key,
            stream=upload.stream,
            filename=upload.filename,
            folder=settings.uploads_path / "evidence",
            max_bytes=settings.upload_max_bytes,
            user_id=_actor_id(),
            invitation=inv,
        )
        files = list((response.answers or {}).get(question_key) or [])
        files.append(
            {
                "file_id": str(item.public_id),
                "filename": item.original_name,
                "sha256": item.sha256,
                "size": item.size,
                "content_type": item.content_type,
            }
        )
        service.save_answers(
            db,
            response,
            {question_key: files},
            expected_lock=response.lock_version,
            user_id=_actor_id(),
            invitation=inv,
        )
    except UploadRejected as exc:
        db.rollback()
        log_refusal(f"evidence upload rejected: {exc}")
        flash(_("Upload refused: %(reason)s", reason=str(exc)), "error")
        return redirect(back)
    except service.PortalError as exc:
        db.rollback()
        flash(describe(exc), "error")
        return redirect(back)
    db.commit()
    flash(_("File uploaded: %(name)s", name=item.original_name), "info")
    return redirect(back)


@bp.route("/evidence/<evidence_id>")
def download_evidence(evidence_id: str):
    db = get_db()
    item = find_by_public_id(db, Evidence, evidence_id)
    invitations = db.scalars(select(Invitation).where(Invitation.response_id == item.response_id))
    if not any(_allowed(i) for i in invitations):
        abort(404)
    path = get_settings().uploads_path / "evidence" / item.stored_name
    return send_file(path, as_attachment=True, download_name=item.original_name)


# --- review and submit -----------------------------------------------------------------------


@bp.route("/invitations/<invitation_id>/review")
def review(invitation_id: str):
    inv = _accessible(invitation_id)
    if inv.response is None:
        return redirect(url_for("portal.invitation", invitation_id=invitation_id))
    answers = dict(inv.response.answers or {})
    definition = service.definition_of(inv.response)
    submit_errors = validate_answers(definition, answers, locale=locale_code(), for_submit=True)
    return render_template(
        "portal/review.html",
        **_page_context(inv, None, answers, submit_errors=submit_errors),
    )


@bp.route("/invitations/<invitation_id>/submit", methods=["POST"])
def submit(invitation_id: str):
    inv = _accessible(invitation_id)
    db = get_db()
    if inv.response is None:
        abort(404)
    try:
        service.submit(db, inv.response, user_id=_actor_id(), locale=locale_code(), invitation=inv)
    except service.SubmitRefused as exc:
        db.rollback()
        flash(_("%(n)d answers need attention before you can submit.", n=len(exc.errors)), "error")
        return redirect(url_for("portal.review", invitation_id=invitation_id))
    except service.ResponseLocked:
        db.rollback()  # submitted already, possibly by a click a moment earlier
        flash(_("This response is submitted and locked."), "error")
        return redirect(url_for("portal.invitation", invitation_id=invitation_id))
    except service.EditConflict:
        db.rollback()
        flash(
            _("Someone saved answers while you were submitting. Check them and submit again."),
            "error",
        )
        return redirect(url_for("portal.review", invitation_id=invitation_id))
    except service.WrongState as exc:  # the invitation was declined or withdrawn
        db.rollback()
        flash(describe(exc), "error")
        return redirect(url_for("portal.invitation", invitation_id=invitation_id))
    db.commit()
    flash(_("Submitted. %(brand)s will review your answers.", brand=_brand_name(inv)), "info")
    return redirect(url_for("portal.invitation", invitation_id=invitation_id))
