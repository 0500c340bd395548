"""Read models over stored scoring runs for the console, the portal, the API and exports.

Every function is scoped to one brand (or, for the portal, one supplier organisation) and
answers a page with a fixed number of queries, whatever the number of rows: pages, the API
and exports use these rather than their own queries, so they all show the same numbers.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from supplychain.models import (
    ActionStatus,
    CorrectiveAction,
    FootprintRun,
    Organization,
    ScoreItem,
    ScoringRun,
    ScoringSettings,
    SupplierRelationship,
    SupplierScore,
)
from supplychain.numbers import finite_or_none
from supplychain.tenancy import NotFound, parse_public_id

from .explain import DEFAULT_BENCHMARK_PCT
from .methodology import load_methodology

__all__ = [
    "GRID_LEVELS",
    "SORTS",
    "GridCell",
    "HistoryEntry",
    "Page",
    "RankingFilters",
    "RankingRow",
    "Scorecard",
    "actions_for",
    "benchmark_pct",
    "grid",
    "item_reasons",
    "latest_run",
    "latest_runs_by_year",
    "ranking",
    "relationship_for",
    "run_by_public_id",
    "scorecard",
    "scoring_settings",
    "supplier_view",
    # insights (engagement priority, SBTi tracking, award comparison)
    "AwardComparison",
    "AwardOption",
    "EngagementPriority",
    "EngagementRow",
    "SbtiTarget",
    "SbtiYear",
    "award_comparison",
    "brand_cat1_kg",
    "category_scores",
    "effective_intensity",
    "engagement_priority",
    "intensity_params",
    "sbti_engagement",
    "sbti_target",
    "score_categories",
    "scored_relationships",
]

GRID_LEVELS = ("low", "medium", "high")
OPEN_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
MAX_PER_PAGE = 500

#: Sort keys the ranking accepts, and the column each orders by.
SORTS: dict[str, Any] = {
    "rank": SupplierScore.rank,
    "composite": SupplierScore.composite,
    "emissions_score": SupplierScore.emissions_score,
    "targets_score": SupplierScore.targets_score,
    "maturity_score": SupplierScore.maturity_score,
    "data_quality_score": SupplierScore.data_quality_score,
    "spend": SupplierScore.spend,
    "spend_share": SupplierScore.spend_share,
    "dq_score": SupplierScore.dq_score,
    "intensity": SupplierScore.intensity,
    "contribution_kg": SupplierScore.contribution_kg,
    "engagement_potential_kg": SupplierScore.engagement_potential_kg,
    "supplier_name": Organization.name,
    "supplier_code": SupplierRelationship.supplier_code,
    "band": SupplierScore.band,
    "tier": SupplierRelationship.tier,
}


@dataclass(frozen=True)
class RankingFilters:
    """What the ranking can be narrowed to; None means no restriction."""

    band: str | None = None
    disclosed_group: str | None = None
    tier: int | None = None
    category: str | None = None
    country: str | None = None
    grid_cell: str | None = None
    risk_level: str | None = None
    capability_level: str | None = None
    target_status: str | None = None
    spend_min: float | None = None
    spend_max: float | None = None
    score_min: float | None = None
    score_max: float | None = None
    dq_min: float | None = None
    dq_max: float | None = None
    search: str | None = None


@dataclass(frozen=True)
class RankingRow:
    """One supplier's score with the relationship facts a ranking row shows."""

    score: SupplierScore
    relationship_public_id: uuid.UUID
    supplier_code: str
    supplier_name: str
    tier: int
    category: str | None
    country: str | None


