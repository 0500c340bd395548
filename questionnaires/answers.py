"""Server-side validation and normalisation of questionnaire answers.

Suppliers save drafts many times and submit once. Drafts are checked for what is wrong
(types, ranges, units, dimensions, choices) but not for what is missing; submission also
requires every *visible* required question. Hidden questions (``show_if`` false) are never
required and their answers are ignored, so switching the reporting method cannot leave stale
numbers in a disclosure. Normalised answers carry canonical units (kWh, kg, kg CO2e, ...) and
keep what the supplier typed under ``entered``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .model import (
    Question,
    QuestionnaireDefinition,
    is_answered,
    normalise_locale,
    row_visible_columns,
)
from .units import CANONICAL_UNITS, AnswerUnitError, convert_between, to_canonical

# code -> {locale: template}; placeholders are filled from the error's params.
MESSAGES: dict[str, dict[str, str]] = {
    "invalid_answers": {
        "en": "Answers must be an object keyed by question.",
        "zh": "答案必须是以题目编号为键的对象。",
    },
    "unknown_question": {
        "en": "Unknown question '{key}'.",
        "zh": "未知的题目“{key}”。",
    },
    "unknown_column": {
        "en": "Unknown column '{column}'.",
        "zh": "未知的列“{column}”。",
    },
    "required": {
        "en": "This question is required.",
        "zh": "此题为必填项。",
    },
    "invalid_format": {
        "en": "The answer does not have the expected format ({expected}).",
        "zh": "答案格式不正确（应为 {expected}）。",
    },
    "not_a_number": {
        "en": "Enter a number.",
        "zh": "请输入数字。",
    },
    "not_an_integer": {
        "en": "Enter a whole number.",
        "zh": "请输入整数。",
    },
    "below_min": {
        "en": "Must be at least {min}{unit_suffix}.",
        "zh": "不得小于 {min}{unit_suffix}。",
    },
    "above_max": {
        "en": "Must be at most {max}{unit_suffix}.",
        "zh": "不得大于 {max}{unit_suffix}。",
    },
    "percentage_range": {
        "en": "Enter a percentage between 0 and 100.",
        "zh": "请输入 0 到 100 之间的百分比。",
    },
    "unknown_unit": {
        "en": "Unknown unit '{unit}'.",
        "zh": "无法识别的单位“{unit}”。",
    },
    "wrong_dimension": {
        "en": "The unit '{unit}' measures {dimension}, but this question needs {expected} "
        "(for example '{expected_unit}').",
        "zh": "单位“{unit}”表示{dimension}，但本题需要{expected}单位（例如“{expected_unit}”）。",
    },
    "invalid_choice": {
        "en": "'{value}' is not one of the options.",
        "zh": "“{value}”不是有效选项。",
    },
    "invalid_boolean": {
        "en": "Answer yes or no.",
        "zh": "请选择“是”或“否”。",
    },
    "invalid_date": {
        "en": "Enter a valid date as YYYY-MM-DD.",
        "zh": "请按 YYYY-MM-DD 格式填写有效日期。",
    },
    "too_long": {
        "en": "Use at most {max_length} characters.",
        "zh": "最多填写 {max_length} 个字符。",
    },
    "invalid_currency": {
        "en": "Enter a three-letter ISO currency code such as CNY or USD.",
        "zh": "请填写三位 ISO 货币代码，例如 CNY 或 USD。",
    },
    "unsupported_currency": {
        "en": "The currency '{currency}' cannot be used for this question; use one of "
        "{currencies}.",
        "zh": "本题不支持货币“{currency}”，请使用以下币种之一：{currencies}。",
    },
    "invalid_file": {
        "en": "The evidence file reference is not valid; please upload the file again.",
        "zh": "证明文件的引用无效，请重新上传。",
    },
    "too_many_files": {
        "en": "Upload at most {max_files} file(s).",
        "zh": "最多上传 {max_files} 个文件。",
    },
    "invalid_row": {
        "en": "Each row must be an object of column answers.",
        "zh": "每一行必须是由各列答案组成的对象。",
    },
    "too_few_rows": {
        "en": "Add at least {min_rows} row(s).",
        "zh": "请至少填写 {min_rows} 行。",
    },
    "too_many_rows": {
        "en": "Use at most {max_rows} row(s).",
        "zh": "最多填写 {max_rows} 行。",
    },
    "sum_above_max": {
        "en": "The column '{column_title}' adds up to {total}, more than {max}.",
        "zh": "“{column_title}”列合计为 {total}，超过上限 {max}。",
    },
    "sum_below_min": {
        "en": "The column '{column_title}' adds up to {total}, less than {min}.",
        "zh": "“{column_title}”列合计为 {total}，低于下限 {min}。",
    },
}

DIMENSION_NAMES: dict[str, dict[str, str]] = {
    "energy": {"en": "energy", "zh": "能量"},
    "mass": {"en": "mass", "zh": "质量"},
    "volume": {"en": "volume", "zh": "体积"},
    "emissions": {"en": "emissions (CO2e)", "zh": "排放量（CO2e）"},
    "area": {"en": "area", "zh": "面积"},
    "length": {"en": "length", "zh": "长度"},
}

_EXPECTED: dict[str, dict[str, str]] = {
    "number": {"en": "a number or {value, unit}", "zh": "数字或 {value, unit}"},
    "text": {"en": "text", "zh": "文本"},
    "choice": {"en": "an option value", "zh": "选项值"},
    "choices": {"en": "a list of option values", "zh": "选项值列表"},
    "money": {"en": "{amount, currency}", "zh": "{amount, currency}"},
    "file": {"en": "{file_id, filename} or a list of them", "zh": "{file_id, filename} 或其列表"},
    "rows": {"en": "a list of rows", "zh": "行的列表"},
}

_CURRENCY = re.compile(r"^[A-Z]{3}$")
# The largest amount a disclosure can store (supplychain.models.MONEY is Numeric(18, 2)); a
# larger one could be submitted but never accepted, and `1e999999999` would expand to a
# billion digits when normalised.
MAX_MONEY_AMOUNT = Decimal("1e16")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DEFAULT_MAX_LENGTH = 10_000


@dataclass(frozen=True)
class AnswerError:
    """One problem with one answer (or one table cell), ready to show next to the field."""

    question_key: str
    code: str
    message: str
    row: int | None = None
    column: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Invalid(Exception):
    """Raised by the per-type parsers; turned into an :class:`AnswerError`."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass
