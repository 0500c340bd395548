"""Properties the methodology promises (issue 9, Acceptance), checked on generated suppliers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.engine import DIMENSION_COLUMNS, ITEMS, REASONS, example_frame, score_suppliers
from scoring.methodology import (
    DATA_SOURCES,
    DIMENSIONS,
    TARGET_STATUSES,
    VERIFICATION_LEVELS,
    load_methodology,
)

METHOD = load_methodology("1.0")
LEVELS = ("disclosure", "awareness", "management", "leadership")

maybe = st.one_of(st.just(np.nan), st.floats(-1.0, 3.0))
positive = st.one_of(st.just(np.nan), st.floats(0.0, 1e4), st.floats(1e-9, 1e-3))
rows = st.fixed_dictionaries(
    {
        "responded": st.booleans(),
        "sector_code": st.sampled_from([None, "a", "b"]),
        "spend": st.floats(0.0, 1e9),
        "intensity": positive,
        "sector_intensity": positive,
        "prev_intensity": positive,
        "renewable_share": maybe,
        "target_status": st.sampled_from(TARGET_STATUSES),
        "target_annual_reduction_pct": st.one_of(st.just(np.nan), st.floats(-50.0, 100.0)),
        **{f"maturity_{lv}": maybe for lv in LEVELS},
        "dq_score": st.one_of(st.just(np.nan), st.floats(0.0, 7.0)),
        "completeness": maybe,
        "verification": st.sampled_from(VERIFICATION_LEVELS),
        "data_source": st.sampled_from((None, *DATA_SOURCES)),
        "contribution_kg": positive,
    }
)


def build(records: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"relationship_id": i + 1, "supplier_id": i + 101, **r} for i, r in enumerate(records)]
    )


frames = st.lists(rows, min_size=1, max_size=12).map(build)
weights = st.fixed_dictionaries({d: st.floats(0.0, 10.0) for d in DIMENSIONS}).filter(
    lambda w: sum(w.values()) > 0.01
)
bands = (
    st.tuples(st.floats(0.0, 99.0), st.floats(0.01, 100.0))
    .map(
        lambda t: {
            "conditional_min": round(t[0], 2),
            "approved_min": round(min(t[0] + t[1], 100), 2),
        }
    )
    .filter(lambda b: b["conditional_min"] < b["approved_min"])
)


@settings(max_examples=80, deadline=None)
@given(frames, weights)
def test_composite_and_dimensions_stay_within_0_and_100(frame, w):
    result = score_suppliers(frame, load_methodology(overrides={"weights": w}))
    s = result.suppliers
    for col in ["composite", *DIMENSION_COLUMNS.values()]:
        assert s[col].between(0.0, 100.0).all(), col
    items = result.items
    assert (items["earned"] >= 0).all() and (items["earned"] <= items["possible"]).all()
    for dim in DIMENSIONS:
        total = items[items["dimension"] == dim].groupby("relationship_id")["possible"].sum()
        assert np.allclose(total, 100.0, atol=0.011), dim
    for key, reasons in REASONS.items():
        assert set(items.loc[items["item"] == key, "reason"]) <= set(reasons), key


@settings(max_examples=80, deadline=None)
@given(frames, st.data())
def test_more_verified_data_never_lowers_data_quality(frame, data):
    i = data.draw(st.integers(0, len(frame) - 1))
    before = score_suppliers(frame, METHOD).suppliers["data_quality_score"].iloc[i]
    better = frame.copy()
    change = data.draw(st.sampled_from(["verification", "dq_score", "completeness", "source"]))
    if change == "verification":
        current = VERIFICATION_LEVELS.index(better.at[i, "verification"])
        better.at[i, "verification"] = data.draw(st.sampled_from(VERIFICATION_LEVELS[current:]))
    elif change == "dq_score":
        dq = better.at[i, "dq_score"]
        top = 5.0 if np.isnan(dq) else float(np.clip(dq, 1.0, 5.0))
        better.at[i, "dq_score"] = data.draw(st.floats(1.0, top))
    elif change == "completeness":
        c = better.at[i, "completeness"]
        low = 0.0 if np.isnan(c) else float(np.clip(c, 0.0, 1.0))
        better.at[i, "completeness"] = data.draw(st.floats(low, 1.0))
    else:
        source = better.at[i, "data_source"]
        rank = len(DATA_SOURCES) if pd.isna(source) else DATA_SOURCES.index(source)
        better.at[i, "data_source"] = data.draw(st.sampled_from(DATA_SOURCES[: rank + 1]))
    after = score_suppliers(better, METHOD).suppliers["data_quality_score"].iloc[i]
    assert after >= before


@settings(max_examples=80, deadline=None)
@given(frames, st.data())
def test_lower_intensity_never_lowers_emissions_performance(frame, data):
    i = data.draw(st.integers(0, len(frame) - 1))
    frame.at[i, "intensity"] = data.draw(st.floats(1e-6, 1e4))
    before = score_suppliers(frame, METHOD).suppliers["emissions_score"].iloc[i]
    lower = frame.copy()
    lower.at[i, "intensity"] = frame.at[i, "intensity"] * data.draw(st.floats(0.0, 1.0))
    after = score_suppliers(lower, METHOD).suppliers["emissions_score"].iloc[i]
    assert after >= before


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 300), st.integers(0, 2**32 - 1))
def test_same_inputs_and_version_give_identical_frames(n, seed):
    frame = example_frame(n, seed)
    first = score_suppliers(frame, load_methodology("1.0"))
    second = score_suppliers(frame.copy(), load_methodology("1.0"))
    pd.testing.assert_frame_equal(first.suppliers, second.suppliers)
    pd.testing.assert_frame_equal(first.items, second.items)
    assert first.method_version == second.method_version == "1.0"


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 200), st.integers(0, 2**32 - 1), st.randoms(use_true_random=False))
def test_row_order_does_not_change_any_supplier_result(n, seed, rnd):
    frame = example_frame(n, seed)
    order = list(range(n))
    rnd.shuffle(order)
    straight = score_suppliers(frame, METHOD).suppliers.set_index("relationship_id")
    shuffled = score_suppliers(frame.iloc[order], METHOD).suppliers.set_index("relationship_id")
    pd.testing.assert_frame_equal(straight, shuffled.loc[straight.index])


def data_quality_only(composite: float) -> dict:
    """A responder whose data-quality points (the only weighted dimension) total ``composite``.

    DQ 1 gives 40 points, verification 12 or 20, production records 20, completeness the rest.
    """
    if composite <= 40.0:
        return {"responded": True, "dq_score": 5.0 - composite / 10.0}
    base, extra = max(
        ((40.0, {}), (52.0, {"verification": "limited"}), (60.0, {"verification": "reasonable"})),
        key=lambda option: option[0] if option[0] <= composite else -1.0,
    )
    if composite > 80.0:
        base, extra = 80.0, {"verification": "reasonable", "data_source": "production_monthly"}
    return {"responded": True, "dq_score": 1.0, **extra, "completeness": (composite - base) / 20}


DATA_QUALITY_ONLY = {"emissions": 0, "targets": 0, "maturity": 0, "data_quality": 1}


def test_documented_default_boundaries():
    frame = build([data_quality_only(x) for x in (70.0, 69.99, 60.0, 59.99)])
    method = load_methodology(overrides={"weights": DATA_QUALITY_ONLY})
    s = score_suppliers(frame, method).suppliers
    assert list(s["composite"]) == [70.0, 69.99, 60.0, 59.99]
    assert list(s["band"]) == ["approved", "conditional", "conditional", "rejected"]


@settings(max_examples=60, deadline=None)
@given(bands)
def test_boundary_values_land_in_the_documented_band(band_settings):
    method = load_methodology(overrides={"weights": DATA_QUALITY_ONLY, "bands": band_settings})
    low, high = band_settings["conditional_min"], band_settings["approved_min"]
    cases = {
        high: "approved",
        round(high - 0.01, 2): "conditional" if high - 0.01 >= low else "rejected",
        low: "conditional",
        round(low - 0.01, 2): "rejected",
    }
    cases = {x: band for x, band in cases.items() if x >= 0}
    s = score_suppliers(build([data_quality_only(x) for x in cases]), method).suppliers
    assert list(s["composite"]) == list(cases)
    assert list(s["band"]) == list(cases.values())


@settings(max_examples=80, deadline=None)
@given(frames, weights, bands)
def test_non_responders_are_never_approved_on_secondary_data_alone(frame, w, b):
    method = load_methodology(overrides={"weights": w, "bands": b})
    s = score_suppliers(frame, method).suppliers
    silent = s[~s["responded"]]
    assert (silent["band"] != "approved").all()
    assert (silent["disclosed_group"] == "not_disclosed").all()
    assert silent["rank"].isna().all()
    assert (silent["maturity_letter"] == "F").all()


def test_items_cover_every_dimension():
    assert {d for d, _ in ITEMS} == set(DIMENSIONS)
