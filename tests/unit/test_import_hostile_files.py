"""Hostile import files: XLSX zip bombs and entity bombs, oversized sheets, control characters.

The workbooks are written with zipfile directly, part by part, the way an attacker would build
them; openpyxl could not write them. Every refusal must come before any row is written.
"""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supplychain.db import session_factory
from supplychain.import_cli import import_group
from supplychain.importer import (
    ImportFileError,
    ImportValidationError,
    estimate_rows,
    import_spend,
    import_suppliers,
)
from supplychain.models import ImportBatch, Organization, OrgKind, SpendLine, SupplierRelationship

MB = 1024 * 1024
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Suppliers" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/sharedStrings"/></Relationships>'
)
SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_END = "</sheetData></worksheet>"
HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>supplier_code</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>name</t></is></c></row>'
)
NO_STRINGS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" '
    'uniqueCount="0"></sst>'
)
ENTITY_BOMB = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    + "]>"
)


def write_xlsx(
    path: Path,
    sheet_body: str = HEADER_ROW,
    shared_strings: str = NO_STRINGS,
    bomb_bytes: int = 0,
    extra: dict[str, bytes] | None = None,
) -> Path:
    """A minimal workbook; `bomb_bytes` of identical rows are streamed into the sheet."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/sharedStrings.xml", shared_strings)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write((SHEET_START + sheet_body).encode())
            row = b'<row><c t="inlineStr"><is><t>B-1</t></is></c></row>' * 20_000
            for _ in range(-(-bomb_bytes // len(row))):
                sheet.write(row)
            sheet.write(SHEET_END.encode())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def assert_nothing_written(session: Session) -> None:
    session.rollback()
    assert count(session, SupplierRelationship) == 0
    assert count(session, SpendLine) == 0
    assert count(session, Organization) == 1  # the brand
    # A refused file may be listed as refused, never as an import that wrote rows.
    assert session.scalar(select(func.max(ImportBatch.rows_inserted))) in (None, 0)


@pytest.fixture
def brand(session: Session) -> Organization:
    brand = Organization(slug="acme", kind=OrgKind.BRAND, name="Acme")
    session.add(brand)
    session.commit()
    return brand


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    """200 MB of sheet XML in a few hundred KB."""
    path = write_xlsx(tmp_path_factory.mktemp("bomb") / "suppliers.xlsx", bomb_bytes=200 * MB)
    assert path.stat().st_size < 1 * MB
    return path


# --- zip bombs -------------------------------------------------------------------------------


def test_zip_bomb_is_refused_before_parsing_with_small_memory(session, brand, zip_bomb):
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError) as refused:
            import_suppliers(session, brand, zip_bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert refused.value.code == "xlsx_too_large"
    assert str(refused.value) == (
        "suppliers.xlsx: the XLSX file would expand to 200 MB when opened, "
        "more than the 100 MB allowed."
    )
    assert peak < 20 * MB
    assert_nothing_written(session)


def test_progress_estimate_does_not_open_a_zip_bomb(zip_bomb):
    tracemalloc.start()
    try:
        assert estimate_rows(zip_bomb) == 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * MB


def test_compression_ratio_limit_catches_a_smaller_bomb(session, brand, tmp_path):
    bomb = write_xlsx(tmp_path / "spend.xlsx", bomb_bytes=30 * MB)

    with pytest.raises(ImportFileError) as refused:
        import_spend(session, brand, bomb)

    assert refused.value.code == "xlsx_ratio"
    assert "xl/worksheets/sheet1.xml expands" in str(refused.value)
    assert "more than the 100 allowed; it looks like a zip bomb" in str(refused.value)
    assert_nothing_written(session)


def test_expanded_size_limit_is_configurable(session, brand, tmp_path, monkeypatch):
    workbook = write_xlsx(tmp_path / "ok.xlsx", bomb_bytes=2 * MB)
    monkeypatch.setenv("IMPORT_XLSX_MAX_EXPANDED_BYTES", str(1 * MB))

    with pytest.raises(ImportFileError, match="more than the 1 MB allowed"):
        import_suppliers(session, brand, workbook)


def test_archive_with_too_many_parts_is_refused(session, brand, tmp_path):
    parts = {f"xl/media/image{n}.png": b"\x89PNG" for n in range(1001)}
    crowded = write_xlsx(tmp_path / "crowded.xlsx", extra=parts)

    with pytest.raises(ImportFileError, match="1,007 parts, more than the 1,000 allowed"):
        import_suppliers(session, brand, crowded)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../../etc/cron.d/job", "its path leaves the archive"),
        ("xl/embeddings/inner.zip", "it is an archive inside the workbook"),
    ],
)
def test_odd_parts_are_refused(session, brand, tmp_path, name, reason):
    odd = write_xlsx(tmp_path / "odd.xlsx", extra={name: b"PK\x03\x04"})

    with pytest.raises(ImportFileError) as refused:
        import_suppliers(session, brand, odd)

    assert refused.value.code == "xlsx_odd_part"
    assert f"({name}: {reason})" in str(refused.value)


def test_a_file_that_only_starts_like_a_zip_is_damaged(session, brand, tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 100)

    with pytest.raises(ImportFileError) as refused:
        import_suppliers(session, brand, broken)

    assert refused.value.code == "xlsx_damaged"
    assert "the XLSX file is damaged" in str(refused.value)


def test_workbook_missing_its_sheet_is_damaged(session, brand, tmp_path):
    path = tmp_path / "nosheet.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)

    with pytest.raises(ImportFileError, match="damaged or contains forbidden XML entity"):
        import_suppliers(session, brand, path)


# --- entity bombs ----------------------------------------------------------------------------


def test_billion_laughs_in_shared_strings_is_refused(session, brand, tmp_path):
    strings = (
        '<?xml version="1.0" encoding="UTF-8"?>' + ENTITY_BOMB + "<sst xmlns="
        '"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>'
    )
    bomb = write_xlsx(tmp_path / "laughs.xlsx", shared_strings=strings)

    with pytest.raises(ImportFileError) as refused:
        import_suppliers(session, brand, bomb)

    assert refused.value.code == "xlsx_damaged"
    assert str(refused.value).startswith(
        "laughs.xlsx: the XLSX file is damaged or contains forbidden XML entity declarations"
    )
    assert_nothing_written(session)


def test_entity_declaration_hidden_behind_a_long_prolog_is_refused_by_the_parser(
    session, brand, tmp_path
):
    """Past the archive check's look at the prolog, defusedxml refuses; the message is ours."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><!--'
        + " " * 100_000
        + "-->"
        + ENTITY_BOMB
        + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    path = tmp_path / "hidden.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/sharedStrings.xml", NO_STRINGS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)

    with pytest.raises(ImportFileError) as refused:
        import_suppliers(session, brand, path)

    assert refused.value.code == "xlsx_damaged"
    assert "forbidden XML entity declarations" in str(refused.value)


