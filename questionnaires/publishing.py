"""Questionnaire versions in the database: drafts can change, publishing freezes them."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from supplychain.models import Questionnaire, QuestionnaireVersion, VersionStatus, utcnow


class VersionFrozen(ValueError):
    """A published version never changes; make a new version instead."""


def definition_checksum(definition: dict[str, Any]) -> str:
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _validated(definition: dict[str, Any]) -> dict[str, Any]:
    """Round-trip through the schema so only valid definitions are stored."""
    from questionnaires import load_definition

    return load_definition(definition).to_dict()


def create_draft(
    session: Session, definition: dict[str, Any], *, owner_id: int | None = None
) -> QuestionnaireVersion:
    """A new draft version of the questionnaire named by the definition's key."""
    definition = _validated(definition)
    owner_clause = (
        Questionnaire.owner_id.is_(None) if owner_id is None else Questionnaire.owner_id == owner_id
    )
    questionnaire = session.scalars(
        select(Questionnaire).where(Questionnaire.key == definition["key"], owner_clause)
    ).first()
    if questionnaire is None:
        questionnaire = Questionnaire(
            owner_id=owner_id,
            key=definition["key"],
            title_en=definition["title"]["en"],
            title_zh=definition["title"]["zh"],
        )
        session.add(questionnaire)
        session.flush()
    number = max((v.version for v in questionnaire.versions), default=0) + 1
    version = QuestionnaireVersion(
        questionnaire_id=questionnaire.id,
        version=number,
        status=VersionStatus.DRAFT,
        definition={**definition, "version": number},
    )
    session.add(version)
    session.flush()
    return version


def update_draft(
    session: Session, version: QuestionnaireVersion, definition: dict[str, Any]
) -> QuestionnaireVersion:
    if version.status == VersionStatus.PUBLISHED:
        raise VersionFrozen(
            f"version {version.version} is published and frozen; create a new version to change it"
        )
    version.definition = {**_validated(definition), "version": version.version}
    session.flush()
    return version


def publish(session: Session, version: QuestionnaireVersion) -> QuestionnaireVersion:
    if version.status == VersionStatus.PUBLISHED:
        raise VersionFrozen(f"version {version.version} is already published")
    version.definition_sha256 = definition_checksum(version.definition)
    version.status = VersionStatus.PUBLISHED
    version.published_at = utcnow()
    session.flush()
    return version


def install_shipped(session: Session) -> list[QuestionnaireVersion]:
    """Publish each shipped questionnaire once (idempotent; checksum decides)."""
    from questionnaires import load_definition, shipped_definitions

    installed = []
    for path in shipped_definitions():
        definition = load_definition(path).to_dict()
        existing = session.scalars(
            select(QuestionnaireVersion)
            .join(Questionnaire)
            .where(Questionnaire.key == definition["key"], Questionnaire.owner_id.is_(None))
            .order_by(QuestionnaireVersion.version.desc())
        ).first()
        if existing is not None and existing.definition_sha256 == definition_checksum(
            {**definition, "version": existing.version}
        ):
            installed.append(existing)
            continue
        installed.append(publish(session, create_draft(session, definition)))
    return installed


_LOADED: dict[str, object] = {}
_LOADED_LOCK = threading.Lock()
MAX_LOADED = 64


def definition_for(version: QuestionnaireVersion):
    """The loaded definition of a stored version, built once per distinct definition.

    Loading validates the whole definition (tens of milliseconds), far more than a portal page
    costs otherwise; the loaded tree is immutable, so one copy serves every request. Published
    versions are keyed by their frozen checksum, drafts by the checksum of their current JSON.
    """
    from questionnaires import load_definition

    key = version.definition_sha256 if version.status == VersionStatus.PUBLISHED else None
    key = key or definition_checksum(version.definition)
    loaded = _LOADED.get(key)
    if loaded is None:
        loaded = load_definition(version.definition)
        with _LOADED_LOCK:
            if len(_LOADED) >= MAX_LOADED:
                _LOADED.pop(next(iter(_LOADED)))
            _LOADED[key] = loaded
    return loaded


def is_frozen(version: QuestionnaireVersion) -> bool:
    return version.status == VersionStatus.PUBLISHED and version.definition_sha256 == (
        definition_checksum(version.definition)
    )
