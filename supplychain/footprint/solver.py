"""Numeric core of the Scope 3 propagation: solve ``(I - Sᵀ) T = e`` on a sparse share matrix.

``S[k, i]`` is the allocation share of supplier ``k``'s cradle-to-gate total that flows to
customer ``i``; ``e`` holds the emissions that enter each node from outside the allocated
network (own Scope 1 + 2 and fixed secondary estimates).  The solve never walks Python
dictionaries: strongly connected components come from ``scipy.sparse.csgraph``, the acyclic
condensation is processed level by level with one sparse mat-vec per level, and only the
nodes inside supplier cycles are solved as small sparse direct systems (one block-diagonal
factorisation per level).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

__all__ = [
    "ClosedCycleError",
    "PropagationPlan",
    "plan_propagation",
    "propagate",
    "relative_residual",
]

#: tolerance on a supplier's outgoing shares: above ``1 + SHARE_SUM_SLACK`` is an error.
SHARE_SUM_SLACK = 1e-9


class ClosedCycleError(ValueError):
    """A supplier cycle re-allocates all of its emissions to itself, so no finite total exists."""


def _gather_ranges(indptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Positions in ``indices`` of all entries of the given CSR rows (vectorised)."""
    starts = indptr[rows]
    counts = indptr[rows + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) + np.repeat(starts - offsets, counts)


@dataclass
class _CycleBlock:
    """The factorised ``I - M_cc`` for every cyclic node of one level."""

    nodes: np.ndarray
    lu: object


@dataclass
class PropagationPlan:
    """Reusable solve schedule for one share matrix (levels, row blocks, cycle factorisations).

    Building the plan is the structural work; :meth:`solve` can then be applied to many
    right-hand sides (Monte Carlo samples, scenarios with unchanged shares).
    """

    n: int
    inflow: sp.csr_matrix  # M = Sᵀ: row i lists the suppliers k of customer i
    levels: list[np.ndarray]
    level_rows: list[sp.csr_matrix | None]
    cycle_blocks: list[_CycleBlock | None]
    n_components: int
    cyclic_components: list[np.ndarray] = field(default_factory=list)

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    def solve(self, e: np.ndarray) -> np.ndarray:
        """Totals ``T`` for emissions ``e`` (1-D, or 2-D nodes × columns)."""
        e = np.asarray(e, dtype=np.float64)
        if e.shape[0] != self.n:
            raise ValueError(f"e has {e.shape[0]} rows, the share matrix has {self.n} nodes")
        total = np.zeros_like(e)
        for rows, block, cycle in zip(self.levels, self.level_rows, self.cycle_blocks, strict=True):
            if block is None:
                total[rows] = e[rows]
            else:
                total[rows] = e[rows] + block @ total
            if cycle is not None:
                total[cycle.nodes] = cycle.lu.solve(total[cycle.nodes])
        return total

    def residual(self, total: np.ndarray, e: np.ndarray) -> float:
        """Relative residual ``‖(I - Sᵀ)T - e‖ / ‖e‖`` (Frobenius norm)."""
        return relative_residual(self.inflow, total, e)


def relative_residual(inflow: sp.csr_matrix, total: np.ndarray, e: np.ndarray) -> float:
    """Relative residual of ``T = e + M T`` with ``M = Sᵀ`` (the inflow matrix)."""
    r = total - inflow @ total - e
    denom = float(np.linalg.norm(e))
    num = float(np.linalg.norm(r))
    if denom == 0.0:
        return num
    return num / denom