class _Problem:
    key: str
    code: str
    params: dict[str, Any]
    row: int | None = None
    column: str | None = None


def message_for(code: str, locale: str = "en", **params: Any) -> str:
    """The translated message for an error code; localised params are picked per locale."""
    loc = normalise_locale(locale)
    template = MESSAGES[code][loc]
    values = {
        k: (v.get(loc) or v.get("en", "")) if isinstance(v, Mapping) else _fmt(v)
        for k, v in params.items()
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return template


def _fmt(value: Any) -> Any:
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    return value


# --- per-type parsers ----------------------------------------------------------------------


def _number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise _Invalid("not_a_number")
    if isinstance(raw, int | float | Decimal):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip().replace(",", ""))
        except ValueError:
            raise _Invalid("not_a_number") from None
    else:
        raise _Invalid("not_a_number")
    if not math.isfinite(value):
        raise _Invalid("not_a_number")
    return value


def _bounds(question: Question, value: float, unit: str | None = None) -> None:
    """Apply ``min``/``max`` (expressed in the question's unit) to a value in ``unit``."""
    rules = question.rules
    suffix = f" {question.unit}" if question.unit else ""
    compared = value
    if question.unit and unit and unit != question.unit:
        try:
            compared = convert_between(value, unit, question.unit)
        except AnswerUnitError:
            # Other dimension of a multi-dimension question: only the sign rule is comparable.
            compared, suffix = value, ""
            if rules.min is not None and float(rules.min) == 0 and value < 0:
                raise _Invalid("below_min", min=0.0, unit_suffix="") from None
            return
    tolerance = 1e-9 * max(1.0, abs(compared))
    if rules.min is not None and compared < float(rules.min) - tolerance:
        raise _Invalid("below_min", min=float(rules.min), unit_suffix=suffix)
    if rules.max is not None and compared > float(rules.max) + tolerance:
        raise _Invalid("above_max", max=float(rules.max), unit_suffix=suffix)


