"""Methodology 1.1: the intensity compared with the sector is cradle-to-gate, like the reference.

Hand-computed cases for each basis (``cradle_to_gate``, ``own_plus_disclosed_upstream``,
``own_only``), the floor of a Scope 1 + 2-only intensity at the sector reference, the trend on
Scope 1 + 2, and properties of disclosing upstream emissions. Rows as in ``test_scoring_items``:
no previous year and no peers, so intensity (45) and renewables (20) scale to 100 and the
intensity item is worth 45 x 100 / 65 = 69.23 points; the sector reference is 0.4.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.actions import corrective_actions
from scoring.engine import REASONS, score_suppliers
from scoring.inputs import compared_intensity
from scoring.methodology import load_methodology

V11 = load_methodology("1.1")
V10 = load_methodology("1.0")
POSSIBLE = round(45 * 100 / 65, 2)  # 69.23

BASE = {
    "supplier_id": 0,
    "responded": True,
    "sector_code": None,
    "spend": 1000.0,
    "intensity": 0.4,
    "intensity_basis": "cradle_to_gate",
    "scope12_intensity": 0.1,
    "sector_intensity": 0.4,
    "prev_intensity": np.nan,
    "renewable_share": 0.0,
    "target_status": "none",
    "dq_score": 5.0,
    "completeness": 0.0,
    "verification": "none",
    "data_source": None,
}


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame([{**BASE, "relationship_id": i + 1, **row} for i, row in enumerate(rows)])


def item(result, name: str, supplier: int = 1) -> pd.Series:
    items = result.items
    found = items[(items["relationship_id"] == supplier) & (items["item"] == name)]
    assert len(found) == 1
    return found.iloc[0]


@pytest.mark.parametrize(
    ("basis", "intensity", "ratio", "earned", "reason"),
    [
        # cradle-to-gate 0.32 / 0.4 = 0.8: share (2 - 0.8) / 1.5 = 0.8, 69.23 x 0.8 = 55.38
        ("cradle_to_gate", 0.32, 0.8, 55.38, "intensity_ratio"),
        # Scope 1 + 2 and disclosed upstream is as complete: no floor, same points
        ("own_plus_disclosed_upstream", 0.32, 0.8, 55.38, "intensity_ratio_disclosed_upstream"),
        ("cradle_to_gate", 0.1, 0.25, POSSIBLE, "intensity_ratio"),
        # Scope 1 + 2 only, 0.1 / 0.4 = 0.25: raised to 1.0, two thirds: 46.15
        ("own_only", 0.1, 1.0, 46.15, "intensity_ratio_scope12_only"),
        # Scope 1 + 2 only above the reference, 0.6 / 0.4 = 1.5: kept, one third: 23.08
        ("own_only", 0.6, 1.5, 23.08, "intensity_ratio_scope12_only"),
    ],
)
def test_intensity_points_per_basis(basis, intensity, ratio, earned, reason):
    result = score_suppliers(frame({"intensity": intensity, "intensity_basis": basis}), V11)
    row = item(result, "intensity_vs_sector")
    assert (row["earned"], row["possible"], row["reason"]) == (earned, POSSIBLE, reason)
    assert row["params"]["ratio"] == pytest.approx(ratio)
    assert row["params"]["basis"] == basis
    assert row["params"]["intensity"] == pytest.approx(intensity)  # what was measured
    measured = row["params"]["measured_ratio"]
    if basis == "own_only":
        assert measured == pytest.approx(intensity / 0.4)
    else:
        assert measured is None
    assert result.suppliers.loc[0, "intensity_basis"] == basis
    assert result.suppliers.loc[0, "intensity_ratio"] == pytest.approx(ratio)


def test_version_1_0_still_compares_scope12_as_given():
    """The change is the version's: the same Scope 1 + 2-only row earned full points in 1.0."""
    rows = frame({"intensity": 0.1, "intensity_basis": "own_only"})
    old = item(score_suppliers(rows, V10), "intensity_vs_sector")
    assert (old["earned"], old["reason"]) == (POSSIBLE, "intensity_ratio")
    assert "basis" not in old["params"]  # params as 1.0 stored them
    new = item(score_suppliers(rows, V11), "intensity_vs_sector")
    assert new["earned"] == 46.15


