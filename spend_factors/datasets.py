"""Factor datasets: metadata, the built-in starter set, importers and the file-based store.

A dataset is a named, versioned table of spend-based factors (kg CO2e per currency unit at a
price year, with and/or without trade and transport margins) plus the metadata a disclosure
needs to cite it. Several datasets and versions live side by side in a folder tree (no database)::

    <store root>/<name>/<version>/metadata.json
    <store root>/<name>/<version>/factors.csv

The store root is an explicit argument, else ``$FACTOR_STORE``, else ``./instance/factors``.
Imports are written to a temporary folder and renamed into place, so a reader never sees a half
written version. The ``starter`` dataset ships inside the package and needs no import.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DatasetMetadata",
    "FactorDataset",
    "FactorStore",
    "ImportReport",
    "DatasetError",
    "DatasetNotFoundError",
    "DatasetExistsError",
    "FactorImportError",
    "STARTER_NAME",
    "FORMATS",
    "MARGIN_OPTIONS",
    "margins_label",
    "margins_option",
    "resolve_store_root",
    "starter_dataset",
    "load_dataset",
    "list_datasets",
    "import_dataset",
    "read_useeio_csv",
    "read_generic_csv",
]

DATA_DIR = Path(__file__).parent / "data"
STARTER_NAME = "starter"
FORMATS = ("useeio-csv", "generic-csv")
# Stored factor columns keep their historical names: ``purchaser_factor`` holds the factor
# *with* margins and ``producer_factor`` the factor *without* margins. For the EPA set both are
# kg CO2e per purchaser-price dollar; "without margins" moves the boundary, not the price basis.
PRICE_BASES = ("purchaser", "producer")
MARGIN_OPTIONS = ("include", "exclude")
_MARGIN_COLUMNS = {"include": "purchaser_factor", "exclude": "producer_factor"}
_MARGIN_WORDS = {
    "include": "include",
    "exclude": "exclude",
    "with": "include",
    "without": "exclude",
    "withmargins": "include",
    "withoutmargins": "exclude",
    # the old price-basis words, still found in stored runs and metadata.json files
    "purchaser": "include",
    "producer": "exclude",
}
FACTOR_COLUMNS = [
    "code",
    "title",
    "producer_factor",
    "margin",
    "purchaser_factor",
    "reference_code",
    "source",
    "flags",
]
_EPA_FORMATS = ("useeio-csv", "starter")
_SPEND_PRICE_BASES = ("", "purchaser", "basic", "producer")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")


class DatasetError(Exception):
    """Base class for dataset and store problems."""


class DatasetNotFoundError(DatasetError, LookupError):
    """The named dataset or version is not in the store."""


class DatasetExistsError(DatasetError):
    """Refusal to overwrite an imported version without ``replace``."""


class FactorImportError(DatasetError, ValueError):
    """A factor file that cannot be imported (wrong layout, bad numbers, duplicate codes)."""


def margins_option(value: str | None) -> str:
    """``"include"`` or ``"exclude"``: whether the factor's boundary includes trade margins.

    Accepts the new words, ``with``/``without`` and the old price-basis words
    (``purchaser`` -> include, ``producer`` -> exclude) so stored runs keep reading; blank means
    the default, ``include``. The old words are mapped silently here; callers that take them
    as user input warn themselves.
    """
    if value is None or not str(value).strip():
        return "include"
    key = re.sub(r"[\s_-]+", "", str(value)).lower()
    try:
        return _MARGIN_WORDS[key]
    except KeyError:
        raise ValueError(
            f"margins must be 'include' or 'exclude' (old price basis 'purchaser' or "
            f"'producer'), not {value!r}"
        ) from None


def margins_label(value: str | None) -> str:
    """Human label of a margins option (old price-basis words accepted), for pages and logs."""
    return "with margins" if margins_option(value) == "include" else "without margins"


@dataclass
class DatasetMetadata:
    """Everything needed to cite a factor dataset next to a result."""

    name: str
    version: str
    publisher: str = ""
    licence: str = ""
    currency: str = "USD"
    price_year: int = 2021
    unit: str = "kg CO2e/USD"
    # which stored factor columns the dataset fills: "purchaser" = with margins, "producer" =
    # without margins (historical names, kept so existing stores read unchanged)
    price_bases: list[str] = field(default_factory=lambda: list(PRICE_BASES))
    # price basis of the money in the factor's denominator ("purchaser" for EPA: the published
    # Unit is "kg CO2e/2021 USD, purchaser price"); "" when the publisher does not say
    spend_price_basis: str = ""
    classification: str = "NAICS 2017"
    gwp_set: str = ""
    source_url: str = ""
    import_date: str = ""
    title: str = ""
    description: str = ""
    format: str = ""
    starter: bool = False
    row_count: int = 0
    source_file: str = ""
    source_sha256: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetMetadata:
        known = {f for f in cls.__dataclass_fields__}
        clean = {k: v for k, v in data.items() if k in known}
        clean["price_year"] = int(clean.get("price_year", 0))
        clean["version"] = str(clean.get("version", ""))
        if not clean.get("spend_price_basis") and clean.get("format") in _EPA_FORMATS:
            # written before the field existed; the EPA file states purchaser price
            clean["spend_price_basis"] = "purchaser"
        return cls(**clean)

    @property
    def margins(self) -> list[str]:
        """Margin options this dataset has factors for (``include``, ``exclude``)."""
        return [margins_option(b) for b in self.price_bases if b in PRICE_BASES]

    def factor_unit(self, margins: str | None = "include") -> str:
        """Unit recorded on every estimated line, e.g.
        ``kg CO2e/USD2021 purchaser price, with margins``."""
        money = f"{self.currency}{self.price_year}"
        if self.spend_price_basis:
            money += f" {self.spend_price_basis} price"
        return f"kg CO2e/{money}, {margins_label(margins)}"


@dataclass
class FactorDataset:
    """A factor table with its metadata, and fast vectorised code lookup."""

    metadata: DatasetMetadata
    factors: pd.DataFrame

    def __post_init__(self) -> None:
        df = self.factors.copy()
        for col in FACTOR_COLUMNS:
            if col not in df.columns:
                df[col] = np.nan if col.endswith(("factor", "margin")) else ""
        df["code"] = df["code"].astype(str).str.strip()
        for col in ("producer_factor", "margin", "purchaser_factor"):
            df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
        for col in ("title", "reference_code", "source", "flags"):
            df[col] = df[col].fillna("").astype(str)
        if df["code"].duplicated().any():
            dups = df.loc[df["code"].duplicated(), "code"].tolist()[:10]
            raise FactorImportError(f"duplicate factor codes: {dups}")
        self.factors = df[FACTOR_COLUMNS + [c for c in df.columns if c not in FACTOR_COLUMNS]]
        self.metadata.row_count = len(df)
        self._codes = pd.Index(df["code"].to_numpy(dtype=object))

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def version(self) -> str:
        return self.metadata.version

    @property
    def codes(self) -> pd.Index:
        return self._codes

    def factor_column(self, margins: str | None = "include") -> str:
        """Column holding the factors with or without margins; refuse what the dataset lacks.

        Old price-basis words are accepted (``purchaser`` = include, ``producer`` = exclude).
        """
        option = margins_option(margins)
        if option not in self.metadata.margins:
            available = ", ".join(margins_label(m) for m in self.metadata.margins) or "none"
            raise DatasetError(
                f"dataset {self.name} {self.version} has no factors {margins_label(option)} "
                f"(available: {available})"
            )
        return _MARGIN_COLUMNS[option]

    def positions(self, codes: np.ndarray | pd.Series | list[str]) -> np.ndarray:
        """Row positions of codes in the factor table, -1 where unknown (vectorised)."""
        return self._codes.get_indexer(np.asarray(codes, dtype=object)).astype(np.int64)

    def lookup(
        self, codes: np.ndarray | pd.Series | list[str], margins: str | None = "include"
    ) -> np.ndarray:
        """Factor values for codes (NaN where unknown); ``margins`` as in ``factor_column``."""
        values = self.factors[self.factor_column(margins)].to_numpy(dtype=float)
        pos = self.positions(codes)
        return np.where(pos >= 0, values[np.maximum(pos, 0)], np.nan)

    def get(self, code: str) -> dict[str, Any]:
        """One factor row as a dict; KeyError naming the dataset when absent."""
        pos = self.positions([str(code).strip()])[0]
        if pos < 0:
            raise KeyError(f"code {code!r} not in dataset {self.name} {self.version}")
        return self.factors.iloc[int(pos)].to_dict()


@dataclass
class ImportReport:
    """Outcome of an import: where it went, how many rows, and the anomalies kept."""

    metadata: DatasetMetadata
    path: Path
    rows: int
    warnings: list[str]
    replaced: bool = False


# --------------------------------------------------------------------------------------------
# starter dataset


@lru_cache(maxsize=1)
def _starter() -> FactorDataset:
    meta = json.loads((DATA_DIR / "starter_factors.json").read_text(encoding="utf-8"))
    table = pd.read_csv(
        DATA_DIR / "starter_factors.csv", dtype={"code": str}, keep_default_na=False, na_values=[""]
    )
    return FactorDataset(DatasetMetadata.from_dict(meta), table)


def starter_dataset() -> FactorDataset:
    """The built-in starter set (a cited subset of EPA v1.2), always available."""
    ds = _starter()
    return FactorDataset(DatasetMetadata.from_dict(ds.metadata.to_dict()), ds.factors)


# --------------------------------------------------------------------------------------------
# importers

_USEEIO_COLUMNS = [
    "2017 NAICS Code",
    "2017 NAICS Title",
    "GHG",
    "Unit",
    "Supply Chain Emission Factors without Margins",
    "Margins of Supply Chain Emission Factors",
    "Supply Chain Emission Factors with Margins",
    "Reference USEEIO Code",
]
_USEEIO_UNIT = re.compile(r"^kg CO2e/(\d{4}) ([A-Z]{3}), (purchaser|producer) price$")
_KNOWN_TYPOS = {"excpet": "except", "Activites": "Activities"}
_USEEIO_REF = re.compile(r"^[0-9A-Z]{6,7}$")


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FactorImportError(
            f"{path}: not UTF-8/ASCII text (byte {exc.start}); re-save the file as UTF-8"
        ) from exc


def _file_facts(raw: bytes, path: Path) -> list[str]:
    notes = []
    if b"\x00" in raw[:4096]:
        raise FactorImportError(f"{path}: binary file, not a CSV")
    if b"\r\n" in raw:
        notes.append("file uses Windows line endings (CRLF); read as-is")
    if raw and not raw.endswith(b"\n"):
        notes.append("no newline after the last row; last row kept")
    return notes


def _number(value: str, where: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise FactorImportError(f"{where}: not a number: {value!r}") from None
    if not np.isfinite(out):
        raise FactorImportError(f"{where}: not a finite number: {value!r}")
    return out


def _read_raw(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FactorImportError(f"{path}: cannot read file: {exc.strerror or exc}") from exc


def _useeio_columns(path: Path, header: list[str] | None) -> tuple[list[str], dict[str, int]]:
    """The stripped header and the position of every published column (else a clear error)."""
    if header is None:
        raise FactorImportError(f"{path}: empty file")
    header = [h.strip() for h in header]
    missing = [c for c in _USEEIO_COLUMNS if c not in header]
    if missing:
        raise FactorImportError(
            f"{path}: not the useeio-csv layout; missing column(s) {missing}. "
            "Use --format generic-csv for other layouts."
        )
    return header, {c: header.index(c) for c in _USEEIO_COLUMNS}


def _useeio_reference_flags(lineno: int, code: str, ref: str, warnings: list[str]) -> list[str]:
    """Flag (and keep) the Reference USEEIO Code anomalies of the published file."""
    if "," in ref:
        parts = [p.strip() for p in ref.split(",")]
        if all(re.fullmatch(r"\d{3}", p) for p in parts):
            warnings.append(
                f"line {lineno} code {code}: Reference USEEIO Code {ref!r} looks mangled "
                "(digits split into groups of three); kept as published"
            )
            return ["mangled-reference-code"]
        warnings.append(
            f"line {lineno} code {code}: several USEEIO codes in one field ({ref}); "
            "kept as published"
        )
        return ["multi-reference-code"]
    if ref and not _USEEIO_REF.fullmatch(ref):
        warnings.append(f"line {lineno} code {code}: unusual Reference USEEIO Code {ref!r}")
        return ["unusual-reference-code"]
    return []


def _useeio_value_flags(
    lineno: int,
    code: str,
    title: str,
    factors: tuple[float, float, float],
    warnings: list[str],
) -> list[str]:
    """Flag (and keep) title typos, margins that do not add up and negative factors."""
    without, margin, with_m = factors
    flags = []
    for typo, fix in _KNOWN_TYPOS.items():
        if re.search(rf"\b{typo}\b", title):
            flags.append("title-typo")
            warnings.append(
                f"line {lineno} code {code}: title typo {typo!r} (for {fix!r}) kept as "
                f"published: {title!r}"
            )
    if abs(without + margin - with_m) > 0.0015:
        flags.append("margin-sum-mismatch")
        warnings.append(
            f"line {lineno} code {code}: without margins {without} + margins {margin} "
            f"!= with margins {with_m}"
        )
    if without < 0 or with_m < 0:
        flags.append("negative-factor")
        warnings.append(f"line {lineno} code {code}: negative factor kept")
    return flags


def _useeio_rows(
    path: Path, reader, header: list[str], col: dict[str, int], warnings: list[str]
) -> tuple[list[tuple], set[str], bool]:
    """The factor rows (with their anomaly flags), the units seen and whether the file is
    sorted by descending factor."""
    rows = []
    units: set[str] = set()
    prev_with = None
    sorted_by_factor = True
    for lineno, rec in enumerate(reader, start=2):
        if not rec or all(not c.strip() for c in rec):
            continue
        if len(rec) != len(header):
            raise FactorImportError(
                f"{path} line {lineno}: {len(rec)} fields, expected {len(header)}"
            )
        code = rec[col["2017 NAICS Code"]].strip()
        title = rec[col["2017 NAICS Title"]].strip()
        where = f"{path} line {lineno} (code {code})"
        if not re.fullmatch(r"\d{6}", code):
            raise FactorImportError(f"{where}: NAICS code must be 6 digits")
        without = _number(rec[col["Supply Chain Emission Factors without Margins"]], where)
        margin = _number(rec[col["Margins of Supply Chain Emission Factors"]], where)
        with_m = _number(rec[col["Supply Chain Emission Factors with Margins"]], where)
        ref = rec[col["Reference USEEIO Code"]].strip()
        units.add(rec[col["Unit"]].strip())
        flags = _useeio_reference_flags(lineno, code, ref, warnings)
        flags += _useeio_value_flags(lineno, code, title, (without, margin, with_m), warnings)
        if prev_with is not None and with_m > prev_with:
            sorted_by_factor = False
        prev_with = with_m
        rows.append((code, title, without, margin, with_m, ref, ";".join(flags)))
    if not rows:
        raise FactorImportError(f"{path}: header only, no factor rows")
    return rows, units, sorted_by_factor


def _useeio_metadata(
    path: Path, raw: bytes, name: str, version: str, unit: re.Match, warnings: list[str]
) -> DatasetMetadata:
    """What the EPA file is, as the dataset records it (the unit says currency and year)."""
    currency, published_unit = unit.group(2), unit.group(0)
    return DatasetMetadata(
        name=name,
        version=str(version),
        title="Supply Chain Greenhouse Gas Emission Factors for US Industries and Commodities",
        publisher="US Environmental Protection Agency, Office of Research and Development",
        licence="US Government work, public domain (17 U.S.C. 105)",
        currency=currency,
        price_year=int(unit.group(1)),
        unit=f"kg CO2e/{currency}",
        price_bases=list(PRICE_BASES),
        spend_price_basis=unit.group(3),
        classification="NAICS 2017",
        gwp_set="IPCC AR5 (100-year)",
        source_url="https://catalog.data.gov/dataset/"
        "supply-chain-greenhouse-gas-emission-factors-v1-2-by-naics-6",
        import_date=date.today().isoformat(),
        description=(
            "Every factor is per dollar of purchaser-price spend (published Unit column: "
            + published_unit
            + "). 'with margins' = cradle to the point of sale (production plus transport, "
            "wholesale and retail margins); 'without margins' = cradle to the point of "
            "production (the same purchaser-price dollar, margins' emissions left out). "
            "'without margins' is not a producer-price factor."
        ),
        format="useeio-csv",
        source_file=path.name,
        source_sha256=hashlib.sha256(raw).hexdigest(),
        warnings=list(warnings),
    )


def read_useeio_csv(
    path: str | Path, name: str = "useeio", version: str = "1.2"
) -> tuple[FactorDataset, list[str]]:
    """Parse the US EPA supply chain factors CSV in its published layout, keeping anomalies.

    Returns the dataset and the warnings (anomalies found and kept), so callers can print them.
    """
    path = Path(path)
    raw = _read_raw(path)
    warnings = _file_facts(raw, path)
    reader = csv.reader(io.StringIO(_decode(raw, path), newline=""))
    header, col = _useeio_columns(path, next(reader, None))
    rows, units, sorted_by_factor = _useeio_rows(path, reader, header, col, warnings)
    if len(units) != 1:
        raise FactorImportError(f"{path}: mixed units in the Unit column: {sorted(units)}")
    unit = units.pop()
    m = _USEEIO_UNIT.match(unit)
    if not m:
        raise FactorImportError(f"{path}: unexpected Unit {unit!r}")
    codes = [r[0] for r in rows]
    if sorted_by_factor and codes != sorted(codes):
        warnings.append("rows are sorted by descending factor, not by code; order kept")
    table = pd.DataFrame(
        rows,
        columns=[
            "code",
            "title",
            "producer_factor",
            "margin",
            "purchaser_factor",
            "reference_code",
            "flags",
        ],
    )
    table["source"] = ""
    return FactorDataset(_useeio_metadata(path, raw, name, version, m, warnings), table), warnings


_GENERIC_REQUIRED_META = ("currency", "price_year", "classification")
_GENERIC_UNIT = re.compile(r"^(kg|t|g)\s*CO2e\s*/\s*([A-Z]{3})$")


def _generic_meta(lines: list[str]) -> tuple[dict[str, str], int]:
    """The ``# key: value`` lines above the header, and where the CSV body starts."""
    meta: dict[str, str] = {}
    body_start = 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("#"):
            key, sep, value = stripped[1:].partition(":")
            if sep:
                meta[key.strip().lower().replace(" ", "_")] = value.strip()
            body_start = i + 1
        elif not stripped:
            body_start = i + 1
        else:
            break
    return meta, body_start


