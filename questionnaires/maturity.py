"""Maturity points: how far along a supplier's climate management is, per dimension.

Questions tagged ``maturity: {dimension, points}`` earn points from their answers. The points
possible count every tagged question whether shown or not, so a "no" that hides follow-up
questions cannot raise a supplier's percentage; definitions must therefore not tag questions
in mutually exclusive branches (e.g. totals vs activity data) with points.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .answers import normalise_answers
from .model import Question, QuestionnaireDefinition


def possible_points(question: Question) -> float:
    """The most a question can earn."""
    maturity = question.tags.maturity
    if maturity is None:
        return 0.0
    if not isinstance(maturity.points, Mapping):
        return float(maturity.points)
    values = [max(float(v), 0.0) for v in maturity.points.values()]
    return sum(values) if question.type == "multiple_choice" else max(values, default=0.0)


def earned_points(question: Question, value: Any) -> float:
    """Points earned by one normalised answer (``None`` when unanswered or hidden)."""
    maturity = question.tags.maturity
    if maturity is None or value is None:
        return 0.0
    points = maturity.points
    if isinstance(points, Mapping):
        if question.type == "yes_no":
            return float(points.get("yes" if value else "no", 0.0))
        if question.type == "multiple_choice":
            return float(sum(max(points.get(v, 0.0), 0.0) for v in value))
        return float(points.get(value, 0.0))
    if question.type == "yes_no":
        return float(points) if value else 0.0
    if question.type == "table":
        return float(points) if len(value) > 0 else 0.0
    return float(points)


def maturity_points(
    definition: QuestionnaireDefinition, answers: Mapping[str, Any]
) -> dict[str, dict[str, float]]:
    """``{dimension: {"earned": x, "possible": y}}`` for every dimension the form tags."""
    normalised = normalise_answers(definition, answers)
    result: dict[str, dict[str, float]] = {}
    for question in definition.questions():
        if question.tags.maturity is None:
            continue
        entry = result.setdefault(
            question.tags.maturity.dimension, {"earned": 0.0, "possible": 0.0}
        )
        entry["possible"] += possible_points(question)
        entry["earned"] += earned_points(question, normalised.get(question.key))
    return result
