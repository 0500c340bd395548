"""Level sweeps and the iterative solve of large supplier cycles, without a factorisation.

A strongly connected component of the share matrix that is too large for a dense inverse
(one where trade points upstream at random distances can hold almost every node) is solved
by a regular splitting instead of a sparse LU, whose fill-in explodes on such components:

* **Feedback order.**  A vectorised Kahn peeling (:func:`feedback_levels`) that, whenever
  every node left still waits for a supplier, releases some of the nodes that wait for one
  supplier only: the starts of chains of such nodes, and one node on every cycle of nodes
  that wait for each other.  Edges that go forward in the resulting levels form ``L``; the
  rest (the feedback edges, a few per cent) form ``N``, so ``I - M_cc = (I - L) - N``.
* **Sweep.**  ``(I - L)`` is triangular in that order and is solved level by level with one
  sparse "push" product per level, like the acyclic part of the network (:class:`PushBlock`).
* **Iteration.**  ``L, N ≥ 0`` and ``ρ(M_cc) < 1`` make ``(I - L) - N`` a regular splitting
  of a non-singular M-matrix, so ``T ← (I - L)⁻¹ (e + N T)`` converges for every order; its
  residual is ``N (T_k+1 - T_k)``, which lives only on the rows that receive feedback edges.
  All right-hand side columns iterate together.  When the contraction is poor (near-closed
  cycles) the same splitting preconditions a column-wise BiCGSTAB on that small set of rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

try:  # the compiled kernels accumulate y += A x in place, with no output allocation per level
    from scipy.sparse._sparsetools import csc_matvec as _csc_matvec
    from scipy.sparse._sparsetools import csc_matvecs as _csc_matvecs
except ImportError:  # pragma: no cover - fall back to the public (allocating) product
    _csc_matvec = _csc_matvecs = None

__all__ = [
    "LargeComponent",
    "PushBlock",
    "build_component",
    "build_push_blocks",
    "feedback_levels",
    "sweep",
]

#: stationary sweeps before the solve checks whether BiCGSTAB would be faster.
STATIONARY_PROBE = 3

#: switch to BiCGSTAB when one stationary sweep shrinks the residual by less than this.
SLOW_CONTRACTION = 0.35

#: upper bounds on the sweeps of one component solve: stationary, and in total.
MAX_STATIONARY = 60
MAX_SWEEPS = 600


def gather_ranges(indptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
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


def unique_stamp(values: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Distinct values without sorting: keep the one position that wins a scatter."""
    idx = np.arange(values.size)
    scratch[values] = idx
    return values[scratch[values] == idx]


def plain_number(value: float) -> str:
    """A small positive number written out in decimals (messages avoid e-notation)."""
    if not math.isfinite(value):
        return "not finite"
    if value == 0:
        return "0"
    if value >= 1:
        return f"{value:,.2f}"
    return f"{value:.{1 - math.floor(math.log10(value))}f}"


@dataclass
class PushBlock:
    """One level's contributions to later rows: ``x[indices] += data · x[start:stop]``.

    A CSC view of the level's rows of ``S`` (row ``k`` of ``S`` is column ``k`` here), sharing
    the arrays of the whole matrix: ``indptr`` holds absolute offsets into ``indices`` and
    ``data``, whose row numbers are positions in the solution vector.
    """

    start: int
    stop: int
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    def apply(self, x: np.ndarray) -> None:
        """Accumulate into ``x`` in place (C-contiguous, 1-D or rows × columns)."""
        n_col = self.stop - self.start
        if _csc_matvec is None:  # pragma: no cover - scipy without the compiled kernels
            ptr = self.indptr - self.indptr[0]
            lo, hi = int(self.indptr[0]), int(self.indptr[-1])
            block = sp.csc_matrix(
                (self.data[lo:hi], self.indices[lo:hi], ptr), shape=(x.shape[0], n_col)
            )
            x += block @ x[self.start : self.stop]
        elif x.ndim == 1:
            _csc_matvec(x.shape[0], n_col, self.indptr, self.indices, self.data,
                        x[self.start : self.stop], x)  # fmt: skip
        else:
            _csc_matvecs(x.shape[0], n_col, x.shape[1], self.indptr, self.indices, self.data,
                         x[self.start : self.stop].ravel(), x.reshape(-1))  # fmt: skip


