"""Helpers shared by the command-line groups of every package."""

from __future__ import annotations

import click
from sqlalchemy.orm import Session

from supplychain.models import Organization
from supplychain.tenancy import NotFound, organization_by_slug


def organization_or_exit(session: Session, slug: str, *, brand: bool = False) -> Organization:
    """The named organisation, or a clean CLI error (exit 1) that says what is wrong."""
    try:
        return organization_by_slug(session, slug, brand=brand)
    except NotFound as exc:
        raise click.ClickException(str(exc)) from exc
