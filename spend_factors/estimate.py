"""Spend-based estimation: ledger lines x sector factors -> kg CO2e with full provenance.

The hot path is vectorised: validation uses masks, classification and currency conversion work
on unique values and broadcast back, factor lookup is a categorical code lookup, and repeated
provenance strings (dataset, version, unit, conversions, method) are categoricals. No per-row
Python loop runs over the ledger except to build error messages for rows that failed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .classification import METHODS, Classification, classify
from .currency import RateTables, default_tables, grouped_conversion, uncovered_mask
from .datasets import DatasetMetadata, FactorDataset, margins_label, margins_option
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
OPTIONAL_COLUMNS = (
    "naics",
    "naics_system",
    "isic",
    "gbt4754",
    "description",
    "supplier_naics",
    "supplier_naics_system",
)
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
    "classification_note",
    "dq_score",
    "uncertainty_pct",
    "needs_review",
    "review_reason",
)
# Data-quality score (1 best - 5 worst) of a spend-based estimate, by classification route.
# Spend-based estimates are never better than 3: the factor is a sector average. A sector taken
# from the supplier's main activity (nothing on the line) is 3.5: the purchase may be of another
# product than the supplier mostly makes (docs/spend-based-method.md, "Data quality").
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
    margins: str
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def price_basis(self) -> str:
        """Deprecated name of ``margins`` (kept for callers written before it)."""
        return self.margins

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
        g["margins"] = self.margins
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
                "margins",
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


def _resolve_margins(margins: str | None, price_basis: str | None) -> str:
    """The margins option, honouring the deprecated ``price_basis`` keyword with a warning."""
    if price_basis is None:
        return margins_option(margins)
    mapped = margins_option(price_basis)
    warnings.warn(
        f"estimate(price_basis={price_basis!r}) is deprecated; use margins={mapped!r}",
        DeprecationWarning,
        stacklevel=3,
    )
    if margins is not None and margins_option(margins) != mapped:
        raise ValueError(
            f"price_basis={price_basis!r} means margins={mapped!r}, which contradicts "
            f"margins={margins!r}; pass margins only"
        )
    return mapped


def _all_problems(
    lines: pd.DataFrame, v: _Validated, cls: Classification
) -> tuple[list[RowProblem], np.ndarray]:
    """Validation and classification problems in row order, and the mask of bad lines."""
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
    problems.sort(key=lambda p: p.line_number or 0)
    return problems, bad


@dataclass
class _Priced:
    """Per-line numbers of an estimate, before they are framed with provenance."""

    kg: np.ndarray
    converted: np.ndarray
    conv_codes: np.ndarray
    conv_descriptions: list[str]
    position: np.ndarray
    factor_value: np.ndarray
    reason: np.ndarray


def _price(
    v: _Validated,
    cls: Classification,
    bad: np.ndarray,
    dataset: FactorDataset,
    option: str,
    tables: RateTables,
) -> _Priced:
    """Convert each line's money to the factor's basis and multiply by its factor."""
    meta = dataset.metadata
    # currency conversion per unique (currency, year), broadcast to lines
    safe_cur = np.where(bad, 0, v.currency_code)
    safe_off = np.where(bad, 0, v.year_offset)
    conv = grouped_conversion(safe_cur, safe_off, meta.currency, meta.price_year, tables)
    converted = np.where(bad, np.nan, v.amount * conv.multiplier)
    factors = dataset.factors[dataset.factor_column(option)].to_numpy(dtype=float)
    pos = np.where(bad, -1, cls.position)
    factor_value = np.where(pos >= 0, factors[np.maximum(pos, 0)], np.nan)
    reason = cls.reason.copy()
    no_factor = (pos >= 0) & np.isnan(factor_value)
    if no_factor.any():
        reason[no_factor] = f"no factor {margins_label(option)} for this code"
        pos = np.where(no_factor, -1, pos)
    if bad.any():
        reason[bad] = "invalid input (see errors)"
    return _Priced(
        kg=converted * factor_value,  # NaN propagates for review/invalid lines
        converted=converted,
        conv_codes=np.where(bad, -1, conv.group),
        conv_descriptions=list(conv.descriptions),
        position=pos,
        factor_value=factor_value,
        reason=reason,
    )


def _output_frame(
    lines: pd.DataFrame,
    v: _Validated,
    cls: Classification,
    priced: _Priced,
    dataset: FactorDataset,
    option: str,
) -> pd.DataFrame:
    """Input columns followed by the estimate and its provenance (repeated text categorical)."""
    n = len(lines)
    meta = dataset.metadata
    needs_review = priced.reason != ""
    dq_lookup = np.array([DQ_BY_METHOD[m] for m in METHODS])
    unc_lookup = np.array([UNCERTAINTY_BY_DQ[DQ_BY_METHOD[m]] for m in METHODS])
    note = _constant("", n) if cls.note is None else pd.Categorical(cls.note)
    new = pd.DataFrame(
        {
            "amount": v.amount,
            "year": v.year,
            "kg_co2e": priced.kg,
            "factor_dataset": _constant(meta.name, n),
            "factor_version": _constant(meta.version, n),
            "factor_code": pd.Categorical.from_codes(priced.position, categories=dataset.codes),
            "factor_value": priced.factor_value,
            "factor_unit": _constant(meta.factor_unit(option), n),
            "converted_amount": priced.converted,
            "converted_currency": _constant(meta.currency, n),
            "price_year": np.full(n, meta.price_year, dtype=np.int64),
            "conversions": pd.Categorical.from_codes(
                priced.conv_codes, categories=pd.Index(priced.conv_descriptions)
            ),
            "classification_method": pd.Categorical.from_codes(
                cls.method.astype(np.int8), categories=list(METHODS)
            ),
            "classification_confidence": cls.confidence,
            "classification_note": note,
            "dq_score": np.where(needs_review, np.nan, dq_lookup[cls.method]),
            "uncertainty_pct": np.where(needs_review, np.nan, unc_lookup[cls.method]),
            "needs_review": needs_review,
            "review_reason": pd.array(priced.reason, dtype=object),
        },
        index=lines.index,
    )
    keep = [c for c in lines.columns if c not in new.columns]
    out = pd.concat([lines[keep], new], axis=1)
    return out[[*lines.columns, *[c for c in OUTPUT_COLUMNS if c not in lines.columns]]]


def estimate(
    lines: pd.DataFrame,
    dataset: FactorDataset,
    price_basis: str | None = None,
    review_threshold: float = 80,
    *,
    margins: str | None = None,
    errors: str = "raise",
    tables: RateTables | None = None,
) -> EstimateResult:
    """Estimate kg CO2e for spend lines against a factor dataset.

    ``margins`` is ``"include"`` (default: cradle to the point of sale, the factor for spend at
    the price the brand paid) or ``"exclude"`` (cradle to the point of production; margins'
    transport and trade emissions left out, e.g. when freight is estimated on its own lines).
    ``price_basis`` is its deprecated name ("purchaser" = include, "producer" = exclude).

    ``errors="raise"`` (default) raises :class:`LedgerError` listing every bad row;
    ``errors="collect"`` keeps going, leaves those lines without an estimate (flagged for
    review) and returns the problems in ``result.errors``.
    """
    if errors not in ("raise", "collect"):
        raise ValueError("errors must be 'raise' or 'collect'")
    option = _resolve_margins(margins, price_basis)
    tables = tables or default_tables()
    dataset.factor_column(option)  # refuse a missing option before any work
    meta = dataset.metadata
    if meta.currency not in tables.currencies:
        raise LedgerError(
            [
                RowProblem(
                    None, None, None, meta.currency, "dataset currency has no exchange-rate table"
                )
            ]
        )
    v = validate_lines(lines, dataset, tables)
    cls = classify(lines, dataset, review_threshold)
    problems, bad = _all_problems(lines, v, cls)
    if problems and errors == "raise":
        raise LedgerError(problems, lines.attrs.get("source"))
    priced = _price(v, cls, bad, dataset, option, tables)
    out = _output_frame(lines, v, cls, priced, dataset, option)
    needs_review = out["needs_review"].to_numpy(dtype=bool)
    stats = {
        "lines": float(len(lines)),
        "estimated": float(np.count_nonzero(~np.isnan(priced.kg))),
        "needs_review": float(np.count_nonzero(needs_review)),
        "errors": float(np.count_nonzero(bad)),
        "kg_co2e": float(np.nansum(priced.kg)),
    }
    return EstimateResult(out, out[needs_review], problems, meta, option, stats)
