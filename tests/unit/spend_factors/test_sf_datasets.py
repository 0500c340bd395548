"""Factor datasets: the EPA importer, the generic format, the starter set and the store."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from spend_factors import (
    DatasetError,
    DatasetExistsError,
    DatasetNotFoundError,
    FactorImportError,
    import_dataset,
    list_datasets,
    load_dataset,
    resolve_store_root,
)
from spend_factors.classification import crosswalk_table, keyword_table
from spend_factors.datasets import read_useeio_csv


def test_epa_import_keeps_all_rows_and_both_columns(epa_dataset):
    f = epa_dataset.factors
    assert len(f) == 1016
    assert f["code"].is_unique
    cement = epa_dataset.get("327310")
    assert cement["purchaser_factor"] == pytest.approx(3.858)
    assert cement["producer_factor"] == pytest.approx(3.768)
    assert epa_dataset.get("331110")["purchaser_factor"] == pytest.approx(0.979)
    assert epa_dataset.get("325211")["purchaser_factor"] == pytest.approx(1.076)
    assert epa_dataset.get("541511")["purchaser_factor"] == pytest.approx(0.097)
    assert f["purchaser_factor"].max() == pytest.approx(10.989)
    assert f["purchaser_factor"].min() == pytest.approx(0.013)
    assert f["purchaser_factor"].median() == pytest.approx(0.208)
    m = epa_dataset.metadata
    assert (m.currency, m.price_year, m.classification) == ("USD", 2021, "NAICS 2017")
    assert m.price_bases == ["purchaser", "producer"]
    assert m.source_sha256 == "4d3b464f1e9cc5d7ed495c93c934becde4397d3616e02a7526e24d5a0b0b0491"


def test_epa_import_reports_and_keeps_anomalies(epa_file):
    dataset, warnings = read_useeio_csv(epa_file)
    text = "\n".join(warnings)
    assert "CRLF" in text
    assert "no newline after the last row" in text
    assert "sorted by descending factor" in text
    assert "excpet" in text and "Activites" in text
    mangled = [w for w in warnings if "mangled" in w]
    assert {w.split("code ")[1][:6] for w in mangled} == {"236210", "335220"}
    multi = [w for w in warnings if "several USEEIO codes" in w]
    assert len(multi) == 23
    assert dataset.get("236210")["reference_code"] == "233,230,230,301"
    assert "mangled-reference-code" in dataset.get("335220")["flags"]
    assert dataset.get("531120")["title"].endswith("(excpet Miniwarehouses)")
    assert "title-typo" in dataset.get("323120")["flags"]
    # the last row of the file (no final newline) is kept
    assert dataset.get("711510")["purchaser_factor"] == pytest.approx(0.013)


def test_useeio_importer_rejects_other_layouts(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("code,value\n1,2\n", encoding="utf-8")
    with pytest.raises(FactorImportError, match="missing column"):
        read_useeio_csv(bad)


GENERIC = """# name: tiny-national
# version: 2024.1
# publisher: Example statistics office
# licence: CC-BY-4.0
# currency: EUR
# price_year: 2020
# classification: NACE Rev.2
# gwp_set: IPCC AR6 (100-year)
# source_url: https://example.org/factors
# unit: t CO2e/EUR
# per_amount: 1000
code,title,purchaser_factor,producer_factor,source
C24,Basic metals,1.2,1.0,Example 2024 table 3
C20,Chemicals,0.8,,Example 2024 table 3
H49,Land transport,0.6,0.55,Example 2024 table 3
"""


def test_generic_csv_loads_small_dataset(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text(GENERIC, encoding="utf-8")
    report = import_dataset(path, "generic-csv", store_root=tmp_path / "store")
    assert report.rows == 3
    ds = load_dataset("tiny-national", store_root=tmp_path / "store")
    assert ds.version == "2024.1"
    assert ds.metadata.currency == "EUR" and ds.metadata.price_year == 2020
    assert ds.metadata.classification == "NACE Rev.2"
    # 1.2 t CO2e per 1000 EUR = 1.2 kg CO2e per EUR
    assert ds.get("C24")["purchaser_factor"] == pytest.approx(1.2)
    assert math.isnan(ds.get("C20")["producer_factor"])
    assert any("without a producer_factor" in w for w in report.warnings)
    assert ds.get("H49")["source"] == "Example 2024 table 3"


def test_generic_csv_requires_metadata(tmp_path):
    path = tmp_path / "nometa.csv"
    path.write_text("code,purchaser_factor\nA,1\n", encoding="utf-8")
    with pytest.raises(FactorImportError, match="currency"):
        import_dataset(path, "generic-csv", "x", "1", store_root=tmp_path)


def test_generic_csv_bad_number_names_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(GENERIC.replace("0.6,0.55", "zero,0.55"), encoding="utf-8")
    with pytest.raises(FactorImportError, match=r"data row 3 \(code H49\)"):
        import_dataset(path, "generic-csv", store_root=tmp_path)


def test_store_refuses_reimport_unless_replace(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text(GENERIC, encoding="utf-8")
    store = tmp_path / "store"
    import_dataset(path, "generic-csv", store_root=store)
    with pytest.raises(DatasetExistsError, match="--replace"):
        import_dataset(path, "generic-csv", store_root=store)
    report = import_dataset(path, "generic-csv", store_root=store, replace=True)
    assert report.replaced
    folder = store / "tiny-national"
    assert sorted(p.name for p in folder.iterdir()) == ["2024.1"]  # no temp folders left
    meta = json.loads((folder / "2024.1" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["name"] == "tiny-national" and meta["row_count"] == 3
    assert (folder / "2024.1" / "factors.csv").is_file()


def test_versions_side_by_side_and_latest(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text(GENERIC, encoding="utf-8")
    store = tmp_path / "store"
    for version in ("1.9", "1.10", "1.2"):
        import_dataset(path, "generic-csv", version=version, store_root=store)
    assert load_dataset("tiny-national", store_root=store).version == "1.10"
    assert load_dataset("tiny-national", "1.2", store_root=store).version == "1.2"
    with pytest.raises(DatasetNotFoundError, match="available: 1.2, 1.9, 1.10"):
        load_dataset("tiny-national", "2.0", store_root=store)
    names = [(m.name, m.version) for m in list_datasets(store)]
    assert names[0][0] == "starter"
    assert ("tiny-national", "1.10") in names


def test_failed_import_leaves_no_trace(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(GENERIC.replace("H49", "C24"), encoding="utf-8")  # duplicate code
    store = tmp_path / "store"
    with pytest.raises(FactorImportError, match="duplicate"):
        import_dataset(path, "generic-csv", store_root=store)
    assert not (store / "tiny-national" / "2024.1").exists()


def test_starter_name_is_reserved_and_unsafe_names_refused(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text(GENERIC, encoding="utf-8")
    with pytest.raises(DatasetError, match="built-in"):
        import_dataset(path, "generic-csv", name="starter", store_root=tmp_path)
    with pytest.raises(DatasetError, match="invalid dataset name"):
        import_dataset(path, "generic-csv", name="../evil", store_root=tmp_path)


def test_store_root_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("FACTOR_STORE", str(tmp_path / "env"))
    assert resolve_store_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert resolve_store_root() == tmp_path / "env"
    monkeypatch.delenv("FACTOR_STORE")
    monkeypatch.chdir(tmp_path)
    assert resolve_store_root() == Path.cwd() / "instance" / "factors"


def test_starter_is_built_in_labelled_and_cited(starter, tmp_path):
    assert starter.name == "starter"
    assert starter.metadata.starter is True
    assert "STARTER SET" in starter.metadata.description
    f = starter.factors
    assert 30 <= len(f) <= 60
    assert (f["source"].str.contains("EPA") & f["source"].str.contains("https://")).all()
    assert starter.get("327310")["purchaser_factor"] == pytest.approx(3.858)
    assert starter.get("327310")["producer_factor"] == pytest.approx(3.768)
    for code in (
        "334413",
        "334418",
        "313210",
        "315210",
        "326199",
        "332119",
        "332999",
        "325199",
        "322211",
        "484121",
        "493110",
        "541511",
    ):
        assert code in starter.codes
    # available with an empty store, no import needed
    assert load_dataset("starter", store_root=tmp_path / "empty").name == "starter"


def test_starter_matches_published_epa_values(starter, epa_dataset):
    for row in starter.factors.itertuples():
        epa = epa_dataset.get(row.code)
        assert epa["purchaser_factor"] == pytest.approx(row.purchaser_factor), row.code
        assert epa["producer_factor"] == pytest.approx(row.producer_factor), row.code
        assert epa["title"] == row.title


def test_crosswalk_and_keyword_targets_exist_in_epa(epa_dataset):
    for system in ("isic", "gbt4754"):
        table = crosswalk_table(system)
        targets = table.loc[table["naics"] != "", "naics"]
        missing = set(targets) - set(epa_dataset.codes)
        assert not missing, (system, missing)
    assert (crosswalk_table("isic")["division"].str.len() == 2).all()
    assert len(crosswalk_table("isic")) == 88
    assert len(crosswalk_table("gbt4754")) == 97
    assert set(keyword_table()["naics"]) <= set(epa_dataset.codes)


def test_unknown_dataset_name_is_a_clear_error(tmp_path):
    from spend_factors import load_dataset
    from spend_factors.datasets import DatasetNotFoundError

    with pytest.raises(DatasetNotFoundError, match=r"dataset 'nope' not found.*available: starter"):
        load_dataset("nope", store_root=tmp_path)
