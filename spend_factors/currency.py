"""Currency and price-year conversion of spend, from the shipped, cited tables.

Spend factors are expressed per unit of one currency at one price year (e.g. kg CO2e per 2021
USD). A ledger line in CNY from 2024 has to be brought onto that basis first. The order is fixed
and documented in ``docs/spend-based-method.md``:

1. convert currency C to the factor currency at the year-Y annual average exchange rate;
2. deflate (or inflate) from year Y to the factor's price year with the factor currency's
   price index.

Conversions are computed once per unique (currency, year) group and broadcast, so a million
lines cost a handful of array operations. Every group gets a human-readable description of the
steps it went through. A table row marked ``verified=no`` (a value not yet checked against its
publication, see ``docs/reference-data.md``) stays usable, but every description built from it
says so and names the row's source, so the mark reaches the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "ConversionError",
    "UnknownCurrencyError",
    "YearNotCoveredError",
    "RateTables",
    "default_tables",
    "convert_money",
    "describe_conversion",
    "known_currencies",
]

UNVERIFIED_TAG = "UNVERIFIED"

DATA_DIR = Path(__file__).parent / "data"


class ConversionError(ValueError):
    """A spend amount that cannot be put on the factor's currency/price-year basis."""


class UnknownCurrencyError(ConversionError):
    """Currency code absent from the exchange-rate or price-index table."""

    def __init__(self, currency: str, positions: list[int] | None = None) -> None:
        self.currency = currency
        self.positions = positions or []
        where = f" (positions {self.positions[:10]})" if self.positions else ""
        super().__init__(f"unknown currency {currency!r}{where}")


class YearNotCoveredError(ConversionError):
    """Year outside the exchange-rate or price-index table for that currency."""

    def __init__(
        self, currency: str, year: object, table: str, positions: list[int] | None = None
    ) -> None:
        self.currency = currency
        self.year = year
        self.table = table
        self.positions = positions or []
        where = f" (positions {self.positions[:10]})" if self.positions else ""
        super().__init__(f"year {year!r} not covered by the {table} table for {currency}{where}")


@dataclass(frozen=True)
class RateTables:
    """Exchange rates (per 1 USD) and price indices as dense currency x year arrays."""

    currencies: tuple[str, ...]
    first_year: int
    per_usd: np.ndarray  # shape (n_currencies, n_years); NaN where not published
    index: np.ndarray  # same shape; price index level, NaN where not published
    rate_sources: pd.DataFrame
    index_sources: pd.DataFrame
    # (table, currency, year) -> citation of rows marked verified=no; table is "rate" or "index"
    unverified: dict[tuple[str, str, int], str] = field(default_factory=dict)

    @property
    def last_year(self) -> int:
        return self.first_year + self.per_usd.shape[1] - 1

    def currency_codes(self, currency: np.ndarray) -> np.ndarray:
        """Map currency strings to row numbers (-1 when unknown), vectorised."""
        index = pd.Index(list(self.currencies), dtype=object)
        return index.get_indexer(np.asarray(currency, dtype=object)).astype(np.int64)

    def year_offsets(self, year: np.ndarray) -> np.ndarray:
        """Column numbers for years; out-of-range years become -1."""
        off = np.asarray(year, dtype=np.int64) - self.first_year
        return np.where((off >= 0) & (off < self.per_usd.shape[1]), off, -1)

    @classmethod
    def from_frames(cls, rates: pd.DataFrame, indices: pd.DataFrame) -> RateTables:
        """Build dense arrays from long tables (currency, year, per_usd / index)."""
        rates = rates.assign(currency=rates["currency"].str.upper().str.strip())
        indices = indices.assign(currency=indices["currency"].str.upper().str.strip())
        currencies = tuple(sorted(set(rates["currency"]) | set(indices["currency"])))
        years = pd.concat([rates["year"], indices["year"]]).astype(int)
        first, last = int(years.min()), int(years.max())
        shape = (len(currencies), last - first + 1)
        per_usd = np.full(shape, np.nan)
        index = np.full(shape, np.nan)
        cpos = {c: i for i, c in enumerate(currencies)}
        per_usd[rates["currency"].map(cpos).to_numpy(), rates["year"].astype(int) - first] = (
            rates["per_usd"].astype(float).to_numpy()
        )
        index[indices["currency"].map(cpos).to_numpy(), indices["year"].astype(int) - first] = (
            indices["index"].astype(float).to_numpy()
        )
        if np.any(per_usd[~np.isnan(per_usd)] <= 0) or np.any(index[~np.isnan(index)] <= 0):
            raise ValueError("exchange rates and price indices must be positive")
        unverified = {**_unverified_rows(rates, "rate"), **_unverified_rows(indices, "index")}
        return cls(currencies, first, per_usd, index, rates, indices, unverified)

    def unverified_inputs(
        self, currency: str, year: int, to_currency: str, to_year: int
    ) -> list[str]:
        """Citations of the unverified rows one (currency, year) -> target step reads."""
        used = []
        if currency != to_currency:
            used += [("rate", currency, year), ("rate", to_currency, year)]
        if year != to_year:
            used += [("index", to_currency, year), ("index", to_currency, to_year)]
        return [self.unverified[key] for key in dict.fromkeys(used) if key in self.unverified]


