"""Tenant scoping: every query that returns tenant data passes through these functions.

A record belongs to the organisation named by its model's `tenant_column`. An id that exists
but belongs to another tenant is indistinguishable from an id that does not exist.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from supplychain.models import Base, Organization, OrgKind

T = TypeVar("T", bound=Base)


class NotFound(LookupError):
    """The record does not exist for this tenant (it may exist for another)."""


def scoped(model: type[T], organization_id: int) -> Select[tuple[T]]:
    """A SELECT of `model` restricted to one tenant."""
    column = getattr(model, "tenant_column", None)
    if column is None:
        raise TypeError(f"{model.__name__} is not tenant data; it has no tenant_column")
    return select(model).where(getattr(model, column) == organization_id)


def parse_public_id(value: str | uuid.UUID) -> uuid.UUID:
    """A malformed id is simply not found, never a 500."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound(str(value)) from exc


def maybe_public_id(value: str | uuid.UUID | None) -> uuid.UUID | None:
    """The id as a UUID, or None when it cannot be one (for optional form and session values)."""
    try:
        return parse_public_id(value) if value else None
    except NotFound:
        return None


def find_by_public_id(session: Session, model: type[T], public_id: str | uuid.UUID) -> T:
    """One record by public id, not scoped: for callers that check access themselves
    (link holders, shared evidence). Raises NotFound."""
    record = session.scalars(
        select(model).where(model.public_id == parse_public_id(public_id))
    ).one_or_none()
    if record is None:
        raise NotFound(str(public_id))
    return record


def get_scoped(
    session: Session, model: type[T], public_id: str | uuid.UUID, organization_id: int
) -> T:
    """Fetch one record by public id within a tenant, or raise NotFound."""
    stmt = scoped(model, organization_id).where(model.public_id == parse_public_id(public_id))
    record = session.scalars(stmt).one_or_none()
    if record is None:
        raise NotFound(str(public_id))
    return record


def organization_by_slug(session: Session, slug: str, *, brand: bool = False) -> Organization:
    """The organisation an operator names on the command line; NotFound says what is wrong."""
    org = session.scalars(select(Organization).where(Organization.slug == slug)).one_or_none()
    if org is None:
        raise NotFound(f"no organisation with slug '{slug}'")
    if brand and org.kind != OrgKind.BRAND:
        raise NotFound(f"organisation '{slug}' is a {org.kind.value}, not a brand")
    return org