def _as_inflow(shares: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """``M = Sᵀ`` in CSR form (free when ``S`` is given as CSC)."""
    if sp.issparse(shares) and shares.format == "csc":
        inflow = sp.csr_matrix(shares.T)
    else:
        inflow = sp.csr_matrix(shares).T.tocsr()
    if inflow.dtype != np.float64:
        inflow = inflow.astype(np.float64)
    inflow.sum_duplicates()
    return inflow


def _check_shares(inflow: sp.csr_matrix) -> None:
    """Shares must be finite, non-negative and sum to at most 1 per supplier."""
    data = inflow.data
    if data.size == 0:
        return
    if not np.all(np.isfinite(data)):
        raise ValueError("share matrix contains non-finite values")
    if data.min() < 0:
        raise ValueError("share matrix contains negative shares")
    out_sums = np.bincount(inflow.indices, weights=data, minlength=inflow.shape[0])
    over = np.flatnonzero(out_sums > 1.0 + SHARE_SUM_SLACK)
    if over.size:
        raise ValueError(
            f"{over.size} supplier(s) allocate more than 100 % of their emissions "
            f"(e.g. node index {int(over[0])}: {out_sums[over[0]]:.6g})"
        )


def _condensation_heights(
    inflow: sp.csr_matrix, labels: np.ndarray, n_comp: int, cyc_members: dict[int, np.ndarray]
) -> np.ndarray:
    """Longest distance (in components) from each node's component down to a sink component.

    Kahn's algorithm on the reversed condensation, vectorised: each round releases all
    components whose customers are all processed, gathering their inflow rows at once.
    """
    n = inflow.shape[0]
    indptr, indices = inflow.indptr, inflow.indices
    row_of_entry = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    supplier_comp = labels[indices]
    inter = labels[row_of_entry] != supplier_comp
    # number of (inter-component) customer edges still unprocessed, per supplier component
    pending = np.bincount(supplier_comp[inter], minlength=n_comp)
    comp_height = np.full(n_comp, -1, dtype=np.int64)

    rep = np.empty(n_comp, dtype=np.int64)
    rep[labels] = np.arange(n, dtype=np.int64)
    is_cyclic_comp = np.zeros(n_comp, dtype=bool)
    if cyc_members:
        is_cyclic_comp[np.fromiter(cyc_members.keys(), dtype=np.int64)] = True

    def members(comps: np.ndarray) -> np.ndarray:
        cyc = is_cyclic_comp[comps]
        if not cyc.any():
            return rep[comps]
        parts = [rep[comps[~cyc]]]
        parts.extend(cyc_members[int(c)] for c in comps[cyc])
        return np.concatenate(parts)

    released = np.flatnonzero(pending == 0)
    height = 0
    done = 0
    while released.size:
        comp_height[released] = height
        done += released.size
        frontier = members(released)
        pos = _gather_ranges(indptr, frontier)
        pos = pos[inter[pos]]
        if pos.size == 0:
            break
        comps, counts = np.unique(supplier_comp[pos], return_counts=True)
        pending[comps] -= counts
        released = comps[pending[comps] == 0]
        height += 1
    if done != n_comp:  # pragma: no cover - impossible for a condensation DAG
        raise RuntimeError("condensation is not acyclic")
    return comp_height[labels]


def plan_propagation(shares: sp.spmatrix | sp.sparray) -> PropagationPlan:
    """Build the level schedule and cycle factorisations for share matrix ``S`` (n × n)."""
    inflow = _as_inflow(shares)
    n = inflow.shape[0]
    if inflow.shape[1] != n:
        raise ValueError(f"share matrix must be square, got {inflow.shape}")
    _check_shares(inflow)

    n_comp, labels = connected_components(inflow, directed=True, connection="strong")
    labels = labels.astype(np.int64, copy=False)
    comp_size = np.bincount(labels, minlength=n_comp)
    cyclic = comp_size[labels] > 1
    diag = inflow.diagonal()
    cyclic |= diag != 0  # a self-loop is a cycle of length one

    cyc_nodes = np.flatnonzero(cyclic)
    cyc_members: dict[int, np.ndarray] = {}
    big = cyc_nodes[comp_size[labels[cyc_nodes]] > 1]
    if big.size:
        order = np.argsort(labels[big], kind="stable")
        big_sorted = big[order]
        comps, starts = np.unique(labels[big_sorted], return_index=True)
        for comp, group in zip(comps, np.split(big_sorted, starts[1:]), strict=True):
            cyc_members[int(comp)] = group

    height = _condensation_heights(inflow, labels, n_comp, cyc_members)
    max_height = int(height.max()) if n else -1
    # process from the highest height (raw-material tiers) down to the sinks (brands)
    level_key = max_height - height
    dtype = np.int16 if max_height < np.iinfo(np.int16).max else np.int64
    order = np.argsort(level_key.astype(dtype), kind="stable")
    bounds = np.searchsorted(level_key[order], np.arange(max_height + 2))

    levels: list[np.ndarray] = []
    level_rows: list[sp.csr_matrix | None] = []
    cycle_blocks: list[_CycleBlock | None] = []
    for lvl in range(max_height + 1):
        rows = order[bounds[lvl] : bounds[lvl + 1]]
        levels.append(rows)
        block = inflow[rows]
        level_rows.append(block if block.nnz else None)
        cycle_blocks.append(None)

    if cyc_nodes.size:
        cyc_level = level_key[cyc_nodes]
        cyc_sorted = cyc_nodes[np.argsort(cyc_level, kind="stable")]
        sub = inflow[cyc_sorted][:, cyc_sorted].tocsr()
        lvl_sorted = level_key[cyc_sorted]
        cut = np.searchsorted(lvl_sorted, np.arange(max_height + 2))
        for lvl in np.unique(lvl_sorted):
            a, b = int(cut[lvl]), int(cut[lvl + 1])
            nodes = cyc_sorted[a:b]
            block = sub[a:b, a:b]
            _check_leak(block, nodes)
            system = (sp.identity(b - a, format="csc") - block.tocsc()).tocsc()
            try:
                lu = splu(system)
            except RuntimeError as exc:  # exactly singular
                raise ClosedCycleError(
                    f"supplier cycle through node indices {nodes[:10].tolist()} has no leak"
                ) from exc
            cycle_blocks[int(lvl)] = _CycleBlock(nodes=nodes, lu=lu)

    return PropagationPlan(
        n=n,
        inflow=inflow,
        levels=levels,
        level_rows=level_rows,
        cycle_blocks=cycle_blocks,
        n_components=int(n_comp),
        cyclic_components=list(cyc_members.values()),
    )


def _check_leak(block: sp.csr_matrix, nodes: np.ndarray) -> None:
    """Reject cycles whose members pass on 100 % of their total inside the cycle.

    For an irreducible non-negative block with column sums ≤ 1 the spectral radius is
    below 1 exactly when at least one column sums to less than 1 (a leak).
    """
    col_sums = np.asarray(block.sum(axis=0)).ravel()
    closed = col_sums >= 1.0 - 1e-12
    if not closed.any():
        return
    n_local = block.shape[0]
    _, comp = connected_components(block, directed=True, connection="strong")
    leaky = np.zeros(comp.max() + 1 if n_local else 0, dtype=bool)
    leaky[comp[~closed]] = True
    bad = ~leaky[comp]
    if bad.any():
        raise ClosedCycleError(
            f"supplier cycle through node indices {nodes[bad][:10].tolist()} allocates all of "
            "its emissions inside the cycle (no leak); the system has no finite solution"
        )


def propagate(
    S: sp.spmatrix | sp.sparray, e: np.ndarray, tol: float = 1e-9, max_refinements: int = 3
) -> np.ndarray:
    """Cradle-to-gate totals ``T`` solving ``(I - Sᵀ) T = e``.

    ``S[k, i]`` is the share of supplier ``k``'s total allocated to customer ``i``; ``e`` is
    1-D (one emission vector) or 2-D (nodes × samples, e.g. Monte Carlo draws). The result
    is checked against ``tol`` on the relative residual and refined if needed.
    """
    plan = plan_propagation(S)
    return solve_with_plan(plan, e, tol=tol, max_refinements=max_refinements)


def solve_with_plan(
    plan: PropagationPlan, e: np.ndarray, tol: float = 1e-9, max_refinements: int = 3
) -> np.ndarray:
    """Solve with a prepared plan, then verify (and iteratively refine) the residual."""
    e = np.asarray(e, dtype=np.float64)
    if e.ndim not in (1, 2):
        raise ValueError("e must be 1-D or 2-D")
    total = plan.solve(e)
    res = plan.residual(total, e)
    refinements = 0
    while res > tol and refinements < max_refinements:
        correction = plan.solve(e - (total - plan.inflow @ total))
        total = total + correction
        res = plan.residual(total, e)
        refinements += 1
    if not np.isfinite(res) or res > tol:
        raise ArithmeticError(f"propagation did not reach relative residual {tol:g} ({res:.3g})")
    return total
