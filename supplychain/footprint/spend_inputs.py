"""Adapter to the ``spend_factors`` layer: currency/price-year conversion and spend estimates.

This is the only module of the footprint engine that touches ``spend_factors``.  It turns
raw node/edge tables (amounts in their own currency and year, sectors as NAICS codes) into a
:class:`FootprintNetwork` whose numbers share a basis:

* edge spend is converted to the supplier's revenue currency and year (for ``spend /
  revenue`` allocation);
* edges that need a secondary estimate get ``spend × cradle-to-gate factor`` with its
  provenance, unless the caller already estimated them (a finite ``spend_kg_co2e``);
* every supplier with own emissions but no disclosed upstream gets a spend-based estimate
  of its purchases outside the network (the upstream gap of the GHG Protocol hybrid
  method): from its disclosed ``purchased_spend``, or else from its revenue and its
  sector's intermediate-input share (BEA 2007 benchmark, shipped as a cited table).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from .model import DEFAULT_DQ, GAP_ESTIMATED, GAP_PURCHASED, GAP_UNCERTAINTY_PCT
from .network import BRAND, FootprintNetwork

__all__ = [
    "INTERMEDIATE_SHARES_FILE",
    "FactorSource",
    "SpendFactorsSource",
    "SpendInputs",
    "StaticFactorSource",
    "intermediate_input_share",
    "network_from_tables",
]

#: BEA 2007 intermediate inputs / gross output by NAICS subsector and sector (spend_factors/data)
INTERMEDIATE_SHARES_FILE = "bea2007_intermediate_input_shares.csv"
_SECTORS = {"31": "31-33", "32": "31-33", "33": "31-33", "44": "44-45", "45": "44-45"}
_SECTORS |= {"48": "48-49", "49": "48-49"}

#: a problem found by a factor source: ``(line_id, column, value, rule)``
Problem = tuple[str, str, str, str]


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

    def estimate(self, lines: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
        """Spend-based kg CO2e per line and the problems found.

        ``lines`` has ``line_id, supplier_id, amount, currency, year`` and the sector either
        in ``naics`` (a stated sector) or in ``supplier_naics`` (the supplier's main
        activity). The frame has ``line_id, kg_co2e, dq_score, uncertainty_pct,
        factor_code, factor_reference``, one row per line in order.
        """


class SpendFactorsSource:
    """Factors and conversions from ``spend_factors`` (dataset loaded on first estimate).

    ``margins`` is ``"include"`` (default; the factor for spend at purchaser prices) or
    ``"exclude"``; ``price_basis`` is its old name ("purchaser"/"producer").
    """

    def __init__(
        self,
        dataset: str = "useeio",
        version: str | None = None,
        store_root: str | Path | None = None,
        margins: str | None = "include",
        *,
        price_basis: str | None = None,
    ) -> None:
        import spend_factors

        self.dataset_name = dataset
        self.version = version
        self.store_root = store_root
        self.margins = spend_factors.margins_option(price_basis if price_basis else margins)
        self._dataset = None

    @property
    def price_basis(self) -> str:
        """The old name of :attr:`margins`, for callers written before it."""
        return self.margins

    @property
    def description(self) -> str:
        margins = "with" if self.margins == "include" else "without"
        return f"{self.dataset_name} {self.version or 'latest'} ({margins} margins)"

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

    def estimate(self, lines: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
        import spend_factors

        dataset = self._load()
        if "margins" in inspect.signature(spend_factors.estimate).parameters:
            option = {"margins": self.margins}
        else:  # spend_factors before the margins option
            option = {"price_basis": "purchaser" if self.margins == "include" else "producer"}
        result = spend_factors.estimate(lines, dataset, errors="collect", **option)
        out = result.lines
        code = out["factor_code"].astype(object).where(out["factor_code"].notna(), "")
        reference = (
            out["factor_dataset"].astype(str)
            + " "
            + out["factor_version"].astype(str)
            + " code "
            + code.astype(str)
            + "; "
            + out["conversions"].astype(str)
        )
        frame = pd.DataFrame(
            {
                "line_id": out["line_id"].to_numpy(),
                "kg_co2e": out["kg_co2e"].to_numpy(dtype=float),
                "dq_score": out["dq_score"].to_numpy(dtype=float),
                "uncertainty_pct": out["uncertainty_pct"].to_numpy(dtype=float),
                "factor_code": code.astype(str).to_numpy(dtype=object),
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
    per unit of another currency.  Price years are ignored. Lines whose sector is a stated
    one (``naics``) get ``dq_score``, lines classified from the supplier's main activity
    (``supplier_naics``) get ``main_activity_dq_score``, as in ``spend_factors``.
    """

    factors: Mapping[str, float]
    currency: str = "USD"
    rates: Mapping[str, float] = field(default_factory=dict)
    dq_score: float = 3.0
    main_activity_dq_score: float = 3.5
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

    def estimate(self, lines: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
        problems: list[Problem] = []
        n = len(lines)
        stated = _column(lines, "naics")
        main = _column(lines, "supplier_naics")
        code = np.where(stated != "", stated, main)
        kg = np.full(n, np.nan)
        for pos, row in enumerate(lines.itertuples(index=False)):
            factor = self.factors.get(str(code[pos]))
            if factor is None:
                column = "naics" if stated[pos] != "" else "supplier_naics"
                problems.append((str(row.line_id), column, str(code[pos]), "unknown code"))
                continue
            amount = self.convert(
                np.array([row.amount]), np.array([row.currency]), None, self.currency, 0
            )
            kg[pos] = float(amount[0]) * factor
        dq = np.where(stated != "", self.dq_score, self.main_activity_dq_score)
        frame = pd.DataFrame(
            {
                "line_id": lines["line_id"].to_numpy(),
                "kg_co2e": kg,
                "dq_score": np.where(np.isnan(kg), np.nan, dq),
                "uncertainty_pct": np.where(np.isnan(kg), np.nan, self.uncertainty_pct),
                "factor_code": np.where(np.isnan(kg), "", code).astype(object),
                "factor_reference": [f"{self.description} code {c}" for c in code],
            }
        )
        return frame, problems


@dataclass
class SpendInputs:
    """The network built from raw tables, with problems found on the way."""

    network: FootprintNetwork
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _intermediate_table() -> dict[str, float]:
    source = resources.files("spend_factors.data") / INTERMEDIATE_SHARES_FILE
    with resources.as_file(source) as path:
        frame = pd.read_csv(path, dtype={"naics": str})
    return dict(zip(frame["naics"], frame["intermediate_input_share"].astype(float), strict=True))


def intermediate_input_share(naics: str) -> tuple[float, str] | None:
    """Intermediate inputs / gross output of a NAICS code's sector, and the table row used.

    The 3-digit subsector's row when the table has it, else the 2-digit sector's (BEA 2007
    benchmark, see ``spend_factors/data/bea2007_intermediate_input_shares.csv``).
    """
    code = re.sub(r"\D", "", str(naics or ""))
    if len(code) < 2:
        return None
    table = _intermediate_table()
    for key in (code[:3], _SECTORS.get(code[:2], code[:2])):
        if key in table:
            return table[key], key
    return None


def _text(series: pd.Series) -> np.ndarray:
    return series.fillna("").astype(str).str.strip().to_numpy(dtype=object)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), "", dtype=object)
    return _text(frame[name])


