"""Request throttling shared by the login, claim, token and API-key endpoints.

Flask-Limiter keeps its counters in Redis when `REDIS_URL` is set (so every gunicorn worker sees
the same counts) and in process memory otherwise.
"""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[])


def init_limiter(app: Flask, redis_url: str | None) -> None:
    """Attach the limiter with the configured storage."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
