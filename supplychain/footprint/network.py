"""In-memory supply network for footprint propagation, its networkx model and validation.

``FootprintNetwork`` is the solver's input: plain node and edge tables with the numbers
already in a common basis (spend in the supplier's revenue currency and year, spend-based
estimates in kg CO2e).  It can be built from DataFrames, lists of dicts or a networkx
``DiGraph`` in which an edge ``k → i`` means *k supplies i*.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

__all__ = [
    "BRAND",
    "SUPPLIER",
    "EDGE_COLUMNS",
    "NODE_COLUMNS",
    "FootprintNetwork",
    "ValidationReport",
    "build_graph",
    "validate_graph",
]

BRAND = "brand"
SUPPLIER = "supplier"

#: node column -> default (NaN means "unknown")
NODE_COLUMNS: dict[str, Any] = {
    "node_id": None,
    "kind": SUPPLIER,
    "own_kg_co2e": np.nan,  # reported Scope 1 + 2 (market-based); blank when unknown
    "scope2_kg_co2e": np.nan,  # market-based Scope 2 part of own_kg_co2e, for scenarios
    "revenue": np.nan,  # in the currency/year that edge spend is expressed in for this supplier
    "dq_score": np.nan,  # 1 best .. 5 worst, of the own emissions
    "uncertainty_pct": np.nan,  # ± % (95 % half-width) of the own emissions
    "naics": "",
    # the supplier's other purchases (GHG Protocol hybrid method), see docs/footprint-method.md
    "upstream_kg_co2e": np.nan,  # disclosed upstream Scope 3 Category 1 (purchased goods)
    "purchased_spend": np.nan,  # disclosed purchased goods and services, in currency/year
    "purchased_naics": "",  # sector of those purchases (blank: the node's own naics)
    "gap_estimate_kg_co2e": np.nan,  # spend-based estimate of purchases outside the network
    "gap_estimate_method": "",  # "purchased-spend" or "hybrid-estimated-upstream"
    "gap_dq_score": np.nan,
    "gap_uncertainty_pct": np.nan,
    "gap_spend": np.nan,  # the spend that gap_estimate_kg_co2e was estimated from
    "gap_factor_codes": "",  # ";"-joined factor codes behind gap_estimate_kg_co2e
    "gap_factor_reference": "",
}

#: edge column -> default
EDGE_COLUMNS: dict[str, Any] = {
    "supplier_id": None,
    "customer_id": None,
    "share": np.nan,  # allocation share reported by the supplier for this customer
    "share_method": "",  # how the supplier allocated: revenue, physical, ...
    "spend": np.nan,  # what the customer paid, in the supplier's revenue currency/year
    "spend_kg_co2e": np.nan,  # spend × cradle-to-gate factor of the supplier's sector
    "spend_dq_score": np.nan,
    "spend_uncertainty_pct": np.nan,
    "factor_reference": "",  # dataset/version/code/conversions behind spend_kg_co2e
    "factor_codes": "",  # ";"-joined factor codes behind spend_kg_co2e
    "line_ids": "",  # ";"-joined ledger lines behind spend_kg_co2e (stored runs)
    "pcf_kg_per_unit": np.nan,  # product carbon footprint per declared unit
    "quantity": np.nan,  # declared units bought
    "pcf_supplier_specific": True,  # False: an average (secondary) per-unit factor
    "pcf_dq_score": np.nan,
    "pcf_uncertainty_pct": np.nan,
}

_NODE_NUMERIC = [
    "own_kg_co2e",
    "scope2_kg_co2e",
    "revenue",
    "dq_score",
    "uncertainty_pct",
    "upstream_kg_co2e",
    "purchased_spend",
    "gap_estimate_kg_co2e",
    "gap_dq_score",
    "gap_uncertainty_pct",
    "gap_spend",
]
_NODE_TEXT = [
    "naics",
    "purchased_naics",
    "gap_estimate_method",
    "gap_factor_codes",
    "gap_factor_reference",
]
_EDGE_TEXT = ["share_method", "factor_reference", "factor_codes", "line_ids"]
_EDGE_NUMERIC = [
    "share",
    "spend",
    "spend_kg_co2e",
    "spend_dq_score",
    "spend_uncertainty_pct",
    "pcf_kg_per_unit",
    "quantity",
    "pcf_dq_score",
    "pcf_uncertainty_pct",
]


def _normalise(frame: pd.DataFrame, columns: dict[str, Any], numeric: list[str]) -> pd.DataFrame:
    """Add missing columns with defaults and coerce the numeric ones to float."""
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for col, default in columns.items():
        if col in frame.columns:
            out[col] = frame[col].to_numpy()
        else:
            out[col] = [default] * len(frame)
    for col in numeric:
        out[col] = pd.to_numeric(out[col], errors="raise").astype(float)
    for col in frame.columns:  # keep caller extras (e.g. currency, year) for provenance
        if col not in out.columns:
            out[col] = frame[col].to_numpy()
    return out


@dataclass
class FootprintNetwork:
    """Nodes (organisations) and edges (supplier → customer) with the numbers the solver needs.

    ``nodes`` has one row per organisation (columns of :data:`NODE_COLUMNS`), ``edges`` one
    row per supplier → customer relation (columns of :data:`EDGE_COLUMNS` plus the integer
    positions ``supplier`` and ``customer``).
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    name: str = ""

    @classmethod
    def from_frames(
        cls, nodes: pd.DataFrame, edges: pd.DataFrame | None = None, name: str = ""
    ) -> FootprintNetwork:
        """Build from tables; missing optional columns get their defaults."""
        node_tab = _normalise(nodes, NODE_COLUMNS, _NODE_NUMERIC)
        node_tab["node_id"] = node_tab["node_id"].astype(str)
        node_tab["kind"] = node_tab["kind"].fillna(SUPPLIER).astype(str).str.lower()
        for col in _NODE_TEXT:
            node_tab[col] = node_tab[col].fillna("").astype(str)
        dup = node_tab["node_id"][node_tab["node_id"].duplicated()]
        if len(dup):
            raise ValueError(f"duplicate node ids: {sorted(set(dup))[:10]}")
        edges = edges if edges is not None else pd.DataFrame(columns=["supplier_id", "customer_id"])
        edge_tab = _normalise(edges, EDGE_COLUMNS, _EDGE_NUMERIC)
        edge_tab["supplier_id"] = edge_tab["supplier_id"].astype(str)
        edge_tab["customer_id"] = edge_tab["customer_id"].astype(str)
        for col in _EDGE_TEXT:
            edge_tab[col] = edge_tab[col].fillna("").astype(str)
        edge_tab["pcf_supplier_specific"] = (
            edge_tab["pcf_supplier_specific"].fillna(True).astype(bool)
        )
        position = pd.Series(np.arange(len(node_tab)), index=node_tab["node_id"])
        unknown = sorted(
            (set(edge_tab["supplier_id"]) | set(edge_tab["customer_id"])) - set(position.index)
        )
        if unknown:
            raise ValueError(f"edges reference unknown node ids: {unknown[:10]}")
        edge_tab["supplier"] = position.loc[edge_tab["supplier_id"]].to_numpy(dtype=np.int64)
        edge_tab["customer"] = position.loc[edge_tab["customer_id"]].to_numpy(dtype=np.int64)
        negative = [c for c in _NODE_NUMERIC if (node_tab[c] < 0).any()] + [
            c for c in _EDGE_NUMERIC if (edge_tab[c] < 0).any()
        ]
        if negative:
            raise ValueError(f"negative values in columns: {negative}")
        return cls(nodes=node_tab, edges=edge_tab, name=name)

    @classmethod
    def from_records(
        cls,
        nodes: Iterable[Mapping[str, Any]],
        edges: Iterable[Mapping[str, Any]] = (),
        name: str = "",
    ) -> FootprintNetwork:
        """Build from lists of dicts, e.g. rows fetched from a database."""
        edge_rows = list(edges)
        edge_frame = pd.DataFrame(edge_rows) if edge_rows else None
        return cls.from_frames(pd.DataFrame(list(nodes)), edge_frame, name=name)

    @classmethod
    def from_graph(cls, G: nx.DiGraph, name: str = "") -> FootprintNetwork:
        """Build from a DiGraph whose node/edge attributes use the column names."""
        nodes = pd.DataFrame([{"node_id": n, **attrs} for n, attrs in G.nodes(data=True)])
        edges = [{"supplier_id": k, "customer_id": i, **a} for k, i, a in G.edges(data=True)]
        return cls.from_records(nodes.to_dict("records"), edges, name=name)

    def to_graph(self) -> nx.DiGraph:
        """The networkx model: node and edge attributes are the table columns."""
        G = nx.DiGraph(name=self.name)
        for row in self.nodes.to_dict("records"):
            node_id = row.pop("node_id")
            G.add_node(node_id, **row)
        for row in self.edges.drop(columns=["supplier", "customer"]).to_dict("records"):
            G.add_edge(row.pop("supplier_id"), row.pop("customer_id"), **row)
        return G

    @property
    def node_ids(self) -> list[str]:
        return self.nodes["node_id"].tolist()

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def is_brand(self) -> np.ndarray:
        return (self.nodes["kind"] == BRAND).to_numpy()

    @property
    def has_primary_data(self) -> np.ndarray:
        """Nodes whose cradle-to-gate total is built from their own data and their suppliers."""
        return self.nodes["own_kg_co2e"].notna().to_numpy() | self.is_brand

    def copy(self) -> FootprintNetwork:
        return FootprintNetwork(self.nodes.copy(), self.edges.copy(), self.name)


