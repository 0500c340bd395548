"""Upload storage: allow-list, sniffed content, size limit, random names, nothing left behind."""

from __future__ import annotations

import hashlib
import io

import pytest

from supplychain.uploads import UploadRejected, store_upload

CSV = "供应商编码,供应商名称\nA1,甲\n".encode("gbk")


def test_csv_is_stored_under_a_random_name_with_checksum(tmp_path):
    stored = store_upload(
        io.BytesIO(CSV), "../../etc/passwd.csv", tmp_path, allowed={"csv"}, max_bytes=1024
    )
    assert stored.path.parent == tmp_path
    assert "passwd" not in stored.path.name
    assert stored.sha256 == hashlib.sha256(CSV).hexdigest()
    assert stored.path.read_bytes() == CSV
    assert stored.original_name == "passwd.csv"


def test_extension_not_on_the_allow_list(tmp_path):
    with pytest.raises(UploadRejected, match=r"\.exe is not accepted"):
        store_upload(io.BytesIO(b"MZ..."), "tool.exe", tmp_path, allowed={"csv"}, max_bytes=1024)
    assert list(tmp_path.iterdir()) == []


def test_content_must_match_extension(tmp_path):
    with pytest.raises(UploadRejected, match="does not match"):
        store_upload(
            io.BytesIO(b"%PDF-1.7 ..."), "ledger.xlsx", tmp_path, allowed={"xlsx"}, max_bytes=1024
        )
    with pytest.raises(UploadRejected, match="does not match"):
        store_upload(
            io.BytesIO(b"\x00\x01binary"), "ledger.csv", tmp_path, allowed={"csv"}, max_bytes=1024
        )
    assert list(tmp_path.iterdir()) == []


def test_type_allowed_elsewhere_but_not_here(tmp_path):
    with pytest.raises(UploadRejected, match="pdf files are not accepted here"):
        store_upload(
            io.BytesIO(b"%PDF-1.7"), "report.pdf", tmp_path, allowed={"csv"}, max_bytes=1024
        )


def test_oversized_upload_leaves_nothing_behind(tmp_path):
    big = io.BytesIO(b"a,b\n" * 100_000)
    with pytest.raises(UploadRejected, match="larger than"):
        store_upload(big, "big.csv", tmp_path, allowed={"csv"}, max_bytes=64 * 1024)
    assert list(tmp_path.iterdir()) == []


def test_empty_file_is_refused(tmp_path):
    with pytest.raises(UploadRejected, match="empty"):
        store_upload(io.BytesIO(b""), "empty.csv", tmp_path, allowed={"csv"}, max_bytes=1024)