def build_push_blocks(
    indptr: np.ndarray,
    cols: np.ndarray,
    data: np.ndarray,
    bounds: np.ndarray,
    keep: np.ndarray | None = None,
) -> list[PushBlock | None]:
    """Push blocks per level of a CSR matrix whose rows are in level order.

    ``bounds[L]:bounds[L + 1]`` are the rows of level ``L``; ``keep`` selects the entries
    that are pushed (the others are left to a cycle solver or to the feedback part).
    """
    if keep is not None:
        kept_before = np.zeros(keep.size + 1, dtype=np.int64)
        np.cumsum(keep, out=kept_before[1:])
        indptr, cols, data = kept_before[indptr], cols[keep], data[keep]
    index_dtype = np.int32 if max(indptr[-1], bounds[-1]) < 2**31 - 1 else np.int64
    indptr = indptr.astype(index_dtype, copy=False)
    cols = cols.astype(index_dtype, copy=False)
    data = np.ascontiguousarray(data, dtype=np.float64)
    blocks: list[PushBlock | None] = []
    for lvl in range(bounds.size - 1):
        a, b = int(bounds[lvl]), int(bounds[lvl + 1])
        if indptr[b] == indptr[a]:
            blocks.append(None)
        else:
            blocks.append(PushBlock(a, b, indptr[a : b + 1], cols, data))
    return blocks


def sweep(x: np.ndarray, blocks: Sequence[PushBlock | None]) -> np.ndarray:
    """Solve ``(I - L) y = x`` in place for a DAG ``L`` given as push blocks in level order."""
    for block in blocks:
        if block is not None:
            block.apply(x)
    return x


def feedback_levels(
    indptr: np.ndarray, indices: np.ndarray, pending: np.ndarray, nodes: np.ndarray
) -> list[np.ndarray]:
    """Levels of a Kahn peeling of ``nodes`` (CSR rows: suppliers → customers) that never stalls.

    ``pending[k]`` counts the suppliers of ``k`` among ``nodes`` (all its unplaced ones).
    Whenever no node is free, the peeling releases the nodes that wait for one supplier only,
    except those whose pending supplier waits for one supplier too: releasing the start of a
    chain of waiting nodes unblocks the chain, while releasing its middle would turn an
    ordinary forward edge into a feedback edge.  Edges from a released node's pending
    suppliers point backwards: the feedback edges.

    Each node's state is one integer, ``(sum of its pending suppliers' ids) · 2^shift + their
    number``: one scatter per round updates both, and a node that waits for one supplier
    names it (the sum may wrap around; the arithmetic stays exact modulo 2⁶⁴).
    """
    n = pending.size
    shift = max(1, int(pending[nodes].max(initial=0)).bit_length())
    count_mask = (1 << shift) - 1
    never = np.int64(1 << 62)  # state of placed nodes and of nodes outside: never reaches 0
    with np.errstate(over="ignore"):  # what each edge takes off its customer's state
        take = (np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr)) << shift) + 1
    scratch = np.empty(n, dtype=np.intp)
    placed = np.ones(n, dtype=bool)
    placed[nodes] = False
    state = _initial_state(indptr, indices, nodes, placed, take, shift)
    state[placed] = never
    released = nodes[state[nodes] == 0]
    remaining = nodes
    levels: list[np.ndarray] = []
    done = 0
    while True:
        while released.size:
            levels.append(released)
            placed[released] = True
            done += released.size
            pos = gather_ranges(indptr, released)
            keys = indices[pos]
            np.subtract.at(state, keys, take[pos])
            released = unique_stamp(keys[state[keys] == 0], scratch)
        if done >= nodes.size:
            return levels
        remaining = remaining[~placed[remaining]]
        waiting = state[remaining] & count_mask
        released = remaining[waiting == waiting.min()]
        if waiting.min() == 1:
            released = _chain_starts(released, state[released] >> shift, scratch)
        state[released] = never


def _initial_state(
    indptr: np.ndarray,
    indices: np.ndarray,
    nodes: np.ndarray,
    placed: np.ndarray,
    take: np.ndarray,
    shift: int,
) -> np.ndarray:
    """Per node: (sum of the ids of its suppliers among ``nodes``) · 2^shift + their number."""
    n = placed.size
    if nodes.size * 2 > n:  # most rows: count them all, then take the others off
        suppliers, sign = np.flatnonzero(placed), -1
        state = _supplier_sums(indptr, indices, np.arange(n), take)
    else:
        suppliers, sign, state = nodes, 1, np.zeros(n, dtype=np.int64)
    return state + sign * _supplier_sums(indptr, indices, suppliers, take)


def _supplier_sums(
    indptr: np.ndarray, indices: np.ndarray, suppliers: np.ndarray, take: np.ndarray
) -> np.ndarray:
    """``Σ take`` over the edges from ``suppliers``, per customer (exact, modulo 2⁶⁴)."""
    n = indptr.size - 1
    pos = gather_ranges(indptr, suppliers) if suppliers.size < n else slice(None)
    keys = indices[pos]
    low = take[pos] & ((1 << 26) - 1)  # two exact float64 sums instead of one scatter
    sums = np.bincount(keys, weights=low, minlength=n).astype(np.int64)
    high = np.bincount(keys, weights=take[pos] >> 26, minlength=n).astype(np.int64)
    with np.errstate(over="ignore"):
        return sums + (high << 26)


