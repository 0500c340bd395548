"""Numeric core of the Scope 3 propagation: solve ``(I - Sᵀ) T = e`` on a sparse share matrix.

``S[k, i]`` is the allocation share of supplier ``k``'s cradle-to-gate total that flows to
customer ``i``; ``e`` holds the emissions that enter each node from outside the allocated
network (own Scope 1 + 2 and fixed secondary estimates).  The solve never walks Python
dictionaries and never transposes ``S``:

* a vectorised Kahn's algorithm on the rows of ``S`` (suppliers → customers) orders the
  nodes into levels; every node of a level only depends on earlier levels.  Strongly
  connected components (``scipy.sparse.csgraph``) are computed only when that peeling gets
  stuck, i.e. when the network really has supplier cycles, and the peeling then continues
  on the condensation;
* the rows of ``S`` are gathered once in level order, so the numeric solve is one sparse
  "push" product per level on a contiguous block of rows (each level's totals are final
  when it is reached, and are pushed to the customers in later levels);
* the nodes inside supplier cycles are solved per component: small components through
  precomputed dense inverses of ``I - M_cc`` (one block-diagonal mat-vec per level), large
  ones through one sparse LU factorisation per level.
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
    "solve_with_plan",
]

#: tolerance on a supplier's outgoing shares: above ``1 + SHARE_SUM_SLACK`` is an error.
SHARE_SUM_SLACK = 1e-9

#: cycles up to this many nodes are solved with a precomputed dense inverse, larger ones
#: with a sparse LU factorisation.
DENSE_CYCLE_MAX = 32

#: rounds of the peeling that release more than ``1 / _BINCOUNT_RATIO`` customer entries per
#: node count their customers with ``np.bincount`` instead of a scatter.
_BINCOUNT_RATIO = 4

#: a column of ``I - M_cc`` summing to at most this is "closed" (no leak out of the cycle).
_CLOSED_TOL = 1e-12


class ClosedCycleError(ValueError):
    """A supplier cycle re-allocates all of its emissions to itself, so no finite total exists."""


def _gather_ranges(indptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Positions in ``indices`` of all entries of the given CSR rows (vectorised)."""
    starts = indptr[rows].astype(np.intp, copy=False)
    counts = indptr[rows + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.intp)
    offsets = np.cumsum(counts) - counts
    out = np.repeat(starts - offsets, counts)
    out += np.arange(total, dtype=np.intp)
    return out


