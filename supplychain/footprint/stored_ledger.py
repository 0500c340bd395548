"""The brand's ledger of one year, estimated line by line, summed per supplier relationship.

The footprint run and ``spend run`` share one pipeline (``spend_runs.estimate_ledger``): the
same classification, conversions and factors, so both give the same Category 1 spend-based
total on the same ledger. This module only sums the estimated lines per relationship into
what a supplier → brand edge carries (kg CO2e with its emission-weighted data quality,
uncertainty, factor codes and line ids) and keeps the raw amounts per currency, from the
same lines, for spend / revenue allocation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from supplychain.models import SpendLine

__all__ = ["LINE_IDS_KEPT", "LedgerEstimate", "RelationshipLedger", "ledger_estimate"]

#: line ids kept in a node's provenance (the count is always kept)
LINE_IDS_KEPT = 50
#: unpriced lines named per supplier and reason in a warning
_LINES_NAMED = 5


@dataclass
class RelationshipLedger:
    """One relationship's ledger lines of the year: amounts for allocation, estimate for gaps."""

    line_ids: list[int]
    amounts: list[tuple[float, str, int]] = field(default_factory=list)  # (total, currency, lines)
    kg_co2e: float = float("nan")  # sum over priced lines; NaN when none was priced
    dq_score: float = float("nan")  # emission-weighted over priced lines
    uncertainty_pct: float = float("nan")  # lines independent: absolute ± add in quadrature
    factor_codes: list[str] = field(default_factory=list)
    priced_lines: int = 0

    @property
    def priced(self) -> bool:
        return self.priced_lines > 0 and bool(np.isfinite(self.kg_co2e))


@dataclass
class LedgerEstimate:
    """Per relationship id: its ledger of the year; warnings name the lines left unpriced."""

    by_relationship: dict[int, RelationshipLedger]
    warnings: list[str]
    total_kg_co2e: float
    lines: int


def _per_relationship(lines: pd.DataFrame) -> dict[int, RelationshipLedger]:
    """Sum the estimated lines per relationship in a few grouped passes (no per-group frames)."""
    rel = lines["supplier_id"].astype(np.int64).to_numpy()
    kg = lines["kg_co2e"].to_numpy(dtype=float)
    priced = np.isfinite(kg)
    dq = lines["dq_score"].to_numpy(dtype=float)
    unc = lines["uncertainty_pct"].to_numpy(dtype=float)
    sums = (
        pd.DataFrame(
            {
                "rel": rel,
                "priced": priced.astype(np.int64),
                "kg": np.where(priced, kg, 0.0),
                "kg_dq": np.where(priced, kg * dq, 0.0),
                "dq": np.where(priced, dq, 0.0),
                "unc": np.where(priced, unc, 0.0),
                "unc_sq": np.where(priced, (unc / 100.0 * kg) ** 2, 0.0),
            }
        )
        .groupby("rel", sort=True)
        .sum()
    )
    amount = lines["amount"].to_numpy(dtype=float)
    money = pd.DataFrame(
        {
            "rel": rel,
            "currency": lines["currency"].astype(str).str.strip().str.upper().to_numpy(),
            "amount": amount,
        }
    )[np.isfinite(amount)]
    per_currency = money.groupby(["rel", "currency"], sort=True)["amount"].agg(["sum", "count"])
    codes = (
        pd.DataFrame({"rel": rel[priced], "code": lines["factor_code"].astype(str)[priced]})
        .value_counts()
        .reset_index(name="n")
        .sort_values(["rel", "n", "code"], ascending=[True, False, True])
    )
    ids = pd.Series(lines["line_id"].astype(np.int64).to_numpy()).groupby(rel, sort=True)
    out = {int(r): RelationshipLedger(line_ids=[int(i) for i in group]) for r, group in ids}
    for (r, currency), row in per_currency.iterrows():
        out[int(r)].amounts.append((float(row["sum"]), str(currency), int(row["count"])))
    for r, code in zip(codes["rel"], codes["code"], strict=True):
        out[int(r)].factor_codes.append(str(code))
    for r, row in sums[sums["priced"] > 0].iterrows():
        entry, n, total = out[int(r)], int(row["priced"]), float(row["kg"])
        entry.priced_lines = n
        entry.kg_co2e = total
        entry.dq_score = row["kg_dq"] / total if total > 0 else row["dq"] / n
        spread = float(np.sqrt(row["unc_sq"]))
        entry.uncertainty_pct = 100.0 * spread / total if total > 0 else row["unc"] / n
    return out


