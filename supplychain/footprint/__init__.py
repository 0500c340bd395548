"""Multi-tier Scope 3 propagation: supplier emissions through every known tier.

Public API: build a :class:`FootprintNetwork` (from DataFrames, records or a networkx
graph), check it with :func:`validate_graph`, solve it with :func:`solve_footprint`, and
compare what-if cases with :func:`run_scenario`.  :func:`propagate` is the numeric core.
Every supplier with own emissions gets its purchases outside the network as an upstream gap
(``GAP_METHODS``); :func:`network_from_tables` estimates them from raw tables.
"""

from .engine import (
    DEFAULT_DQ,
    DQ_UNCERTAINTY_PCT,
    MAX_GAP_ROUNDS,
    FootprintInputError,
    FootprintResult,
    default_uncertainty_pct,
    solve_footprint,
)
from .model import GAP_METHODS
from .network import FootprintNetwork, ValidationReport, build_graph, validate_graph
from .scenarios import Override, ScenarioComparison, apply_overrides, run_scenario
from .solver import ClosedCycleError, PropagationPlan, plan_propagation, propagate
from .spend_inputs import SpendInputs, intermediate_input_share, network_from_tables

__all__ = [
    "DEFAULT_DQ",
    "DQ_UNCERTAINTY_PCT",
    "GAP_METHODS",
    "MAX_GAP_ROUNDS",
    "ClosedCycleError",
    "FootprintInputError",
    "FootprintNetwork",
    "FootprintResult",
    "Override",
    "PropagationPlan",
    "ScenarioComparison",
    "SpendInputs",
    "ValidationReport",
    "apply_overrides",
    "build_graph",
    "default_uncertainty_pct",
    "intermediate_input_share",
    "network_from_tables",
    "plan_propagation",
    "propagate",
    "run_scenario",
    "solve_footprint",
    "validate_graph",
]
