"""Spend-based estimates of a brand's stored ledger, run as a job and stored in one transaction.

The engine is `spend_factors.estimate`; this module feeds it the brand's `SpendLine` rows and
keeps every line's provenance. A new run never touches earlier runs, so the last completed run
stays visible while a new one is computing, and a failed run leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from spend_factors import (
    EstimateResult,
    FactorDataset,
    estimate,
    load_dataset,
    margins_option,
    normalise_sector_system,
)
from supplychain import audit
from supplychain.models import (
    Organization,
    SpendEstimate,
    SpendEstimateRun,
    SpendLine,
    SupplierRelationship,
)
from supplychain.numbers import finite_or_none, kg_decimal

# where a code of each canonical system goes in the estimation engine's input
_CODE_COLUMNS = {"NAICS2017": "naics", "NAICS2022": "naics", "ISIC4": "isic", "GBT4754": "gbt4754"}
DEFAULT_SECTOR_SYSTEM = "NAICS2017"
LEDGER_COLUMNS = [
    "line_id",
    "supplier_id",
    "amount",
    "currency",
    "year",
    "description",
    "naics",
    "naics_system",
    "isic",
    "gbt4754",
    "supplier_naics",
    "supplier_naics_system",
]


def _system(raw: str | None) -> str:
    """Canonical system of a stored code; blank is NAICS 2017, an unknown name stays as written
    (the engine then sends the line to review instead of reading the code as NAICS)."""
    if raw is None or not raw.strip():
        return DEFAULT_SECTOR_SYSTEM
    return normalise_sector_system(raw) or raw.strip()


def _line_record(row) -> dict:
    """One ledger line in the engine's columns: its own code by system, else the supplier's."""
    line_id, rel_id, amount, currency, day, code, system, text, sup_code, sup_system = row
    record = dict.fromkeys(LEDGER_COLUMNS)
    record.update(
        line_id=line_id,
        supplier_id=rel_id,
        amount=float(amount),
        currency=currency,
        year=day.year,
        description=text,
    )
    if code:
        key = _system(system)
        column = _CODE_COLUMNS.get(key, "naics")
        record[column] = code
        if column == "naics":
            record["naics_system"] = key
    if sup_code:
        key = _system(sup_system)
        column = _CODE_COLUMNS.get(key, "naics")
        if column == "naics":
            record["supplier_naics"] = sup_code
            record["supplier_naics_system"] = key
        elif not code:  # a supplier's ISIC / GB/T division: crosswalked when the line has none
            record[column] = sup_code
    return record


def ledger_frame(session: Session, brand_id: int, year: int) -> pd.DataFrame:
    """The brand's ledger lines of one year as the estimation engine expects them.

    ``line_id`` is the SpendLine id and ``supplier_id`` the SupplierRelationship id. Sector
    systems are compared through ``spend_factors.normalise_sector_system`` only.
    """
    rows = session.execute(
        select(
            SpendLine.id,
            SpendLine.relationship_id,
            SpendLine.amount,
            SpendLine.currency,
            SpendLine.spend_date,
            SpendLine.sector_code,
            SpendLine.sector_system,
            SpendLine.description,
            Organization.sector_code,
            Organization.sector_system,
        )
        .join(SupplierRelationship, SupplierRelationship.id == SpendLine.relationship_id)
        .join(Organization, Organization.id == SupplierRelationship.supplier_id)
        .where(
            SpendLine.brand_id == brand_id,
            SpendLine.spend_date >= date(year, 1, 1),
            SpendLine.spend_date <= date(year, 12, 31),
        )
        .order_by(SpendLine.id)
    ).all()
    return pd.DataFrame.from_records([_line_record(r) for r in rows], columns=LEDGER_COLUMNS)


def _inputs_hash(frame: pd.DataFrame, dataset: str, version: str, margins: str) -> str:
    digest = hashlib.sha256(f"{dataset}|{version}|{margins}".encode())
    digest.update(pd.util.hash_pandas_object(frame.astype(str), index=False).values.tobytes())
    return digest.hexdigest()


def _text(value) -> str | None:
    return None if pd.isna(value) else str(value)


def _store(store_root: str | Path | None) -> Path:
    """The factor store: the caller's, else this installation's (settings), never os.environ
    set by someone else."""
    if store_root:
        return Path(store_root)
    from supplychain.config import load_settings

    return load_settings().factor_store_path


def _estimate_frame(frame: pd.DataFrame, factors: FactorDataset, margins: str) -> EstimateResult:
    result = estimate(frame, factors, margins=margins, errors="collect")
    result.lines["method"] = result.lines["classification_method"]
    return result


def estimate_ledger(
    session: Session,
    brand_id: int,
    year: int,
    *,
    dataset: str | FactorDataset,
    version: str | None = None,
    margins: str = "include",
    store_root: str | Path | None = None,
) -> EstimateResult:
    """Line-level spend-based estimate of a brand's ledger for one year: the one pipeline.

    Both `spend run` (``run_estimate``) and the footprint run call this, so the same ledger
    gives the same Category 1 spend-based total on both paths. ``.lines`` keeps ``line_id``
    (SpendLine id), ``supplier_id`` (relationship id), the estimate and its provenance, and
    ``method`` (how the sector was found). Lines that fail validation are kept for review,
    their problems in ``.errors``. An empty ledger gives an empty result.
    """
    factors = (
        dataset
        if isinstance(dataset, FactorDataset)
        else load_dataset(dataset, version, store_root=_store(store_root))
    )
    frame = ledger_frame(session, brand_id, year)
    return _estimate_frame(frame, factors, margins_option(margins))


def run_estimate(
    session: Session,
    *,
    brand_id: int,
    year: int,
    dataset: str = "starter",
    version: str | None = None,
    margins: str | None = None,
    price_basis: str | None = None,
    actor_id: int | None = None,
    store_root: str | None = None,
) -> SpendEstimateRun:
    """Estimate every ledger line of the year; lines that fail validation go to review.

    ``price_basis`` is the old name of ``margins`` (jobs queued before the rename carry it).
    """
    option = margins_option(margins if margins is not None else price_basis)
    factors = load_dataset(dataset, version, store_root=_store(store_root))
    frame = ledger_frame(session, brand_id, year)
    if frame.empty:
        raise ValueError(f"the ledger has no spend lines dated {year}")
    result = _estimate_frame(frame, factors, option)
    lines = result.lines
    kg = lines["kg_co2e"].to_numpy(dtype=float)
    run = SpendEstimateRun(
        brand_id=brand_id,
        year=year,
        dataset=factors.metadata.name,
        dataset_version=factors.metadata.version,
        price_basis=option,
        inputs_hash=_inputs_hash(frame, factors.metadata.name, factors.metadata.version, option),
        lines_total=len(lines),
        lines_estimated=int((~pd.isna(kg)).sum()),
        lines_review=int(lines["needs_review"].sum()),
        total_kg_co2e=kg_decimal(pd.Series(kg).sum(skipna=True)),
        summary={
            "problems": [str(p) for p in result.errors[:200]],
            "problem_count": len(result.errors),
            "notes": _notes(lines),
        },
        created_by_id=actor_id,
    )
    session.add(run)
    session.flush()
    _store_lines(session, run.id, lines)
    audit.record(
        session,
        action="spend_estimate.run",
        entity_type="spend_estimate_run",
        entity_id=str(run.public_id),
        organization_id=brand_id,
        actor_id=actor_id,
        after={
            "year": year,
            "dataset": run.dataset,
            "version": run.dataset_version,
            "margins": option,
            "total_kg_co2e": str(run.total_kg_co2e),
        },
    )
    return run


def _notes(lines: pd.DataFrame, limit: int = 50) -> list[str]:
    """Distinct classification notes (e.g. a NAICS 2022 code used as NAICS 2017), counted."""
    notes = lines["classification_note"].fillna("").astype(str)
    counts = notes[notes != ""].value_counts(sort=True)
    return [f"{note} ({n} line{'s' if n > 1 else ''})" for note, n in counts.head(limit).items()]


def _store_lines(session: Session, run_id: int, lines: pd.DataFrame) -> None:
    """One SpendEstimate row per ledger line, with its provenance."""
    payload = [
        {
            "run_id": run_id,
            "spend_line_id": int(row.line_id),
            "relationship_id": int(row.supplier_id),
            "kg_co2e": kg_decimal(row.kg_co2e),
            "factor_code": _text(row.factor_code),
            "factor_value": finite_or_none(row.factor_value),
            "factor_unit": _text(row.factor_unit),
            "converted_amount": finite_or_none(row.converted_amount),
            "converted_currency": _text(row.converted_currency),
            "price_year": None if pd.isna(row.price_year) else int(row.price_year),
            "conversions": _text(row.conversions),
            "classification_method": str(row.classification_method),
            "classification_confidence": finite_or_none(row.classification_confidence),
            "dq_score": finite_or_none(row.dq_score),
            "uncertainty_pct": finite_or_none(row.uncertainty_pct),
            "needs_review": bool(row.needs_review),
        }
        for row in lines.itertuples(index=False)
    ]
    if payload:
        session.execute(insert(SpendEstimate), payload)


def estimate_ledger_job(session: Session, **params) -> dict:
    """Job entry point; the job layer commits the run together with its job record."""
    run = run_estimate(session, **params)
    return {
        "run": str(run.public_id),
        "total_kg_co2e": float(run.total_kg_co2e),
        "lines": run.lines_total,
        "review": run.lines_review,
    }


def latest_run(session: Session, brand_id: int, year: int | None = None) -> SpendEstimateRun | None:
    stmt = select(SpendEstimateRun).where(SpendEstimateRun.brand_id == brand_id)
    if year is not None:
        stmt = stmt.where(SpendEstimateRun.year == year)
    return session.scalars(stmt.order_by(SpendEstimateRun.id.desc())).first()
