"""File import against both databases: SQLite and a real PostgreSQL, committed transactions."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from supplychain.db import unit_of_work
from supplychain.importer import ImportValidationError, import_spend, import_suppliers
from supplychain.models import (
    AuditEvent,
    ImportBatch,
    Organization,
    OrgKind,
    SpendLine,
    SupplierRelationship,
)

pytestmark = pytest.mark.integration

SUPPLIERS = (
    "供应商编码,供应商名称,英文名称,国家,统一社会信用代码,层级,状态,年采购额,币种,年度\n"
    "SZ-01,苏州丝绸印染有限公司,Suzhou Silk Dyeing,中国,91320500MA1X2Y3Z4K,1,合作中,"
    "1200000,CNY,2024\n"
    "VN-02,Hanoi Garment Co.,,VN,,2,审核中,,,\n"
)
SPEND = (
    "供应商编码,金额,币种,交易日期,摘要,单据号\n"
    "SZ-01,1000.00,CNY,2024-01-31,印染加工费,PZ-1\n"
    "SZ-01,1000.00,CNY,2024-01-31,印染加工费,PZ-1\n"
    "VN-02,250.75,USD,2024/02/15,cut-make-trim,INV-9\n"
)


def _counts(url: str) -> dict[str, int]:
    with unit_of_work(url) as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Organization, SupplierRelationship, SpendLine, ImportBatch, AuditEvent)
        }


def _brand_id(url: str) -> int:
    with unit_of_work(url) as session:
        brand = Organization(slug="acme", kind=OrgKind.BRAND, name="Acme Apparel")
        session.add(brand)
        session.flush()
        return brand.id


def _import(url: str, kind: str, brand_id: int, path: Path, **options):
    importer = import_suppliers if kind == "suppliers" else import_spend
    with unit_of_work(url) as session:
        return importer(session, session.get(Organization, brand_id), path, **options)


def test_suppliers_then_spend_and_reimport(any_db_url, tmp_path):
    brand_id = _brand_id(any_db_url)
    suppliers = tmp_path / "suppliers.csv"
    suppliers.write_bytes(SUPPLIERS.encode("gb18030"))
    spend = tmp_path / "spend.csv"
    spend.write_text(SPEND, encoding="utf-8-sig")

    first = _import(any_db_url, "suppliers", brand_id, suppliers)
    lines = _import(any_db_url, "spend", brand_id, spend)
    after_first = _counts(any_db_url)
    again = _import(any_db_url, "suppliers", brand_id, suppliers)
    lines_again = _import(any_db_url, "spend", brand_id, spend)
    after_second = _counts(any_db_url)

    assert (first.inserted, lines.inserted) == (2, 3)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert (lines_again.inserted, lines_again.updated, lines_again.unchanged) == (0, 0, 3)
    assert after_first["SupplierRelationship"] == after_second["SupplierRelationship"] == 2
    assert after_first["SpendLine"] == after_second["SpendLine"] == 3
    assert after_second["ImportBatch"] == after_second["AuditEvent"] == 4
    with unit_of_work(any_db_url) as session:
        rel = session.scalars(
            select(SupplierRelationship).where(SupplierRelationship.supplier_code == "SZ-01")
        ).one()
        assert rel.annual_spend == Decimal("1200000.00") and rel.spend_year == 2024
        assert rel.supplier.name_en == "Suzhou Silk Dyeing" and rel.supplier.country == "CN"
        total = session.scalar(
            select(func.sum(SpendLine.amount)).where(SpendLine.relationship_id == rel.id)
        )
        assert total == Decimal("2000.00")
        batch = session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
        assert batch.kind == "spend" and batch.report["unchanged"] == 3


def test_invalid_file_rolls_back_everything(any_db_url, tmp_path):
    brand_id = _brand_id(any_db_url)
    good = tmp_path / "suppliers.csv"
    good.write_text(SUPPLIERS, encoding="utf-8")
    _import(any_db_url, "suppliers", brand_id, good)
    before = _counts(any_db_url)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "supplier_code,name,country,tier\nNEW-1,New Supplier,CN,1\nSZ-01,Renamed,CN,42\n",
        encoding="utf-8",
    )

    with pytest.raises(ImportValidationError) as caught:
        _import(any_db_url, "suppliers", brand_id, bad)

    assert [(p.line, p.rule) for p in caught.value.report.problems] == [(3, "bad_tier")]
    assert _counts(any_db_url) == before
    with unit_of_work(any_db_url) as session:
        names = set(session.scalars(select(Organization.name)))
        assert "New Supplier" not in names and "Renamed" not in names


def test_skip_invalid_commits_only_good_rows(any_db_url, tmp_path):
    brand_id = _brand_id(any_db_url)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("code,name,tier\nK1,Keep,1\nK2,Drop,zero\n", encoding="utf-8")

    report = _import(any_db_url, "suppliers", brand_id, mixed, skip_invalid=True)

    assert (report.inserted, report.skipped) == (1, 1)
    with unit_of_work(any_db_url) as session:
        codes = session.scalars(select(SupplierRelationship.supplier_code)).all()
        assert codes == ["K1"]