@dataclass
class _GenericBasis:
    """What the money and mass in a generic file's factors are, and the scale to kg per unit."""

    currency: str
    price_year: int
    unit: str
    spend_price_basis: str
    per_amount: float
    scale: float


def _generic_basis(path: Path, meta: dict[str, str]) -> _GenericBasis:
    """Read and check the metadata that says what one factor value means."""
    missing = [k for k in ("name", "version", *_GENERIC_REQUIRED_META) if not meta.get(k)]
    if missing:
        raise FactorImportError(
            f"{path}: generic-csv metadata missing: {', '.join(missing)} "
            "(add '# key: value' lines above the header, or pass --dataset/--version)"
        )
    currency = meta["currency"].upper()
    try:
        price_year = int(meta["price_year"])
    except ValueError:
        raise FactorImportError(
            f"{path}: price_year must be a year, not {meta['price_year']!r}"
        ) from None
    unit = meta.get("unit", f"kg CO2e/{currency}")
    um = _GENERIC_UNIT.match(unit)
    if not um or um.group(2) != currency:
        raise FactorImportError(
            f"{path}: unit {unit!r} not understood; expected 'kg CO2e/{currency}' or "
            f"'t CO2e/{currency}' (use per_amount for factors per 1,000 or 1,000,000 units)"
        )
    spend_price_basis = meta.get("spend_price_basis", "").strip().lower()
    if spend_price_basis not in _SPEND_PRICE_BASES:
        raise FactorImportError(
            f"{path}: spend_price_basis {meta['spend_price_basis']!r} not understood; use "
            "purchaser, basic or producer (the price of the money in the factor's denominator)"
        )
    mass_scale = {"kg": 1.0, "t": 1000.0, "g": 0.001}[um.group(1)]
    per_amount = _number(meta.get("per_amount", "1"), f"{path}: per_amount")
    if per_amount <= 0:
        raise FactorImportError(f"{path}: per_amount must be positive")
    return _GenericBasis(
        currency, price_year, unit, spend_price_basis, per_amount, mass_scale / per_amount
    )


