"""Flask application factory: blueprints for auth and the brand console, Babel, CSRF, sessions."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, g, render_template, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from supplychain.config import Settings, load_settings
from supplychain.db import session_factory
from supplychain.tenancy import NotFound
from web import request_log

LANGUAGES = ("en", "zh_CN")
# Where mailed links point when BASE_URL is not configured: never the request's Host header.
FALLBACK_BASE_URL = "http://127.0.0.1:5000"
babel = Babel()
csrf = CSRFProtect()
log = logging.getLogger(__name__)

# The same policy for every page: scripts and styles only from our own static files.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)


class WebApp(Flask):
    """Flask, logging each unexpected error under the reference its error page shows."""

    def log_exception(self, exc_info: request_log.ExcInfo) -> None:
        request_log.log_unexpected(exc_info)


def select_locale() -> str:
    """Explicit choice in the session, then the user's saved locale, then the browser."""
    from flask import session

    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    user = getattr(g, "user", None)
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    best = request.accept_languages.best_match(["en", "zh_CN", "zh", "zh_Hans", "zh-CN"])
    return "zh_CN" if best and best.lower().startswith("zh") else "en"


def create_app(config: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Build the web application; `config` overrides Flask settings (tests use it)."""
    config = dict(config or {})
    settings = settings or load_settings(
        **{k: config.pop(k) for k in ("database_url", "redis_url", "instance_path") if k in config}
    )
    app = WebApp(
        __name__, instance_path=str(settings.instance_path), instance_relative_config=False
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.upload_max_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Decided once at start-up (SESSION_COOKIE_SECURE, else BASE_URL is https), never per
        # request: one client's headers must not change the cookies of everyone else.
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        BABEL_TRANSLATION_DIRECTORIES="translations",
        BABEL_DEFAULT_LOCALE="en",
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(config)
    request_log.init_app(app)
    _configure_base_url(app, settings)
    app.extensions["settings"] = settings
    app.extensions["sessionmaker"] = session_factory(settings.database_url)

    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    from web.security import init_limiter

    init_limiter(app, settings)
    _trust_proxies(app, settings.trusted_proxies)
    _register_session_security(app)
    _refuse_nul_characters(app)
    _register_db(app)
    _register_errors(app)
    from web.labels import template_helpers

    app.context_processor(template_helpers)

    from web import api, auth, campaigns, console, footprint, portal

    app.register_blueprint(auth.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(campaigns.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(footprint.bp)
    app.register_blueprint(api.bp)
    from web import portal_scores, scoring_insights

    app.register_blueprint(scoring_insights.bp)
    app.register_blueprint(portal_scores.bp)
    from web import scoring as scoring_pages

    app.register_blueprint(scoring_pages.bp)
    csrf.exempt(api.bp)
    app.add_url_rule("/", endpoint="index", view_func=auth.home)
    return app


def _trust_proxies(app: Flask, proxies: int) -> None:
    """Honour X-Forwarded-For and X-Forwarded-Proto only as set by the `proxies` proxies in
    front of the app (TRUSTED_PROXIES); with 0, a client cannot fake its address or scheme."""
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def _register_session_security(app: Flask) -> None:
    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if request.is_secure:
            # Only over HTTPS: browsers ignore it on plain HTTP, and it must never pin a
            # development server on http://127.0.0.1 to HTTPS.
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response


def _refuse_nul_characters(app: Flask) -> None:
    """A NUL character fits in no text column (PostgreSQL refuses it outright), so a form or
    query string carrying one is answered 400 before any view runs; the API does the same for
    JSON bodies."""

    @app.before_request
    def _no_nul_in_forms():
        if _is_api():
            return None
        values = [*request.args.values(), *request.form.values()]
        if any("\x00" in value for value in values):
            request_log.log_refusal("form or query string with a NUL character")
            return render_template("errors/error.html", code=400, nul=True), 400
        return None


def _register_db(app: Flask) -> None:
    @app.teardown_appcontext
    def _close_db(exc: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            if exc is not None:
                db.rollback()
            db.close()


def get_db():
    """The request's database session (one per request, closed at teardown)."""
    from flask import current_app

    if "db" not in g:
        g.db = current_app.extensions["sessionmaker"]()
    return g.db


def get_settings() -> Settings:
    from flask import current_app

    return current_app.extensions["settings"]


def _api_error(code: str, message: str, status: int, details: Any = None):
    """URLs under /api/ answer JSON errors even when no API route matched."""
    from flask import jsonify

    return jsonify(error={"code": code, "message": message, "details": details}), status


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _register_errors(app: Flask) -> None:
    """Error pages (JSON under /api/). Refusals log one INFO line; a 500 shows its reference."""

    @app.errorhandler(NotFound)
    @app.errorhandler(404)
    def _not_found(_exc):
        if _is_api():
            return _api_error("not_found", "no such resource", 404)
        return render_template("errors/error.html", code=404), 404

    @app.errorhandler(405)
    def _method_not_allowed(_exc):
        if _is_api():
            return _api_error("method_not_allowed", f"{request.method} is not allowed here", 405)
        return render_template("errors/error.html", code=405), 405

    @app.errorhandler(403)
    def _forbidden(_exc):
        return render_template("errors/error.html", code=403), 403

    @app.errorhandler(413)
    def _too_large(_exc):
        request_log.log_refusal("request body over the size limit")
        if _is_api():
            return _api_error("payload_too_large", "the request body is too large", 413)
        return render_template("errors/error.html", code=413), 413

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        request_log.log_refusal(f"CSRF check failed: {exc.description}")
        return render_template("errors/error.html", code=400, csrf=True), 400

    @app.errorhandler(HTTPException)
    def _other_refusal(exc: HTTPException):
        """Any other status werkzeug raises (a malformed form is 400): the same page."""
        status = exc.code or 400
        if _is_api():
            return _api_error("bad_request" if status == 400 else "error", exc.description, status)
        return render_template("errors/error.html", code=status), status

    @app.errorhandler(InternalServerError)
    def _internal_error(_exc):
        # WebApp.log_exception has logged the traceback under this reference. Nothing the
        # failed request wrote is kept, and the page below can still read the user's session.
        db = g.get("db")
        if db is not None:
            db.rollback()
        reference = request_log.request_id()
        if _is_api():
            return _api_error(
                "internal_error",
                f"something went wrong on our side; quote this reference: {reference}",
                500,
                {"request_id": reference},
            )
        return render_template("errors/error.html", code=500, reference=reference), 500


def _configure_base_url(app: Flask, settings: Settings) -> None:
    """Mailed links use BASE_URL; without it a loopback address and a warning, never Host."""
    if app.config.get("BASE_URL"):
        return
    if settings.base_url:
        app.config["BASE_URL"] = settings.base_url
        return
    app.config["BASE_URL"] = FALLBACK_BASE_URL
    log.warning(
        "BASE_URL is not set: links in mails will point to %s. Set BASE_URL to the address "
        "suppliers reach this site at.",
        FALLBACK_BASE_URL,
    )
