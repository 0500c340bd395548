"""Loading questionnaire definitions from YAML files or dicts, with readable errors.

Definition authors are analysts editing YAML by hand, so every problem is reported with the
question (or section) it belongs to, e.g. ``question 'scope1_total': title: text lacks 'zh'``,
and all problems are reported at once rather than one per attempt.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError

from .model import Condition, Question, QuestionnaireDefinition
from .schema import FIELD_TYPES, TABLE_COLUMNS, DefinitionSchema

DEFINITIONS_DIR = Path(__file__).parent / "definitions"


class DefinitionError(ValueError):
    """A definition that cannot be used; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str], source: str = "") -> None:
        self.errors = errors
        self.source = source
        where = f" in {source}" if source else ""
        super().__init__(f"invalid questionnaire definition{where}:\n  - " + "\n  - ".join(errors))


def load_definition(source: str | Path | Mapping[str, Any]) -> QuestionnaireDefinition:
    """Load and validate a definition from a YAML file path or an already parsed dict."""
    label = ""
    if isinstance(source, Mapping):
        raw = source
    else:
        path = Path(source)
        label = str(path)
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise DefinitionError([f"not valid YAML: {exc}"], label) from exc
        if not isinstance(raw, Mapping):
            raise DefinitionError(["the file must contain a mapping at the top level"], label)
    try:
        definition = DefinitionSchema().load(dict(raw))
    except ValidationError as exc:
        messages = [f"{_describe(raw, path)}: {msg}" for path, msg in _flatten(exc.messages)]
        raise DefinitionError(messages, label) from None
    problems = check_definition(definition)
    if problems:
        raise DefinitionError(problems, label)
    return definition


def shipped_definitions() -> list[Path]:
    """The YAML definitions shipped with the package, sorted by file name."""
    return sorted(p for p in DEFINITIONS_DIR.glob("*.y*ml") if p.is_file())


def load_shipped(key: str, version: int | None = None) -> QuestionnaireDefinition:
    """Load a shipped definition by key (highest version unless ``version`` is given)."""
    found = []
    for path in shipped_definitions():
        definition = load_definition(path)
        if definition.key == key and (version is None or definition.version == version):
            found.append(definition)
    if not found:
        raise LookupError(f"no shipped questionnaire {key!r} version {version}")
    return max(found, key=lambda d: d.version)


