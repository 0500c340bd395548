"""Shared fixtures: the shipped questionnaire and complete, valid sets of answers."""

from __future__ import annotations

import copy

import pytest

from questionnaires import load_shipped
from tests.support.questionnaire_samples import ACTIVITY, BASE_ANSWERS, TOTALS


@pytest.fixture(scope="session")
def definition():
    return load_shipped("supplier_climate_disclosure", 1)


@pytest.fixture
def totals_answers():
    return copy.deepcopy({**BASE_ANSWERS, **TOTALS})


@pytest.fixture
def activity_answers():
    return copy.deepcopy({**BASE_ANSWERS, **ACTIVITY})
