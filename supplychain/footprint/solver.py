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
    inflow: sp.csr_matrix  # M = Sᵀ, rows in level order: row r lists the suppliers of order[r]
    order: np.ndarray  # node index of each inflow row
    levels: list[np.ndarray]
    level_rows: list[sp.csr_matrix | None]
    cycle_blocks: list[_CycleBlock | None]
    n_components: int
    cycle_members: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    cycle_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))

    @property
    def cyclic_components(self) -> list[np.ndarray]:
        """Node indices of every strongly connected component with more than one node."""
        return np.split(self.cycle_members, self.cycle_ptr[1:-1]) if self.cycle_ptr.size > 1 else []

    @property
    def n_cycles(self) -> int:
        return self.cycle_ptr.size - 1

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
        return relative_residual(self.inflow, total, e, self.order)

    def defect(self, total: np.ndarray, e: np.ndarray) -> np.ndarray:
        """``e - (I - Sᵀ) T`` in node order (the right-hand side of a refinement step)."""
        r = np.empty_like(total)
        r[self.order] = e[self.order] - total[self.order] + self.inflow @ total
        return r


def relative_residual(
    inflow: sp.csr_matrix, total: np.ndarray, e: np.ndarray, order: np.ndarray | None = None
) -> float:
    """Relative residual of ``T = e + M T`` for inflow matrix ``M = Sᵀ`` (rows in ``order``)."""
    if order is None:
        r = total - inflow @ total - e
    else:
        r = total[order] - inflow @ total - e[order]
    denom = float(np.linalg.norm(e))
    num = float(np.linalg.norm(r))
    if denom == 0.0:
        return num
    return num / denom