def _numbers(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name]).to_numpy(dtype=float)


@dataclass
class _Tables:
    """The raw node and edge tables as arrays, parsed once, with the problems found."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    node_labels: list[str]
    edge_labels: list[str]
    sup: np.ndarray
    cus: np.ndarray
    own: np.ndarray
    revenue: np.ndarray
    node_cur: np.ndarray
    node_year: np.ndarray
    naics: np.ndarray
    purchased: np.ndarray
    purchased_naics: np.ndarray
    upstream: np.ndarray
    brand: np.ndarray
    primary: np.ndarray
    share: np.ndarray
    spend: np.ndarray
    edge_cur: np.ndarray
    edge_year: np.ndarray
    has_pcf: np.ndarray
    spend_kg_given: np.ndarray  # the caller's own estimate of an edge (NaN: none)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def parse(
        cls,
        nodes: pd.DataFrame,
        edges: pd.DataFrame,
        node_labels: list[str] | None,
        edge_labels: list[str] | None,
    ) -> _Tables:
        nodes = nodes.reset_index(drop=True).copy()
        edges = edges.reset_index(drop=True).copy()
        pos = {nid: i for i, nid in enumerate(nodes["node_id"].astype(str))}
        own = _numbers(nodes, "own_kg_co2e")
        brand = _column(nodes, "kind") == BRAND
        return cls(
            nodes=nodes,
            edges=edges,
            node_labels=node_labels or [f"node {i + 1}" for i in range(len(nodes))],
            edge_labels=edge_labels or [f"edge {i + 1}" for i in range(len(edges))],
            sup=np.array([pos[s] for s in edges["supplier_id"].astype(str)], dtype=np.int64),
            cus=np.array([pos[c] for c in edges["customer_id"].astype(str)], dtype=np.int64),
            own=own,
            revenue=_numbers(nodes, "revenue"),
            node_cur=_column(nodes, "currency"),
            node_year=_numbers(nodes, "year"),
            naics=_column(nodes, "naics"),
            purchased=_numbers(nodes, "purchased_spend"),
            purchased_naics=_column(nodes, "purchased_naics"),
            upstream=_numbers(nodes, "upstream_kg_co2e"),
            brand=brand,
            primary=np.isfinite(own) | brand,
            share=_numbers(edges, "share"),
            spend=_numbers(edges, "spend"),
            edge_cur=_column(edges, "currency"),
            edge_year=_numbers(edges, "year"),
            has_pcf=np.isfinite(_numbers(edges, "pcf_kg_per_unit"))
            & np.isfinite(_numbers(edges, "quantity")),
            spend_kg_given=_numbers(edges, "spend_kg_co2e"),
        )

    def node_id(self, i: int) -> str:
        return str(self.nodes["node_id"].iloc[i])


def _convert_to(
    source: FactorSource,
    amounts: np.ndarray,
    currency: np.ndarray,
    year: np.ndarray,
    to_currency: np.ndarray,
    to_year: np.ndarray,
    labels: list[str],
    what: str,
    errors: list[str],
) -> np.ndarray:
    """Amounts converted row by row to a target currency and year (NaN where impossible)."""
    out = np.full(len(amounts), np.nan)
    ok = (
        np.isfinite(amounts)
        & (currency != "")
        & np.isfinite(year)
        & (to_currency != "")
        & np.isfinite(to_year)
    )
    if not ok.any():
        return out
    rows = pd.DataFrame({"cur": to_currency, "year": to_year, "row": np.arange(len(amounts))})
    for (to_cur, to_yr), grp in rows[ok].groupby(["cur", "year"]):
        idx = grp["row"].to_numpy()
        try:
            out[idx] = source.convert(
                amounts[idx], currency[idx], year[idx].astype(np.int64), str(to_cur), int(to_yr)
            )
        except (ValueError, KeyError, LookupError) as exc:
            where = ", ".join(labels[i] for i in idx[:5])
            errors.append(f"{where}: cannot convert {what} to {to_cur} {int(to_yr)}: {exc}")
    return out


def _ratio_spend(t: _Tables, source: FactorSource) -> np.ndarray:
    """Edge spend in the supplier's revenue currency and year, for spend / revenue allocation."""
    want = (
        t.primary[t.sup]
        & ~np.isfinite(t.share)
        & ~t.has_pcf
        & np.isfinite(t.spend)
        & np.isfinite(t.revenue[t.sup])
    )
    spend = np.where(want, t.spend, np.nan)
    return _convert_to(
        source,
        spend,
        t.edge_cur,
        t.edge_year,
        t.node_cur[t.sup],
        t.node_year[t.sup],
        t.edge_labels,
        "spend",
        t.errors,
    )


