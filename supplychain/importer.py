"""Importing a brand's supplier list and ERP spend lines from CSV or XLSX files.

Files come from procurement teams and ERP exports, often in Chinese and in legacy encodings, so
reading is forgiving (encodings, delimiters, header aliases, date and number spellings) while
validation is strict and explains every rejected value by file, line, column and rule.

By default an import is all-or-nothing: every row is validated before anything is written, and
one bad row raises `ImportValidationError` with the full report. With `skip_invalid=True` the
good rows are imported and the bad ones are listed in the report. Re-importing the same file is
idempotent: suppliers are matched by the brand's supplier code, spend lines by a content key.

Writes use bulk executemany statements into the caller's session; the caller commits.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gc
import hashlib
import io
import os
import re
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from time import time_ns
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from supplychain import audit
from supplychain.models import (
    ImportBatch,
    Organization,
    OrgKind,
    RelationshipStatus,
    SpendLine,
    SupplierRelationship,
    utcnow,
)

Progress = Callable[[int], None]

KIND_SUPPLIERS = "suppliers"
KIND_SPEND = "spend"
DEFAULT_SECTOR_SYSTEM = "NAICS2017"
MAX_AMOUNT = Decimal("1e13")
STORED_PROBLEMS_LIMIT = 1000
_LOOKUP_CHUNK = 900
_CENT = Decimal("0.01")


# --------------------------------------------------------------------------------------------
# Report and errors
# --------------------------------------------------------------------------------------------


@dataclass
class RowProblem:
    """One rejected value, precise enough for a buyer to find and fix it in the source file."""

    file: str
    line: int
    column: str
    value: str
    rule: str
    message: str

    def format(self) -> str:
        where = f"{self.file}:{self.line}: column '{self.column}' value '{self.value}'"
        return f"{where}: {self.message} [{self.rule}]"


@dataclass
class ImportReport:
    """What an import did (or would have done) with a file; stored on the ImportBatch."""

    file: str
    kind: str
    rows_total: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    batch_public_id: str | None = None
    encoding: str | None = None
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def bad_rows(self) -> int:
        return len({p.line for p in self.problems})

    def as_dict(self, max_problems: int | None = None) -> dict[str, Any]:
        """JSON-able form; `max_problems` keeps stored reports bounded for huge bad files."""
        data = asdict(self)
        problems = data["problems"]
        if max_problems is not None and len(problems) > max_problems:
            data["problems"] = problems[:max_problems]
            data["problems_truncated"] = len(problems) - max_problems
        data["problem_count"] = len(problems)
        return data

    def format_text(self, max_problems: int | None = 200) -> str:
        """A human summary for the CLI: counts first, then one line per problem."""
        lines = [
            f"{self.kind} import of {self.file}: {_plural(self.rows_total, 'row')}, "
            f"{self.inserted} inserted, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.skipped} skipped."
        ]
        if self.ignored_columns:
            lines.append("Ignored columns: " + ", ".join(self.ignored_columns))
        if self.problems:
            lines.append(
                f"{_plural(len(self.problems), 'problem')} in {_plural(self.bad_rows, 'row')}:"
            )
            shown = self.problems if max_problems is None else self.problems[:max_problems]
            lines.extend("  " + p.format() for p in shown)
            if len(shown) < len(self.problems):
                lines.append(f"  ... and {len(self.problems) - len(shown)} more problems.")
        return "\n".join(lines)


class ImportFileError(Exception):
    """The file as a whole cannot be imported: unreadable, undecodable or missing columns."""

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem
        self.user_message = str(self)


class ImportValidationError(Exception):
    """Some rows are invalid and the import was all-or-nothing, so nothing was written."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        first = "\n".join(p.format() for p in report.problems[:20])
        more = len(report.problems) - 20
        self.user_message = (
            f"Nothing was imported from {report.file}: {report.bad_rows} of "
            f"{_plural(report.rows_total, 'row')} had {_plural(len(report.problems), 'problem')}."
            f"\n{first}" + (f"\n... and {more} more problems." if more > 0 else "")
        )
        super().__init__(self.user_message)


class _Invalid(Exception):
    """Raised by a value cleaner; becomes a RowProblem for the cell."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------

ISO_CURRENCIES = frozenset(
    """
    AED ARS AUD BDT BGN BHD BRL CAD CHF CLP CNY COP CZK DKK EGP ETB EUR GBP GHS HKD HUF IDR ILS
    INR ISK JOD JPY KES KHR KRW KWD KZT LAK LKR MAD MMK MOP MXN MYR NGN NOK NPR NZD OMR PEN PHP
    PKR PLN QAR RON RSD RUB SAR SEK SGD THB TND TRY TWD TZS UAH UGX USD UZS VND ZAR
    """.split()
)

CURRENCY_ALIASES = {
    "RMB": "CNY",
    "人民币": "CNY",
    "元": "CNY",
    "美元": "USD",
    "美金": "USD",
    "欧元": "EUR",
    "英镑": "GBP",
    "日元": "JPY",
    "港币": "HKD",
    "港元": "HKD",
    "新台币": "TWD",
    "韩元": "KRW",
    "新加坡元": "SGD",
    "越南盾": "VND",
    "泰铢": "THB",
    "印度卢比": "INR",
    "澳元": "AUD",
    "加元": "CAD",
    "瑞士法郎": "CHF",
}

ISO_COUNTRIES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW
    """.split()
)

