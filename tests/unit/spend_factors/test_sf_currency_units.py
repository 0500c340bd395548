"""Currency/price-year conversion and the shared unit registry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spend_factors import (
    UnitMismatchError,
    UnknownCurrencyError,
    UnknownUnitError,
    YearNotCoveredError,
    convert,
    convert_money,
    dimension_of,
    known_currencies,
    to_quantity,
)
from spend_factors.currency import DATA_DIR, default_tables

CURRENCIES = ["CNY", "USD", "EUR", "GBP", "JPY"]
YEARS = st.integers(2015, 2025)


def test_tables_cover_required_currencies_and_years_with_sources():
    rates = pd.read_csv(DATA_DIR / "exchange_rates.csv", keep_default_na=False)
    idx = pd.read_csv(DATA_DIR / "price_indices.csv", keep_default_na=False)
    for table in (rates, idx):
        for cur in CURRENCIES:
            years = set(table.loc[table["currency"] == cur, "year"])
            assert set(range(2015, 2026)) <= years, cur
        assert (table["source"].str.len() > 5).all()
        assert (table["url"].str.startswith("https://")).all()
        assert set(table["verified"]) <= {"yes", "no"}
    assert set(CURRENCIES) <= set(known_currencies())


def test_conversion_order_rate_then_deflator():
    out, desc = convert_money(1000.0, "CNY", 2024, "USD", 2021)
    t = default_tables()
    cny, usd = t.currencies.index("CNY"), t.currencies.index("USD")
    y24, y21 = 2024 - t.first_year, 2021 - t.first_year
    expected = 1000.0 / t.per_usd[cny, y24] * t.index[usd, y21] / t.index[usd, y24]
    assert out[0] == pytest.approx(expected)
    assert desc.startswith("CNY→USD@2024 rate 7.1896; USD 2024→2021 deflator 0.")
    # the CNY 2024 rate is not yet checked against G.5A: the description says so and cites it
    assert "[UNVERIFIED: CNY 2024 exchange rate (FRB G.5A" in desc


def test_verified_rows_give_an_unmarked_description():
    # G.5A 2023: 7.0809 CNY per USD; BEA GDP deflator 2023 122.390, 2021 110.186 (2017=100)
    out, desc = convert_money(7080.9, "CNY", 2023, "USD", 2021)
    assert out[0] == pytest.approx(1000.0 * 110.186 / 122.390)
    assert desc == "CNY→USD@2023 rate 7.0809; USD 2023→2021 deflator 0.9003"


def test_describe_conversion_carries_the_unverified_sources():
    from spend_factors.currency import describe_conversion

    rec = describe_conversion("GBP", 2016, "USD", 2016)
    assert rec["unverified"] is True
    assert rec["unverified_sources"] == [
        "GBP 2016 exchange rate (FRB G.5A, not checked: https://www.federalreserve.gov/releases/g5a/)"
    ]
    assert rec["how"].startswith("GBP→USD@2016 rate")
    ok = describe_conversion("GBP", 2023, "USD", 2023)
    assert ok["unverified"] is False and ok["unverified_sources"] == []
    assert ok["multiplier"] == pytest.approx(1.2440)


def test_tables_without_a_verified_column_mark_nothing():
    from spend_factors.currency import RateTables

    rates = pd.DataFrame({"currency": ["USD", "EUR"], "year": [2020, 2020], "per_usd": [1.0, 0.9]})
    idx = pd.DataFrame({"currency": ["USD"], "year": [2020], "index": [100.0]})
    out, desc = convert_money(9.0, "EUR", 2020, "USD", 2020, RateTables.from_frames(rates, idx))
    assert out[0] == pytest.approx(10.0) and "UNVERIFIED" not in desc


def test_no_conversion_needed_is_recorded():
    out, desc = convert_money([5.0], "USD", 2021, "USD", 2021)
    assert out[0] == 5.0
    assert desc == "USD 2021 (no conversion)"


def test_array_inputs_give_one_description_per_amount():
    out, desc = convert_money([1, 2, 3], ["EUR", "EUR", "JPY"], [2020, 2020, 2023], "USD", 2021)
    assert len(out) == 3 and len(desc) == 3
    assert desc[0] == desc[1] and desc[0].startswith("EUR→USD@2020")
    assert desc[2].startswith("JPY→USD@2023")


@settings(deadline=None)
@given(
    amount=st.floats(0, 1e12, allow_nan=False),
    cur=st.sampled_from(CURRENCIES),
    other=st.sampled_from(CURRENCIES),
    year=YEARS,
)
def test_currency_round_trip(amount, cur, other, year):
    there, _ = convert_money(amount, cur, year, other, year)
    back, _ = convert_money(there, other, year, cur, year)
    assert back[0] == pytest.approx(amount, rel=1e-12, abs=1e-9)


@settings(deadline=None)
@given(
    amounts=st.lists(st.floats(0, 1e9, allow_nan=False), min_size=1, max_size=20),
    cur=st.sampled_from(CURRENCIES),
    year=YEARS,
    to_year=YEARS,
)
def test_conversion_is_linear(amounts, cur, year, to_year):
    a = np.array(amounts)
    one, _ = convert_money(a, cur, year, "USD", to_year)
    two, _ = convert_money(2 * a, cur, year, "USD", to_year)
    np.testing.assert_allclose(two, 2 * one, rtol=1e-12, atol=1e-300)  # subnormals


def test_unknown_currency_and_uncovered_year_name_position():
    with pytest.raises(UnknownCurrencyError, match=r"'XYZ' \(positions \[1\]\)"):
        convert_money([1, 1], ["USD", "XYZ"], 2020, "USD", 2021)
    with pytest.raises(YearNotCoveredError, match="2012"):
        convert_money([1, 1], "USD", [2020, 2012], "USD", 2021)
    with pytest.raises(YearNotCoveredError):
        convert_money([1], "USD", 2020, "USD", 2040)


def test_units_energy_mass_volume():
    assert convert(1, "tce", "GJ") == pytest.approx(29.3076)
    assert convert(1, "MWh", "kWh") == pytest.approx(1000)
    assert convert(1, "TJ", "GJ") == pytest.approx(1000)
    assert convert(3.6, "GJ", "MWh") == pytest.approx(1.0)
    assert convert(2, "t", "kg") == pytest.approx(2000)
    assert convert(1, "m3", "L") == pytest.approx(1000)
    assert convert(1, "Nm3", "m3") == pytest.approx(1)
    np.testing.assert_allclose(convert(np.array([1.0, 2.0]), "kWh", "MJ"), [3.6, 7.2])
    assert dimension_of("kWh") == "energy"
    assert dimension_of("tonne") == "mass"
    assert dimension_of("m3") == "volume"
    assert to_quantity(5, "GJ").to("MJ").magnitude == pytest.approx(5000)


def test_unit_mismatch_and_unknown_unit_are_clear():
    with pytest.raises(UnitMismatchError, match=r"'kWh' \(energy\) to 'kg' \(mass\)"):
        convert(1, "kWh", "kg")
    with pytest.raises(UnknownUnitError, match="furlongs_per_widget"):
        convert(1, "furlongs_per_widget", "kg")
    with pytest.raises(UnknownUnitError):
        to_quantity(1, "")
