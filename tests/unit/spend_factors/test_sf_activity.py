"""Activity factors: known values, year fallback, units via pint, clear errors."""

from __future__ import annotations

import pandas as pd
import pytest

from spend_factors import (
    UnitMismatchError,
    UnknownActivityError,
    UnknownRegionError,
    activity_emissions,
)
from spend_factors.activity import DATA_DIR


def test_china_grid_2022_one_mwh():
    # MEE/NBS national average electricity CO2 factor for data year 2022: 0.5366 kgCO2/kWh
    r = activity_emissions(1, "MWh", "electricity_grid", region="CN", year=2022)
    assert r.kg_co2e == pytest.approx(536.6)
    assert r.year_applied == 2022
    assert r.factor == pytest.approx(0.5366) and r.factor_unit == "kg CO2/kWh"
    assert "1 MWh = 1000 kWh" in r.conversions
    assert "Ministry of Ecology and Environment" in r.source
    assert r.verified and not r.source.startswith("UNVERIFIED")


def test_china_grid_other_years():
    # one series (MEE/NBS) labelled by data year: 2021 is 0.5568, 2023 is 0.5306
    assert activity_emissions(1000, "kWh", "electricity", "China", 2021).kg_co2e == pytest.approx(
        556.8
    )
    assert activity_emissions(1000, "kWh", "electricity", "CN", 2023).kg_co2e == pytest.approx(
        530.6
    )


def test_nearest_earlier_year_is_used_and_recorded():
    r = activity_emissions(1, "MWh", "electricity", "CN", 2025)
    assert r.year_applied == 2023 and r.year_requested == 2025
    assert "nearest earlier published year 2023" in r.note
    with pytest.raises(UnknownRegionError, match="earliest is 2021"):
        activity_emissions(1, "MWh", "electricity", "CN", 2019)


def test_one_tonne_diesel_via_ncv():
    r = activity_emissions(1, "t", "diesel")
    # 1 t = 0.001 Gg x 43.0 TJ/Gg = 0.043 TJ; x (74100 + 3x28 + 0.6x265) kg/TJ
    assert r.kg_co2e == pytest.approx(0.043 * 74343)
    assert "NCV 43 TJ/Gg" in r.conversions
    assert r.gwp_set.startswith("IPCC AR5")
    assert r.region == "GLOBAL"


def test_energy_units_and_tce():
    gj = activity_emissions(1000, "GJ", "natural_gas").kg_co2e
    assert gj == pytest.approx(56154.5)
    tce = activity_emissions(1, "tce", "coal").kg_co2e
    assert tce == pytest.approx(0.0293076 * 95025.5)
    heat = activity_emissions(10, "GJ", "purchased_heat", "CN", 2024)
    assert heat.kg_co2e == pytest.approx(1100)


def test_other_grids():
    assert activity_emissions(1, "MWh", "electricity", "UK", 2024).kg_co2e == pytest.approx(207.05)
    # eGRID2022 U.S. total output rate 823.1 lb CO2/MWh at 0.45359237 kg/lb
    us = activity_emissions(1, "MWh", "electricity", "US", 2022)
    assert us.kg_co2e == pytest.approx(823.1 * 0.45359237, rel=1e-6)
    assert activity_emissions(1, "MWh", "electricity", "EU", 2022).kg_co2e > 0
    assert activity_emissions(1, "MWh", "electricity", "JP", 2023).year_applied == 2022


def test_unit_mismatch_is_an_error():
    with pytest.raises(UnitMismatchError, match="'kg' \\(mass\\) to 'kWh' \\(energy\\)"):
        activity_emissions(1, "kg", "electricity", "CN", 2022)
    with pytest.raises(UnitMismatchError, match="volume"):
        activity_emissions(1, "L", "diesel")


def test_unknown_activity_and_region():
    with pytest.raises(UnknownActivityError, match="known: coal"):
        activity_emissions(1, "kWh", "fusion")
    with pytest.raises(UnknownRegionError, match="needs a region"):
        activity_emissions(1, "kWh", "electricity")
    with pytest.raises(UnknownRegionError, match="'Atlantis'"):
        activity_emissions(1, "kWh", "electricity", "Atlantis")


def test_unverified_factor_is_marked_in_the_result():
    r = activity_emissions(1, "MWh", "electricity", "UK", 2024)
    assert not r.verified and r.unverified and r.to_dict()["unverified"] is True
    assert r.source.startswith("UNVERIFIED") and "DESNZ" in r.source
    assert "not checked against its publication" in r.note
    assert r.source_url.startswith("https://www.gov.uk/")
    cn = activity_emissions(1, "MWh", "electricity", "CN", 2023)
    assert cn.verified and cn.to_dict()["unverified"] is False


def test_activity_table_is_cited():
    table = pd.read_csv(DATA_DIR / "activity_factors.csv", keep_default_na=False)
    assert (table["url"].str.startswith("https://")).all()
    assert (table["source"].str.len() > 10).all()
    assert set(table["verified"]) <= {"yes", "no"}
    assert set(table["gwp_set"]) != {""}
    assert {
        "electricity_grid",
        "purchased_heat",
        "natural_gas",
        "diesel",
        "gasoline",
        "coal",
        "lpg",
    } <= set(table["activity"])