def _unique_stamp(values: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Distinct values without sorting: keep the one position that wins a scatter."""
    idx = np.arange(values.size)
    scratch[values] = idx
    return values[scratch[values] == idx]


@dataclass
class _Level:
    """One level of the schedule: rows ``[start, stop)`` in level order.

    Rows ``[cyc, stop)`` belong to supplier cycles (members of one cycle are contiguous).
    """

    start: int
    cyc: int
    stop: int
    push: sp.csc_matrix | None  # (hi - start) × (stop - start): row block of S, transposed
    hi: int
    cycle_inverse: sp.csr_matrix | None  # (stop - cyc) square; identity rows for LU members
    cycle_lu: list[tuple[np.ndarray, object]] = field(default_factory=list)


@dataclass
class PropagationPlan:
    """Reusable solve schedule for one share matrix (level order, row blocks, cycle solvers).

    Building the plan is the structural work; :meth:`solve` can then be applied to many
    right-hand sides (Monte Carlo samples, scenarios with unchanged shares).
    """

    n: int
    shares: sp.csr_matrix  # S, canonical float64 CSR (rows = suppliers)
    order: np.ndarray  # node index at each level-order position
    bounds: np.ndarray  # level L holds positions bounds[L]:bounds[L + 1]
    steps: list[_Level]
    permuted: sp.csr_matrix  # P S Pᵀ: rows and columns in level order
    n_components: int
    cycle_members: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    cycle_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))

    @property
    def inflow(self) -> sp.csc_matrix:
        """``M = Sᵀ`` (row ``i`` lists the suppliers of ``i``), a free view of :attr:`shares`."""
        return self.shares.T

    @property
    def levels(self) -> list[np.ndarray]:
        """Node indices of every level, in solve order."""
        b = self.bounds
        return [self.order[b[i] : b[i + 1]] for i in range(b.size - 1)]

    @property
    def cyclic_components(self) -> list[np.ndarray]:
        """Node indices of every strongly connected component with more than one node."""
        return np.split(self.cycle_members, self.cycle_ptr[1:-1]) if self.cycle_ptr.size > 1 else []

    @property
    def n_cycles(self) -> int:
        return self.cycle_ptr.size - 1

    @property
    def n_levels(self) -> int:
        return self.bounds.size - 1

    def _check_rhs(self, e: np.ndarray) -> np.ndarray:
        e = np.asarray(e, dtype=np.float64)
        if e.ndim not in (1, 2):
            raise ValueError("e must be 1-D or 2-D")
        if e.shape[0] != self.n:
            raise ValueError(f"e has {e.shape[0]} rows, the share matrix has {self.n} nodes")
        return e

    def _solve_permuted(self, x: np.ndarray) -> np.ndarray:
        """Solve in level order, in place: ``x`` enters as ``P e`` and leaves as ``P T``."""
        for lvl in self.steps:
            a, b = lvl.start, lvl.stop
            if lvl.cycle_inverse is not None:
                c = lvl.cyc
                x[c:b] = lvl.cycle_inverse @ x[c:b]
                for positions, lu in lvl.cycle_lu:
                    x[positions] = lu.solve(x[positions])
            if lvl.push is not None:
                x[b : lvl.hi] += (lvl.push @ x[a:b])[b - a :]
        return x

    def _defect_permuted(self, x: np.ndarray, ep: np.ndarray) -> np.ndarray:
        """``P e - (I - P Sᵀ Pᵀ) P T`` in level order."""
        r = self.permuted.T @ x
        r += ep
        r -= x
        return r

    def solve(self, e: np.ndarray) -> np.ndarray:
        """Totals ``T`` for emissions ``e`` (1-D, or 2-D nodes × columns)."""
        e = self._check_rhs(e)
        x = self._solve_permuted(e[self.order])
        total = np.empty_like(x)
        total[self.order] = x
        return total

    def residual(self, total: np.ndarray, e: np.ndarray) -> float:
        """Relative residual ``‖(I - Sᵀ)T - e‖ / ‖e‖`` (Frobenius norm)."""
        return relative_residual(self.inflow, total, e)

    def defect(self, total: np.ndarray, e: np.ndarray) -> np.ndarray:
        """``e - (I - Sᵀ) T`` in node order (the right-hand side of a refinement step)."""
        return e - total + self.inflow @ total


def relative_residual(
    inflow: sp.spmatrix | sp.sparray,
    total: np.ndarray,
    e: np.ndarray,
    order: np.ndarray | None = None,
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
    if not np.isfinite(data).all():
        raise ValueError("share matrix contains non-finite values")
    if data.min() < 0:
        raise ValueError("share matrix contains negative shares")
    out_sums = S @ np.ones(S.shape[1])
    over = np.flatnonzero(out_sums > 1.0 + SHARE_SUM_SLACK)
    if over.size:
        raise ValueError(
            f"{over.size} supplier(s) allocate more than 100 % of their emissions "
            f"(e.g. node index {int(over[0])}: {out_sums[over[0]]:.6g})"
        )


@dataclass
class _Cycles:
    """Non-trivial strongly connected components and the edges inside them."""

    members: np.ndarray  # cyclic nodes grouped by component
    ptr: np.ndarray  # component j holds members[ptr[j]:ptr[j + 1]]
    key: np.ndarray  # node → Kahn key: itself, or the first member of its component
    comp_of_key: np.ndarray  # node → component index if it is a component key, else -1
    n_components: int
    intra_sup: np.ndarray  # supplier, customer and share of every edge inside a component
    intra_cus: np.ndarray
    intra_share: np.ndarray
    intra_comp: np.ndarray  # component index of each of those edges


def _find_cycles(S: sp.csr_matrix) -> _Cycles:
    """Strongly connected components of ``S`` that contain a cycle, and the edges inside them."""
    n = S.shape[0]
    n_comp, labels = connected_components(S, directed=True, connection="strong")
    cyclic = np.bincount(labels, minlength=n_comp)[labels] > 1
    cyclic |= S.diagonal() != 0  # a self-loop is a cycle of length one
    cyc_nodes = np.flatnonzero(cyclic)
    members = cyc_nodes[np.argsort(labels[cyc_nodes], kind="stable")]
    member_label = labels[members]
    first = np.flatnonzero(np.r_[True, member_label[1:] != member_label[:-1]][: members.size])
    ptr = np.append(first, members.size).astype(np.int64)
    sizes = np.diff(ptr)
    key = np.arange(n, dtype=np.intp)
    key[members] = np.repeat(members[first], sizes)
    comp_of_key = np.full(n, -1, dtype=np.int64)
    comp_of_key[members[first]] = np.arange(first.size)

    node_comp = np.full(n, -1, dtype=np.int64)
    node_comp[members] = np.repeat(np.arange(first.size), sizes)
    pos = _gather_ranges(S.indptr, members)
    row_node = np.repeat(members, np.diff(S.indptr)[members])
    cus = S.indices[pos]
    intra = node_comp[cus] == node_comp[row_node]
    return _Cycles(
        members=members,
        ptr=ptr,
        key=key,
        comp_of_key=comp_of_key,
        n_components=int(n_comp),
        intra_sup=row_node[intra],
        intra_cus=cus[intra],
        intra_share=S.data[pos[intra]],
        intra_comp=node_comp[row_node[intra]],
    )


def _peel(
    indptr: np.ndarray,
    indices: np.ndarray,
    pending: np.ndarray,
    released: np.ndarray,
    cycles: _Cycles | None,
    out: list[tuple[np.ndarray, int]],
) -> int:
    """Vectorised Kahn's algorithm on the CSR rows ``indptr``/``indices`` of ``S``.

    ``pending[k]`` counts the unprocessed suppliers of key ``k`` (a node, or the first member
    of a cycle, which stands for the whole cycle).  Each round takes every released key,
    gathers the customers of all its nodes and releases the keys whose count drops to zero.
    Appends ``(nodes, n_single)`` per level (nodes outside cycles first, then cycle members,
    contiguous per cycle) and returns the number of nodes placed.
    """
    n = pending.size
    scratch = np.empty(n, dtype=np.intp)
    done = 0
    while released.size:
        if cycles is None:
            nodes, n_single = released, released.size
        else:
            comp = cycles.comp_of_key[released]
            is_cyc = comp >= 0
            single = released[~is_cyc]
            inner = cycles.members[_gather_ranges(cycles.ptr, comp[is_cyc])]
            nodes, n_single = np.concatenate([single, inner]), single.size
        out.append((nodes, n_single))
        done += nodes.size
        keys = indices[_gather_ranges(indptr, nodes)]
        if cycles is not None:
            keys = cycles.key[keys]
        if keys.size * _BINCOUNT_RATIO > n:  # large round: dense counts, no scatter
            hits = np.bincount(keys, minlength=n)
            pending -= hits
            released = np.flatnonzero((pending == 0) & (hits > 0))
        else:
            np.subtract.at(pending, keys, 1)
            released = _unique_stamp(keys[pending[keys] == 0], scratch)
    return done


def _kahn_levels(
    S: sp.csr_matrix,
) -> tuple[list[tuple[np.ndarray, int]], _Cycles | None]:
    """Level order of the nodes of ``S``; each level only depends on earlier levels.

    First peels the network from its sources.  If that gets stuck, the nodes left (cycle
    members and everything downstream of a cycle) form a closed sub-network: its strongly
    connected components are found and the peeling continues on its condensation.
    Returns the levels as ``(nodes, n_single)`` and the cycles (in global ids).
    """
    n = S.shape[0]
    pending = np.bincount(S.indices, minlength=n)  # in-degree: suppliers not yet processed
    levels: list[tuple[np.ndarray, int]] = []
    done = _peel(S.indptr, S.indices, pending, np.flatnonzero(pending == 0), None, levels)
    if done == n:
        return levels, None
    rest = np.flatnonzero(pending)  # every supplier of these nodes is in ``rest`` too

    local = np.full(n, -1, dtype=S.indices.dtype)
    local[rest] = np.arange(rest.size, dtype=S.indices.dtype)
    sub = S[rest]
    sub = sp.csr_matrix((sub.data, local[sub.indices], sub.indptr), shape=(rest.size,) * 2)
    sub.has_canonical_format = True  # a monotone relabelling keeps rows sorted
    cycles = _find_cycles(sub)
    members, ptr = cycles.members, cycles.ptr
    heads = members[ptr[:-1]]
    pending = pending[rest]
    comp_pending = np.add.reduceat(pending[members], ptr[:-1]) if members.size else pending[:0]
    comp_pending -= np.bincount(cycles.intra_comp, minlength=heads.size)
    pending[members] = -1  # members are released through their cycle's key
    pending[heads] = comp_pending
    n_phase1 = len(levels)
    done += _peel(sub.indptr, sub.indices, pending, heads[comp_pending == 0], cycles, levels)
    if done != n:  # pragma: no cover - impossible for a condensation DAG
        raise RuntimeError("condensation is not acyclic")
    for k in range(n_phase1, len(levels)):
        nodes, n_single = levels[k]
        levels[k] = (rest[nodes], n_single)
    cycles.members = rest[members]
    cycles.intra_sup = rest[cycles.intra_sup]
    cycles.intra_cus = rest[cycles.intra_cus]
    cycles.n_components += n - rest.size  # every peeled node is a component of its own
    return levels, cycles


def _closed_cycle_check(cycles: _Cycles, n_comp: int, n: int) -> None:
    """Reject cycles whose members pass on 100 % of their total inside the cycle.

    For an irreducible non-negative ``M_cc`` with column sums ≤ 1 the spectral radius is below
    1 exactly when at least one column sums to less than 1 (a leak), i.e. when a column of
    ``I - M_cc`` sums to more than 0.
    """
    members = cycles.members
    local = np.full(members.size, 1.0)
    index = np.empty(n, dtype=np.int64)
    index[members] = np.arange(members.size)
    col_sums = local - np.bincount(
        index[cycles.intra_sup], weights=cycles.intra_share, minlength=members.size
    )
    leaky = np.bincount(
        np.repeat(np.arange(n_comp), np.diff(cycles.ptr)),
        weights=col_sums > _CLOSED_TOL,
        minlength=n_comp,
    )
    bad = np.flatnonzero(leaky == 0)
    if bad.size:
        j = int(bad[0])
        nodes = members[cycles.ptr[j] : cycles.ptr[j + 1]]
        raise ClosedCycleError(
            f"supplier cycle through node indices {nodes[:10].tolist()} allocates all of "
            "its emissions inside the cycle (no leak); the system has no finite solution"
        )


def _cycle_solvers(
    cycles: _Cycles, position: np.ndarray, bounds: np.ndarray, n: int
) -> tuple[sp.csr_matrix, dict[int, list[tuple[np.ndarray, object]]]]:
    """Inverse of ``I - M_cc`` for small cycles (as one sparse matrix in level order) and LU
    factorisations of the large ones, grouped by level."""
    ptr = cycles.ptr
    n_comp = ptr.size - 1
    _closed_cycle_check(cycles, n_comp, n)
    sizes = np.diff(ptr)
    head_pos = position[cycles.members[ptr[:-1]]].astype(np.int64)  # first member's position
    comp = cycles.intra_comp
    row = position[cycles.intra_cus] - head_pos[comp]  # customer ↔ supplier within the cycle
    col = position[cycles.intra_sup] - head_pos[comp]

    inv_rows: list[np.ndarray] = []
    inv_cols: list[np.ndarray] = []
    inv_vals: list[np.ndarray] = []
    entry_order = np.argsort(sizes[comp], kind="stable")
    entry_size = sizes[comp][entry_order]
    size_values = np.unique(sizes)
    for s in size_values[size_values <= DENSE_CYCLE_MAX]:
        s = int(s)
        comps = np.flatnonzero(sizes == s)
        slot = np.full(n_comp, -1, dtype=np.int64)
        slot[comps] = np.arange(comps.size)
        lo, hi = np.searchsorted(entry_size, [s, s + 1])
        sel = entry_order[lo:hi]
        system = np.zeros((comps.size, s, s))
        diag = np.arange(s)
        system[:, diag, diag] = 1.0
        system[slot[comp[sel]], row[sel], col[sel]] -= cycles.intra_share[sel]
        try:
            inverse = np.linalg.inv(system)
        except np.linalg.LinAlgError as exc:  # exactly singular
            raise ClosedCycleError(
                f"a supplier cycle of {s} nodes has no leak (e.g. node indices "
                f"{cycles.members[ptr[comps[0]] : ptr[comps[0]] + s][:10].tolist()})"
            ) from exc
        base = head_pos[comps][:, None, None]
        inv_rows.append(np.broadcast_to(base + diag[:, None], system.shape).ravel())
        inv_cols.append(np.broadcast_to(base + diag[None, :], system.shape).ravel())
        inv_vals.append(inverse.ravel())

    big_lu: dict[int, list[tuple[np.ndarray, object]]] = {}
    big = np.flatnonzero(sizes > DENSE_CYCLE_MAX)
    if big.size:
        level_of_comp = np.searchsorted(bounds, head_pos[big], side="right") - 1
        local = np.full(n, -1, dtype=np.int64)
        for lvl in np.unique(level_of_comp):
            comps = big[level_of_comp == lvl]
            nodes = cycles.members[_gather_ranges(ptr, comps)]
            positions = position[nodes].astype(np.int64)
            local[nodes] = np.arange(nodes.size)
            sel = np.flatnonzero(np.isin(comp, comps))
            m = nodes.size
            system = sp.csc_matrix(
                (
                    np.concatenate([np.ones(m), -cycles.intra_share[sel]]),
                    (
                        np.concatenate([np.arange(m), local[cycles.intra_cus[sel]]]),
                        np.concatenate([np.arange(m), local[cycles.intra_sup[sel]]]),
                    ),
                ),
                shape=(m, m),
            )
            try:
                lu = splu(system)
            except RuntimeError as exc:  # exactly singular
                raise ClosedCycleError(
                    f"supplier cycle through node indices {nodes[:10].tolist()} has no leak"
                ) from exc
            big_lu[int(lvl)] = [(positions, lu)]
            inv_rows.append(positions)  # identity rows: the LU solve replaces them
            inv_cols.append(positions)
            inv_vals.append(np.ones(m))

    inverse = sp.csr_matrix(
        (np.concatenate(inv_vals), (np.concatenate(inv_rows), np.concatenate(inv_cols))),
        shape=(n, n),
    )
    return inverse, big_lu


def plan_propagation(
    shares: sp.spmatrix | sp.sparray, check_shares: bool = True
) -> PropagationPlan:
    """Build the level schedule and cycle solvers for share matrix ``S`` (n × n).

    ``check_shares=False`` skips the "outgoing shares ≤ 1" check, e.g. for the adjoint
    system ``(I - S) v = b`` that hotspot analysis solves with ``Sᵀ``.
    """
    S = _as_share_csr(shares)
    n = S.shape[0]
    if S.shape[1] != n:
        raise ValueError(f"share matrix must be square, got {S.shape}")
    if check_shares:
        _check_shares(S)

    levels, cycles = _kahn_levels(S)
    idx_dtype = S.indices.dtype
    sizes = np.fromiter((lv[0].size for lv in levels), dtype=np.int64, count=len(levels))
    bounds = np.zeros(sizes.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=bounds[1:])
    order = np.concatenate([lv[0] for lv in levels]) if n else np.empty(0, dtype=idx_dtype)
    order = order.astype(idx_dtype, copy=False)
    position = np.empty(n, dtype=idx_dtype)
    position[order] = np.arange(n, dtype=idx_dtype)
    level_single = [lv[1] for lv in levels]
    del levels

    # S with rows and columns in level order: one row gather, then relabel the columns
    rows = S[order]
    data, indptr = rows.data, rows.indptr
    cols = position[rows.indices]
    del rows
    permuted = sp.csr_matrix((data, cols, indptr), shape=(n, n))

    inverse = None
    big_lu: dict[int, list[tuple[np.ndarray, object]]] = {}
    if cycles is not None and cycles.members.size:
        inverse, big_lu = _cycle_solvers(cycles, position, bounds, n)

    steps: list[_Level] = []
    for lvl in range(sizes.size):
        a, b = int(bounds[lvl]), int(bounds[lvl + 1])
        c = a + level_single[lvl]
        pa, pb = int(indptr[a]), int(indptr[b])
        push, hi = None, b
        if pb > pa:
            block_cols = cols[pa:pb] - idx_dtype.type(a)
            hi = a + int(block_cols.max()) + 1
            if hi > b:  # otherwise only edges inside this level's cycles
                push = sp.csc_matrix(
                    (data[pa:pb], block_cols, indptr[a : b + 1] - indptr[a]),
                    shape=(hi - a, b - a),
                )
        cycle_inverse = None
        if c < b:
            ia, ib = int(inverse.indptr[c]), int(inverse.indptr[b])
            cycle_inverse = sp.csr_matrix(
                (
                    inverse.data[ia:ib],
                    inverse.indices[ia:ib] - inverse.indices.dtype.type(c),
                    inverse.indptr[c : b + 1] - inverse.indptr[c],
                ),
                shape=(b - c, b - c),
            )
        steps.append(
            _Level(
                start=a,
                cyc=c,
                stop=b,
                push=push,
                hi=hi,
                cycle_inverse=cycle_inverse,
                cycle_lu=big_lu.get(lvl, []),
            )
        )

    if cycles is None:
        n_comp, members, ptr = n, np.empty(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
    else:
        n_comp, members, ptr = cycles.n_components, cycles.members, cycles.ptr
    return PropagationPlan(
        n=n,
        shares=S,
        order=order,
        bounds=bounds,
        steps=steps,
        permuted=permuted,
        n_components=n_comp,
        cycle_members=members,
        cycle_ptr=ptr,
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
    """Solve with a prepared plan, then verify (and iteratively refine) the residual.

    The residual ``‖(I - Sᵀ)T - e‖ / ‖e‖`` is evaluated with every entry of ``S`` (in level
    order, which is the same matrix with its nodes relabelled).
    """
    e = plan._check_rhs(e)
    ep = e[plan.order]
    x = plan._solve_permuted(ep.copy())
    denom = float(np.linalg.norm(ep)) or 1.0
    defect = plan._defect_permuted(x, ep)
    res = float(np.linalg.norm(defect)) / denom
    refinements = 0
    while res > tol and refinements < max_refinements:
        x += plan._solve_permuted(defect)
        defect = plan._defect_permuted(x, ep)
        res = float(np.linalg.norm(defect)) / denom
        refinements += 1
    if not np.isfinite(res) or res > tol:
        raise ArithmeticError(f"propagation did not reach relative residual {tol:g} ({res:.3g})")
    total = np.empty_like(x)
    total[plan.order] = x
    return total
