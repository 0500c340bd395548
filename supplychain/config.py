"""Runtime settings read from the environment, with embedded defaults that need no server."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


def instance_dir() -> Path:
    """The folder for local state: SQLite file, secret key, uploads, outbox, factor store."""
    path = Path(os.environ.get("SUPPLYCHAIN_INSTANCE", Path.cwd() / "instance")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else a generated key kept in instance/ (never committed)."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _base_url() -> str | None:
    """BASE_URL (PUBLIC_BASE_URL is the older name), checked once so a typo fails at start."""
    raw = (os.environ.get("BASE_URL") or os.environ.get("PUBLIC_BASE_URL") or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"BASE_URL must be the site's public address such as https://carbon.example.com, "
            f"not {raw!r}"
        )
    return raw.rstrip("/")


# Request limits in Flask-Limiter notation, each overridable with RATELIMIT_<NAME>.
RATE_LIMIT_DEFAULTS = {
    "login": "5 per minute; 20 per hour",  # failed sign-ins per account email
    "login_address": "20 per minute; 100 per hour",  # failed sign-ins per client address
    "invitation_link": "30 per minute",  # invitation links opened per client address
    "claim": "10 per minute; 50 per hour",  # account claims per client address
    "password_change": "5 per minute; 20 per hour",  # wrong current passwords per user
    "api_key": "20 per minute; 200 per hour",  # refused API keys per client address
}


def _flag(name: str) -> bool | None:
    """An on/off environment setting; None when unset, so the caller picks the default."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be one of 1, true, yes, on, 0, false, no, off; not {raw!r}")


def _trusted_proxies() -> int:
    """How many proxies in front of the app set X-Forwarded-For/-Proto (0: trust none)."""
    raw = os.environ.get("TRUSTED_PROXIES", "0").strip() or "0"
    if not raw.isdigit():
        raise ValueError(f"TRUSTED_PROXIES must be a number of proxies, 0 or more; not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class ImportLimits:
    """How large an import file may become once opened, so one import's memory stays bounded.

    The defaults fit a 20 MB upload of real ERP exports (about 50 bytes of sheet XML per cell, so
    100 MB expanded is some 2 million cells) while a zip bomb, which expands hundreds of times,
    is refused before any XML is parsed. Each is overridable by the IMPORT_* variable named;
    the importer reads them when a file is opened, so the CLI and the workers obey the same ones.
    """

    max_rows: int = 1_000_000  # IMPORT_MAX_ROWS: data and blank rows of one file
    max_columns: int = 200  # IMPORT_MAX_COLUMNS: cells with a value in one row
    xlsx_max_expanded_bytes: int = 100 * 1024 * 1024  # IMPORT_XLSX_MAX_EXPANDED_BYTES
    xlsx_max_ratio: int = 100  # IMPORT_XLSX_MAX_RATIO: for parts larger than 1 MiB expanded
    xlsx_max_parts: int = 1000  # IMPORT_XLSX_MAX_PARTS: files inside the XLSX archive

    @classmethod
    def from_env(cls) -> ImportLimits:
        """The limits from IMPORT_* variables; the worker and the CLI read the same ones."""
        names = {
            "max_rows": "IMPORT_MAX_ROWS",
            "max_columns": "IMPORT_MAX_COLUMNS",
            "xlsx_max_expanded_bytes": "IMPORT_XLSX_MAX_EXPANDED_BYTES",
            "xlsx_max_ratio": "IMPORT_XLSX_MAX_RATIO",
            "xlsx_max_parts": "IMPORT_XLSX_MAX_PARTS",
        }
        values = {}
        for attribute, variable in names.items():
            raw = os.environ.get(variable, "").strip()
            if not raw:
                continue
            if not raw.isdigit() or int(raw) < 1:
                raise ValueError(f"{variable} must be a whole number of 1 or more; not {raw!r}")
            values[attribute] = int(raw)
        return cls(**values)


@dataclass
class Settings:
    """Everything the service needs to know about its surroundings."""

    instance_path: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    upload_max_bytes: int = 20 * 1024 * 1024
    import_failed_retention_days: int = 14  # uploads of failed or refused imports, then deleted
    mail_server: str | None = None
    mail_port: int = 25
    mail_username: str | None = None
    mail_password: str | None = None
    mail_use_tls: bool = False
    mail_sender: str = "noreply@localhost"
    base_url: str | None = None
    trusted_proxies: int = 0
    session_cookie_secure: bool = False
    rate_limiting: bool = True
    rate_limits: dict[str, str] = field(default_factory=lambda: dict(RATE_LIMIT_DEFAULTS))
    extra: dict = field(default_factory=dict)

    @property
    def uploads_path(self) -> Path:
        return self.instance_path / "uploads"

    @property
    def outbox_path(self) -> Path:
        return self.instance_path / "outbox"

    @property
    def factor_store_path(self) -> Path:
        return Path(os.environ.get("FACTOR_STORE", self.instance_path / "factors"))


def load_settings(**overrides) -> Settings:
    """Build settings from the environment; keyword overrides win (used by tests)."""
    instance = Path(overrides.pop("instance_path", None) or instance_dir())
    instance.mkdir(parents=True, exist_ok=True)
    default_db = f"sqlite:///{instance / 'supplychain.db'}"
    values = dict(
        instance_path=instance,
        database_url=os.environ.get("DATABASE_URL", default_db),
        redis_url=os.environ.get("REDIS_URL") or None,
        secret_key=_secret_key(instance),
        upload_max_bytes=int(os.environ.get("UPLOAD_MAX_BYTES", 20 * 1024 * 1024)),
        import_failed_retention_days=int(os.environ.get("IMPORT_FAILED_RETENTION_DAYS", 14)),
        mail_server=os.environ.get("MAIL_SERVER") or None,
        mail_port=int(os.environ.get("MAIL_PORT", 25)),
        mail_username=os.environ.get("MAIL_USERNAME") or None,
        mail_password=os.environ.get("MAIL_PASSWORD") or None,
        mail_use_tls=os.environ.get("MAIL_USE_TLS", "").lower() in ("1", "true", "yes"),
        mail_sender=os.environ.get("MAIL_SENDER", "noreply@localhost"),
        base_url=_base_url(),
        trusted_proxies=_trusted_proxies(),
        session_cookie_secure=_flag("SESSION_COOKIE_SECURE"),
        rate_limiting=_flag("RATELIMIT_ENABLED") is not False,
        rate_limits={
            name: os.environ.get(f"RATELIMIT_{name.upper()}", default)
            for name, default in RATE_LIMIT_DEFAULTS.items()
        },
    )
    values.update(overrides)
    if values["session_cookie_secure"] is None:
        # Unset: Secure cookies exactly when the public address is HTTPS.
        values["session_cookie_secure"] = (values.get("base_url") or "").startswith("https://")
    return Settings(**values)
