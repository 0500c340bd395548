"""Deterministic demo data: one brand, suppliers over three tiers, tier-n links and a ledger.

The same seed always gives the same organisations, codes, amounts and ids, so screenshots,
tests and documentation can refer to them.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from supplychain.accounts import create_user
from supplychain.models import (
    Membership,
    Organization,
    OrgKind,
    RelationshipStatus,
    Role,
    SpendLine,
    SupplierRelationship,
    SupplyEdge,
    User,
)

DEMO_BRAND_SLUG = "demo-brand"
DEMO_PASSWORD = "demo-pass-2026"
DEMO_LOGINS = (
    ("procurement@demo.example", "Li Na (procurement)", Role.PROCUREMENT, "zh_CN"),
    ("sustainability@demo.example", "Sam Carter (sustainability)", Role.SUSTAINABILITY, "en"),
    ("admin@demo.example", "Demo admin", Role.ADMIN, "en"),
)
SUPPLIER_LOGIN = ("supplier@demo.example", "王强 (supplier contact)", Role.SUPPLIER, "zh_CN")
YEARS = (2024, 2025)

# (category, NAICS 2017 code, Chinese product word, English product word, ledger description)
SECTORS = (
    ("Plastics", "326199", "塑胶制品", "Plastic Products", "注塑外壳 / injection-moulded housings"),
    ("Resin", "325211", "化工材料", "Chemical Materials", "ABS 塑料粒子 / ABS resin pellets"),
    ("Semiconductors", "334413", "半导体", "Semiconductor", "MCU 芯片 / microcontrollers"),
    ("PCB assembly", "334418", "电子科技", "Electronic Technology", "PCBA 贴片加工 / PCB assembly"),
    ("Metal parts", "332119", "五金制品", "Metal Products", "冲压件 / metal stampings"),
    ("Steel", "331110", "钢铁", "Steel", "冷轧钢板 / cold-rolled steel sheet"),
    ("Aluminium", "331313", "铝业", "Aluminium", "铝锭 / aluminium ingot"),
    ("Packaging", "322211", "包装材料", "Packaging Materials", "瓦楞纸箱 / corrugated cartons"),
    ("Textiles", "313210", "纺织", "Textile", "涤纶面料 / polyester fabric"),
    ("Logistics", "484121", "物流", "Logistics", "整车运输 / full-truckload freight"),
    ("Cables", "335929", "线缆", "Cable", "电源线 / power cords"),
    ("Glass", "327211", "玻璃", "Glass", "盖板玻璃 / cover glass"),
)
CN_CITIES = (
    ("深圳市", "Shenzhen"),
    ("东莞市", "Dongguan"),
    ("苏州市", "Suzhou"),
    ("宁波市", "Ningbo"),
    ("佛山市", "Foshan"),
    ("厦门市", "Xiamen"),
    ("无锡市", "Wuxi"),
    ("重庆市", "Chongqing"),
)
CN_NAME_PARTS = (
    ("华瑞", "Huarui"),
    ("鑫达", "Xinda"),
    ("宏盛", "Hongsheng"),
    ("永信", "Yongxin"),
    ("金泰", "Jintai"),
    ("恒通", "Hengtong"),
    ("创联", "Chuanglian"),
    ("海川", "Haichuan"),
    ("嘉禾", "Jiahe"),
    ("立新", "Lixin"),
    ("博远", "Boyuan"),
    ("中科", "Zhongke"),
)
OTHER_COUNTRIES = (
    ("VN", "Vietnam", "USD"),  # many exporters here invoice in USD
    ("IN", "India", "USD"),
    ("DE", "Germany", "EUR"),
    ("US", "United States", "USD"),
    ("JP", "Japan", "JPY"),
    ("MX", "Mexico", "USD"),
)
LATIN_PARTS = ("Nova", "Apex", "Delta", "Sun", "Blue River", "Pioneer", "Keystone", "Orion")


@dataclass
class DemoSummary:
    brand_slug: str
    suppliers: int
    edges: int
    spend_lines: int
    logins: list[tuple[str, str]]

    def describe(self) -> str:
        return (
            f"demo brand {self.brand_slug}: {self.suppliers} suppliers, {self.edges} tier-n links, "
            f"{self.spend_lines} spend lines\n" + describe_logins(self.logins)
        )


def describe_logins(logins: list[tuple[str, str]]) -> str:
    lines = [f"demo logins (password for all: {DEMO_PASSWORD}):"]
    lines += [f"  {email:32s} {role}" for email, role in logins]
    return "\n".join(lines)


def existing_logins(session: Session) -> list[tuple[str, str]]:
    """The demo accounts still present, for `make run` to print on every start."""
    emails = [login[0] for login in DEMO_LOGINS] + [SUPPLIER_LOGIN[0]]
    rows = session.execute(
        select(User.email, Membership.role, Organization.name)
        .join(Membership, Membership.user_id == User.id)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(User.email.in_(emails))
        .order_by(User.id)
    ).all()
    return [
        (email, role.value if role != Role.SUPPLIER else f"supplier contact at {org}")
        for email, role, org in rows
    ]


def exists(session: Session) -> bool:
    return (
        session.scalars(select(Organization).where(Organization.slug == DEMO_BRAND_SLUG)).first()
        is not None
    )


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _supplier_org(rng: random.Random, index: int, sector: tuple) -> Organization:
    category, naics, zh_word, en_word, _ = sector
    if rng.random() < 0.65:
        city_zh, city_en = rng.choice(CN_CITIES)
        part_zh, part_en = rng.choice(CN_NAME_PARTS)
        return Organization(
            public_id=_uuid(rng),
            slug=f"demo-sup-{index:05d}",
            kind=OrgKind.SUPPLIER,
            name=f"{city_zh}{part_zh}{zh_word}有限公司",
            name_en=f"{city_en} {part_en} {en_word} Co., Ltd.",
            registration_id=f"9144{index:014d}",
            country="CN",
            sector_code=naics,
            sector_system="NAICS2017",
            default_currency="CNY",
        )
    code, country_name, currency = rng.choice(OTHER_COUNTRIES)
    name = f"{rng.choice(LATIN_PARTS)} {en_word} {country_name}"
    return Organization(
        public_id=_uuid(rng),
        slug=f"demo-sup-{index:05d}",
        kind=OrgKind.SUPPLIER,
        name=name,
        country=code,
        sector_code=naics,
        sector_system="NAICS2017",
        default_currency=currency,
    )


def load(session: Session, *, suppliers: int = 300, seed: int = 7) -> DemoSummary:
    """Create the demo brand and its supply network in the caller's transaction."""
    rng = random.Random(seed)
    brand = Organization(
        public_id=_uuid(rng),
        slug=DEMO_BRAND_SLUG,
        kind=OrgKind.BRAND,
        name="Aurora Devices 极光电子",
        name_en="Aurora Devices",
        country="US",
        sector_code="334220",
        sector_system="NAICS2017",
        default_currency="USD",
    )
    session.add(brand)
    tiers = [
        1 if i < suppliers * 0.45 else 2 if i < suppliers * 0.8 else 3 for i in range(suppliers)
    ]
    orgs, relationships = [], []
    for index, tier in enumerate(tiers):
        sector = rng.choice(SECTORS)
        org = _supplier_org(rng, index, sector)
        orgs.append(org)
        status = rng.choices(
            [
                RelationshipStatus.ACTIVE,
                RelationshipStatus.UNDER_REVIEW,
                RelationshipStatus.DELISTED,
            ],
            weights=[85, 10, 5],
        )[0]
        spend = None
        if tier == 1:
            spend = Decimal(round(rng.lognormvariate(13.5, 1.2), 2)).quantize(Decimal("0.01"))
        relationships.append(
            SupplierRelationship(
                public_id=_uuid(rng),
                brand=brand,
                supplier=org,
                supplier_code=f"S{index + 1:05d}",
                contact_email=f"esg@{org.slug}.example" if tier == 1 else None,
                category=sector[0],
                tier=tier,
                status=status,
                annual_spend=spend,
                spend_currency=org.default_currency if spend is not None else None,
                spend_year=YEARS[-1] if spend is not None else None,
            )
        )
    contact_org = demo_supplier_org(orgs, tiers)
    for rel in relationships:
        if rel.supplier is contact_org:
            rel.contact_email = SUPPLIER_LOGIN[0]
    session.add_all(orgs + relationships)
    session.flush()
    edges = _tier_links(rng, brand, orgs, tiers)
    session.add_all(edges)
    lines = _ledger(rng, brand, relationships)
    session.add_all(lines)
    logins = _users(session, brand, orgs, tiers)
    session.flush()
    return DemoSummary(DEMO_BRAND_SLUG, suppliers, len(edges), len(lines), logins)


