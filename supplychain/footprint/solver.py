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
  precomputed dense inverses of ``I - M_cc`` (one block-diagonal mat-vec per level),
  medium ones through one sparse LU per level, large ones iteratively, by a regular
  splitting along a feedback order (see :mod:`.iterative`): no factorisation, so no
  fill-in, whatever the size of the component;
* every solve is checked on the relative residual with all entries of ``S``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

from .iterative import (
    LargeComponent,
    PushBlock,
    build_component,
    feedback_levels,
    gather_ranges,
    plain_number,
    unique_stamp,
)

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

#: cycles up to this many nodes are solved with a precomputed dense inverse, up to
#: ``LU_CYCLE_MAX`` with a sparse LU factorisation, larger ones iteratively along a feedback
#: order (:class:`~.iterative.LargeComponent`): the LU's fill-in grows with the square of
#: the size of a well-connected cycle (a 20,000-node one took 86 s and 1.5 GB).
DENSE_CYCLE_MAX = 32
LU_CYCLE_MAX = 500

#: when the peeling from the sources stalls with more than this share of the nodes left
#: (typically one giant cycle and what it sells to), all of them are iterated as one block
#: in feedback order, without a search for cycles: that search, the condensation and a
#: second gather of the matrix would cost more than the whole iterative solve.  Below it
#: (cycles here and there), or below ``ONE_BLOCK_MIN`` nodes left, where the search is
#: cheap, every cycle gets its own solver.
ONE_BLOCK_SHARE = 2 / 3
ONE_BLOCK_MIN = 50_000

#: share of the residual tolerance that the iterative cycle solves may use up together.
_CYCLE_TOL_SHARE = 0.5

#: rounds of the peeling that release more than ``1 / _BINCOUNT_RATIO`` customer entries per
#: node count their customers with ``np.bincount`` instead of a scatter.
_BINCOUNT_RATIO = 4

#: a column of ``I - M_cc`` summing to at most this is "closed" (no leak out of the cycle).
_CLOSED_TOL = 1e-12


class ClosedCycleError(ValueError):
    """A supplier cycle re-allocates all of its emissions to itself, so no finite total exists.

    ``nodes`` holds the node indices of the cycle, so callers can name the organisations.
    """

    def __init__(self, message: str, nodes: np.ndarray | None = None) -> None:
        super().__init__(message)
        self.nodes = np.empty(0, dtype=np.int64) if nodes is None else np.asarray(nodes)


_gather_ranges = gather_ranges
_unique_stamp = unique_stamp