@dataclass(frozen=True)
class Page:
    rows: list[RankingRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


@dataclass(frozen=True)
class GridCell:
    """One cell of the risk × capability grid: how many suppliers, how much spend."""

    risk_level: str
    capability_level: str
    count: int
    spend: float
    contribution_kg: float

    @property
    def cell(self) -> str:
        return f"{self.risk_level}:{self.capability_level}"


@dataclass(frozen=True)
class HistoryEntry:
    """A supplier's score in one earlier (or the current) run."""

    run_public_id: uuid.UUID
    reporting_year: int
    methodology_version: str
    created_at: Any
    composite: float
    band: str
    emissions_score: float
    targets_score: float
    maturity_score: float
    data_quality_score: float
    maturity_letter: str
    responded: bool


@dataclass
class Scorecard:
    """Everything one supplier's scorecard shows for one brand."""

    brand: Organization
    relationship: SupplierRelationship
    supplier: Organization
    run: ScoringRun | None
    score: SupplierScore | None
    items: list[ScoreItem] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    actions: list[CorrectiveAction] = field(default_factory=list)


def latest_run(session: Session, brand_id: int, year: int | None = None) -> ScoringRun | None:
    """The brand's newest run (of the latest scored year, or of ``year``)."""
    stmt = select(ScoringRun).where(ScoringRun.brand_id == brand_id)
    if year is not None:
        stmt = stmt.where(ScoringRun.reporting_year == year)
    return session.scalars(
        stmt.order_by(ScoringRun.reporting_year.desc(), ScoringRun.id.desc()).limit(1)
    ).first()


def latest_runs_by_year(session: Session, brand_id: int) -> list[ScoringRun]:
    """The newest run of every year the brand scored, oldest year first (for trends)."""
    newest = (
        select(func.max(ScoringRun.id))
        .where(ScoringRun.brand_id == brand_id)
        .group_by(ScoringRun.reporting_year)
    )
    return list(
        session.scalars(
            select(ScoringRun).where(ScoringRun.id.in_(newest)).order_by(ScoringRun.reporting_year)
        )
    )


def run_by_public_id(session: Session, brand_id: int, public_id: uuid.UUID) -> ScoringRun | None:
    """One of the brand's runs by its public id; another brand's run is None."""
    return session.scalars(
        select(ScoringRun).where(ScoringRun.brand_id == brand_id, ScoringRun.public_id == public_id)
    ).first()


def scoring_settings(session: Session, brand_id: int) -> ScoringSettings | None:
    return session.scalars(
        select(ScoringSettings).where(ScoringSettings.brand_id == brand_id)
    ).first()


def _filtered(stmt: Select, filters: RankingFilters) -> Select:
    f = filters
    equal = (
        (SupplierScore.band, f.band),
        (SupplierScore.disclosed_group, f.disclosed_group),
        (SupplierRelationship.tier, f.tier),
        (SupplierRelationship.category, f.category),
        (Organization.country, f.country),
        (SupplierScore.grid_cell, f.grid_cell),
        (SupplierScore.risk_level, f.risk_level),
        (SupplierScore.capability_level, f.capability_level),
        (SupplierScore.target_status, f.target_status),
    )
    for column, value in equal:
        if value is not None:
            stmt = stmt.where(column == value)
    ranges = (
        (SupplierScore.spend, f.spend_min, f.spend_max),
        (SupplierScore.composite, f.score_min, f.score_max),
        (SupplierScore.dq_score, f.dq_min, f.dq_max),
    )
    for column, low, high in ranges:
        if low is not None:
            stmt = stmt.where(column >= low)
        if high is not None:
            stmt = stmt.where(column <= high)
    if f.search:
        pattern = "%" + f.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Organization.name.ilike(pattern, escape="\\"),
                SupplierRelationship.supplier_code.ilike(pattern, escape="\\"),
            )
        )
    return stmt


def _ranking_base(run: ScoringRun) -> Select:
    return (
        select(
            SupplierScore,
            SupplierRelationship.public_id,
            SupplierRelationship.supplier_code,
            Organization.name,
            SupplierRelationship.tier,
            SupplierRelationship.category,
            Organization.country,
        )
        .join(SupplierRelationship, SupplierRelationship.id == SupplierScore.relationship_id)
        .join(Organization, Organization.id == SupplierScore.supplier_id)
        .where(SupplierScore.run_id == run.id, SupplierRelationship.brand_id == run.brand_id)
    )


