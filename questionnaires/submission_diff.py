"""What changed between two submissions of a response, in words a reviewer reads.

A brand sees only what a supplier submitted, never the drafts in between, so its review page
compares consecutive frozen submissions. Every answer is written out the way the review page
shows it (choice labels in the reader's language, amount with currency, value with unit, no
e-notation), and two answers count as changed only if they read differently: `120` saved
through the API and `"120"` typed in the form are the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .model import Question, QuestionnaireDefinition, normalise_locale, text

NO_ANSWER = "—"
WORDS: dict[str, dict[str, str]] = {
    "yes": {"en": "Yes", "zh": "是"},
    "no": {"en": "No", "zh": "否"},
}
NUMERIC_TYPES = ("number", "integer", "percentage")


@dataclass(frozen=True)
class AnswerChange:
    """One question whose answer reads differently in the newer submission."""

    question_key: str
    question: str
    before: str
    after: str


def diff_answers(
    definition: QuestionnaireDefinition,
    older: Mapping[str, Any],
    newer: Mapping[str, Any],
    *,
    locale: str,
) -> list[AnswerChange]:
    """The questions, in form order, whose answer changed from `older` to `newer`.

    A question hidden in a submission (its `show_if` false) has no answer there, whatever is
    still stored under its key: it neither counted nor showed when that submission was made.
    """
    loc = normalise_locale(locale)
    shown_before = definition.visible_keys(older)
    shown_after = definition.visible_keys(newer)
    changes = []
    for question in definition.questions():
        before = format_answer(
            question, older.get(question.key) if question.key in shown_before else None, loc
        )
        after = format_answer(
            question, newer.get(question.key) if question.key in shown_after else None, loc
        )
        if before != after:
            changes.append(AnswerChange(question.key, text(question.title, loc), before, after))
    return changes


def format_answer(question: Question, value: Any, locale: str) -> str:
    """One answer as plain text; a table answer has one line per row."""
    loc = normalise_locale(locale)
    if value is None or value == "" or value == []:
        return NO_ANSWER
    kind = question.type
    if kind == "table" and isinstance(value, list):
        return "\n".join(_row(question, row, loc) for row in value if isinstance(row, Mapping))
    if kind == "single_choice":
        return _choice(question, value, loc)
    if kind == "multiple_choice" and isinstance(value, list):
        return ", ".join(_choice(question, v, loc) for v in value)
    if kind == "yes_no":
        return WORDS["yes" if value in (True, "yes", "true") else "no"][loc]
    if kind == "file" and isinstance(value, list):
        return ", ".join(
            str(f.get("filename", "")) if isinstance(f, Mapping) else str(f) for f in value
        )
    if isinstance(value, Mapping) and "amount" in value:
        amount = _number(value.get("amount"), trim=False)
        return f"{amount} {value.get('currency') or ''}".strip()
    if isinstance(value, Mapping) and "value" in value:
        return f"{_number(value.get('value'))} {value.get('unit') or ''}".strip()
    if kind == "percentage":
        return f"{_number(value)} %"
    if kind in NUMERIC_TYPES:
        return _number(value)
    return str(value)


def _row(table: Question, row: Mapping[str, Any], loc: str) -> str:
    cells = []
    for column in table.columns:
        if column.key in row:
            shown = format_answer(column, row[column.key], loc)
            cells.append(f"{text(column.title, loc)}: {shown}")
    return "; ".join(cells)


def _choice(question: Question, value: Any, loc: str) -> str:
    for choice in question.choices:
        if choice.value == str(value):
            return text(choice.label, loc)
    return str(value)


def _number(value: Any, *, trim: bool = True) -> str:
    """A number in positional notation (`0.00001`, never `1e-05`). With `trim`, zeros after the
    decimal point are dropped (`15.0` reads `15`); amounts of money keep their cents."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    written = str(value).strip()
    try:
        number = Decimal(written)
    except InvalidOperation:
        return written
    if not number.is_finite():
        return written
    plain = format(number, "f")
    if trim and "." in plain:
        plain = plain.rstrip("0").rstrip(".")
    return plain