def _generic_factors(
    path: Path, table: pd.DataFrame, scale: float, warnings: list[str]
) -> list[str]:
    """Check codes and factor columns, rescale them to kg CO2e per unit in place; returns the
    price bases (factor columns) the file has."""
    table.columns = [c.strip().lower() for c in table.columns]
    if "code" not in table.columns:
        raise FactorImportError(f"{path}: generic-csv needs a 'code' column")
    bases = [b for b in PRICE_BASES if f"{b}_factor" in table.columns]
    if not bases:
        raise FactorImportError(
            f"{path}: generic-csv needs 'purchaser_factor' and/or 'producer_factor' columns"
        )
    table["code"] = table["code"].str.strip()
    if (table["code"] == "").any():
        first = int(np.flatnonzero(table["code"] == "")[0]) + 1
        raise FactorImportError(f"{path}: empty code in data row {first}")
    for basis in PRICE_BASES:
        colname = f"{basis}_factor"
        if colname not in table.columns:
            table[colname] = np.nan
            continue
        values = pd.to_numeric(table[colname].str.strip(), errors="coerce")
        bad = values.isna() & (table[colname].str.strip() != "")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise FactorImportError(
                f"{path}: data row {i + 1} (code {table['code'].iat[i]}): {colname} "
                f"{table[colname].iat[i]!r} is not a number"
            )
        blank = values.isna() & (table[colname].str.strip() == "")
        if blank.any():
            warnings.append(
                f"{int(blank.sum())} row(s) without a {colname}; those codes "
                f"cannot be estimated {margins_label(basis)}"
            )
        if (values < 0).any():
            warnings.append(f"{int((values < 0).sum())} negative {colname} value(s) kept")
        table[colname] = values * scale
    if "margin" in table.columns:
        table["margin"] = pd.to_numeric(table["margin"], errors="coerce") * scale
    dups = table["code"][table["code"].duplicated()]
    if len(dups):
        raise FactorImportError(f"{path}: duplicate codes: {dups.tolist()[:10]}")
    return bases


