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
import functools
import gc
import hashlib
import logging
import os
import re
import uuid
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from time import time_ns
from typing import Any
from xml.etree.ElementTree import ParseError

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from supplychain import audit
from supplychain.config import ImportLimits
from supplychain.models import (
    ImportBatch,
    ImportStatus,
    Organization,
    OrgKind,
    RelationshipStatus,
    SpendLine,
    SupplierRelationship,
    utcnow,
)

Progress = Callable[[int], None]
log = logging.getLogger(__name__)

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
    # Why the whole file was refused ({"code", "params"}, see ImportFileError), if it was.
    refusal: dict[str, Any] | None = None

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
    """The file as a whole cannot be imported: unreadable, undecodable, too large once opened,
    or missing columns. Nothing has been written when it is raised.

    `refusal` ({"code", "params"}) lets the console word the reason in the user's language and
    offer the encodings a file could be in; the message is the importer's English detail.
    """

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem
        self.code = code
        self.params = {"file": file, **(params or {})}
        self.refusal = {"code": code, "params": self.params} if code else None
        self.user_message = str(self)
        self.report = ImportReport(file=file, kind="", refusal=self.refusal)


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
    """The canonical key ("NAICS 2022" -> NAICS2022, "ISIC Rev.4" -> ISIC4) when the system is
    one spend_factors knows, else the name compacted as before (kept, and never read as NAICS).
    """
    from spend_factors import normalise_sector_system  # heavy package: only when the column is used

    known = normalise_sector_system(raw)
    if known:
        return known
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


_CHUNK_BYTES = 1 << 20  # files are read, decoded and checked this much at a time
_SAMPLE_BYTES = 2 << 20  # what charset detection looks at
_LEGACY_ENCODINGS = ("cp1252", "latin-1", "cp1251")  # tried when neither UTF-8 nor GB18030 fit
_CONFIDENT_CHAOS = 0.2  # charset-normalizer's own "too messy" threshold

_LATIN_ACCENTED = "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_CYRILLIC_GREEK = "\u0370-\u03ff\u0400-\u052f"
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
_SCRIPTS = (
    ("ascii_letter", re.compile("[A-Za-z]")),
    ("accented", re.compile(f"[{_LATIN_ACCENTED}]")),
    ("cyrillic", re.compile(f"[{_CYRILLIC_GREEK}]")),
    ("cjk", re.compile(f"[{_CJK}]")),
    ("c1", re.compile("[\x80-\x9f]")),
    ("private", re.compile("[\ue000-\uf8ff]")),
)

# Text no real file holds, but a wrong guess produces. Each runs only when the scripts it
# needs occur in the text, which keeps checking a Chinese file cheap.
_LATIN_BY_CYRILLIC = re.compile(  # Latin-1 read as cp1251: "Sociщtщ"
    f"[A-Za-z{_LATIN_ACCENTED}][{_CYRILLIC_GREEK}]|[{_CYRILLIC_GREEK}][A-Za-z{_LATIN_ACCENTED}]"
)
_ACCENTED_BY_CJK = re.compile(f"[{_LATIN_ACCENTED}][{_CJK}]|[{_CJK}][{_LATIN_ACCENTED}]")
# An accented letter and the next letter read as one double-byte character: "M黮ler".
_CJK_IN_LATIN_WORD = re.compile(f"[A-Za-z][{_CJK}][a-z]")
_ACCENTED_RUN = re.compile(f"[{_LATIN_ACCENTED}]{{4,}}")  # Cyrillic read as Latin-1: "Ðîìàøêà"


@functools.lru_cache(maxsize=65536)
def _script(char: str) -> str | None:
    return next((name for name, pattern in _SCRIPTS if pattern.match(char)), None)


@functools.lru_cache(maxsize=65536)
def _outside_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return True
    return False


def _mixes_scripts(text: str, scripts: set[str | None]) -> bool:
    """C1 controls (Windows punctuation read as Latin-1), Latin and Cyrillic or Greek letters
    inside one word, or accented Latin letters glued to CJK characters."""
    if "c1" in scripts:
        return True
    latin = "ascii_letter" in scripts or "accented" in scripts
    if "cyrillic" in scripts and latin and _LATIN_BY_CYRILLIC.search(text):
        return True
    return "accented" in scripts and "cjk" in scripts and bool(_ACCENTED_BY_CJK.search(text))


