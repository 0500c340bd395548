"""Gather what the scoring engine needs for one brand and reporting year from the database.

One row per active supplier relationship of the brand (delisted suppliers are not scored):
the latest accepted disclosure of the year (and of the year before, for the trend), the
supplier's node in the brand's latest footprint run of the year, the brand's spend with it and
the sector reference intensity of the factor dataset.

The intensity compared with the sector reference (``intensity``) is cradle-to-gate, like the
reference, as far as it is known (methodology 1.1 on; 1.0 compared Scope 1 + 2): the node's
``cradle_to_gate_kg`` when the footprint run solved the supplier with its upstream gap filled
(``intensity_basis`` ``cradle_to_gate``), else Scope 1 + 2 plus the disclosed upstream Scope 3
(``own_plus_disclosed_upstream``), else Scope 1 + 2 alone (``own_only``, which the engine never
places below the sector reference). Each is divided by the disclosed revenue. The trend keeps
comparing Scope 1 + 2 intensities (``scope12_intensity``, ``prev_intensity``).

Money is put on the brand's reporting currency at the reporting year's prices with
:func:`spend_factors.convert_money` (exchange at the amount's year, then deflate); an amount
the shipped tables cannot convert stays NaN and a warning names it, so amounts in different
currencies are never added unconverted.

Questionnaire answers reach the frame through ``Disclosure.details`` (see
``questionnaires/derive.py``). The questionnaire's ``data_source_emissions`` choices map to
the methodology's data-source classes as follows (the questionnaire does not ask how often
production records are read, so they count as the best class):

===================  ======================
answer               data_source
===================  ======================
production_records   production_monthly
finance_records      finance
logistics_records    logistics
estimates            derived
(other answer)       other
(no response)        statistical_average — the supplier is only known through sector averages
===================  ======================
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scoring.methodology import INTENSITY_BASES, Methodology
from supplychain.config import load_settings
from supplychain.models import (
    Disclosure,
    FootprintNodeResult,
    FootprintRun,
    Organization,
    RelationshipStatus,
    SpendLine,
    SupplierRelationship,
)

__all__ = [
    "BASES",
    "COLUMNS",
    "DATA_SOURCES",
    "LEVELS",
    "ScoringInputs",
    "compared_intensity",
    "gather_inputs",
]

LEVELS = ("disclosure", "awareness", "management", "leadership")
DATA_SOURCES = {
    "production_records": "production_monthly",
    "finance_records": "finance",
    "logistics_records": "logistics",
    "estimates": "derived",
}
NO_RESPONSE_SOURCE = "statistical_average"
NOT_IN_RUN_DQ = 5.0
STARTER = ("starter", None, "purchaser")
#: What ``intensity`` counts, most complete first.
BASES = INTENSITY_BASES
CRADLE_TO_GATE, OWN_PLUS_UPSTREAM, OWN_ONLY = BASES
#: Footprint node methods of a supplier solved from its own data (the hybrid method).
PRIMARY_NODE_METHODS = ("supplier_specific", "hybrid")
#: How many suppliers a warning names before it says "and N more".
NAMED = 10

COLUMNS = [
    "relationship_id",
    "supplier_id",
    "supplier_code",
    "supplier_name",
    "tier",
    "category",
    "country",
    "sector_code",
    "responded",
    "spend",
    "spend_share",
    "emissions_kg",
    "revenue",
    "intensity",
    "intensity_basis",
    "scope12_intensity",
    "sector_intensity",
    "prev_intensity",
    "renewable_share",
    "target_status",
    "target_annual_reduction_pct",
    *(f"maturity_{level}" for level in LEVELS),
    "dq_score",
    "completeness",
    "verification",
    "data_source",
    "cradle_to_gate_kg",
    "contribution_kg",
]


@dataclass
class ScoringInputs:
    """The engine's input frame and the basis its money columns are expressed on."""

    frame: pd.DataFrame
    currency: str
    price_year: int
    footprint_run_id: int | None
    warnings: list[str] = field(default_factory=list)

    def inputs_hash(self) -> str:
        """SHA-256 of the frame (rows by relationship, columns by name), currency and year.

        Two runs on the same data hash alike whatever order the database returned rows in.
        """
        frame = self.frame.sort_values("relationship_id").reset_index(drop=True)
        frame = frame[sorted(frame.columns)]
        body = frame.to_json(orient="split", index=False, double_precision=15, date_format="iso")
        digest = hashlib.sha256()
        digest.update(body.encode())
        digest.update(f"|{self.currency}|{self.price_year}".encode())
        return digest.hexdigest()


