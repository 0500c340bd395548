"""The console's import form with hostile or ambiguous files: encodings, zip bombs, NUL bytes."""

from __future__ import annotations

import io
import re
import zipfile

from sqlalchemy import select

from supplychain.db import unit_of_work
from supplychain.models import Organization, SupplierRelationship

CP1250_CSV = "supplier_code,name\nC1,Dvořák a syn\n".encode("cp1250")
LATIN1_CSV = "supplier_code,name\nF1,Société Générale\nF2,Müller GmbH\n".encode("latin-1")


def upload(client, data: bytes, filename="suppliers.csv", encoding=""):
    form = {"kind": "suppliers", "file": (io.BytesIO(data), filename), "encoding": encoding}
    return client.post("/console/imports", data=form, content_type="multipart/form-data")


def supplier_names(url: str) -> set[str]:
    with unit_of_work(url) as s:
        stmt = select(Organization.name).join(
            SupplierRelationship, SupplierRelationship.supplier_id == Organization.id
        )
        return set(s.scalars(stmt))


def test_form_offers_the_encodings(client_a):
    page = client_a.get("/console/imports").get_data(as_text=True)
    for value in ("utf-8", "gb18030", "big5", "shift_jis", "latin-1", "cp1252", "cp1251"):
        assert f'<option value="{value}">' in page


def test_chosen_encoding_imports_latin1_names(client_a, sqlite_url):
    response = upload(client_a, LATIN1_CSV, encoding="latin-1")

    page = client_a.get(response.location).get_data(as_text=True)
    assert "Finished" in page
    assert {"Société Générale", "Müller GmbH"} <= supplier_names(sqlite_url)


def test_unclear_encoding_is_refused_with_candidates_and_imported_on_choice(client_a, sqlite_url):
    before = supplier_names(sqlite_url)
    response = upload(client_a, CP1250_CSV)

    page = client_a.get(response.location).get_data(as_text=True)
    assert "Nothing was imported" in page
    assert "Could not tell the text encoding of suppliers.csv: it could be cp1252, cp1250." in page
    options = re.findall(r'<option value="([^"]+)">', page.split('id="import-refusal"')[1])
    assert options[:2] == ["cp1252", "cp1250"]
    assert supplier_names(sqlite_url) == before

    form = re.search(r'<form method="post" action="([^"]+/encoding)"', page)[1]
    again = client_a.post(form, data={"encoding": "cp1250"})
    assert "Finished" in client_a.get(again.location).get_data(as_text=True)
    assert "Dvořák a syn" in supplier_names(sqlite_url)


def test_retry_refuses_an_encoding_not_offered(client_a, sqlite_url):
    page = client_a.get(upload(client_a, CP1250_CSV).location).get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]+/encoding)"', page)[1]

    response = client_a.post(form, data={"encoding": "utf-7"})

    assert response.status_code == 302 and "/encoding" not in response.location
    assert "Dvořák a syn" not in supplier_names(sqlite_url)


def test_refusals_read_in_chinese(client_a):
    client_a.post("/language", data={"lang": "zh_CN"})
    response = upload(client_a, CP1250_CSV)
    page = client_a.get(response.location).get_data(as_text=True)
    assert "无法确定 suppliers.csv 的文本编码：可能是 cp1252, cp1250。" in page


def test_zip_bomb_upload_is_refused_and_writes_nothing(client_a, sqlite_url):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(120):
                sheet.write(b"<row/>" * 200_000)
    before = supplier_names(sqlite_url)

    response = upload(client_a, buffer.getvalue(), filename="bomb.xlsx")

    page = client_a.get(response.location).get_data(as_text=True)
    assert "The XLSX file bomb.xlsx would expand to 137 MB when opened" in page
    assert supplier_names(sqlite_url) == before


def test_nul_byte_past_the_sniffed_head_is_a_row_problem_on_the_page(client_a, sqlite_url):
    """The upload check refuses NUL bytes near the start; further in, the importer does."""
    before = supplier_names(sqlite_url)
    filler = "".join(f"N{n},Fine Ltd {n}\n" for n in range(1, 1000)).encode()
    response = upload(client_a, b"supplier_code,name\n" + filler + b"NX,Nul\x00Ltd\n")

    page = client_a.get(response.location).get_data(as_text=True)
    assert "Nothing was imported" in page
    assert "control_character" in page and "Nul&lt;U+0000&gt;Ltd" in page
    assert supplier_names(sqlite_url) == before