class _Gb18030Check:
    """Whether text read as GB18030 looks like a Chinese export rather than a wrong guess.

    Latin-1 text that happens to decode as GB18030 pairs an accented letter with the next
    ASCII byte: a rare character outside GB2312 right next to a Latin letter. Big5 and
    Shift_JIS read as GB18030 give private-use characters, or mostly characters outside
    GB2312, which simplified-Chinese exports hardly use.
    """

    def __init__(self) -> None:
        self.cjk: set[str] = set()

    def __call__(self, text: str) -> bool:
        chars = set(text)
        scripts = {_script(c) for c in chars}
        if "private" in scripts or _mixes_scripts(text, scripts):
            return True
        cjk = {c for c in chars if _script(c) == "cjk"}
        self.cjk |= cjk
        rare = "".join(sorted(c for c in cjk if _outside_gb2312(c)))
        if rare and "ascii_letter" in scripts:
            rare_class = re.escape(rare)
            next_to_letter = re.compile(f"[A-Za-z][{rare_class}]|[{rare_class}][A-Za-z]")
            return next_to_letter.search(text) is not None
        return False

    def mostly_rare(self) -> bool:
        outside = sum(1 for c in self.cjk if _outside_gb2312(c))
        return outside >= 3 and outside * 3 > len(self.cjk)


def _implausible_legacy(text: str) -> bool:
    """Mixed scripts as above, a CJK character inside a Latin word, or a run of accented
    letters no Western word has."""
    scripts = {_script(c) for c in set(text)}
    if _mixes_scripts(text, scripts):
        return True
    if "cjk" in scripts and "ascii_letter" in scripts and _CJK_IN_LATIN_WORD.search(text):
        return True
    return "accented" in scripts and _ACCENTED_RUN.search(text) is not None


class _Reading:
    """One encoding tried over a whole file: does it decode, does the text look real, and a
    digest of the text so different encodings that read the file the same can be told apart."""

    def __init__(self, encoding: str, implausible: Callable[[str], bool] | None) -> None:
        self.encoding = encoding
        self.decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self.implausible = implausible
        self.decodes = True
        self.plausible = True
        self.bad_byte: int | None = None
        self.text_digest = hashlib.sha256()
        self.tail = ""  # the last characters of the previous chunk, for checks across chunks

    def feed(self, chunk: bytes, offset: int, final: bool) -> None:
        if not self.decodes:
            return
        try:
            text = self.decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            self.decodes = False
            self.bad_byte = max(offset + exc.start, 0)
            return
        if self.plausible and self.implausible is not None:
            self.plausible = not self.implausible(self.tail + text)
        self.tail = text[-2:]
        self.text_digest.update(text.encode("utf-8", "surrogatepass"))


def _read_with(path: Path, readings: list[_Reading]) -> None:
    """Decode the file chunk by chunk with every reading at once; memory stays one chunk."""
    with path.open("rb") as handle:
        offset = 0
        while any(r.decodes for r in readings):
            chunk = handle.read(_CHUNK_BYTES)
            for reading in readings:
                reading.feed(chunk, offset, final=not chunk)
            if not chunk:
                return
            offset += len(chunk)


def _require_encoding(path: Path, file: str, encoding: str) -> None:
    reading = _Reading(encoding, None)
    _read_with(path, [reading])
    if not reading.decodes:
        raise ImportFileError(
            file,
            f"the file is not valid {encoding} (byte {reading.bad_byte}); check the encoding.",
            code="encoding_invalid",
            params={"encoding": encoding, "byte": reading.bad_byte},
        )


def _same_codec(first: str, second: str) -> bool:
    return codecs.lookup(first).name == codecs.lookup(second).name