# Names buyers actually type, folded (see _fold); one country per line, code first.
_COUNTRY_NAME_TABLE = """
CN 中国 中国大陆 中华人民共和国 china prc chn
HK 香港 中国香港 hongkong
MO 澳门 中国澳门 macau macao
TW 台湾 中国台湾 taiwan
JP 日本 japan
KR 韩国 southkorea korea
US 美国 usa unitedstates unitedstatesofamerica
GB 英国 uk unitedkingdom greatbritain
DE 德国 germany deu
FR 法国 france
IT 意大利 italy
ES 西班牙 spain
PT 葡萄牙 portugal
NL 荷兰 netherlands
BE 比利时 belgium
CH 瑞士 switzerland
SE 瑞典 sweden
PL 波兰 poland
TR 土耳其 turkey türkiye
RU 俄罗斯 russia
VN 越南 vietnam
TH 泰国 thailand
IN 印度 india
ID 印度尼西亚 印尼 indonesia
MY 马来西亚 malaysia
SG 新加坡 singapore
PH 菲律宾 philippines
KH 柬埔寨 cambodia
BD 孟加拉国 孟加拉 bangladesh
PK 巴基斯坦 pakistan
LK 斯里兰卡 srilanka
MM 缅甸 myanmar
MX 墨西哥 mexico
BR 巴西 brazil
CA 加拿大 canada
AU 澳大利亚 australia
NZ 新西兰 newzealand
EG 埃及 egypt
MA 摩洛哥 morocco
ET 埃塞俄比亚 ethiopia
ZA 南非 southafrica
AE 阿联酋 unitedarabemirates uae
SA 沙特阿拉伯 沙特 saudiarabia
IL 以色列 israel
"""
COUNTRY_NAMES = {
    name: line.split()[0]
    for line in _COUNTRY_NAME_TABLE.strip().splitlines()
    for name in line.split()[1:]
}

STATUS_VALUES = {
    "active": RelationshipStatus.ACTIVE,
    "under_review": RelationshipStatus.UNDER_REVIEW,
    "delisted": RelationshipStatus.DELISTED,
    "合作中": RelationshipStatus.ACTIVE,
    "审核中": RelationshipStatus.UNDER_REVIEW,
    "已停用": RelationshipStatus.DELISTED,
}

_CHINESE_TIERS = {numeral: n for n, numeral in enumerate("一二三四五六七八九十", start=1)}


# --------------------------------------------------------------------------------------------
# Value cleaners: raw cell text (already stripped, never empty) -> stored value, or _Invalid
# --------------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return re.sub(r"[\s_\-.]+", "", text).casefold()


def _text(max_len: int) -> Callable[[str], str]:
    def clean(raw: str) -> str:
        if len(raw) > max_len:
            raise _Invalid(
                "too_long", f"The value is longer than the {max_len} characters allowed."
            )
        return raw

    return clean


def clean_currency(raw: str) -> str:
    """ISO 4217 code; common Chinese names and RMB are accepted for the codes they mean."""
    code = raw.upper()
    if code in ISO_CURRENCIES:
        return code
    alias = CURRENCY_ALIASES.get(code) or CURRENCY_ALIASES.get(raw)
    if alias:
        return alias
    raise _Invalid(
        "unknown_currency",
        f"'{raw}' is not a known ISO 4217 currency code; use a code such as CNY, USD or EUR.",
    )


def clean_country(raw: str) -> str:
    """ISO 3166 alpha-2 code; a few common Chinese and English names are translated."""
    code = raw.upper()
    if len(code) == 2 and code in ISO_COUNTRIES:
        return code
    found = COUNTRY_NAMES.get(_fold(raw))
    if found:
        return found
    raise _Invalid(
        "bad_country",
        "The country must be an ISO 3166 two-letter code such as CN, VN or DE "
        "(common names like 中国 are accepted).",
    )


_AMOUNT_JUNK = str.maketrans("", "", " \u00a0\u3000'¥￥$€£")
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d{1,2}$")
_EURO_STYLE = re.compile(r"^-?\d{1,3}(\.\d{3})+,\d+$")


def clean_amount(raw: str) -> Decimal:
    """Money to the cent: thousands separators, decimal commas and currency signs tolerated."""
    text = raw.translate(_AMOUNT_JUNK)
    if text.startswith("(") and text.endswith(")"):
        text = "-" + text[1:-1]
    if "," in text:
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        elif _DECIMAL_COMMA.match(text):
            text = text.replace(",", ".")
        elif _EURO_STYLE.match(text):
            text = text.replace(".", "").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Invalid("not_a_number", "The amount is not a number.") from None
    if not value.is_finite():
        raise _Invalid("not_a_number", "The amount is not a finite number.")
    if value < 0:
        raise _Invalid("negative_amount", "The amount is negative; amounts must be zero or more.")
    if value > MAX_AMOUNT:
        raise _Invalid(
            "amount_too_large",
            "The amount is larger than 10,000,000,000,000, which is not plausible.",
        )
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


_ISO_DATE = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_CN_DATE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_EXCEL_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_MESSAGE = (
    "The date is not recognised; use YYYY-MM-DD, YYYY/MM/DD, YYYY年M月D日 or an Excel date."
)


def clean_date(raw: str) -> date:
    """ISO, slashed, Chinese, compact (ERP) and Excel serial dates, within 1950-2100."""
    match = _ISO_DATE.match(raw) or _CN_DATE.match(raw) or _COMPACT_DATE.match(raw)
    try:
        if match:
            year, month, day = (int(part) for part in match.groups())
            value = date(year, month, day)
        elif _EXCEL_SERIAL.match(raw):
            value = _EXCEL_EPOCH + timedelta(days=int(float(raw)))
        else:
            raise _Invalid("bad_date", _DATE_MESSAGE)
    except ValueError:
        raise _Invalid("bad_date", "The date does not exist in the calendar.") from None
    if not 1950 <= value.year <= 2100:
        raise _Invalid("bad_date", "The date is outside the plausible range 1950 to 2100.")
    return value


