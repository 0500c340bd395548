"""Reading NODES/EDGES CSV files with line-precise errors, and writing RESULT/PATHS files.

Every problem names the file, the line (header = line 1) and the offending value, and all
problems are collected before giving up so a user can fix a file in one pass.
"""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .network import BRAND, SUPPLIER

__all__ = ["CsvTable", "read_edges_csv", "read_nodes_csv", "write_csv"]

NODE_REQUIRED = ("node_id", "kind")
NODE_NUMERIC = (
    "own_kg_co2e",
    "revenue",
    "uncertainty_pct",
    "dq_score",
    "scope2_kg_co2e",
    "purchased_spend",
    "upstream_kg_co2e",
)
NODE_TEXT = ("currency", "naics", "purchased_naics")
NODE_SECTORS = ("naics", "purchased_naics")
_NAICS = re.compile(r"\d{2,6}")
EDGE_REQUIRED = ("supplier_id", "customer_id")
EDGE_NUMERIC = ("share", "spend", "pcf_kg_per_unit", "quantity")
EDGE_TEXT = ("currency", "share_method")


@dataclass
class CsvTable:
    """Parsed rows, the label of each row (``file line N``) and the problems found."""

    frame: pd.DataFrame
    labels: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _read(path: Path, required: tuple[str, ...]) -> tuple[list[tuple[int, dict]], list[str]]:
    """Rows with their physical line numbers; errors for unreadable files or missing columns."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            missing = [c for c in required if c not in header]
            if missing:
                return [], [f"{path.name} line 1: missing column(s) {', '.join(missing)}"]
            rows = []
            for row in reader:
                clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
                if not any(clean.values()):
                    continue  # blank line
                rows.append((reader.line_num, clean))
            return rows, []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [], [f"{path.name}: cannot read file: {exc}"]


def _number(
    raw: str, where: str, column: str, errors: list[str], upper: float | None = None
) -> float:
    """Parse an optional non-negative number; blank means unknown (NaN)."""
    if raw == "":
        return math.nan
    try:
        value = float(raw)
    except ValueError:
        errors.append(f"{where}: {column} {raw!r} is not a number")
        return math.nan
    if not math.isfinite(value):
        errors.append(f"{where}: {column} {raw!r} is not a finite number")
        return math.nan
    if value < 0:
        errors.append(f"{where}: {column} {raw!r} is negative")
        return math.nan
    if upper is not None and value > upper:
        errors.append(f"{where}: {column} {raw!r} is above {upper:g}")
        return math.nan
    return value


def _year(raw: str, where: str, errors: list[str]) -> float:
    if raw == "":
        return math.nan
    try:
        value = float(raw)
    except ValueError:
        errors.append(f"{where}: year {raw!r} is not a number")
        return math.nan
    if value != int(value) or not 1900 <= value <= 2200:
        errors.append(f"{where}: year {raw!r} is not a calendar year")
        return math.nan
    return value


def _money_basis(row: dict, amount: float, column: str, where: str, errors: list[str]) -> None:
    """An amount needs a currency and a year to be converted."""
    if math.isnan(amount):
        return
    if row.get("currency", "") == "":
        errors.append(
            f"{where}: {column} {row.get(column, '')!r} has no currency (missing currency)"
        )
    if row.get("year", "") == "":
        errors.append(f"{where}: {column} {row.get(column, '')!r} has no year (missing year)")


def read_nodes_csv(path: str | Path) -> CsvTable:
    """NODES.csv: ``node_id, kind, own_kg_co2e, revenue, currency, year, naics, ...``.

    Optional: ``purchased_spend`` (in the row's currency and year), ``purchased_naics`` and
    ``upstream_kg_co2e``, the inputs of the upstream gap of a reporting supplier.
    """
    path = Path(path)
    rows, errors = _read(path, NODE_REQUIRED)
    records, labels = [], []
    first_line: dict[str, int] = {}
    for line, row in rows:
        where = f"{path.name} line {line}"
        node_id = row.get("node_id", "")
        if node_id == "":
            errors.append(f"{where}: node_id is blank")
            continue
        if node_id in first_line:
            errors.append(
                f"{where}: node_id {node_id!r} already defined on line {first_line[node_id]}"
            )
            continue
        first_line[node_id] = line
        kind = row.get("kind", "").lower()
        if kind not in (BRAND, SUPPLIER):
            errors.append(f"{where}: kind {row.get('kind', '')!r} is not 'brand' or 'supplier'")
        rec = {"node_id": node_id, "kind": kind}
        for col in NODE_NUMERIC:
            upper = 5.0 if col == "dq_score" else None
            rec[col] = _number(row.get(col, ""), where, col, errors, upper)
        if not math.isnan(rec["dq_score"]) and rec["dq_score"] < 1:
            errors.append(f"{where}: dq_score {row['dq_score']!r} is below 1")
        if (
            not math.isnan(rec["scope2_kg_co2e"])
            and not math.isnan(rec["own_kg_co2e"])
            and rec["scope2_kg_co2e"] > rec["own_kg_co2e"]
        ):
            errors.append(
                f"{where}: scope2_kg_co2e {row['scope2_kg_co2e']!r} exceeds own_kg_co2e "
                f"{row['own_kg_co2e']!r}"
            )
        rec["year"] = _year(row.get("year", ""), where, errors)
        for col in NODE_TEXT:
            rec[col] = row.get(col, "")
        rec["currency"] = rec["currency"].upper()
        for col in NODE_SECTORS:
            if rec[col] and not _NAICS.fullmatch(rec[col]):
                errors.append(f"{where}: {col} {rec[col]!r} is not a NAICS code (2 to 6 digits)")
        for col in ("revenue", "purchased_spend"):
            _money_basis(row, rec[col], col, where, errors)
        records.append(rec)
        labels.append(where)
    frame = pd.DataFrame(records, columns=["node_id", "kind", *NODE_NUMERIC, "year", *NODE_TEXT])
    if not errors and not (frame["kind"] == BRAND).any():
        errors.append(f"{path.name}: no node has kind 'brand'")
    return CsvTable(frame=frame, labels=labels, errors=errors)


def read_edges_csv(path: str | Path, node_ids: set[str] | None = None) -> CsvTable:
    """EDGES.csv: ``supplier_id, customer_id, share, spend, currency, year`` (k supplies i)."""
    path = Path(path)
    rows, errors = _read(path, EDGE_REQUIRED)
    warnings: list[str] = []
    records, labels = [], []
    seen: dict[tuple[str, str], int] = {}
    share_lines: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for line, row in rows:
        where = f"{path.name} line {line}"
        sup, cus = row.get("supplier_id", ""), row.get("customer_id", "")
        bad_ref = False
        for col, value in (("supplier_id", sup), ("customer_id", cus)):
            if value == "":
                errors.append(f"{where}: {col} is blank")
                bad_ref = True
            elif node_ids is not None and value not in node_ids:
                errors.append(f"{where}: {col} {value!r} is not a node id in the nodes file")
                bad_ref = True
        if not bad_ref and (sup, cus) in seen:
            errors.append(
                f"{where}: edge {sup!r} -> {cus!r} already given on line {seen[(sup, cus)]}"
            )
            continue
        seen[(sup, cus)] = line
        if sup == cus and sup:
            warnings.append(f"{where}: {sup!r} supplies itself (self-loop)")
        rec = {"supplier_id": sup, "customer_id": cus}
        for col in EDGE_NUMERIC:
            rec[col] = _number(
                row.get(col, ""), where, col, errors, 1.0 if col == "share" else None
            )
        rec["year"] = _year(row.get("year", ""), where, errors)
        for col in EDGE_TEXT:
            rec[col] = row.get(col, "")
        rec["currency"] = rec["currency"].upper()
        _money_basis(row, rec["spend"], "spend", where, errors)
        if math.isnan(rec["pcf_kg_per_unit"]) != math.isnan(rec["quantity"]):
            errors.append(f"{where}: pcf_kg_per_unit and quantity must be given together")
        if not math.isnan(rec["share"]):
            share_lines[sup].append((line, rec["share"]))
        records.append(rec)
        labels.append(where)
    for sup, items in share_lines.items():
        total = sum(s for _, s in items)
        if total > 1.0 + 1e-9:
            lines = ", ".join(str(ln) for ln, _ in items)
            errors.append(
                f"{path.name} lines {lines}: shares of supplier {sup!r} "
                f"sum to {total:.6g} (above 1)"
            )
    frame = pd.DataFrame(
        records, columns=["supplier_id", "customer_id", *EDGE_NUMERIC, "year", *EDGE_TEXT]
    )
    return CsvTable(frame=frame, labels=labels, errors=errors, warnings=warnings)


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a result table (10 significant digits, blank for unknown); node ids come from
    user files, so text cells that a spreadsheet would run as formulas are neutralised."""
    from spend_factors import neutralise_formulas

    neutralise_formulas(frame).to_csv(path, index=False, float_format="%.10g", na_rep="")
