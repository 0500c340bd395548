"""Multi-tier Scope 3 propagation: upstream gaps, data quality, primary share, uncertainty.

Turns a :class:`FootprintNetwork` into the linear system ``(I - Sᵀ) T = e`` (see
``docs/footprint-method.md``; the system itself is assembled in :mod:`.model`), fills the
upstream gap of every reporting supplier (GHG Protocol hybrid method), solves once for the
totals, the data-quality-weighted emissions and the supplier-specific emissions together,
runs a vectorised Monte Carlo on the same solve plan, and derives hotspots and top paths
for every brand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from .hotspots import brand_hotspots
from .hotspots import top_paths as find_top_paths
from .model import (
    ALLOCATED,
    AVERAGE_DATA,
    COVERED_BY_FACTOR,
    COVERED_BY_PRODUCT,
    DEFAULT_DQ,
    DQ_UNCERTAINTY_PCT,
    GAP_DISCLOSED,
    NO_DATA,
    PRODUCT,
    SPEND_BASED,
    FootprintInputError,
    _assemble,
    _Model,
    default_uncertainty_pct,
)
from .network import FootprintNetwork
from .solver import ClosedCycleError, PropagationPlan, plan_propagation, solve_with_plan

__all__ = [
    "DEFAULT_DQ",
    "DQ_UNCERTAINTY_PCT",
    "MAX_GAP_ROUNDS",
    "FootprintInputError",
    "FootprintResult",
    "default_uncertainty_pct",
    "solve_footprint",
]

# node methods
SUPPLIER_SPECIFIC = "supplier_specific"
HYBRID = "hybrid"
SCOPE3_CAT1 = "scope3_cat1"

#: bound on the policy-iteration rounds that settle disclosed-upstream gaps (see
#: :func:`_disclosed_gaps`); a warning says so when it is reached
MAX_GAP_ROUNDS = 25

#: columns of RESULT.csv (``FootprintResult.result_table``)
RESULT_COLUMNS = [
    "node_id",
    "method",
    "cradle_to_gate_kg_co2e",
    "dq_score",
    "primary_share",
    "ci95_low",
    "ci95_high",
    "own_part_kg_co2e",
    "upstream_allocated_kg_co2e",
    "gap_kg_co2e",
    "gap_method",
]


#: relative residual of each Monte Carlo sample's solve (the point estimate uses ``tol``)
MC_TOLERANCE = 1e-6


@dataclass
class FootprintResult:
    """Everything one propagation run produces, per node, per edge and per brand."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    brands: pd.DataFrame
    hotspots: pd.DataFrame
    paths: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    samples: int = 0
    seed: int | None = None
    residual: float = 0.0
    gap_rounds: int = 0  # solves spent settling disclosed-upstream gaps

    def total(self, brand_id: str | None = None) -> float:
        """Scope 3 Category 1 of one brand (the only brand when not given)."""
        frame = self.brands if brand_id is None else self.brands[self.brands.brand_id == brand_id]
        if len(frame) != 1:
            raise KeyError(f"brand {brand_id!r} not unique in result")
        return float(frame["scope3_cat1_kg_co2e"].iloc[0])

    def node(self, node_id: str) -> pd.Series:
        return self.nodes.set_index("node_id").loc[node_id]

    def result_table(self) -> pd.DataFrame:
        """The RESULT.csv layout: one row per node plus one ``scope3_cat1`` row per brand."""
        brand_rows = pd.DataFrame(
            {
                "node_id": self.brands["brand_id"],
                "method": SCOPE3_CAT1,
                "cradle_to_gate_kg_co2e": self.brands["scope3_cat1_kg_co2e"],
                "dq_score": self.brands["dq_score"],
                "primary_share": self.brands["primary_share"],
                "ci95_low": self.brands["ci95_low"],
                "ci95_high": self.brands["ci95_high"],
                "own_part_kg_co2e": np.nan,
                "upstream_allocated_kg_co2e": np.nan,
                "gap_kg_co2e": np.nan,
                "gap_method": "",
            }
        )
        return pd.concat([self.nodes[RESULT_COLUMNS], brand_rows], ignore_index=True)