def _tier_links(
    rng: random.Random, brand: Organization, orgs: list[Organization], tiers: list[int]
) -> list[SupplyEdge]:
    """Each tier-2 supplier sells to one or two tier-1s; each tier-3 to one or two tier-2s."""
    by_tier = {t: [o for o, ot in zip(orgs, tiers, strict=True) if ot == t] for t in (1, 2, 3)}
    edges = []
    for tier in (2, 3):
        customers = by_tier[tier - 1]
        for supplier in by_tier[tier]:
            for customer in rng.sample(customers, k=min(len(customers), rng.choice((1, 1, 2)))):
                reported = rng.random() < 0.4
                edges.append(
                    SupplyEdge(
                        public_id=_uuid(rng),
                        brand_id=brand.id,
                        supplier_id=supplier.id,
                        customer_id=customer.id,
                        allocation_share=(
                            Decimal(str(round(rng.uniform(0.02, 0.3), 4))) if reported else None
                        ),
                        allocation_basis="revenue" if reported else None,
                        spend=Decimal(round(rng.lognormvariate(12.0, 1.0), 2)).quantize(
                            Decimal("0.01")
                        ),
                        currency=customer.default_currency,
                        year=YEARS[-1],
                        source="demo",
                    )
                )
    return edges


def _ledger(
    rng: random.Random, brand: Organization, relationships: list[SupplierRelationship]
) -> list[SpendLine]:
    """Monthly-ish invoices from every tier-1 supplier, in the supplier's currency."""
    sector_text = {s[0]: s[4] for s in SECTORS}
    lines = []
    for rel in relationships:
        if rel.tier != 1 or rel.annual_spend is None:
            continue
        for year in YEARS:
            invoices = rng.randint(6, 18)
            for n in range(invoices):
                day = date(year, 1, 1) + timedelta(days=rng.randint(0, 364))
                amount = (
                    rel.annual_spend / invoices * Decimal(str(rng.uniform(0.6, 1.4)))
                ).quantize(Decimal("0.01"))
                ref = f"INV-{year}-{rel.supplier_code}-{n + 1:03d}"
                key = hashlib.sha256(f"{brand.slug}|{ref}".encode()).hexdigest()
                lines.append(
                    SpendLine(
                        public_id=_uuid(rng),
                        brand_id=brand.id,
                        relationship_id=rel.id,
                        amount=amount,
                        currency=rel.spend_currency,
                        spend_date=day,
                        category=rel.category,
                        sector_code=rel.supplier.sector_code,
                        sector_system="NAICS2017",
                        description=sector_text[rel.category],
                        document_ref=ref,
                        source_file="demo",
                        line_key=key,
                    )
                )
    return lines