def read_generic_csv(
    path: str | Path, name: str | None = None, version: str | None = None
) -> tuple[FactorDataset, list[str]]:
    """Parse the documented ``generic-csv`` format (see docs/factor-formats.md)."""
    path = Path(path)
    raw = _read_raw(path)
    warnings = [w for w in _file_facts(raw, path) if "CRLF" not in w and "newline" not in w]
    lines = _decode(raw, path).splitlines()
    meta, body_start = _generic_meta(lines)
    if name:
        meta["name"] = name
    if version:
        meta["version"] = str(version)
    basis = _generic_basis(path, meta)
    try:
        table = pd.read_csv(
            io.StringIO("\n".join(lines[body_start:])), dtype=str, keep_default_na=False
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FactorImportError(f"{path}: cannot parse CSV body: {exc}") from exc
    bases = _generic_factors(path, table, basis.scale, warnings)
    if basis.scale != 1.0:
        warnings.append(
            f"factors rescaled by {basis.scale:g} from {basis.unit} per {basis.per_amount:g} "
            f"{basis.currency} to kg CO2e/{basis.currency}"
        )
    md = DatasetMetadata(
        name=meta["name"],
        version=str(meta["version"]),
        publisher=meta.get("publisher", ""),
        licence=meta.get("licence", meta.get("license", "")),
        currency=basis.currency,
        price_year=basis.price_year,
        unit=f"kg CO2e/{basis.currency}",
        price_bases=bases,
        classification=meta["classification"],
        spend_price_basis=basis.spend_price_basis,
        gwp_set=meta.get("gwp_set", ""),
        source_url=meta.get("source_url", ""),
        import_date=date.today().isoformat(),
        title=meta.get("title", ""),
        description=meta.get("description", ""),
        format="generic-csv",
        source_file=path.name,
        source_sha256=hashlib.sha256(raw).hexdigest(),
        warnings=list(warnings),
    )
    return FactorDataset(md, table), warnings


# --------------------------------------------------------------------------------------------
# store


def resolve_store_root(store_root: str | Path | None = None) -> Path:
    """Explicit argument > ``$FACTOR_STORE`` > ``./instance/factors``."""
    if store_root:
        return Path(store_root)
    env = os.environ.get("FACTOR_STORE")
    if env:
        return Path(env)
    return Path.cwd() / "instance" / "factors"


def _version_key(version: str) -> tuple:
    """Natural sort: 1.10 after 1.9; numbers before text at the same position."""
    parts = re.split(r"(\d+)", version)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


def _check_name(kind: str, value: str) -> str:
    value = str(value).strip()
    if not _SAFE_NAME.fullmatch(value) or ".." in value:
        raise DatasetError(
            f"invalid dataset {kind} {value!r}: use letters, digits, '.', '_', '+', '-' "
            "(max 64 characters, no leading dot)"
        )
    return value


class FactorStore:
    """Folder-per-version factor store with atomic imports."""

    METADATA = "metadata.json"
    TABLE = "factors.csv"

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = resolve_store_root(root)

    def path_for(self, name: str, version: str) -> Path:
        return self.root / _check_name("name", name) / _check_name("version", version)

    def versions(self, name: str) -> list[str]:
        """Imported versions of a dataset, oldest first."""
        folder = self.root / _check_name("name", name)
        if not folder.is_dir():
            return []
        found = [
            p.name
            for p in folder.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / self.METADATA).is_file()
        ]
        return sorted(found, key=_version_key)

    def list(self) -> list[DatasetMetadata]:
        """Metadata of every imported version."""
        if not self.root.is_dir():
            return []
        out = []
        for folder in sorted(
            p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")
        ):
            for version in self.versions(folder.name):
                out.append(self.read_metadata(folder.name, version))
        return out

    def read_metadata(self, name: str, version: str) -> DatasetMetadata:
        path = self.path_for(name, version) / self.METADATA
        try:
            return DatasetMetadata.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise DatasetNotFoundError(
                f"dataset {name} {version} not found in {self.root}"
            ) from None
        except (json.JSONDecodeError, TypeError, ValueError) as exc:
            raise DatasetError(f"{path}: unreadable metadata ({exc})") from exc

    def load(self, name: str, version: str | None = None) -> FactorDataset:
        """Load a version (None = latest by natural version order)."""
        versions = self.versions(name)
        if not versions:
            raise DatasetNotFoundError(
                f"dataset {name!r} not found in factor store {self.root} "
                f"(available: {', '.join(sorted({m.name for m in self.list()} | {STARTER_NAME}))})"
            )
        if version is None:
            version = versions[-1]
        elif str(version) not in versions:
            raise DatasetNotFoundError(
                f"dataset {name!r} has no version {version!r} in {self.root} "
                f"(available: {', '.join(versions)})"
            )
        meta = self.read_metadata(name, str(version))
        table = pd.read_csv(
            self.path_for(name, str(version)) / self.TABLE,
            dtype={"code": str, "title": str, "reference_code": str, "source": str, "flags": str},
            keep_default_na=False,
            na_values={"producer_factor": [""], "purchaser_factor": [""], "margin": [""]},
        )
        return FactorDataset(meta, table)

    def save(self, dataset: FactorDataset, replace: bool = False) -> tuple[Path, bool]:
        """Write a dataset version atomically; refuse to overwrite unless ``replace``."""
        name = _check_name("name", dataset.name)
        version = _check_name("version", dataset.version)
        if name == STARTER_NAME:
            raise DatasetError(f"{STARTER_NAME!r} is the built-in dataset name; choose another")
        dest = self.path_for(name, version)
        existed = dest.exists()
        if existed and not replace:
            raise DatasetExistsError(
                f"dataset {name} {version} already imported at {dest}; use --replace to "
                "overwrite it"
            )
        parent = dest.parent
        parent.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex[:8]
        tmp = parent / f".tmp-{version}-{token}"
        tmp.mkdir()
        try:
            dataset.factors.to_csv(tmp / self.TABLE, index=False, lineterminator="\n")
            (tmp / self.METADATA).write_text(
                json.dumps(dataset.metadata.to_dict(), indent=2, ensure_ascii=False) + "\n",
                encoding="utf-8",
            )
            if existed:
                old = parent / f".old-{version}-{token}"
                os.rename(dest, old)
                os.rename(tmp, dest)
                shutil.rmtree(old, ignore_errors=True)
            else:
                try:
                    os.rename(tmp, dest)
                except OSError as exc:
                    raise DatasetExistsError(
                        f"dataset {name} {version} was imported concurrently at {dest}"
                    ) from exc
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return dest, existed