def _line_refs(session: Session, line_ids: list[int]) -> dict[int, str]:
    """How a user finds a ledger line: its document reference, else its source file line."""
    rows = session.execute(
        select(
            SpendLine.id, SpendLine.document_ref, SpendLine.source_file, SpendLine.source_line
        ).where(SpendLine.id.in_(line_ids))
    ).all()
    refs = {}
    for line_id, document, source, number in rows:
        if document:
            refs[line_id] = str(document)
        elif source and number:
            refs[line_id] = f"{source} line {number}"
        else:
            refs[line_id] = f"#{line_id}"
    return refs


def _reasons(result: Any) -> dict[str, str]:
    """Why a line has no estimate, per line id: the validation problem, else the review reason."""
    reasons: dict[str, str] = {}
    for problem in result.errors:
        if problem.line_id in (None, ""):
            continue
        value = "" if problem.value is None else f" {problem.value!r}"
        what = f"{problem.column or 'line'}{value}: {problem.rule}"
        reasons.setdefault(str(problem.line_id), what)
    return reasons


def _unpriced_warnings(
    session: Session, lines: pd.DataFrame, reasons: dict[str, str], names: dict[int, str]
) -> list[str]:
    """One warning per supplier and reason, naming the first lines (by document reference)."""
    unpriced = lines[~np.isfinite(lines["kg_co2e"].to_numpy(dtype=float))]
    if unpriced.empty:
        return []
    review = unpriced.get("review_reason", pd.Series("", index=unpriced.index))
    why = [
        reasons.get(str(line_id)) or str(text or "no estimate")
        for line_id, text in zip(unpriced["line_id"], review.fillna(""), strict=True)
    ]
    frame = pd.DataFrame(
        {"rel": unpriced["supplier_id"].astype(int), "line": unpriced["line_id"].astype(int)}
    ).assign(why=why)
    named_ids = frame.groupby(["rel", "why"])["line"].apply(lambda s: list(s)[:_LINES_NAMED])
    refs = _line_refs(session, [i for ids in named_ids for i in ids])
    warnings = []
    for (rel, reason), group in frame.groupby(["rel", "why"], sort=True):
        shown = ", ".join(refs.get(i, f"#{i}") for i in named_ids[(rel, reason)])
        more = len(group) - len(named_ids[(rel, reason)])
        tail = f" and {more} more" if more > 0 else ""
        who = names.get(int(rel), f"relationship {rel}")
        warnings.append(
            f"{who}: {len(group)} ledger line(s) not estimated ({reason}): {shown}{tail}"
        )
    return warnings


def ledger_estimate(
    session: Session, result: Any, relationship_names: dict[int, str]
) -> LedgerEstimate:
    """Sum an ``estimate_ledger`` result per relationship; name the lines it could not price."""
    lines = result.lines
    if lines is None or lines.empty:
        return LedgerEstimate({}, [], 0.0, 0)
    lines = lines.assign(
        amount=pd.to_numeric(lines["amount"], errors="coerce"),
        kg_co2e=pd.to_numeric(lines["kg_co2e"], errors="coerce"),
    )
    by_relationship = _per_relationship(lines)
    warnings = _unpriced_warnings(session, lines, _reasons(result), relationship_names)
    total = float(np.nansum(lines["kg_co2e"].to_numpy(dtype=float)))
    return LedgerEstimate(by_relationship, warnings, total, len(lines))
