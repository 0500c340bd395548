"""Flask application factory: blueprints for auth and the brand console, Babel, CSRF, sessions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, g, render_template, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect

from supplychain.config import Settings, load_settings
from supplychain.db import session_factory
from supplychain.tenancy import NotFound

LANGUAGES = ("en", "zh_CN")
babel = Babel()
csrf = CSRFProtect()


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
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=False)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.upload_max_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        BABEL_TRANSLATION_DIRECTORIES="translations",
        BABEL_DEFAULT_LOCALE="en",
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(config)
    app.extensions["settings"] = settings
    app.extensions["sessionmaker"] = session_factory(settings.database_url)

    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    from web.security import init_limiter

    init_limiter(app, settings.redis_url)
    _register_session_security(app)
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
    csrf.exempt(api.bp)
    app.add_url_rule("/", endpoint="index", view_func=auth.home)
    return app


def _register_session_security(app: Flask) -> None:
    @app.before_request
    def _secure_cookie_over_https() -> None:
        # Secure cookies whenever the request came over HTTPS (directly or via a proxy header).
        if request.is_secure or request.headers.get("X-Forwarded-Proto") == "https":
            app.config["SESSION_COOKIE_SECURE"] = True

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


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


def _api_error(code: str, message: str, status: int):
    """URLs under /api/ answer JSON errors even when no API route matched."""
    from flask import jsonify

    return jsonify(error={"code": code, "message": message}), status


def _register_errors(app: Flask) -> None:
    @app.errorhandler(NotFound)
    @app.errorhandler(404)
    def _not_found(_exc):
        if request.path.startswith("/api/"):
            return _api_error("not_found", "no such resource", 404)
        return render_template("errors/error.html", code=404), 404

    @app.errorhandler(405)
    def _method_not_allowed(_exc):
        if request.path.startswith("/api/"):
            return _api_error("method_not_allowed", f"{request.method} is not allowed here", 405)
        return render_template("errors/error.html", code=405), 405

    @app.errorhandler(403)
    def _forbidden(_exc):
        return render_template("errors/error.html", code=403), 403

    @app.errorhandler(413)
    def _too_large(_exc):
        if request.path.startswith("/api/"):
            return _api_error("payload_too_large", "the request body is too large", 413)
        return render_template("errors/error.html", code=413), 413

    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        return render_template("errors/error.html", code=400, csrf=True), 400
