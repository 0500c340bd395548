"""Hand-computed tests of the upstream gap of reporting suppliers (GHG Protocol hybrid method)
and of the rule that a brand's own emissions never enter its own Category 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplychain.footprint import FootprintNetwork, solve_footprint
from supplychain.footprint.spend_inputs import StaticFactorSource, network_from_tables

SHARES_CSV = (
    Path(__file__).resolve().parents[3]
    / "spend_factors"
    / "data"
    / "bea2007_intermediate_input_shares.csv"
)
# fabric 0.5 kg/USD, apparel 0.2 kg/USD; 1 EUR = 1.1 USD
SOURCE = StaticFactorSource(factors={"313210": 0.5, "315210": 0.2}, rates={"EUR": 1.1})


def table_share(naics_row: str) -> float:
    """The shipped BEA intermediate-input share of one table row, read independently."""
    table = pd.read_csv(SHARES_CSV, dtype={"naics": str}).set_index("naics")
    return float(table.loc[naics_row, "intermediate_input_share"])


def build(nodes: list[dict], edges: list[dict], source=SOURCE):
    inputs = network_from_tables(pd.DataFrame(nodes), pd.DataFrame(edges), source)
    assert inputs.errors == []
    return inputs


# -- rule 1: disclosed upstream ------------------------------------------------------------


def test_disclosed_upstream_fills_the_gap_above_known_suppliers():
    n = FootprintNetwork.from_records(
        [
            {"node_id": "B", "kind": "brand", "own_kg_co2e": 0},
            {"node_id": "t1", "own_kg_co2e": 100, "upstream_kg_co2e": 500},
            {"node_id": "t2", "own_kg_co2e": 1000, "upstream_kg_co2e": 0},
        ],
        [
            {"supplier_id": "t1", "customer_id": "B", "share": 0.5},
            {"supplier_id": "t2", "customer_id": "t1", "share": 0.2},
        ],
    )
    r = solve_footprint(n, samples=0)
    t1 = r.node("t1")
    # known suppliers allocate 0.2 × 1000 = 200 of the disclosed 500: the gap is 300
    assert t1.upstream_allocated_kg_co2e == pytest.approx(200)
    assert t1.gap_kg_co2e == pytest.approx(300)
    assert t1.gap_method == "disclosed-upstream"
    assert t1.cradle_to_gate_kg_co2e == pytest.approx(100 + 200 + 300)
    assert t1.method == "hybrid"
    # own (DQ 2) 100 + t2 (DQ 2) 200 + gap (DQ 3) 300
    assert t1.dq_score == pytest.approx((100 * 2 + 200 * 2 + 300 * 3) / 600)
    assert t1.primary_share == pytest.approx(300 / 600)
    assert r.total() == pytest.approx(300)
    assert r.node("t2").method == "supplier_specific"  # everything upstream is primary
    assert r.hotspots["contribution_kg_co2e"].sum() == pytest.approx(r.total())
    gap_paths = r.paths[r.paths["source"] == "disclosed-upstream"]
    assert gap_paths["contribution_kg_co2e"].tolist() == pytest.approx([150])


def test_disclosed_upstream_below_known_suppliers_adds_nothing():
    n = FootprintNetwork.from_records(
        [
            {"node_id": "B", "kind": "brand", "own_kg_co2e": 0},
            {"node_id": "t1", "own_kg_co2e": 100, "upstream_kg_co2e": 150},
            {"node_id": "t2", "own_kg_co2e": 1000, "upstream_kg_co2e": 0},
        ],
        [
            {"supplier_id": "t1", "customer_id": "B", "share": 0.5},
            {"supplier_id": "t2", "customer_id": "t1", "share": 0.2},
        ],
    )
    r = solve_footprint(n, samples=0)
    assert r.node("t1").gap_kg_co2e == 0
    assert r.node("t1").cradle_to_gate_kg_co2e == pytest.approx(300)
    assert r.node("t1").method == "supplier_specific"


def test_disclosed_gaps_settle_along_a_chain_of_disclosing_suppliers():
    n = FootprintNetwork.from_records(
        [
            {"node_id": "B", "kind": "brand", "own_kg_co2e": 0},
            {"node_id": "t1", "own_kg_co2e": 100, "upstream_kg_co2e": 600},
            {"node_id": "t2", "own_kg_co2e": 500, "upstream_kg_co2e": 1000},
            {"node_id": "t3", "own_kg_co2e": 1000, "upstream_kg_co2e": 400},
        ],
        [
            {"supplier_id": "t1", "customer_id": "B", "share": 0.5},
            {"supplier_id": "t2", "customer_id": "t1", "share": 0.5},
            {"supplier_id": "t3", "customer_id": "t2", "share": 0.5},
        ],
    )
    r = solve_footprint(n, samples=0)
    # t3: no suppliers, gap 400 → 1400; t2: 0.5 × 1400 = 700 of 1000 → gap 300 → 1500;
    # t1: 0.5 × 1500 = 750 above its 600 → no gap → 850 (without the gaps upstream it
    # would have looked short: 0.5 × 1000 = 500 < 600)
    nodes = r.nodes.set_index("node_id")
    assert nodes.loc[["t3", "t2", "t1"], "gap_kg_co2e"].tolist() == pytest.approx([400, 300, 0])
    assert nodes.loc[["t3", "t2", "t1"], "cradle_to_gate_kg_co2e"].tolist() == pytest.approx(
        [1400, 1500, 850]
    )
    assert r.total() == pytest.approx(425)
    assert 1 < r.gap_rounds <= 4  # at most (chain of disclosing suppliers) + 1 solves


def test_disclosed_gaps_in_a_strong_cycle_reach_the_fixed_point():
    # a ↔ b pass 90 % of their totals to each other: a naive "solve, recompute the gaps,
    # re-solve" iteration oscillates between a gap of 0 and 100 here
    n = FootprintNetwork.from_records(
        [
            {"node_id": "B", "kind": "brand", "own_kg_co2e": 0},
            {"node_id": "a", "own_kg_co2e": 100, "upstream_kg_co2e": 1000},
            {"node_id": "b", "own_kg_co2e": 100, "upstream_kg_co2e": 50},
        ],
        [
            {"supplier_id": "a", "customer_id": "b", "share": 0.9},
            {"supplier_id": "a", "customer_id": "B", "share": 0.1},
            {"supplier_id": "b", "customer_id": "a", "share": 0.9},
        ],
    )
    r = solve_footprint(n, samples=0)
    # T_a = 100 + max(1000, 0.9 T_b), T_b = 100 + max(50, 0.9 T_a): T_a = 1100, T_b = 1090
    a, b = r.node("a"), r.node("b")
    assert a.cradle_to_gate_kg_co2e == pytest.approx(1100)
    assert b.cradle_to_gate_kg_co2e == pytest.approx(1090)
    assert a.gap_kg_co2e == pytest.approx(1000 - 0.9 * 1090)
    assert b.gap_kg_co2e == 0
    assert r.total() == pytest.approx(110)
    assert r.hotspots["contribution_kg_co2e"].sum() == pytest.approx(110)


# -- rule 2: purchased spend ---------------------------------------------------------------


def maker(**extra) -> dict:
    return {
        "node_id": "m",
        "kind": "supplier",
        "own_kg_co2e": 1000.0,
        "currency": "USD",
        "year": 2023,
        "naics": "315210",
        "purchased_spend": 5000.0,
        **extra,
    }


BRAND = {"node_id": "B", "kind": "brand", "own_kg_co2e": 0.0}
TO_BRAND = {"supplier_id": "m", "customer_id": "B", "share": 0.5}


def test_purchased_spend_without_known_suppliers_in_a_stated_sector():
    inputs = build([BRAND, maker(purchased_naics="313210")], [TO_BRAND])
    r = solve_footprint(inputs.network, samples=0)
    m = r.node("m")
    assert m.gap_method == "purchased-spend"
    assert m.gap_kg_co2e == pytest.approx(5000 * 0.5)
    assert m.cradle_to_gate_kg_co2e == pytest.approx(1000 + 2500)
    # a stated purchased sector is explicit: DQ 3; own emissions DQ 2
    assert m.dq_score == pytest.approx((1000 * 2 + 2500 * 3) / 3500)
    assert m.primary_share == pytest.approx(1000 / 3500)
    assert r.total() == pytest.approx(0.5 * 3500)
    assert inputs.network.nodes.set_index("node_id").loc["m", "gap_factor_codes"] == "313210"


def test_purchased_spend_sector_defaults_to_the_main_activity_with_dq_3_5():
    inputs = build([BRAND, maker()], [TO_BRAND])
    m = solve_footprint(inputs.network, samples=0).node("m")
    assert m.gap_kg_co2e == pytest.approx(5000 * 0.2)
    assert m.dq_score == pytest.approx((1000 * 2 + 1000 * 3.5) / 2000)


def test_purchased_spend_less_spend_on_known_suppliers_share_and_spend_edges():
    nodes = [
        BRAND,
        maker(purchased_naics="313210"),
        {"node_id": "x", "kind": "supplier", "naics": "313210"},
        {
            "node_id": "y",
            "kind": "supplier",
            "own_kg_co2e": 300.0,
            "revenue": 2000.0,
            "currency": "EUR",
            "year": 2023,
            "upstream_kg_co2e": 0.0,
        },
    ]
    edges = [
        TO_BRAND,
        # spend-based: 1000 EUR = 1100 USD at 0.5 → 550 kg
        {"supplier_id": "x", "customer_id": "m", "spend": 1000.0, "currency": "EUR", "year": 2023},
        # share only: 0.2 × 2000 EUR revenue = 400 EUR = 440 USD of spend; 0.2 × 300 = 60 kg
        {"supplier_id": "y", "customer_id": "m", "share": 0.2},
    ]
    inputs = build(nodes, edges)
    assert not any("not known" in w for w in inputs.warnings)
    r = solve_footprint(inputs.network, samples=0)
    m = r.node("m")
    gap_spend = 5000 - 1100 - 440
    assert inputs.network.nodes.set_index("node_id").loc["m", "gap_spend"] == pytest.approx(
        gap_spend
    )
    assert m.gap_kg_co2e == pytest.approx(gap_spend * 0.5)
    assert m.upstream_allocated_kg_co2e == pytest.approx(550 + 60)
    assert m.cradle_to_gate_kg_co2e == pytest.approx(1000 + 550 + 60 + gap_spend * 0.5)


def test_purchases_from_a_supplier_with_unknown_spend_are_named_in_a_warning():
    nodes = [BRAND, maker(purchased_naics="313210"), {"node_id": "z", "kind": "supplier"}]
    edges = [
        TO_BRAND,
        {"supplier_id": "z", "customer_id": "m", "pcf_kg_per_unit": 2.0, "quantity": 10},
    ]
    inputs = build(nodes, edges)
    assert any("supplier z is not known" in w for w in inputs.warnings), inputs.warnings
    m = solve_footprint(inputs.network, samples=0).node("m")
    assert m.gap_kg_co2e == pytest.approx(5000 * 0.5)  # nothing subtracted
    assert m.upstream_allocated_kg_co2e == pytest.approx(20)


def test_purchased_spend_below_known_supplier_spend_gives_no_gap_and_says_so():
    nodes = [
        BRAND,
        maker(purchased_spend=500.0),
        {"node_id": "x", "kind": "supplier", "naics": "313210"},
    ]
    edges = [
        TO_BRAND,
        {"supplier_id": "x", "customer_id": "m", "spend": 800.0, "currency": "USD", "year": 2023},
    ]
    inputs = build(nodes, edges)
    assert any("exceeds its purchased_spend" in w for w in inputs.warnings)
    m = solve_footprint(inputs.network, samples=0).node("m")
    assert m.gap_kg_co2e == 0 and m.gap_method == "purchased-spend"
    assert m.cradle_to_gate_kg_co2e == pytest.approx(1000 + 400)


# -- rule 3: the sector default ------------------------------------------------------------


def test_default_estimate_from_revenue_and_intermediate_input_share():
    nodes = [
        BRAND,
        maker(purchased_spend=np.nan, revenue=10000.0),
        {"node_id": "x", "kind": "supplier", "naics": "313210"},
    ]
    edges = [
        TO_BRAND,
        {"supplier_id": "x", "customer_id": "m", "spend": 1000.0, "currency": "USD", "year": 2023},
    ]
    inputs = build(nodes, edges)
    r = solve_footprint(inputs.network, samples=0)
    m = r.node("m")
    purchases = 10000 * table_share("315")  # NAICS 315 apparel, BEA 2007
    assert m.gap_method == "hybrid-estimated-upstream"
    assert m.method == "hybrid"
    assert m.gap_kg_co2e == pytest.approx((purchases - 1000) * 0.2)
    assert m.cradle_to_gate_kg_co2e == pytest.approx(1000 + 500 + (purchases - 1000) * 0.2)
    gap = m.gap_kg_co2e
    assert m.dq_score == pytest.approx((1000 * 2 + 500 * 3.5 + gap * 5) / (1500 + gap))
    node = inputs.network.nodes.set_index("node_id").loc["m"]
    assert node.gap_dq_score == 5 and node.gap_uncertainty_pct == 100
    assert any("hybrid-estimated-upstream" in w and "m" in w for w in r.warnings)


def test_default_estimate_without_revenue_uses_what_the_network_pays():
    nodes = [BRAND, maker(purchased_spend=np.nan)]
    edges = [
        {"supplier_id": "m", "customer_id": "B", "spend": 3000.0, "currency": "EUR", "year": 2023}
    ]
    inputs = build(nodes, edges)
    m = solve_footprint(inputs.network, samples=0).node("m")
    node = inputs.network.nodes.set_index("node_id").loc["m"]
    assert node.gap_spend_currency == "EUR"
    assert node.gap_spend == pytest.approx(3000 * table_share("315"))
    assert m.gap_kg_co2e == pytest.approx(3000 * 1.1 * table_share("315") * 0.2)


def test_sector_falls_back_from_subsector_to_sector():
    from supplychain.footprint.spend_inputs import intermediate_input_share

    assert intermediate_input_share("448120") == (table_share("44-45"), "44-45")
    assert intermediate_input_share("315210") == (table_share("315"), "315")
    assert intermediate_input_share("") is None


def test_no_sector_and_no_disclosure_is_never_a_silent_zero():
    nodes = [BRAND, {"node_id": "m", "kind": "supplier", "own_kg_co2e": 10.0}]
    inputs = build(nodes, [TO_BRAND])
    assert any("m" in w and "cannot be estimated" in w for w in inputs.warnings)
    r = solve_footprint(inputs.network, samples=0)
    assert any("only their suppliers in the network are counted: m" in w for w in r.warnings)


# -- precomputed edges and the brand cycle -------------------------------------------------


def test_edges_with_a_callers_estimate_are_not_estimated_again():
    nodes = [BRAND, {"node_id": "x", "kind": "supplier", "naics": "313210"}]
    edges = [
        {
            "supplier_id": "x",
            "customer_id": "B",
            "spend": 200.0,
            "currency": "USD",
            "year": 2023,
            "spend_kg_co2e": 77.0,
            "spend_dq_score": 3.5,
            "factor_codes": "313210;313310",
            "line_ids": "11;12",
        }
    ]
    inputs = build(nodes, edges)
    edge = inputs.network.edges.iloc[0]
    assert edge.spend_kg_co2e == 77.0 and edge.spend_dq_score == 3.5  # not 200 × 0.5
    assert edge.factor_codes == "313210;313310" and edge.line_ids == "11;12"
    assert solve_footprint(inputs.network, samples=0).total() == pytest.approx(77)


def test_brand_own_emissions_never_return_into_its_category_1():
    def network(brand_own: float) -> FootprintNetwork:
        return FootprintNetwork.from_records(
            [
                {"node_id": "B", "kind": "brand", "own_kg_co2e": brand_own},
                {"node_id": "X", "own_kg_co2e": 500, "upstream_kg_co2e": 0},
            ],
            [
                {"supplier_id": "B", "customer_id": "X", "share": 0.2},
                {"supplier_id": "X", "customer_id": "B", "share": 0.5},
            ],
        )

    r = solve_footprint(network(1000), samples=2000, seed=5)
    # T_B = 1000 + 0.5 T_X, T_X = 500 + 0.2 T_B; Category 1 is X's 500 carried by 0.5 / 0.9
    assert r.node("B").cradle_to_gate_kg_co2e == pytest.approx(1250 / 0.9)
    assert r.total() == pytest.approx(0.5 * 500 / 0.9)
    assert r.total() == pytest.approx(solve_footprint(network(0), samples=0).total())
    assert r.hotspots["node_id"].tolist() == ["X"]
    assert r.hotspots["contribution_kg_co2e"].sum() == pytest.approx(r.total())
    b = r.brands.iloc[0]
    assert b.ci95_low < b.scope3_cat1_kg_co2e < b.ci95_high
    assert b.ci95_high < 0.5 * 500 / 0.9 * 1.5  # the brand's 1000 kg is not in the interval
    assert b.primary_share == pytest.approx(1.0) and b.dq_score == pytest.approx(2.0)


# -- property ------------------------------------------------------------------------------


@st.composite
def supply_tables(draw):
    n = draw(st.integers(2, 7))
    nodes = [{"node_id": "n0", "kind": "brand", "own_kg_co2e": 0.0}]
    for j in range(1, n):
        own = draw(st.one_of(st.none(), st.floats(0, 1e5)))
        nodes.append(
            {
                "node_id": f"n{j}",
                "kind": "supplier",
                "own_kg_co2e": np.nan if own is None else own,
                "currency": "USD",
                "year": 2023,
                "naics": "313210",
            }
        )
    pairs = draw(
        st.lists(
            st.tuples(st.integers(1, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
            unique=True,
            max_size=3 * n,
        )
    )
    per_supplier = {k: sum(1 for s, _ in pairs if s == k) for k, _ in pairs}
    edges = []
    for k, i in pairs:
        share = draw(st.one_of(st.none(), st.floats(0.0, 0.9)))
        edges.append(
            {
                "supplier_id": f"n{k}",
                "customer_id": f"n{i}",
                "share": np.nan if share is None else share / per_supplier[k],
                "spend": draw(st.floats(0, 1e5)),
                "currency": "USD",
                "year": 2023,
            }
        )
    node = draw(st.integers(1, n - 1))
    spend = draw(st.floats(0, 1e6))
    return nodes, edges, node, spend


@settings(max_examples=60, deadline=None)
@given(supply_tables())
def test_a_disclosed_purchased_spend_never_lowers_a_total(case):
    nodes, edges, node, spend = case
    edge_frame = (
        pd.DataFrame(edges) if edges else pd.DataFrame(columns=["supplier_id", "customer_id"])
    )
    base = network_from_tables(pd.DataFrame(nodes), edge_frame, SOURCE).network
    base.nodes["gap_estimate_kg_co2e"] = np.nan  # no gaps at all: own + known suppliers
    nodes[node] = {**nodes[node], "purchased_spend": spend}
    inputs = network_from_tables(pd.DataFrame(nodes), edge_frame, SOURCE)
    with_gap = solve_footprint(inputs.network, samples=0).nodes.set_index("node_id")
    without = solve_footprint(base, samples=0).nodes.set_index("node_id")
    primary = with_gap["own_part_kg_co2e"].notna()
    total = with_gap["cradle_to_gate_kg_co2e"][primary]
    parts = with_gap["own_part_kg_co2e"] + with_gap["upstream_allocated_kg_co2e"]
    assert (with_gap["gap_kg_co2e"][primary] >= 0).all()
    assert np.allclose(total, parts[primary] + with_gap["gap_kg_co2e"][primary], rtol=1e-9)
    assert (total >= parts[primary] * (1 - 1e-12) - 1e-9).all()
    assert (total >= without["cradle_to_gate_kg_co2e"][primary] * (1 - 1e-9) - 1e-9).all()