_TIER = re.compile(r"^(?:tier|t)?\s*(\d+)(?:\.0+)?$", re.IGNORECASE)
_CN_TIER = re.compile(r"^第?([一二三四五六七八九十])级$")


def clean_tier(raw: str) -> int:
    """Tier 1 are direct suppliers; deeper tiers up to 10 are accepted (T2, 二级 spellings)."""
    match = _TIER.match(raw)
    cn = None if match else _CN_TIER.match(raw)
    tier = int(match.group(1)) if match else (_CHINESE_TIERS[cn.group(1)] if cn else 0)
    if not 1 <= tier <= 10:
        raise _Invalid("bad_tier", "The tier must be a whole number from 1 to 10.")
    return tier


def clean_status(raw: str) -> RelationshipStatus:
    status = STATUS_VALUES.get(re.sub(r"[\s\-]+", "_", raw.lower()))
    if status is None:
        raise _Invalid(
            "bad_status",
            "The status must be active, under_review or delisted (合作中, 审核中 or 已停用).",
        )
    return status


def clean_year(raw: str) -> int:
    match = re.match(r"^(\d{4})(?:\.0+)?$", raw)
    if not match or not 1990 <= int(match.group(1)) <= 2100:
        raise _Invalid("bad_year", "The spend year must be a four-digit year from 1990 to 2100.")
    return int(match.group(1))


def clean_registration_id(raw: str) -> str:
    value = "".join(raw.split()).upper()
    if len(value) > 64:
        raise _Invalid("too_long", "The value is longer than the 64 characters allowed.")
    return value


def clean_sector_system(raw: str) -> str:
    value = re.sub(r"[\s\-_]+", "", raw).upper()
    if len(value) > 16:
        raise _Invalid("too_long", "The value is longer than the 16 characters allowed.")
    return value


# --------------------------------------------------------------------------------------------
# Column specifications
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A field the importer understands and the header spellings that mean it."""

    name: str
    spellings: str  # space-separated aliases; matched case/space/underscore-insensitively
    clean: Callable[[str], Any]
    required: bool = False

    @property
    def aliases(self) -> tuple[str, ...]:
        return (self.name, *self.spellings.split())


_CODE = Column(
    "supplier_code",
    "code supplier_no supplier_number vendor_code vendor_no vendor_number vendor_id "
    "供应商编码 供应商代码 供应商编号 编码",
    _text(64),
    required=True,
)
_CURRENCY = Column("currency", "currency_code 币种 货币 币别", clean_currency)
_CATEGORY = Column("category", "品类 类别 采购品类", _text(128))
_SECTOR_CODE = Column("sector_code", "industry_code naics naics_code 行业代码 行业编码", _text(16))
_SECTOR_SYSTEM = Column(
    "sector_system",
    "classification industry_classification 行业分类体系 行业分类",
    clean_sector_system,
)

SUPPLIER_COLUMNS: tuple[Column, ...] = (
    _CODE,
    Column("name", "supplier_name vendor_name 供应商名称 名称 供应商", _text(255), required=True),
    Column("name_en", "english_name supplier_name_en 英文名称", _text(255)),
    Column(
        "registration_id",
        "registration_number registration_no uscc unified_social_credit_code "
        "统一社会信用代码 信用代码",
        clean_registration_id,
    ),
    Column("country", "country_code 国家 国家地区 国别", clean_country),
    _SECTOR_CODE,
    _SECTOR_SYSTEM,
    _CATEGORY,
    Column("tier", "层级 级别", clean_tier),
    Column("status", "状态", clean_status),
    Column("annual_spend", "spend annual_purchase 年采购额 年度采购金额 年采购金额", clean_amount),
    _CURRENCY,
    Column("spend_year", "year 年度 年份 采购年度", clean_year),
)

SPEND_COLUMNS: tuple[Column, ...] = (
    _CODE,
    Column("amount", "value net_amount 金额 采购金额", clean_amount, required=True),
    Column(_CURRENCY.name, _CURRENCY.spellings, clean_currency, required=True),
    Column(
        "date",
        "spend_date transaction_date posting_date invoice_date 日期 交易日期 记账日期 凭证日期",
        clean_date,
        required=True,
    ),
    _CATEGORY,
    _SECTOR_CODE,
    _SECTOR_SYSTEM,
    Column("description", "desc memo text 描述 摘要 说明", str),
    Column(
        "document_ref",
        "document_number document_no doc_no invoice_no invoice_number reference "
        "单据号 凭证号 发票号 单号",
        _text(64),
    ),
)


def _normalise_header(header: str) -> str:
    """Case, spacing, underscores, a required-marker '*' and a bracketed unit are not meaning."""
    text = re.sub(r"[(（\[【].*?[)）\]】]", "", header.replace("\ufeff", ""))
    return re.sub(r"[\s_\-./\\:：*]+", "", text).casefold()


def _alias_index(columns: Iterable[Column]) -> dict[str, Column]:
    return {_normalise_header(alias): col for col in columns for alias in col.aliases}


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


@dataclass
class _Table:
    """The file's data rows with the header mapped onto known columns."""

    headers: list[str]
    mapping: list[tuple[Column, int, str]]  # column, cell index, header as written
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells)
    encoding: str | None
    ignored: list[str]


