"""Supplier and spend file import on SQLite: formats, validation report, idempotence, CLI."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supplychain import jobs
from supplychain.db import session_factory
from supplychain.import_cli import import_group
from supplychain.importer import (
    ImportFileError,
    ImportValidationError,
    clean_amount,
    clean_country,
    clean_currency,
    clean_date,
    clean_status,
    clean_tier,
    import_file_job,
    import_spend,
    import_suppliers,
)
from supplychain.models import (
    AuditEvent,
    ImportBatch,
    JobRecord,
    JobStatus,
    Organization,
    OrgKind,
    RelationshipStatus,
    SpendLine,
    SupplierRelationship,
)

SUPPLIERS_EN = (
    "supplier_code,name,country,tier,status,annual_spend,currency,spend_year\n"
    "S-001,Hanoi Garment Co.,VN,1,active,120000.50,USD,2024\n"
    "S-002,Dhaka Knit Ltd,BD,2,under_review,80000,USD,2024\n"
)


def make_brand(session: Session, slug: str = "acme") -> Organization:
    brand = Organization(slug=slug, kind=OrgKind.BRAND, name=slug.title())
    session.add(brand)
    session.flush()
    return brand


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def relationships(session: Session, brand: Organization) -> dict[str, SupplierRelationship]:
    stmt = select(SupplierRelationship).where(SupplierRelationship.brand_id == brand.id)
    return {r.supplier_code: r for r in session.scalars(stmt)}


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def brand(session: Session) -> Organization:
    return make_brand(session)


# --- file formats --------------------------------------------------------------------------


def test_gbk_csv_with_chinese_headers(session, brand, tmp_path):
    path = write(
        tmp_path / "供应商.csv",
        "供应商编码,供应商名称,国家/地区,行业代码,品类,层级,状态,年采购额,币种,统一社会信用代码\n"
        'GYS01,苏州丝绸印染有限公司,中国,313310,面料,一级,合作中,"1,250,000.00",人民币,'
        "91320500MA1X2Y3Z4K\n"
        "GYS02,宁波辅料厂,CN,,辅料,2,审核中,,,\n",
        encoding="gbk",
    )

    report = import_suppliers(session, brand, path)

    assert (report.rows_total, report.inserted, report.problems) == (2, 2, [])
    assert report.encoding == "gb18030"
    rels = relationships(session, brand)
    first = rels["GYS01"]
    assert first.supplier.name == "苏州丝绸印染有限公司"
    assert first.supplier.country == "CN"
    assert first.supplier.registration_id == "91320500MA1X2Y3Z4K"
    assert (first.supplier.sector_code, first.supplier.sector_system) == ("313310", "NAICS2017")
    assert (first.category, first.tier, first.status) == ("面料", 1, RelationshipStatus.ACTIVE)
    assert (first.annual_spend, first.spend_currency) == (Decimal("1250000.00"), "CNY")
    assert rels["GYS02"].status == RelationshipStatus.UNDER_REVIEW
    assert rels["GYS02"].supplier.sector_system is None


def test_utf8_bom_and_semicolons(session, brand, tmp_path):
    text = (
        "Supplier Code;Supplier Name;Country;Currency;Annual Spend\n"
        "B1;Müller GmbH;DE;EUR;1.234,56\n"
    )
    path = write(tmp_path / "bom.csv", "\ufeff" + text)

    report = import_suppliers(session, brand, path)

    assert report.inserted == 1 and report.encoding == "utf-8-sig"
    rel = relationships(session, brand)["B1"]
    assert rel.supplier.name == "Müller GmbH"
    assert rel.annual_spend == Decimal("1234.56")


def test_tab_delimited_with_title_row_above_header(session, brand, tmp_path):
    path = write(
        tmp_path / "export.txt",
        "Supplier list exported 2024-05-01\n"
        "SUPPLIER_CODE\tNAME\tTIER\tStatus\n"
        "T1\tPorto Leather, Lda\tT2\tDelisted\n",
    )

    report = import_suppliers(session, brand, path)

    assert report.inserted == 1
    rel = relationships(session, brand)["T1"]
    assert rel.supplier.name == "Porto Leather, Lda"
    assert (rel.tier, rel.status) == (2, RelationshipStatus.DELISTED)


def test_xlsx_suppliers_and_spend_with_excel_values(session, brand, tmp_path):
    suppliers = Workbook()
    sheet = suppliers.active
    sheet.append(["供应商代码", "供应商名称", "国家", "层级", "年度采购金额", "货币"])
    sheet.append([1001, "杭州包装有限公司", "中国", 2, 35000.5, "CNY"])
    suppliers.save(tmp_path / "suppliers.xlsx")
    spend = Workbook()
    sheet = spend.active
    sheet.append(["供应商编码", "金额", "币种", "交易日期", "摘要", "凭证号"])
    sheet.append([1001, 199.9, "CNY", datetime(2024, 3, 15), "纸箱", "PZ-77"])
    sheet.append([1001, 50, "CNY", 45366, "胶带", "PZ-78"])  # an Excel serial date
    spend.save(tmp_path / "spend.xlsx")

    supplier_report = import_suppliers(session, brand, tmp_path / "suppliers.xlsx")
    spend_report = import_spend(session, brand, tmp_path / "spend.xlsx")

    assert supplier_report.inserted == 1 and spend_report.inserted == 2
    rel = relationships(session, brand)["1001"]
    assert (rel.tier, rel.annual_spend) == (2, Decimal("35000.50"))
    lines = session.scalars(select(SpendLine).order_by(SpendLine.source_line)).all()
    assert [(line.amount, line.spend_date, line.source_line) for line in lines] == [
        (Decimal("199.90"), date(2024, 3, 15), 2),
        (Decimal("50.00"), date(2024, 3, 15), 3),
    ]
    assert lines[0].document_ref == "PZ-77" and lines[0].relationship_id == rel.id


def test_semicolon_file_with_commas_inside_values(session, brand, tmp_path):
    import_suppliers(session, brand, write(tmp_path / "s.csv", "code,name\nA1,Atelier\n"))
    path = write(
        tmp_path / "ledger.csv",
        "供应商编码;金额;币种;日期;描述\n"
        "A1;1.234,56;EUR;2024-01-05;buttons, zips, labels, tape, thread, hooks, rivets\n",
    )

    report = import_spend(session, brand, path)

    assert report.inserted == 1
    line = session.scalars(select(SpendLine)).one()
    assert (line.amount, line.currency) == (Decimal("1234.56"), "EUR")
    assert line.description == "buttons, zips, labels, tape, thread, hooks, rivets"


def test_xlsx_line_numbers_follow_the_sheet_rows(session, brand, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet["A1"] = "Supplier master data, May 2024"
    sheet.append([])
    sheet.append(["Supplier Code", "Supplier Name", "Tier"])
    sheet.append(["X1", "Fine", 1])
    sheet.append(["X2", "Too deep", 12])
    book.save(tmp_path / "master.xlsx")

    with pytest.raises(ImportValidationError) as caught:
        import_suppliers(session, brand, tmp_path / "master.xlsx")

    (problem,) = caught.value.report.problems
    assert (problem.file, problem.line, problem.column, problem.value) == (
        "master.xlsx",
        5,
        "Tier",
        "12",
    )


def test_wrong_explicit_encoding_is_a_file_error(session, brand, tmp_path):
    path = write(tmp_path / "gbk.csv", "供应商编码,供应商名称\nA,上海公司\n", encoding="gbk")

    with pytest.raises(ImportFileError, match=r"gbk\.csv: the file is not valid utf-8"):
        import_suppliers(session, brand, path, encoding="utf-8")


# --- validation ----------------------------------------------------------------------------


def test_bad_row_rejects_the_whole_file_and_writes_nothing(session, brand, tmp_path):
    path = write(
        tmp_path / "bad.csv",
        "supplier_code,name,country,tier,annual_spend,currency\n"
        "OK1,Good Supplier,CN,1,100,CNY\n"
        "BAD,Bad Supplier,Atlantis,11,-5,XYZ\n",
    )
    organisations_before = count(session, Organization)

    with pytest.raises(ImportValidationError) as caught:
        import_suppliers(session, brand, path)

    report = caught.value.report
    found = {(p.line, p.column, p.value, p.rule) for p in report.problems}
    assert found == {
        (3, "country", "Atlantis", "bad_country"),
        (3, "tier", "11", "bad_tier"),
        (3, "annual_spend", "-5", "negative_amount"),
        (3, "currency", "XYZ", "unknown_currency"),
    }
    assert all(p.file == "bad.csv" for p in report.problems)
    assert "Nothing was imported from bad.csv" in caught.value.user_message
    assert count(session, SupplierRelationship) == 0
    assert count(session, Organization) == organisations_before
    assert count(session, ImportBatch) == 0
    assert count(session, AuditEvent) == 0


def test_skip_invalid_imports_good_rows_and_reports_the_rest(session, brand, tmp_path):
    path = write(
        tmp_path / "mixed.csv",
        "supplier_code,name,status,annual_spend,currency\n"
        "G1,Good One,active,10,USD\n"
        "B1,,active,10,USD\n"
        "G2,Good Two,合作中,,\n"
        "B2,Bad Two,retired,abc,USD\n"
        "B3,Bad Three,active,20,\n",
    )

    report = import_suppliers(session, brand, path, skip_invalid=True)

    assert sorted(relationships(session, brand)) == ["G1", "G2"]
    assert (report.rows_total, report.inserted, report.skipped) == (5, 2, 3)
    assert [(p.line, p.column, p.rule) for p in report.problems] == [
        (3, "name", "required_missing"),
        (5, "status", "bad_status"),
        (5, "annual_spend", "not_a_number"),
        (6, "currency", "currency_required"),
    ]
    batch = session.scalars(select(ImportBatch)).one()
    assert batch.rows_skipped == 3 and batch.rows_inserted == 2
    stored = batch.report["problems"]
    assert stored[0]["line"] == 3 and stored[0]["rule"] == "required_missing"
    json.dumps(batch.report)  # the stored report must be JSON


def test_missing_required_column_names_it_and_lists_headers(session, brand, tmp_path):
    path = write(tmp_path / "nocode.csv", "Name,Country\nAcme Dye,CN\n")

    with pytest.raises(ImportFileError) as caught:
        import_suppliers(session, brand, path)

    message = str(caught.value)
    assert message.startswith("nocode.csv: ")
    assert "'supplier_code'" in message and "供应商编码" in message
    assert "Headers found: 'Name', 'Country'" in message


def test_missing_column_below_a_title_row_lists_the_real_header(session, brand, tmp_path):
    path = write(tmp_path / "spend.csv", "Ledger export\n供应商编码,金额,日期\nA1,5,2024-01-01\n")

    with pytest.raises(ImportFileError) as caught:
        import_spend(session, brand, path)

    message = str(caught.value)
    assert "required column 'currency'" in message and "币种" in message
    assert "Headers found: '供应商编码', '金额', '日期'." in message


def test_unquoted_delimiter_inside_a_value_is_reported(session, brand, tmp_path):
    path = write(tmp_path / "s.csv", "code,name,tier\nC1,Smith, Jones & Co,1\n")

    with pytest.raises(ImportValidationError) as caught:
        import_suppliers(session, brand, path)

    rules = {(p.line, p.rule) for p in caught.value.report.problems}
    assert (2, "extra_cells") in rules


def test_duplicate_supplier_code_within_file(session, brand, tmp_path):
    path = write(tmp_path / "dup.csv", "code,name\nD1,First\nD2,Second\nD1,First again\n")

    with pytest.raises(ImportValidationError) as caught:
        import_suppliers(session, brand, path)

    (problem,) = caught.value.report.problems
    assert (problem.line, problem.column, problem.value) == (4, "code", "D1")
    assert problem.rule == "duplicate_code" and "line 2" in problem.message


def test_spend_with_unknown_supplier_code_of_this_brand(session, brand, tmp_path):
    other = make_brand(session, "other-brand")
    import_suppliers(session, other, write(tmp_path / "other.csv", "code,name\nX9,Elsewhere\n"))
    import_suppliers(session, brand, write(tmp_path / "mine.csv", "code,name\nA1,Mine\n"))
    path = write(
        tmp_path / "spend.csv",
        "supplier_code,amount,currency,date\nA1,10,CNY,2024-01-05\nX9,20,CNY,2024-01-06\n",
    )

    with pytest.raises(ImportValidationError) as caught:
        import_spend(session, brand, path)

    (problem,) = caught.value.report.problems
    assert (problem.line, problem.column, problem.value) == (3, "supplier_code", "X9")
    assert problem.rule == "unknown_supplier"
    assert count(session, SpendLine) == 0


def test_spend_validation_rules(session, brand, tmp_path):
    import_suppliers(session, brand, write(tmp_path / "s.csv", "code,name\nA1,Mine\n"))
    path = write(
        tmp_path / "spend.csv",
        "supplier_code,amount,currency,date\n"
        "A1,20000000000000,CNY,2024-01-05\n"
        "A1,12,CNY,2024-02-30\n"
        "A1,12,CNY,next tuesday\n"
        ",12,CNY,2024-01-05\n",
    )

    with pytest.raises(ImportValidationError) as caught:
        import_spend(session, brand, path)

    rules = [(p.line, p.rule) for p in caught.value.report.problems]
    assert rules == [
        (2, "amount_too_large"),
        (3, "bad_date"),
        (4, "bad_date"),
        (5, "required_missing"),
    ]


# --- idempotence and updates ---------------------------------------------------------------


def test_reimporting_the_same_suppliers_changes_nothing(session, brand, tmp_path):
    path = write(tmp_path / "suppliers.csv", SUPPLIERS_EN)
    first = import_suppliers(session, brand, path)
    organisations = count(session, Organization)

    second = import_suppliers(session, brand, path)

    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 2)
    assert second.rows_total == first.rows_total == 2
    assert count(session, SupplierRelationship) == 2
    assert count(session, Organization) == organisations
    assert count(session, ImportBatch) == 2


def test_changed_field_updates_supplier(session, brand, tmp_path):
    import_suppliers(session, brand, write(tmp_path / "v1.csv", SUPPLIERS_EN))
    changed = SUPPLIERS_EN.replace(
        "S-002,Dhaka Knit Ltd,BD,2,under_review", "S-002,Dhaka Knit Limited,BD,3,delisted"
    )

    report = import_suppliers(session, brand, write(tmp_path / "v2.csv", changed))

    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    session.expire_all()
    rel = relationships(session, brand)["S-002"]
    assert (rel.tier, rel.status, rel.supplier.name) == (
        3,
        RelationshipStatus.DELISTED,
        "Dhaka Knit Limited",
    )


def test_spend_reimport_is_idempotent_and_keeps_genuine_duplicates(session, brand, tmp_path):
    import_suppliers(session, brand, write(tmp_path / "s.csv", SUPPLIERS_EN))
    spend = (
        "supplier_code,amount,currency,date,description,document_ref\n"
        "S-001,100.00,USD,2024-01-10,buttons,INV-1\n"
        "S-001,100,USD,2024/01/10,buttons,INV-1\n"  # same line again: a genuine repeat
        "S-002,55.5,USD,2024年2月3日,yarn,INV-2\n"
    )
    path = write(tmp_path / "spend.csv", spend)

    first = import_spend(session, brand, path)
    second = import_spend(session, brand, path)

    assert (first.inserted, first.unchanged) == (3, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 3)
    assert count(session, SpendLine) == 3
    keys = session.scalars(select(SpendLine.line_key)).all()
    assert len(set(keys)) == 3


def test_spend_reimport_updates_category(session, brand, tmp_path):
    import_suppliers(session, brand, write(tmp_path / "s.csv", SUPPLIERS_EN))
    header = "supplier_code,amount,currency,date,category\n"
    import_spend(
        session, brand, write(tmp_path / "a.csv", header + "S-001,9,USD,2024-01-10,trims\n")
    )

    report = import_spend(
        session, brand, write(tmp_path / "b.csv", header + "S-001,9,USD,2024-01-10,packaging\n")
    )

    assert (report.inserted, report.updated) == (0, 1)
    assert session.scalars(select(SpendLine.category)).one() == "packaging"


def test_supplier_shared_by_two_brands_via_registration_id(session, brand, tmp_path):
    other = make_brand(session, "globex")
    header = "supplier_code,name,registration_id\n"
    import_suppliers(
        session, brand, write(tmp_path / "a.csv", header + "A-7,绍兴印染厂,91330600X\n")
    )
    organisations = count(session, Organization)

    report = import_suppliers(
        session, other, write(tmp_path / "b.csv", header + "G-1,Shaoxing Dyeing,91330600X\n")
    )

    assert report.inserted == 1
    assert count(session, Organization) == organisations  # reused, not duplicated
    mine = relationships(session, brand)["A-7"]
    theirs = relationships(session, other)["G-1"]
    assert mine.supplier_id == theirs.supplier_id
    assert theirs.supplier.name == "绍兴印染厂"  # a shared organisation is not renamed


def test_registration_id_of_another_supplier_code_is_rejected(session, brand, tmp_path):
    header = "supplier_code,name,registration_id\n"
    import_suppliers(session, brand, write(tmp_path / "a.csv", header + "A-1,One,REG1\n"))

    with pytest.raises(ImportValidationError) as caught:
        import_suppliers(session, brand, write(tmp_path / "b.csv", header + "A-2,Two,REG1\n"))

    assert [p.rule for p in caught.value.report.problems] == ["registration_in_use"]


# --- batch, audit, job, progress -----------------------------------------------------------


def test_batch_and_audit_event_are_recorded(session, brand, tmp_path):
    path = write(tmp_path / "suppliers.csv", SUPPLIERS_EN)

    report = import_suppliers(session, brand, path, actor_id=None, source_name="upload.csv")

    batch = session.scalars(select(ImportBatch)).one()
    assert str(batch.public_id) == report.batch_public_id
    assert (batch.kind, batch.filename, batch.rows_total, batch.rows_inserted) == (
        "suppliers",
        "upload.csv",
        2,
        2,
    )
    assert len(batch.sha256) == 64 and batch.report["inserted"] == 2
    event = session.scalars(select(AuditEvent)).one()
    assert (event.action, event.entity_id, event.organization_id) == (
        "import.suppliers",
        report.batch_public_id,
        brand.id,
    )
    assert event.after["inserted"] == 2


def test_progress_reports_rows_processed(session, brand, tmp_path):
    seen: list[int] = []

    import_suppliers(session, brand, write(tmp_path / "s.csv", SUPPLIERS_EN), progress=seen.append)

    assert seen and seen[-1] == 2 and seen == sorted(seen)


def test_job_entry_point_returns_report_and_raises_on_bad_rows(session, brand, tmp_path):
    good = write(tmp_path / "good.csv", SUPPLIERS_EN)
    bad = write(tmp_path / "bad.csv", "code,name,tier\nZ1,Zed,0\n")

    result = import_file_job(session, brand_id=brand.id, kind="suppliers", path=str(good))

    assert result["inserted"] == 2 and result["kind"] == "suppliers"
    json.dumps(result)
    with pytest.raises(ImportValidationError) as caught:
        import_file_job(session, brand_id=brand.id, kind="suppliers", path=str(bad))
    assert "bad.csv:2: column 'tier' value '0'" in caught.value.user_message


def test_job_layer_runs_the_import_and_records_failures(sqlite_url, tmp_path):
    with session_factory(sqlite_url)() as setup:
        brand_id = make_brand(setup, "job-brand").id
        setup.commit()
    good = write(tmp_path / "good.csv", SUPPLIERS_EN)
    bad = write(tmp_path / "bad.csv", "code,name,status\nZ1,Zed,gone\n")

    def run(path: Path) -> JobRecord:
        return jobs.submit(
            sqlite_url,
            None,
            "supplychain.importer:import_file_job",
            kind="import.suppliers",
            organization_id=brand_id,
            params={"brand_id": brand_id, "kind": "suppliers", "path": str(path)},
        )

    done, failed = run(good), run(bad)

    assert done.status == JobStatus.FINISHED and done.result["inserted"] == 2
    assert failed.status == JobStatus.FAILED
    assert failed.error.startswith("Nothing was imported from bad.csv")
    assert "bad.csv:2: column 'status' value 'gone'" in failed.error


# --- value cleaners ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        ("2024/3/1", date(2024, 3, 1)),
        ("2024年3月1日", date(2024, 3, 1)),
        ("2024-03-01 00:00:00", date(2024, 3, 1)),
        ("20240301", date(2024, 3, 1)),
        ("45352", date(2024, 3, 1)),
    ],
)
def test_dates_accepted(raw, expected):
    assert clean_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,234.50", Decimal("1234.50")),
        ("1.234,5", Decimal("1234.50")),
        ("12,5", Decimal("12.50")),
        ("¥ 88", Decimal("88.00")),
        ("0.005", Decimal("0.01")),
    ],
)
def test_amounts_accepted(raw, expected):
    assert clean_amount(raw) == expected


def test_reference_values():
    assert clean_currency("rmb") == "CNY" and clean_currency("美元") == "USD"
    assert clean_country("中国") == "CN" and clean_country("hong kong") == "HK"
    assert clean_country("gb") == "GB"
    assert clean_tier("二级") == 2 and clean_tier("3.0") == 3
    assert clean_status("Under Review") == RelationshipStatus.UNDER_REVIEW
    assert clean_status("已停用") == RelationshipStatus.DELISTED


# --- command line --------------------------------------------------------------------------


@pytest.fixture
def cli_env(sqlite_url, tmp_path) -> dict[str, str]:
    return {
        "DATABASE_URL": sqlite_url,
        "SUPPLYCHAIN_INSTANCE": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
    }


def test_cli_imports_and_reports(sqlite_url, cli_env, tmp_path):
    with session_factory(sqlite_url)() as setup:
        make_brand(setup, "cli-brand")
        setup.commit()
    good = write(tmp_path / "good.csv", SUPPLIERS_EN)
    bad = write(tmp_path / "bad.csv", "code,name,country\nQ1,Quux,Narnia\n")
    runner = CliRunner()

    ok = runner.invoke(import_group, ["suppliers", str(good), "--brand", "cli-brand"], env=cli_env)
    failed = runner.invoke(
        import_group, ["suppliers", str(bad), "--brand", "cli-brand"], env=cli_env
    )
    missing = runner.invoke(import_group, ["spend", str(good), "--brand", "nobody"], env=cli_env)

    assert ok.exit_code == 0, ok.output
    assert "2 inserted" in ok.output
    assert failed.exit_code == 1
    assert "bad.csv:2: column 'country' value 'Narnia'" in failed.output
    assert "[bad_country]" in failed.output and "Nothing was written" in failed.output
    assert missing.exit_code == 1 and "no organisation with slug 'nobody'" in missing.output
    with session_factory(sqlite_url)() as check:
        assert count(check, SupplierRelationship) == 2
        assert count(check, ImportBatch) == 1


def test_cli_skip_invalid_and_refuses_supplier_as_brand(sqlite_url, cli_env, tmp_path):
    with session_factory(sqlite_url)() as setup:
        make_brand(setup, "cli-brand")
        setup.add(Organization(slug="a-supplier", kind=OrgKind.SUPPLIER, name="S"))
        setup.commit()
    mixed = write(tmp_path / "mixed.csv", "code,name,tier\nM1,Fine,1\nM2,Broken,99\n")
    runner = CliRunner()

    skipped = runner.invoke(
        import_group,
        ["suppliers", str(mixed), "--brand", "cli-brand", "--skip-invalid"],
        env=cli_env,
    )
    refused = runner.invoke(
        import_group, ["suppliers", str(mixed), "--brand", "a-supplier"], env=cli_env
    )

    assert skipped.exit_code == 0, skipped.output
    assert "1 inserted" in skipped.output and "1 skipped" in skipped.output
    assert "mixed.csv:3: column 'tier' value '99'" in skipped.output
    assert refused.exit_code == 1 and "not a brand" in refused.output