class _Converter:
    """Puts money on the brand's basis, one cached factor per (currency, year)."""

    def __init__(self, currency: str, year: int, warnings: list[str]) -> None:
        self.currency = currency
        self.year = year
        self.warnings = warnings
        self._factors: dict[tuple[str, int], float] = {}

    def factor(self, currency: str, year: int, what: str) -> float:
        """Units of the reporting currency (at the reporting year's prices) per unit given."""
        import spend_factors

        key = (currency.upper().strip(), int(year))
        if key == (self.currency, self.year):
            return 1.0
        if key not in self._factors:
            try:
                converted, _how = spend_factors.convert_money(
                    1.0, key[0], key[1], self.currency, self.year
                )
                self._factors[key] = float(np.asarray(converted).ravel()[0])
            except spend_factors.ConversionError as exc:
                self._factors[key] = math.nan
                self.warnings.append(
                    f"{what}: cannot convert {key[0]} {key[1]} to {self.currency} "
                    f"{self.year} ({exc}); left out"
                )
        return self._factors[key]

    def amount(self, value: Decimal | float | None, currency: str | None, year: int, what: str):
        if value is None or not currency:
            return math.nan
        return float(value) * self.factor(currency, year, what)


def _latest_disclosures(
    session: Session, brand_id: int, years: tuple[int, ...]
) -> dict[tuple[int, int], Disclosure]:
    """Latest accepted disclosure per (supplier, year); later acceptance wins."""
    rows = session.scalars(
        select(Disclosure)
        .where(Disclosure.brand_id == brand_id, Disclosure.reporting_year.in_(years))
        .order_by(Disclosure.created_at.desc(), Disclosure.id.desc())
    )
    latest: dict[tuple[int, int], Disclosure] = {}
    for row in rows:
        latest.setdefault((row.supplier_id, row.reporting_year), row)
    return latest


def _emissions(disclosure: Disclosure) -> float:
    """Scope 1 + Scope 2 (market-based when given, else location-based) in kg CO2e."""
    scope2 = (
        disclosure.scope2_market_kg
        if disclosure.scope2_market_kg is not None
        else disclosure.scope2_location_kg
    )
    if disclosure.scope1_kg is None or scope2 is None:
        return math.nan
    return float(disclosure.scope1_kg) + float(scope2)


def _intensity(disclosure: Disclosure, year: int, convert: _Converter, who: str) -> float:
    revenue = convert.amount(
        disclosure.revenue,
        disclosure.revenue_currency,
        disclosure.revenue_year or disclosure.reporting_year or year,
        f"{who}: revenue",
    )
    emissions = _emissions(disclosure)
    if not revenue > 0 or math.isnan(emissions):
        return math.nan
    return emissions / revenue


def compared_intensity(
    scope12_kg: float,
    revenue: float,
    *,
    upstream_kg: float | None = None,
    cradle_to_gate_kg: float | None = None,
) -> tuple[float, str | None]:
    """The intensity to set against the sector's cradle-to-gate reference, and its basis.

    The most complete emissions known: the footprint node's cradle-to-gate total, else Scope
    1 + 2 plus the disclosed upstream Scope 3, else Scope 1 + 2 alone; each over revenue. NaN
    and no basis without a positive revenue or without Scope 1 + 2.
    """
    if not revenue > 0 or not math.isfinite(scope12_kg):
        return math.nan, None
    if cradle_to_gate_kg is not None and math.isfinite(cradle_to_gate_kg):
        return cradle_to_gate_kg / revenue, CRADLE_TO_GATE
    if upstream_kg is not None and math.isfinite(upstream_kg) and upstream_kg >= 0:
        return (scope12_kg + upstream_kg) / revenue, OWN_PLUS_UPSTREAM
    return scope12_kg / revenue, OWN_ONLY


