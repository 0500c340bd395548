"""Spend-based estimation: ledger lines x sector factors -> kg CO2e with full provenance.

The hot path is vectorised: validation uses masks, classification and currency conversion work
on unique values and broadcast back, factor lookup is a categorical code lookup, and repeated
provenance strings (dataset, version, unit, conversions, method) are categoricals. No per-row
Python loop runs over the ledger except to build error messages for rows that failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .classification import METHODS, classify
from .currency import RateTables, default_tables, grouped_conversion, uncovered_mask
from .datasets import DatasetMetadata, FactorDataset
from .ledger import LedgerError, RowProblem, problems_from_mask

__all__ = [
    "REQUIRED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "OUTPUT_COLUMNS",
    "DQ_BY_METHOD",
    "UNCERTAINTY_BY_DQ",
    "EstimateResult",
    "estimate",
    "validate_lines",
]

REQUIRED_COLUMNS = ("line_id", "supplier_id", "amount", "currency", "year")
OPTIONAL_COLUMNS = ("naics", "isic", "gbt4754", "description", "supplier_naics")
OUTPUT_COLUMNS = (
    "kg_co2e",
    "factor_dataset",
    "factor_version",
    "factor_code",
    "factor_value",
    "factor_unit",
    "converted_amount",
    "converted_currency",
    "price_year",
    "conversions",
    "classification_method",
    "classification_confidence",
    "dq_score",
    "uncertainty_pct",
    "needs_review",
    "review_reason",
)
# Data-quality score (1 best - 5 worst) of a spend-based estimate, by classification route.
# Spend-based estimates are never better than 3: the factor is a sector average.
DQ_BY_METHOD = {
    "explicit": 3.0,
    "supplier": 3.5,
    "crosswalk-isic": 4.0,
    "crosswalk-gbt4754": 4.0,
    "text-match": 4.5,
    "unclassified": 5.0,
}
# Default uncertainty (half-width of a ~95% range, % of the estimate) per DQ score.
UNCERTAINTY_BY_DQ = {3.0: 50.0, 3.5: 60.0, 4.0: 75.0, 4.5: 90.0, 5.0: 100.0}


@dataclass
class EstimateResult:
    """Estimated lines, the lines needing review, and row problems (when collected)."""

    lines: pd.DataFrame
    review: pd.DataFrame
    errors: list[RowProblem]
    dataset: DatasetMetadata
    price_basis: str
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def total_kg_co2e(self) -> float:
        return float(np.nansum(self.lines["kg_co2e"].to_numpy(dtype=float)))

    def by_supplier(self) -> pd.DataFrame:
        """Per-supplier totals; DQ is the spend-weighted mean over estimated lines."""
        df = self.lines
        kg = df["kg_co2e"].to_numpy(dtype=float)
        spend = df["converted_amount"].to_numpy(dtype=float)
        estimated = ~np.isnan(kg)
        frame = pd.DataFrame(
            {
                "supplier_id": df["supplier_id"].to_numpy(),
                "lines": 1,
                "lines_estimated": estimated.astype(np.int64),
                "lines_needing_review": df["needs_review"].to_numpy(dtype=bool).astype(np.int64),
                "spend": np.nan_to_num(spend),
                "spend_estimated": np.where(estimated, np.nan_to_num(spend), 0.0),
                "kg_co2e": np.where(estimated, kg, 0.0),
                "dq_x_spend": np.where(
                    estimated, df["dq_score"].to_numpy(dtype=float) * np.nan_to_num(spend), 0.0
                ),
                "unc_sq": np.where(
                    estimated, (df["uncertainty_pct"].to_numpy(dtype=float) / 100 * kg) ** 2, 0.0
                ),
            }
        )
        g = frame.groupby("supplier_id", sort=True, dropna=False).sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            g["dq_score"] = g["dq_x_spend"] / g["spend_estimated"]
            # independent lines: absolute uncertainties add in quadrature
            g["uncertainty_pct"] = 100 * np.sqrt(g["unc_sq"]) / g["kg_co2e"]
        g["spend_currency"] = f"{self.dataset.currency}{self.dataset.price_year}"
        g["factor_dataset"] = self.dataset.name
        g["factor_version"] = self.dataset.version
        g["price_basis"] = self.price_basis
        g = g.drop(columns=["dq_x_spend", "unc_sq"]).reset_index()
        return g[
            [
                "supplier_id",
                "lines",
                "lines_estimated",
                "lines_needing_review",
                "spend",
                "spend_estimated",
                "spend_currency",
                "kg_co2e",
                "dq_score",
                "uncertainty_pct",
                "factor_dataset",
                "factor_version",
                "price_basis",
            ]
        ]


def _unique_clean(series: pd.Series, upper: bool = False) -> tuple[np.ndarray, np.ndarray]:
    inv, uniques = pd.factorize(series, use_na_sentinel=True)
    u = pd.Series(np.asarray(uniques, dtype=object), dtype=object).map(
        lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
    )
    if upper:
        u = u.str.upper()
    cleaned = np.append(u.to_numpy(dtype=object), "")
    return np.where(inv < 0, len(cleaned) - 1, inv).astype(np.int64), cleaned


@dataclass
class _Validated:
    amount: np.ndarray
    year: np.ndarray
    currency_code: np.ndarray
    year_offset: np.ndarray
    bad: np.ndarray
    problems: list[RowProblem]


def validate_lines(
    lines: pd.DataFrame, dataset: FactorDataset, tables: RateTables | None = None
) -> _Validated:
    """Vectorised checks of amount, currency and year; returns parsed arrays and problems."""
    tables = tables or default_tables()
    missing = [c for c in REQUIRED_COLUMNS if c not in lines.columns]
    if missing:
        raise LedgerError(
            [RowProblem(None, None, c, None, "missing required column") for c in missing],
            lines.attrs.get("source"),
        )
    n = len(lines)
    line_ids = lines["line_id"].to_numpy(dtype=object)
    problems: list[RowProblem] = []
    bad = np.zeros(n, dtype=bool)

    raw_amount = lines["amount"]
    if pd.api.types.is_numeric_dtype(raw_amount.dtype) and not pd.api.types.is_bool_dtype(
        raw_amount.dtype
    ):
        amount = raw_amount.to_numpy(dtype=float, na_value=np.nan)
        blank = np.isnan(amount)
        nonnum = np.isinf(amount)
    else:
        inv, uniq = _unique_clean(raw_amount)
        u_amt = pd.to_numeric(pd.Series(uniq, dtype=object), errors="coerce").to_numpy(float)
        amount = u_amt[inv]
        blank = (uniq == "")[inv]
        nonnum = (np.isnan(u_amt) & (uniq != ""))[inv] | np.isinf(amount)
    raw_vals = raw_amount.to_numpy(dtype=object)
    negative = ~np.isnan(amount) & (amount < 0)
    for mask, rule in (
        (blank, "missing amount"),
        (nonnum, "non-numeric amount"),
        (negative, "negative amount (credits/refunds must be netted first)"),
    ):
        if mask.any():
            problems += problems_from_mask(mask, line_ids, "amount", raw_vals, rule)
            bad |= mask

    inv, uniq = _unique_clean(lines["currency"], upper=True)
    u_code = tables.currency_codes(uniq)
    currency_code = u_code[inv]
    unknown_cur = currency_code < 0
    if unknown_cur.any():
        known = ", ".join(tables.currencies)
        problems += problems_from_mask(
            unknown_cur,
            line_ids,
            "currency",
            lines["currency"].to_numpy(dtype=object),
            f"unknown currency (known: {known})",
        )
        bad |= unknown_cur

    inv, uniq = _unique_clean(lines["year"])
    u_year = pd.to_numeric(pd.Series(uniq, dtype=object), errors="coerce").to_numpy(float)
    u_whole = np.isfinite(u_year) & (u_year == np.round(u_year))
    year = np.where(u_whole, u_year, -1).astype(np.int64)[inv]
    not_year = ~u_whole[inv]
    year_offset = tables.year_offsets(np.where(not_year, tables.first_year, year))
    out_of_range = ~not_year & (year_offset < 0)
    no_rate, no_index = uncovered_mask(
        np.where(unknown_cur, -1, currency_code),
        np.where(not_year, -1, year_offset),
        dataset.metadata.currency,
        tables,
    )
    year_vals = lines["year"].to_numpy(dtype=object)
    span = f"{tables.first_year}-{tables.last_year}"
    for mask, rule in (
        (not_year, "year is not a whole number"),
        (out_of_range, f"year not covered by the exchange-rate/price-index tables ({span})"),
        (no_rate, "year not covered: no exchange rate for this currency and year"),
        (no_index, f"year not covered: no {dataset.metadata.currency} price index for this year"),
    ):
        if mask.any():
            problems += problems_from_mask(mask, line_ids, "year", year_vals, rule)
            bad |= mask
    return _Validated(amount, year, currency_code, year_offset, bad, problems)


def _constant(value: str, n: int) -> pd.Categorical:
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value])


def estimate(
    lines: pd.DataFrame,
    dataset: FactorDataset,
    price_basis: str = "purchaser",
    review_threshold: float = 80,
    *,
    errors: str = "raise",
    tables: RateTables | None = None,
) -> EstimateResult:
    """Estimate kg CO2e for spend lines against a factor dataset.

    ``errors="raise"`` (default) raises :class:`LedgerError` listing every bad row;
    ``errors="collect"`` keeps going, leaves those lines without an estimate (flagged for
    review) and returns the problems in ``result.errors``.
    """
    if errors not in ("raise", "collect"):
        raise ValueError("errors must be 'raise' or 'collect'")
    tables = tables or default_tables()
    factor_col = dataset.factor_column(price_basis)
    meta = dataset.metadata
    if meta.currency not in tables.currencies:
        raise LedgerError(
            [
                RowProblem(
                    None, None, None, meta.currency, "dataset currency has no exchange-rate table"
                )
            ]
        )
    n = len(lines)
    v = validate_lines(lines, dataset, tables)
    cls = classify(lines, dataset, review_threshold)
    problems = list(v.problems)
    bad = v.bad.copy()
    line_ids = lines["line_id"].to_numpy(dtype=object)
    for cp in cls.problems:
        problems += [
            RowProblem(
                int(i) + 1,
                None if line_ids[i] is None else str(line_ids[i]),
                cp.column,
                str(val),
                cp.rule,
            )
            for i, val in zip(cp.positions.tolist(), cp.values.tolist(), strict=True)
        ]
        bad[cp.positions] = True
    if problems:
        problems.sort(key=lambda p: p.line_number or 0)
        if errors == "raise":
            raise LedgerError(problems, lines.attrs.get("source"))

    # currency conversion per unique (currency, year), broadcast to lines
    safe_cur = np.where(bad, 0, v.currency_code)
    safe_off = np.where(bad, 0, v.year_offset)
    conv = grouped_conversion(safe_cur, safe_off, meta.currency, meta.price_year, tables)
    converted = np.where(bad, np.nan, v.amount * conv.multiplier)
    conv_codes = np.where(bad, -1, conv.group)

    factors = dataset.factors[factor_col].to_numpy(dtype=float)
    pos = np.where(bad, -1, cls.position)
    factor_value = np.where(pos >= 0, factors[np.maximum(pos, 0)], np.nan)
    reason = cls.reason.copy()
    no_factor = (pos >= 0) & np.isnan(factor_value)
    if no_factor.any():
        reason[no_factor] = f"no {price_basis}-price factor for this code"
        pos = np.where(no_factor, -1, pos)
    if bad.any():
        reason[bad] = "invalid input (see errors)"
    needs_review = reason != ""
    kg = converted * factor_value  # NaN propagates for review/invalid lines

    method_names = np.asarray(METHODS, dtype=object)
    dq_lookup = np.array([DQ_BY_METHOD[m] for m in METHODS])
    dq = np.where(needs_review, np.nan, dq_lookup[cls.method])
    unc_lookup = np.array([UNCERTAINTY_BY_DQ[DQ_BY_METHOD[m]] for m in METHODS])
    unc = np.where(needs_review, np.nan, unc_lookup[cls.method])

    code_cat = pd.Categorical.from_codes(pos, categories=dataset.codes)
    conv_cat = pd.Categorical.from_codes(conv_codes, categories=pd.Index(conv.descriptions))
    new = pd.DataFrame(
        {
            "amount": v.amount,
            "year": v.year,
            "kg_co2e": kg,
            "factor_dataset": _constant(meta.name, n),
            "factor_version": _constant(meta.version, n),
            "factor_code": code_cat,
            "factor_value": factor_value,
            "factor_unit": _constant(meta.factor_unit(price_basis), n),
            "converted_amount": converted,
            "converted_currency": _constant(meta.currency, n),
            "price_year": np.full(n, meta.price_year, dtype=np.int64),
            "conversions": conv_cat,
            "classification_method": pd.Categorical.from_codes(
                cls.method.astype(np.int8), categories=list(method_names)
            ),
            "classification_confidence": cls.confidence,
            "dq_score": dq,
            "uncertainty_pct": unc,
            "needs_review": needs_review,
            "review_reason": pd.array(reason, dtype=object),
        },
        index=lines.index,
    )
    keep = [c for c in lines.columns if c not in new.columns]
    out = pd.concat([lines[keep], new], axis=1)
    out = out[[*lines.columns, *[c for c in OUTPUT_COLUMNS if c not in lines.columns]]]
    review = out[needs_review]
    stats = {
        "lines": float(n),
        "estimated": float(np.count_nonzero(~np.isnan(kg))),
        "needs_review": float(np.count_nonzero(needs_review)),
        "errors": float(np.count_nonzero(bad)),
        "kg_co2e": float(np.nansum(kg)),
    }
    return EstimateResult(out, review, problems, meta, price_basis, stats)
