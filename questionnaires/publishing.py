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


def _numbered(definition: dict[str, Any], number: int) -> dict[str, Any]:
    """The definition as version ``number`` of its questionnaire.

    A ``carry_over`` from a version not below ``number`` names a version this questionnaire
    does not have (e.g. a brand's copy of shipped version 2 starts at version 1), and would
    make the stored definition invalid, so it is left out.
    """
    numbered = {**definition, "version": number}
    carry = numbered.get("carry_over")
    if carry is not None and carry.get("from_version", 0) >= number:
        del numbered["carry_over"]
    return numbered


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
        definition=_numbered(definition, number),
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
    version.definition = _numbered(_validated(definition), version.version)
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
    """Publish each shipped questionnaire version once (idempotent; checksum decides).

    Returned oldest version first per questionnaire, so ``[0]`` is version 1 and the last of a
    key is its newest, the one new campaigns default to (see :func:`newest_shipped`). A file
    whose content is already published under any version number is reused, so installing
    version 1 next to an installed version 2 never publishes a copy of version 1.
    """
    from questionnaires import load_definition, shipped_definitions

    loaded = sorted(
        (load_definition(path) for path in shipped_definitions()),
        key=lambda d: (d.key, d.version),
    )
    installed = []
    for definition in (d.to_dict() for d in loaded):
        existing = session.scalars(
            select(QuestionnaireVersion)
            .join(Questionnaire)
            .where(
                Questionnaire.key == definition["key"],
                Questionnaire.owner_id.is_(None),
                QuestionnaireVersion.status == VersionStatus.PUBLISHED,
            )
            .order_by(QuestionnaireVersion.version)
        ).all()
        same = next(
            (
                v
                for v in existing
                if v.definition_sha256 == definition_checksum({**definition, "version": v.version})
            ),
            None,
        )
        installed.append(same or publish(session, create_draft(session, definition)))
    return installed


def newest_shipped(session: Session, key: str = "supplier_climate_disclosure"):
    """The newest installed version of a shipped questionnaire: the default for new campaigns."""
    versions = [v for v in install_shipped(session) if v.questionnaire.key == key]
    if not versions:
        raise LookupError(f"no shipped questionnaire {key!r}")
    return max(versions, key=lambda v: v.version)


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