@dataclass
class _Estimates:
    """Spend-based estimates of some rows (edges or nodes), NaN/blank where none."""

    kg: np.ndarray
    dq: np.ndarray
    unc: np.ndarray
    codes: np.ndarray
    reference: np.ndarray

    @classmethod
    def empty(cls, n: int) -> _Estimates:
        nan = np.full(n, np.nan)
        blank = np.full(n, "", dtype=object)
        return cls(nan.copy(), nan.copy(), nan.copy(), blank.copy(), blank.copy())


def _run_estimate(
    source: FactorSource,
    lines: pd.DataFrame,
    rows: np.ndarray,
    into: _Estimates,
    where: Callable[[int, str], tuple[str, str]],
    errors: list[str],
) -> None:
    """Estimate ``lines`` (one per entry of ``rows``) into ``into``; problems become errors.

    ``where(row, column)`` names a problem's row and column the way the user wrote them.
    """
    if not len(lines):
        return
    try:
        frame, problems = source.estimate(lines)
    except Exception as exc:  # dataset missing, unreadable store, ...
        errors.append(f"spend-based factors from {source.description}: {exc}")
        return
    into.kg[rows] = frame["kg_co2e"].to_numpy(dtype=float)
    into.dq[rows] = frame["dq_score"].to_numpy(dtype=float)
    into.unc[rows] = frame["uncertainty_pct"].to_numpy(dtype=float)
    codes = frame["factor_code"] if "factor_code" in frame else pd.Series("", index=frame.index)
    into.codes[rows] = codes.fillna("").astype(str).to_numpy(dtype=object)
    into.reference[rows] = frame["factor_reference"].fillna("").to_numpy(dtype=object)
    by_line = {str(line): int(row) for line, row in zip(lines["line_id"], rows, strict=True)}
    for line_id, column, value, rule in problems:
        row = by_line.get(line_id)
        label, name = where(row, column) if row is not None else (line_id, column)
        errors.append(f"{label}: {name} {value!r}: {rule} ({source.description})")