def _parse_number(question: Question, raw: Any) -> Any:
    if not question.dimension:
        value = _number(raw["value"] if isinstance(raw, Mapping) and "value" in raw else raw)
        _bounds(question, value)
        return value
    if isinstance(raw, Mapping):
        if "value" not in raw:
            raise _Invalid("invalid_format", expected=_EXPECTED["number"])
        value = _number(raw["value"])
        unit = raw.get("unit") or question.unit
    else:
        value, unit = _number(raw), question.unit
    if not isinstance(unit, str):
        raise _Invalid("unknown_unit", unit=str(unit))
    try:
        canonical, canonical_unit = to_canonical(value, unit, question.dimension)
    except AnswerUnitError as exc:
        if exc.code == "wrong_dimension":
            wanted = question.dimension[0]
            raise _Invalid(
                "wrong_dimension",
                unit=unit,
                dimension=DIMENSION_NAMES.get(
                    exc.dimension, {"en": exc.dimension, "zh": exc.dimension}
                ),
                expected=_dimension_list(question.dimension),
                expected_unit=question.unit or CANONICAL_UNITS[wanted],
            ) from None
        raise _Invalid("unknown_unit", unit=unit) from None
    _bounds(question, value, unit)
    entered = {"value": value, "unit": unit}
    previous = raw.get("entered") if isinstance(raw, Mapping) else None
    if isinstance(previous, Mapping) and _same_quantity(previous, canonical, question):
        entered = {"value": float(previous["value"]), "unit": previous["unit"]}
    return {"value": canonical, "unit": canonical_unit, "entered": entered}


def _same_quantity(entered: Mapping[str, Any], canonical: float, question: Question) -> bool:
    """True when a re-posted ``entered`` still matches the value (keeps normalising idempotent)."""
    try:
        value, _ = to_canonical(
            _number(entered.get("value")), entered.get("unit"), question.dimension
        )
    except (AnswerUnitError, _Invalid, TypeError):
        return False
    return math.isclose(value, canonical, rel_tol=1e-9, abs_tol=1e-12)


def _dimension_list(dimensions: tuple[str, ...]) -> dict[str, str]:
    names = [DIMENSION_NAMES.get(d, {"en": d, "zh": d}) for d in dimensions]
    return {"en": " or ".join(n["en"] for n in names), "zh": "或".join(n["zh"] for n in names)}


def _parse_integer(question: Question, raw: Any) -> int:
    if isinstance(raw, bool):
        raise _Invalid("not_an_integer")
    if isinstance(raw, int):
        value = raw
    else:
        try:
            number = _number(raw)
        except _Invalid:
            raise _Invalid("not_an_integer") from None
        if not number.is_integer():
            raise _Invalid("not_an_integer")
        value = int(number)
    _bounds(question, float(value))
    return value


def _parse_percentage(question: Question, raw: Any) -> float:
    value = _number(raw)
    if value < 0 or value > 100:
        raise _Invalid("percentage_range")
    _bounds(question, value)
    return value


def _parse_text(question: Question, raw: Any) -> str:
    if not isinstance(raw, str):
        raise _Invalid("invalid_format", expected=_EXPECTED["text"])
    value = raw.strip()
    limit = question.rules.max_length or _DEFAULT_MAX_LENGTH
    if len(value) > limit:
        raise _Invalid("too_long", max_length=limit)
    return value


def _parse_single_choice(question: Question, raw: Any) -> str:
    if not isinstance(raw, str):
        raise _Invalid("invalid_format", expected=_EXPECTED["choice"])
    if raw not in question.choice_values:
        raise _Invalid("invalid_choice", value=raw)
    return raw


def _parse_multiple_choice(question: Question, raw: Any) -> list[str]:
    if not isinstance(raw, list | tuple):
        raise _Invalid("invalid_format", expected=_EXPECTED["choices"])
    values: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            raise _Invalid("invalid_format", expected=_EXPECTED["choices"])
        if item not in question.choice_values:
            raise _Invalid("invalid_choice", value=item)
        if item not in values:
            values.append(item)
    return values


def _parse_yes_no(question: Question, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("yes", "true"):
        return True
    if isinstance(raw, str) and raw.strip().lower() in ("no", "false"):
        return False
    raise _Invalid("invalid_boolean")


def _to_date(raw: Any) -> date:
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str) or not _ISO_DATE.match(raw.strip()):
        raise _Invalid("invalid_date")
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise _Invalid("invalid_date") from None


def _parse_date(question: Question, raw: Any) -> str:
    value = _to_date(raw)
    rules = question.rules
    if rules.min is not None and value < _to_date(str(rules.min)):
        raise _Invalid("below_min", min=str(rules.min), unit_suffix="")
    if rules.max is not None and value > _to_date(str(rules.max)):
        raise _Invalid("above_max", max=str(rules.max), unit_suffix="")
    return value.isoformat()


