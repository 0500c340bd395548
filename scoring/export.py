"""Export a brand's supplier scores for a year to CSV or XLSX (`supplychain export scores`).

One row per supplier of the newest scoring run of that brand and year, in ranking order
(disclosed suppliers by rank, then the not-disclosed group), read through
:mod:`scoring.queries` like the console and the API. Every row carries what makes it
reproducible: methodology version, inputs hash, currency and run date.

Spreadsheets run cell text that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and
supplier names come from suppliers; every text cell goes through the project's neutraliser
(:func:`spend_factors.neutralise_formulas`). CSV is UTF-8 with a byte-order mark so Excel reads
Chinese names correctly; XLSX is written in openpyxl's streaming mode with typed numeric cells,
a frozen header row and the units in the headers. The file appears only once complete.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from scoring import queries
from scoring.explain import explanation
from scoring.queries import benchmark_pct, item_reasons
from spend_factors import neutralise_formulas
from supplychain.models import ScoringRun
from supplychain.numbers import finite_or_none
from supplychain.tenancy import NotFound, organization_by_slug

__all__ = [
    "COLUMNS",
    "FORMATS",
    "Column",
    "ExportError",
    "ExportResult",
    "export_group",
    "export_scores",
]

PAGE_ROWS = 500  # rows read per ranking page (the read model's largest page)


@dataclass(frozen=True)
class Column:
    """One export column: its stable key (the CSV header), its unit and how cells are typed."""

    key: str
    kind: str  # "text", "number", "integer" or "boolean"
    unit: str = ""  # shown in the XLSX header; "{currency}" is replaced by the run's currency
    number_format: str = "General"
    width: int = 12

    def header(self, currency: str) -> str:
        unit = self.unit.replace("{currency}", currency)
        return f"{self.key} ({unit})" if unit else self.key


SCORE = "0–100"
COLUMNS: tuple[Column, ...] = (
    Column("supplier_code", "text", width=14),
    Column("supplier_name", "text", width=36),
    Column("tier", "integer", width=6),
    Column("category", "text", width=16),
    Column("country", "text", width=8),
    Column("responded", "boolean", width=10),
    Column("disclosed_group", "text", width=14),
    Column("rank", "integer", width=6),
    Column("composite", "number", SCORE, "0.00"),
    Column("band", "text", width=12),
    Column("emissions_score", "number", SCORE, "0.00"),
    Column("targets_score", "number", SCORE, "0.00"),
    Column("maturity_score", "number", SCORE, "0.00"),
    Column("data_quality_score", "number", SCORE, "0.00"),
    Column("maturity_level", "text", width=12),
    Column("maturity_letter", "text", width=8),
    Column("dq_score", "number", "1 best – 5", "0.00"),
    Column("risk_level", "text", width=10),
    Column("capability_level", "text", width=10),
    Column("target_status", "text", width=14),
    Column("spend", "number", "{currency}", "#,##0.00", 16),
    Column("spend_share", "number", "share of spend, 0–1", "0.0%"),
    Column("intensity_kg_per_1000", "number", "kg CO2e per 1,000 {currency}", "#,##0.000", 16),
    Column("intensity_basis", "text", width=16),
    Column(
        "sector_intensity_kg_per_1000", "number", "kg CO2e per 1,000 {currency}", "#,##0.000", 16
    ),
    Column("contribution_t", "number", "t CO2e", "#,##0.000", 14),
    Column("explanation", "text", width=80),
    Column("reporting_year", "integer", width=8),
    Column("methodology_version", "text", width=10),
    Column("inputs_hash", "text", width=20),
    Column("currency", "text", width=8),
    Column("run_date", "text", "UTC", width=12),
)
TEXT_COLUMNS = [column.key for column in COLUMNS if column.kind == "text"]


class ExportError(ValueError):
    """An export that cannot be made; the message says what to do."""


@dataclass(frozen=True)
class ExportResult:
    run: ScoringRun
    rows: int
    path: Path


def _rounded(value: float | None, decimals: int) -> float | None:
    value = finite_or_none(value)
    return None if value is None else round(value, decimals)


def _tonnes(kg: float | None) -> float | None:
    kg = finite_or_none(kg)
    return None if kg is None else round(kg / 1000.0, 6)


def _per_1000(value: float | None) -> float | None:
    value = finite_or_none(value)
    return None if value is None else round(value * 1000.0, 6)


def _intensity_basis(reasons: dict[str, Any]) -> str | None:
    """What the compared intensity counts (methodology 1.1): cradle_to_gate,
    own_plus_disclosed_upstream or own_only; empty for runs that did not record it."""
    _reason, params = reasons.get("intensity_vs_sector", (None, None))
    return (params or {}).get("basis")


def _rows(session: Session, run: ScoringRun) -> Iterator[list[dict[str, Any]]]:
    """The run's suppliers in ranking order, a page of export rows at a time."""
    benchmark = benchmark_pct(run)
    run_facts = {
        "reporting_year": run.reporting_year,
        "methodology_version": run.methodology_version,
        "inputs_hash": run.inputs_hash,
        "currency": run.currency,
        "run_date": run.created_at.date().isoformat(),
    }
    page = 1
    while True:
        found = queries.ranking(session, run, page=page, per_page=PAGE_ROWS)
        if not found.rows:
            return
        reasons = item_reasons(session, [row.score.id for row in found.rows])
        rows = []
        for row in found.rows:
            score = row.score
            rows.append(
                {
                    "supplier_code": row.supplier_code,
                    "supplier_name": row.supplier_name,
                    "tier": row.tier,
                    "category": row.category,
                    "country": row.country,
                    "responded": score.responded,
                    "disclosed_group": score.disclosed_group,
                    "rank": score.rank,
                    "composite": score.composite,
                    "band": score.band,
                    "emissions_score": score.emissions_score,
                    "targets_score": score.targets_score,
                    "maturity_score": score.maturity_score,
                    "data_quality_score": score.data_quality_score,
                    "maturity_level": score.maturity_level,
                    "maturity_letter": score.maturity_letter,
                    "dq_score": score.dq_score,
                    "risk_level": score.risk_level,
                    "capability_level": score.capability_level,
                    "target_status": score.target_status,
                    "spend": _rounded(score.spend, 2),
                    "spend_share": _rounded(score.spend_share, 6),
                    "intensity_kg_per_1000": _per_1000(score.intensity),
                    "intensity_basis": _intensity_basis(reasons.get(score.id, {})),
                    "sector_intensity_kg_per_1000": _per_1000(score.sector_intensity),
                    "contribution_t": _tonnes(score.contribution_kg),
                    "explanation": explanation(
                        score.top_items or [],
                        reasons.get(score.id, {}),
                        benchmark_pct=benchmark,
                    ),
                    **run_facts,
                }
            )
        yield _neutralised(rows)
        if page * PAGE_ROWS >= found.total:
            return
        page += 1