def _edge_estimates(t: _Tables, source: FactorSource, ratio_spend: np.ndarray) -> _Estimates:
    """Spend-based estimates where the supplier's own data cannot be used for the edge.

    Edges the caller already estimated (finite ``spend_kg_co2e``) keep that estimate and
    its data quality, uncertainty and factor provenance.
    """
    n = len(t.edges)
    out = _Estimates.empty(n)
    given = np.isfinite(t.spend_kg_given)
    out.kg[given] = t.spend_kg_given[given]
    for name, target in (("spend_dq_score", out.dq), ("spend_uncertainty_pct", out.unc)):
        target[given] = _numbers(t.edges, name)[given]
    out.codes[given] = _column(t.edges, "factor_codes")[given]
    out.reference[given] = _column(t.edges, "factor_reference")[given]

    need = (
        t.primary[t.cus]
        & ~t.has_pcf
        & np.isfinite(t.spend)
        & ~given
        & (~t.primary[t.sup] | (~np.isfinite(t.share) & ~np.isfinite(ratio_spend)))
    )
    for i in np.flatnonzero(need & (t.naics[t.sup] == "")):
        t.warnings.append(
            f"{t.edge_labels[i]}: supplier {t.edges['supplier_id'].iloc[i]} has no own data "
            "and no naics code, so its spend cannot be estimated"
        )
    idx = np.flatnonzero(need & (t.naics[t.sup] != ""))
    lines = pd.DataFrame(
        {
            "line_id": [t.edge_labels[i] for i in idx],
            "supplier_id": t.edges["supplier_id"].astype(str).to_numpy()[idx],
            "amount": t.spend[idx],
            "currency": t.edge_cur[idx],
            "year": t.edge_year[idx],
            "supplier_naics": t.naics[t.sup[idx]],  # the supplier's main activity
        }
    )

    def where(row: int, column: str) -> tuple[str, str]:
        if column == "supplier_naics":
            return t.node_labels[t.sup[row]], "naics"
        return t.edge_labels[row], column

    _run_estimate(source, lines, idx, out, where, t.errors)
    return out