def detect_encoding(path: Path, file: str, encoding: str | None = None) -> str:
    """The encoding to read a CSV file with, checked over the whole file.

    The one asked for; else a byte order mark's; else UTF-8; else GB18030 when its text looks
    real (Chinese ERP exports import without a question). Otherwise Windows-1252, Latin-1,
    Windows-1251 and charset-normalizer's best guess are tried: when every plausible reading
    gives the same text it is used, else the file is refused naming the candidates, because a
    wrong guess would store unreadable names without anyone noticing.
    """
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ImportFileError(
                file,
                f"'{encoding}' is not a known encoding.",
                code="encoding_not_known",
                params={"encoding": encoding},
            ) from None
        _require_encoding(path, file, encoding)
        return encoding
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE_BYTES)
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            _require_encoding(path, file, name)
            return name
    chinese = _Gb18030Check()
    utf8, gb18030 = _Reading("utf-8", None), _Reading("gb18030", chinese)
    _read_with(path, [utf8, gb18030])
    if utf8.decodes:
        return "utf-8"
    if gb18030.decodes and gb18030.plausible and not chinese.mostly_rare():
        return "gb18030"
    return _settle_legacy_encoding(path, file, head)


def _settle_legacy_encoding(path: Path, file: str, head: bytes) -> str:
    from charset_normalizer import from_bytes

    # Cut the sample at a line end so detection does not see a character cut in half.
    sample = head if len(head) < _SAMPLE_BYTES else head[: head.rfind(b"\n") + 1] or head
    best = from_bytes(sample).best()
    guessed = best.encoding if best is not None else None
    names = list(_LEGACY_ENCODINGS)
    if guessed and not any(_same_codec(guessed, name) for name in names):
        names.append(guessed)
    readings = [_Reading(name, _implausible_legacy) for name in names]
    _read_with(path, readings)
    agreeing: dict[bytes, list[str]] = {}
    for reading in readings:
        if reading.decodes and reading.plausible:
            agreeing.setdefault(reading.text_digest.digest(), []).append(reading.encoding)
    if len(agreeing) == 1:
        (same_text,) = agreeing.values()
        confident = best is not None and best.chaos < _CONFIDENT_CHAOS
        if same_text[0] in _LEGACY_ENCODINGS or confident:
            return same_text[0]
    candidates = [group[0] for group in agreeing.values()] or ([guessed] if guessed else [])
    if candidates:
        problem = (
            f"could not tell the text encoding: it could be {_or_list(candidates)}; "
            "choose one explicitly."
        )
    else:
        problem = "could not tell the text encoding; choose it explicitly."
    raise ImportFileError(
        file, problem, code="encoding_uncertain", params={"candidates": candidates}
    )


def _or_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


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
    path: Path, file: str, encoding: str, aliases: dict[str, Column]
) -> Iterator[tuple[int, list[str]]]:
    """Rows streamed from the file: only the parsed cells are kept, never the whole text."""
    reading = "utf-8-sig" if _same_codec(encoding, "utf-8") else encoding
    with path.open("rb") as handle:
        head = codecs.getincrementaldecoder(reading)(errors="replace").decode(handle.read(65536))
    delimiter = _sniff_delimiter(head, aliases)
    with path.open(encoding=reading, errors="strict", newline="") as text:
        reader = csv.reader(text, delimiter=delimiter)
        start = 1
        try:
            for cells in reader:
                yield start, cells
                start = reader.line_num + 1
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise _cell_too_long(file, start, None) from None
            raise ImportFileError(
                file, f"line {start}: the CSV cannot be parsed ({exc})."
            ) from None


MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
_RATIO_MIN_BYTES = 1024 * 1024  # small parts (styles, relationships) legitimately compress more
_XML_PROLOG_BYTES = 64 * 1024
_NESTED_ARCHIVES = (".zip", ".xlsx", ".xlsm", ".xlsb", ".docx", ".pptx", ".gz", ".7z", ".rar")
_XLSX_ERRORS = (
    zipfile.BadZipFile,
    KeyError,  # a part the workbook refers to is missing
    IndexError,
    EOFError,
    OSError,
    RuntimeError,  # zipfile: an encrypted part
    NotImplementedError,  # zipfile: an unknown compression method
    TypeError,
    ValueError,  # includes defusedxml's refusal of entity declarations
    zlib.error,
    ParseError,
)