class _NodeCheck:
    """Which suppliers' footprint nodes cannot serve as their cradle-to-gate total, and why."""

    def __init__(self, run: FootprintRun | None) -> None:
        self.run = run
        self.skipped: dict[str, list[str]] = defaultdict(list)

    def cradle_to_gate(
        self, node: FootprintNodeResult | None, disclosure: Disclosure, who: str
    ) -> float | None:
        """The node's total when the run solved this disclosure with its upstream gap filled.

        A node whose run predates the gap method (no ``parts``), that was built from an older
        disclosure, or whose purchases outside the network are unknown (no gap rule applied)
        counts only its known suppliers: a lower bound, so it is not used.
        """
        if node is None or node.method not in PRIMARY_NODE_METHODS:
            return None
        provenance = node.provenance or {}
        parts = provenance.get("parts")
        used = provenance.get("disclosure")
        if node.cradle_to_gate_kg is None or not isinstance(parts, dict):
            self.skipped["no_parts"].append(who)
        elif used is not None and str(used) != str(disclosure.public_id):
            self.skipped["stale"].append(who)
        elif not parts.get("gap_method"):
            self.skipped["no_gap"].append(who)
        else:
            return float(node.cradle_to_gate_kg)
        return None

    def warnings(self, own_only: list[str]) -> list[str]:
        """One sentence per reason, naming the suppliers it concerns."""
        run = f"footprint run {self.run.id}" if self.run is not None else "the footprint run"
        texts = {
            "no_parts": f"{run} predates the upstream gap method: its totals for these "
            "suppliers count only their known suppliers, so they are not used as their "
            "cradle-to-gate emissions (re-run the footprint)",
            "stale": f"{run} was computed from an older disclosure than the latest accepted "
            "one, so its totals for these suppliers are not used (re-run the footprint)",
            "no_gap": f"{run} knows nothing of their purchases outside the network (no "
            "upstream, purchased spend or sector), so its totals for them count only their "
            "known suppliers and are not used",
        }
        out = [f"{texts[key]}: {_named(names)}" for key, names in self.skipped.items() if names]
        if own_only:
            out.append(
                f"{len(own_only)} supplier(s) are compared with the sector on Scope 1 + 2 only "
                "(no footprint total, no disclosed upstream Scope 3), so they are placed no "
                f"lower than the sector reference: {_named(own_only)}"
            )
        return out


def _named(names: list[str]) -> str:
    shown = ", ".join(names[:NAMED])
    return shown if len(names) <= NAMED else f"{shown} and {len(names) - NAMED} more"


def _target_status(details: dict[str, Any]) -> str:
    sbti = str(details.get("sbti_status") or "none")
    if sbti == "validated":
        return "sbti_validated"
    if sbti == "committed":
        return "sbti_committed"
    targets = details.get("targets") or {}
    return "own" if targets.get("exists") is True else "none"


def _annual_reduction(details: dict[str, Any]) -> float:
    """Reduction promised per year of the target period, in percent."""
    targets = details.get("targets") or {}
    if targets.get("exists") is not True:
        return math.nan
    try:
        pct = float(targets["reduction_pct"])
        years = int(targets["year"]) - int(targets["base_year"])
    except (KeyError, TypeError, ValueError):
        return math.nan
    return pct / years if years > 0 else math.nan


def _verification(details: dict[str, Any]) -> str:
    verification = details.get("verification") or {}
    if verification.get("third_party") is not True:
        return "none"
    level = verification.get("assurance_level")
    return level if level in ("limited", "reasonable") else "limited"


def _data_source(details: dict[str, Any]) -> str | None:
    answer = (details.get("data_sources") or {}).get("emissions")
    if answer is None:
        return None
    return DATA_SOURCES.get(str(answer), "other")


def _maturity_shares(details: dict[str, Any], method: Methodology) -> dict[str, float]:
    """Share of the points possible of the dimensions mapped to each level (NaN if none)."""
    points = details.get("maturity") or {}
    shares = {}
    for level in LEVELS:
        earned = possible = 0.0
        for dimension in method.maturity_level_dimensions.get(level, []):
            entry = points.get(dimension) or {}
            earned += float(entry.get("earned") or 0.0)
            possible += float(entry.get("possible") or 0.0)
        shares[f"maturity_{level}"] = earned / possible if possible > 0 else math.nan
    return shares


