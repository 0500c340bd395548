"""Multi-tier Scope 3 propagation: supplier emissions through every known tier.

Public API: build a :class:`FootprintNetwork` (from DataFrames, records or a networkx
graph), check it with :func:`validate_graph`, solve it with :func:`solve_footprint`, and
compare what-if cases with :func:`run_scenario`.  :func:`propagate` is the numeric core.
"""

from .engine import (
    DEFAULT_DQ,
    DQ_UNCERTAINTY_PCT,
    FootprintInputError,
    FootprintResult,
    default_uncertainty_pct,
    solve_footprint,
)
from .network import FootprintNetwork, ValidationReport, build_graph, validate_graph
from .scenarios import Override, ScenarioComparison, apply_overrides, run_scenario
from .solver import ClosedCycleError, PropagationPlan, plan_propagation, propagate

__all__ = [
    "DEFAULT_DQ",
    "DQ_UNCERTAINTY_PCT",
    "ClosedCycleError",
    "FootprintInputError",
    "FootprintNetwork",
    "FootprintResult",
    "Override",
    "PropagationPlan",
    "ScenarioComparison",
    "ValidationReport",
    "apply_overrides",
    "build_graph",
    "default_uncertainty_pct",
    "plan_propagation",
    "propagate",
    "run_scenario",
    "solve_footprint",
    "validate_graph",
]
