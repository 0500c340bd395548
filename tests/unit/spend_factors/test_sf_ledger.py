"""Reading ledgers in the encodings and layouts procurement systems export, and safe writing."""

from __future__ import annotations

import pandas as pd
import pytest

from spend_factors import LedgerError, estimate, neutralise_formulas, read_ledger, write_csv

HEADER = "line_id,supplier_id,amount,currency,year,description\n"
ROWS = [
    ("L1", "S1", "1000", "CNY", "2023", "热轧钢材 Q235"),
    ("L2", "S2", "250.5", "CNY", "2023", "塑料粒子（聚丙烯）"),
    ("L3", "S3", "80", "CNY", "2024", "纸箱包装"),
]


def _csv(sep: str = ",") -> str:
    lines = [HEADER.replace(",", sep)] + [sep.join(r) + "\n" for r in ROWS]
    return "".join(lines)


def test_gbk_ledger_with_chinese_descriptions(tmp_path, starter):
    path = tmp_path / "gbk.csv"
    path.write_bytes(_csv().encode("gbk"))
    df = read_ledger(path)
    assert df.attrs["encoding"] == "gb18030"
    assert df["description"].tolist() == [r[5] for r in ROWS]
    out = estimate(df, starter).lines
    assert out["factor_code"].tolist() == ["331110", "325211", "322211"]
    assert out["classification_method"].eq("text-match").all()


def test_gbk_with_explicit_encoding(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(_csv().encode("gb18030"))
    assert read_ledger(path, encoding="gb18030")["description"].iloc[1] == ROWS[1][5]


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_delimiters_detected(tmp_path, sep):
    path = tmp_path / "d.csv"
    path.write_text(_csv(sep), encoding="utf-8")
    df = read_ledger(path)
    assert df.attrs["delimiter"] == sep
    assert df["amount"].tolist() == ["1000", "250.5", "80"]


def test_utf8_bom_and_header_normalisation(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _csv().replace("line_id", " Line ID").encode("utf-8"))
    df = read_ledger(path)
    assert df.columns[0] == "line_id"
    assert df["description"].iloc[0] == ROWS[0][5]


def test_xlsx(tmp_path, starter):
    path = tmp_path / "ledger.xlsx"
    pd.DataFrame(ROWS, columns=HEADER.strip().split(",")).to_excel(path, index=False)
    df = read_ledger(path)
    assert df["description"].tolist() == [r[5] for r in ROWS]
    assert estimate(df, starter).lines["kg_co2e"].notna().all()


def test_binary_garbage_is_a_clear_file_error(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(LedgerError) as info:
        read_ledger(path)
    assert "garbage.csv" in str(info.value)
    assert info.value.problems[0].line_number is None


def test_wrong_encoding_names_file_and_line(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(_csv().encode("gbk"))
    with pytest.raises(
        LedgerError, match=r"gbk\.csv: cannot decode as utf-8 at byte \d+ \(file line 2\)"
    ):
        read_ledger(path, encoding="utf-8")


def test_corrupt_xlsx_and_missing_file(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(LedgerError, match="broken.xlsx: unreadable XLSX"):
        read_ledger(path)
    with pytest.raises(LedgerError, match="file not found"):
        read_ledger(tmp_path / "nope.csv")


def test_formula_injection_neutralised_numbers_kept(tmp_path):
    df = pd.DataFrame(
        {
            "line_id": ["=HYPERLINK(1)", "+cmd", "-x", "@SUM(A1)", "ok"],
            "kg_co2e": [-1.5, 2.0, 3.0, 4.0, 5.0],
            "cat": pd.Categorical(["=a", "b", "=a", "b", "b"]),
        }
    )
    safe = neutralise_formulas(df)
    assert safe["line_id"].tolist() == ["'=HYPERLINK(1)", "'+cmd", "'-x", "'@SUM(A1)", "ok"]
    assert safe["cat"].tolist() == ["'=a", "b", "'=a", "b", "b"]
    assert safe["kg_co2e"].tolist() == [-1.5, 2.0, 3.0, 4.0, 5.0]
    path = tmp_path / "out.csv"
    write_csv(df, path)
    back = pd.read_csv(path)
    assert back["kg_co2e"].iloc[0] == -1.5
    assert back["line_id"].iloc[0] == "'=HYPERLINK(1)"
