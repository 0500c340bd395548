"""`supplychain export scores`: one row per supplier of the newest scoring run, the issue's
columns, formula-like text neutralised in CSV and XLSX, typed XLSX cells, Chinese names intact,
plain-English explanations and clear errors that leave no file behind."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from scoring.actions import ACTION_CODES
from scoring.engine import example_frame, score_suppliers
from scoring.explain import ACTION_TEXTS, explanation, has_text, item_text
from scoring.export import export_scores
from scoring.methodology import load_methodology
from supplychain import migrate
from supplychain.cli import main
from supplychain.config import load_settings
from supplychain.db import unit_of_work
from supplychain.models import Organization, ScoringRun, SupplierRelationship
from tests.support import builders
from tests.support import scoring as sb

ISSUE_COLUMNS = (
    "supplier_code",
    "supplier_name",
    "responded",
    "composite",
    "band",
    "emissions_score",
    "targets_score",
    "maturity_score",
    "data_quality_score",
    "maturity_level",
    "maturity_letter",
    "dq_score",
    "risk_level",
    "capability_level",
    "explanation",
)
HOSTILE_NAME = '=HYPERLINK("x")'
HOSTILE_CATEGORY = "@SUM(A1:A9)"
BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A scored brand whose first supplier has a formula for a name and a category."""
    folder = tmp_path_factory.mktemp("export")
    url = f"sqlite:///{folder / 'export.db'}"
    migrate.upgrade(url)
    settings = load_settings(database_url=url, instance_path=folder / "instance")
    with unit_of_work(url) as s:
        brand, run = sb.scored_brand(s, settings, "acme")
        builders.supplier(s, "Lone Supplier Co").slug = "lone-supplier"  # not a brand
        first = s.scalars(
            select(SupplierRelationship)
            .where(SupplierRelationship.brand_id == brand.id)
            .order_by(SupplierRelationship.supplier_code)
        ).first()
        first.category = HOSTILE_CATEGORY
        s.get(Organization, first.supplier_id).name = HOSTILE_NAME
        return url, folder, run.id


@pytest.fixture
def export(world, monkeypatch):
    """Run the CLI against the world; answers (exit code, output)."""
    url, folder, _run_id = world
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SUPPLYCHAIN_INSTANCE", str(folder / "instance"))

    def run(*args: str):
        result = CliRunner().invoke(main, ["export", "scores", *args])
        return result.exit_code, result.output

    return run


def _run(world) -> ScoringRun:
    url, _folder, run_id = world
    with unit_of_work(url) as s:
        run = s.get(ScoringRun, run_id)
        s.expunge(run)
        return run


def test_csv_has_a_row_per_supplier_with_the_issue_columns_and_run_facts(world, export, tmp_path):
    out = tmp_path / "scores.csv"
    code, output = export("--brand", "acme", "--year", "2025", "--out", str(out))
    assert code == 0, output
    assert "8 suppliers of acme 2025" in output
    raw = out.read_bytes()
    assert raw.startswith(BOM)  # Excel reads UTF-8 (and Chinese names) only with the BOM
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 8
    assert set(ISSUE_COLUMNS) <= set(rows[0])
    run = _run(world)
    assert {r["methodology_version"] for r in rows} == {run.methodology_version}
    assert {r["inputs_hash"] for r in rows} == {run.inputs_hash}
    assert {r["currency"] for r in rows} == {run.currency}
    assert {r["run_date"] for r in rows} == {run.created_at.date().isoformat()}
    # ranking order: the four disclosed suppliers by rank, then the not-disclosed group
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4", "", "", "", ""]
    assert [r["responded"] for r in rows] == ["true"] * 4 + ["false"] * 4
    # methodology 1.1 says what each disclosed intensity counts; non-responders have none
    bases = {"cradle_to_gate", "own_plus_disclosed_upstream", "own_only"}
    assert {r["intensity_basis"] for r in rows[:4]} <= bases
    assert {r["intensity_basis"] for r in rows[4:]} == {""}
    composites = [float(r["composite"]) for r in rows]
    assert all(0 <= c <= 100 for c in composites)
    assert composites[:4] == sorted(composites[:4], reverse=True)
    names = {r["supplier_name"] for r in rows}
    assert "acme 供应商 2" in names  # Chinese round-trips
    for row in rows:
        for column in ("composite", "spend", "contribution_t", "intensity_kg_per_1000"):
            assert "e" not in row[column].lower(), (column, row[column])
        text = row["explanation"]
        assert text.startswith(("raised: ", "lowered: ")), text
        assert "_" not in text, f"a raw code in {text!r}"
    leader = rows[0]
    assert "raised: science-based target validated by SBTi" in leader["explanation"]
    assert "below the sector reference" in leader["explanation"]
    silent = rows[-1]
    assert silent["explanation"] == (
        "lowered: no accepted disclosure for the year (secondary data only)"
    )


def test_formula_like_text_is_neutralised_in_csv(export, tmp_path):
    out = tmp_path / "scores.csv"
    assert export("--brand", "acme", "--year", "2025", "--out", str(out))[0] == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    hostile = [r for r in rows if HOSTILE_NAME in r["supplier_name"]]
    assert len(hostile) == 1
    assert hostile[0]["supplier_name"] == "'" + HOSTILE_NAME
    assert hostile[0]["category"] == "'" + HOSTILE_CATEGORY
    for row in rows:
        for column, value in row.items():
            if column not in ("rank",) and value and value[0] in "=+@":
                pytest.fail(f"{column} {value!r} would run as a formula")


