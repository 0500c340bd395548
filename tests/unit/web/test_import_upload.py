"""The console's import form: a GBK file with Chinese headers, refusals, and the report pages."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from supplychain.db import unit_of_work
from supplychain.models import SupplierRelationship

GBK_CSV = (
    "供应商编码,供应商名称,国家,层级\n"
    "U-1,宁波市永信五金制品有限公司,CN,1\n"
    "U-2,东莞市鑫达包装材料有限公司,CN,2\n"
)
BAD_CSV = "供应商编码,供应商名称,国家,层级\nU-1,好供应商,CN,1\nU-2,坏供应商,CN,十一\n"


def upload(client, text: str, filename="suppliers.csv", skip=False, encoding="gbk"):
    data = {"kind": "suppliers", "file": (io.BytesIO(text.encode(encoding)), filename)}
    if skip:
        data["skip_invalid"] = "on"
    return client.post("/console/imports", data=data, content_type="multipart/form-data")


def relationship_count(url: str) -> int:
    with unit_of_work(url) as s:
        return s.scalar(select(func.count()).select_from(SupplierRelationship))


def test_gbk_upload_imports_and_shows_the_report(client_a, sqlite_url):
    before = relationship_count(sqlite_url)
    response = upload(client_a, GBK_CSV)
    assert response.status_code == 302
    job_page = client_a.get(response.location).get_data(as_text=True)
    assert "Finished" in job_page
    assert relationship_count(sqlite_url) == before + 2
    batch_url = re.search(r'href="(/console/imports/[0-9a-f-]{36})"', job_page)[1]
    report = client_a.get(batch_url).get_data(as_text=True)
    assert "suppliers.csv" in report
    listing = client_a.get("/console/suppliers?q=永信").get_data(as_text=True)
    assert "宁波市永信五金制品有限公司" in listing


def test_bad_row_imports_nothing_and_names_the_problem(client_a, sqlite_url):
    before = relationship_count(sqlite_url)
    response = upload(client_a, BAD_CSV)
    page = client_a.get(response.location).get_data(as_text=True)
    assert "Failed" in page and "Nothing was imported" in page
    assert "十一" in page
    assert relationship_count(sqlite_url) == before


def test_skip_invalid_imports_the_good_rows(client_a, sqlite_url):
    before = relationship_count(sqlite_url)
    response = upload(client_a, BAD_CSV, skip=True)
    page = client_a.get(response.location).get_data(as_text=True)
    assert "Finished" in page
    assert relationship_count(sqlite_url) == before + 1


def test_wrong_type_is_refused_before_any_job(client_a):
    response = upload(client_a, "MZ\x00\x00binary", filename="tool.exe", encoding="latin-1")
    assert response.status_code == 302 and response.location.endswith("/console/imports")
    page = client_a.get("/console/imports").get_data(as_text=True)
    assert "Upload refused" in page and ".exe is not accepted" in page


def test_oversized_upload_answers_413(client_a, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = upload(client_a, "a,b\n" * 1000)
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)


def test_import_problems_read_in_chinese(client_a):
    client_a.post("/language", data={"lang": "zh_CN"})
    response = upload(client_a, BAD_CSV)
    page = client_a.get(response.location).get_data(as_text=True)
    assert "层级必须是 1 到 10 之间的整数。" in page
    assert "文件中有 1 个问题" in page
