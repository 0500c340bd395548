"""Prefilling a new year's (or new version's) questionnaire from last year's answers.

Suppliers answer the same questionnaire every year; most profile answers do not change, so
they start from last year's answers and review them. Answers move to the same key by default,
or to the key named in the new definition's ``carry_over.map``; keys in ``carry_over.drop`` are
never carried. An answer is carried only if it is still valid for the new question (same or
compatible type, choice still offered, unit of an allowed dimension), so a prefilled form never
starts out with errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .answers import _parse_rows, parse_answer
from .model import Question, QuestionnaireDefinition, is_answered

#: Old type -> new types its answers can move to.
COMPATIBLE_TYPES: dict[str, tuple[str, ...]] = {
    "integer": ("integer", "number"),
    "percentage": ("percentage", "number"),
    "single_choice": ("single_choice", "multiple_choice"),
}


def _compatible(old: Question, new: Question) -> bool:
    return new.type in COMPATIBLE_TYPES.get(old.type, (old.type,))


def _carry_value(old: Question, new: Question, value: Any) -> Any:
    """The answer re-validated for the new question, or ``None`` when it no longer fits."""
    if old.type == "single_choice" and new.type == "multiple_choice":
        value = [value]
    if isinstance(value, Mapping) and "entered" in value and new.type == "number":
        value = value["entered"]  # re-enter what the supplier typed, in their unit
    if new.type == "table":
        if not isinstance(value, list):
            return None
        keep = {c.key for c in new.columns}
        rows = [
            {k: v for k, v in row.items() if k in keep and _cell_fits(old, new, k)}
            for row in value
            if isinstance(row, Mapping)
        ]
        parsed, problems = _parse_rows(new, rows)
        bad = {(p.row, p.column) for p in problems}
        cleaned = [
            {k: v for k, v in row.items() if (i, k) not in bad} for i, row in enumerate(rows)
        ]
        cleaned = [row for row in cleaned if row]
        return cleaned or None
    try:
        parse_answer(new, value)
    except ValueError:
        return None
    return value


def _cell_fits(old: Question, new: Question, column: str) -> bool:
    try:
        return _compatible(old.column(column), new.column(column))
    except KeyError:
        return False


def carry_over_answers(
    previous_answers: Mapping[str, Any],
    previous_definition: QuestionnaireDefinition,
    new_definition: QuestionnaireDefinition,
) -> dict[str, Any]:
    """Answers to prefill ``new_definition`` with, taken from ``previous_answers``.

    The rename map applies only when the new definition declares ``carry_over.from_version``
    equal to the previous definition's version; same-key carry-over applies always.
    """
    plan = new_definition.carry_over
    renames: Mapping[str, str] = {}
    drop: set[str] = set()
    if plan is not None and new_definition.key == previous_definition.key:
        drop = set(plan.drop)
        if plan.from_version == previous_definition.version:
            renames = plan.map
    result: dict[str, Any] = {}
    for old_key, value in previous_answers.items():
        if old_key in drop or not is_answered(value):
            continue
        if not previous_definition.has_question(old_key):
            continue
        new_key = renames.get(old_key, old_key)
        if new_key in drop or not new_definition.has_question(new_key):
            continue
        old_q = previous_definition.question(old_key)
        new_q = new_definition.question(new_key)
        if not _compatible(old_q, new_q):
            continue
        carried = _carry_value(old_q, new_q, value)
        if carried is not None and (new_key not in result or old_key in renames):
            result[new_key] = carried
    return result