def test_an_intensity_without_basis_counts_as_scope12_only():
    """Frames written for 1.0 (and intensities derived from emissions and revenue) carry
    Scope 1 + 2: never below the reference."""
    rows = frame({"intensity": 0.1}).drop(columns=["intensity_basis", "scope12_intensity"])
    derived = frame({"intensity": np.nan, "emissions_kg": 100.0, "revenue": 1000.0})
    for given_rows in (rows, derived):
        row = item(score_suppliers(given_rows, V11), "intensity_vs_sector")
        assert (row["earned"], row["reason"]) == (46.15, "intensity_ratio_scope12_only")


def test_scope12_only_without_sector_reference_is_at_the_sector_average():
    result = score_suppliers(
        frame({"intensity": 0.1, "intensity_basis": "own_only", "sector_intensity": np.nan}), V11
    )
    row = item(result, "intensity_vs_sector")
    assert (row["earned"], row["reason"]) == (46.15, "no_sector_reference")
    assert math.isnan(result.suppliers.loc[0, "intensity_ratio"])


def test_peers_compare_cradle_to_gate_intensities_only():
    five = [{"sector_code": "313", "intensity": x} for x in (0.1, 0.2, 0.3, 0.4, 0.5)]
    scope12_only = {"sector_code": "313", "intensity": 0.05, "intensity_basis": "own_only"}
    result = score_suppliers(frame(*five, scope12_only), V11)
    best = item(result, "peer_percentile", 1)
    assert best["reason"] == "peer_percentile" and best["params"]["peers"] == 5
    assert best["params"]["percentile"] == 100.0  # the Scope 1 + 2-only 0.05 is no peer
    alone = item(result, "peer_percentile", 6)
    assert (alone["reason"], alone["possible"], alone["earned"]) == ("peers_need_upstream", 0, 0)
    # in 1.0 it counted, and ranked first
    old = score_suppliers(frame(*five, scope12_only), V10)
    assert item(old, "peer_percentile", 6)["params"]["percentile"] == 100.0
    assert item(old, "peer_percentile", 1)["params"]["peers"] == 6


def test_trend_stays_on_scope12_whatever_the_basis():
    # cradle-to-gate 0.8, Scope 1 + 2 0.2 after 0.21: (1 - 0.2 / 0.21) = 4.76 % >= 4.2 %
    result = score_suppliers(
        frame({"intensity": 0.8, "scope12_intensity": 0.2, "prev_intensity": 0.21}), V11
    )
    trend = item(result, "trend")
    assert trend["reason"] == "intensity_reduced"
    assert trend["earned"] == trend["possible"] == round(20 * 100 / 85, 2)
    assert trend["params"]["intensity"] == pytest.approx(0.2)
    assert trend["params"]["reduction_pct"] == pytest.approx(4.76)


def test_risk_and_engagement_use_the_raised_ratio():
    result = score_suppliers(
        frame(
            {"intensity": 0.1, "intensity_basis": "own_only", "maturity_disclosure": 1.0},
            {"intensity": 0.1, "intensity_basis": "cradle_to_gate", "maturity_disclosure": 1.0},
        ),
        V11,
    )
    s = result.suppliers
    # maturity 20 of 100 points: exposure x 0.8. Scope 1 + 2 only: the reference 0.4 stands in.
    assert s.loc[0, "engagement_potential_kg"] == pytest.approx(1000 * 0.4 * 0.8)
    assert s.loc[1, "engagement_potential_kg"] == pytest.approx(1000 * 0.1 * 0.8)
    # risk: ratio 1.0 is 1 point, 0.25 none; equal spend, ties by relationship id: the first
    # has no larger supplier (2 points), the second half the spend above it (1); DQ 5 is 1
    assert list(s["intensity_ratio"]) == [1.0, 0.25]
    assert list(s["risk_points"]) == [1 + 2 + 1, 0 + 1 + 1]
    assert list(s["risk_level"]) == ["high", "medium"]


