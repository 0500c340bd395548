"""The propagation solver on large supplier cycles: feedback order, iterative solve, errors.

A network where some trade points upstream at random distances is one giant strongly
connected component; the solver orders it, splits it into a triangular part and feedback
edges and iterates.  These tests compare with a sparse direct solve and check the errors.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import spsolve

from supplychain.footprint import (
    ClosedCycleError,
    iterative,
    plan_propagation,
    propagate,
    solver,
)
from supplychain.footprint.iterative import feedback_levels
from supplychain.footprint.solver import LU_CYCLE_MAX, solve_with_plan


def giant_cycle(
    n: int, seed: int, out_share: float = 0.9, wrap: bool = False, upstream: float = 0.02
) -> sp.csr_matrix:
    """5 customers per supplier, mostly downstream at distance 1..n/10, some upstream.

    ``wrap`` closes the order into a ring (every node sells, so every row sums to
    ``out_share``); labels are permuted.
    """
    rng = np.random.default_rng(seed)
    reach = max(2, n // 10)
    sup = np.repeat(np.arange(n if wrap else n - 1), 5)
    step = rng.integers(1, reach + 1, sup.size)
    step = np.where(rng.random(sup.size) < upstream, -step, step)
    cus = sup + step
    if wrap:
        cus %= n
    else:
        keep = (cus >= 0) & (cus < n) & (cus != sup)
        sup, cus = sup[keep], cus[keep]
    perm = rng.permutation(n)
    S = sp.csr_matrix((rng.random(sup.size) + 0.05, (perm[sup], perm[cus])), shape=(n, n))
    S.sum_duplicates()
    out = np.asarray(S.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags(np.where(out > 0, out_share / np.maximum(out, 1e-300), 0)) @ S)


def direct(S: sp.spmatrix, e: np.ndarray) -> np.ndarray:
    return spsolve((sp.eye(S.shape[0]) - S.T).tocsc(), e)


def largest_cycle(S: sp.spmatrix) -> int:
    _, labels = connected_components(S, directed=True, connection="strong")
    return int(np.bincount(labels).max())


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("one_block", [True, False])
def test_giant_cycle_matches_sparse_direct_solve(monkeypatch, seed, one_block):
    # both plans: everything left by the stalled peeling as one iterated block, or a solver
    # per strongly connected component
    monkeypatch.setattr(solver, "ONE_BLOCK_SHARE", 0.0 if one_block else 1.0)
    monkeypatch.setattr(solver, "ONE_BLOCK_MIN", 0)
    S = giant_cycle(4000, seed)
    assert largest_cycle(S) > LU_CYCLE_MAX
    e = np.random.default_rng(seed).lognormal(3, 1, S.shape[0])
    plan = plan_propagation(S)
    sizes = [comp.size for comp in plan.large_components]
    if one_block:  # the giant cycle and everything it sells to
        assert len(sizes) == 1 and sizes[0] >= largest_cycle(S)
        assert plan.components is None  # no search for cycles was needed
        assert plan.cycle_ptr.size > 1  # but the plan finds them when asked
    else:
        assert sizes and max(sizes) == largest_cycle(S)
    assert plan.n_feedback_edges > 0
    T = solve_with_plan(plan, e, tol=1e-12)
    np.testing.assert_allclose(T, direct(S, e), rtol=1e-9)
    assert plan.residual(T, e) <= 1e-12
    # the default tolerance: every total to about 1e-9 relative
    np.testing.assert_allclose(propagate(S, e), T, rtol=1e-7)


def test_giant_cycle_matrix_right_hand_side_solves_each_column_to_its_own_tolerance():
    S = giant_cycle(3000, 3)
    rng = np.random.default_rng(3)
    e = rng.lognormal(3, 1, S.shape[0])
    E = np.column_stack([e, 1e-6 * rng.random(e.size), np.zeros(e.size), 1e6 * e[::-1]])
    plan = plan_propagation(S)
    T = solve_with_plan(plan, E, tol=1e-10)
    assert T.shape == E.shape
    assert np.array_equal(T[:, 2], np.zeros(e.size))
    A = (sp.eye(S.shape[0]) - S.T).tocsc()
    for j in (0, 1, 3):
        col_residual = np.linalg.norm(A @ T[:, j] - E[:, j]) / np.linalg.norm(E[:, j])
        assert col_residual <= 1e-10  # small columns are not drowned by large ones
        np.testing.assert_allclose(T[:, j], spsolve(A, E[:, j]), rtol=1e-7)
    np.testing.assert_allclose(solve_with_plan(plan, e, tol=1e-10), T[:, 0], rtol=1e-8)


def test_mixed_network_of_dag_small_medium_and_giant_cycles():
    rng = np.random.default_rng(11)
    giant = giant_cycle(2500, 11).tocoo()
    g = giant.shape[0]
    ring = g + np.arange(120)  # a medium cycle (sparse LU)
    pairs = g + 120 + np.arange(40).reshape(20, 2)  # 20 two-node cycles (dense inverses)
    dag = g + 160 + np.arange(300)  # acyclic tiers up- and downstream of the cycles
    brand = g + 460
    edges = [
        (giant.row, giant.col, 0.8 * giant.data),
        (ring, np.roll(ring, -1), 0.5),
        (pairs[:, 0], pairs[:, 1], 0.3),
        (pairs[:, 1], pairs[:, 0], 0.4),
        (dag[:50], rng.integers(0, g, 50), 0.5),  # raw materials feed the giant cycle
        (rng.integers(0, g, 30), ring[:30], 0.05),  # which sells to the ring and the pairs
        (rng.integers(0, g, 40), pairs.ravel(), 0.05),
        (ring[:5], dag[50:55], 0.2),
        (pairs.ravel(), rng.choice(dag[55:250], 40), 0.3),
        (dag[50:], np.append(dag[51:], brand), 0.6),  # a chain of tiers up to the brand
    ]
    rows = np.concatenate([np.broadcast_to(r, np.shape(r)) for r, _, _ in edges])
    cols = np.concatenate([c for _, c, _ in edges])
    vals = np.concatenate([np.broadcast_to(v, np.shape(r)) for r, _, v in edges])
    n = brand + 1
    S = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    S.sum_duplicates()
    out = np.asarray(S.sum(axis=1)).ravel()
    S = sp.csr_matrix(sp.diags(np.where(out > 0.95, 0.95 / np.maximum(out, 1e-300), 1.0)) @ S)
    plan = plan_propagation(S)
    sizes = sorted(np.diff(plan.cycle_ptr).tolist())
    assert sizes.count(2) == 20 and 120 in sizes and sizes[-1] > LU_CYCLE_MAX
    assert [comp.size for comp in plan.large_components] == [sizes[-1]]
    E = np.column_stack([rng.lognormal(2, 1, n), rng.random(n)])
    T = solve_with_plan(plan, E, tol=1e-12)
    for j in range(2):
        np.testing.assert_allclose(T[:, j], direct(S, E[:, j]), rtol=1e-9)
    assert T[brand, 0] > E[brand, 0]  # emissions reach the brand through every kind of cycle


@pytest.fixture(params=[True, False], ids=["one block", "per cycle"])
def one_block(request, monkeypatch):
    """Both plans for stalled networks: one iterated block, or a solver per cycle."""
    monkeypatch.setattr(solver, "ONE_BLOCK_SHARE", 0.0 if request.param else 1.0)
    monkeypatch.setattr(solver, "ONE_BLOCK_MIN", 0)
    return request.param


def test_closed_cycle_fed_by_a_giant_cycle_is_named(one_block):
    S = giant_cycle(2000, 5).tolil()
    n = S.shape[0]
    S.resize((n + 3, n + 3))
    closed = [n, n + 1, n + 2]
    S[5, n] = 0.05  # the giant cycle sells into a 3-node cycle that passes on 100 %
    S[n, n + 1] = S[n + 1, n + 2] = S[n + 2, n] = 1.0
    with pytest.raises(ClosedCycleError) as info:
        propagate(S.tocsr(), np.ones(n + 3))
    assert info.value.nodes.tolist() == closed
    assert str(closed) in str(info.value)


def test_giant_cycle_that_passes_on_everything_is_named(one_block):
    S = giant_cycle(1500, 6, out_share=1.0, wrap=True)
    size = largest_cycle(S)  # a few nodes that no one sells to stay outside
    assert size > LU_CYCLE_MAX
    with pytest.raises(ClosedCycleError, match=f"{size:,} nodes") as info:
        plan_propagation(S)
    assert info.value.nodes.size == size


def test_near_closed_giant_cycle_converges(one_block):
    S = giant_cycle(3000, 7, out_share=0.999, wrap=True)
    e = np.random.default_rng(7).lognormal(3, 1, S.shape[0])
    T = propagate(S, e, tol=1e-10)
    np.testing.assert_allclose(T, direct(S, e), rtol=1e-7)


def test_near_closed_giant_cycle_out_of_budget_names_the_residual(monkeypatch, one_block):
    S = giant_cycle(3000, 7, out_share=0.999, wrap=True)
    size = plan_propagation(S).large_components[0].size  # the cycle, or the block around it
    assert size >= largest_cycle(S)
    monkeypatch.setattr(iterative, "MAX_SWEEPS", 6)
    with pytest.raises(ArithmeticError, match="stopped at relative residual") as info:
        propagate(S, np.ones(S.shape[0]))
    message = str(info.value)
    assert f" of {size:,} nodes" in message
    assert re.search(r"relative residual [\d.,]+ after \d+ sweeps", message)
    assert not re.search(r"\de[-+]?\d", message)  # no e-notation


def test_emissions_that_are_not_finite_fail_fast(one_block):
    S = giant_cycle(2000, 9)
    e = np.ones(S.shape[0])
    e[17] = np.nan
    plan = plan_propagation(S)
    with pytest.raises(ArithmeticError, match="not finite"):
        solve_with_plan(plan, e)
    assert plan.last_sweeps == 1  # no iterating on NaN


def test_feedback_order_of_a_ring_has_one_feedback_edge():
    m = 50
    S = sp.csr_matrix((np.full(m, 0.5), (np.arange(m), (np.arange(m) + 1) % m)), shape=(m, m))
    pending = np.bincount(S.indices, minlength=m)
    levels = feedback_levels(S.indptr, S.indices, pending, np.arange(m))
    level = np.empty(m, dtype=int)
    for k, nodes in enumerate(levels):
        level[nodes] = k
    assert sorted(np.concatenate(levels).tolist()) == list(range(m))
    coo = S.tocoo()
    assert int((level[coo.row] >= level[coo.col]).sum()) == 1


def test_feedback_order_of_a_dag_is_its_kahn_order():
    rng = np.random.default_rng(2)
    n = 400
    src, dst = rng.integers(0, n, 2000), rng.integers(0, n, 2000)
    keep = src < dst
    S = sp.csr_matrix((np.ones(int(keep.sum())), (src[keep], dst[keep])), shape=(n, n))
    pending = np.bincount(S.indices, minlength=n)
    levels = feedback_levels(S.indptr, S.indices, pending, np.arange(n))
    level = np.empty(n, dtype=int)
    for k, nodes in enumerate(levels):
        level[nodes] = k
    coo = S.tocoo()
    assert np.all(level[coo.row] < level[coo.col])  # no feedback edge at all


def test_iterative_solve_without_the_compiled_kernels(monkeypatch):
    S = giant_cycle(2000, 8)
    e = np.random.default_rng(8).random(S.shape[0])
    expected = propagate(S, e, tol=1e-12)
    monkeypatch.setattr(iterative, "_csc_matvec", None)
    np.testing.assert_allclose(propagate(S, e, tol=1e-12), expected, rtol=1e-10)


@st.composite
def leaking_to_the_brand(draw):
    """Suppliers that pass on 100 % of their totals, some of it to the brand (the last node).

    A ring through all suppliers makes them one strongly connected component.
    """
    m = draw(st.integers(LU_CYCLE_MAX + 1, 900))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    extra = rng.integers(0, m, (3 * m, 2))
    to_brand = np.flatnonzero(rng.random(m) < draw(st.floats(0.05, 0.5)))
    to_brand = to_brand if to_brand.size else np.array([0])
    rows = np.concatenate([np.arange(m), extra[:, 0], to_brand])
    cols = np.concatenate([(np.arange(m) + 1) % m, extra[:, 1], np.full(to_brand.size, m)])
    S = sp.csr_matrix((rng.random(rows.size) + 0.05, (rows, cols)), shape=(m + 1, m + 1))
    S.sum_duplicates()
    out = np.asarray(S.sum(axis=1)).ravel()
    S = sp.csr_matrix(sp.diags(np.where(out > 0, 1.0 / np.maximum(out, 1e-300), 0.0)) @ S)
    e = rng.lognormal(2, 1, m + 1)
    return S, e


@settings(max_examples=25, deadline=None)
@given(leaking_to_the_brand())
def test_conservation_the_brand_receives_everything(system):
    S, e = system
    plan = plan_propagation(S)
    assert plan.large_components  # the suppliers form one large cycle, solved iteratively
    T = solve_with_plan(plan, e)
    assert T[-1] == pytest.approx(e.sum(), rel=1e-8)
    allocated = np.asarray(S.multiply(T[:, None]).sum(axis=1)).ravel()
    np.testing.assert_allclose(allocated[:-1], T[:-1], rtol=1e-12)  # suppliers keep nothing
