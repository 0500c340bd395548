"""What-if scenarios: re-solve the network with overrides and compare with the baseline.

Typical overrides: a supplier at 100 % renewable electricity (market-based Scope 2 set to 0),
or a supplier that replaces its spend-based estimate with its own disclosure (own emissions,
optionally allocation shares per customer and its disclosed upstream purchased goods and
services, which fill its upstream gap).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .engine import FootprintResult, solve_footprint
from .network import FootprintNetwork

__all__ = ["Override", "ScenarioComparison", "apply_overrides", "run_scenario"]


@dataclass(frozen=True)
class Override:
    """A change to one node; ``None`` fields are left as they are."""

    node_id: str
    own_kg_co2e: float | None = None  # new own Scope 1 + 2 (e.g. a fresh disclosure)
    scope2_kg_co2e: float | None = None  # new market-based Scope 2 (0 = 100 % renewable)
    revenue: float | None = None
    shares: Mapping[str, float] | None = None  # customer_id -> reported allocation share
    upstream_kg_co2e: float | None = None  # disclosed upstream purchased goods and services
    dq_score: float | None = None
    uncertainty_pct: float | None = None
    label: str = ""

    @classmethod
    def renewable_electricity(cls, node_id: str) -> Override:
        """The supplier buys 100 % renewable electricity: market-based Scope 2 becomes 0."""
        return cls(node_id=node_id, scope2_kg_co2e=0.0, label=f"{node_id} 100 % renewable")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Override:
        """Build from a plain dict (e.g. parsed JSON/YAML)."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown override fields: {sorted(unknown)}")
        return cls(**dict(data))


def apply_overrides(
    network: FootprintNetwork, overrides: Iterable[Override | Mapping[str, Any]]
) -> FootprintNetwork:
    """A copy of the network with the overrides applied in order."""
    out = network.copy()
    nodes, edges = out.nodes, out.edges
    position = {nid: i for i, nid in enumerate(nodes["node_id"])}
    for item in overrides:
        ov = item if isinstance(item, Override) else Override.from_mapping(item)
        if ov.node_id not in position:
            raise KeyError(f"override for unknown node {ov.node_id!r}")
        row = position[ov.node_id]
        loc = nodes.index[row]
        if ov.own_kg_co2e is not None:
            nodes.loc[loc, "own_kg_co2e"] = float(ov.own_kg_co2e)
        if ov.scope2_kg_co2e is not None:
            own = nodes.loc[loc, "own_kg_co2e"]
            old = nodes.loc[loc, "scope2_kg_co2e"]
            if not np.isfinite(own) or not np.isfinite(old):
                raise ValueError(
                    f"{ov.node_id}: a Scope 2 override needs known own emissions and Scope 2"
                )
            nodes.loc[loc, "own_kg_co2e"] = max(0.0, own - old + float(ov.scope2_kg_co2e))
            nodes.loc[loc, "scope2_kg_co2e"] = float(ov.scope2_kg_co2e)
        if ov.revenue is not None:
            nodes.loc[loc, "revenue"] = float(ov.revenue)
        if ov.dq_score is not None:
            nodes.loc[loc, "dq_score"] = float(ov.dq_score)
        if ov.uncertainty_pct is not None:
            nodes.loc[loc, "uncertainty_pct"] = float(ov.uncertainty_pct)
        if ov.upstream_kg_co2e is not None:
            nodes.loc[loc, "upstream_kg_co2e"] = float(ov.upstream_kg_co2e)
        for customer, share in (ov.shares or {}).items():
            mask = (edges["supplier_id"] == ov.node_id) & (edges["customer_id"] == customer)
            if not mask.any():
                raise KeyError(f"override share for unknown edge {ov.node_id} → {customer}")
            edges.loc[mask, "share"] = float(share)
    return out


@dataclass
class ScenarioComparison:
    """Baseline and scenario results with per-node and per-brand differences."""

    baseline: FootprintResult
    scenario: FootprintResult
    nodes: pd.DataFrame
    totals: pd.DataFrame
    overrides: list[Override] = field(default_factory=list)

    def delta(self, brand_id: str | None = None) -> float:
        """Scenario minus baseline Scope 3 Category 1 of one brand."""
        frame = self.totals if brand_id is None else self.totals[self.totals.brand_id == brand_id]
        return float(frame["delta_kg_co2e"].iloc[0])


def _diff(base: pd.Series, new: pd.Series) -> tuple[pd.Series, pd.Series]:
    delta = new - base
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(base != 0, 100.0 * delta / base, np.nan)
    return delta, pd.Series(pct, index=delta.index)


def run_scenario(
    network: FootprintNetwork,
    overrides: Iterable[Override | Mapping[str, Any]],
    samples: int = 0,
    seed: int | None = 0,
    baseline: FootprintResult | None = None,
) -> ScenarioComparison:
    """Solve the network with and without the overrides and tabulate the differences."""
    items = [o if isinstance(o, Override) else Override.from_mapping(o) for o in overrides]
    base = baseline or solve_footprint(network, samples=samples, seed=seed)
    changed = solve_footprint(apply_overrides(network, items), samples=samples, seed=seed)

    b = base.nodes.set_index("node_id")
    s = changed.nodes.set_index("node_id")
    node_delta, node_pct = _diff(b["cradle_to_gate_kg_co2e"], s["cradle_to_gate_kg_co2e"])
    nodes = pd.DataFrame(
        {
            "node_id": b.index,
            "baseline_method": b["method"].to_numpy(),
            "scenario_method": s["method"].to_numpy(),
            "baseline_kg_co2e": b["cradle_to_gate_kg_co2e"].to_numpy(),
            "scenario_kg_co2e": s["cradle_to_gate_kg_co2e"].to_numpy(),
            "delta_kg_co2e": node_delta.to_numpy(),
            "delta_pct": node_pct.to_numpy(),
            "baseline_dq_score": b["dq_score"].to_numpy(),
            "scenario_dq_score": s["dq_score"].to_numpy(),
        }
    )
    bt = base.brands.set_index("brand_id")
    st = changed.brands.set_index("brand_id")
    tot_delta, tot_pct = _diff(bt["scope3_cat1_kg_co2e"], st["scope3_cat1_kg_co2e"])
    totals = pd.DataFrame(
        {
            "brand_id": bt.index,
            "baseline_kg_co2e": bt["scope3_cat1_kg_co2e"].to_numpy(),
            "scenario_kg_co2e": st["scope3_cat1_kg_co2e"].to_numpy(),
            "delta_kg_co2e": tot_delta.to_numpy(),
            "delta_pct": tot_pct.to_numpy(),
            "baseline_primary_share": bt["primary_share"].to_numpy(),
            "scenario_primary_share": st["primary_share"].to_numpy(),
        }
    )
    return ScenarioComparison(
        baseline=base, scenario=changed, nodes=nodes, totals=totals, overrides=items
    )