def _ledger_spend(session: Session, brand_id: int, year: int) -> dict[int, list[tuple]]:
    """Per relationship: the year's ledger totals per currency, with the line counts."""
    totals: dict[int, list[tuple]] = defaultdict(list)
    for rel_id, currency, amount, lines in session.execute(
        select(
            SpendLine.relationship_id, SpendLine.currency, func.sum(SpendLine.amount), func.count()
        )
        .where(
            SpendLine.brand_id == brand_id,
            SpendLine.spend_date >= date(year, 1, 1),
            SpendLine.spend_date <= date(year, 12, 31),
        )
        .group_by(SpendLine.relationship_id, SpendLine.currency)
        .order_by(SpendLine.relationship_id, SpendLine.currency)
    ):
        totals[rel_id].append((Decimal(amount), currency, int(lines)))
    return totals


def _ledger_codes(session: Session, brand_id: int, year: int) -> dict[int, str]:
    """Per relationship, the NAICS code used on most of its ledger lines of the year."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for rel_id, code, system, lines in session.execute(
        select(
            SpendLine.relationship_id,
            SpendLine.sector_code,
            SpendLine.sector_system,
            func.count(),
        )
        .where(
            SpendLine.brand_id == brand_id,
            SpendLine.spend_date >= date(year, 1, 1),
            SpendLine.spend_date <= date(year, 12, 31),
            SpendLine.sector_code.is_not(None),
        )
        .group_by(SpendLine.relationship_id, SpendLine.sector_code, SpendLine.sector_system)
    ):
        if _is_naics2017(system):
            counts[rel_id][code] = counts[rel_id].get(code, 0) + int(lines)
    return {rel: max(sorted(c), key=c.get) for rel, c in counts.items() if c}


def _is_naics2017(system: str | None) -> bool:
    """Whether a stored sector system is NAICS 2017 (blank means the NAICS 2017 default)."""
    import spend_factors

    return spend_factors.normalise_sector_system(system or "NAICS2017") == "NAICS2017"


def _sector_code(org: Organization, details: dict[str, Any], ledger_code: str | None):
    """The supplier's NAICS code: its organisation record, its disclosure, else its ledger."""
    if org.sector_code and _is_naics2017(org.sector_system):
        return org.sector_code
    if details.get("sector_code") and _is_naics2017(details.get("sector_code_system") or "?"):
        return str(details["sector_code"])
    return ledger_code


def _factor_dataset(run: FootprintRun | None, warnings: list[str]):
    """The latest footprint run's dataset and price basis, else the starter set."""
    import spend_factors

    name, version, basis = (
        (run.dataset, run.dataset_version, run.price_basis) if run is not None else STARTER
    )
    try:
        store = load_settings().factor_store_path
        return spend_factors.load_dataset(name, version, store_root=store), basis
    except spend_factors.DatasetError as exc:
        warnings.append(
            f"factor dataset {name} {version} of the footprint run is not available ({exc}); "
            "sector references come from the starter set"
        )
        return spend_factors.starter_dataset(), STARTER[2]


def _sector_references(
    codes: list[str | None],
    run: FootprintRun | None,
    convert: _Converter,
    margins: str | None = None,
) -> np.ndarray:
    """kg CO2e per unit of reporting currency at the reporting year's prices, per code.

    ``margins`` is the methodology's option (``include``/``exclude``); None (version 1.0)
    follows the footprint run's.
    """
    import spend_factors

    dataset, basis = _factor_dataset(run, convert.warnings)
    try:
        factors = dataset.lookup([c or "" for c in codes], margins or basis)
    except (spend_factors.DatasetError, ValueError) as exc:  # no factors for this price basis
        convert.warnings.append(f"sector references unavailable: {exc}")
        return np.full(len(codes), np.nan)
    meta = dataset.metadata
    # factor is kg per (dataset currency, price year); one reporting unit is worth this much
    per_unit = 1.0 / convert.factor(
        meta.currency, meta.price_year, f"factor dataset {meta.name} {meta.version}"
    )
    return factors * per_unit


