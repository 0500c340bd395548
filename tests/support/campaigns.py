"""Builders for campaign tests: a brand with invitable suppliers, a launched campaign, links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from questionnaires import campaigns
from questionnaires.publishing import install_shipped
from supplychain.config import Settings
from supplychain.mail import read_outbox
from supplychain.models import Campaign, Organization, Role, SupplierRelationship
from tests.support import builders
from tests.support import questionnaire_samples as samples

LINK = re.compile(r"http://[^\s]+/portal/i/[A-Za-z0-9_\-]+")

# A complete activity-data answer set for the shipped questionnaire, reporting year 2025.
BASE_ANSWERS = {
    **samples.BASE_ANSWERS,
    **samples.ACTIVITY,
    "company_name": "宁波永信五金制品有限公司",
    "reporting_year": 2025,
    "sector_code_system": "naics",
    "sector_code": "332119",
}


@dataclass
class LaunchedCampaign:
    brand: Organization
    campaign: Campaign
    relationships: list[SupplierRelationship]
    links: dict[str, str]


def brand_with_suppliers(
    session: Session, slug: str, suppliers: list[Organization] | None = None, n: int = 2
) -> tuple[Organization, list[SupplierRelationship]]:
    brand = builders.brand(session, slug, name=f"{slug.title()} Brand")
    builders.user(session, f"buyer@{slug}.example", brand, Role.PROCUREMENT)
    suppliers = suppliers or [builders.supplier(session, f"{slug} 供应商 {i}") for i in range(n)]
    rels = [
        builders.relationship(
            session,
            brand,
            sup,
            f"{slug.upper()}-{i:03d}",
            tier=1,
            contact_email=f"contact{i}@{sup.slug}.example",
        )
        for i, sup in enumerate(suppliers)
    ]
    return brand, rels


def launch_campaign(
    session: Session,
    settings: Settings,
    brand: Organization,
    *,
    deadline: date | None = None,
    name: str = "Supplier climate disclosure 2025",
) -> tuple[Campaign, dict[int, str]]:
    version = install_shipped(session)[0]
    campaign = campaigns.create_campaign(
        session,
        brand_id=brand.id,
        name=name,
        questionnaire_version=version,
        reporting_year=2025,
        deadline=deadline or date.today() + timedelta(days=30),
        supplier_filter=campaigns.SupplierFilter(),
    )
    result = campaigns.launch(session, settings, campaign, base_url="http://testserver")
    return campaign, {i.relationship_id: result.links[i.id] for i in result.invited}


def links_in_outbox(settings: Settings) -> list[tuple[str, str]]:
    """(recipient, link) for every message in the outbox."""
    found = []
    for message in read_outbox(settings):
        for link in dict.fromkeys(LINK.findall(message.get_content())):
            found.append((message["To"], link))
    return found


def shipped_definition() -> dict:
    """The shipped questionnaire as a plain dict, for tests that derive their own versions."""
    from questionnaires import load_shipped

    return load_shipped("supplier_climate_disclosure").to_dict()