def _parse_file(question: Question, raw: Any) -> list[dict[str, Any]]:
    items = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(items, list | tuple):
        raise _Invalid("invalid_format", expected=_EXPECTED["file"])
    files = []
    for item in items:
        if not isinstance(item, Mapping):
            raise _Invalid("invalid_file")
        file_id, filename = item.get("file_id"), item.get("filename")
        if not isinstance(file_id, str) or not file_id.strip():
            raise _Invalid("invalid_file")
        if not isinstance(filename, str) or not filename.strip():
            raise _Invalid("invalid_file")
        ref: dict[str, Any] = {"file_id": file_id.strip(), "filename": filename.strip()}
        for extra in ("content_type", "size", "sha256"):
            if item.get(extra) is not None:
                ref[extra] = item[extra]
        files.append(ref)
    limit = question.rules.max_files
    if limit is not None and len(files) > limit:
        raise _Invalid("too_many_files", max_files=limit)
    return files


def _parse_currency_amount(question: Question, raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping) or "amount" not in raw:
        raise _Invalid("invalid_format", expected=_EXPECTED["money"])
    amount_raw = raw["amount"]
    if isinstance(amount_raw, bool) or not isinstance(amount_raw, int | float | str | Decimal):
        raise _Invalid("not_a_number")
    try:
        text = amount_raw.strip().replace(",", "") if isinstance(amount_raw, str) else amount_raw
        amount = Decimal(str(text))
    except InvalidOperation:
        raise _Invalid("not_a_number") from None
    if not amount.is_finite():
        raise _Invalid("not_a_number")
    currency = raw.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.match(currency.strip().upper()):
        raise _Invalid("invalid_currency")
    if question.currencies and currency.strip().upper() not in question.currencies:
        raise _Invalid(
            "unsupported_currency",
            currency=currency.strip().upper(),
            currencies=", ".join(question.currencies),
        )
    _bounds(question, float(amount))
    suffix = f" {currency.strip().upper()}"
    if amount >= MAX_MONEY_AMOUNT:  # comparisons need no context, so cannot overflow
        raise _Invalid("above_max", max=float(MAX_MONEY_AMOUNT), unit_suffix=suffix)
    if amount <= -MAX_MONEY_AMOUNT:
        raise _Invalid("below_min", min=-float(MAX_MONEY_AMOUNT), unit_suffix=suffix)
    return {"amount": format(amount, "f"), "currency": currency.strip().upper()}


_PARSERS = {
    "number": _parse_number,
    "integer": _parse_integer,
    "percentage": _parse_percentage,
    "text": _parse_text,
    "single_choice": _parse_single_choice,
    "multiple_choice": _parse_multiple_choice,
    "yes_no": _parse_yes_no,
    "date": _parse_date,
    "file": _parse_file,
    "currency_amount": _parse_currency_amount,
}


def parse_answer(question: Question, raw: Any) -> Any:
    """Normalise one non-table answer; raises ``ValueError`` carrying the error ``code``."""
    try:
        return _PARSERS[question.type](question, raw)
    except _Invalid as exc:
        raise ValueError(exc.code) from exc


def _parse_rows(question: Question, raw: Any) -> tuple[list[dict[str, Any]], list[_Problem]]:
    """Normalise table rows cell by cell; invalid cells are left out and reported."""
    if not isinstance(raw, list | tuple):
        return [], [_Problem(question.key, "invalid_format", {"expected": _EXPECTED["rows"]})]
    rows: list[dict[str, Any]] = []
    problems: list[_Problem] = []
    columns = {c.key: c for c in question.columns}
    for index, row in enumerate(raw):
        if not isinstance(row, Mapping):
            problems.append(_Problem(question.key, "invalid_row", {}, row=index))
            rows.append({})
            continue
        out: dict[str, Any] = {}
        for col_key, cell in row.items():
            column = columns.get(col_key)
            if column is None:
                problems.append(
                    _Problem(
                        question.key,
                        "unknown_column",
                        {"column": col_key},
                        row=index,
                        column=str(col_key),
                    )
                )
                continue
            if not is_answered(cell):
                continue
            try:
                out[col_key] = _PARSERS[column.type](column, cell)
            except _Invalid as exc:
                problems.append(
                    _Problem(question.key, exc.code, exc.params, row=index, column=col_key)
                )
        rows.append(out)
    return rows, problems


# --- the whole form ------------------------------------------------------------------------