def _neutralised(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every text cell escaped so no spreadsheet runs it as a formula; numbers untouched."""
    text = pd.DataFrame({key: [row[key] for row in rows] for key in TEXT_COLUMNS}, dtype=object)
    safe = neutralise_formulas(text)
    for key in TEXT_COLUMNS:
        for row, value in zip(rows, safe[key].tolist(), strict=True):
            row[key] = value
    return rows


def _csv_cell(value: Any) -> str:
    """Plain text a spreadsheet and a script both read: no e-notation, empty for unknown."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


def _write_csv(path: Path, pages: Iterator[list[dict[str, Any]]], _currency: str) -> int:
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([column.key for column in COLUMNS])
        for rows in pages:
            writer.writerows([_csv_cell(row[c.key]) for c in COLUMNS] for row in rows)
            count += len(rows)
    return count


def _write_xlsx(path: Path, pages: Iterator[list[dict[str, Any]]], currency: str) -> int:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Scores")
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    bold = Font(bold=True)
    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(sheet, value=column.header(currency))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for rows in pages:
        for row in rows:
            cells = []
            for column in COLUMNS:
                cell = WriteOnlyCell(sheet, value=row[column.key])
                if column.kind == "number":
                    cell.number_format = column.number_format
                elif column.kind == "text" and row[column.key] is not None:
                    cell.data_type = "s"  # never a formula, even if escaping were bypassed
                cells.append(cell)
            sheet.append(cells)
            count += 1
    workbook.save(path)
    return count


FORMATS: dict[str, Callable[[Path, Iterator[list[dict[str, Any]]], str], int]] = {
    ".csv": _write_csv,
    ".xlsx": _write_xlsx,
}


def export_scores(session: Session, *, brand_slug: str, year: int, out: Path) -> ExportResult:
    """Write the brand's newest scoring run of ``year`` to ``out`` (.csv or .xlsx).

    The file is written next to ``out`` under a temporary name and moved into place when
    complete, so a failure never leaves a half-written export behind.
    """
    out = Path(out)
    writer = FORMATS.get(out.suffix.lower())
    if writer is None:
        raise ExportError(f"cannot export to '{out.name}': the file name must end in .csv or .xlsx")
    try:
        brand = organization_by_slug(session, brand_slug, brand=True)
    except NotFound as exc:
        raise ExportError(str(exc)) from exc
    run = queries.latest_run(session, brand.id, year)
    if run is None:
        raise ExportError(
            f"brand '{brand_slug}' has no scoring run for {year}: run "
            f"`supplychain score --brand {brand_slug} --year {year}` first"
        )
    if not out.parent.is_dir():
        raise ExportError(f"cannot write '{out}': the folder '{out.parent}' does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(handle)
    try:
        count = writer(Path(temporary), _rows(session, run), run.currency)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return ExportResult(run=run, rows=count, path=out)


@click.group("export")
def export_group() -> None:
    """Export stored results to CSV or XLSX files."""


@export_group.command("scores")
@click.option("--brand", "brand_slug", required=True, help="Slug of the brand.")
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="Reporting year.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="FILE.csv or FILE.xlsx",
)
def export_scores_command(brand_slug: str, year: int, out: Path) -> None:
    """One row per supplier of the brand's newest scoring run of YEAR."""
    from supplychain.config import load_settings
    from supplychain.db import unit_of_work

    with unit_of_work(load_settings().database_url) as session:
        try:
            result = export_scores(session, brand_slug=brand_slug, year=year, out=out)
        except ExportError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"{result.rows} suppliers of {brand_slug} {year} (scoring run {result.run.public_id}, "
            f"methodology {result.run.methodology_version}) written to {result.path}"
        )