def _tiers(network: FootprintNetwork) -> np.ndarray:
    """Tier of every node: fewest supplier hops to the nearest brand (NaN if unreachable)."""
    n = network.n_nodes
    brands = np.flatnonzero(network.is_brand)
    if brands.size == 0 or n == 0:
        return np.full(n, np.nan)
    e = network.edges
    upstream = sp.csr_matrix(
        (np.ones(len(e)), (e["customer"].to_numpy(), e["supplier"].to_numpy())), shape=(n, n)
    )
    dist = dijkstra(upstream, directed=True, indices=brands, unweighted=True, min_only=True)
    return np.where(np.isfinite(dist), dist, np.nan)


def _safe_ratio(num: np.ndarray, den: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), fallback)


def _policy_totals(model: _Model, active: np.ndarray, e: np.ndarray, tol: float) -> np.ndarray:
    """Totals when every ``active`` node's total is fixed at own + disclosed upstream."""
    S = model.S.tocoo()
    keep = ~active[S.col]
    S_pol = sp.csr_matrix((S.data[keep], (S.row[keep], S.col[keep])), shape=S.shape)
    rhs = e.copy()
    rhs[active] = model.own_used[active] + model.upstream_disclosed[active]
    return solve_with_plan(plan_propagation(S_pol), rhs, tol=tol)


def _disclosed_gaps(
    model: _Model, plan: PropagationPlan, e: np.ndarray, tol: float
) -> tuple[np.ndarray, int, list[str]]:
    """Gaps ``max(0, U − allocated_in)`` of disclosed-upstream nodes, by policy iteration.

    A node's total is ``own + max(U, allocated_in(T))``, and ``allocated_in`` depends on its
    suppliers' totals, which depend on their gaps. Each round fixes the total of every node
    still short of its disclosure at ``own + U`` (the gap is the difference) and solves; a
    node whose suppliers then allocate more than ``U`` leaves that set. Totals only rise from
    round to round, so the rounds end; without cycles through disclosing nodes, after at most
    (longest chain of disclosing suppliers + 1) rounds. ``MAX_GAP_ROUNDS`` bounds it.
    """
    n = model.n
    disclosed = model.gap_method == GAP_DISCLOSED
    gap = np.zeros(n)
    if not disclosed.any():
        return gap, 0, []
    U = np.nan_to_num(model.upstream_disclosed)
    totals = solve_with_plan(plan, e, tol=tol)
    active = np.zeros(n, dtype=bool)
    rounds, warnings = 1, []
    while True:
        allocated = model.allocated_in(totals)
        short = disclosed & (U > allocated * (1 + 1e-12) + 1e-12)
        if np.array_equal(short, active):
            break
        if rounds >= MAX_GAP_ROUNDS:
            warnings.append(
                f"disclosed-upstream gaps not settled after {MAX_GAP_ROUNDS} solves (supplier "
                "cycles through disclosing suppliers); the last round's gaps are used"
            )
            break
        active = short
        totals = _policy_totals(model, active, e, tol)
        rounds += 1
    gap[active] = np.maximum(U[active] - allocated[active], 0.0)
    return gap, rounds, warnings


def _upstream_gaps(
    model: _Model, plan: PropagationPlan, tol: float
) -> tuple[_Model, np.ndarray, int]:
    """The model with every upstream gap as a secondary source, and the gap per node."""
    fixed = np.nan_to_num(model.gap_fixed)
    e = np.asarray(model.aggregate(model.src_amount)).ravel() + fixed
    disclosed, rounds, warnings = _disclosed_gaps(model, plan, e, tol)
    gap = np.where(model.gap_method == GAP_DISCLOSED, disclosed, fixed)
    gap = np.where(model.gap_method == "", 0.0, gap)
    full = model.with_gaps(gap)
    full.warnings = list(model.warnings) + warnings
    return full, gap, rounds


