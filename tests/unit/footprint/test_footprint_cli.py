"""Tests of the ``footprint`` CLI group and the spend_factors adapter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from supplychain.footprint import solve_footprint
from supplychain.footprint.cli import footprint
from supplychain.footprint.spend_inputs import StaticFactorSource, network_from_tables

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"

NODES = """node_id,kind,own_kg_co2e,revenue,currency,year,naics,uncertainty_pct
brand,brand,500,1000000,USD,2023,,
t1,supplier,2000,400000,USD,2023,315210,10
t2,supplier,,,,,313210,
"""
EDGES = """supplier_id,customer_id,share,spend,currency,year
t1,brand,0.25,,,
t2,t1,,10000,USD,2023
"""
# t1 disclosed 50,000 USD of purchased goods and services (apparel contractor buying fabric)
GAP_NODES = """node_id,kind,own_kg_co2e,revenue,currency,year,naics,\
purchased_spend,purchased_naics,upstream_kg_co2e
brand,brand,500,1000000,USD,2023,,,,
t1,supplier,2000,400000,USD,2023,315210,50000,313210,
t2,supplier,,,,,313210,,,
"""


def run(tmp_path: Path, nodes: str = NODES, edges: str = EDGES, *extra: str):
    (tmp_path / "nodes.csv").write_text(nodes)
    (tmp_path / "edges.csv").write_text(edges)
    args = [
        "solve",
        "--nodes",
        str(tmp_path / "nodes.csv"),
        "--edges",
        str(tmp_path / "edges.csv"),
        "--dataset",
        "starter",
        "--out",
        str(tmp_path / "result.csv"),
        "--paths",
        str(tmp_path / "paths.csv"),
        "--samples",
        "300",
        "--seed",
        "3",
        *extra,
    ]
    return CliRunner().invoke(footprint, args)


def test_solve_writes_result_and_paths(tmp_path):
    res = run(tmp_path)
    assert res.exit_code == 0, res.output
    out = pd.read_csv(tmp_path / "result.csv")
    assert list(out.columns) == [
        "node_id",
        "method",
        "cradle_to_gate_kg_co2e",
        "dq_score",
        "primary_share",
        "ci95_low",
        "ci95_high",
        "own_part_kg_co2e",
        "upstream_allocated_kg_co2e",
        "gap_kg_co2e",
        "gap_method",
    ]
    rows = out.set_index(["node_id", "method"])
    t2 = rows.loc[("t2", "spend_based"), "cradle_to_gate_kg_co2e"]
    assert t2 > 0  # 10,000 USD 2023 at the starter broadwoven fabric factor
    # the supplier's sector is its main activity: DQ 3.5 (spend_factors "supplier" route)
    assert rows.loc[("t2", "spend_based"), "dq_score"] == pytest.approx(3.5)
    t1_row = rows.loc[("t1", "hybrid")]
    # t1 reports own emissions only: its other purchases are estimated from its sector
    assert t1_row.gap_method == "hybrid-estimated-upstream"
    assert t1_row.gap_kg_co2e > 0
    assert t1_row.upstream_allocated_kg_co2e == pytest.approx(t2)
    t1 = t1_row.cradle_to_gate_kg_co2e
    assert t1 == pytest.approx(2000 + t2 + t1_row.gap_kg_co2e)
    cat1 = rows.loc[("brand", "scope3_cat1")]
    assert cat1.cradle_to_gate_kg_co2e == pytest.approx(0.25 * t1)
    assert cat1.ci95_low < cat1.cradle_to_gate_kg_co2e < cat1.ci95_high
    paths = pd.read_csv(tmp_path / "paths.csv")
    assert set(paths["path"]) == {"brand <- t1", "brand <- t1 <- t2"}
    assert paths["contribution_kg_co2e"].sum() == pytest.approx(cat1.cradle_to_gate_kg_co2e)
    assert "Scope 3 Category 1" in res.output


def test_solve_uses_a_disclosed_purchased_spend(tmp_path):
    import spend_factors

    res = run(tmp_path, GAP_NODES)
    assert res.exit_code == 0, res.output
    assert "upstream gaps: purchased-spend 1" in res.output
    rows = pd.read_csv(tmp_path / "result.csv").set_index("node_id")
    t1, t2 = rows.loc["t1"], rows.loc["t2"]
    # 50,000 USD 2023 of purchases less 10,000 USD paid to t2, at the fabric factor,
    # converted and deflated like any ledger line (compare with t2's own 10,000 USD line)
    assert t1.gap_method == "purchased-spend"
    assert t1.gap_kg_co2e == pytest.approx(4 * t2.cradle_to_gate_kg_co2e)
    factor = spend_factors.load_dataset("starter").factors.set_index("code")
    assert t2.cradle_to_gate_kg_co2e > 10000 * 0.9 * factor.loc["313210", "purchaser_factor"]
    assert t1.dq_score == pytest.approx(
        (2000 * 2 + t2.cradle_to_gate_kg_co2e * 3.5 + t1.gap_kg_co2e * 3.0)
        / t1.cradle_to_gate_kg_co2e
    )
    assert t1.cradle_to_gate_kg_co2e == pytest.approx(
        2000 + t2.cradle_to_gate_kg_co2e + t1.gap_kg_co2e
    )


def test_deprecated_price_basis_still_works_with_a_notice(tmp_path):
    res = run(tmp_path, NODES, EDGES, "--price-basis", "purchaser")
    assert res.exit_code == 0, res.output
    assert "--price-basis purchaser means --margins include" in res.output
    first = pd.read_csv(tmp_path / "result.csv")
    res = run(tmp_path, NODES, EDGES, "--margins", "include")
    assert res.exit_code == 0 and "--price-basis is deprecated" not in res.output
    assert pd.read_csv(tmp_path / "result.csv").equals(first)


def test_solve_is_reproducible_with_seed(tmp_path):
    run(tmp_path)
    first = (tmp_path / "result.csv").read_text()
    run(tmp_path)
    assert (tmp_path / "result.csv").read_text() == first


def test_example_files_solve(tmp_path):
    res = CliRunner().invoke(
        footprint,
        [
            "solve",
            "--nodes",
            str(EXAMPLES / "footprint_nodes.csv"),
            "--edges",
            str(EXAMPLES / "footprint_edges.csv"),
            "--dataset",
            "starter",
            "--out",
            str(tmp_path / "r.csv"),
            "--samples",
            "200",
        ],
    )
    assert res.exit_code == 0, res.output
    out = pd.read_csv(tmp_path / "r.csv")
    assert (out["method"] == "scope3_cat1").sum() == 1
    assert "supplier cycles solved: 1" in res.output


@pytest.mark.parametrize(
    ("nodes", "edges", "expected"),
    [
        (NODES, EDGES.replace("0.25", "1.4"), ["edges.csv line 2", "share '1.4'", "above 1"]),
        (NODES, EDGES + "t1,ghost,0.1,,,\n", ["edges.csv line 4", "'ghost'", "not a node id"]),
        (NODES, EDGES.replace(",USD,2023\n", ",,2023\n"), ["edges.csv line 3", "currency"]),
        (NODES.replace("2000,", "-5,"), EDGES, ["nodes.csv line 3", "'-5'", "negative"]),
        (NODES.replace("2000,", "lots,"), EDGES, ["nodes.csv line 3", "'lots'", "not a number"]),
        (
            NODES,
            EDGES + "t1,t2,0.9,,,\n",
            ["edges.csv lines 2, 4", "'t1'", "above 1"],
        ),
        (NODES.replace("brand,brand", "brand,shop"), EDGES, ["nodes.csv line 2", "'shop'"]),
        (
            NODES.replace("t2,supplier,,,,,313210", "t2,supplier,,,,,999999"),
            EDGES,
            ["nodes.csv line 4", "'999999'"],
        ),
        (
            GAP_NODES.replace("50000,", "-5,"),
            EDGES,
            ["nodes.csv line 3", "purchased_spend '-5'", "negative"],
        ),
        (
            GAP_NODES.replace("USD,2023,315210,50000", ",2023,315210,50000").replace(
                "400000,", ","
            ),
            EDGES,
            ["nodes.csv line 3", "purchased_spend '50000'", "no currency"],
        ),
        (
            GAP_NODES.replace(",313210,\nt2", ",textiles,\nt2"),
            EDGES,
            ["nodes.csv line 3", "purchased_naics 'textiles'", "not a NAICS code"],
        ),
        (
            GAP_NODES.replace(",313210,\nt2", ",999999,\nt2"),
            EDGES,
            ["nodes.csv line 3 (t1)", "purchased_naics '999999'"],
        ),
        (
            GAP_NODES.replace("313210,\nt2", "313210,lots\nt2"),
            EDGES,
            ["nodes.csv line 3", "upstream_kg_co2e 'lots'", "not a number"],
        ),
    ],
    ids=[
        "share>1",
        "unknown-id",
        "missing-currency",
        "negative",
        "non-numeric",
        "shares-sum>1",
        "bad-kind",
        "unknown-naics",
        "negative-purchased-spend",
        "purchased-spend-without-currency",
        "purchased-naics-not-a-code",
        "unknown-purchased-naics",
        "non-numeric-upstream",
    ],
)
def test_bad_inputs_name_file_line_and_value(tmp_path, nodes, edges, expected):
    res = run(tmp_path, nodes, edges)
    assert res.exit_code != 0
    for fragment in expected:
        assert fragment in res.output, res.output
    assert not (tmp_path / "result.csv").exists()


def test_all_errors_are_reported_together(tmp_path):
    bad_nodes = NODES.replace("2000,", "-5,").replace("brand,brand", "brand,shop")
    bad_edges = EDGES + "t1,ghost,0.1,,,\n"
    res = run(tmp_path, bad_nodes, bad_edges)
    assert res.exit_code != 0
    assert res.output.count("error:") >= 3


def test_validate_command_lists_cycles(tmp_path):
    res = CliRunner().invoke(
        footprint,
        [
            "validate",
            "--nodes",
            str(EXAMPLES / "footprint_nodes.csv"),
            "--edges",
            str(EXAMPLES / "footprint_edges.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "cycle: mould-shop-kr, resin-maker-kr" in res.output


def test_adapter_converts_spend_to_revenue_basis_and_estimates_gaps():
    source = StaticFactorSource(factors={"313210": 0.5}, currency="USD", rates={"EUR": 1.1})
    nodes = pd.DataFrame(
        {
            "node_id": ["B", "mill", "loom"],
            "kind": ["brand", "supplier", "supplier"],
            "own_kg_co2e": [0.0, 1000.0, np.nan],
            "revenue": [np.nan, 100000.0, np.nan],
            "currency": ["", "USD", ""],
            "year": [np.nan, 2023, np.nan],
            "naics": ["", "", "313210"],
        }
    )
    edges = pd.DataFrame(
        {
            "supplier_id": ["mill", "loom"],
            "customer_id": ["B", "B"],
            "share": [np.nan, np.nan],
            "spend": [10000.0, 2000.0],
            "currency": ["EUR", "EUR"],
            "year": [2023, 2023],
        }
    )
    inputs = network_from_tables(nodes, edges, source)
    assert inputs.errors == []
    r = solve_footprint(inputs.network, samples=0)
    e = r.edges.set_index("supplier_id")
    assert e.loc["mill", "share_used"] == pytest.approx(11000 / 100000)
    assert e.loc["loom", "allocated_kg_co2e"] == pytest.approx(2000 * 1.1 * 0.5)
    assert r.total() == pytest.approx(0.11 * 1000 + 1100)


def test_result_csv_neutralises_formula_like_node_ids(tmp_path):
    import pandas as pd

    from supplychain.footprint.csv_io import write_csv

    out = tmp_path / "r.csv"
    write_csv(
        pd.DataFrame({"node_id": ["=HYPERLINK(1)", "@x", "plain"], "kg": [1.5, -2.0, 3.0]}), out
    )
    text = out.read_text()
    assert "'=HYPERLINK(1)" in text and "'@x" in text and ",-2" in text
