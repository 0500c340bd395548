"""Writing to the append-only audit trail from any use case."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from supplychain.models import AuditEvent


def record(
    session: Session,
    *,
    action: str,
    entity_type: str,
    entity_id: str | None,
    organization_id: int | None,
    actor_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the caller's transaction (it commits or rolls back with it)."""
    event = AuditEvent(
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        organization_id=organization_id,
        actor_id=actor_id,
        before=before,
        after=after,
    )
    session.add(event)
    return event