def decode_csv_bytes(data: bytes, file: str, encoding: str | None = None) -> tuple[str, str]:
    """Text and the encoding used: BOMs, then strict UTF-8, then GB18030, then detection."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ImportFileError(file, f"'{encoding}' is not a known encoding.") from None
        try:
            return data.decode(encoding).lstrip("\ufeff"), encoding
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                file, f"the file is not valid {encoding} (byte {exc.start}); check the encoding."
            ) from None
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    for candidate in ("utf-8", "gb18030"):
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise ImportFileError(
            file, "the text encoding could not be detected; pass the encoding explicitly."
        )
    return str(best), best.encoding


def _sniff_delimiter(text: str, aliases: dict[str, Column]) -> str:
    """The delimiter under which the first lines show the most known column headers.

    Headers are what we know about a file in advance, so they beat counting punctuation,
    which a description full of semicolons would fool. Failing that: the most cells, comma first.
    """
    head = text[:65536].splitlines()[:20]
    best, best_score = ",", (0, 0)
    for delimiter in (",", ";", "\t"):
        score = (0, 0)
        try:
            for cells in csv.reader(head, delimiter=delimiter):
                known = len(
                    {aliases[k].name for c in cells if (k := _normalise_header(c)) in aliases}
                )
                score = max(score, (known, len(cells)))
        except csv.Error:
            continue
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_rows(
    data: bytes, file: str, encoding: str | None, aliases: dict[str, Column]
) -> tuple[Iterator[tuple[int, list[str]]], str]:
    text, used = decode_csv_bytes(data, file, encoding)
    delimiter = _sniff_delimiter(text, aliases)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = 1
        try:
            for cells in reader:
                yield start, cells
                start = reader.line_num + 1
        except csv.Error as exc:
            raise ImportFileError(
                file, f"line {start}: the CSV cannot be parsed ({exc})."
            ) from None

    return rows(), used


def _cell_text(value: Any) -> str:
    """Excel cells as the text a CSV export would have shown."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _xlsx_rows(data: bytes, file: str) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # From bytes: uploads are stored without an extension, which openpyxl would refuse.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(file, f"the Excel workbook cannot be opened ({exc}).") from None
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            yield number, [_cell_text(v) for v in values]
    finally:
        workbook.close()


def _map_headers(
    headers: list[str], aliases: dict[str, Column], file: str
) -> tuple[list[tuple[Column, int, str]], list[str]]:
    mapping: list[tuple[Column, int, str]] = []
    seen: dict[str, str] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers):
        header = header.strip()
        if not header:
            continue
        column = aliases.get(_normalise_header(header))
        if column is None:
            ignored.append(header)
            continue
        if column.name in seen:
            raise ImportFileError(
                file,
                f"columns '{seen[column.name]}' and '{header}' both mean '{column.name}'; "
                "keep only one of them.",
            )
        seen[column.name] = header
        mapping.append((column, index, header))
    return mapping, ignored


def _read_table(
    path: Path, file: str, columns: tuple[Column, ...], encoding: str | None
) -> tuple[_Table, bytes]:
    """Read the file, find the header row (title rows above it are allowed) and map columns."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(file, f"the file cannot be read ({exc.strerror or exc}).") from None
    aliases = _alias_index(columns)
    if data.startswith(b"PK\x03\x04"):
        rows, used = _xlsx_rows(data, file), None
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            file, "old Excel .xls files are not supported; save it as .xlsx or CSV."
        )
    else:
        rows, used = _csv_rows(data, file, encoding, aliases)
    required = {c.name for c in columns if c.required}

    best_headers: list[str] | None = None
    best_known = -1
    candidates = 0
    for _line, cells in rows:
        if not "".join(cells).strip():
            continue
        candidates += 1
        mapping, ignored = _map_headers(cells, aliases, file)
        found = {col.name for col, _, _ in mapping}
        if required <= found:
            body = [(n, c) for n, c in rows if "".join(c).strip()]
            return _Table(cells, mapping, body, used, ignored), data
        if len(found) > best_known:
            best_headers, best_known = cells, len(found)
        if candidates >= 10:
            break
    if best_headers is None:
        raise ImportFileError(file, "the file is empty; a header row and data rows are expected.")
    mapping, _ = _map_headers(best_headers, aliases, file)
    found = {col.name for col, _, _ in mapping}
    missing = [c for c in columns if c.required and c.name not in found]
    found_text = ", ".join(f"'{h.strip()}'" for h in best_headers if h.strip())
    names = "; ".join(
        f"'{c.name}' (also accepted: {', '.join(a for a in c.aliases if a != c.name)})"
        for c in missing
    )
    raise ImportFileError(
        file,
        f"required column{'s' if len(missing) > 1 else ''} {names} "
        f"{'are' if len(missing) > 1 else 'is'} missing. Headers found: {found_text}.",
    )


def estimate_rows(path: Path | str) -> int:
    """A cheap row count for choosing whether to show a progress bar."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
            handle.seek(0)
            if head == b"PK\x03\x04":
                from openpyxl import load_workbook

                workbook = load_workbook(handle, read_only=True)
                try:
                    return max((workbook.worksheets[0].max_row or 1) - 1, 0)
                finally:
                    workbook.close()
            return max(
                sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1, 0
            )
    except Exception:
        return 0


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


LINE = "_line"  # key of the file line number in a cleaned row


def _truncate(value: str) -> str:
    return value if len(value) <= 200 else value[:197] + "..."