def test_cli_shows_the_refusal_and_writes_nothing(sqlite_url, tmp_path, zip_bomb):
    with session_factory(sqlite_url)() as setup:
        setup.add(Organization(slug="cli-brand", kind=OrgKind.BRAND, name="CLI"))
        setup.commit()
    env = {
        "DATABASE_URL": sqlite_url,
        "SUPPLYCHAIN_INSTANCE": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
    }

    result = CliRunner().invoke(
        import_group, ["suppliers", str(zip_bomb), "--brand", "cli-brand"], env=env
    )

    assert result.exit_code == 1
    assert "suppliers.xlsx: the XLSX file would expand to 200 MB" in result.output
    with session_factory(sqlite_url)() as check:
        assert count(check, SupplierRelationship) == 0
        assert count(check, ImportBatch) == 0


# --- sheet size limits -----------------------------------------------------------------------


def test_too_many_rows_is_refused_naming_the_limit(session, brand, tmp_path, monkeypatch):
    rows = "supplier_code,name\n" + "".join(f"R{n},Row {n}\n" for n in range(20))
    path = tmp_path / "long.csv"
    path.write_text(rows)
    monkeypatch.setenv("IMPORT_MAX_ROWS", "10")

    with pytest.raises(ImportFileError) as refused:
        import_suppliers(session, brand, path)

    assert str(refused.value) == (
        "long.csv: the file has more than 10 rows; split it into smaller files."
    )
    assert_nothing_written(session)


def test_too_many_columns_is_refused(session, brand, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("supplier_code,name\nW1,Wide," + ",".join(["x"] * 250) + "\n")

    with pytest.raises(ImportFileError, match=r"line 2 has 252 columns, more than the 200"):
        import_suppliers(session, brand, path)


def test_trailing_empty_cells_do_not_count_as_columns(session, brand, tmp_path):
    path = tmp_path / "padded.csv"
    path.write_text("supplier_code,name" + "," * 300 + "\nP1,Padded Ltd" + "," * 300 + "\n")

    report = import_suppliers(session, brand, path)

    assert report.inserted == 1


def test_sheet_row_reaching_column_xfd_is_refused(session, brand, tmp_path):
    far = HEADER_ROW + '<row r="2"><c r="XFD2" t="inlineStr"><is><t>far</t></is></c></row>'
    path = write_xlsx(tmp_path / "far.xlsx", sheet_body=far)

    with pytest.raises(ImportFileError, match=r"line 2 has 16,384 columns"):
        import_suppliers(session, brand, path)


def test_cell_longer_than_excel_allows_is_refused(session, brand, tmp_path):
    long_row = f'<row r="2"><c r="B2" t="inlineStr"><is><t>{"x" * 40_000}</t></is></c></row>'
    path = write_xlsx(tmp_path / "long-cell.xlsx", sheet_body=HEADER_ROW + long_row)

    with pytest.raises(ImportFileError) as refused:
        import_suppliers(session, brand, path)

    assert str(refused.value) == (
        "long-cell.xlsx: line 2, cell 2 holds more than 32,767 characters, "
        "the most a cell may hold."
    )


# --- control characters ----------------------------------------------------------------------


def test_nul_byte_in_a_cell_is_a_row_error_and_nothing_is_written(session, brand, tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"supplier_code,name\nN1,Good Ltd\nN2,Bad\x00Ltd\nN3,Tab\tis fine\n")

    with pytest.raises(ImportValidationError) as failed:
        import_suppliers(session, brand, path)

    (problem,) = failed.value.report.problems
    assert (problem.file, problem.line, problem.column) == ("nul.csv", 3, "name")
    assert problem.rule == "control_character"
    assert "U+0000" in problem.message
    assert problem.value == "Bad<U+0000>Ltd"
    assert_nothing_written(session)


def test_control_characters_with_skip_invalid_skip_only_their_rows(session, brand, tmp_path):
    path = tmp_path / "controls.csv"
    path.write_bytes(b"supplier_code,name\nC1,Bell\x07Co\nC2,Fine Co\nC3,Del\x7f\n")

    report = import_suppliers(session, brand, path, skip_invalid=True)

    assert report.inserted == 1 and report.skipped == 2
    assert [p.format() for p in report.problems] == [
        "controls.csv:2: column 'name' value 'Bell<U+0007>Co': The value contains the control "
        "character U+0007, which text may not hold; remove it from the source file. "
        "[control_character]",
        "controls.csv:4: column 'name' value 'Del<U+007F>': The value contains the control "
        "character U+007F, which text may not hold; remove it from the source file. "
        "[control_character]",
    ]
