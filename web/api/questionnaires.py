"""API for questionnaire versions: list what a brand may send, read, draft, edit and publish.

Visibility: shipped versions (no owner) once published, and every version the brand owns.
Drafting, editing and publishing touch only the brand's own questionnaires.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from questionnaires import publishing
from supplychain.models import Questionnaire, QuestionnaireVersion, VersionStatus
from supplychain.tenancy import NotFound, parse_public_id
from web import get_db
from web.api import schemas
from web.api.core import bp, operation, org_id, paginate
from web.auth import BRAND_ROLES

TAG = "questionnaires"


def _visible(organization_id: int, status: str = "all"):
    """The versions a brand may see: shipped published ones and all of its own."""
    shipped = Questionnaire.owner_id.is_(None) & (
        QuestionnaireVersion.status == VersionStatus.PUBLISHED
    )
    own = Questionnaire.owner_id == organization_id
    if status == "published":
        condition = or_(shipped, own) & (QuestionnaireVersion.status == VersionStatus.PUBLISHED)
    elif status == "draft":
        condition = own & (QuestionnaireVersion.status == VersionStatus.DRAFT)
    else:
        condition = or_(shipped, own)
    return select(QuestionnaireVersion).join(Questionnaire).where(condition)


def visible_version(version_id: Any, organization_id: int) -> QuestionnaireVersion:
    """One version the brand may see (and send), or NotFound."""
    stmt = _visible(organization_id).where(
        QuestionnaireVersion.public_id == parse_public_id(version_id)
    )
    version = get_db().scalars(stmt).first()
    if version is None:
        raise NotFound(str(version_id))
    return version


def _own_version(version_id: str) -> QuestionnaireVersion:
    """Only the brand's own versions can change; a shipped one is as unknown as a foreign one."""
    version = visible_version(version_id, org_id())
    if version.questionnaire.owner_id != org_id():
        raise NotFound(version_id)
    return version


@bp.route("/v1/questionnaires", methods=["GET"])
@operation(
    summary="Questionnaire versions available to the brand",
    tag=TAG,
    roles=BRAND_ROLES,
    query=schemas.QuestionnaireListQuerySchema,
    response=schemas.QuestionnaireVersionPageSchema,
)
def list_questionnaires(query: dict[str, Any]):
    stmt = _visible(org_id(), query["status"]).order_by(
        Questionnaire.key, QuestionnaireVersion.version
    )
    return paginate(stmt, query)


@bp.route("/v1/questionnaires/<version_id>", methods=["GET"])
@operation(
    summary="One questionnaire version with its definition",
    tag=TAG,
    roles=BRAND_ROLES,
    response=schemas.QuestionnaireVersionDetailSchema,
)
def get_questionnaire(version_id: str):
    return visible_version(version_id, org_id())


@bp.route("/v1/questionnaires", methods=["POST"])
@operation(
    summary="Create a draft version from a definition",
    description="The definition is checked by the questionnaire loader; every problem is "
    "listed in `details.definition`. A new key starts a questionnaire; an existing key of "
    "the brand's adds its next version.",
    tag=TAG,
    roles=BRAND_ROLES,
    body=schemas.DefinitionBodySchema,
    response=schemas.QuestionnaireVersionDetailSchema,
    status=201,
)
def create_questionnaire(body: dict[str, Any]):
    db = get_db()
    version = publishing.create_draft(db, body["definition"], owner_id=org_id())
    db.commit()
    return version


@bp.route("/v1/questionnaires/<version_id>", methods=["PUT"])
@operation(
    summary="Replace the definition of a draft version",
    description="A published version is frozen: 409 `version_frozen`.",
    tag=TAG,
    roles=BRAND_ROLES,
    body=schemas.DefinitionBodySchema,
    response=schemas.QuestionnaireVersionDetailSchema,
    errors=(409,),
)
def update_questionnaire(version_id: str, body: dict[str, Any]):
    db = get_db()
    version = publishing.update_draft(db, _own_version(version_id), body["definition"])
    db.commit()
    return version


@bp.route("/v1/questionnaires/<version_id>/publish", methods=["POST"])
@operation(
    summary="Publish (freeze) a draft version",
    tag=TAG,
    roles=BRAND_ROLES,
    response=schemas.QuestionnaireVersionDetailSchema,
    errors=(409,),
)
def publish_questionnaire(version_id: str):
    db = get_db()
    version = publishing.publish(db, _own_version(version_id))
    db.commit()
    return version