@dataclass
class _Purchases:
    """Per node: the purchases whose upstream is estimated, in the node's money basis."""

    rule: np.ndarray  # GAP_PURCHASED, GAP_ESTIMATED or "" (no estimate)
    amount: np.ndarray
    currency: np.ndarray
    year: np.ndarray


def _sales_basis(t: _Tables, source: FactorSource, nodes: np.ndarray) -> tuple[np.ndarray, ...]:
    """What the network pays each node, in the currency/year of its first sale with spend."""
    n = len(t.nodes)
    currency = np.full(n, "", dtype=object)
    year = np.full(n, np.nan)
    total = np.full(n, np.nan)
    paid = np.flatnonzero(np.isin(t.sup, nodes) & np.isfinite(t.spend) & (t.edge_cur != ""))
    if not paid.size:
        return total, currency, year
    first = pd.Series(paid).groupby(t.sup[paid]).first()
    currency[first.index] = t.edge_cur[first.to_numpy()]
    year[first.index] = t.edge_year[first.to_numpy()]
    converted = _convert_to(
        source,
        t.spend[paid],
        t.edge_cur[paid],
        t.edge_year[paid],
        currency[t.sup[paid]],
        year[t.sup[paid]],
        [t.edge_labels[i] for i in paid],
        "spend",
        t.errors,
    )
    sums = np.bincount(t.sup[paid], weights=np.nan_to_num(converted), minlength=n)
    total[first.index] = sums[first.index]
    return total, currency, year


def _purchases(t: _Tables, source: FactorSource, gap_nodes: np.ndarray) -> _Purchases:
    """Disclosed purchased spend, or revenue (else network spend) × intermediate-input share."""
    n = len(t.nodes)
    rule = np.full(n, "", dtype=object)
    amount = np.full(n, np.nan)
    currency = t.node_cur.copy()
    year = t.node_year.copy()
    disclosed = gap_nodes & np.isfinite(t.purchased)
    rule[disclosed] = GAP_PURCHASED
    amount[disclosed] = t.purchased[disclosed]

    default = gap_nodes & ~disclosed
    with_revenue = np.isfinite(t.revenue) & (t.node_cur != "") & np.isfinite(t.node_year)
    sales, sales_cur, sales_year = _sales_basis(t, source, np.flatnonzero(default & ~with_revenue))
    found = {code: intermediate_input_share(code) for code in set(t.naics[default])}
    share = np.array([(found.get(c) or (np.nan, ""))[0] for c in t.naics], dtype=float)
    by_sales = default & ~with_revenue & np.isfinite(sales)
    currency[by_sales], year[by_sales] = sales_cur[by_sales], sales_year[by_sales]
    base = np.where(with_revenue, t.revenue, np.where(by_sales, sales, np.nan))
    estimated = default & np.isfinite(share) & np.isfinite(base)
    rule[estimated] = GAP_ESTIMATED
    amount[estimated] = base[estimated] * share[estimated]
    for i in np.flatnonzero(default & ~estimated):
        if not np.isfinite(share[i]):
            reason = (
                "no naics code"
                if t.naics[i] == ""
                else f"no intermediate-input share for naics {t.naics[i]!r}"
            )
        else:
            reason = "no revenue or spend from its customers"
        t.warnings.append(
            f"{t.node_labels[i]}: no upstream_kg_co2e or purchased_spend, and {reason}, so its "
            "purchases outside the network cannot be estimated"
        )
    return _Purchases(rule, amount, currency, year)


