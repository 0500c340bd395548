"""Login, logout, password change, language switch, and the decorators that check role and tenant.

A signed-in session holds the user's public id and the user's `session_generation` at sign-in.
Every request compares that number with the database, so logout, a password change or a
deactivation (which raise it) end the session on the server: a copied cookie stops working too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from supplychain.accounts import AccountError, authenticate, change_password, end_sessions
from supplychain.models import Membership, OrgKind, Role, User
from supplychain.tenancy import maybe_public_id
from web import LANGUAGES, get_db
from web.errors import describe
from web.security import login_account_limit, login_address_limit, password_change_limit

bp = Blueprint("auth", __name__)
BRAND_ROLES = (Role.ADMIN, Role.PROCUREMENT, Role.SUSTAINABILITY)
GENERATION_KEY = "session_generation"
# Session entries that belong to the browser rather than to the signed-in person.
BROWSER_KEYS = ("lang",)


def safe_redirect_target(target: str | None) -> str:
    """`target` when it is a path on this site, else the start page.

    For every redirect whose target comes from the request (`next=`): anything a browser could
    read as another host is refused — schemes, `//host`, backslashes (read as `/`), control
    characters and whitespace (stripped by browsers, so `/<TAB>/evil` becomes `//evil`), and the
    same tricks percent-encoded.
    """
    fallback = url_for("index")
    if not target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return fallback
    path = target.split("?", 1)[0].split("#", 1)[0]
    for _round in range(3):  # decoded as a proxy or a second redirect might decode it
        if path.startswith("//") or "\\" in path or any(ord(ch) < 32 for ch in path):
            return fallback
        decoded = unquote(path)
        if decoded == path:
            return target
        path = decoded
    return fallback


def sign_in(user: User, keep: tuple[str, ...] = BROWSER_KEYS) -> None:
    """Start a new session for `user`, dropping whatever the browser's session held before
    (against session fixation) except the entries named in `keep`."""
    kept = {key: session[key] for key in keep if key in session}
    session.clear()
    session.update(kept)
    session["user_id"] = str(user.public_id)
    session[GENERATION_KEY] = user.session_generation
    session.permanent = True


def _forget_user() -> None:
    kept = {key: session[key] for key in BROWSER_KEYS if key in session}
    session.clear()
    session.update(kept)


@bp.before_app_request
def load_user() -> None:
    """Attach the signed-in user and their active membership to the request; a session from
    before the user's last logout, password change or deactivation is dropped."""
    g.user = None
    g.membership = None
    user_id = session.get("user_id")
    if not user_id:
        return
    db = get_db()
    user = db.scalars(select(User).where(User.public_id == maybe_public_id(user_id))).first()
    if (
        user is None
        or not user.is_active
        or session.get(GENERATION_KEY, 0) != user.session_generation
    ):
        _forget_user()
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
@login_address_limit
@login_account_limit
def login():
    if request.method == "POST":
        user = authenticate(
            get_db(), request.form.get("email", ""), request.form.get("password", "")
        )
        if user is None:
            flash(_("Email or password is not correct."), "error")
            return render_template("auth/login.html"), 401
        sign_in(user)
        return redirect(safe_redirect_target(request.args.get("next")))
    return render_template("auth/login.html")


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out everywhere: the user's generation moves on, so no copy of the cookie works."""
    if g.user is not None:
        db = get_db()
        end_sessions(db, g.user)
        db.commit()
    _forget_user()
    flash(_("You have been signed out on all your devices."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@password_change_limit
def change_own_password():
    """Change the password; every other session of the user ends, this one carries on."""
    if request.method == "GET":
        return render_template("auth/password.html")
    form = request.form
    if form.get("new_password", "") != form.get("password_confirm", ""):
        flash(_("The two passwords do not match."), "error")
        return render_template("auth/password.html"), 400
    db = get_db()
    try:
        change_password(db, g.user, form.get("current_password", ""), form.get("new_password", ""))
    except AccountError as exc:
        db.rollback()
        flash(describe(exc), "error")
        status = 401 if exc.code == "current_password_wrong" else 400
        return render_template("auth/password.html"), status
    db.commit()
    session[GENERATION_KEY] = g.user.session_generation
    flash(_("Your password has been changed. Your other devices have been signed out."), "info")
    return redirect(url_for("index"))


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
    return redirect(safe_redirect_target(request.form.get("next")))