def test_every_new_reason_is_declared_and_scope12_only_asks_for_the_upstream():
    result = score_suppliers(
        frame(
            {"intensity": 0.1, "intensity_basis": "own_only", "sector_code": "x"},
            {"intensity": 0.5, "intensity_basis": "own_plus_disclosed_upstream"},
        ),
        V11,
    )
    for rec in result.items.to_dict("records"):
        assert rec["reason"] in REASONS[rec["item"]]
    actions = corrective_actions(result, V11)
    intensity = actions[actions["item"] == "intensity_vs_sector"]
    # Scope 1 + 2 only: the action is to report the upstream, not to reduce a partial figure
    codes = dict(zip(intensity["relationship_id"], intensity["action_code"], strict=True))
    assert codes == {1: "report_upstream_emissions", 2: "reduce_emission_intensity"}
    assert intensity.iloc[0]["params"]["basis"] == "own_only"


# --- disclosing upstream emissions ------------------------------------------------------------

others = st.lists(
    st.fixed_dictionaries(
        {
            "intensity": st.floats(0.01, 3.0),
            "intensity_basis": st.sampled_from(["cradle_to_gate", "own_plus_disclosed_upstream"]),
            "renewable_share": st.floats(0.0, 1.0),
        }
    ),
    max_size=6,
)


def _intensity_points(scope12_kg, revenue, sector, rest, **upstream) -> float:
    intensity, basis = compared_intensity(scope12_kg, revenue, **upstream)
    mine = {
        "intensity": intensity,
        "intensity_basis": basis,
        "scope12_intensity": scope12_kg / revenue,
        "sector_intensity": sector,
        "sector_code": "s",
    }
    peers = [{**r, "sector_code": "s", "sector_intensity": sector} for r in rest]
    result = score_suppliers(frame(mine, *peers), V11)
    return float(item(result, "intensity_vs_sector", 1)["earned"])


@settings(max_examples=150, deadline=None)
@given(
    scope12=st.floats(0.0, 1e7),
    upstream=st.floats(0.0, 1e8),
    more=st.floats(0.0, 1e8),
    revenue=st.floats(1.0, 1e8),
    sector=st.floats(1e-4, 5.0),
    rest=others,
)
def test_disclosing_upstream_never_improves_intensity_points_except_by_proof(
    scope12, upstream, more, revenue, sector, rest
):
    """Adding a supplier's disclosed upstream never raises its intensity points, unless the
    complete intensity it discloses lies below the sector reference: only then has it shown
    what a Scope 1 + 2 figure cannot. It never earns more than its Scope 1 + 2 would if they
    were its whole footprint, and more upstream never earns more."""
    scope12_only = _intensity_points(scope12, revenue, sector, rest)
    disclosed = _intensity_points(scope12, revenue, sector, rest, upstream_kg=upstream)
    complete_ratio = (scope12 + upstream) / revenue / sector
    assert disclosed <= scope12_only or complete_ratio < 1.0
    as_if_complete = _intensity_points(scope12, revenue, sector, rest, upstream_kg=0.0)
    assert disclosed <= as_if_complete
    larger = _intensity_points(scope12, revenue, sector, rest, upstream_kg=upstream + more)
    assert larger <= disclosed


@settings(max_examples=100, deadline=None)
@given(scope12=st.floats(0.0, 1e7), revenue=st.floats(1.0, 1e8), sector=st.floats(1e-4, 5.0))
def test_scope12_only_never_earns_more_than_a_sector_average_supplier(scope12, revenue, sector):
    points = _intensity_points(scope12, revenue, sector, [])
    assert points <= round(POSSIBLE * 2 / 3, 2)  # 46.15, the points at the sector reference
