"""The worked example of docs/footprint-method.md: its files solve to the table in the doc.

The table is read from the document, the network from its example files, and the numbers
are also recomputed by hand from the starter factors and the shipped BEA shares.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import spend_factors
from supplychain.footprint.cli import footprint

REPO = Path(__file__).resolve().parents[3]
DOC = REPO / "docs" / "footprint-method.md"
NODES = REPO / "docs" / "examples" / "footprint_hybrid_nodes.csv"
EDGES = REPO / "docs" / "examples" / "footprint_hybrid_edges.csv"
SHARES = REPO / "spend_factors" / "data" / "bea2007_intermediate_input_shares.csv"


def doc_table() -> pd.DataFrame:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- worked-example-table -->\n(.*?)<!-- /worked-example-table -->", text, re.S
    )
    assert block, "the worked example table is missing from the method document"
    lines = [ln.strip().strip("|") for ln in block.group(1).strip().splitlines()]
    header = [c.strip() for c in lines[0].split("|")]
    rows = [[c.strip() for c in ln.split("|")] for ln in lines[2:]]
    return pd.DataFrame(rows, columns=header).set_index("node")


def number(cell: str) -> float:
    return float(cell.replace(",", "")) if cell else float("nan")


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("worked") / "result.csv"
    args = ["solve", "--nodes", str(NODES), "--edges", str(EDGES), "--dataset", "starter"]
    res = CliRunner().invoke(footprint, [*args, "--out", str(out), "--samples", "0"])
    assert res.exit_code == 0, res.output
    return pd.read_csv(out, keep_default_na=False, na_values=[""])


def test_the_documented_table_is_what_the_files_solve_to(solved):
    table = doc_table()
    nodes = solved[solved["method"] != "scope3_cat1"].set_index("node_id")
    for node in ("mill", "trims", "maker"):
        row, got = table.loc[node], nodes.loc[node]
        assert got.own_part_kg_co2e == pytest.approx(number(row["own"]), abs=0.01)
        assert got.upstream_allocated_kg_co2e == pytest.approx(
            number(row["allocated upstream"]), abs=0.01
        )
        assert got.gap_kg_co2e == pytest.approx(number(row["gap"]), abs=0.01)
        assert got.gap_method == row["gap method"]
        assert got.cradle_to_gate_kg_co2e == pytest.approx(number(row["cradle-to-gate"]), abs=0.01)
        assert round(got.dq_score, 2) == number(row["DQ"])
    cat1 = solved[solved["method"] == "scope3_cat1"].iloc[0]
    brand = table.loc["brand (Category 1)"]
    assert cat1.cradle_to_gate_kg_co2e == pytest.approx(number(brand["cradle-to-gate"]), abs=0.01)
    assert round(cat1.dq_score, 2) == number(brand["DQ"])


def test_the_example_by_hand_from_the_starter_factors_and_bea_shares(solved):
    factors = spend_factors.load_dataset("starter").factors.set_index("code")["purchaser_factor"]
    shares = pd.read_csv(SHARES, dtype={"naics": str}).set_index("naics")
    share_326 = shares.loc["326", "intermediate_input_share"]
    spinner = 500_000 * factors["313110"]
    mill = 300_000 + spinner + (900_000 - spinner)  # disclosed upstream 900,000
    trims = 20_000 + 500_000 * share_326 * factors["326199"]  # sector default
    known_spend = 800_000 + 0.1 * 500_000  # mill's spend, trims' share × revenue
    maker = (
        100_000
        + 800_000 / 4_000_000 * mill
        + 0.1 * trims
        + (1_200_000 - known_spend) * factors["313210"]
    )
    got = solved.set_index(["node_id", "method"])["cradle_to_gate_kg_co2e"]
    assert got[("mill", "hybrid")] == pytest.approx(mill)
    assert got[("trims", "hybrid")] == pytest.approx(trims)
    assert got[("maker", "hybrid")] == pytest.approx(maker)
    assert got[("brand", "scope3_cat1")] == pytest.approx(0.5 * maker)
