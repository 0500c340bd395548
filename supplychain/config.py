"""Runtime settings read from the environment, with embedded defaults that need no server."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


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


@dataclass
class Settings:
    """Everything the service needs to know about its surroundings."""

    instance_path: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    upload_max_bytes: int = 20 * 1024 * 1024
    mail_server: str | None = None
    mail_port: int = 25
    mail_username: str | None = None
    mail_password: str | None = None
    mail_use_tls: bool = False
    mail_sender: str = "noreply@localhost"
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
        mail_server=os.environ.get("MAIL_SERVER") or None,
        mail_port=int(os.environ.get("MAIL_PORT", 25)),
        mail_username=os.environ.get("MAIL_USERNAME") or None,
        mail_password=os.environ.get("MAIL_PASSWORD") or None,
        mail_use_tls=os.environ.get("MAIL_USE_TLS", "").lower() in ("1", "true", "yes"),
        mail_sender=os.environ.get("MAIL_SENDER", "noreply@localhost"),
    )
    values.update(overrides)
    return Settings(**values)