def test_xlsx_has_typed_numbers_units_in_a_frozen_header_and_no_formula(world, export, tmp_path):
    out = tmp_path / "scores.xlsx"
    code, output = export("--brand", "acme", "--year", "2025", "--out", str(out))
    assert code == 0, output
    with zipfile.ZipFile(out) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        xml = "".join(archive.read(name).decode("utf-8") for name in sheets)
    assert "<f>" not in xml and "<f " not in xml  # not a single formula cell in the file
    sheet = openpyxl.load_workbook(out).active
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    for column in ISSUE_COLUMNS:
        assert any(h == column or h.startswith(f"{column} (") for h in header), column
    run = _run(world)
    assert "composite (0–100)" in header
    assert f"spend ({run.currency})" in header
    assert f"intensity_kg_per_1000 (kg CO2e per 1,000 {run.currency})" in header
    at = {h.split(" (")[0]: i for i, h in enumerate(header)}
    body = list(sheet.iter_rows(min_row=2))
    assert len(body) == 8
    for row in body:
        for column in ("composite", "emissions_score", "dq_score", "spend", "tier"):
            cell = row[at[column]]
            assert cell.data_type == "n" and isinstance(cell.value, int | float), column
        assert row[at["responded"]].data_type == "b"
    names = [row[at["supplier_name"]].value for row in body]
    assert "'" + HOSTILE_NAME in names
    assert "acme 供应商 2" in names
    assert body[0][at["rank"]].value == 1 and body[-1][at["rank"]].value is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--brand", "nobody", "--year", "2025"), "no organisation with slug 'nobody'"),
        (("--brand", "lone-supplier", "--year", "2025"), "not a brand"),
        (
            ("--brand", "acme", "--year", "2024"),
            "no scoring run for 2024: run `supplychain score --brand acme --year 2024` first",
        ),
    ],
)
def test_errors_name_the_problem_and_write_nothing(export, tmp_path, args, message):
    out = tmp_path / "scores.csv"
    code, output = export(*args, "--out", str(out))
    assert code == 1
    assert message in output
    assert list(tmp_path.iterdir()) == []


def test_unknown_extension_and_missing_folder_are_refused(export, tmp_path):
    code, output = export("--brand", "acme", "--year", "2025", "--out", str(tmp_path / "s.ods"))
    assert code == 1 and "must end in .csv or .xlsx" in output
    code, output = export(
        "--brand", "acme", "--year", "2025", "--out", str(tmp_path / "no" / "s.csv")
    )
    assert code == 1 and "does not exist" in output
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_keeps_the_previous_file(export, tmp_path):
    out = tmp_path / "scores.csv"
    out.write_text("last month's export", encoding="utf-8")
    code, _output = export("--brand", "acme", "--year", "2024", "--out", str(out))
    assert code == 1
    assert out.read_text(encoding="utf-8") == "last month's export"
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


# --- the English texts -------------------------------------------------------------------------


def test_every_item_and_reason_the_engine_gives_has_its_own_sentence():
    """A new reason code in the engine must come with its English text (or exports would fall
    back to the item's name)."""
    result = score_suppliers(example_frame(3000, seed=7), load_methodology())
    pairs = result.items[["item", "reason", "params"]].drop_duplicates(["item", "reason"])
    assert len(pairs) > 30
    for item, reason, params in pairs.itertuples(index=False):
        assert has_text(item, reason), (item, reason)
        text = item_text(item, reason, params)
        assert not re.search(r"_|\bNone\b|\bnan\b", text), (item, reason, text)


def test_every_action_code_has_a_sentence():
    assert set(ACTION_TEXTS) == set(ACTION_CODES)


def test_sentences_quote_the_numbers_plainly():
    assert item_text("intensity_vs_sector", "intensity_ratio", {"ratio": 0.65}) == (
        "intensity 35 % below the sector reference"
    )
    assert item_text("intensity_vs_sector", "intensity_ratio", {"ratio": 31.2}) == (
        "intensity 3,020 % above the sector reference"
    )
    assert item_text("trend", "intensity_not_reduced", {"reduction_pct": -0.00001}) == (
        "intensity unchanged on the previous year"
    )
    # a number that is missing falls back to a sentence that does not quote it
    assert item_text("renewable_share", "renewable_share", {"share_pct": None}) == (
        "renewable electricity share"
    )
    top = [
        {"item": "intensity_vs_sector", "effect": "raised"},
        {"item": "verification", "effect": "lowered"},
    ]
    reasons = {
        "intensity_vs_sector": ("intensity_ratio", {"ratio": 0.65}),
        "verification": ("verification_none", {"value": "none"}),
    }
    assert explanation(top, reasons) == (
        "raised: intensity 35 % below the sector reference; lowered: no third-party verification"
    )


def test_the_cli_path_is_relative_to_the_working_folder(export, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, output = export("--brand", "acme", "--year", "2025", "--out", "relative.xlsx")
    assert code == 0, output
    assert Path(tmp_path / "relative.xlsx").stat().st_size > 0


def test_export_on_postgresql(postgres_url, tmp_path):
    """The same export from PostgreSQL (timestamps with time zone, JSON columns)."""
    settings = load_settings(database_url=postgres_url, instance_path=tmp_path / "instance")
    with unit_of_work(postgres_url) as s:
        sb.scored_brand(s, settings, "pgbrand")
    for name in ("scores.csv", "scores.xlsx"):
        with unit_of_work(postgres_url) as s:
            result = export_scores(s, brand_slug="pgbrand", year=2025, out=tmp_path / name)
        assert result.rows == 8 and result.path.stat().st_size > 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "scores.csv").read_text("utf-8-sig"))))
    assert [r["rank"] for r in rows][:4] == ["1", "2", "3", "4"]
    assert {r["run_date"] for r in rows} == {result.run.created_at.date().isoformat()}
    assert openpyxl.load_workbook(tmp_path / "scores.xlsx").active.max_row == 9