def _as_share_csr(shares: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """``S`` as canonical float64 CSR (rows = suppliers)."""
    S = sp.csr_matrix(shares)
    if S.dtype != np.float64:
        S = S.astype(np.float64)
    if not S.has_canonical_format:
        S = S.copy()
        S.sum_duplicates()
    if S.nnz and not S.data.all():  # explicit zeros carry nothing; drop them
        S = S.copy()
        S.eliminate_zeros()
    return S


def _check_shares(S: sp.csr_matrix) -> None:
    """Shares must be finite, non-negative and sum to at most 1 per supplier."""
    data = S.data
    if data.size == 0:
        return
    if not np.all(np.isfinite(data)):
        raise ValueError("share matrix contains non-finite values")
    if data.min() < 0:
        raise ValueError("share matrix contains negative shares")
    out_sums = _row_sums(S)
    over = np.flatnonzero(out_sums > 1.0 + SHARE_SUM_SLACK)
    if over.size:
        raise ValueError(
            f"{over.size} supplier(s) allocate more than 100 % of their emissions "
            f"(e.g. node index {int(over[0])}: {out_sums[over[0]]:.6g})"
        )


def _row_sums(S: sp.csr_matrix) -> np.ndarray:
    """Per-row sums of a canonical CSR matrix (reduceat over the non-empty rows)."""
    starts = S.indptr[:-1]
    nonempty = S.indptr[1:] > starts
    sums = np.zeros(S.shape[0])
    if S.nnz:
        sums[nonempty] = np.add.reduceat(S.data[: S.indptr[-1]], starts[nonempty])
    return sums


def _unique_stamp(values: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Distinct values without sorting: keep the one position that wins a scatter."""
    idx = np.arange(values.size)
    scratch[values] = idx
    return values[scratch[values] == idx]


def _condensation_depths(
    S: sp.csr_matrix,
    labels: np.ndarray,
    n_comp: int,
    intra_customer_comp: np.ndarray,
    cyc_comp_index: np.ndarray,
    cyc_ptr: np.ndarray,
    cyc_nodes_by_comp: np.ndarray,
) -> np.ndarray:
    """Longest distance (in components) from a source component to each node's component.

    Kahn's algorithm on the condensation, vectorised: each round releases every component
    whose suppliers are all processed and gathers the out-rows of all its nodes at once.
    Edges inside a cycle are excluded from the pending counts up front.
    """
    n = S.shape[0]
    customer_comp = labels[S.indices]
    # same structure as S, data = customer component: row selection yields touched components
    comp_rows = sp.csr_matrix((customer_comp, S.indices, S.indptr), shape=S.shape, copy=False)
    pending = np.bincount(customer_comp, minlength=n_comp)
    if intra_customer_comp.size:
        pending -= np.bincount(intra_customer_comp, minlength=n_comp)
    depth = np.full(n_comp, -1, dtype=np.int32)

    rep = np.empty(n_comp, dtype=np.int64)
    rep[labels] = np.arange(n, dtype=np.int64)
    scratch = np.empty(n_comp, dtype=np.int64)

    def members(comps: np.ndarray) -> np.ndarray:
        if cyc_ptr.size <= 1:
            return rep[comps]
        ci = cyc_comp_index[comps]
        cyc = ci >= 0
        if not cyc.any():
            return rep[comps]
        inner = cyc_nodes_by_comp[_gather_ranges(cyc_ptr, ci[cyc])]
        return np.concatenate([rep[comps[~cyc]], inner])

    released = np.flatnonzero(pending == 0)
    level = 0
    done = 0
    while released.size:
        depth[released] = level
        done += released.size
        touched = comp_rows[members(released)].data  # customer components, one C gather
        if touched.size == 0:
            break
        np.subtract.at(pending, touched, 1)
        hit = touched[pending[touched] == 0]
        released = _unique_stamp(hit, scratch)
        level += 1
    if done != n_comp:  # pragma: no cover - impossible for a condensation DAG
        raise RuntimeError("condensation is not acyclic")
    return depth[labels]


def plan_propagation(
    shares: sp.spmatrix | sp.sparray, check_shares: bool = True
) -> PropagationPlan:
    """Build the level schedule and cycle factorisations for share matrix ``S`` (n × n).

    ``check_shares=False`` skips the "outgoing shares ≤ 1" check, e.g. for the adjoint
    system ``(I - S) v = b`` that hotspot analysis solves with ``Sᵀ``.
    """
    S = _as_share_csr(shares)
    n = S.shape[0]
    if S.shape[1] != n:
        raise ValueError(f"share matrix must be square, got {S.shape}")
    if check_shares:
        _check_shares(S)

    n_comp, labels = connected_components(S, directed=True, connection="strong")
    comp_size = np.bincount(labels, minlength=n_comp)
    cyclic = comp_size[labels] > 1
    cyclic |= S.diagonal() != 0  # a self-loop is a cycle of length one

    cyc_nodes = np.flatnonzero(cyclic)

    # entries inside cycles: (supplier, customer, share) with both ends in one component
    cyc_rows = S[cyc_nodes]
    row_node = np.repeat(cyc_nodes, np.diff(cyc_rows.indptr))
    intra = labels[cyc_rows.indices] == labels[row_node]
    intra_sup, intra_cus = row_node[intra], cyc_rows.indices[intra]
    intra_share = cyc_rows.data[intra]

    # members of every non-trivial component, grouped by component
    cyc_comp_index = np.full(n_comp, -1, dtype=np.int64)
    comp_order = np.argsort(labels[cyc_nodes], kind="stable")
    cyc_nodes_by_comp = cyc_nodes[comp_order]
    cyc_comps, first, counts = np.unique(
        labels[cyc_nodes_by_comp], return_index=True, return_counts=True
    )
    cyc_comp_index[cyc_comps] = np.arange(cyc_comps.size)
    cyc_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    depth = _condensation_depths(
        S,
        labels,
        n_comp,
        labels[intra_cus],
        cyc_comp_index,
        cyc_ptr,
        cyc_nodes_by_comp,
    )
    max_depth = int(depth.max()) if n else -1
    key_dtype = np.int16 if max_depth < np.iinfo(np.int16).max else np.int32
    order = np.argsort(depth.astype(key_dtype), kind="stable")
    bounds = np.searchsorted(depth[order], np.arange(max_depth + 2))
    position = np.empty(n, dtype=S.indices.dtype)
    position[order] = np.arange(n, dtype=S.indices.dtype)

    # inflow matrix M = Sᵀ with rows already in level order: relabel customers, transpose once
    relabelled = sp.csr_matrix((S.data, position[S.indices], S.indptr), shape=S.shape)
    inflow_sorted = relabelled.T.tocsr()
    del relabelled

    levels: list[np.ndarray] = []
    level_rows: list[sp.csr_matrix | None] = []
    ip = inflow_sorted.indptr
    for lvl in range(max_depth + 1):
        a, b = int(bounds[lvl]), int(bounds[lvl + 1])
        levels.append(order[a:b])
        pa, pb = int(ip[a]), int(ip[b])
        if pb == pa:
            level_rows.append(None)
            continue
        level_rows.append(
            sp.csr_matrix(
                (inflow_sorted.data[pa:pb], inflow_sorted.indices[pa:pb], ip[a : b + 1] - pa),
                shape=(b - a, n),
            )
        )

    cycle_blocks: list[_CycleBlock | None] = [None] * (max_depth + 1)
    if cyc_nodes.size:
        cyc_sorted = cyc_nodes[np.argsort(position[cyc_nodes], kind="stable")]
        local = np.full(n, -1, dtype=np.int64)
        local[cyc_sorted] = np.arange(cyc_sorted.size)
        m = cyc_sorted.size
        # I - M_cc, block diagonal by level (no edge joins two components of one level)
        rows = np.concatenate([np.arange(m), local[intra_cus]])
        cols = np.concatenate([np.arange(m), local[intra_sup]])
        vals = np.concatenate([np.ones(m), -intra_share])
        system = sp.csc_matrix((vals, (rows, cols)), shape=(m, m))
        system.sum_duplicates()
        closed_col = np.bincount(cols, weights=vals, minlength=m) <= 1e-12
        cyc_depth = depth[cyc_sorted]
        cut = np.searchsorted(cyc_depth, np.arange(max_depth + 2))
        sp_ptr = system.indptr
        for lvl in np.unique(cyc_depth):
            a, b = int(cut[lvl]), int(cut[lvl + 1])
            pa, pb = int(sp_ptr[a]), int(sp_ptr[b])
            block = sp.csc_matrix(
                (system.data[pa:pb], system.indices[pa:pb] - a, sp_ptr[a : b + 1] - pa),
                shape=(b - a, b - a),
            )
            nodes = cyc_sorted[a:b]
            if closed_col[a:b].any():
                _check_leak(block, nodes)
            try:
                lu = splu(block)
            except RuntimeError as exc:  # exactly singular
                raise ClosedCycleError(
                    f"supplier cycle through node indices {nodes[:10].tolist()} has no leak"
                ) from exc
            cycle_blocks[int(lvl)] = _CycleBlock(nodes=nodes, lu=lu)

    return PropagationPlan(
        n=n,
        inflow=inflow_sorted,
        order=order,
        levels=levels,
        level_rows=level_rows,
        cycle_blocks=cycle_blocks,
        n_components=int(n_comp),
        cycle_members=cyc_nodes_by_comp,
        cycle_ptr=cyc_ptr,
    )


def _check_leak(system_block: sp.csc_matrix, nodes: np.ndarray) -> None:
    """Reject cycles whose members pass on 100 % of their total inside the cycle.

    ``system_block`` is ``I - M_cc``.  For an irreducible non-negative ``M_cc`` with column
    sums ≤ 1 the spectral radius is below 1 exactly when at least one column sums to less
    than 1 (a leak), i.e. when a column of ``I - M_cc`` sums to more than 0.
    """
    col_sums = np.asarray(system_block.sum(axis=0)).ravel()
    closed = col_sums <= 1e-12
    if not closed.any():
        return
    _, comp = connected_components(system_block.T.tocsr(), directed=True, connection="strong")
    leaky = np.zeros(comp.max() + 1, dtype=bool)
    leaky[comp[~closed]] = True
    bad = ~leaky[comp]
    if bad.any():
        raise ClosedCycleError(
            f"supplier cycle through node indices {nodes[bad][:10].tolist()} allocates all of "
            "its emissions inside the cycle (no leak); the system has no finite solution"
        )


def propagate(
    S: sp.spmatrix | sp.sparray,
    e: np.ndarray,
    tol: float = 1e-9,
    max_refinements: int = 3,
    check_shares: bool = True,
) -> np.ndarray:
    """Cradle-to-gate totals ``T`` solving ``(I - Sᵀ) T = e``.

    ``S[k, i]`` is the share of supplier ``k``'s total allocated to customer ``i``; ``e`` is
    1-D (one emission vector) or 2-D (nodes × samples, e.g. Monte Carlo draws). The result
    is checked against ``tol`` on the relative residual and refined if needed.
    """
    plan = plan_propagation(S, check_shares=check_shares)
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
        correction = plan.solve(plan.defect(total, e))
        total = total + correction
        res = plan.residual(total, e)
        refinements += 1
    if not np.isfinite(res) or res > tol:
        raise ArithmeticError(f"propagation did not reach relative residual {tol:g} ({res:.3g})")
    return total