def _latest_footprint(
    session: Session, brand_id: int, year: int
) -> tuple[FootprintRun | None, dict[int, FootprintNodeResult]]:
    """The brand's latest footprint run of the year and its nodes by organisation."""
    run = session.scalars(
        select(FootprintRun)
        .where(FootprintRun.brand_id == brand_id, FootprintRun.reporting_year == year)
        .order_by(FootprintRun.id.desc())
        .limit(1)
    ).first()
    if run is None:
        return None, {}
    nodes = session.scalars(select(FootprintNodeResult).where(FootprintNodeResult.run_id == run.id))
    return run, {n.organization_id: n for n in nodes}


def gather_inputs(session: Session, brand_id: int, year: int, method: Methodology) -> ScoringInputs:
    """Build the engine's input frame for a brand's suppliers in one reporting year."""
    brand = session.get(Organization, brand_id)
    if brand is None:
        raise LookupError(f"organisation {brand_id} does not exist")
    currency = (brand.default_currency or "USD").upper()
    warnings: list[str] = []
    convert = _Converter(currency, year, warnings)

    pairs = session.execute(
        select(SupplierRelationship, Organization)
        .join(Organization, Organization.id == SupplierRelationship.supplier_id)
        .where(
            SupplierRelationship.brand_id == brand_id,
            SupplierRelationship.status != RelationshipStatus.DELISTED,
            SupplierRelationship.supplier_id != brand_id,
        )
        .order_by(SupplierRelationship.id)
    ).all()
    disclosures = _latest_disclosures(session, brand_id, (year, year - 1))
    ledger = _ledger_spend(session, brand_id, year)
    ledger_codes = _ledger_codes(session, brand_id, year)
    run, nodes = _latest_footprint(session, brand_id, year)
    nodes_checked = _NodeCheck(run)
    own_only: list[str] = []
    rows = []
    for rel, org in pairs:
        who = f"{org.name} ({rel.supplier_code})"
        disclosure = disclosures.get((org.id, year))
        details = (disclosure.details or {}) if disclosure is not None else {}
        row: dict[str, Any] = {
            "relationship_id": rel.id,
            "supplier_id": org.id,
            "supplier_code": rel.supplier_code,
            "supplier_name": org.name,
            "tier": int(rel.tier or 1),
            "category": rel.category,
            "country": org.country,
            "sector_code": _sector_code(org, details, ledger_codes.get(rel.id)),
            "responded": disclosure is not None,
            "spend": _spend(rel, ledger.get(rel.id), year, convert, who),
        }
        row.update(_disclosed(disclosure, details, year, convert, who, method))
        previous = disclosures.get((org.id, year - 1))
        row["prev_intensity"] = (
            _intensity(previous, year - 1, convert, f"{who} {year - 1}")
            if previous is not None
            else math.nan
        )
        node = nodes.get(org.id)
        row.update(_compared(row, disclosure, node, nodes_checked, who, method))
        if row["intensity_basis"] == OWN_ONLY and method.emissions_basis == CRADLE_TO_GATE:
            own_only.append(who)
        row["dq_score"] = (
            float(node.dq_score)
            if node is not None and node.dq_score is not None
            else NOT_IN_RUN_DQ
        )
        row["cradle_to_gate_kg"] = _kg(node.cradle_to_gate_kg if node is not None else None)
        row["contribution_kg"] = _kg(node.contribution_kg if node is not None else None)
        rows.append(row)

    warnings.extend(nodes_checked.warnings(own_only))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["sector_intensity"] = (
        _sector_references(frame["sector_code"].tolist(), run, convert, method.reference_margins)
        if len(frame)
        else []
    )
    frame = _typed(frame)
    total = frame["spend"].sum(min_count=1)
    frame["spend_share"] = frame["spend"] / total if total and total > 0 else math.nan
    return ScoringInputs(
        frame=frame,
        currency=currency,
        price_year=year,
        footprint_run_id=run.id if run is not None else None,
        warnings=list(dict.fromkeys(warnings)),
    )


def _kg(value: Decimal | None) -> float:
    return math.nan if value is None else float(value)


