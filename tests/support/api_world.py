"""A seeded API world: one brand with records in every state an API route can meet, and keys.

Built once into an instance folder; tests copy the folder and start an app on the copy, so
what one test writes never reaches another.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from questionnaires import load_definition, responses, shipped_definitions
from questionnaires.publishing import create_draft
from scoring.service import run_scoring
from supplychain import migrate
from supplychain.api_keys import create_api_key
from supplychain.config import load_settings
from supplychain.db import unit_of_work
from supplychain.models import (
    Campaign,
    CampaignStatus,
    Invitation,
    QuestionnaireResponse,
    Role,
    User,
)
from tests.support import builders
from tests.support import campaigns as cs
from web import create_app

# An id no tenant has: every id-taking route must answer it with its documented 404.
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class World:
    """A seeded instance folder, a brand key and a supplier-contact key, and per URL argument
    the ids to pick from: records in different states (the first is the main one, listed in
    `seed_world`) and last one that does not exist."""

    instance: Path
    brand_key: str
    supplier_key: str
    ids: dict[str, tuple[str, ...]]
    published_version_id: str


def _answered(
    s: Session, invitation: Invitation, answers: dict, *, submit: bool
) -> QuestionnaireResponse:
    response = responses.start_response(s, invitation, user_id=None)
    responses.save_answers(s, response, answers, expected_lock=1, user_id=None)
    if submit:
        responses.submit(s, response, user_id=None)
    return response


def seed_world(instance: Path) -> World:
    """One brand with a running campaign to four suppliers, one in each review state:
    submitted (to return or accept), accepted (its disclosure), draft (the response of the
    supplier key's organisation, to save and submit) and only invited; a second campaign with
    every optional column empty; a draft questionnaire of the brand's own, then the shipped
    published one; a scoring run of the four suppliers (one disclosed, three not)."""
    url = f"sqlite:///{instance / 'api.db'}"
    migrate.upgrade(url)
    settings_ = load_settings(database_url=url, instance_path=instance)
    with unit_of_work(url) as s:
        brand, _rels = cs.brand_with_suppliers(s, "fuzz", n=4)
        campaign, _links = cs.launch_campaign(s, settings_, brand)
        submitted, accepted, draft, invited = sorted(campaign.invitations, key=lambda i: i.id)
        _answered(s, submitted, dict(cs.BASE_ANSWERS), submit=True)
        _answered(s, accepted, dict(cs.BASE_ANSWERS), submit=True)
        disclosure = responses.accept(s, accepted, user_id=None)
        draft_response = _answered(s, draft, {"employees": 12}, submit=False)
        sparse = Campaign(  # every column the database lets be empty, empty
            brand_id=brand.id,
            name="Sparse",
            questionnaire_version_id=campaign.questionnaire_version_id,
            reporting_year=2024,
            deadline=date(2025, 3, 31),
            status=CampaignStatus.DRAFT,
        )
        s.add(sparse)
        buyer = s.scalars(select(User).where(User.email == "buyer@fuzz.example")).one()
        contact = builders.user(s, "contact@fuzz-supplier.example", draft.supplier)
        contact.memberships[0].role = Role.SUPPLIER
        definition = load_definition(shipped_definitions()[0]).to_dict()
        version = create_draft(s, {**definition, "key": "fuzz_custom"}, owner_id=brand.id)
        s.flush()
        run_scoring(s, brand_id=brand.id, year=2025)
        records = {
            "campaign_id": (campaign, sparse),
            "invitation_id": (submitted, accepted, draft, invited),
            "response_id": (draft_response,),
            "disclosure_id": (disclosure,),
            "version_id": (version, campaign.questionnaire_version),
            "relationship_id": (accepted.supplier_relationship, invited.supplier_relationship),
        }
        return World(
            instance,
            create_api_key(s, buyer, brand, "fuzz")[1],
            create_api_key(s, contact, draft.supplier, "fuzz")[1],
            {
                name: (*(str(record.public_id) for record in found), UNKNOWN_ID)
                for name, found in records.items()
            },
            str(campaign.questionnaire_version.public_id),
        )


def app_on_copy(world: World, folder: Path) -> Flask:
    """An app on a fresh copy of the world's instance folder."""
    instance = folder / "instance"
    shutil.copytree(world.instance, instance)
    return create_app(
        {
            "TESTING": True,
            "database_url": f"sqlite:///{instance / 'api.db'}",
            "instance_path": instance,
        }
    )
