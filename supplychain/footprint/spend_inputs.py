"""Adapter to the ``spend_factors`` layer: currency/price-year conversion and spend estimates.

This is the only module of the footprint engine that touches ``spend_factors``.  It turns
raw node/edge tables (amounts in their own currency and year, supplier sectors as NAICS
codes) into a :class:`FootprintNetwork` whose numbers share a basis: edge spend is converted
to the supplier's revenue currency and year (for ``spend / revenue`` allocation), and edges
that need a secondary estimate get ``spend × cradle-to-gate factor`` with its provenance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from .network import BRAND, FootprintNetwork

__all__ = [
    "FactorSource",
    "SpendFactorsSource",
    "StaticFactorSource",
    "SpendInputs",
    "network_from_tables",
]


class FactorSource(Protocol):
    """What the engine needs from a factor provider."""

    description: str

    def convert(
        self,
        amounts: np.ndarray,
        currency: np.ndarray,
        year: np.ndarray,
        to_currency: str,
        to_year: int,
    ) -> np.ndarray:
        """Amounts in ``to_currency`` at ``to_year`` prices."""

    def estimate(self, lines: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str, str, str]]]:
        """Spend-based kg CO2e per line and problems ``(line_id, column, value, rule)``."""


class SpendFactorsSource:
    """Factors and conversions from ``spend_factors`` (dataset loaded on first estimate)."""

    def __init__(
        self,
        dataset: str = "useeio",
        version: str | None = None,
        store_root: str | Path | None = None,
        price_basis: str = "purchaser",
    ) -> None:
        self.dataset_name = dataset
        self.version = version
        self.store_root = store_root
        self.price_basis = price_basis
        self._dataset = None

    @property
    def description(self) -> str:
        return f"{self.dataset_name} {self.version or 'latest'} ({self.price_basis} prices)"

    def _load(self):
        if self._dataset is None:
            import spend_factors

            self._dataset = spend_factors.load_dataset(
                self.dataset_name, self.version, store_root=self.store_root
            )
        return self._dataset

    def convert(
        self,
        amounts: np.ndarray,
        currency: np.ndarray,
        year: np.ndarray,
        to_currency: str,
        to_year: int,
    ) -> np.ndarray:
        import spend_factors

        out, _ = spend_factors.convert_money(
            np.asarray(amounts, dtype=float),
            np.asarray(currency, dtype=object),
            np.asarray(year, dtype=np.int64),
            to_currency,
            int(to_year),
        )
        return np.asarray(out, dtype=float)

    def estimate(self, lines: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str, str, str]]]:
        import spend_factors

        dataset = self._load()
        result = spend_factors.estimate(
            lines, dataset, price_basis=self.price_basis, errors="collect"
        )
        out = result.lines
        reference = (
            out["factor_dataset"].astype(str)
            + " "
            + out["factor_version"].astype(str)
            + " code "
            + out["factor_code"].astype(str)
            + "; "
            + out["conversions"].astype(str)
        )
        frame = pd.DataFrame(
            {
                "line_id": out["line_id"].to_numpy(),
                "kg_co2e": out["kg_co2e"].to_numpy(dtype=float),
                "dq_score": out["dq_score"].to_numpy(dtype=float),
                "uncertainty_pct": out["uncertainty_pct"].to_numpy(dtype=float),
                "factor_reference": reference.to_numpy(dtype=object),
            }
        )
        problems = [
            (str(p.line_id), str(p.column or ""), "" if p.value is None else str(p.value), p.rule)
            for p in result.errors
        ]
        return frame, problems


@dataclass
class StaticFactorSource:
    """Fixed factors per NAICS code and fixed exchange rates, e.g. for tests or offline runs.

    ``factors`` are kg CO2e per unit of ``currency``; ``rates`` give units of ``currency``
    per unit of another currency.  Price years are ignored.
    """

    factors: Mapping[str, float]
    currency: str = "USD"
    rates: Mapping[str, float] = field(default_factory=dict)
    dq_score: float = 3.0
    uncertainty_pct: float = 50.0
    description: str = "static factor table"

    def _to_base(self, currency: np.ndarray) -> np.ndarray:
        rate = {self.currency.upper(): 1.0, **{k.upper(): v for k, v in self.rates.items()}}
        out = np.array([rate.get(str(c).upper(), np.nan) for c in currency], dtype=float)
        if np.isnan(out).any():
            bad = sorted({str(c) for c, r in zip(currency, out, strict=True) if np.isnan(r)})
            raise KeyError(f"unknown currency {bad}")
        return out

    def convert(
        self,
        amounts: np.ndarray,
        currency: np.ndarray,
        year: np.ndarray,
        to_currency: str,
        to_year: int,
    ) -> np.ndarray:
        base = np.asarray(amounts, dtype=float) * self._to_base(np.asarray(currency, dtype=object))
        return base / self._to_base(np.array([to_currency], dtype=object))[0]

    def estimate(self, lines: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str, str, str]]]:
        problems = []
        kg = np.full(len(lines), np.nan)
        for pos, row in enumerate(lines.itertuples(index=False)):
            factor = self.factors.get(str(row.naics))
            if factor is None:
                problems.append((str(row.line_id), "naics", str(row.naics), "unknown code"))
                continue
            amount = self.convert(
                np.array([row.amount]), np.array([row.currency]), None, self.currency, 0
            )
            kg[pos] = float(amount[0]) * factor
        frame = pd.DataFrame(
            {
                "line_id": lines["line_id"].to_numpy(),
                "kg_co2e": kg,
                "dq_score": np.where(np.isnan(kg), np.nan, self.dq_score),
                "uncertainty_pct": np.where(np.isnan(kg), np.nan, self.uncertainty_pct),
                "factor_reference": [
                    f"{self.description} code {c}" for c in lines["naics"].astype(str)
                ],
            }
        )
        return frame, problems


@dataclass
class SpendInputs:
    """The network built from raw tables, with problems found on the way."""

    network: FootprintNetwork
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _text(series: pd.Series) -> np.ndarray:
    return series.fillna("").astype(str).str.strip().to_numpy(dtype=object)


def network_from_tables(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    source: FactorSource,
    edge_labels: list[str] | None = None,
    node_labels: list[str] | None = None,
) -> SpendInputs:
    """Put raw tables on a common basis and attach spend-based estimates where needed.

    ``nodes`` needs ``node_id, kind`` and may carry ``own_kg_co2e, revenue, currency, year,
    naics, uncertainty_pct, dq_score, scope2_kg_co2e``; ``edges`` needs ``supplier_id,
    customer_id`` and may carry ``share, spend, currency, year, pcf_kg_per_unit, quantity``.
    ``*_labels`` name each row in messages (e.g. ``"EDGES.csv line 5"``).
    """
    nodes = nodes.reset_index(drop=True).copy()
    edges = edges.reset_index(drop=True).copy()
    edge_labels = edge_labels or [f"edge {i + 1}" for i in range(len(edges))]
    node_labels = node_labels or [f"node {i + 1}" for i in range(len(nodes))]
    errors: list[str] = []
    warnings: list[str] = []
    for col in ("own_kg_co2e", "revenue", "year"):
        if col not in nodes:
            nodes[col] = np.nan
    for col in ("currency", "naics", "kind"):
        if col not in nodes:
            nodes[col] = ""
    for col in ("share", "spend", "pcf_kg_per_unit", "quantity", "year"):
        if col not in edges:
            edges[col] = np.nan
    if "currency" not in edges:
        edges["currency"] = ""

    pos = {nid: i for i, nid in enumerate(nodes["node_id"].astype(str))}
    sup = np.array([pos[s] for s in edges["supplier_id"].astype(str)], dtype=np.int64)
    cus = np.array([pos[c] for c in edges["customer_id"].astype(str)], dtype=np.int64)
    own = pd.to_numeric(nodes["own_kg_co2e"]).to_numpy(dtype=float)
    revenue = pd.to_numeric(nodes["revenue"]).to_numpy(dtype=float)
    rev_year = pd.to_numeric(nodes["year"]).to_numpy(dtype=float)
    rev_cur = _text(nodes["currency"])
    naics = _text(nodes["naics"])
    primary = np.isfinite(own) | (_text(nodes["kind"]) == BRAND)
    share = pd.to_numeric(edges["share"]).to_numpy(dtype=float)
    spend = pd.to_numeric(edges["spend"]).to_numpy(dtype=float)
    sp_year = pd.to_numeric(edges["year"]).to_numpy(dtype=float)
    sp_cur = _text(edges["currency"])
    has_pcf = np.isfinite(pd.to_numeric(edges["pcf_kg_per_unit"]).to_numpy(dtype=float)) & (
        np.isfinite(pd.to_numeric(edges["quantity"]).to_numpy(dtype=float))
    )

    # spend in the supplier's revenue currency and year, for spend / revenue allocation
    spend_basis = np.full(len(edges), np.nan)
    want_ratio = (
        primary[sup]
        & ~np.isfinite(share)
        & ~has_pcf
        & np.isfinite(spend)
        & np.isfinite(revenue[sup])
        & (rev_cur[sup] != "")
        & np.isfinite(rev_year[sup])
    )
    if want_ratio.any():
        groups = pd.DataFrame(
            {"cur": rev_cur[sup], "year": rev_year[sup], "edge": np.arange(len(edges))}
        )[want_ratio]
        for (to_cur, to_year), grp in groups.groupby(["cur", "year"]):
            idx = grp["edge"].to_numpy()
            try:
                spend_basis[idx] = source.convert(
                    spend[idx],
                    sp_cur[idx],
                    sp_year[idx].astype(np.int64),
                    str(to_cur),
                    int(to_year),
                )
            except (ValueError, KeyError, LookupError) as exc:
                where = ", ".join(edge_labels[i] for i in idx[:5])
                errors.append(f"{where}: cannot convert spend to {to_cur} {int(to_year)}: {exc}")

    # spend-based estimates where the supplier's own data cannot be used for the edge
    ratio_ok = np.isfinite(spend_basis)
    need = (
        primary[cus]
        & ~has_pcf
        & np.isfinite(spend)
        & (~primary[sup] | (~np.isfinite(share) & ~ratio_ok))
    )
    missing_sector = need & (naics[sup] == "")
    for i in np.flatnonzero(missing_sector):
        warnings.append(
            f"{edge_labels[i]}: supplier {edges['supplier_id'].iloc[i]} has no own data and "
            "no naics code, so its spend cannot be estimated"
        )
    need &= naics[sup] != ""
    spend_kg = np.full(len(edges), np.nan)
    spend_dq = np.full(len(edges), np.nan)
    spend_unc = np.full(len(edges), np.nan)
    reference = np.full(len(edges), "", dtype=object)
    if need.any():
        idx = np.flatnonzero(need)
        lines = pd.DataFrame(
            {
                "line_id": [edge_labels[i] for i in idx],
                "supplier_id": edges["supplier_id"].astype(str).to_numpy()[idx],
                "amount": spend[idx],
                "currency": sp_cur[idx],
                "year": sp_year[idx].astype(np.int64),
                "naics": naics[sup[idx]],
            }
        )
        try:
            frame, problems = source.estimate(lines)
        except Exception as exc:  # dataset missing, unreadable store, ...
            errors.append(f"spend-based factors from {source.description}: {exc}")
        else:
            spend_kg[idx] = frame["kg_co2e"].to_numpy(dtype=float)
            spend_dq[idx] = frame["dq_score"].to_numpy(dtype=float)
            spend_unc[idx] = frame["uncertainty_pct"].to_numpy(dtype=float)
            reference[idx] = frame["factor_reference"].to_numpy(dtype=object)
            by_label = {edge_labels[i]: i for i in idx}
            for line_id, column, value, rule in problems:
                i = by_label.get(line_id)
                if column == "naics" and i is not None:
                    where = node_labels[sup[i]]
                    errors.append(f"{where}: naics {value!r}: {rule} ({source.description})")
                else:
                    errors.append(f"{line_id}: {column} {value!r}: {rule}")

    node_frame = nodes.rename(columns={"currency": "revenue_currency", "year": "revenue_year"})
    edge_frame = edges.rename(
        columns={"spend": "spend_reported", "currency": "spend_currency", "year": "spend_year"}
    )
    edge_frame["spend"] = spend_basis
    edge_frame["spend_kg_co2e"] = spend_kg
    edge_frame["spend_dq_score"] = spend_dq
    edge_frame["spend_uncertainty_pct"] = spend_unc
    edge_frame["factor_reference"] = reference
    network = FootprintNetwork.from_frames(node_frame, edge_frame)
    return SpendInputs(network=network, errors=errors, warnings=warnings)