def demo_supplier_org(orgs: list[Organization], tiers: list[int]) -> Organization:
    """The Chinese tier-1 supplier whose contact is the demo supplier login."""
    return next(o for o, t in zip(orgs, tiers, strict=True) if t == 1 and o.country == "CN")


def _users(
    session: Session, brand: Organization, orgs: list[Organization], tiers: list[int]
) -> list[tuple[str, str]]:
    logins = []
    for email, name, role, locale in DEMO_LOGINS:
        create_user(
            session,
            email=email,
            password=DEMO_PASSWORD,
            display_name=name,
            organization=brand,
            role=role,
            locale=locale,
        )
        logins.append((email, role.value))
    supplier_org = demo_supplier_org(orgs, tiers)
    email, name, role, locale = SUPPLIER_LOGIN
    create_user(
        session,
        email=email,
        password=DEMO_PASSWORD,
        display_name=name,
        organization=supplier_org,
        role=role,
        locale=locale,
    )
    logins.append((email, f"supplier contact at {supplier_org.name}"))
    return logins


def load_footprint(session: Session, brand: Organization | str = DEMO_BRAND_SLUG) -> str:
    """Store a completed footprint run of the demo brand for the last ledger year.

    Call at the end of the demo load, once disclosures exist, so the console opens on a
    result; suppliers without a disclosure are estimated from spend, so it also works
    without any. Runs in the caller's transaction and returns a line to print.
    """
    from supplychain.footprint.storage import run_footprint

    if isinstance(brand, str):
        brand = session.scalars(select(Organization).where(Organization.slug == brand)).one()
    session.flush()
    run = run_footprint(
        session, brand_id=brand.id, year=YEARS[-1], dataset="starter", samples=1000, seed=0
    )
    return (
        f"footprint {run.reporting_year}: {float(run.scope3_cat1_kg) / 1000:,.0f} t CO2e "
        f"Scope 3 Category 1 (run {run.public_id})"
    )