def ranking(
    session: Session,
    run: ScoringRun,
    *,
    filters: RankingFilters | None = None,
    sort: str = "rank",
    descending: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """One page of a run's suppliers, filtered and sorted (two queries: count and page).

    The default order puts disclosed suppliers first in rank order, then the not-disclosed
    group by composite: a supplier without a response is never ranked among those who
    answered. Unknown values sort last whichever the direction; ties keep the score's order.
    """
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; one of {', '.join(SORTS)}")
    page = max(1, int(page))
    per_page = min(max(1, int(per_page)), MAX_PER_PAGE)
    filters = filters or RankingFilters()
    stmt = _filtered(_ranking_base(run), filters)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    column = SORTS[sort]
    if sort == "rank":
        order = [
            SupplierScore.rank.is_(None),
            SupplierScore.rank.desc() if descending else SupplierScore.rank,
            SupplierScore.composite.desc(),
        ]
    else:
        order = [column.is_(None), column.desc() if descending else column]
    rows = session.execute(
        stmt.order_by(*order, SupplierScore.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(
        rows=[RankingRow(*row) for row in rows],
        total=int(total or 0),
        page=page,
        per_page=per_page,
    )


def grid(session: Session, run: ScoringRun) -> list[GridCell]:
    """All nine cells of the run's risk × capability grid (empty ones included), one query."""
    found = {
        (risk, capability): (count, spend, kg)
        for risk, capability, count, spend, kg in session.execute(
            select(
                SupplierScore.risk_level,
                SupplierScore.capability_level,
                func.count(),
                func.coalesce(func.sum(SupplierScore.spend), 0.0),
                func.coalesce(func.sum(SupplierScore.contribution_kg), 0.0),
            )
            .where(SupplierScore.run_id == run.id)
            .group_by(SupplierScore.risk_level, SupplierScore.capability_level)
        )
    }
    cells = []
    for risk in reversed(GRID_LEVELS):  # high risk first, as the grid is drawn
        for capability in GRID_LEVELS:
            count, spend, kg = found.get((risk, capability), (0, 0.0, 0.0))
            cells.append(GridCell(risk, capability, int(count), float(spend), float(kg)))
    return cells


def relationship_for(
    session: Session, brand_id: int, relationship: int | uuid.UUID
) -> SupplierRelationship | None:
    """The brand's relationship by internal or public id; another brand's is None."""
    column = (
        SupplierRelationship.public_id
        if isinstance(relationship, uuid.UUID)
        else SupplierRelationship.id
    )
    return session.scalars(
        select(SupplierRelationship).where(
            SupplierRelationship.brand_id == brand_id, column == relationship
        )
    ).first()


def actions_for(
    session: Session,
    brand_id: int,
    relationship_id: int | None = None,
    *,
    open_only: bool = False,
) -> list[CorrectiveAction]:
    """The brand's corrective actions (of one relationship), open ones and most points first."""
    stmt = select(CorrectiveAction).where(CorrectiveAction.brand_id == brand_id)
    if relationship_id is not None:
        stmt = stmt.where(CorrectiveAction.relationship_id == relationship_id)
    if open_only:
        stmt = stmt.where(CorrectiveAction.status.in_(OPEN_STATUSES))
    still_open = CorrectiveAction.status.in_(OPEN_STATUSES)
    return list(
        session.scalars(
            stmt.order_by(
                still_open.desc(),
                CorrectiveAction.points_at_stake.desc(),
                CorrectiveAction.id,
            )
        )
    )


def _history(session: Session, relationship_id: int) -> list[HistoryEntry]:
    rows = session.execute(
        select(SupplierScore, ScoringRun)
        .join(ScoringRun, ScoringRun.id == SupplierScore.run_id)
        .where(SupplierScore.relationship_id == relationship_id)
        .order_by(ScoringRun.reporting_year.desc(), ScoringRun.id.desc())
    ).all()
    return [
        HistoryEntry(
            run_public_id=run.public_id,
            reporting_year=run.reporting_year,
            methodology_version=run.methodology_version,
            created_at=run.created_at,
            composite=score.composite,
            band=score.band,
            emissions_score=score.emissions_score,
            targets_score=score.targets_score,
            maturity_score=score.maturity_score,
            data_quality_score=score.data_quality_score,
            maturity_letter=score.maturity_letter,
            responded=score.responded,
        )
        for score, run in rows
    ]


def scorecard(
    session: Session,
    brand_id: int,
    relationship_id: int | uuid.UUID,
    *,
    year: int | None = None,
) -> Scorecard | None:
    """One supplier's scorecard for a brand: its score in the latest run that scored it (of
    ``year`` when given), the items, its history across runs and years, and its actions.

    ``relationship_id`` is the internal id or the public UUID; None when the brand has no such
    supplier (another tenant's id included).
    """
    relationship = relationship_for(session, brand_id, relationship_id)
    if relationship is None:
        return None
    brand = session.get(Organization, brand_id)
    supplier = session.get(Organization, relationship.supplier_id)
    stmt = (
        select(SupplierScore, ScoringRun)
        .join(ScoringRun, ScoringRun.id == SupplierScore.run_id)
        .where(
            SupplierScore.relationship_id == relationship.id,
            ScoringRun.brand_id == brand_id,
        )
    )
    if year is not None:
        stmt = stmt.where(ScoringRun.reporting_year == year)
    found = session.execute(
        stmt.order_by(ScoringRun.reporting_year.desc(), ScoringRun.id.desc()).limit(1)
    ).first()
    card = Scorecard(brand, relationship, supplier, None, None)
    if found is not None:
        card.score, card.run = found
        card.items = list(
            session.scalars(
                select(ScoreItem).where(ScoreItem.score_id == card.score.id).order_by(ScoreItem.id)
            )
        )
    card.history = _history(session, relationship.id)
    card.actions = actions_for(session, brand_id, relationship.id)
    return card


def supplier_view(session: Session, supplier_org_id: int) -> list[Scorecard]:
    """A supplier's scorecards with every brand that has scored it (for the portal).

    Only open and in-progress actions are included: what the supplier still has to do.
    """
    scored = (
        select(SupplierScore.relationship_id)
        .where(SupplierScore.supplier_id == supplier_org_id)
        .distinct()
    )
    relationships = session.scalars(
        select(SupplierRelationship)
        .join(Organization, Organization.id == SupplierRelationship.brand_id)
        .where(
            SupplierRelationship.supplier_id == supplier_org_id,
            SupplierRelationship.id.in_(scored),
        )
        .order_by(Organization.name, SupplierRelationship.id)
    ).all()
    cards = []
    for relationship in relationships:
        card = scorecard(session, relationship.brand_id, relationship.id)
        if card is None or card.score is None:
            continue
        card.actions = [a for a in card.actions if a.status in OPEN_STATUSES]
        cards.append(card)
    return cards


# --- Insights: engagement priority, SBTi engagement tracking, award comparison ----------------
# (added by the INSIGHTS helper for /console/scores/engagement, /sbti and /compare)

MAX_PAGE = 1_000_000  # page numbers beyond this are clamped, as on the supplier list


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None


def brand_cat1_kg(session: Session, run: ScoringRun) -> float | None:
    """The brand's Scope 3 Category 1 behind a scoring run: its footprint run's total, else the
    sum of the suppliers' contributions in the run (None when neither is known)."""
    if run.footprint_run_id is not None:
        footprint = session.get(FootprintRun, run.footprint_run_id)
        if footprint is not None and footprint.scope3_cat1_kg is not None:
            return float(footprint.scope3_cat1_kg)
    total = session.scalar(
        select(func.sum(SupplierScore.contribution_kg)).where(SupplierScore.run_id == run.id)
    )
    return _finite(total)


@dataclass(frozen=True)
class EngagementRow:
    """A supplier in engagement order, with what it and those above it cover."""

    position: int
    score: SupplierScore
    relationship: SupplierRelationship
    cumulative_potential_share: float | None  # of the run's total engagement potential
    cumulative_cat1_share: float | None  # of the brand's Category 1


@dataclass(frozen=True)
class EngagementPriority:
    rows: list[EngagementRow]
    total: int  # suppliers with an engagement potential
    without_estimate: int  # suppliers whose potential could not be estimated
    page: int
    per_page: int
    total_potential_kg: float
    cat1_kg: float | None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def engagement_priority(
    session: Session, run: ScoringRun, *, page: int = 1, per_page: int = 50
) -> EngagementPriority:
    """Suppliers ordered by the emissions engagement could reduce (spend × intensity ×
    (1 − maturity), stored as `engagement_potential_kg`), largest first, with the cumulative
    share of the potential and of the brand's Category 1 covered down to each row."""
    has_potential = (
        SupplierScore.run_id == run.id,
        SupplierScore.engagement_potential_kg.is_not(None),
    )
    total, potential = session.execute(
        select(func.count(), func.coalesce(func.sum(SupplierScore.engagement_potential_kg), 0.0))
        .select_from(SupplierScore)
        .where(*has_potential)
    ).one()
    without = session.scalar(
        select(func.count())
        .select_from(SupplierScore)
        .where(SupplierScore.run_id == run.id, SupplierScore.engagement_potential_kg.is_(None))
    )
    order = (SupplierScore.engagement_potential_kg.desc(), SupplierScore.id)
    cumulative_potential = func.sum(SupplierScore.engagement_potential_kg).over(order_by=order)
    cumulative_cat1 = func.sum(func.coalesce(SupplierScore.contribution_kg, 0.0)).over(
        order_by=order
    )
    ranked = (
        select(
            SupplierScore.id.label("score_id"),
            func.row_number().over(order_by=order).label("position"),
            cumulative_potential.label("cumulative_potential"),
            cumulative_cat1.label("cumulative_cat1"),
        )
        .where(*has_potential)
        .subquery()
    )
    page = min(max(1, int(page)), MAX_PAGE)
    per_page = min(max(1, int(per_page)), MAX_PER_PAGE)
    rows = session.execute(
        select(
            SupplierScore,
            SupplierRelationship,
            ranked.c.position,
            ranked.c.cumulative_potential,
            ranked.c.cumulative_cat1,
        )
        .join(ranked, ranked.c.score_id == SupplierScore.id)
        .join(SupplierRelationship, SupplierRelationship.id == SupplierScore.relationship_id)
        .order_by(ranked.c.position)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    cat1 = brand_cat1_kg(session, run)
    potential = float(potential or 0.0)
    return EngagementPriority(
        rows=[
            EngagementRow(
                position=int(position),
                score=score,
                relationship=relationship,
                cumulative_potential_share=(
                    float(cum_potential) / potential if potential > 0 else None
                ),
                cumulative_cat1_share=float(cum_cat1) / cat1 if cat1 else None,
            )
            for score, relationship, position, cum_potential, cum_cat1 in rows
        ],
        total=int(total),
        without_estimate=int(without or 0),
        page=page,
        per_page=per_page,
        total_potential_kg=potential,
        cat1_kg=cat1,
    )


@dataclass(frozen=True)
class SbtiTarget:
    share: float  # 0..1 of Category 1 emissions from suppliers with science-based targets
    year: int
    is_default: bool


def sbti_target(session: Session, brand_id: int) -> SbtiTarget:
    """The brand's SBTi supplier-engagement target (ScoringSettings.overrides["sbti_target"]),
    or the shipped methodology's default (67 % by 2030) when it has set none or one that
    cannot be read."""
    settings = scoring_settings(session, brand_id)
    chosen = ((settings.overrides or {}) if settings is not None else {}).get("sbti_target")
    if isinstance(chosen, dict):
        share, year = chosen.get("share"), chosen.get("year")
        if (
            isinstance(share, int | float)
            and not isinstance(share, bool)
            and 0 < float(share) <= 1
            and isinstance(year, int)
            and not isinstance(year, bool)
        ):
            return SbtiTarget(float(share), year, is_default=False)
    shipped = load_methodology().config["sbti_target"]
    return SbtiTarget(float(shipped["share"]), int(shipped["year"]), is_default=True)


@dataclass(frozen=True)
class SbtiYear:
    """One reporting year of SBTi engagement, from the latest scoring run of that year."""

    year: int
    run: ScoringRun
    emissions_kg: float
    validated_kg: float
    committed_kg: float
    spend: float
    validated_spend: float
    committed_spend: float

    @staticmethod
    def _share(part: float, whole: float) -> float | None:
        return part / whole if whole > 0 else None

    @property
    def validated_emissions_share(self) -> float | None:
        return self._share(self.validated_kg, self.emissions_kg)

    @property
    def committed_emissions_share(self) -> float | None:
        return self._share(self.committed_kg, self.emissions_kg)

    @property
    def emissions_share(self) -> float | None:
        return self._share(self.validated_kg + self.committed_kg, self.emissions_kg)

    @property
    def validated_spend_share(self) -> float | None:
        return self._share(self.validated_spend, self.spend)

    @property
    def committed_spend_share(self) -> float | None:
        return self._share(self.committed_spend, self.spend)

    @property
    def spend_share(self) -> float | None:
        return self._share(self.validated_spend + self.committed_spend, self.spend)


def sbti_engagement(session: Session, brand_id: int) -> list[SbtiYear]:
    """Per reporting year (oldest first), the share of Category 1 emissions (suppliers'
    contributions) and of spend from suppliers with validated or committed SBTi targets, read
    from the latest scoring run of each year."""
    runs = latest_runs_by_year(session, brand_id)
    if not runs:
        return []
    sums = session.execute(
        select(
            SupplierScore.run_id,
            SupplierScore.target_status,
            func.coalesce(func.sum(SupplierScore.contribution_kg), 0.0),
            func.coalesce(func.sum(SupplierScore.spend), 0.0),
        )
        .where(SupplierScore.run_id.in_([r.id for r in runs]))
        .group_by(SupplierScore.run_id, SupplierScore.target_status)
    ).all()
    by_run: dict[int, dict[str | None, tuple[float, float]]] = {}
    for run_id, status, kg, spend in sums:
        by_run.setdefault(run_id, {})[status] = (float(kg), float(spend))
    years = []
    for run in runs:
        groups = by_run.get(run.id, {})
        validated = groups.get("sbti_validated", (0.0, 0.0))
        committed = groups.get("sbti_committed", (0.0, 0.0))
        years.append(
            SbtiYear(
                year=run.reporting_year,
                run=run,
                emissions_kg=sum(kg for kg, _spend in groups.values()),
                validated_kg=validated[0],
                committed_kg=committed[0],
                spend=sum(spend for _kg, spend in groups.values()),
                validated_spend=validated[1],
                committed_spend=committed[1],
            )
        )
    return years


def score_categories(session: Session, run: ScoringRun) -> list[str]:
    """The spend categories of the suppliers scored in a run, for the award comparison."""
    return list(
        session.scalars(
            select(SupplierRelationship.category)
            .join(SupplierScore, SupplierScore.relationship_id == SupplierRelationship.id)
            .where(SupplierScore.run_id == run.id, SupplierRelationship.category.is_not(None))
            .distinct()
            .order_by(SupplierRelationship.category)
        )
    )


def category_scores(
    session: Session, run: ScoringRun, category: str
) -> list[tuple[SupplierScore, SupplierRelationship]]:
    """The suppliers of one category in a run, best composite first."""
    return [
        (score, relationship)
        for score, relationship in session.execute(
            select(SupplierScore, SupplierRelationship)
            .join(SupplierRelationship, SupplierRelationship.id == SupplierScore.relationship_id)
            .where(SupplierScore.run_id == run.id, SupplierRelationship.category == category)
            .order_by(SupplierScore.composite.desc(), SupplierRelationship.supplier_code)
        )
    ]


def effective_intensity(
    score: SupplierScore, intensity_params: dict | None = None
) -> tuple[float | None, str]:
    """kg CO2e per reporting-currency unit: the disclosed intensity, else the sector reference
    (secondary data); with which one it is ("disclosed", "sector" or "unknown").

    ``intensity_params`` are the score's ``intensity_vs_sector`` params. A Scope 1 + 2-only
    intensity (methodology 1.1 on) counts at the ratio the item used, as in engagement
    potential: the sector reference when its own ratio was lower, since its upstream is
    unknown.
    """
    disclosed = _finite(score.intensity)
    sector = _finite(score.sector_intensity)
    params = intensity_params or {}
    if disclosed is not None and params.get("basis") == "own_only" and sector is not None:
        used, measured = _finite(params.get("ratio")), _finite(params.get("measured_ratio"))
        if used is not None and measured is not None and used > measured:  # it was raised
            return used * sector, "sector"
    if disclosed is not None:
        return disclosed, "disclosed"
    if sector is not None:
        return sector, "sector"
    return None, "unknown"


def intensity_params(session: Session, score_ids: list[int]) -> dict[int, dict]:
    """The ``intensity_vs_sector`` params of the given scores (one query)."""
    if not score_ids:
        return {}
    return {
        score_id: params or {}
        for score_id, params in session.execute(
            select(ScoreItem.score_id, ScoreItem.params).where(
                ScoreItem.score_id.in_(score_ids), ScoreItem.item == "intensity_vs_sector"
            )
        )
    }


@dataclass(frozen=True)
class AwardOption:
    score: SupplierScore
    relationship: SupplierRelationship
    intensity: float | None
    intensity_basis: str  # "disclosed", "sector" or "unknown"
    delta_kg: float | None  # change in the brand's Category 1 if the amount moves here


@dataclass(frozen=True)
class AwardComparison:
    """Moving `amount` of a category's spend from its current suppliers to each candidate:
    delta = amount × (candidate intensity − spend-weighted intensity of the category now)."""

    category: str
    amount: float
    currency: str
    current_intensity: float | None
    current_spend: float
    cat1_kg: float | None
    options: list[AwardOption]


def scored_relationships(
    session: Session, run: ScoringRun, relationship_ids: list[str]
) -> list[tuple[SupplierScore, SupplierRelationship]]:
    """The scores, in the order asked, of relationships of the run's brand scored in the run;
    NotFound when any id is unknown, malformed or another brand's."""
    wanted = [parse_public_id(value) for value in relationship_ids]
    if not wanted:
        return []
    found = {
        relationship.public_id: (score, relationship)
        for score, relationship in session.execute(
            select(SupplierScore, SupplierRelationship)
            .join(SupplierRelationship, SupplierRelationship.id == SupplierScore.relationship_id)
            .where(
                SupplierScore.run_id == run.id,
                SupplierRelationship.brand_id == run.brand_id,
                SupplierRelationship.public_id.in_(wanted),
            )
        )
    }
    missing = [str(value) for value in wanted if value not in found]
    if missing:
        raise NotFound(", ".join(missing))
    return [found[value] for value in wanted]


def award_comparison(
    session: Session,
    run: ScoringRun,
    *,
    category: str,
    candidates: list[tuple[SupplierScore, SupplierRelationship]],
    amount: float,
) -> AwardComparison:
    """What moving `amount` of the category's spend to each candidate changes in Category 1.

    The scenario engine (`supplychain.footprint.scenarios`) overrides suppliers' own data, not
    how much a customer buys from whom, so it cannot move spend between suppliers; the change
    is computed directly as amount × (candidate intensity − spend-weighted intensity of the
    category's current suppliers), intensities being kg CO2e per reporting-currency unit
    (disclosed, else the sector reference; see :func:`effective_intensity`). Under methodology
    1.1 a disclosed intensity is cradle-to-gate where known, what the footprint counts per unit
    of spend, so it compares like with like with the sector references of non-responders."""
    weighted, spend = 0.0, 0.0
    current_scores = category_scores(session, run, category)
    params = intensity_params(session, [score.id for score, _rel in [*current_scores, *candidates]])
    for score, _relationship in current_scores:
        intensity, _basis = effective_intensity(score, params.get(score.id))
        current = _finite(score.spend)
        if intensity is not None and current is not None and current > 0:
            weighted += current * intensity
            spend += current
    current_intensity = weighted / spend if spend > 0 else None
    options = []
    for score, relationship in candidates:
        intensity, basis = effective_intensity(score, params.get(score.id))
        delta = (
            amount * (intensity - current_intensity)
            if intensity is not None and current_intensity is not None
            else None
        )
        options.append(AwardOption(score, relationship, intensity, basis, delta))
    return AwardComparison(
        category=category,
        amount=amount,
        currency=run.currency,
        current_intensity=current_intensity,
        current_spend=spend,
        cat1_kg=brand_cat1_kg(session, run),
        options=options,
    )


# --- Item reasons for explanations (export and API) ----------------------------------------


def item_reasons(
    session: Session, score_ids: list[int]
) -> dict[int, dict[str, tuple[str, dict | None]]]:
    """Reason and params of every item of the given scores (one query), for explanations.

    Callers pass ids read from a run of their own brand (the ranking is scoped).
    """
    reasons: dict[int, dict[str, tuple[str, dict | None]]] = {}
    if not score_ids:
        return reasons
    rows = session.execute(
        select(ScoreItem.score_id, ScoreItem.item, ScoreItem.reason, ScoreItem.params).where(
            ScoreItem.score_id.in_(score_ids)
        )
    )
    for score_id, item, reason, params in rows:
        reasons.setdefault(score_id, {})[item] = (reason, params)
    return reasons


def benchmark_pct(run: ScoringRun) -> float:
    """The 1.5 °C-aligned pace of the run's own methodology, quoted in ambition texts."""
    configured = (run.methodology or {}).get("benchmark", {}).get("annual_reduction_pct")
    return finite_or_none(configured) or DEFAULT_BENCHMARK_PCT
