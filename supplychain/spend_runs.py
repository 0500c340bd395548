"""Spend-based estimates of a brand's stored ledger, run as a job and stored in one transaction.

The engine is `spend_factors.estimate`; this module feeds it the brand's `SpendLine` rows and
keeps every line's provenance. A new run never touches earlier runs, so the last completed run
stays visible while a new one is computing, and a failed run leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from datetime import date

import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from spend_factors import estimate, load_dataset
from supplychain import audit
from supplychain.models import (
    Organization,
    SpendEstimate,
    SpendEstimateRun,
    SpendLine,
    SupplierRelationship,
)
from supplychain.numbers import finite_or_none, kg_decimal

NAICS_SYSTEMS = {"NAICS", "NAICS2017", "NAICS 2017"}
SYSTEM_COLUMNS = {"ISIC4": "isic", "ISIC": "isic", "GBT4754": "gbt4754", "GB/T4754": "gbt4754"}


def ledger_frame(session: Session, brand_id: int, year: int) -> pd.DataFrame:
    """The brand's ledger lines of one year as the estimation engine expects them."""
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
    records = []
    for line_id, rel_id, amount, currency, day, code, system, text, sup_code, sup_system in rows:
        record = {
            "line_id": line_id,
            "supplier_id": rel_id,
            "amount": float(amount),
            "currency": currency,
            "year": day.year,
            "description": text,
            "naics": None,
            "isic": None,
            "gbt4754": None,
            "supplier_naics": sup_code if (sup_system or "").upper() in NAICS_SYSTEMS else None,
        }
        system = (system or "NAICS2017").upper()
        if code:
            record["naics" if system in NAICS_SYSTEMS else SYSTEM_COLUMNS.get(system, "naics")] = (
                code
            )
        records.append(record)
    columns = [
        "line_id",
        "supplier_id",
        "amount",
        "currency",
        "year",
        "description",
        "naics",
        "isic",
        "gbt4754",
        "supplier_naics",
    ]
    return pd.DataFrame.from_records(records, columns=columns)


def _inputs_hash(frame: pd.DataFrame, dataset: str, version: str, price_basis: str) -> str:
    digest = hashlib.sha256(f"{dataset}|{version}|{price_basis}".encode())
    digest.update(pd.util.hash_pandas_object(frame.astype(str), index=False).values.tobytes())
    return digest.hexdigest()


def _text(value) -> str | None:
    return None if pd.isna(value) else str(value)


def run_estimate(
    session: Session,
    *,
    brand_id: int,
    year: int,
    dataset: str = "starter",
    version: str | None = None,
    price_basis: str = "purchaser",
    actor_id: int | None = None,
) -> SpendEstimateRun:
    """Estimate every ledger line of the year; lines that fail validation go to review."""
    factors = load_dataset(dataset, version)
    frame = ledger_frame(session, brand_id, year)
    if frame.empty:
        raise ValueError(f"the ledger has no spend lines dated {year}")
    result = estimate(frame, factors, price_basis=price_basis, errors="collect")
    lines = result.lines
    kg = lines["kg_co2e"].to_numpy(dtype=float)
    run = SpendEstimateRun(
        brand_id=brand_id,
        year=year,
        dataset=factors.metadata.name,
        dataset_version=factors.metadata.version,
        price_basis=price_basis,
        inputs_hash=_inputs_hash(
            frame, factors.metadata.name, factors.metadata.version, price_basis
        ),
        lines_total=len(lines),
        lines_estimated=int((~pd.isna(kg)).sum()),
        lines_review=int(lines["needs_review"].sum()),
        total_kg_co2e=kg_decimal(pd.Series(kg).sum(skipna=True)),
        summary={
            "problems": [str(p) for p in result.errors[:200]],
            "problem_count": len(result.errors),
        },
        created_by_id=actor_id,
    )
    session.add(run)
    session.flush()
    payload = [
        {
            "run_id": run.id,
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
            "total_kg_co2e": str(run.total_kg_co2e),
        },
    )
    return run


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