def _brand_self_return(
    model: _Model, plan: PropagationPlan, brand_idx: np.ndarray, tol: float
) -> np.ndarray:
    """Per brand: ``G[b, b]`` of ``G = (I − Sᵀ)⁻¹``, how much of its own total returns to it.

    It is 1 unless the brand sits on a supplier cycle (brand → X → brand); its own emissions
    then re-enter its total ``G[b, b]`` times and none of that is Category 1.
    """
    out = np.ones(brand_idx.size)
    S = model.S
    if S.nnz == 0 or not (model.own_used[brand_idx] > 0).any():
        return out  # nothing can return, or nothing to subtract
    _, labels = connected_components(S, directed=True, connection="strong")
    size = np.bincount(labels)
    on_cycle = (size[labels[brand_idx]] > 1) | (S.diagonal()[brand_idx] > 0)
    which = np.flatnonzero(on_cycle)
    for start in range(0, which.size, 256):
        chunk = which[start : start + 256]
        unit = np.zeros((model.n, chunk.size))
        unit[brand_idx[chunk], np.arange(chunk.size)] = 1.0
        solved = solve_with_plan(plan, unit, tol=tol)
        out[chunk] = solved[brand_idx[chunk], np.arange(chunk.size)]
    return out


def _draw_sources(model: _Model, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Mean-preserving lognormal draws (sources × samples) from the ± % of each source."""
    amount = model.src_amount
    sigma = np.log1p(np.maximum(model.src_unc, 0.0) / 100.0) / 1.959963984540054
    mu = np.log(np.where(amount > 0, amount, 1.0)) - 0.5 * sigma**2
    z = rng.standard_normal((amount.size, samples))
    draws = np.exp(mu[:, None] + sigma[:, None] * z)
    draws[amount <= 0] = 0.0
    return draws


@dataclass
class _Intervals:
    node_lo: np.ndarray
    node_hi: np.ndarray
    brand_lo: np.ndarray
    brand_hi: np.ndarray


def _monte_carlo(
    model: _Model,
    plan: PropagationPlan,
    brand_idx: np.ndarray,
    self_return: np.ndarray,
    samples: int,
    seed: int | None,
    tol: float,
    chunk_cells: int = 4_000_000,
) -> _Intervals:
    """95 % intervals per node and per brand from a matrix right-hand side (nodes × samples)."""
    n = model.n
    rng = np.random.default_rng(seed)
    own_src_of = np.full(n, -1)
    own_src_of[model.src_target[model.src_is_own]] = np.flatnonzero(model.src_is_own)
    edge = model.src_is_edge
    report_out = sp.csr_matrix(  # non-primary nodes report what they sell into the network
        (np.ones(int(edge.sum())), (model.src_origin[edge], np.flatnonzero(edge))),
        shape=(n, model.src_target.size),
    )
    report_out = sp.diags((~model.primary).astype(float)) @ report_out
    chunk = max(1, min(samples, chunk_cells // max(n, 1)))
    node_vals = np.empty((n, samples))
    brand_vals = np.empty((brand_idx.size, samples))
    done = 0
    while done < samples:
        m = min(chunk, samples - done)
        draws = _draw_sources(model, m, rng)
        # percentiles need far less than the point solve's 1e-9: fewer sweeps per chunk
        totals = solve_with_plan(
            plan, np.asarray(model.aggregate(draws)), tol=max(tol, MC_TOLERANCE)
        )
        node_vals[:, done : done + m] = totals + np.asarray(report_out @ draws)
        own_b = np.where(
            own_src_of[brand_idx, None] >= 0, draws[np.maximum(own_src_of[brand_idx], 0)], 0.0
        )
        brand_vals[:, done : done + m] = totals[brand_idx] - self_return[:, None] * own_b
        done += m
    node_pct = np.percentile(node_vals, [2.5, 97.5], axis=1, overwrite_input=True)
    brand_pct = np.percentile(brand_vals, [2.5, 97.5], axis=1, overwrite_input=True)
    return _Intervals(node_pct[0], node_pct[1], brand_pct[0], brand_pct[1])


@dataclass
class _Solved:
    """Totals ``T``, DQ-weighted ``D`` and supplier-specific ``P`` emissions per node."""

    T: np.ndarray
    D: np.ndarray
    P: np.ndarray
    residual: float


def _solve_weights(model: _Model, plan: PropagationPlan, tol: float) -> _Solved:
    """One 3-column solve: emissions, DQ × emissions and primary × emissions."""
    weights = np.column_stack(
        [model.src_amount, model.src_amount * model.src_dq, model.src_amount * model.src_primary]
    )
    rhs = np.asarray(model.aggregate(weights))
    solved = solve_with_plan(plan, rhs, tol=tol)
    residual = plan.residual(solved, rhs)
    return _Solved(solved[:, 0], solved[:, 1], solved[:, 2], residual)


def _node_values(model: _Model, s: _Solved) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cradle-to-gate value, DQ and primary share per node.

    Nodes without primary data report what the network buys from them (fixed estimates).
    """
    n = model.n
    edge = model.src_is_edge
    origin = model.src_origin[edge]
    amount = model.src_amount[edge]
    out_T = np.bincount(origin, weights=amount, minlength=n)
    out_D = np.bincount(origin, weights=amount * model.src_dq[edge], minlength=n)
    out_P = np.bincount(origin, weights=amount * model.src_primary[edge], minlength=n)
    has_estimate = np.bincount(origin, minlength=n) > 0
    value = np.where(model.primary, s.T, np.where(has_estimate, out_T, np.nan))
    own_dq = _own_dq(model)
    dq = np.where(model.primary, _safe_ratio(s.D, s.T, own_dq), _safe_ratio(out_D, out_T, np.nan))
    pshare = np.where(
        model.primary, _safe_ratio(s.P, s.T, np.ones(n)), _safe_ratio(out_P, out_T, np.nan)
    )
    return value, dq, pshare


def _own_dq(model: _Model) -> np.ndarray:
    """DQ of each node's own emissions (NaN for nodes without primary data)."""
    out = np.full(model.n, np.nan)
    own = model.src_is_own
    out[model.src_target[own]] = model.src_dq[own]
    return out


def _node_methods(model: _Model, network: FootprintNetwork, pshare: np.ndarray, gap: np.ndarray):
    """Method label per node; ``hybrid`` for reporting nodes with a gap or secondary inputs."""
    sup = network.edges["supplier"].to_numpy()
    status = model.edge_status
    method = np.full(model.n, NO_DATA, dtype=object)
    for kind, label in (
        (COVERED_BY_PRODUCT, COVERED_BY_PRODUCT),
        (COVERED_BY_FACTOR, COVERED_BY_FACTOR),
        (PRODUCT, SUPPLIER_SPECIFIC),
        (AVERAGE_DATA, AVERAGE_DATA),
        (SPEND_BASED, SPEND_BASED),
    ):  # later rows take precedence for a node selling several ways
        method[np.unique(sup[status == kind])] = label
    p = model.primary
    specific = (pshare >= 1 - 1e-9) & ~(gap > 0)
    method[p] = np.where(specific[p], SUPPLIER_SPECIFIC, HYBRID)
    return method


def _brand_frame(
    model: _Model,
    ids: np.ndarray,
    brand_idx: np.ndarray,
    s: _Solved,
    self_return: np.ndarray,
    intervals: _Intervals,
) -> pd.DataFrame:
    """Category 1 per brand: its total less its own emissions, including any that a cycle
    carries back (``G[b, b] × own``)."""
    own_b = model.own_used[brand_idx] * self_return
    cat1 = s.T[brand_idx] - own_b
    cat1_D = s.D[brand_idx] - own_b * _own_dq(model)[brand_idx]
    cat1_P = s.P[brand_idx] - own_b
    none = np.full(brand_idx.size, np.nan)
    return pd.DataFrame(
        {
            "brand_id": ids[brand_idx],
            "scope3_cat1_kg_co2e": cat1,
            "dq_score": _safe_ratio(cat1_D, cat1, none),
            "primary_share": _safe_ratio(cat1_P, cat1, none),
            "ci95_low": intervals.brand_lo,
            "ci95_high": intervals.brand_hi,
        }
    )


def _node_frame(
    model: _Model,
    network: FootprintNetwork,
    s: _Solved,
    gap: np.ndarray,
    intervals: _Intervals,
) -> pd.DataFrame:
    """Per node: method, total split into own, allocated upstream and gap, DQ, share, CI."""
    value, dq, pshare = _node_values(model, s)
    p = model.primary
    lo, hi = intervals.node_lo.copy(), intervals.node_hi.copy()
    lo[np.isnan(value)] = np.nan
    hi[np.isnan(value)] = np.nan
    return pd.DataFrame(
        {
            "node_id": network.nodes["node_id"].to_numpy(),
            "kind": network.nodes["kind"].to_numpy(),
            "tier": _tiers(network),
            "method": _node_methods(model, network, pshare, gap),
            "own_kg_co2e": network.nodes["own_kg_co2e"].to_numpy(),
            "cradle_to_gate_kg_co2e": value,
            "dq_score": dq,
            "primary_share": pshare,
            "ci95_low": lo,
            "ci95_high": hi,
            "own_part_kg_co2e": np.where(p, model.own_used, np.nan),
            "upstream_allocated_kg_co2e": np.where(p, model.allocated_in(s.T), np.nan),
            "gap_kg_co2e": np.where(p, gap, np.nan),
            "gap_method": np.where(p & ~model.is_brand, model.gap_method, ""),
        }
    )


def _edge_frame(model: _Model, network: FootprintNetwork, T: np.ndarray) -> pd.DataFrame:
    edges = network.edges
    sup = edges["supplier"].to_numpy()
    allocated = np.where(
        np.isin(model.edge_status, ALLOCATED), model.edge_share * T[sup], model.edge_fixed
    )
    return pd.DataFrame(
        {
            "supplier_id": edges["supplier_id"],
            "customer_id": edges["customer_id"],
            "status": model.edge_status,
            "share_used": model.edge_share,
            "allocated_kg_co2e": allocated,
        }
    )


def solve_footprint(
    network: FootprintNetwork,
    samples: int = 1000,
    seed: int | None = 0,
    top_paths: int = 20,
    tol: float = 1e-9,
) -> FootprintResult:
    """Propagate supplier emissions through all tiers and attribute every tonne.

    ``samples`` Monte Carlo draws (0 disables the uncertainty run) with generator ``seed``;
    ``top_paths`` paths are kept per brand.
    """
    base = _assemble(network)
    ids = network.nodes["node_id"].to_numpy()
    try:
        plan = plan_propagation(base.S)
    except ClosedCycleError as exc:  # name the organisations, not matrix positions
        members = ", ".join(str(ids[i]) for i in exc.nodes[:10]) or "unknown nodes"
        raise ClosedCycleError(
            f"supplier cycle through {members} passes 100 % of its emissions around the "
            "cycle (no share leaves it), so its totals have no finite value",
            exc.nodes,
        ) from exc
    model, gap, rounds = _upstream_gaps(base, plan, tol)
    solved = _solve_weights(model, plan, tol)
    brand_idx = np.flatnonzero(network.is_brand)
    self_return = _brand_self_return(model, plan, brand_idx, tol)

    n_b = brand_idx.size
    intervals = _Intervals(
        np.full(model.n, np.nan),
        np.full(model.n, np.nan),
        np.full(n_b, np.nan),
        np.full(n_b, np.nan),
    )
    if samples and samples > 0:
        intervals = _monte_carlo(model, plan, brand_idx, self_return, samples, seed, tol)

    node_frame = _node_frame(model, network, solved, gap, intervals)
    brand_frame = _brand_frame(model, ids, brand_idx, solved, self_return, intervals)
    method = node_frame["method"].to_numpy()
    hotspots = brand_hotspots(model, ids, brand_idx, method, node_frame["tier"].to_numpy())
    cat1 = brand_frame["scope3_cat1_kg_co2e"].to_numpy()
    paths = find_top_paths(model, ids, brand_idx, solved.T, cat1, limit=top_paths)
    return FootprintResult(
        nodes=node_frame,
        edges=_edge_frame(model, network, solved.T),
        brands=brand_frame,
        hotspots=hotspots,
        paths=paths,
        warnings=list(model.warnings),
        samples=int(samples or 0),
        seed=seed,
        residual=solved.residual,
        gap_rounds=rounds,
    )
