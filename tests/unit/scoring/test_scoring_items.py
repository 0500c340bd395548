"""Item by item: the points, reasons and params of the v1.0 rubric, and the per-supplier results."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from scoring.actions import (
    ACTION_CODES,
    NOT_DISCLOSED_ACTION,
    NOT_DISCLOSED_DIMENSION,
    NOT_DISCLOSED_ITEM,
    corrective_actions,
)
from scoring.engine import ITEMS, assign_band, example_frame, score_suppliers
from scoring.methodology import DATA_SOURCES, load_methodology

METHOD = load_methodology("1.0")

BASE = {
    "supplier_id": 0,
    "responded": True,
    "sector_code": None,
    "spend": 1000.0,
    "intensity": 0.4,
    "sector_intensity": 0.4,
    "prev_intensity": np.nan,
    "renewable_share": 0.0,
    "target_status": "none",
    "target_annual_reduction_pct": np.nan,
    "maturity_disclosure": 0.0,
    "maturity_awareness": 0.0,
    "maturity_management": 0.0,
    "maturity_leadership": 0.0,
    "dq_score": 5.0,
    "completeness": 0.0,
    "verification": "none",
    "data_source": None,
    "contribution_kg": np.nan,
}


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame([{**BASE, "relationship_id": i + 1, **row} for i, row in enumerate(rows)])


def score(*rows: dict, method=METHOD):
    return score_suppliers(frame(*rows), method)


def item(result, name: str, supplier: int = 1) -> pd.Series:
    items = result.items
    found = items[(items["relationship_id"] == supplier) & (items["item"] == name)]
    assert len(found) == 1
    return found.iloc[0]


# --- emissions performance -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "share"),
    [
        (0.25, 1.0),
        (0.5, 1.0),
        (0.8, 0.8),
        (1.0, 2 / 3),
        (1.25, 0.5),
        (1.7, 0.2),
        (2.0, 0.0),
        (3.0, 0.0),
    ],
)
def test_intensity_vs_sector_is_linear_between_half_and_twice_the_sector(ratio, share):
    # No previous year and no peers: intensity 45 and renewables 20 scale to 100 (factor 100/65).
    result = score({"intensity": 0.4 * ratio})
    row = item(result, "intensity_vs_sector")
    assert row["possible"] == round(45 * 100 / 65, 2) == 69.23
    assert row["earned"] == pytest.approx(round(45 * 100 / 65 * share, 2), abs=0.011)
    assert row["reason"] == "intensity_ratio"
    assert row["params"]["ratio"] == pytest.approx(ratio)
    assert row["params"]["sector_intensity"] == 0.4


def test_no_disclosed_intensity_earns_what_a_sector_average_supplier_earns():
    result = score(
        {"intensity": 0.4},
        {"responded": False, "intensity": np.nan},
        {"intensity": np.nan},
        {"intensity": 0.4, "sector_intensity": np.nan},
    )
    average = item(result, "intensity_vs_sector", 1)
    for supplier, reason in [
        (2, "not_disclosed"),
        (3, "intensity_not_reported"),
        (4, "no_sector_reference"),
    ]:
        row = item(result, "intensity_vs_sector", supplier)
        assert row["reason"] == reason
        assert row["earned"] / row["possible"] == pytest.approx(
            average["earned"] / average["possible"], abs=1e-3
        )


def test_intensity_is_derived_from_emissions_and_revenue_when_missing():
    result = score({"intensity": np.nan, "emissions_kg": 200.0, "revenue": 1000.0})
    row = item(result, "intensity_vs_sector")
    assert row["params"]["intensity"] == pytest.approx(0.2)
    assert row["reason"] == "intensity_ratio"


def test_peer_percentile_needs_five_disclosed_suppliers_in_the_sector():
    five = [{"sector_code": "313", "intensity": x} for x in (0.1, 0.2, 0.3, 0.4, 0.5)]
    result = score(*five, {"sector_code": "313", "responded": False, "intensity": np.nan})
    best, worst = item(result, "peer_percentile", 1), item(result, "peer_percentile", 5)
    assert best["reason"] == "peer_percentile"
    # First year: the trend drops out, 15 of the remaining 80 points scale to 18.75.
    assert best["earned"] == best["possible"] == 18.75
    assert best["params"] == {"percentile": 100.0, "peers": 5}
    assert worst["earned"] == 0.0 and worst["possible"] == 18.75
    middle = item(result, "peer_percentile", 3)
    assert middle["params"]["percentile"] == 50.0
    assert middle["earned"] in (9.37, 9.38)
    assert item(result, "peer_percentile", 6)["reason"] == "not_disclosed"

    four = score(*five[:4])
    row = item(four, "peer_percentile", 1)
    assert (row["possible"], row["earned"], row["reason"]) == (0.0, 0.0, "too_few_peers")
    assert row["params"]["peers"] == 4


def test_peer_ties_share_the_percentile():
    result = score(*[{"sector_code": "313", "intensity": 0.3} for _ in range(5)])
    assert {item(result, "peer_percentile", s)["params"]["percentile"] for s in range(1, 6)} == {
        50.0
    }


def test_not_applicable_items_leave_the_dimension_out_of_100():
    result = score({"renewable_share": 1.0, "intensity": 0.2})
    items = result.items[result.items["dimension"] == "emissions"]
    assert items["possible"].sum() == pytest.approx(100.0, abs=0.01)
    assert result.suppliers.loc[0, "emissions_score"] == 100.0


@pytest.mark.parametrize(
    ("previous", "earned", "reason"),
    [
        (0.4 / (1 - 0.042), 20.0, "intensity_reduced"),
        (0.4 / (1 - 0.021), 10.0, "intensity_reduced"),
        (0.5, 20.0, "intensity_reduced"),
        (0.4, 0.0, "intensity_not_reduced"),
        (0.3, 0.0, "intensity_not_reduced"),
    ],
)
def test_trend_against_the_4_2_percent_benchmark(previous, earned, reason):
    result = score({"prev_intensity": previous})
    row = item(result, "trend")
    assert row["possible"] == round(20 * 100 / 85, 2)
    assert row["earned"] == round(earned * 100 / 85, 2)
    assert row["reason"] == reason


def test_trend_does_not_apply_in_a_first_year_but_counts_against_non_responders():
    first = item(score({}), "trend")
    assert (first["possible"], first["reason"]) == (0.0, "no_previous_year")
    silent = item(score({"responded": False, "intensity": np.nan}), "trend")
    assert silent["possible"] > 0 and silent["earned"] == 0.0
    assert silent["reason"] == "not_disclosed"


def test_renewable_share():
    result = score({"renewable_share": 0.5}, {"renewable_share": np.nan})
    assert item(result, "renewable_share", 1)["earned"] == round(10 * 100 / 65, 2)
    assert item(result, "renewable_share", 1)["params"] == {"share_pct": 50.0}
    assert item(result, "renewable_share", 2)["reason"] == "not_reported"


# --- targets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "points"), [("none", 0), ("own", 25), ("sbti_committed", 40), ("sbti_validated", 60)]
)
def test_target_status_ladder(status, points):
    row = item(score({"target_status": status}), "target_status")
    assert (row["earned"], row["possible"]) == (points, 60)
    assert row["reason"] == f"status_{status}"


@pytest.mark.parametrize(
    ("status", "pct", "earned", "reason"),
    [
        ("own", 4.2, 40.0, "ambition_vs_benchmark"),
        ("own", 2.1, 20.0, "ambition_vs_benchmark"),
        ("own", 8.0, 40.0, "ambition_vs_benchmark"),
        ("own", -1.0, 0.0, "ambition_vs_benchmark"),
        ("own", np.nan, 0.0, "ambition_unknown"),
        ("sbti_validated", np.nan, 40.0, "sbti_validated_aligned"),
        ("none", 5.0, 0.0, "no_target"),
    ],
)
def test_target_ambition_against_the_benchmark(status, pct, earned, reason):
    row = item(
        score({"target_status": status, "target_annual_reduction_pct": pct}), "target_ambition"
    )
    assert (row["earned"], row["possible"], row["reason"]) == (earned, 40.0, reason)


# --- maturity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shares", "level", "letter"),
    [
        ((0.0, 0.0, 0.0, 0.0), "disclosure", "D-"),
        ((0.59, 1.0, 1.0, 1.0), "disclosure", "D-"),
        ((0.6, 0.39, 1.0, 1.0), "disclosure", "D"),
        ((0.6, 0.4, 1.0, 1.0), "awareness", "C-"),
        ((0.6, 0.7, 0.1, 0.0), "awareness", "C"),
        ((0.6, 0.7, 0.4, 0.0), "management", "B-"),
        ((1.0, 1.0, 0.7, 0.3), "management", "B"),
        ((1.0, 1.0, 0.7, 0.4), "leadership", "A-"),
        ((0.6, 0.7, 0.7, 0.7), "leadership", "A"),
    ],
)
def test_maturity_levels_are_cumulative(shares, level, letter):
    row = dict(zip(["disclosure", "awareness", "management", "leadership"], shares, strict=True))
    result = score({f"maturity_{k}": v for k, v in row.items()})
    assert result.suppliers.loc[0, "maturity_level"] == level
    assert result.suppliers.loc[0, "maturity_letter"] == letter


def test_maturity_points_are_shares_of_the_level_points():
    result = score(
        {
            "maturity_disclosure": 0.5,
            "maturity_awareness": 1.0,
            "maturity_management": 0.25,
            "maturity_leadership": np.nan,
        }
    )
    earned = [item(result, f"level_{lv}")["earned"] for lv in ("disclosure", "awareness")]
    assert earned == [10.0, 20.0]
    assert item(result, "level_management")["earned"] == 7.5
    assert item(result, "level_leadership")["earned"] == 0.0
    assert result.suppliers.loc[0, "maturity_score"] == 37.5


def test_no_response_is_letter_f_and_no_maturity_points_whatever_the_columns_say():
    result = score({"responded": False, "maturity_disclosure": 1.0, "maturity_awareness": 1.0})
    assert result.suppliers.loc[0, "maturity_level"] == "none"
    assert result.suppliers.loc[0, "maturity_letter"] == "F"
    assert result.suppliers.loc[0, "maturity_score"] == 0.0
    assert item(result, "level_disclosure")["reason"] == "not_disclosed"


# --- data quality -----------------------------------------------------------------------------


@pytest.mark.parametrize(("dq", "earned"), [(1.0, 40.0), (2.0, 30.0), (3.5, 15.0), (5.0, 0.0)])
def test_dq_score_item(dq, earned):
    assert item(score({"dq_score": dq}), "dq_score")["earned"] == earned


def test_completeness_and_verification():
    result = score({"completeness": 0.9, "verification": "limited"})
    assert item(result, "completeness")["earned"] == 18.0
    assert item(result, "verification")["earned"] == 12.0
    assert item(result, "verification")["reason"] == "verification_limited"
    reasonable = score({"verification": "reasonable"})
    assert item(reasonable, "verification")["earned"] == 20.0


def test_verification_and_data_source_need_a_response():
    result = score(
        {
            "responded": False,
            "intensity": np.nan,
            "verification": "reasonable",
            "data_source": "production_monthly",
        }
    )
    for name in ("verification", "data_source"):
        row = item(result, name)
        assert (row["earned"], row["reason"]) == (0.0, "not_disclosed")


def test_data_source_priority_follows_the_issue_order():
    result = score(*[{"data_source": source} for source in DATA_SOURCES], {"data_source": None})
    points = [item(result, "data_source", s)["earned"] for s in range(1, len(DATA_SOURCES) + 2)]
    assert points == [20.0, 17.0, 13.0, 10.0, 6.0, 3.0, 0.0, 0.0]
    assert item(result, "data_source", len(DATA_SOURCES) + 1)["reason"] == "source_unknown"


# --- composite, bands, ranks -------------------------------------------------------------------


def test_composite_is_the_weighted_sum_of_the_dimensions():
    result = score(
        {
            "intensity": 0.3,
            "renewable_share": 0.4,
            "target_status": "own",
            "target_annual_reduction_pct": 3.0,
            "maturity_disclosure": 0.8,
            "maturity_awareness": 0.5,
            "dq_score": 2.0,
            "completeness": 1.0,
            "verification": "limited",
            "data_source": "finance",
        }
    )
    s = result.suppliers.iloc[0]
    expected = (
        0.35 * s["emissions_score"]
        + 0.20 * s["targets_score"]
        + 0.25 * s["maturity_score"]
        + 0.20 * s["data_quality_score"]
    )
    assert s["composite"] == round(expected, 2)
    for dim in ("emissions", "targets", "maturity", "data_quality"):
        rows = result.items[result.items["dimension"] == dim]
        assert s[f"{dim}_score"] == round(rows["earned"].sum(), 2)


def test_band_boundaries_belong_to_the_upper_band():
    bands = assign_band(np.array([100.0, 70.0, 69.99, 60.0, 59.99, 0.0]), METHOD)
    assert list(bands) == [
        "approved",
        "approved",
        "conditional",
        "conditional",
        "rejected",
        "rejected",
    ]


def test_non_responder_is_held_at_conditional_unless_the_brand_allows_approval():
    lenient_bands = {"approved_min": 20.0, "conditional_min": 10.0}
    emissions_only = {"emissions": 1.0, "targets": 0, "maturity": 0, "data_quality": 0}
    row = {"responded": False, "intensity": np.nan}
    strict = load_methodology(overrides={"weights": emissions_only, "bands": lenient_bands})
    result = score(row, method=strict)
    assert result.suppliers.loc[0, "composite"] >= 20.0
    assert result.suppliers.loc[0, "band"] == "conditional"
    allowed = load_methodology(
        overrides={
            "weights": emissions_only,
            "bands": {**lenient_bands, "approve_without_disclosure": True},
        }
    )
    assert score(row, method=allowed).suppliers.loc[0, "band"] == "approved"


def test_ranks_only_the_disclosed_best_first_ties_shared():
    result = score(
        {"dq_score": 1.0},
        {"responded": False, "intensity": np.nan, "dq_score": 1.0},
        {"dq_score": 3.0},
        {"dq_score": 3.0},
    )
    s = result.suppliers
    assert list(s["disclosed_group"]) == ["disclosed", "not_disclosed", "disclosed", "disclosed"]
    assert s.loc[0, "rank"] == 1 and math.isnan(s.loc[1, "rank"])
    assert s.loc[2, "rank"] == s.loc[3, "rank"] == 2


# --- grid, engagement potential, explanations ------------------------------------------------


def test_risk_capability_grid():
    result = score(
        # Dirty, largest spend, silent: 2 + 2 + 2 points -> high risk, no maturity -> low.
        {"responded": False, "intensity": np.nan, "sector_intensity": 0.4, "spend": 9000.0},
        # Clean, small, well documented, mature -> low risk, high capability.
        {
            "intensity": 0.1,
            "spend": 10.0,
            "dq_score": 2.0,
            "completeness": 1.0,
            "maturity_disclosure": 1.0,
            "maturity_awareness": 1.0,
            "maturity_management": 0.8,
        },
        # Above 1.5 x sector, second largest spend, poor data -> 2 + 1 + 1 -> high risk.
        {"intensity": 0.7, "spend": 5000.0, "maturity_disclosure": 0.7, "maturity_awareness": 0.5},
    )
    s = result.suppliers
    assert list(s["risk_points"]) == [5.0, 0.0, 4.0]
    assert list(s["grid_cell"]) == ["high:low", "low:high", "high:medium"]
    assert list(s["capability_level"]) == ["low", "high", "medium"]


def test_engagement_potential_is_spend_times_intensity_times_immaturity():
    result = score(
        {"spend": 1000.0, "intensity": 0.5, "maturity_disclosure": 1.0, "maturity_awareness": 1.0},
        {"responded": False, "intensity": np.nan, "spend": 1000.0, "sector_intensity": 0.3},
        {"spend": 1000.0, "intensity": np.nan, "sector_intensity": np.nan, "contribution_kg": 77.0},
        {"spend": -500.0, "intensity": 0.5},
    )
    s = result.suppliers
    assert s.loc[0, "maturity_score"] == 40.0
    assert s.loc[0, "engagement_potential_kg"] == pytest.approx(1000 * 0.5 * 0.6)
    assert s.loc[1, "engagement_potential_kg"] == pytest.approx(1000 * 0.3)
    assert s.loc[2, "engagement_potential_kg"] == pytest.approx(77.0)
    assert s.loc[3, "engagement_potential_kg"] == 0.0  # a net credit note is no exposure


def test_top_items_name_what_raised_and_lowered_the_score():
    result = score({"dq_score": 1.0, "target_status": "none", "renewable_share": 0.0})
    top = result.suppliers.loc[0, "top_items"]
    assert 1 <= len(top) <= 3
    assert {t["effect"] for t in top} <= {"raised", "lowered"}
    assert top[0] == {
        "dimension": "targets",
        "item": "target_status",
        "earned": 0.0,
        "possible": 60.0,
        "effect": "lowered",
    }
    raised = [t for t in top if t["effect"] == "raised"]
    assert all(t["earned"] > t["possible"] / 2 for t in raised)


def test_items_frame_has_every_item_per_supplier_and_json_params():
    result = score_suppliers(example_frame(50, seed=3), METHOD)
    items = result.items
    assert len(items) == 50 * len(ITEMS)
    assert list(items.columns) == [
        "relationship_id",
        "dimension",
        "item",
        "earned",
        "possible",
        "reason",
        "params",
    ]
    assert list(items["item"].iloc[: len(ITEMS)]) == [i for _, i in ITEMS]
    json.dumps(items["params"].tolist(), allow_nan=False)
    json.dumps(result.suppliers["top_items"].tolist(), allow_nan=False)
    assert (items["earned"] <= items["possible"]).all()
    assert result.method_version == "1.0"


def test_results_keep_the_input_index():
    f = example_frame(5, seed=1)
    f.index = [10, 11, 12, 13, 14]
    assert list(score_suppliers(f, METHOD).suppliers.index) == [10, 11, 12, 13, 14]


@pytest.mark.parametrize(
    ("column", "value"),
    [("target_status", "science_based"), ("verification", "audited"), ("data_source", "guess")],
)
def test_unknown_category_values_are_refused_naming_column_and_supplier(column, value):
    with pytest.raises(
        ValueError, match=rf"{column} has unknown value '{value}'.*relationship_id 1"
    ):
        score({column: value})


def test_missing_required_columns_are_named():
    with pytest.raises(ValueError, match="relationship_id"):
        score_suppliers(pd.DataFrame({"supplier_id": [1], "responded": [True]}), METHOD)


# --- corrective actions -----------------------------------------------------------------------


def test_every_lost_point_is_an_action_with_its_weighted_stake():
    result = score(
        {"target_status": "own", "target_annual_reduction_pct": np.nan, "verification": "limited"},
        {"responded": False, "intensity": np.nan},
    )
    actions = corrective_actions(result, METHOD)
    lost = result.items[result.items["earned"] < result.items["possible"]]
    assert len(actions) == (lost["relationship_id"] == 1).sum() + 1  # the non-responder: one
    assert set(actions["action_code"]) <= ACTION_CODES
    first = actions[actions["relationship_id"] == 1].set_index("item")
    assert first.loc["target_status", "action_code"] == "commit_to_sbti"
    assert first.loc["target_ambition", "action_code"] == "report_target_details"
    assert first.loc["verification", "action_code"] == "obtain_reasonable_assurance"
    assert first.loc["target_status", "points_at_stake"] == round(0.20 * (60 - 25), 2)
    stakes = first["points_at_stake"].tolist()
    assert stakes == sorted(stakes, reverse=True)
    second = actions[actions["relationship_id"] == 2]
    assert list(second["action_code"]) == [NOT_DISCLOSED_ACTION]


def test_a_non_responder_gets_one_action_worth_all_its_lost_points():
    result = score({"responded": False, "intensity": np.nan}, {"intensity": 0.5})
    actions = corrective_actions(result, METHOD)
    lost = result.items[
        (result.items["relationship_id"] == 1) & (result.items["earned"] < result.items["possible"])
    ]
    mine = actions[actions["relationship_id"] == 1]
    assert len(mine) == 1 and len(lost) > 1
    only = mine.iloc[0]
    assert (only["item"], only["dimension"], only["action_code"]) == (
        NOT_DISCLOSED_ITEM,
        NOT_DISCLOSED_DIMENSION,
        NOT_DISCLOSED_ACTION,
    )
    assert only["params"] == {"items": len(lost)}
    # every composite point it does not have is at stake: 100 − composite
    assert only["points_at_stake"] == pytest.approx(
        100 - result.suppliers.loc[0, "composite"], abs=0.01
    )
    # suppliers keep their input order: the non-responder's action comes first
    assert actions["relationship_id"].iloc[0] == 1
    assert NOT_DISCLOSED_ACTION not in set(
        actions.loc[actions["relationship_id"] == 2, "action_code"]
    )


def test_a_non_responder_with_a_public_target_keeps_that_action_apart():
    result = score({"responded": False, "intensity": np.nan, "target_status": "own"})
    actions = corrective_actions(result, METHOD).set_index("item")
    assert actions.loc["target_status", "action_code"] == "commit_to_sbti"
    assert actions.loc[NOT_DISCLOSED_ITEM, "action_code"] == NOT_DISCLOSED_ACTION
    assert (actions["action_code"] == NOT_DISCLOSED_ACTION).sum() == 1


def test_full_points_yield_no_action():
    best = {
        "intensity": 0.1,
        "prev_intensity": 0.2,
        "renewable_share": 1.0,
        "target_status": "sbti_validated",
        "target_annual_reduction_pct": 5.0,
        **{f"maturity_{lv}": 1.0 for lv in ("disclosure", "awareness", "management", "leadership")},
        "dq_score": 1.0,
        "completeness": 1.0,
        "verification": "reasonable",
        "data_source": "production_monthly",
    }
    result = score(best)
    assert result.suppliers.loc[0, "composite"] == 100.0
    assert result.suppliers.loc[0, "band"] == "approved"
    assert corrective_actions(result, METHOD).empty


def test_action_params_are_not_shared_with_the_items():
    result = score({"renewable_share": 0.2})
    actions = corrective_actions(result, METHOD)
    row = actions[actions["item"] == "renewable_share"].iloc[0]
    row["params"]["share_pct"] = -1
    assert item(result, "renewable_share")["params"] == {"share_pct": 20.0}