def _unverified_rows(frame: pd.DataFrame, table: str) -> dict[tuple[str, str, int], str]:
    """Rows whose ``verified`` column says no; a table without the column marks nothing."""
    if "verified" not in frame.columns:
        return {}
    flag = frame["verified"].astype(str).str.strip().str.lower()
    out = {}
    what = "exchange rate" if table == "rate" else "price index"
    for row in frame[~flag.isin(["yes", "true", "1"])].itertuples(index=False):
        cur, year = str(row.currency).upper().strip(), int(row.year)
        series = getattr(row, "series", "") or "no series"
        url = getattr(row, "url", "") or "no URL"
        out[(table, cur, year)] = f"{cur} {year} {what} ({series}, not checked: {url})"
    return out


@lru_cache(maxsize=1)
def default_tables() -> RateTables:
    """The shipped tables (``data/exchange_rates.csv``, ``data/price_indices.csv``)."""
    rates = pd.read_csv(
        DATA_DIR / "exchange_rates.csv", dtype={"currency": str}, keep_default_na=False
    )
    indices = pd.read_csv(
        DATA_DIR / "price_indices.csv", dtype={"currency": str}, keep_default_na=False
    )
    return RateTables.from_frames(rates, indices)


def known_currencies(tables: RateTables | None = None) -> tuple[str, ...]:
    """Currencies that can be converted."""
    return (tables or default_tables()).currencies


def _describe(
    cur: str,
    year: int,
    to_cur: str,
    to_year: int,
    rate: float,
    deflator: float,
    unverified: list[str] | tuple[str, ...] = (),
) -> str:
    parts = []
    if cur != to_cur:
        parts.append(f"{cur}→{to_cur}@{year} rate {rate:.4f}")
    if year != to_year:
        parts.append(f"{to_cur} {year}→{to_year} deflator {deflator:.4f}")
    text = "; ".join(parts) if parts else f"{to_cur} {to_year} (no conversion)"
    if unverified:
        text += f" [{UNVERIFIED_TAG}: {'; '.join(unverified)}]"
    return text


@dataclass(frozen=True)
class GroupedConversion:
    """Per-line multipliers plus one description per unique (currency, year) group."""

    multiplier: np.ndarray
    group: np.ndarray  # int index into descriptions, per line
    descriptions: list[str]
    # per group: citations of the unverified table rows it used (empty when all were verified)
    unverified: list[list[str]] = field(default_factory=list)


def grouped_conversion(
    currency_code: np.ndarray,
    year_offset: np.ndarray,
    to_currency: str,
    to_year: int,
    tables: RateTables,
) -> GroupedConversion:
    """Compute multipliers for pre-validated codes; callers check codes/offsets are >= 0."""
    to_c = tables.currencies.index(to_currency)
    to_y = to_year - tables.first_year
    n_years = tables.per_usd.shape[1]
    key = currency_code * n_years + year_offset
    group, uniques = pd.factorize(key, sort=False)
    u_cur = uniques // n_years
    u_off = uniques % n_years
    # rate = units of source currency per unit of target currency at year Y
    rate = tables.per_usd[u_cur, u_off] / tables.per_usd[to_c, u_off]
    deflator = tables.index[to_c, to_y] / tables.index[to_c, u_off]
    mult = deflator / rate
    descriptions, unverified = [], []
    for c, o, r, d in zip(
        u_cur.tolist(), u_off.tolist(), rate.tolist(), deflator.tolist(), strict=True
    ):
        cur, year = tables.currencies[c], tables.first_year + o
        marks = tables.unverified_inputs(cur, year, to_currency, to_year)
        unverified.append(marks)
        descriptions.append(_describe(cur, year, to_currency, to_year, r, d, marks))
    return GroupedConversion(mult[group], group.astype(np.int64), descriptions, unverified)