def _compared(
    row: dict[str, Any],
    disclosure: Disclosure | None,
    node: FootprintNodeResult | None,
    nodes_checked: _NodeCheck,
    who: str,
    method: Methodology,
) -> dict[str, Any]:
    """``intensity`` and ``intensity_basis``: what is compared with the sector reference."""
    if disclosure is None:
        return {"intensity": math.nan, "intensity_basis": None}
    if method.emissions_basis != CRADLE_TO_GATE:  # version 1.0: Scope 1 + 2
        known = math.isfinite(row["scope12_intensity"])
        return {
            "intensity": row["scope12_intensity"],
            "intensity_basis": OWN_ONLY if known else None,
        }
    if not row["revenue"] > 0 or not math.isfinite(row["emissions_kg"]):
        return {"intensity": math.nan, "intensity_basis": None}
    upstream = disclosure.scope3_upstream_kg
    intensity, basis = compared_intensity(
        row["emissions_kg"],
        row["revenue"],
        upstream_kg=None if upstream is None else float(upstream),
        cradle_to_gate_kg=nodes_checked.cradle_to_gate(node, disclosure, who),
    )
    return {"intensity": intensity, "intensity_basis": basis}


def _spend(
    rel: SupplierRelationship,
    ledger: list[tuple] | None,
    year: int,
    convert: _Converter,
    who: str,
) -> float:
    """The year's ledger spend, else the relationship's annual spend, on the brand's basis."""
    if ledger:
        parts = [convert.amount(amount, cur, year, f"{who}: spend") for amount, cur, _n in ledger]
        known = [p for p in parts if not math.isnan(p)]
        return float(sum(known)) if known else math.nan
    if rel.annual_spend is not None and rel.spend_currency:
        return convert.amount(
            rel.annual_spend, rel.spend_currency, rel.spend_year or year, f"{who}: annual spend"
        )
    return math.nan


def _disclosed(
    disclosure: Disclosure | None,
    details: dict[str, Any],
    year: int,
    convert: _Converter,
    who: str,
    method: Methodology,
) -> dict[str, Any]:
    """The columns an accepted disclosure fills; what a non-responding supplier gets instead."""
    if disclosure is None:
        return {
            "emissions_kg": math.nan,
            "revenue": math.nan,
            "scope12_intensity": math.nan,
            "renewable_share": math.nan,
            "target_status": "none",
            "target_annual_reduction_pct": math.nan,
            **{f"maturity_{level}": math.nan for level in LEVELS},
            "completeness": 0.0,
            "verification": "none",
            "data_source": NO_RESPONSE_SOURCE,
        }
    revenue = convert.amount(
        disclosure.revenue,
        disclosure.revenue_currency,
        disclosure.revenue_year or disclosure.reporting_year or year,
        f"{who}: revenue",
    )
    share = details.get("renewable_electricity_share")
    completeness = details.get("completeness")
    return {
        "emissions_kg": _emissions(disclosure),
        "revenue": revenue,
        "scope12_intensity": _intensity(disclosure, year, convert, who),
        "renewable_share": math.nan if share is None else float(share),
        "target_status": _target_status(details),
        "target_annual_reduction_pct": _annual_reduction(details),
        **_maturity_shares(details, method),
        "completeness": 1.0 if completeness is None else float(completeness),
        "verification": _verification(details),
        "data_source": _data_source(details),
    }


_FLOATS = [
    "spend",
    "spend_share",
    "emissions_kg",
    "revenue",
    "intensity",
    "scope12_intensity",
    "sector_intensity",
    "prev_intensity",
    "renewable_share",
    "target_annual_reduction_pct",
    *(f"maturity_{level}" for level in LEVELS),
    "dq_score",
    "completeness",
    "cradle_to_gate_kg",
    "contribution_kg",
]


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Column dtypes as the contract states them, also for a brand without suppliers."""
    frame = frame.astype(
        {
            "relationship_id": "int64",
            "supplier_id": "int64",
            "tier": "int64",
            "responded": "bool",
            **dict.fromkeys(_FLOATS, "float64"),
        }
    )
    for column in ("supplier_code", "supplier_name", "target_status", "verification"):
        frame[column] = frame[column].astype(object)
    for column in ("category", "country", "sector_code", "data_source", "intensity_basis"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame
