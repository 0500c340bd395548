"""Request throttling for the login, claim, invitation-link, password and API-key endpoints.

Flask-Limiter keeps its counters in Redis when `REDIS_URL` is set (so every gunicorn worker sees
the same counts) and in process memory otherwise. The limits themselves are settings
(`RATELIMIT_<NAME>`, see `supplychain.config.RATE_LIMIT_DEFAULTS`), read per request from the
app config so each app uses its own. Where only failures should count (wrong passwords, refused
API keys), the limit is checked before the view and charged after it, only when the answer is a
refusal: people who sign in correctly never use up their allowance.

A refused request answers 429 with `Retry-After`: an HTML page in the user's language, or under
`/api/` the API's JSON error `{"error": {"code": "rate_limited", ...}}`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from flask import Flask, current_app, g, render_template, request
from flask.wrappers import Response
from flask_babel import gettext as _
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse_many

from supplychain.config import Settings

# One limiter per process (the view decorators below refer to it); each create_app binds it to
# that app's storage. A moving window allows no burst of twice the limit around a window
# boundary; if Redis cannot be reached, counting carries on in memory rather than refusing
# every sign-in.
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    strategy="moving-window",
    key_prefix="supplychain",
    in_memory_fallback_enabled=True,
)


def init_limiter(app: Flask, settings: Settings) -> None:
    """Attach the limiter with the configured storage and limits (`app.config` entries set
    before this call, e.g. by tests, win); a malformed limit stops the start-up."""
    app.config.setdefault("RATELIMIT_ENABLED", settings.rate_limiting)
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.redis_url or "memory://")
    for name, value in settings.rate_limits.items():
        key = _config_key(name)
        app.config.setdefault(key, value)
        try:
            parse_many(app.config[key])
        except ValueError as exc:
            raise ValueError(f"{key} is not a rate limit such as '5 per minute': {exc}") from exc
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _too_many_requests)


def _config_key(name: str) -> str:
    return f"RATELIMIT_{name.upper()}"


def configured(name: str) -> Callable[[], str]:
    """The limit called `name` in the running app's configuration, looked up per request."""
    key = _config_key(name)
    return lambda: current_app.config[key]


def refused(response: Response) -> bool:
    """Charge the attempt only when the credentials were refused (a wrong password answers
    401, like an unknown API key); a form that merely needs correcting costs nothing."""
    return response.status_code == 401


def _client_address() -> str:
    return "address:" + (get_remote_address() or "unknown")


def _submitted_account() -> str:
    return "account:" + request.form.get("email", "").strip().lower()


def _signed_in_user() -> str:
    user = getattr(g, "user", None)
    return f"user:{user.public_id}" if user is not None else _client_address()


# Failed sign-ins, per submitted account email and (more generously) per client address.
login_account_limit = limiter.limit(
    configured("login"),
    key_func=_submitted_account,
    methods=["POST"],
    deduct_when=refused,
    scope="login-account",
)
login_address_limit = limiter.limit(
    configured("login_address"),
    key_func=_client_address,
    methods=["POST"],
    deduct_when=refused,
    scope="login-address",
)
# Opening invitation links (guessing tokens), per client address.
invitation_link_limit = limiter.limit(
    configured("invitation_link"), key_func=_client_address, scope="invitation-link"
)
# Claiming an account from an invitation: one budget shared by every claim endpoint.
claim_limit = limiter.shared_limit(
    configured("claim"), scope="claim", key_func=_client_address, methods=["POST"]
)
# Wrong current passwords on the password-change form, per signed-in user.
password_change_limit = limiter.limit(
    configured("password_change"),
    key_func=_signed_in_user,
    methods=["POST"],
    deduct_when=refused,
    scope="password-change",
)
# Refused API keys (missing, unknown, revoked), per client address.
api_key_failure_limit = limiter.limit(
    configured("api_key"), key_func=_client_address, deduct_when=refused, scope="api-key"
)


def _retry_after_seconds() -> int:
    breached = limiter.current_limit
    if breached is None:
        return 60
    return max(1, math.ceil(breached.reset_at - time.time()))


def _too_many_requests(_exc: RateLimitExceeded):
    seconds = _retry_after_seconds()
    if request.path.startswith("/api/"):
        from web.api.errors import error_response

        response = error_response(
            429,
            "rate_limited",
            f"too many requests from this client; retry in {seconds} seconds",
        )
    else:
        message = _("Too many attempts. Wait %(seconds)s seconds, then try again.", seconds=seconds)
        response = current_app.make_response(
            (render_template("errors/error.html", code=429, message=message), 429)
        )
    response.headers["Retry-After"] = str(seconds)
    return response
