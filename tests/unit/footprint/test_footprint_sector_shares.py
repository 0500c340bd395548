"""The shipped intermediate-input shares are the BEA 2007 benchmark tables, aggregated.

The table (``spend_factors/data/bea2007_intermediate_input_shares.csv``) is recomputed here
from the BEA files in ``../shared/data/bea/``: intermediate inputs are column totals of the
Use table over commodity rows, gross output is row totals of the Make table.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[3]
TABLE = REPO / "spend_factors" / "data" / "bea2007_intermediate_input_shares.csv"
BEA = Path(os.environ.get("SHARED_DATA_DIR", REPO.parent / "shared" / "data")) / "bea"
USE, MAKE = BEA / "bea389_use_2007.csv", BEA / "bea389_make_2007.csv"


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_csv(TABLE, dtype={"naics": str, "bea_codes": str}).set_index("naics")


@pytest.fixture(scope="module")
def bea() -> tuple[pd.Series, pd.Series]:
    """Intermediate inputs and gross output per BEA industry, in million USD."""
    for path in (USE, MAKE):
        if not path.exists():
            pytest.skip(f"{path.name} not found in {BEA} (set SHARED_DATA_DIR)")
    use = pd.read_csv(USE, index_col=0)
    make = pd.read_csv(MAKE, index_col=0)
    commodities = [r for r in use.index if not str(r).startswith(("T0", "V0"))]
    inputs = use.loc[commodities].sum(axis=0, skipna=True)
    industries = [r for r in make.index if not str(r).startswith("T0")]
    output = make.loc[industries].drop(columns=["T008"]).sum(axis=1, skipna=True)
    return inputs, output


def test_every_row_is_consistent_and_cites_the_bea_publication(table):
    assert table.index.is_unique
    share = table["intermediate_inputs_musd"] / table["gross_output_musd"]
    assert (table["intermediate_input_share"] - share).abs().max() <= 0.00005
    assert table["intermediate_input_share"].between(0.05, 0.95).all()
    assert table["source"].str.contains("2007 Benchmark Input-Output Accounts").all()
    assert table["source"].str.contains("https://www.bea.gov/industry/io_annual.htm").all()
    assert set(table["level"]) == {"sector", "subsector"}


@pytest.mark.parametrize("row", ["313", "315", "326", "331", "44-45", "23", "541"])
def test_rows_recomputed_from_the_bea_use_and_make_tables(table, bea, row):
    inputs, output = bea
    codes = table.loc[row, "bea_codes"].split()
    assert table.loc[row, "intermediate_inputs_musd"] == pytest.approx(inputs[codes].sum())
    assert table.loc[row, "gross_output_musd"] == pytest.approx(output[codes].sum())
    assert table.loc[row, "intermediate_input_share"] == pytest.approx(
        inputs[codes].sum() / output[codes].sum(), abs=0.00005
    )


def test_subsector_rows_take_every_bea_industry_of_their_prefix(table, bea):
    inputs, _ = bea
    for row in ("313", "315", "326", "331"):
        expected = sorted(c for c in inputs.index if c.startswith(row))
        assert sorted(table.loc[row, "bea_codes"].split()) == expected