def check_definition(definition: QuestionnaireDefinition) -> list[str]:
    """Whole-form checks: unique keys, show_if references and cycles, carry-over targets."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    section_keys: set[str] = set()
    for section in definition.sections:
        if section.key in section_keys:
            problems.append(f"section {section.key!r}: duplicate section key")
        section_keys.add(section.key)
        for question in section.questions:
            if question.key in seen:
                problems.append(
                    f"question {question.key!r}: duplicate question key (also in section "
                    f"{seen[question.key]!r})"
                )
            seen[question.key] = section.key
    for section in definition.sections:
        problems += _check_refs(f"section {section.key!r}", section.show_if, seen, None)
        for question in section.questions:
            problems += _check_refs(
                f"question {question.key!r}", question.show_if, seen, question.key
            )
            for column in question.columns:
                siblings = {c.key for c in question.columns}
                problems += _check_refs(
                    f"question {question.key!r} column {column.key!r}",
                    column.show_if,
                    seen.keys() | siblings,
                    column.key,
                )
    problems += _check_tagged_shapes(definition)
    if not problems:
        problems += _check_cycles(definition)
    carry = definition.carry_over
    if carry is not None:
        if carry.from_version >= definition.version:
            problems.append(
                f"carry_over: from_version {carry.from_version} must be below version "
                f"{definition.version}"
            )
        for old, new in carry.map.items():
            if new not in seen:
                problems.append(f"carry_over: map {old!r} -> unknown question {new!r}")
    return problems


def _check_tagged_shapes(definition: QuestionnaireDefinition) -> list[str]:
    """Questions feeding fields that derivation reads by shape have that shape."""
    problems = []
    for question in definition.questions():
        tag = question.tags.disclosure_field or ""
        wanted = FIELD_TYPES.get(tag)
        if wanted is not None and question.type != wanted:
            problems.append(
                f"question {question.key!r}: {tag} must be tagged on a {wanted} question, "
                f"not {question.type}"
            )
            continue
        if wanted == "number" and question.dimension != ("emissions",):
            problems.append(f"question {question.key!r}: {tag} needs dimension: emissions")
            continue
        needed = TABLE_COLUMNS.get(tag)
        if needed is None:
            continue
        if question.type != "table":
            problems.append(f"question {question.key!r}: {tag} must be tagged on a table question")
            continue
        missing = [c for c in needed if c not in {col.key for col in question.columns}]
        if missing:
            kind = "activity table" if tag.startswith("activity_") else f"{tag} table"
            problems.append(f"question {question.key!r}: {kind} needs column(s) {missing}")
    return problems


def _check_refs(where: str, condition: Condition | None, known: Any, own: str | None) -> list[str]:
    if condition is None:
        return []
    problems = []
    for ref in condition.references():
        if ref == own:
            problems.append(f"{where}: show_if refers to the question itself")
        elif ref not in known:
            problems.append(f"{where}: show_if refers to unknown question {ref!r}")
    return problems


def _check_cycles(definition: QuestionnaireDefinition) -> list[str]:
    """Reject show_if chains that loop (A shown if B, B shown if A)."""
    deps: dict[str, set[str]] = {}
    for section in definition.sections:
        section_refs = set(section.show_if.references()) if section.show_if else set()
        for question in section.questions:
            own = set(question.show_if.references()) if question.show_if else set()
            deps[question.key] = (own | section_refs) - {question.key}
    problems = []
    state: dict[str, int] = {}

    def visit(key: str, trail: list[str]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            loop = trail[trail.index(key) :] + [key]
            problems.append(f"question {key!r}: show_if cycle {' -> '.join(loop)}")
            return
        state[key] = 1
        for dep in sorted(deps.get(key, ())):
            visit(dep, trail + [key])
        state[key] = 2

    for key in deps:
        visit(key, [])
    return problems


def _flatten(messages: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            yield from _flatten(value, path + (key,))
    elif isinstance(messages, list | tuple):
        for item in messages:
            yield from _flatten(item, path)
    else:
        message = str(messages)
        if message == "Unknown field." and path:
            kind = "rule" if len(path) > 1 and path[-2] == "rules" else "field"
            message = f"unknown {kind} {path[-1]!r}"
            path = path[:-1]
        yield path, message


def _describe(raw: Any, path: tuple) -> str:
    """Turn ``('sections', 2, 'questions', 0, 'title')`` into ``question 'x': title``."""
    subject = "definition"
    rest: list[str] = []
    node: Any = raw
    i = 0
    while i < len(path):
        name = path[i]
        container = node.get(name) if isinstance(node, Mapping) else None
        if (
            name in ("sections", "questions", "columns")
            and i + 1 < len(path)
            and isinstance(path[i + 1], int)
            and isinstance(container, list)
            and path[i + 1] < len(container)
        ):
            item = container[path[i + 1]]
            key = item.get("key") if isinstance(item, Mapping) else None
            label = f"#{path[i + 1] + 1}" if key is None else repr(key)
            if name == "sections":
                subject = f"section {label}"
            elif name == "questions":
                subject = f"question {label}"
            else:
                subject = f"{subject.split(' column ')[0]} column {label}"
            rest = []
            node = item
            i += 2
            continue
        rest.append(str(name))
        node = container
        i += 1
    rest = [r for r in rest if r != "_schema"]
    return f"{subject}: {'.'.join(rest)}" if rest else subject


def iter_all_questions(definition: QuestionnaireDefinition) -> Iterator[Question]:
    """Every question including table columns, for checks over the whole tree."""
    for question in definition.questions():
        yield question
        yield from question.columns