def _known_supplier_spend(
    t: _Tables, source: FactorSource, p: _Purchases, counted: np.ndarray
) -> np.ndarray:
    """Per node: what it spends on its suppliers in the network, in its money basis.

    An edge's spend, or else its share × the supplier's revenue; ``counted`` marks the
    edges whose emissions the network counts (edges with no usable data are left in the
    gap). Where neither amount is known, a warning says the gap may count it twice.
    """
    into = (p.rule[t.cus] != "") & counted
    by_spend = into & np.isfinite(t.spend)
    by_share = (
        into & ~by_spend & np.isfinite(t.share) & t.primary[t.sup] & np.isfinite(t.revenue[t.sup])
    )
    for i in np.flatnonzero(into & ~by_spend & ~by_share):
        t.warnings.append(
            f"{t.node_labels[t.cus[i]]}: spend on its supplier "
            f"{t.edges['supplier_id'].iloc[i]} is not known (no spend, and no share × revenue), "
            "so it is not subtracted from the purchases estimated outside the network"
        )
    amount = np.where(by_spend, t.spend, np.where(by_share, t.share * t.revenue[t.sup], np.nan))
    currency = np.where(by_spend, t.edge_cur, t.node_cur[t.sup])
    year = np.where(by_spend, t.edge_year, t.node_year[t.sup])
    converted = _convert_to(
        source,
        amount,
        currency,
        year,
        p.currency[t.cus],
        p.year[t.cus],
        t.edge_labels,
        "spend on a known supplier",
        t.errors,
    )
    return np.bincount(t.cus, weights=np.nan_to_num(converted), minlength=len(t.nodes))


