"""Questionnaire definitions, campaigns, invitations and responses (see issue 4)."""

from .answers import MESSAGES, AnswerError, normalise_answers, validate_answers
from .carry_over import carry_over_answers
from .derive import DerivationError, DerivedDisclosure, InvalidAnswersError, derive_disclosure
from .loader import DefinitionError, load_definition, load_shipped, shipped_definitions
from .maturity import maturity_points
from .model import (
    Choice,
    Condition,
    Question,
    QuestionnaireDefinition,
    Section,
    text,
)

__all__ = [
    "MESSAGES",
    "AnswerError",
    "Choice",
    "Condition",
    "DefinitionError",
    "DerivationError",
    "DerivedDisclosure",
    "InvalidAnswersError",
    "Question",
    "QuestionnaireDefinition",
    "Section",
    "carry_over_answers",
    "derive_disclosure",
    "load_definition",
    "load_shipped",
    "maturity_points",
    "normalise_answers",
    "shipped_definitions",
    "text",
    "validate_answers",
]
