"""The in-memory form of a questionnaire definition: a tree of frozen dataclasses.

A definition is loaded once from YAML (see :mod:`questionnaires.loader`), frozen on publish and
stored as JSON, so every class here can turn itself back into the plain dict it was loaded from
(``to_dict``). Visibility (``show_if``) is evaluated here because the web form, the answer
validator and the disclosure derivation must all agree on which questions are in play.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

LOCALES = ("en", "zh")

LocalText = Mapping[str, str]


def normalise_locale(locale: str | None) -> str:
    """Map browser-style locales (``zh-CN``, ``zh_Hans``, ``en-GB``) onto ``en`` / ``zh``."""
    if not locale:
        return "en"
    return "zh" if locale.lower().replace("_", "-").startswith("zh") else "en"


def text(obj: Any, locale: str = "en") -> str:
    """Pick the text in ``locale`` from a ``{en, zh}`` mapping or a titled/labelled object."""
    if obj is None:
        return ""
    if not isinstance(obj, Mapping):
        obj = getattr(obj, "title", None) or getattr(obj, "label", None) or {}
    loc = normalise_locale(locale)
    return obj.get(loc) or obj.get("en") or ""


def _text_dict(value: LocalText | None) -> dict[str, str] | None:
    return None if value is None else {loc: value[loc] for loc in LOCALES if loc in value}


@dataclass(frozen=True)
class Choice:
    """One option of a single or multiple choice question; ``value`` is what answers store."""

    value: str
    label: LocalText
    help: LocalText | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "label": _text_dict(self.label)}
        if self.help:
            out["help"] = _text_dict(self.help)
        return out


@dataclass(frozen=True)
class Condition:
    """A ``show_if`` condition tree.

    ``op`` is ``equals``/``not_equals``/``in``/``not_in``/``answered`` (leaf, about ``question``)
    or ``all``/``any``/``not`` (combining ``conditions``).
    """

    op: str
    question: str | None = None
    value: Any = None
    conditions: tuple[Condition, ...] = ()

    def references(self) -> Iterator[str]:
        """Every question key the condition reads."""
        if self.question is not None:
            yield self.question
        for sub in self.conditions:
            yield from sub.references()

    def to_dict(self) -> dict[str, Any]:
        if self.op in ("all", "any"):
            return {self.op: [c.to_dict() for c in self.conditions]}
        if self.op == "not":
            return {"not": self.conditions[0].to_dict()}
        value = list(self.value) if self.op in ("in", "not_in") else self.value
        return {"question": self.question, self.op: value}

    def evaluate(self, lookup: Any) -> bool:
        """Evaluate against ``lookup(key) -> (answered, value)`` for visible answers only."""
        if self.op == "all":
            return all(c.evaluate(lookup) for c in self.conditions)
        if self.op == "any":
            return any(c.evaluate(lookup) for c in self.conditions)
        if self.op == "not":
            return not self.conditions[0].evaluate(lookup)
        answered, value = lookup(self.question)
        if self.op == "answered":
            return answered == bool(self.value)
        if not answered:
            # An unanswered (or hidden) question satisfies no comparison, not even "not_equals":
            # follow-up questions appear only once the deciding answer has been given.
            return False
        values = _comparable(value)
        if self.op == "equals":
            return self.value in values
        if self.op == "not_equals":
            return self.value not in values
        if self.op == "in":
            return any(v in self.value for v in values)
        if self.op == "not_in":
            return not any(v in self.value for v in values)
        raise ValueError(f"unknown condition operator {self.op!r}")


def _comparable(value: Any) -> list[Any]:
    """Reduce an answer to the scalars a condition compares (choice lists, number values)."""
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping) and "value" in value:
        return [value["value"]]
    return [value]


@dataclass(frozen=True)
class SumOfRows:
    """Bounds on the sum of one numeric column over all rows of a table (e.g. shares ≤ 100)."""

    column: str
    min: float | None = None
    max: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"column": self.column}
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        return out


@dataclass(frozen=True)
class Rules:
    """Validation rules beyond the type itself.

    ``min``/``max`` are in the question's own ``unit`` for numbers, ISO dates for dates.
    """

    min: Any = None
    max: Any = None
    max_length: int | None = None
    max_files: int | None = None
    sum_of_rows: tuple[SumOfRows, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("min", "max", "max_length", "max_files"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.sum_of_rows:
            out["sum_of_rows"] = [s.to_dict() for s in self.sum_of_rows]
        return out


@dataclass(frozen=True)
class Maturity:
    """Maturity points a question contributes: a flat number or points per choice value."""

    dimension: str
    points: float | Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        points = dict(self.points) if isinstance(self.points, Mapping) else self.points
        return {"dimension": self.dimension, "points": points}


@dataclass(frozen=True)
class Tags:
    """Where an answer goes: the disclosure field it feeds and the maturity points it earns."""

    disclosure_field: str | None = None
    maturity: Maturity | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.disclosure_field:
            out["disclosure_field"] = self.disclosure_field
        if self.maturity:
            out["maturity"] = self.maturity.to_dict()
        return out


@dataclass(frozen=True)
class Question:
    """One question (or one column of a table question)."""

    key: str
    type: str
    title: LocalText
    help: LocalText | None = None
    required: bool = False
    show_if: Condition | None = None
    unit: str | None = None
    units: tuple[str, ...] = ()
    dimension: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    columns: tuple[Question, ...] = ()
    min_rows: int | None = None
    max_rows: int | None = None
    rules: Rules = field(default_factory=Rules)
    tags: Tags = field(default_factory=Tags)
    #: ISO 4217 codes a ``currency_amount`` accepts; empty means any three-letter code.
    currencies: tuple[str, ...] = ()

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.choices)

    def column(self, key: str) -> Question:
        """A table column by key; ``KeyError`` when absent."""
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(f"question {self.key!r} has no column {key!r}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "type": self.type, "title": _text_dict(self.title)}
        if self.help:
            out["help"] = _text_dict(self.help)
        if self.required:
            out["required"] = True
        if self.show_if is not None:
            out["show_if"] = self.show_if.to_dict()
        if self.unit is not None:
            out["unit"] = self.unit
        if self.units:
            out["units"] = list(self.units)
        if self.dimension:
            out["dimension"] = (
                self.dimension[0] if len(self.dimension) == 1 else list(self.dimension)
            )
        if self.currencies:
            out["currencies"] = list(self.currencies)
        if self.choices:
            out["choices"] = [c.to_dict() for c in self.choices]
        if self.columns:
            out["columns"] = [c.to_dict() for c in self.columns]
        if self.min_rows is not None:
            out["min_rows"] = self.min_rows
        if self.max_rows is not None:
            out["max_rows"] = self.max_rows
        rules = self.rules.to_dict()
        if rules:
            out["rules"] = rules
        tags = self.tags.to_dict()
        if tags:
            out["tags"] = tags
        return out


@dataclass(frozen=True)
class Section:
    """A page or block of the form; hiding a section (``show_if``) hides all its questions."""

    key: str
    title: LocalText
    questions: tuple[Question, ...]
    help: LocalText | None = None
    show_if: Condition | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "title": _text_dict(self.title)}
        if self.help:
            out["help"] = _text_dict(self.help)
        if self.show_if is not None:
            out["show_if"] = self.show_if.to_dict()
        out["questions"] = [q.to_dict() for q in self.questions]
        return out


@dataclass(frozen=True)
class CarryOver:
    """How answers of an earlier version map onto this one (renamed and dropped keys)."""

    from_version: int
    map: Mapping[str, str] = field(default_factory=dict)
    drop: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"from_version": self.from_version, "map": dict(self.map), "drop": list(self.drop)}


@dataclass(frozen=True)
class QuestionnaireDefinition:
    """A complete, validated questionnaire definition."""

    key: str
    version: int
    title: LocalText
    description: LocalText
    sections: tuple[Section, ...]
    carry_over: CarryOver | None = None

    def __post_init__(self) -> None:
        index = {q.key: (q, s) for s in self.sections for q in s.questions}
        object.__setattr__(self, "_index", index)

    def questions(self) -> list[Question]:
        """All top-level questions in form order."""
        return [q for s in self.sections for q in s.questions]

    def question(self, key: str) -> Question:
        """A top-level question by key; ``KeyError`` when absent."""
        try:
            return self._index[key][0]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(f"questionnaire {self.key!r} has no question {key!r}") from None

    def has_question(self, key: str) -> bool:
        return key in self._index  # type: ignore[attr-defined]

    def section_of(self, key: str) -> Section:
        return self._index[key][1]  # type: ignore[attr-defined]

    def questions_tagged(self, disclosure_field: str) -> list[Question]:
        """Top-level questions feeding ``disclosure_field``, in form order."""
        return [q for q in self.questions() if q.tags.disclosure_field == disclosure_field]

    def text(self, obj: Any, locale: str = "en") -> str:
        """Localised text of a ``{en, zh}`` mapping, question, section or choice."""
        return text(obj, locale)

    def visible_keys(self, answers: Mapping[str, Any]) -> set[str]:
        """Keys of questions shown given ``answers`` (already type-checked values).

        A question is visible when its section's and its own ``show_if`` hold; a condition
        reading a hidden question sees it as unanswered, so hiding cascades.
        """
        memo: dict[str, bool] = {}

        def lookup(key: str) -> tuple[bool, Any]:
            if not is_visible(key):
                return False, None
            value = answers.get(key)
            return _is_answered(value), value

        def is_visible(key: str) -> bool:
            if key not in memo:
                memo[key] = False  # cycles are rejected at load; this guards recursion anyway
                question, section = self._index[key]  # type: ignore[attr-defined]
                shown = section.show_if is None or section.show_if.evaluate(lookup)
                memo[key] = shown and (
                    question.show_if is None or question.show_if.evaluate(lookup)
                )
            return memo[key]

        return {q.key for q in self.questions() if is_visible(q.key)}

    def visible_questions(self, answers: Mapping[str, Any]) -> list[Question]:
        """Questions to show (and to require on submit) given the current answers."""
        keys = self.visible_keys(answers)
        return [q for q in self.questions() if q.key in keys]

    def to_dict(self) -> dict[str, Any]:
        """The JSON-serialisable form, loadable again with :func:`load_definition`."""
        out: dict[str, Any] = {
            "key": self.key,
            "version": self.version,
            "title": _text_dict(self.title),
            "description": _text_dict(self.description),
        }
        if self.carry_over is not None:
            out["carry_over"] = self.carry_over.to_dict()
        out["sections"] = [s.to_dict() for s in self.sections]
        return out


def _is_answered(value: Any) -> bool:
    """True for anything but ``None``, empty strings and empty lists (``False`` is an answer)."""
    if value is None:
        return False
    if isinstance(value, str | list | tuple | dict):
        return len(value) > 0
    return True


def row_visible_columns(
    table: Question, row: Mapping[str, Any], answers: Mapping[str, Any], visible: set[str]
) -> list[Question]:
    """Columns shown in one table row; column conditions read the row first, then the form."""

    def lookup(key: str) -> tuple[bool, Any]:
        if any(c.key == key for c in table.columns):
            value = row.get(key)
        elif key in visible:
            value = answers.get(key)
        else:
            return False, None
        return _is_answered(value), value

    return [c for c in table.columns if c.show_if is None or c.show_if.evaluate(lookup)]


is_answered = _is_answered
