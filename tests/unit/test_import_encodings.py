"""Text encodings of CSV imports: a wrong guess must never be stored as mojibake.

Real files in legacy encodings: Latin-1 with French and German names, GBK from a Chinese ERP,
Windows-1251, Windows-1250, Big5. Each either imports with the right text or is refused naming
the encodings it could be; an explicit encoding always wins.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supplychain.db import session_factory
from supplychain.import_cli import import_group
from supplychain.importer import ImportFileError, detect_encoding, import_suppliers
from supplychain.models import Organization, OrgKind, SupplierRelationship

WESTERN = (
    "supplier_code,name,country\n"
    "F1,Société Générale,FR\n"
    "F2,Müller GmbH,DE\n"
    "F3,Façade Rénovation SARL,FR\n"
)
WESTERN_NAMES = {"F1": "Société Générale", "F2": "Müller GmbH", "F3": "Façade Rénovation SARL"}


def names(session: Session, brand: Organization) -> dict[str, str]:
    stmt = select(SupplierRelationship).where(SupplierRelationship.brand_id == brand.id)
    return {r.supplier_code: r.supplier.name for r in session.scalars(stmt)}


def write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def brand(session: Session) -> Organization:
    brand = Organization(slug="acme", kind=OrgKind.BRAND, name="Acme")
    session.add(brand)
    session.flush()
    return brand


@pytest.mark.parametrize(
    "text",
    [
        WESTERN,
        # Every accented letter here is followed by a byte GB18030 accepts as a second byte, so
        # the whole file decodes as GB18030 ("M黮ler"): the guess the importer used to store.
        "supplier_code,name,country\nF2,Müller GmbH,DE\nF3,Façade,FR\n",
    ],
)
def test_latin1_file_imports_with_the_right_names_or_not_at_all(session, brand, tmp_path, text):
    path = write(tmp_path / "suppliers.csv", text, "latin-1")
    expected = {line.split(",")[0]: line.split(",")[1] for line in text.splitlines()[1:]}

    try:
        report = import_suppliers(session, brand, path)
    except ImportFileError as refused:
        assert refused.code == "encoding_uncertain"
        assert "latin-1" in refused.params["candidates"] or "cp1252" in refused.params["candidates"]
        assert names(session, brand) == {}
    else:
        assert report.encoding in ("latin-1", "cp1252")
        assert names(session, brand) == expected


def test_latin1_with_explicit_encoding_imports_correctly(session, brand, tmp_path):
    path = write(tmp_path / "suppliers.csv", WESTERN, "latin-1")

    report = import_suppliers(session, brand, path, encoding="latin-1")

    assert report.encoding == "latin-1" and report.inserted == 3
    assert names(session, brand) == WESTERN_NAMES


def test_gbk_export_imports_without_a_question(session, brand, tmp_path):
    text = (
        "供应商编码,供应商名称,国家,品类\n"
        "G1,苏州丝绸印染有限公司,中国,面料\n"
        "G2,TCL科技集团股份有限公司,CN,电子\n"
        "G3,宁波申洲针织有限公司（Shenzhou）,CN,成衣\n"
    )
    path = write(tmp_path / "供应商.csv", text, "gbk")

    report = import_suppliers(session, brand, path)

    assert report.encoding == "gb18030"
    assert names(session, brand)["G2"] == "TCL科技集团股份有限公司"
    assert names(session, brand)["G3"] == "宁波申洲针织有限公司（Shenzhou）"


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        ("supplier_code,name\nR1,ООО Ромашка\nR2,Северсталь\n", "cp1251", "cp1251"),
        ("supplier_code,name\nW1,Café “Le Bon” – 5 €\n", "cp1252", "cp1252"),
        ("supplier_code,name\nU1,Müller GmbH\n", "utf-8", "utf-8"),
        ("\ufeffsupplier_code,name\nU1,Müller GmbH\n", "utf-8", "utf-8-sig"),
    ],
)
def test_unambiguous_encodings_are_detected(tmp_path, text, encoding, expected):
    path = write(tmp_path / "file.csv", text, encoding)

    assert detect_encoding(path, path.name) == expected


def test_ambiguous_central_european_file_is_refused_naming_candidates(tmp_path):
    path = write(tmp_path / "dodavatele.csv", "supplier_code,name\nC1,Dvořák a syn\n", "cp1250")

    with pytest.raises(ImportFileError) as refused:
        detect_encoding(path, path.name)

    assert refused.value.code == "encoding_uncertain"
    assert refused.value.params["candidates"] == ["cp1252", "cp1250"]
    assert str(refused.value) == (
        "dodavatele.csv: could not tell the text encoding: it could be cp1252 or cp1250; "
        "choose one explicitly."
    )


def test_big5_file_is_not_taken_for_gbk(tmp_path):
    """Big5 decodes as GB18030 too, into private-use and rare characters; it must be asked."""
    text = "供應商編碼,供應商名稱\nB1,臺灣塑膠工業股份有限公司\n"
    path = write(tmp_path / "tw.csv", text, "big5")

    with pytest.raises(ImportFileError) as refused:
        detect_encoding(path, path.name)

    assert refused.value.code == "encoding_uncertain"
    assert detect_encoding(path, path.name, "big5") == "big5"


def test_cli_names_candidates_and_accepts_encoding(sqlite_url, tmp_path):
    with session_factory(sqlite_url)() as setup:
        setup.add(Organization(slug="cli-brand", kind=OrgKind.BRAND, name="CLI"))
        setup.commit()
    env = {
        "DATABASE_URL": sqlite_url,
        "SUPPLYCHAIN_INSTANCE": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
    }
    path = write(tmp_path / "suppliers.csv", "supplier_code,name\nC1,Dvořák a syn\n", "cp1250")
    runner = CliRunner()

    refused = runner.invoke(import_group, ["suppliers", str(path), "--brand", "cli-brand"], env=env)
    chosen = runner.invoke(
        import_group,
        ["suppliers", str(path), "--brand", "cli-brand", "--encoding", "cp1250"],
        env=env,
    )

    assert refused.exit_code == 1
    assert "could not tell the text encoding: it could be cp1252 or cp1250" in refused.output
    assert "--encoding" in refused.output
    assert chosen.exit_code == 0, chosen.output
    with session_factory(sqlite_url)() as check:
        stmt = select(func.count()).select_from(SupplierRelationship)
        assert check.scalar(stmt) == 1
        (name,) = check.scalars(select(Organization.name).where(Organization.slug != "cli-brand"))
        assert name == "Dvořák a syn"
