"""Reading spend ledgers from disk and writing results back safely.

Ledgers arrive from procurement systems in many shapes: UTF-8 with or without BOM, GB18030/GBK
exports from Chinese ERPs, comma/semicolon/tab delimiters, or XLSX. ``read_ledger`` accepts all
of these and turns unreadable input into a :class:`LedgerError` naming the file. Problems with
individual rows are reported as :class:`RowProblem` objects, collected all at once.

``write_csv`` neutralises spreadsheet formula injection in text cells while leaving numeric
columns numeric.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from charset_normalizer import from_bytes

__all__ = [
    "RowProblem",
    "LedgerError",
    "read_ledger",
    "neutralise_formulas",
    "write_csv",
]

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "cp936"}
MAX_MESSAGE_PROBLEMS = 50


@dataclass(frozen=True)
class RowProblem:
    """One validation failure: which row (1-based data row, header excluded), column, value, rule.

    ``line_number`` is None for file-level problems (missing column, unreadable file).
    """

    line_number: int | None
    line_id: str | None
    column: str | None
    value: str | None
    rule: str

    def __str__(self) -> str:
        parts = []
        if self.line_number is not None:
            parts.append(f"row {self.line_number}")
        if self.line_id not in (None, ""):
            parts.append(f"line_id {self.line_id}")
        if self.column:
            parts.append(f"column {self.column!r}")
        if self.value is not None:
            parts.append(f"value {self.value!r}")
        where = ", ".join(parts)
        return f"{where}: {self.rule}" if where else self.rule


class LedgerError(ValueError):
    """Invalid ledger input; carries every problem found, not just the first."""

    def __init__(self, problems: list[RowProblem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(self._message())

    def _message(self) -> str:
        where = f" in {self.source}" if self.source else ""
        head = f"{len(self.problems)} problem(s){where} (rows count from the first data row):"
        lines = [f"  {p}" for p in self.problems[:MAX_MESSAGE_PROBLEMS]]
        if len(self.problems) > MAX_MESSAGE_PROBLEMS:
            lines.append(f"  ... and {len(self.problems) - MAX_MESSAGE_PROBLEMS} more")
        return "\n".join([head, *lines])


def _file_error(path: Path, rule: str) -> LedgerError:
    return LedgerError([RowProblem(None, None, None, None, f"{path}: {rule}")], str(path))


def _decode(raw: bytes, path: Path, encoding: str | None) -> tuple[str, str]:
    """Decode bytes with the given or detected encoding; GB-family text is read as GB18030."""
    if encoding:
        try:
            return raw.decode(encoding), encoding
        except LookupError:
            raise _file_error(path, f"unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise _file_error(
                path,
                f"cannot decode as {encoding} at byte {exc.start} (file line {line}); "
                "wrong encoding? try --encoding gb18030 or utf-8",
            ) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    if b"\x00" in raw:
        raise _file_error(path, "binary file (NUL bytes); expected CSV text or XLSX")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw).best()
    if best is None:
        raise _file_error(path, "not text in any recognised encoding; expected CSV or XLSX")
    detected = best.encoding.lower().replace("-", "").replace("_", "")
    enc = "gb18030" if detected in _GB_FAMILY or detected.startswith("gb") else best.encoding
    try:
        return raw.decode(enc), enc
    except UnicodeDecodeError:
        raise _file_error(path, f"cannot decode (detected {best.encoding})") from None


def _looks_binary(text: str) -> bool:
    sample = text[:20000]
    if not sample:
        return False
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    return control / len(sample) > 0.01


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        header = text.splitlines()[0] if text else ""
        counts = {d: header.count(d) for d in (",", ";", "\t")}
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _normalise_columns(df: pd.DataFrame) -> pd.DataFrame:
    df.columns = [str(c).strip().lower().replace(" ", "_") for c in df.columns]
    return df


def read_ledger(path: str | Path, encoding: str | None = None) -> pd.DataFrame:
    """Read a ledger CSV (any common encoding/delimiter) or XLSX as text columns.

    All columns are read as text so that validation can quote the original value of a bad
    cell. ``df.attrs`` records the source path, encoding and delimiter used.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _file_error(path, "file not found") from None
    except OSError as exc:
        raise _file_error(path, f"cannot read file ({exc.strerror or exc})") from None
    if not raw.strip():
        raise _file_error(path, "empty file")
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_error(path, "legacy .xls workbook; save it as .xlsx or CSV")
    if raw.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            df = pd.read_excel(io.BytesIO(raw), dtype=str, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many types for corrupt workbooks
            raise _file_error(path, f"unreadable XLSX workbook ({type(exc).__name__})") from None
        df = _normalise_columns(df.fillna(""))
        df.attrs.update(source=str(path), encoding="xlsx", delimiter="")
        return df
    text, used = _decode(raw, path, encoding)
    if _looks_binary(text):
        raise _file_error(path, "binary or corrupt content; expected CSV text or XLSX")
    delimiter = _sniff_delimiter(text)
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise _file_error(path, f"cannot parse CSV ({exc})") from None
    df = _normalise_columns(df)
    df.attrs.update(source=str(path), encoding=used, delimiter=delimiter)
    return df


def _is_text(series: pd.Series) -> bool:
    return (
        series.dtype == object
        or isinstance(series.dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(series.dtype)
    )


def _escape(values: pd.Series) -> pd.Series:
    text = values.astype(str)
    risky = text.str.startswith(_FORMULA_PREFIXES)
    if not risky.any():
        return values
    return values.where(~risky.to_numpy(), "'" + text)


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells starting with = + - @ (or tab/CR) with a quote; numbers untouched."""
    out = {}
    for name in df.columns:
        s = df[name]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = pd.Series(s.cat.categories, dtype=object)
            escaped = _escape(cats)
            if not escaped.equals(cats):
                s = s.cat.rename_categories(escaped.tolist())
            out[name] = s
        elif _is_text(s):
            mask = s.notna()
            if mask.any():
                s = s.copy()
                s[mask] = _escape(s[mask].astype(object))
            out[name] = s
        else:
            out[name] = s
    return pd.DataFrame(out, index=df.index)


def write_csv(
    df: pd.DataFrame,
    path: str | Path,
    chunk_rows: int = 200_000,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write UTF-8 CSV in chunks (reporting progress), with formula injection neutralised."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(df)
    with path.open("w", encoding="utf-8", newline="") as fh:
        if n == 0:
            neutralise_formulas(df).to_csv(fh, index=False, lineterminator="\n")
            return
        for start in range(0, n, chunk_rows):
            chunk = neutralise_formulas(df.iloc[start : start + chunk_rows])
            chunk.to_csv(fh, index=False, header=start == 0, lineterminator="\n")
            if progress is not None:
                progress(len(chunk))


def problems_from_mask(
    mask: np.ndarray, line_ids: np.ndarray, column: str, values: np.ndarray, rule: str
) -> list[RowProblem]:
    """RowProblems for the True positions of a validation mask (vectorised check, then list)."""
    where = np.flatnonzero(mask)
    return [
        RowProblem(int(i) + 1, _text(line_ids[i]), column, _text(values[i]), rule)
        for i in where.tolist()
    ]


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)