# --------------------------------------------------------------------------------------------
# public helpers


def import_dataset(
    path: str | Path,
    fmt: str,
    name: str | None = None,
    version: str | None = None,
    store_root: str | Path | None = None,
    replace: bool = False,
    metadata: dict[str, Any] | None = None,
) -> ImportReport:
    """Read a factor file in a known format and store it as ``name``/``version``."""
    if fmt == "useeio-csv":
        dataset, warnings = read_useeio_csv(path, name=name or "useeio", version=version or "1.2")
    elif fmt == "generic-csv":
        dataset, warnings = read_generic_csv(path, name=name, version=version)
    else:
        raise FactorImportError(f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}")
    for key, value in (metadata or {}).items():
        if key not in DatasetMetadata.__dataclass_fields__ or key in ("name", "version"):
            raise FactorImportError(f"unknown or protected metadata field {key!r}")
        setattr(dataset.metadata, key, int(value) if key == "price_year" else value)
    store = FactorStore(store_root)
    dest, replaced = store.save(dataset, replace=replace)
    return ImportReport(dataset.metadata, dest, len(dataset.factors), warnings, replaced)


def load_dataset(
    name: str, version: str | None = None, store_root: str | Path | None = None
) -> FactorDataset:
    """Load a dataset by name; ``starter`` is built in, others come from the store."""
    if name == STARTER_NAME:
        ds = starter_dataset()
        if version not in (None, ds.version):
            raise DatasetNotFoundError(
                f"the built-in starter dataset has version {ds.version}, not {version!r}"
            )
        return ds
    return FactorStore(store_root).load(name, version)


def list_datasets(store_root: str | Path | None = None) -> list[DatasetMetadata]:
    """The starter set plus every imported dataset version."""
    return [starter_dataset().metadata, *FactorStore(store_root).list()]
