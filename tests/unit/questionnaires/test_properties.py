"""Property tests: unit round trips and monotonic Scope 2."""

from __future__ import annotations

import copy
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from questionnaires import derive_disclosure, load_shipped, normalise_answers
from tests.support.questionnaire_samples import ACTIVITY, BASE_ANSWERS, REF

DEFINITION = load_shipped("supplier_climate_disclosure", 1)
KWH_PER = {"kWh": 1.0, "MWh": 1000.0, "GJ": 1e9 / 3.6e6}


def _answers(kwh_in_unit: float, unit: str) -> dict:
    answers = copy.deepcopy({**BASE_ANSWERS, **ACTIVITY})
    answers["electricity_use"][0]["quantity"] = {"value": kwh_in_unit, "unit": unit}
    return answers


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=1e-6, max_value=1e10, allow_nan=False, allow_infinity=False))
def test_same_energy_in_any_unit_normalises_the_same(kwh):
    values = []
    for unit, factor in KWH_PER.items():
        out = normalise_answers(DEFINITION, _answers(kwh / factor, unit))
        quantity = out["electricity_use"][0]["quantity"]
        assert quantity["unit"] == "kWh"
        assert quantity["entered"]["unit"] == unit
        values.append(quantity["value"])
    assert all(math.isclose(v, kwh, rel_tol=1e-9) for v in values), values


@settings(max_examples=60, deadline=None)
@given(
    st.floats(min_value=0, max_value=1e7, allow_nan=False),
    st.floats(min_value=0, max_value=1e7, allow_nan=False),
    st.sampled_from(["CN", "US", "EU", "GB", "JP"]),
    st.sampled_from(sorted(KWH_PER)),
)
def test_more_electricity_never_lowers_scope2(base, extra, region, unit):
    low = _answers(base, unit)
    low["electricity_use"][0]["grid_region"] = region
    high = copy.deepcopy(low)
    high["electricity_use"][0]["quantity"]["value"] = base + extra
    d_low = derive_disclosure(DEFINITION, low, response_ref=REF)
    d_high = derive_disclosure(DEFINITION, high, response_ref=REF)
    assert d_high.scope2_location_kg >= d_low.scope2_location_kg
    assert d_high.scope2_market_kg >= d_low.scope2_market_kg
