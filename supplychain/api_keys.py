"""API keys: issue, check and revoke the bearer keys that authenticate JSON API clients.

A key acts for one user within one organisation the user belongs to, with that membership's
role. The plaintext is shown once when the key is made; only its SHA-256 is stored, so a leaked
database does not leak working keys. Removing the membership or deactivating the user stops the
key at once, because both are checked on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from supplychain import audit
from supplychain.models import ApiKey, Membership, Organization, User, utcnow

KEY_PREFIX = "sc_"
DISPLAY_PREFIX_LENGTH = 8
# Writing last_used_at on every call would turn each read into a write; a coarse time is enough.
LAST_USED_RESOLUTION = timedelta(minutes=5)


class ApiKeyError(ValueError):
    """A key that cannot be made as asked, with a message saying why."""


def hash_key(plaintext: str) -> str:
    """Keys are long random strings, so a plain SHA-256 is enough (no slow hash needed)."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def _membership(session: Session, user_id: int, organization_id: int) -> Membership | None:
    return session.scalars(
        select(Membership).where(
            Membership.user_id == user_id, Membership.organization_id == organization_id
        )
    ).first()


def create_api_key(
    session: Session, user: User, organization: Organization, name: str
) -> tuple[ApiKey, str]:
    """A new key for `user` acting in `organization`; the plaintext is returned only here."""
    name = name.strip()
    if not name:
        raise ApiKeyError("an API key needs a name, so its owner can tell it apart later")
    if not user.is_active:
        raise ApiKeyError(f"user {user.email} is not active")
    if _membership(session, user.id, organization.id) is None:
        raise ApiKeyError(f"user {user.email} is not a member of {organization.slug}")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        user_id=user.id,
        organization_id=organization.id,
        name=name[:120],
        key_hash=hash_key(plaintext),
        prefix=plaintext[:DISPLAY_PREFIX_LENGTH],
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        action="api_key.created",
        entity_type="api_key",
        entity_id=str(key.public_id),
        organization_id=organization.id,
        actor_id=user.id,
        after={"name": key.name, "prefix": key.prefix},
    )
    return key, plaintext


def authenticate_api_key(session: Session, plaintext: str) -> tuple[ApiKey, Membership] | None:
    """The live key and the membership it acts with, or None for anything else."""
    if not plaintext or not plaintext.startswith(KEY_PREFIX):
        return None
    key = session.scalars(
        select(ApiKey)
        .join(User, User.id == ApiKey.user_id)
        .where(
            ApiKey.key_hash == hash_key(plaintext),
            ApiKey.revoked_at.is_(None),
            User.is_active.is_(True),
        )
    ).first()
    if key is None:
        return None
    membership = _membership(session, key.user_id, key.organization_id)
    if membership is None:
        return None
    now = utcnow()
    last = key.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    if last is None or now - last >= LAST_USED_RESOLUTION:
        key.last_used_at = now
    return key, membership


def revoke_api_key(session: Session, key: ApiKey, *, actor_id: int | None = None) -> None:
    """A revoked key stops working immediately and for good (make a new one instead)."""
    if key.revoked_at is not None:
        return
    key.revoked_at = utcnow()
    audit.record(
        session,
        action="api_key.revoked",
        entity_type="api_key",
        entity_id=str(key.public_id),
        organization_id=key.organization_id,
        actor_id=actor_id,
        after={"prefix": key.prefix},
    )


# --- command line (attached under `supplychain users` by supplychain/cli.py) -----------------


@click.command("api-key")
@click.option("--email", required=True, help="the user the key acts as")
@click.option("--org", "org_slug", required=True, help="slug of the organisation it acts in")
@click.option("--name", required=True, help="what the key is for, e.g. 'ERP sync'")
def api_key_command(email: str, org_slug: str, name: str) -> None:
    """Create an API key; the key is printed once and cannot be shown again."""
    from supplychain.cli_support import organization_or_exit
    from supplychain.config import load_settings
    from supplychain.db import unit_of_work

    with unit_of_work(load_settings().database_url) as session:
        user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
        if user is None:
            raise click.ClickException(f"no user with email {email!r}")
        org = organization_or_exit(session, org_slug)
        try:
            key, plaintext = create_api_key(session, user, org, name)
        except ApiKeyError as exc:
            raise click.ClickException(str(exc)) from exc
        key_id = key.public_id
    click.echo(f"API key {key_id} ({name}) for {email} in {org_slug}:")
    click.echo(plaintext)
    click.echo("Store it now: it is not shown again. Send it as 'Authorization: Bearer <key>'.")


@click.command("revoke-api-key")
@click.option("--prefix", required=True, help="the first 8 characters of the key")
@click.option("--org", "org_slug", required=True, help="slug of the organisation it acts in")
def revoke_api_key_command(prefix: str, org_slug: str) -> None:
    """Revoke the live API key(s) of an organisation that start with this prefix."""
    from supplychain.cli_support import organization_or_exit
    from supplychain.config import load_settings
    from supplychain.db import unit_of_work

    with unit_of_work(load_settings().database_url) as session:
        org = organization_or_exit(session, org_slug)
        keys = session.scalars(
            select(ApiKey).where(
                ApiKey.organization_id == org.id,
                ApiKey.prefix == prefix,
                ApiKey.revoked_at.is_(None),
            )
        ).all()
        if not keys:
            raise click.ClickException(f"no live key starting {prefix!r} in {org_slug}")
        for key in keys:
            revoke_api_key(session, key)
    click.echo(f"{len(keys)} key(s) revoked")