def _gap_lines(t: _Tables, p: _Purchases, known: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """One spend line per node: its purchases less its spend on known suppliers."""
    rows = np.flatnonzero(p.rule != "")
    for i in rows[(p.rule[rows] == GAP_PURCHASED) & (known[rows] > p.amount[rows])]:
        t.warnings.append(
            f"{t.node_labels[i]}: spend on its suppliers in the network ({known[i]:,.0f} "
            f"{p.currency[i]}) exceeds its purchased_spend ({p.amount[i]:,.0f}); no gap is added"
        )
    stated = np.where(p.rule == GAP_PURCHASED, t.purchased_naics, "")
    main = np.where(stated == "", t.naics, "")
    blank = rows[(stated[rows] == "") & (main[rows] == "")]
    for i in blank:
        t.warnings.append(
            f"{t.node_labels[i]}: purchased_spend has no sector (no purchased_naics or naics), "
            "so its purchases outside the network cannot be estimated"
        )
    rows = np.setdiff1d(rows, blank)
    lines = pd.DataFrame(
        {
            "line_id": [f"{t.node_labels[i]} purchases" for i in rows],
            "supplier_id": [t.node_id(i) for i in rows],
            "amount": np.maximum(p.amount[rows] - known[rows], 0.0),
            "currency": p.currency[rows],
            "year": p.year[rows],
            "naics": stated[rows],  # a stated purchased sector
            "supplier_naics": main[rows],  # the node's own main activity
        }
    )
    return lines, rows


def _gap_estimates(
    t: _Tables, source: FactorSource, ratio_spend: np.ndarray, edge_kg: np.ndarray
) -> tuple[_Estimates, _Purchases, np.ndarray]:
    """Spend-based estimates of every reporting supplier's purchases outside the network."""
    n = len(t.nodes)
    for i in np.flatnonzero(np.isfinite(t.purchased) & (~t.primary | t.brand)):
        who = "a brand" if t.brand[i] else "a supplier without own emissions"
        t.warnings.append(f"{t.node_labels[i]}: purchased_spend is not used for {who}")
    gap_nodes = t.primary & ~t.brand & ~np.isfinite(t.upstream)
    p = _purchases(t, source, gap_nodes)
    counted = (
        t.has_pcf
        | (t.primary[t.sup] & (np.isfinite(t.share) | np.isfinite(ratio_spend)))
        | np.isfinite(edge_kg)
    )
    known = _known_supplier_spend(t, source, p, counted)
    lines, rows = _gap_lines(t, p, known)
    out = _Estimates.empty(n)

    def where(row: int, column: str) -> tuple[str, str]:
        names = {"naics": "purchased_naics", "supplier_naics": "naics"}
        amount = "purchased_spend" if p.rule[row] == GAP_PURCHASED else "revenue"
        return t.node_labels[row], names.get(column, amount if column == "amount" else column)

    _run_estimate(source, lines, rows, out, where, t.errors)
    estimated = p.rule == GAP_ESTIMATED
    out.dq[estimated] = DEFAULT_DQ["estimated_upstream"]
    floor = GAP_UNCERTAINTY_PCT[GAP_ESTIMATED]
    out.unc[estimated] = np.fmax(out.unc[estimated], floor)
    spend = np.full(n, np.nan)
    spend[rows] = lines["amount"].to_numpy(dtype=float)
    return out, p, spend


def network_from_tables(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    source: FactorSource,
    edge_labels: list[str] | None = None,
    node_labels: list[str] | None = None,
) -> SpendInputs:
    """Put raw tables on a common basis and attach spend-based estimates where needed.

    ``nodes`` needs ``node_id, kind`` and may carry ``own_kg_co2e, revenue, currency, year,
    naics, uncertainty_pct, dq_score, scope2_kg_co2e, purchased_spend, purchased_naics,
    upstream_kg_co2e`` (``currency``/``year`` are those of revenue and purchased spend);
    ``edges`` needs ``supplier_id, customer_id`` and may carry ``share, spend, currency,
    year, pcf_kg_per_unit, quantity`` and a caller's own estimate ``spend_kg_co2e`` (with
    ``spend_dq_score, spend_uncertainty_pct, factor_reference, factor_codes, line_ids``).
    ``*_labels`` name each row in messages (e.g. ``"EDGES.csv line 5"``).
    """
    if "supplier_id" not in edges or "customer_id" not in edges:
        edges = pd.DataFrame(columns=["supplier_id", "customer_id"])
    t = _Tables.parse(nodes, edges, node_labels, edge_labels)
    ratio_spend = _ratio_spend(t, source)
    edge_est = _edge_estimates(t, source, ratio_spend)
    gap_est, purchases, gap_spend = _gap_estimates(t, source, ratio_spend, edge_est.kg)

    node_frame = t.nodes.rename(columns={"currency": "revenue_currency", "year": "revenue_year"})
    node_frame["gap_estimate_kg_co2e"] = gap_est.kg
    node_frame["gap_estimate_method"] = np.where(np.isfinite(gap_est.kg), purchases.rule, "")
    node_frame["gap_dq_score"] = gap_est.dq
    node_frame["gap_uncertainty_pct"] = gap_est.unc
    node_frame["gap_spend"] = gap_spend
    node_frame["gap_spend_currency"] = np.where(np.isfinite(gap_spend), purchases.currency, "")
    node_frame["gap_spend_year"] = np.where(np.isfinite(gap_spend), purchases.year, np.nan)
    node_frame["gap_factor_codes"] = gap_est.codes
    node_frame["gap_factor_reference"] = gap_est.reference
    edge_frame = t.edges.rename(
        columns={"spend": "spend_reported", "currency": "spend_currency", "year": "spend_year"}
    )
    edge_frame["spend"] = ratio_spend
    edge_frame["spend_kg_co2e"] = edge_est.kg
    edge_frame["spend_dq_score"] = edge_est.dq
    edge_frame["spend_uncertainty_pct"] = edge_est.unc
    edge_frame["factor_reference"] = edge_est.reference
    edge_frame["factor_codes"] = edge_est.codes
    network = FootprintNetwork.from_frames(node_frame, edge_frame)
    return SpendInputs(network=network, errors=t.errors, warnings=t.warnings)