def _xlsx_damaged(file: str) -> ImportFileError:
    return ImportFileError(
        file,
        "the XLSX file is damaged or contains forbidden XML entity declarations; open it in "
        "Excel, save a copy as .xlsx and import that.",
        code="xlsx_damaged",
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f}"


def _odd_part(info: zipfile.ZipInfo, seen: set[str]) -> str | None:
    """Why an archive member has no place in a workbook, if it has none."""
    name = info.filename
    if info.flag_bits & 0x1:
        return "it is encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return "it uses an unusual compression method"
    if name.startswith("/") or "\\" in name or ":" in name or ".." in name.split("/"):
        return "its path leaves the archive"
    if name in seen:
        return "the name appears twice"
    if name.lower().endswith(_NESTED_ARCHIVES):
        return "it is an archive inside the workbook"
    return None


def _declares_entities(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """A DOCTYPE or ENTITY in an XML part's prolog: OOXML never has one, entity bombs do."""
    with archive.open(info) as part:
        head = part.read(_XML_PROLOG_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    head = head.lower()
    return b"<!doctype" in head or b"<!entity" in head


def check_xlsx_archive(path: Path, file: str, limits: ImportLimits) -> None:
    """Refuse an XLSX whose parts would expand too far, before openpyxl parses any XML.

    The sizes are the ones the archive declares, which is enough: zipfile stops inflating a
    part at its declared size, so what openpyxl reads later cannot exceed what is checked here.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if len(parts) > limits.xlsx_max_parts:
                raise ImportFileError(
                    file,
                    f"the XLSX file has {len(parts):,} parts, more than the "
                    f"{limits.xlsx_max_parts:,} allowed.",
                    code="xlsx_too_many_parts",
                    params={"count": f"{len(parts):,}", "limit": f"{limits.xlsx_max_parts:,}"},
                )
            seen: set[str] = set()
            for info in parts:
                odd = _odd_part(info, seen)
                if odd is not None:
                    raise ImportFileError(
                        file,
                        f"the XLSX file holds a part a workbook does not have "
                        f"({info.filename[:200]}: {odd}).",
                        code="xlsx_odd_part",
                        params={"part": info.filename[:200]},
                    )
                seen.add(info.filename)
            expanded = sum(info.file_size for info in parts)
            if expanded > limits.xlsx_max_expanded_bytes:
                raise ImportFileError(
                    file,
                    f"the XLSX file would expand to {_megabytes(expanded)} MB when opened, more "
                    f"than the {_megabytes(limits.xlsx_max_expanded_bytes)} MB allowed.",
                    code="xlsx_too_large",
                    params={
                        "size": _megabytes(expanded),
                        "limit": _megabytes(limits.xlsx_max_expanded_bytes),
                    },
                )
            for info in parts:
                ratio = info.file_size // max(info.compress_size, 1)
                if info.file_size > _RATIO_MIN_BYTES and ratio > limits.xlsx_max_ratio:
                    raise ImportFileError(
                        file,
                        f"the XLSX part {info.filename[:200]} expands {ratio:,} times, more "
                        f"than the {limits.xlsx_max_ratio:,} allowed; it looks like a zip bomb.",
                        code="xlsx_ratio",
                        params={
                            "part": info.filename[:200],
                            "ratio": f"{ratio:,}",
                            "limit": f"{limits.xlsx_max_ratio:,}",
                        },
                    )
            for info in parts:
                if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                    if _declares_entities(archive, info):
                        raise _xlsx_damaged(file)
    except _XLSX_ERRORS:
        raise _xlsx_damaged(file) from None


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


def _xlsx_rows(path: Path, file: str) -> Iterator[tuple[int, list[str]]]:
    """The first sheet's rows, streamed (openpyxl read-only); call check_xlsx_archive first."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    # From a handle: uploads are stored without an extension, which openpyxl would refuse.
    with path.open("rb") as handle:
        try:
            workbook = load_workbook(handle, read_only=True, data_only=True, keep_links=False)
        except (*_XLSX_ERRORS, InvalidFileException):
            raise _xlsx_damaged(file) from None
        try:
            sheet = workbook.worksheets[0]
            # The declared size is the file's claim; rows end at their last real cell instead.
            sheet.reset_dimensions()
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, [_cell_text(v) for v in values]
        except _XLSX_ERRORS:
            raise _xlsx_damaged(file) from None
        finally:
            workbook.close()


def _cell_too_long(file: str, line: int, column: int | None) -> ImportFileError:
    where = f"line {line}" + (f", cell {column}" if column else "")
    return ImportFileError(
        file,
        f"{where} holds more than {MAX_CELL_CHARS:,} characters, the most a cell may hold.",
        code="cell_too_long",
        params={"line": line, "limit": f"{MAX_CELL_CHARS:,}"},
    )


def _bounded(
    rows: Iterator[tuple[int, list[str]]], file: str, limits: ImportLimits
) -> Iterator[tuple[int, list[str]]]:
    """Rows within the row, column and cell-size limits; the first one beyond refuses the file.

    Trailing empty cells are dropped, so a sheet padded to thousands of columns costs nothing.
    """
    for count, (line, cells) in enumerate(rows, start=1):
        if count > limits.max_rows:
            raise ImportFileError(
                file,
                f"the file has more than {limits.max_rows:,} rows; split it into smaller files.",
                code="too_many_rows",
                params={"limit": f"{limits.max_rows:,}"},
            )
        while cells and not cells[-1]:
            cells.pop()
        if len(cells) > limits.max_columns:
            raise ImportFileError(
                file,
                f"line {line} has {len(cells):,} columns, more than the "
                f"{limits.max_columns:,} allowed.",
                code="too_many_columns",
                params={"line": line, "count": f"{len(cells):,}", "limit": limits.max_columns},
            )
        if cells and max(map(len, cells)) > MAX_CELL_CHARS:
            column = next(i for i, c in enumerate(cells, start=1) if len(c) > MAX_CELL_CHARS)
            raise _cell_too_long(file, line, column)
        yield line, cells


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
    path: Path, file: str, columns: tuple[Column, ...], encoding: str | None, limits: ImportLimits
) -> tuple[_Table, str]:
    """Read the file, find the header row (title rows above it are allowed) and map columns.

    Returns the table and the file's SHA-256. The file is streamed, never held whole: memory
    grows with the cells kept, which the row, column and cell limits bound.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
            handle.seek(0)
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise ImportFileError(file, f"the file cannot be read ({exc.strerror or exc}).") from None
    aliases = _alias_index(columns)
    if head == b"PK\x03\x04":
        check_xlsx_archive(path, file, limits)
        source, used = _xlsx_rows(path, file), None
    elif head == b"\xd0\xcf\x11\xe0":
        raise ImportFileError(
            file, "old Excel .xls files are not supported; save it as .xlsx or CSV."
        )
    else:
        used = detect_encoding(path, file, encoding)
        source = _csv_rows(path, file, used, aliases)
    try:
        return _find_header(_bounded(source, file, limits), file, columns, aliases, used), digest
    finally:
        source.close()


def _find_header(
    rows: Iterator[tuple[int, list[str]]],
    file: str,
    columns: tuple[Column, ...],
    aliases: dict[str, Column],
    used: str | None,
) -> _Table:
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
            return _Table(cells, mapping, body, used, ignored)
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

                check_xlsx_archive(path, path.name, ImportLimits.from_env())
                workbook = load_workbook(handle, read_only=True, keep_links=False)
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


# C0 controls other than tab, line feed and carriage return, and DEL: no supplier name or memo
# holds them, and NUL cannot even be stored in a PostgreSQL text or JSON value.
_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def _visible(value: str) -> str:
    """The value as a report can show and store it: control characters as their code point."""
    return _CONTROL_CHARACTER.sub(lambda m: f"<{_codepoint(m.group())}>", value)


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
            control = _CONTROL_CHARACTER.search(raw)
            if control is not None:
                results[raw] = None
                rejected[raw] = _Invalid(
                    "control_character",
                    f"The value contains the control character {_codepoint(control.group())}, "
                    "which text may not hold; remove it from the source file.",
                )
                continue
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
                    value = _truncate(_visible(raw.strip()))
                    problems.append(RowProblem(file, line, header, value, bad.rule, bad.message))
                    failed.setdefault(line, set()).add(column.name)
        cleaned_columns.append([results[raw] for raw in raw_column])
        if progress is not None:
            progress(total * done // (len(table.mapping) + 1))

    width = len(table.headers)
    for line, cells in body:
        if len(cells) > width and "".join(cells[width:]).strip():
            extra = next(c for c in cells[width:] if c.strip())
            value = _truncate(_visible(extra.strip()))
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
    str, _Table, str, list[dict[str, Any]], dict[int, set[str]], list[RowProblem], ImportReport
]:
    path = Path(path)
    file = source_name or path.name
    try:
        table, digest = _read_table(path, file, columns, encoding, ImportLimits.from_env())
    except ImportFileError as refused:
        refused.report.kind = kind
        raise
    rows, failed, problems = _validate_rows(table, file, progress)
    report = ImportReport(
        file=file,
        kind=kind,
        rows_total=len(rows),
        encoding=table.encoding,
        ignored_columns=table.ignored,
    )
    return file, table, digest, rows, failed, problems, report


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
    digest: str,
    actor_id: int | None,
    report: ImportReport,
) -> ImportBatch:
    batch = ImportBatch(
        brand_id=brand.id,
        kind=kind,
        filename=file[:255],
        sha256=digest,
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
    file, table, digest, rows, failed, problems, report = _prepare(
        path, KIND_SUPPLIERS, SUPPLIER_COLUMNS, encoding, source_name, progress
    )
    existing = _existing_suppliers(session, brand)
    org_by_reg = _supplier_cross_checks(session, table, file, rows, failed, problems, existing)
    rows = _finish_validation(report, rows, problems, skip_invalid)
    batch = _start_batch(session, brand, KIND_SUPPLIERS, file, digest, actor_id, report)

    now = utcnow()
    new_rows = [v for v in rows if v["supplier_code"] not in existing]
    plan = _plan_new_suppliers(session, brand, new_rows, org_by_reg, now)
    report.inserted = len(plan.new_rels)
    shared = _shared_organisations(session, brand) if existing else set()
    rel_updates = _plan_supplier_updates(rows, existing, shared, now, report, plan.org_updates)
    _write_suppliers(session, plan, rel_updates)
    _close_batch(session, brand, batch, report, actor_id, progress)
    return report


def _existing_suppliers(session: Session, brand: Organization) -> dict[str, Any]:
    """The brand's current suppliers by code, with the fields an import may change."""
    stmt = (
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
    return {r.supplier_code: r for r in session.execute(stmt)}


@dataclass
class _NewSuppliers:
    """Rows to insert for suppliers new to the brand, and updates to organisations they reuse."""

    new_orgs: list[dict[str, Any]] = field(default_factory=list)
    new_rels: list[dict[str, Any]] = field(default_factory=list)
    rel_by_new_slug: dict[str, dict[str, Any]] = field(default_factory=dict)
    org_updates: dict[int, dict[str, Any]] = field(default_factory=dict)


def _plan_new_suppliers(
    session: Session,
    brand: Organization,
    new_rows: list[dict[str, Any]],
    org_by_reg: dict[str, int],
    now: datetime,
) -> _NewSuppliers:
    """New relationships; a known registration id reuses its organisation, else a new one."""
    plan = _NewSuppliers()
    reused = _load_organisations(
        session,
        {
            org_by_reg[v["registration_id"]]
            for v in new_rows
            if v.get("registration_id") in org_by_reg
        },
    )
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
        plan.new_rels.append(rel)
        reg = org_values["registration_id"]
        if reg and reg in org_by_reg:
            org = reused[org_by_reg[reg]]
            rel["supplier_id"] = org.id
            merged = _merge_org(org, org_values, overwrite=False)
            if merged is not None:
                plan.org_updates[org.id] = merged
            continue
        org_values.update(
            public_id=next(org_ids),
            slug="sup-" + os.urandom(6).hex(),
            kind=OrgKind.SUPPLIER,
            default_currency=rel["spend_currency"] or "USD",
            created_at=now,
        )
        plan.new_orgs.append(org_values)
        plan.rel_by_new_slug[org_values["slug"]] = rel
    return plan


def _plan_supplier_updates(
    rows: list[dict[str, Any]],
    existing: dict[str, Any],
    shared: set[int],
    now: datetime,
    report: ImportReport,
    org_updates: dict[int, dict[str, Any]],
) -> list[dict[str, Any]]:
    """Updates for suppliers the brand already has; counts updated and unchanged rows."""
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
    return rel_updates


def _write_suppliers(
    session: Session, plan: _NewSuppliers, rel_updates: list[dict[str, Any]]
) -> None:
    """Bulk inserts and updates, in the order foreign keys need."""
    if plan.new_orgs:
        # Matched back by slug: an ordered RETURNING would make SQLite insert row by row.
        org_table = Organization.__table__
        stmt = insert(org_table).returning(org_table.c.id, org_table.c.slug)
        for org_id, slug in session.execute(stmt, plan.new_orgs):
            plan.rel_by_new_slug[slug]["supplier_id"] = org_id
    if plan.new_rels:
        session.execute(insert(SupplierRelationship.__table__), plan.new_rels)
    if rel_updates:
        _bulk_update(session, SupplierRelationship, rel_updates)
    if plan.org_updates:
        _bulk_update(
            session,
            Organization,
            [{"id": org_id, **v} for org_id, v in plan.org_updates.items()],
        )


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
    file, table, digest, rows, _failed, problems, report = _prepare(
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
    batch = _start_batch(session, brand, KIND_SPEND, file, digest, actor_id, report)

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
    """Run an import from the job layer; a failure raises so the job is failed.

    A failed or refused import is still listed with its report: its batch is recorded in a
    transaction of its own, after everything else the import wrote was rolled back.
    """
    importer = IMPORTERS.get(kind)
    if importer is None:
        raise ValueError(f"unknown import kind '{kind}'; expected one of {sorted(IMPORTERS)}")
    brand = session.get(Organization, brand_id)
    if brand is None:
        raise ValueError(f"organisation {brand_id} does not exist")
    try:
        report = importer(
            session,
            brand,
            Path(path),
            encoding=encoding,
            skip_invalid=skip_invalid,
            actor_id=actor_id,
            source_name=source_name,
        )
    except Exception as failure:
        try:
            session.rollback()
            record_failed_import(
                session, brand_id, kind, Path(path), source_name, actor_id, failure
            )
            session.commit()
        except SQLAlchemyError:
            session.rollback()
            log.exception("the failed import of %s could not be recorded", path)
        raise
    return report.as_dict(max_problems=STORED_PROBLEMS_LIMIT)


def record_failed_import(
    session: Session,
    brand_id: int,
    kind: str,
    path: Path,
    source_name: str | None,
    actor_id: int | None,
    failure: Exception,
) -> ImportBatch:
    """The batch of an import that wrote nothing: refused (unreadable file) or failed, with why.

    The failure's report gets the batch id, so the failed job links to the batch.
    """
    file = source_name or path.name
    report = getattr(failure, "report", None)
    if not isinstance(report, ImportReport):
        report = ImportReport(file=file, kind=kind)
        failure.report = report  # type: ignore[attr-defined]  # read by the job layer
    report.kind = report.kind or kind
    stored = report.as_dict(max_problems=STORED_PROBLEMS_LIMIT)
    status = ImportStatus.REFUSED if isinstance(failure, ImportFileError) else ImportStatus.FAILED
    if not isinstance(failure, ImportValidationError):  # its problems are the whole story
        message = getattr(failure, "user_message", None) or f"{type(failure).__name__}: {failure}"
        stored["error"] = message[:2000]
    batch = ImportBatch(
        brand_id=brand_id,
        kind=kind,
        filename=file[:255],
        sha256=_file_sha256(path),
        rows_total=report.rows_total,
        report=stored,
        status=status,
        created_by_id=actor_id,
    )
    session.add(batch)
    session.flush()
    report.batch_public_id = str(batch.public_id)
    return batch


def _file_sha256(path: Path) -> str:
    """The checksum of the file as uploaded; empty when the file itself cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 16), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()