def _chain_starts(waiting: np.ndarray, supplier: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Which of the nodes ``waiting`` for one ``supplier`` each to release.

    Those whose supplier does not wait for one supplier itself (the starts of chains of
    waiting nodes), and on every cycle of nodes that wait for each other, the one with the
    smallest id (found by pointer doubling: after ``k`` rounds ``low`` is the smallest id on
    the next ``2^k`` steps of a node's chain).
    """
    k = waiting.size
    scratch[supplier] = -1
    scratch[waiting] = np.arange(k)
    nxt = scratch[supplier]
    start = nxt < 0
    nxt[start] = np.flatnonzero(start)  # a chain start points to itself
    low = waiting.copy()
    low[start] = -1  # and is always released
    for _ in range(max(1, k.bit_length())):
        low = np.minimum(low, low[nxt])
        nxt = nxt[nxt]
    on_cycle = np.zeros(k, dtype=bool)
    on_cycle[nxt] = True  # after |waiting| steps every chain has reached its cycle
    return waiting[start | (on_cycle & (low == waiting))]


def _col_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->j", a, b)


def _col_norm(a: np.ndarray) -> np.ndarray:
    return np.sqrt(_col_dot(a, a))


@dataclass
class LargeComponent:
    """Iterative solver of ``(I - M_cc) y = b`` for one large cycle (rows ``start … start + size``).

    ``blocks`` sweep ``(I - L)⁻¹`` (local rows); ``feedback`` holds ``N`` restricted to the
    rows ``feedback_rows`` that receive feedback edges (inflow form, |R| × size).
    """

    start: int
    size: int
    blocks: list[PushBlock | None]
    feedback_rows: np.ndarray
    feedback: sp.csr_matrix
    members: np.ndarray  # node indices in feedback order, for messages
    description: str = "supplier cycle"  # what the block is, for messages
    last_sweeps: int = 0

    @property
    def n_feedback_edges(self) -> int:
        return int(self.feedback.nnz)

    def _lift(self, b: np.ndarray, d: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``y = (I - L)⁻¹ (b + E d)``: the members' totals for feedback inflow ``d``.

        ``out`` (shaped like ``b``) is reused instead of a new array when given.
        """
        if out is None:
            w = b.copy()
        else:
            w = out
            np.copyto(w, b)
        w[self.feedback_rows] += d
        self.last_sweeps += 1
        sweep(w if w.shape[1] > 1 else w[:, 0], self.blocks)
        return w

    def _apply(self, v: np.ndarray) -> np.ndarray:
        """``(I - K) v`` with ``K v = N (I - L)⁻¹ E v`` (the feedback operator on rows R)."""
        return v - self.feedback @ self._lift(np.zeros((self.size, v.shape[1])), v)

    def solve(self, rhs: np.ndarray, atol: np.ndarray) -> np.ndarray:
        """Members' totals for inflow ``rhs`` (size, or size × columns) to residual ``atol``.

        ``atol`` is the absolute 2-norm residual allowed per column.  Raises
        ``ArithmeticError`` naming the residual reached when the work bound runs out.
        """
        b = rhs.reshape(self.size, -1)
        atol = np.broadcast_to(np.asarray(atol, dtype=float), (b.shape[1],))
        self.last_sweeps = 0
        d = np.zeros((self.feedback_rows.size, b.shape[1]))
        y, z, res = self._stationary(b, d, atol)
        if np.isfinite(res).all() and not np.all(res <= atol):  # not finite: the caller's
            y = self._krylov(b, d, z - d, atol)  # residual check reports it
        return y.reshape(rhs.shape)

    def _stationary(
        self, b: np.ndarray, d: np.ndarray, atol: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``d ← N (I - L)⁻¹ (b + E d)`` until the residual ``N y - d`` meets ``atol``.

        Updates ``d`` in place and returns the last ``y``, ``z = N y`` and the residual
        norms.  Stops early when a sweep shrinks the residual too little (BiCGSTAB follows).
        """
        previous = None
        y = np.empty_like(b)
        for sweep_no in range(MAX_STATIONARY):
            y = self._lift(b, d, out=y)
            z = self.feedback @ y
            res = _col_norm(z - d)
            if np.all(res <= atol) or not np.isfinite(res).all():
                break
            if previous is not None and sweep_no >= STATIONARY_PROBE:
                active = res > atol
                rate = float(np.max(res[active] / np.maximum(previous[active], 1e-300)))
                if rate > SLOW_CONTRACTION:
                    break
            previous = res
            d[...] = z
        return y, z, res

    def _krylov(self, b: np.ndarray, d: np.ndarray, r: np.ndarray, atol: np.ndarray) -> np.ndarray:
        """Column-wise BiCGSTAB on ``(I - K) d = N (I - L)⁻¹ b`` from the current ``d``.

        ``r`` is the residual of ``d``; converged columns leave the lockstep.
        """
        out = d.copy()
        active = np.flatnonzero(_col_norm(r) > atol)
        x, r = d[:, active], r[:, active]
        while True:
            x = self._bicgstab(x, r, atol[active])
            # the recursive residual drifts in floating point: check the true one
            r = self.feedback @ self._lift(b[:, active], x) - x
            res = _col_norm(r)
            done = res <= atol[active]
            out[:, active[done]] = x[:, done]
            if done.all():
                return self._lift(b, out)
            active, x, r = active[~done], x[:, ~done], r[:, ~done]
            if self.last_sweeps >= MAX_SWEEPS:
                break
        scale = _col_norm(b[:, active])
        worst = float(np.max(res[~done] / np.where(scale > 0, scale, 1.0)))
        raise ArithmeticError(
            f"the iterative solve of a {self.description} of {self.size:,} nodes (node indices "
            f"{np.sort(self.members)[:10].tolist()}) stopped at relative residual "
            f"{plain_number(worst)} after {self.last_sweeps} sweeps; suppliers in it pass on "
            "almost all of their emissions around a cycle"
        )

    def _bicgstab(self, x: np.ndarray, r: np.ndarray, atol: np.ndarray) -> np.ndarray:
        """BiCGSTAB iterations (columns in lockstep) until each column meets ``atol``."""
        x = x.copy()
        r_hat = r.copy()
        rho_old = np.ones(r.shape[1])
        alpha, omega = rho_old.copy(), rho_old.copy()
        p = np.zeros_like(r)
        v = np.zeros_like(r)
        while self.last_sweeps + 2 <= MAX_SWEEPS and not np.all(_col_norm(r) <= atol):
            rho = _col_dot(r_hat, r)
            with np.errstate(divide="ignore", invalid="ignore"):
                beta = (rho / rho_old) * (alpha / omega)
                broken = ~np.isfinite(beta) | (rho == 0)
                if broken.any():  # restart those columns from their current residual
                    r_hat[:, broken] = r[:, broken]
                    rho[broken] = _col_dot(r[:, broken], r[:, broken])
                    beta[broken] = 0.0
                p = r + beta * (p - omega * v)
                v = self._apply(p)
                alpha = rho / _col_dot(r_hat, v)
                alpha[~np.isfinite(alpha)] = 0.0
                s = r - alpha * v
                t = self._apply(s)
                omega = _col_dot(t, s) / _col_dot(t, t)
                omega[~np.isfinite(omega)] = 0.0
            x += alpha * p + omega * s
            r = s - omega * t
            rho_old = np.where(rho == 0, 1.0, rho)
            omega = np.where(omega == 0, 1.0, omega)
        return x


def build_component(
    indptr: np.ndarray,
    cols: np.ndarray,
    data: np.ndarray,
    start: int,
    inner_bounds: np.ndarray,
    members: np.ndarray,
) -> LargeComponent:
    """Split one large cycle (rows ``start …`` of a level-ordered CSR) into ``L`` and ``N``.

    The rows of the component are its members in feedback order; ``inner_bounds`` are the
    level boundaries of that order (relative to ``start``).  Entries leaving the component
    are ignored here (the outer schedule pushes them once the component is solved).
    """
    m = int(inner_bounds[-1])
    ptr = indptr[start : start + m + 1]
    pa, pb = int(ptr[0]), int(ptr[-1])
    local_ptr = (ptr - pa).astype(np.int64)
    c = cols[pa:pb] - cols.dtype.type(start)  # local customer (outside: < 0 or >= m)
    d = data[pa:pb]
    # members are in level order, so an edge goes forward iff its customer lies beyond the
    # end of its supplier's level
    level_end = np.repeat(inner_bounds[1:], np.diff(inner_bounds)).astype(c.dtype)
    entry_end = np.repeat(level_end, np.diff(local_ptr))
    forward = (c >= entry_end) & (c < m)
    back = (c >= 0) & (c < entry_end)
    blocks = build_push_blocks(local_ptr, c, d, inner_bounds, keep=forward)
    back_at = np.flatnonzero(back)
    back_row = np.searchsorted(local_ptr, back_at, side="right") - 1
    fb_rows, fb_local = np.unique(c[back_at], return_inverse=True)
    feedback = sp.csr_matrix((d[back_at], (fb_local, back_row)), shape=(fb_rows.size, m))
    return LargeComponent(
        start=start,
        size=m,
        blocks=blocks,
        feedback_rows=fb_rows,
        feedback=feedback,
        members=members,
    )