def _validate_rows(
    table: _Table, file: str, progress: Progress | None
) -> tuple[list[dict[str, Any]], dict[int, set[str]], list[RowProblem]]:
    """Clean every cell: rows as dicts (with LINE), rejected fields by line, and the problems.

    Works column by column and cleans each distinct text once: countries, currencies, dates
    and statuses repeat a lot, and the cleaners are pure functions of the text.
    """
    body = table.rows
    lines = [line for line, _ in body]
    total = len(body)
    failed: dict[int, set[str]] = {}
    problems: list[RowProblem] = []
    cleaned_columns: list[list[Any]] = []
    for done, (column, index, header) in enumerate(table.mapping, start=1):
        raw_column = [cells[index] if index < len(cells) else "" for _, cells in body]
        results: dict[str, Any] = {}
        rejected: dict[str, _Invalid] = {}
        for raw in set(raw_column):
            text = raw.strip()
            if not text:
                results[raw] = None
                if column.required:
                    rejected[raw] = _Invalid("required_missing", _REQUIRED)
                continue
            try:
                results[raw] = column.clean(text)
            except _Invalid as bad:
                results[raw] = None
                rejected[raw] = bad
        if rejected:
            for line, raw in zip(lines, raw_column, strict=True):
                bad = rejected.get(raw)
                if bad is not None:
                    value = _truncate(raw.strip())
                    problems.append(RowProblem(file, line, header, value, bad.rule, bad.message))
                    failed.setdefault(line, set()).add(column.name)
        cleaned_columns.append([results[raw] for raw in raw_column])
        if progress is not None:
            progress(total * done // (len(table.mapping) + 1))

    width = len(table.headers)
    for line, cells in body:
        if len(cells) > width and "".join(cells[width:]).strip():
            extra = next(c for c in cells[width:] if c.strip())
            value = _truncate(extra.strip())
            column_label = f"(cell {width + 1})"
            problems.append(RowProblem(file, line, column_label, value, "extra_cells", _EXTRA))
            failed.setdefault(line, set()).add("")

    names = [column.name for column, _, _ in table.mapping] + [LINE]
    rows = [
        dict(zip(names, values, strict=True))
        for values in zip(*cleaned_columns, lines, strict=True)
    ]
    if progress is not None:
        progress(total)
    return rows, failed, problems


_REQUIRED = "A value is required in this column."
_EXTRA = "The row has more cells than the header; a value probably contains an unquoted delimiter."


def _prepare(
    path: Path | str,
    kind: str,
    columns: tuple[Column, ...],
    encoding: str | None,
    source_name: str | None,
    progress: Progress | None,
) -> tuple[
    str, _Table, bytes, list[dict[str, Any]], dict[int, set[str]], list[RowProblem], ImportReport
]:
    path = Path(path)
    file = source_name or path.name
    table, data = _read_table(path, file, columns, encoding)
    rows, failed, problems = _validate_rows(table, file, progress)
    report = ImportReport(
        file=file,
        kind=kind,
        rows_total=len(rows),
        encoding=table.encoding,
        ignored_columns=table.ignored,
    )
    return file, table, data, rows, failed, problems, report


def _finish_validation(
    report: ImportReport,
    rows: list[dict[str, Any]],
    problems: list[RowProblem],
    skip_invalid: bool,
) -> list[dict[str, Any]]:
    """Apply all-or-nothing or skip-invalid; returns the rows to write."""
    problems.sort(key=lambda p: p.line)
    report.problems = problems
    if problems and not skip_invalid:
        raise ImportValidationError(report)
    bad_lines = {p.line for p in problems}
    report.skipped = len(bad_lines)
    return [row for row in rows if row[LINE] not in bad_lines] if bad_lines else rows


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _chunks(items: list, size: int = _LOOKUP_CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _bulk_update(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """UPDATE by primary key as one Core executemany (rows share the same keys)."""
    table = model.__table__
    fields = [key for key in rows[0] if key != "id"]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({name: bindparam(name) for name in fields})
    )
    session.execute(stmt, [{"_id": row["id"], **{f: row[f] for f in fields}} for row in rows])


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while an import allocates its many small objects.

    An import creates millions of dicts and lists that all live until it ends; the collector
    would re-scan them again and again, which costs a third of the import's time at 100k rows.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_brand(brand: Organization) -> None:
    if brand.kind != OrgKind.BRAND:
        raise ValueError(f"organisation '{brand.slug}' is not a brand; imports belong to brands")


def _start_batch(
    session: Session,
    brand: Organization,
    kind: str,
    file: str,
    data: bytes,
    actor_id: int | None,
    report: ImportReport,
) -> ImportBatch:
    batch = ImportBatch(
        brand_id=brand.id,
        kind=kind,
        filename=file[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        rows_total=report.rows_total,
        created_by_id=actor_id,
    )
    session.add(batch)
    session.flush()
    report.batch_public_id = str(batch.public_id)
    return batch


def _close_batch(
    session: Session,
    brand: Organization,
    batch: ImportBatch,
    report: ImportReport,
    actor_id: int | None,
    progress: Progress | None,
) -> None:
    batch.rows_inserted = report.inserted
    batch.rows_updated = report.updated
    batch.rows_skipped = report.skipped
    batch.report = report.as_dict(max_problems=STORED_PROBLEMS_LIMIT)
    audit.record(
        session,
        action=f"import.{report.kind}",
        entity_type="import_batch",
        entity_id=str(batch.public_id),
        organization_id=brand.id,
        actor_id=actor_id,
        after={
            "file": report.file,
            "sha256": batch.sha256,
            "rows_total": report.rows_total,
            "inserted": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "skipped": report.skipped,
            "problems": len(report.problems),
        },
    )
    session.flush()
    if progress is not None:
        progress(report.rows_total)


# --------------------------------------------------------------------------------------------
# Suppliers
# --------------------------------------------------------------------------------------------

_ORG_FIELDS = ("name", "name_en", "registration_id", "country", "sector_code", "sector_system")
_REL_FIELDS = ("category", "tier", "status", "annual_spend", "spend_currency", "spend_year")


def _reporter(table: _Table, file: str, problems: list[RowProblem]) -> Callable[..., None]:
    """A shorthand for problems found after cleaning, named by the file's own header."""
    headers = {column.name: header for column, _, header in table.mapping}

    def report(line: int, name: str, value: Any, rule: str, message: str) -> None:
        value_text = "" if value is None else _truncate(str(value))
        problems.append(RowProblem(file, line, headers.get(name, name), value_text, rule, message))

    return report


_NAICS = re.compile(r"\d{2,6}")


def _sector_code_ok(values: dict[str, Any]) -> bool:
    code = values.get("sector_code")
    system = values.get("sector_system") or DEFAULT_SECTOR_SYSTEM
    return not code or not system.startswith("NAICS") or _NAICS.fullmatch(code) is not None


def _supplier_cross_checks(
    session: Session,
    table: _Table,
    file: str,
    rows: list[dict[str, Any]],
    failed: dict[int, set[str]],
    problems: list[RowProblem],
    existing: dict[str, Any],
) -> dict[str, int]:
    """Checks that need other rows or the database; returns registration id -> supplier org."""
    problem = _reporter(table, file, problems)
    first_code: dict[str, int] = {}
    first_reg: dict[str, tuple[int, str]] = {}
    for v in rows:
        code, line = v["supplier_code"], v[LINE]
        if code is None:
            continue
        if code in first_code:
            message = (
                f"Supplier code '{code}' also appears on line {first_code[code]} of this file."
            )
            problem(line, "supplier_code", code, "duplicate_code", message)
            continue
        first_code[code] = line
        if v.get("annual_spend") is not None and v.get("currency") is None:
            if "currency" not in failed.get(line, ()):
                message = "A currency is required when an annual spend is given."
                problem(line, "currency", "", "currency_required", message)
        if v.get("sector_code") and not _sector_code_ok(v):
            message = "A NAICS sector code is 2 to 6 digits."
            problem(line, "sector_code", v["sector_code"], "bad_sector_code", message)
        reg = v.get("registration_id")
        if not reg:
            continue
        if reg in first_reg:
            other_line, other_code = first_reg[reg]
            message = (
                f"Registration id '{reg}' is also given for supplier code '{other_code}' "
                f"on line {other_line}; one organisation cannot have two supplier codes."
            )
            problem(line, "registration_id", reg, "duplicate_registration_id", message)
        else:
            first_reg[reg] = (line, code)

    code_by_org = {r.supplier_id: code for code, r in existing.items()}
    org_by_reg: dict[str, int] = {}
    for chunk in _chunks(list(first_reg)):
        stmt = (
            select(Organization.registration_id, Organization.id)
            .where(Organization.kind == OrgKind.SUPPLIER, Organization.registration_id.in_(chunk))
            .order_by(Organization.id.desc())
        )
        for reg, org_id in session.execute(stmt):
            org_by_reg[reg] = org_id  # descending, so the earliest organisation wins
    for reg, org_id in org_by_reg.items():
        owner = code_by_org.get(org_id)
        line, code = first_reg[reg]
        if owner is not None and owner != code:
            message = (
                f"Registration id '{reg}' already belongs to this brand's supplier '{owner}'; "
                "one organisation cannot have two supplier codes."
            )
            problem(line, "registration_id", reg, "registration_in_use", message)
    return org_by_reg


def import_suppliers(
    session: Session,
    brand: Organization,
    path: Path,
    *,
    encoding: str | None = None,
    skip_invalid: bool = False,
    actor_id: int | None = None,
    progress: Progress | None = None,
    source_name: str | None = None,
) -> ImportReport:
    """Upsert the brand's suppliers from a file, by supplier code; the caller commits."""
    with _collector_paused():
        return _import_suppliers(
            session, brand, Path(path), encoding, skip_invalid, actor_id, progress, source_name
        )


def _import_suppliers(
    session: Session,
    brand: Organization,
    path: Path,
    encoding: str | None,
    skip_invalid: bool,
    actor_id: int | None,
    progress: Progress | None,
    source_name: str | None,
) -> ImportReport:
    _check_brand(brand)
    file, table, data, rows, failed, problems, report = _prepare(
        path, KIND_SUPPLIERS, SUPPLIER_COLUMNS, encoding, source_name, progress
    )
    existing_stmt = (
        select(
            SupplierRelationship.id,
            SupplierRelationship.supplier_code,
            SupplierRelationship.supplier_id,
            *(getattr(SupplierRelationship, f) for f in _REL_FIELDS),
            *(getattr(Organization, f) for f in _ORG_FIELDS),
        )
        .join(Organization, Organization.id == SupplierRelationship.supplier_id)
        .where(SupplierRelationship.brand_id == brand.id)
    )
    existing = {r.supplier_code: r for r in session.execute(existing_stmt)}
    org_by_reg = _supplier_cross_checks(session, table, file, rows, failed, problems, existing)
    rows = _finish_validation(report, rows, problems, skip_invalid)
    batch = _start_batch(session, brand, KIND_SUPPLIERS, file, data, actor_id, report)

    shared = _shared_organisations(session, brand) if existing else set()
    new_rows = [v for v in rows if v["supplier_code"] not in existing]
    reused = _load_organisations(
        session,
        {
            org_by_reg[v["registration_id"]]
            for v in new_rows
            if v.get("registration_id") in org_by_reg
        },
    )
    now = utcnow()
    org_updates: dict[int, dict[str, Any]] = {}
    new_orgs: list[dict[str, Any]] = []
    new_rels: list[dict[str, Any]] = []
    rel_by_new_slug: dict[str, dict[str, Any]] = {}
    rel_ids = _new_uuids(len(new_rows))
    org_ids = iter(_new_uuids(len(new_rows)))
    for position, v in enumerate(new_rows):
        org_values, rel = _supplier_values(v)
        rel.update(
            brand_id=brand.id,
            supplier_code=v["supplier_code"],
            supplier_id=None,
            public_id=rel_ids[position],
            created_at=now,
            updated_at=now,
        )
        new_rels.append(rel)
        reg = org_values["registration_id"]
        if reg and reg in org_by_reg:
            org = reused[org_by_reg[reg]]
            rel["supplier_id"] = org.id
            merged = _merge_org(org, org_values, overwrite=False)
            if merged is not None:
                org_updates[org.id] = merged
            continue
        org_values.update(
            public_id=next(org_ids),
            slug="sup-" + os.urandom(6).hex(),
            kind=OrgKind.SUPPLIER,
            default_currency=rel["spend_currency"] or "USD",
            created_at=now,
        )
        new_orgs.append(org_values)
        rel_by_new_slug[org_values["slug"]] = rel
    report.inserted = len(new_rels)

    rel_updates: list[dict[str, Any]] = []
    for v in rows:
        current = existing.get(v["supplier_code"])
        if current is None:
            continue
        org_values, rel_values = _supplier_values(v)
        changed = False
        if any(getattr(current, f) != rel_values[f] for f in _REL_FIELDS):
            rel_updates.append({"id": current.id, **rel_values, "updated_at": now})
            changed = True
        merged = _merge_org(current, org_values, overwrite=current.supplier_id not in shared)
        if merged is not None:
            org_updates[current.supplier_id] = merged
            changed = True
        if changed:
            report.updated += 1
        else:
            report.unchanged += 1

    if new_orgs:
        # Matched back by slug: an ordered RETURNING would make SQLite insert row by row.
        org_table = Organization.__table__
        stmt = insert(org_table).returning(org_table.c.id, org_table.c.slug)
        for org_id, slug in session.execute(stmt, new_orgs):
            rel_by_new_slug[slug]["supplier_id"] = org_id
    if new_rels:
        session.execute(insert(SupplierRelationship.__table__), new_rels)
    if rel_updates:
        _bulk_update(session, SupplierRelationship, rel_updates)
    if org_updates:
        _bulk_update(
            session, Organization, [{"id": org_id, **v} for org_id, v in org_updates.items()]
        )
    _close_batch(session, brand, batch, report, actor_id, progress)
    return report


def _shared_organisations(session: Session, brand: Organization) -> set[int]:
    """The brand's supplier organisations that other brands buy from too."""
    brand_orgs = select(SupplierRelationship.supplier_id).where(
        SupplierRelationship.brand_id == brand.id
    )
    stmt = (
        select(SupplierRelationship.supplier_id)
        .where(
            SupplierRelationship.brand_id != brand.id,
            SupplierRelationship.supplier_id.in_(brand_orgs),
        )
        .distinct()
    )
    return set(session.scalars(stmt))


def _load_organisations(session: Session, ids: set[int]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for chunk in _chunks(sorted(ids)):
        stmt = select(Organization.id, *(getattr(Organization, f) for f in _ORG_FIELDS))
        found.update({r.id: r for r in session.execute(stmt.where(Organization.id.in_(chunk)))})
    return found


_UUID_RANDOM_BITS = (1 << 80) - 1  # everything below the 48-bit millisecond timestamp
_UUID_V7_CLEAR = (0xF << 76) | (0b11 << 62)  # version and variant positions
_UUID_V7_MARKERS = (0x7 << 76) | (0b10 << 62)  # version 7, RFC 9562 variant


def _new_uuids(count: int) -> list[uuid.UUID]:
    """Fresh public ids, time-ordered (UUID version 7 layout) and ascending within the batch.

    Random version 4 ids land all over the unique index; ascending ids append to it, which
    makes bulk inserts about twice as fast. 74 bits stay random, so ids remain unguessable.
    """
    stamp = time_ns() // 1_000_000 << 80
    data = os.urandom(16 * count)
    values = sorted(
        stamp
        | (int.from_bytes(data[i : i + 16]) & _UUID_RANDOM_BITS & ~_UUID_V7_CLEAR)
        | _UUID_V7_MARKERS
        for i in range(0, 16 * count, 16)
    )
    return [uuid.UUID(int=value) for value in values]


def _supplier_values(v: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a clean row into organisation identity and the brand's relationship fields."""
    sector_code = v.get("sector_code")
    org = {
        "name": v["name"],
        "name_en": v.get("name_en"),
        "registration_id": v.get("registration_id"),
        "country": v.get("country"),
        "sector_code": sector_code,
        "sector_system": (v.get("sector_system") or DEFAULT_SECTOR_SYSTEM) if sector_code else None,
    }
    rel = {
        "category": v.get("category"),
        "tier": v.get("tier") or 1,
        "status": v.get("status") or RelationshipStatus.ACTIVE,
        "annual_spend": v.get("annual_spend"),
        "spend_currency": v.get("currency"),
        "spend_year": v.get("spend_year"),
    }
    return org, rel


def _merge_org(current: Any, incoming: dict[str, Any], *, overwrite: bool) -> dict[str, Any] | None:
    """New organisation identity, or None if unchanged.

    Blank cells never erase what is known. An organisation that serves other brands too is
    only filled in, not overwritten, so brands' spellings do not flip it back and forth.
    """
    merged = {}
    changed = False
    for name in _ORG_FIELDS:
        old, new = getattr(current, name), incoming[name]
        if new is not None and new != old and (overwrite or old is None):
            merged[name] = new
            changed = True
        else:
            merged[name] = old
    return merged if changed else None


# --------------------------------------------------------------------------------------------
# Spend lines
# --------------------------------------------------------------------------------------------


def spend_line_key(
    brand: Organization,
    code: str,
    when: date,
    amount: Decimal,
    currency: str,
    document_ref: str | None,
    description: str | None,
    occurrence: int,
) -> str:
    """Stable identity of a ledger line, so re-importing a file does not duplicate it.

    `occurrence` numbers identical lines within one file: genuine repeats stay separate.
    """
    parts = (
        str(brand.public_id),
        code,
        when.isoformat(),
        f"{amount:.2f}",
        currency,
        document_ref or "",
        description or "",
        str(occurrence),
    )
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def import_spend(
    session: Session,
    brand: Organization,
    path: Path,
    *,
    encoding: str | None = None,
    skip_invalid: bool = False,
    actor_id: int | None = None,
    progress: Progress | None = None,
    source_name: str | None = None,
) -> ImportReport:
    """Add the brand's ledger lines from a file; lines already imported are matched by key."""
    with _collector_paused():
        return _import_spend(
            session, brand, Path(path), encoding, skip_invalid, actor_id, progress, source_name
        )


def _import_spend(
    session: Session,
    brand: Organization,
    path: Path,
    encoding: str | None,
    skip_invalid: bool,
    actor_id: int | None,
    progress: Progress | None,
    source_name: str | None,
) -> ImportReport:
    _check_brand(brand)
    file, table, data, rows, _failed, problems, report = _prepare(
        path, KIND_SPEND, SPEND_COLUMNS, encoding, source_name, progress
    )
    relationship_by_code: dict[str, int] = {
        code: rel_id
        for code, rel_id in session.execute(
            select(SupplierRelationship.supplier_code, SupplierRelationship.id).where(
                SupplierRelationship.brand_id == brand.id
            )
        )
    }
    problem = _reporter(table, file, problems)
    for v in rows:
        code = v["supplier_code"]
        if code is not None and code not in relationship_by_code:
            message = (
                f"No supplier with code '{code}' exists for this brand; import the supplier first."
            )
            problem(v[LINE], "supplier_code", code, "unknown_supplier", message)
        if v.get("sector_code") and not _sector_code_ok(v):
            message = "A NAICS sector code is 2 to 6 digits."
            problem(v[LINE], "sector_code", v["sector_code"], "bad_sector_code", message)
    rows = _finish_validation(report, rows, problems, skip_invalid)
    batch = _start_batch(session, brand, KIND_SPEND, file, data, actor_id, report)

    occurrences: Counter[tuple] = Counter()
    keyed: dict[str, dict[str, Any]] = {}
    for v in rows:
        description = v.get("description")
        identity = (
            v["supplier_code"],
            v["date"],
            v["amount"],
            v["currency"],
            v.get("document_ref"),
            description,
        )
        occurrence = occurrences[identity]
        occurrences[identity] += 1
        key = spend_line_key(brand, *identity, occurrence)
        sector_code = v.get("sector_code")
        keyed[key] = {
            "brand_id": brand.id,
            "relationship_id": relationship_by_code[v["supplier_code"]],
            "amount": v["amount"],
            "currency": v["currency"],
            "spend_date": v["date"],
            "category": v.get("category"),
            "sector_code": sector_code,
            "sector_system": (v.get("sector_system") or DEFAULT_SECTOR_SYSTEM)
            if sector_code
            else None,
            "description": description,
            "document_ref": v.get("document_ref"),
            "source_file": file[:255],
            "source_line": v[LINE],
            "line_key": key,
            "import_batch_id": batch.id,
        }

    mutable = ("category", "sector_code", "sector_system")
    updates: list[dict[str, Any]] = []
    for chunk in _chunks(list(keyed)):
        stmt = select(SpendLine.id, SpendLine.line_key, *(getattr(SpendLine, f) for f in mutable))
        stmt = stmt.where(SpendLine.brand_id == brand.id, SpendLine.line_key.in_(chunk))
        for found in session.execute(stmt):
            new = keyed.pop(found.line_key)
            if any(getattr(found, f) != new[f] for f in mutable):
                updates.append({"id": found.id, **{f: new[f] for f in mutable}})
            else:
                report.unchanged += 1
    if keyed:
        session.execute(insert(SpendLine.__table__), list(keyed.values()))
    if updates:
        _bulk_update(session, SpendLine, updates)
    report.inserted = len(keyed)
    report.updated = len(updates)
    _close_batch(session, brand, batch, report, actor_id, progress)
    return report


# --------------------------------------------------------------------------------------------
# Job entry point
# --------------------------------------------------------------------------------------------

IMPORTERS = {KIND_SUPPLIERS: import_suppliers, KIND_SPEND: import_spend}


def import_file_job(
    session: Session,
    *,
    brand_id: int,
    kind: str,
    path: str,
    skip_invalid: bool = False,
    encoding: str | None = None,
    actor_id: int | None = None,
    source_name: str | None = None,
) -> dict[str, Any]:
    """Run an import from the job layer; a validation failure raises so the job is failed."""
    importer = IMPORTERS.get(kind)
    if importer is None:
        raise ValueError(f"unknown import kind '{kind}'; expected one of {sorted(IMPORTERS)}")
    brand = session.get(Organization, brand_id)
    if brand is None:
        raise ValueError(f"organisation {brand_id} does not exist")
    report = importer(
        session,
        brand,
        Path(path),
        encoding=encoding,
        skip_invalid=skip_invalid,
        actor_id=actor_id,
        source_name=source_name,
    )
    return report.as_dict(max_problems=STORED_PROBLEMS_LIMIT)