@dataclass
class _Level:
    """One level of the schedule: rows ``[start, stop)`` in level order.

    Rows ``[cyc, stop)`` belong to supplier cycles (members of one cycle are contiguous).
    """

    start: int
    cyc: int
    stop: int
    push: list[PushBlock]  # the level's edges to later levels
    cycle_inverse: sp.csr_matrix | None  # (stop - cyc) square; identity rows for LU/large
    cycle_lu: list[tuple[np.ndarray, object]] = field(default_factory=list)
    large: list[LargeComponent] = field(default_factory=list)


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
    #: strongly connected components: ``(count, members grouped by cycle, cycle pointers)``;
    #: ``None`` when the plan did not need them (one iterated block), found on demand
    components: tuple[int, np.ndarray, np.ndarray] | None = None

    def _components(self) -> tuple[int, np.ndarray, np.ndarray]:
        if self.components is None:
            self.components = _cycle_partition(self.shares)
        return self.components

    @property
    def n_components(self) -> int:
        return self._components()[0]

    @property
    def cycle_members(self) -> np.ndarray:
        """Nodes of the supplier cycles (components with more than one node, or a
        self-loop), grouped by cycle."""
        return self._components()[1]

    @property
    def cycle_ptr(self) -> np.ndarray:
        """Cycle ``j`` holds ``cycle_members[cycle_ptr[j]:cycle_ptr[j + 1]]``."""
        return self._components()[2]

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

    @property
    def large_components(self) -> list[LargeComponent]:
        """The blocks solved iteratively: cycles of more than ``LU_CYCLE_MAX`` nodes, or all
        the nodes left when the peeling stalled with most of the network (one block)."""
        return [comp for lvl in self.steps for comp in lvl.large]

    @property
    def n_feedback_edges(self) -> int:
        """Edges inside iterated blocks that point backwards in their feedback order."""
        return sum(comp.n_feedback_edges for comp in self.large_components)

    @property
    def last_sweeps(self) -> int:
        """Sweeps of the largest cycle in the last solve (0 when every cycle is small)."""
        comps = self.large_components
        return max(comps, key=lambda c: c.size).last_sweeps if comps else 0

    def _check_rhs(self, e: np.ndarray) -> np.ndarray:
        e = np.asarray(e, dtype=np.float64)
        if e.ndim not in (1, 2):
            raise ValueError("e must be 1-D or 2-D")
        if e.shape[0] != self.n:
            raise ValueError(f"e has {e.shape[0]} rows, the share matrix has {self.n} nodes")
        return e

    def _cycle_atol(self, ep: np.ndarray, tol: float) -> np.ndarray:
        """Absolute residual each large cycle may leave per column (a share of ``tol``)."""
        norms = np.linalg.norm(ep, axis=0) if ep.ndim == 2 else np.linalg.norm(ep)
        n_large = max(1, len(self.large_components))
        return _CYCLE_TOL_SHARE * tol * norms / np.sqrt(n_large)

    def _solve_permuted(self, x: np.ndarray, cycle_atol: np.ndarray) -> np.ndarray:
        """Solve in level order, in place: ``x`` enters as ``P e`` and leaves as ``P T``."""
        for lvl in self.steps:
            if lvl.cycle_inverse is not None:
                c, b = lvl.cyc, lvl.stop
                x[c:b] = lvl.cycle_inverse @ x[c:b]
            for positions, lu in lvl.cycle_lu:
                x[positions] = lu.solve(x[positions])
            for comp in lvl.large:
                a = comp.start
                x[a : a + comp.size] = comp.solve(x[a : a + comp.size], cycle_atol)
            for block in lvl.push:
                block.apply(x)
        return x

    def _defect_permuted(self, x: np.ndarray, ep: np.ndarray) -> np.ndarray:
        """``P e - (I - P Sᵀ Pᵀ) P T`` in level order."""
        r = self.permuted.T @ x
        r += ep
        r -= x
        return r

    def solve(self, e: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """Totals ``T`` for emissions ``e`` (1-D, or 2-D nodes × columns), unverified.

        ``tol`` bounds the relative residual of the iterative solves of large cycles.
        """
        e = self._check_rhs(e)
        ep = e[self.order]
        x = self._solve_permuted(ep, self._cycle_atol(ep, tol))
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

    members: np.ndarray  # cyclic nodes grouped by component (large ones in feedback order)
    ptr: np.ndarray  # component j holds members[ptr[j]:ptr[j + 1]]
    key: np.ndarray  # node → Kahn key: itself, or the first member of its component
    comp_of_key: np.ndarray  # node → component index if it is a component key, else -1
    n_components: int
    member_inside: np.ndarray  # per member: its edges inside its component
    member_kept: np.ndarray  # per member: 1 - its share allocated inside its component
    intra_sup: np.ndarray  # supplier, customer and share of every edge inside a cycle
    intra_cus: np.ndarray  # solved directly (up to LU_CYCLE_MAX nodes)
    intra_share: np.ndarray
    intra_comp: np.ndarray  # component index of each of those edges (non-decreasing)
    inside_in: np.ndarray  # per node: its suppliers inside its own component
    feedback_level: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


def _cycle_partition(S: sp.csr_matrix) -> tuple[int, np.ndarray, np.ndarray]:
    """Strongly connected components: their number, and the nodes of those that contain a
    cycle (more than one node, or a self-loop) grouped by component, with pointers."""
    n_comp, labels = connected_components(S, directed=True, connection="strong")
    cyclic = np.bincount(labels, minlength=n_comp)[labels] > 1
    cyclic |= S.diagonal() != 0  # a self-loop is a cycle of length one
    cyc_nodes = np.flatnonzero(cyclic)
    members = cyc_nodes[np.argsort(labels[cyc_nodes], kind="stable")]
    member_label = labels[members]
    first = np.flatnonzero(np.r_[True, member_label[1:] != member_label[:-1]][: members.size])
    return int(n_comp), members, np.append(first, members.size).astype(np.int64)


def _find_cycles(S: sp.csr_matrix) -> _Cycles:
    """Strongly connected components of ``S`` that contain a cycle, and the edges inside them.

    The edges of large components are only counted here (their solver reads them from the
    level-ordered matrix); those of the others are listed for their direct solvers.
    """
    n = S.shape[0]
    n_comp, members, ptr = _cycle_partition(S)
    first = ptr[:-1]
    sizes = np.diff(ptr)
    key = np.arange(n, dtype=np.intp)
    key[members] = np.repeat(members[first], sizes)
    comp_of_key = np.full(n, -1, dtype=np.int64)
    comp_of_key[members[first]] = np.arange(first.size)

    node_comp = np.full(n, -1, dtype=np.int32 if first.size < 2**31 else np.int64)
    node_comp[members] = np.repeat(np.arange(first.size), sizes)
    scan = 2 * members.size > n  # mostly cycle members: read every row in order
    if scan:
        pos = slice(None)
        entry_row = np.repeat(np.arange(n), np.diff(S.indptr))
        member_of_row = np.full(n, -1, dtype=np.int64)
        member_of_row[members] = np.arange(members.size)
        entry_member = member_of_row[entry_row]
    else:  # gather the members' rows (grouped by cycle)
        pos = _gather_ranges(S.indptr, members)
        entry_member = np.repeat(np.arange(members.size), np.diff(S.indptr)[members])
        entry_row = members[entry_member]
    cus = S.indices[pos]
    row_comp = node_comp[entry_row]
    inside = (node_comp[cus] == row_comp) & (row_comp >= 0)
    inside_member = entry_member[inside]
    share = S.data[pos][inside]
    direct = sizes[row_comp[inside]] <= LU_CYCLE_MAX
    intra_sup = entry_row[inside][direct]
    by_comp = np.argsort(node_comp[intra_sup], kind="stable") if scan else slice(None)
    return _Cycles(
        members=members,
        ptr=ptr,
        key=key,
        comp_of_key=comp_of_key,
        n_components=n_comp,
        member_inside=np.bincount(inside_member, minlength=members.size),
        member_kept=1.0 - np.bincount(inside_member, weights=share, minlength=members.size),
        intra_sup=intra_sup[by_comp],
        intra_cus=cus[inside][direct][by_comp],
        intra_share=share[direct][by_comp],
        intra_comp=node_comp[intra_sup[by_comp]].astype(np.int64),
        inside_in=np.bincount(cus[inside], minlength=n),
    )


def _order_large_cycles(S: sp.csr_matrix, cycles: _Cycles) -> None:
    """Put the members of every iteratively solved cycle in feedback order (contiguous, with
    their feedback levels) and make the first member the cycle's key."""
    members, ptr = cycles.members, cycles.ptr
    cycles.feedback_level = np.full(S.shape[0], -1, dtype=np.int64)
    big = np.flatnonzero(np.diff(ptr) > LU_CYCLE_MAX).tolist()
    if not big:
        return
    # suppliers outside the cycle being ordered never count down to zero
    pending = np.full(S.shape[0], np.iinfo(np.int64).max // 2, dtype=np.int64)
    for j in big:
        a, b = int(ptr[j]), int(ptr[j + 1])
        nodes = members[a:b]
        pending[nodes] = cycles.inside_in[nodes]
        levels = feedback_levels(S.indptr, S.indices, pending, nodes)
        cycles.comp_of_key[nodes[0]] = -1
        nodes = np.concatenate(levels)
        members[a:b] = nodes
        cycles.key[nodes] = nodes[0]
        cycles.comp_of_key[nodes[0]] = j
        cycles.feedback_level[nodes] = np.repeat(np.arange(len(levels)), [v.size for v in levels])


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


def _condense(
    S: sp.csr_matrix, levels: list[tuple[np.ndarray, int]], pending: np.ndarray
) -> _Cycles:
    """Continue a stalled peeling on the condensation; returns the cycles (global ids).

    The nodes left (cycle members and everything downstream of a cycle) form a closed
    sub-network: its strongly connected components are found, closed ones are rejected,
    the members of large ones are put in feedback order, and the peeling continues with
    every cycle as one unit.  ``levels`` is extended in place.
    """
    n = S.shape[0]
    rest = np.flatnonzero(pending)  # every supplier of these nodes is in ``rest`` too
    local = np.full(n, -1, dtype=S.indices.dtype)
    local[rest] = np.arange(rest.size, dtype=S.indices.dtype)
    sub = S[rest]
    sub = sp.csr_matrix((sub.data, local[sub.indices], sub.indptr), shape=(rest.size,) * 2)
    sub.has_canonical_format = True  # a monotone relabelling keeps rows sorted
    cycles = _find_cycles(sub)
    _closed_cycle_check(cycles, labels=rest)
    _order_large_cycles(sub, cycles)
    members, ptr = cycles.members, cycles.ptr
    heads = members[ptr[:-1]]
    pending = pending[rest]
    comp_pending = np.add.reduceat(pending[members], ptr[:-1]) if members.size else pending[:0]
    if members.size:
        comp_pending -= np.add.reduceat(cycles.member_inside, ptr[:-1])
    pending[members] = -1  # members are released through their cycle's key
    pending[heads] = comp_pending
    n_phase1 = len(levels)
    done = _peel(sub.indptr, sub.indices, pending, heads[comp_pending == 0], cycles, levels)
    if done != rest.size:  # pragma: no cover - impossible for a condensation DAG
        raise RuntimeError("condensation is not acyclic")
    for k in range(n_phase1, len(levels)):
        nodes, n_single = levels[k]
        levels[k] = (rest[nodes], n_single)
    feedback_level = np.full(n, -1, dtype=np.int64)
    feedback_level[rest] = cycles.feedback_level
    cycles.feedback_level = feedback_level
    cycles.members = rest[members]
    cycles.intra_sup = rest[cycles.intra_sup]
    cycles.intra_cus = rest[cycles.intra_cus]
    cycles.n_components += n - rest.size  # every peeled node is a component of its own
    return cycles


def _reject_closed_sets(S: sp.csr_matrix, nodes: np.ndarray) -> None:
    """Raise ``ClosedCycleError`` if some of ``nodes`` pass on 100 % among themselves.

    Such a closed set is a strongly connected component of the suppliers whose shares sum
    to 1 (within ``_CLOSED_TOL``) with no edge leaving it, so only those suppliers are
    searched: none at all when every supplier keeps or sells something outside.
    """
    out = np.asarray(S @ np.ones(S.shape[1])).ravel()
    tight = nodes[out[nodes] >= 1.0 - _CLOSED_TOL]
    if not tight.size:
        return
    local = np.full(S.shape[0], -1, dtype=np.int64)
    local[tight] = np.arange(tight.size)
    pos = _gather_ranges(S.indptr, tight)
    row = np.repeat(np.arange(tight.size), np.diff(S.indptr)[tight])
    cus = local[S.indices[pos]]
    inner = cus >= 0
    sub = sp.csr_matrix(
        (np.ones(int(inner.sum())), (row[inner], cus[inner])), shape=(tight.size,) * 2
    )
    n_comp, labels = connected_components(sub, directed=True, connection="strong")
    leaves = np.where(inner, labels[np.maximum(cus, 0)], -1) != labels[row]
    open_comp = np.bincount(labels[row[leaves]], minlength=n_comp) > 0
    cyclic = (np.bincount(labels, minlength=n_comp) > 1) | (
        np.bincount(labels, weights=sub.diagonal() != 0, minlength=n_comp) > 0
    )
    closed = np.flatnonzero(cyclic & ~open_comp)
    if closed.size:
        members = np.sort(tight[labels == closed[0]])
        raise ClosedCycleError(
            f"supplier cycle of {members.size:,} nodes through node indices "
            f"{members[:10].tolist()} allocates all of its emissions inside the cycle (no "
            "leak); the system has no finite solution",
            nodes=members,
        )


def _closed_cycle_check(cycles: _Cycles, labels: np.ndarray | None = None) -> None:
    """Reject cycles whose members pass on 100 % of their total inside the cycle.

    For an irreducible non-negative ``M_cc`` with column sums ≤ 1 the spectral radius is below
    1 exactly when at least one column sums to less than 1 (a leak), i.e. when a column of
    ``I - M_cc`` sums to more than 0.  This holds for a cycle of any size, so a closed cycle
    is named before any solve, also when it is one giant component.  ``labels`` maps the
    node ids of ``cycles`` to the node indices named in the message.
    """
    members, ptr = cycles.members, cycles.ptr
    n_comp = ptr.size - 1
    leaky = np.bincount(
        np.repeat(np.arange(n_comp), np.diff(ptr)),
        weights=cycles.member_kept > _CLOSED_TOL,
        minlength=n_comp,
    )
    bad = np.flatnonzero(leaky == 0)
    if bad.size:
        j = int(bad[0])
        nodes = members[ptr[j] : ptr[j + 1]]
        if labels is not None:
            nodes = labels[nodes]
        nodes = np.sort(nodes)
        raise ClosedCycleError(
            f"supplier cycle of {nodes.size:,} nodes through node indices "
            f"{nodes[:10].tolist()} allocates all of its emissions inside the cycle (no leak); "
            "the system has no finite solution",
            nodes=nodes,
        )


def _small_cycle_inverses(
    cycles: _Cycles, head_pos: np.ndarray, position: np.ndarray, small: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Dense inverses of ``I - M_cc`` for the small cycles, as (rows, cols, values) in level
    order, batched by cycle size."""
    ptr = cycles.ptr
    sizes = np.diff(ptr)
    n_comp = sizes.size
    comp = cycles.intra_comp  # only edges of small cycles are listed
    entry_order = np.argsort(sizes[comp], kind="stable")
    entry_size = sizes[comp[entry_order]]
    comp_o = comp[entry_order]
    row = position[cycles.intra_cus[entry_order]] - head_pos[comp_o]  # customer ↔ supplier
    col = position[cycles.intra_sup[entry_order]] - head_pos[comp_o]
    share = cycles.intra_share[entry_order]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for s in np.unique(sizes[small]).tolist():
        comps = np.flatnonzero(small & (sizes == s))
        slot = np.full(n_comp, -1, dtype=np.int64)
        slot[comps] = np.arange(comps.size)
        lo, hi = np.searchsorted(entry_size, [s, s + 1])
        system = np.zeros((comps.size, s, s))
        diag = np.arange(s)
        system[:, diag, diag] = 1.0
        system[slot[comp_o[lo:hi]], row[lo:hi], col[lo:hi]] -= share[lo:hi]
        try:
            inverse = np.linalg.inv(system)
        except np.linalg.LinAlgError as exc:  # exactly singular
            nodes = cycles.members[ptr[comps[0]] : ptr[comps[0]] + s]
            raise ClosedCycleError(
                f"a supplier cycle of {s} nodes has no leak (node indices "
                f"{np.sort(nodes)[:10].tolist()})",
                nodes=nodes,
            ) from exc
        base = head_pos[comps][:, None, None]
        rows.append(np.broadcast_to(base + diag[:, None], system.shape).ravel())
        cols.append(np.broadcast_to(base + diag[None, :], system.shape).ravel())
        vals.append(inverse.ravel())
    return rows, cols, vals


def _medium_cycle_lus(
    cycles: _Cycles, position: np.ndarray, bounds: np.ndarray, medium: np.ndarray
) -> dict[int, list[tuple[np.ndarray, object]]]:
    """One sparse LU per level of the block-diagonal system of its medium-sized cycles."""
    ptr, comp = cycles.ptr, cycles.intra_comp
    head_pos = position[cycles.members[ptr[medium]]]
    level_of_comp = np.searchsorted(bounds, head_pos, side="right") - 1
    local = np.full(position.size, -1, dtype=np.int64)
    lus: dict[int, list[tuple[np.ndarray, object]]] = {}
    for lvl in np.unique(level_of_comp).tolist():
        comps = medium[level_of_comp == lvl]
        nodes = cycles.members[_gather_ranges(ptr, comps)]
        local[nodes] = np.arange(nodes.size)
        lo, hi = np.searchsorted(comp, comps), np.searchsorted(comp, comps, side="right")
        sel = np.repeat(lo - (np.cumsum(hi - lo) - (hi - lo)), hi - lo)
        sel += np.arange(sel.size)
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
                f"supplier cycle through node indices {np.sort(nodes)[:10].tolist()} has no leak",
                nodes=nodes,
            ) from exc
        lus[lvl] = [(position[nodes].astype(np.int64), lu)]
    return lus


def _cycle_solvers(
    cycles: _Cycles, position: np.ndarray, bounds: np.ndarray, permuted: sp.csr_matrix
) -> tuple[
    sp.csr_matrix, dict[int, list[tuple[np.ndarray, object]]], dict[int, list[LargeComponent]]
]:
    """Solvers of ``I - M_cc`` per cycle: dense inverses of the small ones (one sparse matrix
    in level order, with identity rows for the others), sparse LUs of the medium ones and
    iterative solvers of the large ones, grouped by level."""
    n = permuted.shape[0]
    ptr = cycles.ptr
    sizes = np.diff(ptr)
    head_pos = position[cycles.members[ptr[:-1]]].astype(np.int64)  # first member's position
    small = sizes <= DENSE_CYCLE_MAX
    rows, cols, vals = _small_cycle_inverses(cycles, head_pos, position, small)
    not_small = cycles.members[_gather_ranges(ptr, np.flatnonzero(~small))]
    rows.append(position[not_small])  # identity rows: another solver replaces them
    cols.append(position[not_small])
    vals.append(np.ones(not_small.size))
    inverse = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    medium = np.flatnonzero(~small & (sizes <= LU_CYCLE_MAX))
    lus = _medium_cycle_lus(cycles, position, bounds, medium) if medium.size else {}

    large: dict[int, list[LargeComponent]] = {}
    for j in np.flatnonzero(sizes > LU_CYCLE_MAX).tolist():
        start, m = int(head_pos[j]), int(sizes[j])
        nodes = cycles.members[ptr[j] : ptr[j + 1]]  # in feedback order
        inner_levels = cycles.feedback_level[nodes]
        inner_bounds = np.concatenate([[0], np.flatnonzero(np.diff(inner_levels)) + 1, [m]])
        comp = build_component(
            permuted.indptr, permuted.indices, permuted.data, start, inner_bounds, nodes
        )
        lvl = int(np.searchsorted(bounds, start, side="right")) - 1
        large.setdefault(lvl, []).append(comp)
    return inverse, lus, large


def _level_order(
    levels: list[tuple[np.ndarray, int]], n: int, idx_dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Order, position and level bounds of the nodes, and where each level's cycles start."""
    sizes = np.fromiter((lv[0].size for lv in levels), dtype=np.int64, count=len(levels))
    bounds = np.zeros(sizes.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=bounds[1:])
    order = np.concatenate([lv[0] for lv in levels]) if n else np.empty(0, dtype=idx_dtype)
    order = order.astype(idx_dtype, copy=False)
    position = np.empty(n, dtype=idx_dtype)
    position[order] = np.arange(n, dtype=idx_dtype)
    cyc_start = [int(bounds[k]) + lv[1] for k, lv in enumerate(levels)]
    return order, position, bounds, cyc_start


def _permute(S: sp.csr_matrix, order: np.ndarray, position: np.ndarray) -> sp.csr_matrix:
    """``P S Pᵀ``: one row gather in level order, then the columns relabelled."""
    rows = S[order]
    return sp.csr_matrix((rows.data, position[rows.indices], rows.indptr), shape=S.shape)


def _outer_pushes(
    permuted: sp.csr_matrix, bounds: np.ndarray, cyc_start: list[int]
) -> list[list[PushBlock]]:
    """Push blocks per level.  Rows outside cycles push all their edges, straight from the
    level-ordered matrix; rows of cycle members drop the edges inside their level (the
    cycle solvers use those), so only they are copied."""
    indptr, cols, data = permuted.indptr, permuted.indices, permuted.data
    starts = np.asarray(cyc_start, dtype=np.int64)
    lens = bounds[1:] - starts
    if lens.size:
        lens[-1] = 0  # the last level has no one to push to
    cyc_rows = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(int(lens.sum()))
    row_len = (indptr[cyc_rows + 1] - indptr[cyc_rows]).astype(np.int64)
    pos = _gather_ranges(indptr, cyc_rows)
    keep = cols[pos] >= np.repeat(np.repeat(bounds[1:], lens), row_len)
    kept_ptr = np.zeros(cyc_rows.size + 1, dtype=indptr.dtype)
    np.cumsum(np.bincount(np.repeat(np.arange(cyc_rows.size), row_len)[keep],
                          minlength=cyc_rows.size), out=kept_ptr[1:])  # fmt: skip
    kept_cols, kept_data = cols[pos[keep]], data[pos[keep]]
    offsets = np.cumsum(lens) - lens
    pushes: list[list[PushBlock]] = []
    for lvl in range(bounds.size - 2):
        a, b, c, off = int(bounds[lvl]), int(bounds[lvl + 1]), cyc_start[lvl], int(offsets[lvl])
        blocks = []
        if indptr[c] > indptr[a]:
            blocks.append(PushBlock(a, c, indptr[a : c + 1], cols, data))
        if c < b and kept_ptr[off + b - c] > kept_ptr[off]:
            blocks.append(PushBlock(c, b, kept_ptr[off : off + b - c + 1], kept_cols, kept_data))
        pushes.append(blocks)
    return pushes + [[]] if bounds.size > 1 else pushes


def _outer_steps(
    permuted: sp.csr_matrix,
    bounds: np.ndarray,
    cyc_start: list[int],
    inverse: sp.csr_matrix | None,
    lus: dict[int, list[tuple[np.ndarray, object]]],
    large: dict[int, list[LargeComponent]],
) -> list[_Level]:
    """One step per level: its cycle solvers and the push of its totals to later levels."""
    pushes = _outer_pushes(permuted, bounds, cyc_start)
    steps: list[_Level] = []
    for lvl, push in enumerate(pushes):
        a, b, c = int(bounds[lvl]), int(bounds[lvl + 1]), cyc_start[lvl]
        cycle_inverse = None
        if c < b and inverse is not None:
            ia, ib = int(inverse.indptr[c]), int(inverse.indptr[b])
            cycle_inverse = sp.csr_matrix(
                (
                    inverse.data[ia:ib],
                    inverse.indices[ia:ib] - inverse.indices.dtype.type(c),
                    inverse.indptr[c : b + 1] - inverse.indptr[c],
                ),
                shape=(b - c, b - c),
            )
        steps.append(_Level(a, c, b, push, cycle_inverse, lus.get(lvl, []), large.get(lvl, [])))
    return steps


def _one_block_plan(
    S: sp.csr_matrix, levels: list[tuple[np.ndarray, int]], pending: np.ndarray
) -> PropagationPlan:
    """The plan when the peeling stalled with most of the network left (see
    ``ONE_BLOCK_SHARE``): the peeled levels, then every other node in one iterated block."""
    n = S.shape[0]
    rest = np.flatnonzero(pending)
    _reject_closed_sets(S, rest)
    feedback = feedback_levels(S.indptr, S.indices, pending, rest)
    inner = np.zeros(len(feedback) + 1, dtype=np.int64)
    np.cumsum([lv.size for lv in feedback], out=inner[1:])
    levels.append((np.concatenate(feedback), 0))  # the block, all of it "cycle" rows
    del feedback
    order, position, bounds, cyc_start = _level_order(levels, n, S.indices.dtype)
    permuted = _permute(S, order, position)
    start = int(bounds[-2])
    block = build_component(
        permuted.indptr, permuted.indices, permuted.data, start, inner, order[start:]
    )
    block.description = "part of the network with supplier cycles"
    steps = _outer_steps(permuted, bounds, cyc_start, None, {}, {len(levels) - 1: [block]})
    return PropagationPlan(n, S, order, bounds, steps, permuted)


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
    pending = np.bincount(S.indices, minlength=n)  # in-degree: suppliers not yet processed
    levels: list[tuple[np.ndarray, int]] = []
    done = _peel(S.indptr, S.indices, pending, np.flatnonzero(pending == 0), None, levels)
    if n - done > max(ONE_BLOCK_SHARE * n, ONE_BLOCK_MIN):
        return _one_block_plan(S, levels, pending)
    cycles = _condense(S, levels, pending) if done < n else None
    order, position, bounds, cyc_start = _level_order(levels, n, S.indices.dtype)
    permuted = _permute(S, order, position)

    inverse = None
    lus: dict[int, list[tuple[np.ndarray, object]]] = {}
    large: dict[int, list[LargeComponent]] = {}
    if cycles is not None and cycles.members.size:
        inverse, lus, large = _cycle_solvers(cycles, position, bounds, permuted)
    steps = _outer_steps(permuted, bounds, cyc_start, inverse, lus, large)
    if cycles is None:
        components = (n, np.empty(0, dtype=np.int64), np.zeros(1, dtype=np.int64))
    else:
        components = (cycles.n_components, cycles.members, cycles.ptr)
    return PropagationPlan(n, S, order, bounds, steps, permuted, components)


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
    order, which is the same matrix with its nodes relabelled).  Large cycles are solved
    iteratively, each to a share of ``tol``; this final check covers them too.
    """
    e = plan._check_rhs(e)
    ep = e[plan.order]
    cycle_atol = plan._cycle_atol(ep, tol)
    x = plan._solve_permuted(ep.copy(), cycle_atol)
    denom = float(np.linalg.norm(ep)) or 1.0
    defect = plan._defect_permuted(x, ep)
    res = float(np.linalg.norm(defect)) / denom
    refinements = 0
    while res > tol and refinements < max_refinements:
        x += plan._solve_permuted(defect, cycle_atol)
        defect = plan._defect_permuted(x, ep)
        res = float(np.linalg.norm(defect)) / denom
        refinements += 1
    if not np.isfinite(res):
        raise ArithmeticError(
            "propagation gave totals that are not finite numbers: an emission or share is "
            "missing or not finite"
        )
    if res > tol:
        raise ArithmeticError(
            f"propagation did not reach relative residual {plain_number(tol)} "
            f"(reached {plain_number(res)})"
        )
    total = np.empty_like(x)
    total[plan.order] = x
    return total
