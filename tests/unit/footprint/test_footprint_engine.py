"""Tests of the allocation rules, attribution, uncertainty, hotspots and scenarios."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplychain.footprint import (
    FootprintInputError,
    FootprintNetwork,
    Override,
    build_graph,
    run_scenario,
    solve_footprint,
    validate_graph,
)


def net(nodes, edges):
    return FootprintNetwork.from_records(nodes, edges)


def chain():
    return net(
        [
            {"node_id": "brand", "kind": "brand", "own_kg_co2e": 10},
            {"node_id": "t1", "own_kg_co2e": 100},
            {"node_id": "t2", "own_kg_co2e": 1000},
            {"node_id": "t3", "own_kg_co2e": 5000},
        ],
        [
            {"supplier_id": "t1", "customer_id": "brand", "share": 0.5},
            {"supplier_id": "t2", "customer_id": "t1", "share": 0.2},
            {"supplier_id": "t3", "customer_id": "t2", "share": 0.1},
        ],
    )


def test_three_tier_chain_totals_and_brand_category_1():
    r = solve_footprint(chain(), samples=0)
    t3 = 5000
    t2 = 1000 + 0.1 * t3
    t1 = 100 + 0.2 * t2
    assert r.node("t2").cradle_to_gate_kg_co2e == pytest.approx(t2)
    assert r.node("t1").cradle_to_gate_kg_co2e == pytest.approx(t1)
    assert r.total("brand") == pytest.approx(0.5 * t1)
    assert r.node("brand").cradle_to_gate_kg_co2e == pytest.approx(10 + 0.5 * t1)
    assert list(r.nodes.set_index("node_id").loc[["t1", "t2", "t3"], "tier"]) == [1, 2, 3]
    assert (r.nodes["method"][r.nodes.node_id != "brand"] == "supplier_specific").all()
    assert r.brands["primary_share"].iloc[0] == pytest.approx(1.0)


def test_diamond_upstream_supplier_counted_once_per_allocated_path():
    n = net(
        [
            {"node_id": "B", "kind": "brand", "own_kg_co2e": 0},
            {"node_id": "L", "own_kg_co2e": 0},
            {"node_id": "R", "own_kg_co2e": 0},
            {"node_id": "U", "own_kg_co2e": 1000},
        ],
        [
            {"supplier_id": "U", "customer_id": "L", "share": 0.3},
            {"supplier_id": "U", "customer_id": "R", "share": 0.2},
            {"supplier_id": "L", "customer_id": "B", "share": 1.0},
            {"supplier_id": "R", "customer_id": "B", "share": 1.0},
        ],
    )
    r = solve_footprint(n, samples=0)
    assert r.total() == pytest.approx(300 + 200)  # never 2 × 1000, never 1000 + 500
    hot = r.hotspots.set_index("node_id")["contribution_kg_co2e"]
    assert hot["U"] == pytest.approx(500)
    assert set(r.paths["path"]) == {"B <- L <- U", "B <- R <- U"}


def test_two_node_cycle_analytic():
    s_ab, s_ba, e_a, e_b = 0.25, 0.4, 300.0, 700.0
    n = net(
        [
            {"node_id": "brand", "kind": "brand", "own_kg_co2e": 0},
            {"node_id": "a", "own_kg_co2e": e_a},
            {"node_id": "b", "own_kg_co2e": e_b},
        ],
        [
            {"supplier_id": "a", "customer_id": "b", "share": s_ab},
            {"supplier_id": "b", "customer_id": "a", "share": s_ba},
            {"supplier_id": "a", "customer_id": "brand", "share": 0.5},
        ],
    )
    r = solve_footprint(n, samples=0)
    t_a = (e_a + s_ba * e_b) / (1 - s_ab * s_ba)
    t_b = (e_b + s_ab * e_a) / (1 - s_ab * s_ba)
    assert r.node("a").cradle_to_gate_kg_co2e == pytest.approx(t_a, rel=1e-12)
    assert r.node("b").cradle_to_gate_kg_co2e == pytest.approx(t_b, rel=1e-12)
    assert r.total() == pytest.approx(0.5 * t_a)
    assert r.hotspots["contribution_kg_co2e"].sum() == pytest.approx(r.total())
    assert len(r.paths) <= 20 and r.paths["path"].is_unique  # cycles do not loop
    report = validate_graph(n.to_graph())
    assert report.strongly_connected_components == [["a", "b"]]


def test_spend_based_supplier_upstream_is_not_expanded():
    n = net(
        [
            {"node_id": "brand", "kind": "brand", "own_kg_co2e": 0},
            {"node_id": "sb", "naics": "325211"},
            {"node_id": "deep", "own_kg_co2e": 1e9},
        ],
        [
            {"supplier_id": "sb", "customer_id": "brand", "spend": 1000, "spend_kg_co2e": 800},
            {"supplier_id": "deep", "customer_id": "sb", "share": 0.9},
        ],
    )
    r = solve_footprint(n, samples=0)
    assert r.total() == pytest.approx(800)  # the factor already contains the upstream
    status = r.edges.set_index("supplier_id")["status"]
    assert status["deep"] == "covered_by_factor"
    assert status["sb"] == "spend_based"
    assert r.node("sb").method == "spend_based"
    assert r.brands["primary_share"].iloc[0] == pytest.approx(0.0)


def test_allocation_precedence_product_then_share_then_spend_ratio():
    n = net(
        [
            {"node_id": "B", "kind": "brand", "own_kg_co2e": 0},
            {"node_id": "p", "own_kg_co2e": 1000, "revenue": 10000},
            {"node_id": "q", "own_kg_co2e": 1000, "revenue": 10000},
            {"node_id": "r", "own_kg_co2e": 1000, "revenue": 10000},
        ],
        [
            # product footprint wins over share and spend
            {
                "supplier_id": "p",
                "customer_id": "B",
                "share": 0.5,
                "spend": 5000,
                "pcf_kg_per_unit": 2.0,
                "quantity": 30,
            },
            {"supplier_id": "q", "customer_id": "B", "share": 0.1, "spend": 5000},
            {"supplier_id": "r", "customer_id": "B", "spend": 2500, "spend_kg_co2e": 9999},
        ],
    )
    r = solve_footprint(n, samples=0)
    e = r.edges.set_index("supplier_id")
    assert e.loc["p", "status"] == "product" and e.loc["p", "allocated_kg_co2e"] == 60
    assert e.loc["q", "status"] == "allocated_share"
    assert e.loc["q", "allocated_kg_co2e"] == pytest.approx(100)
    assert e.loc["r", "status"] == "allocated_spend_ratio"
    assert e.loc["r", "allocated_kg_co2e"] == pytest.approx(250)
    assert r.total() == pytest.approx(60 + 100 + 250)


def test_hybrid_method_and_data_quality_weighting():
    n = net(
        [
            {"node_id": "B", "kind": "brand", "own_kg_co2e": 0},
            {"node_id": "t1", "own_kg_co2e": 300, "dq_score": 1},
            {"node_id": "x", "naics": "1"},
        ],
        [
            {"supplier_id": "t1", "customer_id": "B", "share": 1.0},
            {
                "supplier_id": "x",
                "customer_id": "t1",
                "spend_kg_co2e": 100,
                "spend_dq_score": 5,
            },
        ],
    )
    r = solve_footprint(n, samples=0)
    t1 = r.node("t1")
    assert t1.method == "hybrid"
    assert t1.dq_score == pytest.approx((300 * 1 + 100 * 5) / 400)
    assert t1.primary_share == pytest.approx(0.75)
    assert r.brands["dq_score"].iloc[0] == pytest.approx(2.0)


def test_over_allocation_is_an_error():
    n = net(
        [
            {"node_id": "B", "kind": "brand", "own_kg_co2e": 0},
            {"node_id": "C", "kind": "brand", "own_kg_co2e": 0},
            {"node_id": "s", "own_kg_co2e": 10},
        ],
        [
            {"supplier_id": "s", "customer_id": "B", "share": 0.8},
            {"supplier_id": "s", "customer_id": "C", "share": 0.4},
        ],
    )
    report = validate_graph(n.to_graph())
    assert not report.ok and report.over_allocated == {"s": pytest.approx(1.2)}
    with pytest.raises(FootprintInputError, match="s"):
        solve_footprint(n, samples=0)


def test_validation_reports_self_loops_missing_data_and_cycles():
    G = build_graph(
        __import__("pandas").DataFrame(
            {
                "node_id": ["B", "a", "b", "ghost"],
                "kind": ["brand", "supplier", "supplier", "supplier"],
                "own_kg_co2e": [0, 5, 5, np.nan],
            }
        ),
        __import__("pandas").DataFrame(
            {
                "supplier_id": ["a", "b", "a", "ghost", "b"],
                "customer_id": ["b", "a", "a", "a", "B"],
                "share": [1.0, 1.0, 0.0, np.nan, 0.0],
            }
        ),
    )
    report = validate_graph(G)
    assert report.self_loops == [("a", "a")]
    assert report.nodes_without_data == ["ghost"]
    assert report.strongly_connected_components == [["a", "b"]]
    assert report.closed_cycles == [["a", "b"]]  # a → b → a passes on 100 %
    assert not report.ok


def test_monte_carlo_interval_contains_estimate_and_is_reproducible():
    n = chain()
    r1 = solve_footprint(n, samples=2000, seed=42)
    r2 = solve_footprint(n, samples=2000, seed=42)
    r3 = solve_footprint(n, samples=2000, seed=43)
    b = r1.brands.iloc[0]
    assert b.ci95_low < b.scope3_cat1_kg_co2e < b.ci95_high
    nodes = r1.nodes
    assert (nodes.ci95_low <= nodes.cradle_to_gate_kg_co2e).all()
    assert (nodes.cradle_to_gate_kg_co2e <= nodes.ci95_high).all()
    assert r1.brands.equals(r2.brands)
    assert not r1.brands.equals(r3.brands)


def test_reported_uncertainty_widens_the_interval():
    tight = chain()
    wide = chain()
    wide.nodes.loc[wide.nodes.node_id == "t3", "uncertainty_pct"] = 80.0
    a = solve_footprint(tight, samples=2000, seed=1).brands.iloc[0]
    b = solve_footprint(wide, samples=2000, seed=1).brands.iloc[0]
    assert (b.ci95_high - b.ci95_low) > (a.ci95_high - a.ci95_low)


def test_scenario_renewable_electricity_and_disclosure():
    n = net(
        [
            {"node_id": "B", "kind": "brand", "own_kg_co2e": 0},
            {"node_id": "t1", "own_kg_co2e": 1000, "scope2_kg_co2e": 400},
            {"node_id": "y", "naics": "313210"},
        ],
        [
            {"supplier_id": "t1", "customer_id": "B", "share": 0.5},
            {"supplier_id": "y", "customer_id": "B", "share": 0.1, "spend_kg_co2e": 900},
        ],
    )
    cmp = run_scenario(
        n,
        [Override.renewable_electricity("t1"), {"node_id": "y", "own_kg_co2e": 2000}],
    )
    assert cmp.baseline.total() == pytest.approx(500 + 900)
    assert cmp.scenario.total() == pytest.approx(300 + 200)
    assert cmp.delta() == pytest.approx(500 - 1400)
    rows = cmp.nodes.set_index("node_id")
    assert rows.loc["t1", "delta_kg_co2e"] == pytest.approx(-400)
    assert rows.loc["y", "baseline_method"] == "spend_based"
    assert rows.loc["y", "scenario_method"] == "supplier_specific"
    assert cmp.totals["scenario_primary_share"].iloc[0] == pytest.approx(1.0)


@st.composite
def random_network(draw):
    n = draw(st.integers(2, 8))
    own = draw(st.lists(st.one_of(st.none(), st.floats(0, 1e5)), min_size=n, max_size=n))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(1, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
            unique=True,
            max_size=3 * n,
        )
    )
    nodes = [{"node_id": "n0", "kind": "brand", "own_kg_co2e": own[0] or 0.0}]
    nodes += [
        {"node_id": f"n{j}", "own_kg_co2e": np.nan if own[j] is None else own[j]}
        for j in range(1, n)
    ]
    per_supplier: dict[int, int] = {}
    for k, _ in pairs:
        per_supplier[k] = per_supplier.get(k, 0) + 1
    edges = []
    for k, i in pairs:
        w = draw(st.floats(0.0, 0.95))
        edges.append(
            {
                "supplier_id": f"n{k}",
                "customer_id": f"n{i}",
                "share": w / per_supplier[k],
                "spend_kg_co2e": draw(st.floats(0, 1e4)),
            }
        )
    return net(nodes, edges)


@settings(max_examples=60, deadline=None)
@given(random_network())
def test_conservation_and_attribution_on_random_networks(network):
    r = solve_footprint(network, samples=0, top_paths=5)
    nodes = r.nodes.set_index("node_id")
    out = r.edges.groupby("supplier_id")["allocated_kg_co2e"].sum()
    for k, total in out.items():
        if np.isfinite(nodes.loc[k, "own_kg_co2e"]):  # primary data: allocations ≤ total
            alloc = r.edges[
                (r.edges.supplier_id == k)
                & r.edges.status.isin(["allocated_share", "allocated_spend_ratio"])
            ]["allocated_kg_co2e"].sum()
            assert alloc <= nodes.loc[k, "cradle_to_gate_kg_co2e"] * (1 + 1e-9) + 1e-6
        assert total >= 0
    assert r.hotspots["contribution_kg_co2e"].sum() == pytest.approx(r.total(), rel=1e-8, abs=1e-6)
    if len(r.paths):
        assert r.paths["contribution_kg_co2e"].is_monotonic_decreasing
        assert r.paths["contribution_kg_co2e"].max() <= r.total() * (1 + 1e-9) + 1e-9


@settings(max_examples=40, deadline=None)
@given(random_network(), st.floats(0.01, 100))
def test_scaling_all_emission_inputs_scales_outputs(network, factor):
    base = solve_footprint(network, samples=0)
    scaled = network.copy()
    scaled.nodes["own_kg_co2e"] *= factor
    scaled.edges["spend_kg_co2e"] *= factor
    r = solve_footprint(scaled, samples=0)
    assert r.total() == pytest.approx(factor * base.total(), rel=1e-9, abs=1e-9)
    a = base.nodes["cradle_to_gate_kg_co2e"].to_numpy() * factor
    b = r.nodes["cradle_to_gate_kg_co2e"].to_numpy()
    assert np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True)


@settings(max_examples=40, deadline=None)
@given(random_network(), st.integers(0, 7), st.integers(0, 7))
def test_zero_share_or_zero_spend_edge_changes_nothing(network, k, i):
    n = network.n_nodes
    k, i = k % n, i % n
    ids = network.node_ids
    existing = set(zip(network.edges.supplier_id, network.edges.customer_id, strict=True))
    if k == i or (ids[k], ids[i]) in existing:
        return
    base = solve_footprint(network, samples=0)
    edges = network.edges.drop(columns=["supplier", "customer"]).to_dict("records")
    edges.append({"supplier_id": ids[k], "customer_id": ids[i], "share": 0.0, "spend_kg_co2e": 0.0})
    extended = FootprintNetwork.from_records(network.nodes.to_dict("records"), edges)
    r = solve_footprint(extended, samples=0)
    assert r.total() == pytest.approx(base.total(), rel=1e-12, abs=1e-12)
    assert np.allclose(
        r.nodes["cradle_to_gate_kg_co2e"],
        base.nodes["cradle_to_gate_kg_co2e"],
        rtol=1e-12,
        atol=1e-12,
        equal_nan=True,
    ) or (
        # a zero edge may give a silent node an (all-zero) estimate: values then 0, not NaN
        np.allclose(
            np.nan_to_num(r.nodes["cradle_to_gate_kg_co2e"]),
            np.nan_to_num(base.nodes["cradle_to_gate_kg_co2e"]),
        )
    )


def test_engine_and_hotspots_share_the_model_module_without_importing_each_other():
    import ast
    from pathlib import Path

    from supplychain.footprint import engine, hotspots, model

    def imported(module) -> set[str]:
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}

    assert "engine" not in imported(hotspots)
    assert "model" in imported(hotspots) and "model" in imported(engine)
    assert engine._assemble is model._assemble and hotspots._Model is model._Model


def test_a_closed_cycle_is_named_by_its_organisations():
    from supplychain.footprint.solver import ClosedCycleError

    n = net(
        [
            {"node_id": "brand", "kind": "brand", "own_kg_co2e": 0},
            {"node_id": "resin-co", "own_kg_co2e": 10},
            {"node_id": "mould-co", "own_kg_co2e": 20},
            {"node_id": "buyer", "own_kg_co2e": 5},
        ],
        [  # resin and mould pass 100 % of their totals to each other: no finite total
            {"supplier_id": "resin-co", "customer_id": "mould-co", "share": 1.0},
            {"supplier_id": "mould-co", "customer_id": "resin-co", "share": 1.0},
            {"supplier_id": "buyer", "customer_id": "brand", "share": 1.0},
        ],
    )
    with pytest.raises(ClosedCycleError, match="resin-co") as caught:
        solve_footprint(n, samples=0)
    assert "mould-co" in str(caught.value) and "node indices" not in str(caught.value)
