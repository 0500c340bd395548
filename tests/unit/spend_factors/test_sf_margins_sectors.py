"""Sector-system names normalised in one place, and the margins option with its old words."""

from __future__ import annotations

import pandas as pd
import pytest

from spend_factors import (
    DatasetError,
    DatasetMetadata,
    FactorDataset,
    margins_label,
    margins_option,
    normalise_sector_system,
)
from spend_factors.datasets import read_generic_csv

SPELLINGS = [
    ("NAICS", "NAICS2017"),
    ("naics", "NAICS2017"),
    ("NAICS2017", "NAICS2017"),
    ("naics 2017", "NAICS2017"),
    ("NAICS-2017", "NAICS2017"),
    ("2017 NAICS", "NAICS2017"),
    ("NAICS 2017 (6-digit)", "NAICS2017"),  # a remark in brackets is not part of the name
    ("NAICS 2022", "NAICS2022"),  # was stored as NAICS2022 and recognised by nobody
    ("naics_2022", "NAICS2022"),
    ("ISIC Rev.4", "ISIC4"),
    ("ISICREV.4", "ISIC4"),  # what the importer stored before
    ("ISIC4", "ISIC4"),
    ("isic rev 4", "ISIC4"),
    ("ISIC", "ISIC4"),
    ("GB/T 4754", "GBT4754"),
    ("GB/T4754", "GBT4754"),
    ("GBT4754-2017", "GBT4754"),
    ("GB/T 4754—2017", "GBT4754"),
    ("ＧＢ／Ｔ　４７５４", "GBT4754"),  # full-width, as typed in Chinese input methods
    ("国民经济行业分类", "GBT4754"),
    # blank: the caller's default
    ("", None),
    ("   ", None),
    (None, None),
    # other editions and other systems are not silently read as a known one
    ("NAICS 2012", None),
    ("ISIC Rev.3.1", None),
    ("GB/T 4754-2011", None),
    ("NACE Rev.2", None),
    ("SIC 2007", None),
]


@pytest.mark.parametrize(("spelling", "key"), SPELLINGS)
def test_sector_system_spellings(spelling, key):
    assert normalise_sector_system(spelling) == key


def test_normalising_a_canonical_key_keeps_it():
    for key in {k for _, k in SPELLINGS if k}:
        assert normalise_sector_system(key) == key


MARGINS = [
    ("include", "include"),
    ("exclude", "exclude"),
    ("Include", "include"),
    (" EXCLUDE ", "exclude"),
    ("with margins", "include"),
    ("without-margins", "exclude"),
    ("purchaser", "include"),  # old stored runs and --price-basis
    ("producer", "exclude"),
    (None, "include"),
    ("", "include"),
]


@pytest.mark.parametrize(("value", "option"), MARGINS)
def test_margins_option(value, option, recwarn):
    assert margins_option(value) == option
    assert not recwarn.list  # old words in stored rows read without noise


@pytest.mark.parametrize("value", ["basic", "producer price", "yes", "0"])
def test_margins_option_refuses_other_words(value):
    with pytest.raises(ValueError, match=repr(value)):
        margins_option(value)


def test_margins_label():
    assert margins_label("purchaser") == margins_label("include") == "with margins"
    assert margins_label("producer") == margins_label("exclude") == "without margins"


def test_factor_column_accepts_old_and_new_words(starter):
    assert starter.factor_column("include") == starter.factor_column("purchaser")
    assert starter.factor_column("exclude") == starter.factor_column("producer")
    assert starter.lookup(["327310"], "exclude")[0] == pytest.approx(3.768)
    assert starter.lookup(["327310"], "purchaser")[0] == pytest.approx(3.858)


def test_epa_metadata_says_purchaser_price_for_both_columns(epa_dataset):
    m = epa_dataset.metadata
    assert m.spend_price_basis == "purchaser"
    assert m.margins == ["include", "exclude"]
    assert "not a producer-price factor" in m.description
    assert "kg CO2e/2021 USD, purchaser price" in m.description
    assert m.factor_unit("exclude") == "kg CO2e/USD2021 purchaser price, without margins"


def test_metadata_written_before_the_field_reads_as_purchaser_price():
    old = {"name": "useeio", "version": "1.2", "format": "useeio-csv", "price_year": 2021}
    assert DatasetMetadata.from_dict(old).spend_price_basis == "purchaser"
    generic = {"name": "x", "version": "1", "format": "generic-csv", "price_year": 2020}
    assert DatasetMetadata.from_dict(generic).spend_price_basis == ""
    assert DatasetMetadata.from_dict(generic).factor_unit() == "kg CO2e/USD2020, with margins"


def test_dataset_without_the_asked_margins_refuses_by_name():
    meta = DatasetMetadata(name="only-with", version="1", price_bases=["purchaser"])
    ds = FactorDataset(meta, pd.DataFrame({"code": ["A"], "purchaser_factor": [1.0]}))
    with pytest.raises(DatasetError, match="only-with 1 has no factors without margins"):
        ds.factor_column("exclude")


def test_generic_csv_spend_price_basis(tmp_path):
    path = tmp_path / "f.csv"
    head = "# name: g\n# version: 1\n# currency: EUR\n# price_year: 2020\n# classification: NACE\n"
    path.write_text(head + "# spend_price_basis: Basic\ncode,purchaser_factor\nC24,1.2\n")
    ds, _ = read_generic_csv(path)
    assert ds.metadata.factor_unit("include") == "kg CO2e/EUR2020 basic price, with margins"
    path.write_text(head + "# spend_price_basis: list price\ncode,purchaser_factor\nC24,1.2\n")
    with pytest.raises(DatasetError, match="spend_price_basis 'list price' not understood"):
        read_generic_csv(path)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("NAICS 2022", "NAICS2022"),
        ("naics", "NAICS2017"),
        ("ISIC Rev.4", "ISIC4"),  # was stored as ISICREV.4, which nothing recognised
        ("GB/T 4754-2017", "GBT4754"),
        ("国民经济行业分类", "GBT4754"),
        ("NACE Rev. 2", "NACEREV.2"),  # unknown: kept as before, and never read as NAICS
    ],
)
def test_importer_stores_the_canonical_key(raw, stored):
    from supplychain.importer import clean_sector_system

    assert clean_sector_system(raw) == stored