def check_target(to_currency: str, to_year: int, tables: RateTables) -> None:
    """Raise when the target basis itself is outside the tables."""
    if to_currency not in tables.currencies:
        raise UnknownCurrencyError(to_currency)
    off = to_year - tables.first_year
    if not 0 <= off < tables.per_usd.shape[1] or np.isnan(
        tables.index[tables.currencies.index(to_currency), off]
    ):
        raise YearNotCoveredError(to_currency, to_year, "price index")


def uncovered_mask(
    currency_code: np.ndarray, year_offset: np.ndarray, to_currency: str, tables: RateTables
) -> tuple[np.ndarray, np.ndarray]:
    """Masks of lines whose exchange rate or price index is missing (for known currencies)."""
    to_c = tables.currencies.index(to_currency)
    ok = (currency_code >= 0) & (year_offset >= 0)
    c = np.where(ok, currency_code, 0)
    o = np.where(ok, year_offset, 0)
    no_rate = ok & (np.isnan(tables.per_usd[c, o]) | np.isnan(tables.per_usd[to_c, o]))
    no_index = ok & np.isnan(tables.index[to_c, o])
    return no_rate, no_index


def convert_money(
    amounts: np.ndarray | list[float] | float,
    currency: str | np.ndarray | list[str],
    year: int | np.ndarray | list[int],
    to_currency: str,
    to_year: int,
    tables: RateTables | None = None,
) -> tuple[np.ndarray, str | np.ndarray]:
    """Put amounts on a (currency, price year) basis: exchange at year Y, then deflate.

    Returns the converted amounts and the conversion description: a single string when
    ``currency`` and ``year`` are scalars, otherwise an object array with one description per
    amount. Unknown currencies and uncovered years raise, naming the positions affected.
    """
    tables = tables or default_tables()
    to_currency = to_currency.upper().strip()
    check_target(to_currency, int(to_year), tables)
    amt = np.atleast_1d(np.asarray(amounts, dtype=float))
    n = amt.shape[0]
    scalar = np.ndim(currency) == 0 and np.ndim(year) == 0
    cur = np.broadcast_to(np.asarray(currency, dtype=object), (n,))
    cur = pd.Series(cur, dtype=object).astype(str).str.upper().str.strip().to_numpy()
    yr_raw = np.broadcast_to(np.asarray(year), (n,))
    if not np.issubdtype(yr_raw.dtype, np.integer):
        yr_f = np.asarray(yr_raw, dtype=float)
        if np.any(~np.isfinite(yr_f) | (yr_f != np.round(yr_f))):
            bad = np.flatnonzero(~np.isfinite(yr_f) | (yr_f != np.round(yr_f)))
            raise YearNotCoveredError(
                str(cur[bad[0]]), yr_raw[bad[0]], "exchange-rate", bad.tolist()
            )
        yr_raw = yr_f.astype(np.int64)
    codes = tables.currency_codes(cur)
    if np.any(codes < 0):
        bad = np.flatnonzero(codes < 0)
        raise UnknownCurrencyError(str(cur[bad[0]]), bad.tolist())
    offs = tables.year_offsets(yr_raw)
    if np.any(offs < 0):
        bad = np.flatnonzero(offs < 0)
        raise YearNotCoveredError(
            str(cur[bad[0]]), int(yr_raw[bad[0]]), "exchange-rate", bad.tolist()
        )
    no_rate, no_index = uncovered_mask(codes, offs, to_currency, tables)
    for mask, table in ((no_rate, "exchange-rate"), (no_index, "price-index")):
        if mask.any():
            bad = np.flatnonzero(mask)
            raise YearNotCoveredError(str(cur[bad[0]]), int(yr_raw[bad[0]]), table, bad.tolist())
    conv = grouped_conversion(codes, offs, to_currency, int(to_year), tables)
    out = amt * conv.multiplier
    if scalar:
        return out, conv.descriptions[0]
    return out, np.asarray(conv.descriptions, dtype=object)[conv.group]


def describe_conversion(
    currency: str,
    year: int,
    to_currency: str,
    to_year: int,
    tables: RateTables | None = None,
) -> dict[str, object]:
    """Structured provenance of one (currency, year) -> (to_currency, to_year) conversion.

    For results that keep provenance as a record rather than a sentence: the multiplier, the
    description :func:`convert_money` gives, ``unverified`` (True when any table row used was not
    checked against its publication) and the citations of those rows.
    """
    tables = tables or default_tables()
    out, how = convert_money(1.0, currency, year, to_currency, to_year, tables)
    marks = tables.unverified_inputs(
        str(currency).upper().strip(), int(year), to_currency.upper().strip(), int(to_year)
    )
    return {
        "multiplier": float(out[0]),
        "how": str(how),
        "unverified": bool(marks),
        "unverified_sources": marks,
    }
