"""The shipped reference tables agree with the publication values recorded in the docs.

``docs/reference-data.md`` records, for every row marked ``verified=yes``, the value exactly as
its publication prints it. These tests read those records and the CSVs independently: a verified
row that drifts from its publication, a verified row with no record, a row without a source, URL
or year, or a country whose rows come from two series, all fail here. Rows marked ``verified=no``
must carry that mark into every conversion and activity result built from them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from spend_factors import activity_emissions, convert_money
from spend_factors.activity import DATA_DIR

DOC = Path(__file__).resolve().parents[3] / "docs" / "reference-data.md"
LB_TO_KG = 0.45359237


def _table(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / f"{name}.csv", keep_default_na=False, dtype=str)


def _recorded(name: str) -> pd.DataFrame:
    """The markdown table that follows ``<!-- recorded: name -->`` in the docs."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"<!-- recorded: {name} -->") + 1
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    header = [cell.replace(" ", "_") for cell in rows[0]]
    return pd.DataFrame(rows[2:], columns=header)


def _verified(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["verified"] == "yes"]


@pytest.mark.parametrize("name", ["exchange_rates", "price_indices", "activity_factors"])
def test_every_row_is_cited_with_url_year_and_flag(name):
    table = _table(name)
    assert set(table["verified"]) <= {"yes", "no"}
    assert (table["url"].str.match(r"https://[\w.-]+\.[a-z]{2,}/")).all()
    assert (table["source"].str.len() > 20).all()
    assert (table["series"].str.len() > 3).all()
    years = table["year"].astype(int)
    assert years.between(2000, 2030).all()
    assert (_verified(table)["published"].str.len() > 0).all(), "verified rows need a date"
    assert not table.duplicated(
        [c for c in ("activity", "currency", "region", "year") if c in table.columns]
    ).any()


def test_one_series_per_currency_and_per_grid():
    for name in ("exchange_rates", "price_indices"):
        table = _table(name)
        per_currency = table.groupby("currency")["series"].nunique()
        assert (per_currency == 1).all(), f"{name}: {per_currency[per_currency > 1].to_dict()}"
    act = _table("activity_factors")
    per_region = act.groupby(["activity", "region"])["series"].nunique()
    assert (per_region == 1).all(), per_region[per_region > 1].to_dict()
    rates = _table("exchange_rates")
    assert set(rates.loc[rates["currency"] != "USD", "series"]) == {"FRB G.5A"}


def test_china_grid_is_the_mee_nbs_series_by_data_year():
    act = _table("activity_factors")
    cn = act[(act["activity"] == "electricity_grid") & (act["region"] == "CN")]
    assert set(cn["year_basis"]) == {"data year"}
    # the carbon-market grid factors of the previous table are gone
    assert not {round(float(f), 4) for f in cn["factor"]} & {0.5810, 0.5703}
    by_year = dict(zip(cn["year"].astype(int), cn["factor"].astype(float), strict=True))
    assert by_year[2022] == pytest.approx(0.5366) and by_year[2023] == pytest.approx(0.5306)


def test_exchange_rates_match_the_recorded_g5a_values():
    shipped = _table("exchange_rates").set_index(["currency", "year"])
    recorded = _recorded("exchange_rates")
    assert len(recorded) >= 32
    for rec in recorded.itertuples(index=False):
        row = shipped.loc[(rec.currency, rec.year)]
        assert row["verified"] == "yes", (rec.currency, rec.year)
        assert row["published_value"] == rec.published_value, (rec.currency, rec.year)
        assert row["published_unit"] == rec.unit
        per_usd, published = float(row["per_usd"]), float(rec.published_value)
        if rec.unit.startswith("USD per"):  # G.5A asterisk: dollars per unit, stored inverted
            assert per_usd * published == pytest.approx(1.0, abs=1e-7), (rec.currency, rec.year)
        else:
            assert per_usd == published, (rec.currency, rec.year)
    verified = _verified(shipped.reset_index())
    verified = verified[verified["series"] != "identity"]
    keys = set(zip(verified["currency"], verified["year"], strict=True))
    assert keys == set(zip(recorded["currency"], recorded["year"], strict=True))


def test_us_deflator_matches_the_recorded_bea_values():
    shipped = _table("price_indices").set_index(["currency", "year"])
    recorded = _recorded("price_indices")
    assert {"2015", "2016"} <= set(recorded["year"])
    for rec in recorded.itertuples(index=False):
        row = shipped.loc[(rec.currency, rec.year)]
        assert row["verified"] == "yes" and row["base"] == rec.base
        assert float(row["index"]) == float(rec.published_value), (rec.currency, rec.year)
    keys = set(zip(_verified(shipped.reset_index())["year"], strict=True))
    assert keys == set(zip(recorded["year"], strict=True))


def test_activity_factors_match_the_recorded_values():
    shipped = _table("activity_factors").set_index(["activity", "region", "year"])
    recorded = _recorded("activity_factors")
    for rec in recorded.itertuples(index=False):
        row = shipped.loc[(rec.activity, rec.region, rec.year)]
        assert row["verified"] == "yes"
        published = float(rec.published_value)
        if rec.unit == "lb CO2/MWh":
            expected = published * LB_TO_KG / 1000
        else:
            assert rec.unit == "kgCO2/kWh"
            expected = published
        assert float(row["factor"]) == pytest.approx(expected, rel=1e-6), rec
        assert row["published_value"].startswith(rec.published_value)
    verified = _verified(shipped.reset_index())
    keys = set(zip(verified["activity"], verified["region"], verified["year"], strict=True))
    assert keys == set(zip(recorded["activity"], recorded["region"], recorded["year"], strict=True))


def test_unverified_exchange_rows_mark_every_conversion():
    rates = _table("exchange_rates")
    unverified = rates[rates["verified"] == "no"]
    assert not unverified.empty
    for row in unverified.itertuples(index=False):
        _, how = convert_money(100.0, row.currency, int(row.year), "USD", int(row.year))
        assert f"UNVERIFIED: {row.currency} {row.year} exchange rate" in how, how
        assert row.url in how
    for row in _verified(rates[rates["currency"] != "USD"]).itertuples(index=False):
        _, how = convert_money(100.0, row.currency, int(row.year), "USD", int(row.year))
        assert "UNVERIFIED" not in how, how


def test_unverified_price_index_marks_conversions_into_that_currency():
    _, how = convert_money(100.0, "USD", 2020, "GBP", 2022)
    assert re.search(r"UNVERIFIED: .*GBP 2020 price index.*GBP 2022 price index", how), how
    _, how = convert_money(100.0, "GBP", 2020, "USD", 2022)
    assert "UNVERIFIED" not in how  # G.5A 2020 rates and the BEA deflator are all verified


def test_unverified_activity_rows_mark_every_result():
    act = _table("activity_factors")
    for row in act.itertuples(index=False):
        region = None if row.region == "GLOBAL" else row.region
        r = activity_emissions(1.0, row.per_unit, row.activity, region, int(row.year))
        assert r.year_applied == int(row.year)
        assert r.verified is (row.verified == "yes"), row
        assert r.source.startswith("UNVERIFIED") is (row.verified == "no")
        assert r.source_url == row.url
