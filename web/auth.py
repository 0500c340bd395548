"""Login, logout, language switch, and the decorators that check role and tenant."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from supplychain.accounts import authenticate
from supplychain.models import Membership, OrgKind, Role, User
from supplychain.tenancy import maybe_public_id
from web import LANGUAGES, get_db

bp = Blueprint("auth", __name__)
BRAND_ROLES = (Role.ADMIN, Role.PROCUREMENT, Role.SUSTAINABILITY)


@bp.before_app_request
def load_user() -> None:
    """Attach the signed-in user and their active membership to the request."""
    g.user = None
    g.membership = None
    user_id = session.get("user_id")
    if not user_id:
        return
    db = get_db()
    user = db.scalars(select(User).where(User.public_id == maybe_public_id(user_id))).first()
    if user is None or not user.is_active:
        session.clear()
        return
    g.user = user
    g.membership = db.scalars(
        select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)
    ).first()


def login_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def roles_required(*roles: Role) -> Callable:
    """Signed in, with one of these roles in the active organisation; else 403."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if g.membership is None or g.membership.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def current_org_id() -> int:
    """The tenant every query of this request is scoped to."""
    return g.membership.organization_id


def home():
    """Procurement users land on the supplier list; supplier contacts on their organisation."""
    if g.user is None:
        return redirect(url_for("auth.login"))
    if g.membership and g.membership.organization.kind == OrgKind.BRAND:
        return redirect(url_for("console.suppliers"))
    return redirect(url_for("portal.home"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        user = authenticate(
            get_db(), request.form.get("email", ""), request.form.get("password", "")
        )
        if user is None:
            flash(_("Email or password is not correct."), "error")
            return render_template("auth/login.html"), 401
        lang = session.get("lang")
        session.clear()
        session["user_id"] = str(user.public_id)
        if lang:
            session["lang"] = lang
        session.permanent = True
        target = request.args.get("next", "")
        if not target.startswith("/") or target.startswith("//"):
            target = url_for("index")
        return redirect(target)
    return render_template("auth/login.html")


@bp.route("/logout", methods=["POST"])
def logout():
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have been signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def set_language():
    """The visible language switch; remembered for the session and on the user."""
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        abort(400)
    session["lang"] = lang
    if g.user is not None:
        g.user.locale = lang
        get_db().commit()
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("index")
    return redirect(target)