def build_graph(nodes_df: pd.DataFrame, edges_df: pd.DataFrame) -> nx.DiGraph:
    """networkx model of the supply network (edge k → i: k supplies i)."""
    return FootprintNetwork.from_frames(nodes_df, edges_df).to_graph()


@dataclass
class ValidationReport:
    """Findings on a supply graph; ``errors`` block a solve, ``warnings`` do not."""

    self_loops: list[tuple[str, str]] = field(default_factory=list)
    over_allocated: dict[str, float] = field(default_factory=dict)
    nodes_without_data: list[str] = field(default_factory=list)
    strongly_connected_components: list[list[str]] = field(default_factory=list)
    closed_cycles: list[list[str]] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _num(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out


def validate_graph(G: nx.DiGraph) -> ValidationReport:
    """Check a supply graph before solving: self-loops, over-allocation, data gaps, cycles."""
    report = ValidationReport()
    report.brands = [n for n, k in G.nodes(data="kind") if str(k).lower() == BRAND]
    if not report.brands:
        report.warnings.append("no node has kind 'brand'; no Scope 3 total will be reported")

    report.self_loops = [(u, v) for u, v in nx.selfloop_edges(G)]
    for u, _ in report.self_loops:
        report.warnings.append(f"self-loop on {u}: a supplier supplying itself")

    for k in G.nodes:
        total = sum(s for s in (_num(a.get("share")) for a in G.succ[k].values()) if np.isfinite(s))
        if total > 1.0 + 1e-9:
            report.over_allocated[k] = total
            report.errors.append(
                f"supplier {k} allocates {total:.4g} (> 1) of its emissions to its customers"
            )

    for k, attrs in G.nodes(data=True):
        if str(attrs.get("kind", "")).lower() == BRAND or np.isfinite(
            _num(attrs.get("own_kg_co2e"))
        ):
            continue
        has_naics = bool(str(attrs.get("naics", "") or "").strip())
        usable = any(
            np.isfinite(_num(a.get("spend_kg_co2e")))
            or (has_naics and np.isfinite(_num(a.get("spend"))))
            or (
                np.isfinite(_num(a.get("pcf_kg_per_unit"))) and np.isfinite(_num(a.get("quantity")))
            )
            for a in G.succ[k].values()
        )
        if not usable:
            report.nodes_without_data.append(k)
            report.warnings.append(
                f"{k} has no own emissions and no spend, sector or product data on its sales"
            )

    for comp in nx.strongly_connected_components(G):
        if len(comp) < 2:
            continue
        members = sorted(comp, key=str)
        report.strongly_connected_components.append(members)
        inside = {
            k: sum(
                s
                for i, a in G.succ[k].items()
                if i in comp
                for s in [_num(a.get("share"))]
                if np.isfinite(s)
            )
            for k in comp
        }
        if all(v >= 1.0 - 1e-12 for v in inside.values()):
            report.closed_cycles.append(members)
            report.errors.append(
                f"supplier cycle {members} passes 100 % of its emissions around the cycle"
            )
    report.strongly_connected_components.sort(key=len, reverse=True)
    return report