def _process(
    definition: QuestionnaireDefinition, answers: Any, for_submit: bool
) -> tuple[dict[str, Any], list[_Problem]]:
    if not isinstance(answers, Mapping):
        return {}, [_Problem("", "invalid_answers", {})]
    values: dict[str, Any] = {}
    pending: dict[str, list[_Problem]] = {}
    problems: list[_Problem] = []
    for key, raw in answers.items():
        if not isinstance(key, str) or not definition.has_question(key):
            problems.append(_Problem(str(key), "unknown_question", {"key": str(key)}))
            continue
        if not is_answered(raw):
            continue
        question = definition.question(key)
        if question.type == "table":
            rows, row_problems = _parse_rows(question, raw)
            if rows or not row_problems:
                values[key] = rows
            pending[key] = row_problems
            continue
        try:
            values[key] = _PARSERS[question.type](question, raw)
        except _Invalid as exc:
            pending[key] = [_Problem(key, exc.code, exc.params)]
    visible = definition.visible_keys(values)
    result = {k: v for k, v in values.items() if k in visible}
    for key, key_problems in pending.items():
        if key not in visible:
            continue
        question = definition.question(key)
        if question.type != "table":
            problems += key_problems
            continue
        rows = result.get(key, [])
        shown = [
            {c.key for c in row_visible_columns(question, row, result, visible)} for row in rows
        ]
        problems += [
            p
            for p in key_problems
            if p.row is None
            or p.column is None
            or p.row >= len(shown)
            or p.column in shown[p.row]
            or p.code == "unknown_column"
        ]
    bad_cells = {(p.key, p.row, p.column) for p in problems if p.row is not None}
    for question in definition.questions():
        key = question.key
        if key not in visible:
            continue
        if question.type == "table":
            problems += _check_table(question, result, visible, for_submit, bad_cells)
        elif for_submit and question.required and key not in result:
            problems.append(_Problem(key, "required", {}))
    return result, problems


def _check_table(
    question: Question,
    result: dict[str, Any],
    visible: set[str],
    for_submit: bool,
    bad_cells: set[tuple],
) -> list[_Problem]:
    """Row counts, required cells and column sums; hidden cells of a row are dropped."""
    key = question.key
    problems: list[_Problem] = []
    rows = result.get(key)
    if rows is None:
        if for_submit and (question.required or (question.min_rows or 0) > 0):
            problems.append(_Problem(key, "required", {}))
        return problems
    cleaned = []
    for index, row in enumerate(rows):
        shown = row_visible_columns(question, row, result, visible)
        cleaned.append({c.key: row[c.key] for c in shown if c.key in row})
        if for_submit:
            for column in shown:
                if (
                    column.required
                    and column.key not in row
                    and (key, index, column.key) not in bad_cells
                ):
                    problems.append(_Problem(key, "required", {}, row=index, column=column.key))
    result[key] = cleaned
    if question.max_rows is not None and len(rows) > question.max_rows:
        problems.append(_Problem(key, "too_many_rows", {"max_rows": question.max_rows}))
    minimum = max(question.min_rows or 0, 1 if question.required else 0)
    if for_submit and len(rows) < minimum:
        problems.append(_Problem(key, "too_few_rows", {"min_rows": minimum}))
    for rule in question.rules.sum_of_rows:
        total = sum(_magnitude(row.get(rule.column)) for row in cleaned)
        column = question.column(rule.column)
        params = {"column": rule.column, "column_title": dict(column.title), "total": total}
        if rule.max is not None and total > rule.max + 1e-9 * max(1.0, abs(rule.max)):
            problems.append(
                _Problem(key, "sum_above_max", {**params, "max": rule.max}, column=rule.column)
            )
        if (
            for_submit
            and rule.min is not None
            and total < rule.min - 1e-9 * max(1.0, abs(rule.min))
        ):
            problems.append(
                _Problem(key, "sum_below_min", {**params, "min": rule.min}, column=rule.column)
            )
    return problems


def _magnitude(value: Any) -> float:
    if isinstance(value, Mapping):
        return float(value.get("value", 0.0))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return 0.0


def validate_answers(
    definition: QuestionnaireDefinition,
    answers: Mapping[str, Any],
    *,
    locale: str = "en",
    for_submit: bool = False,
) -> list[AnswerError]:
    """Every problem with ``answers``; an empty list means they can be saved (or submitted)."""
    _, problems = _process(definition, answers, for_submit)
    return [
        AnswerError(
            question_key=p.key,
            code=p.code,
            message=message_for(p.code, locale, **p.params),
            row=p.row,
            column=p.column,
            params=p.params,
        )
        for p in problems
    ]


def normalise_answers(
    definition: QuestionnaireDefinition, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """Visible, valid answers in canonical form; invalid or hidden answers are left out.

    Call :func:`validate_answers` to learn why an answer is missing from the result.
    """
    result, _ = _process(definition, answers, for_submit=False)
    return result
