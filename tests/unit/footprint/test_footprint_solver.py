"""Tests of the numeric propagation core ``propagate`` against hand and dense solutions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from supplychain.footprint import ClosedCycleError, plan_propagation, propagate
from supplychain.footprint.solver import solve_with_plan


def shares(n: int, entries: dict[tuple[int, int], float]) -> sp.csr_matrix:
    rows, cols = zip(*entries.keys(), strict=True) if entries else ((), ())
    return sp.csr_matrix((list(entries.values()), (rows, cols)), shape=(n, n))


def test_three_tier_chain_by_hand():
    # 0 -> 1 -> 2 -> 3 (brand): T1 = e1 + 0.5 T0, T2 = e2 + 0.4 T1, T3 = e3 + 0.25 T2
    S = shares(4, {(0, 1): 0.5, (1, 2): 0.4, (2, 3): 0.25})
    e = np.array([100.0, 10.0, 20.0, 1.0])
    T = propagate(S, e)
    assert T[0] == pytest.approx(100.0)
    assert T[1] == pytest.approx(10 + 50)
    assert T[2] == pytest.approx(20 + 0.4 * 60)
    assert T[3] == pytest.approx(1 + 0.25 * 44)


def test_diamond_counts_each_allocated_path_once():
    # 0 supplies 1 and 2 (shares 0.3, 0.2); both supply brand 3
    S = shares(4, {(0, 1): 0.3, (0, 2): 0.2, (1, 3): 0.5, (2, 3): 1.0})
    e = np.array([1000.0, 0.0, 0.0, 0.0])
    T = propagate(S, e)
    assert T[1] == pytest.approx(300.0)
    assert T[2] == pytest.approx(200.0)
    # along each path once: 0.3*0.5*1000 + 0.2*1.0*1000, never the full 1000 twice
    assert T[3] == pytest.approx(150.0 + 200.0)
    assert T[3] <= e[0]


def test_two_node_cycle_matches_analytic_solution():
    s_ab, s_ba = 0.3, 0.6  # a supplies b with 0.3, b supplies a with 0.6
    e_a, e_b = 50.0, 80.0
    S = shares(2, {(0, 1): s_ab, (1, 0): s_ba})
    T = propagate(S, np.array([e_a, e_b]))
    assert T[0] == pytest.approx((e_a + s_ba * e_b) / (1 - s_ab * s_ba), rel=1e-12)
    assert T[1] == pytest.approx((e_b + s_ab * e_a) / (1 - s_ab * s_ba), rel=1e-12)


def test_self_loop_is_solved_as_a_cycle():
    S = shares(2, {(0, 0): 0.2, (0, 1): 0.5})
    T = propagate(S, np.array([80.0, 0.0]))
    assert T[0] == pytest.approx(100.0)
    assert T[1] == pytest.approx(50.0)


def test_matrix_right_hand_side_solves_each_column():
    S = shares(3, {(0, 1): 0.5, (1, 0): 0.5, (1, 2): 0.4})
    E = np.array([[1.0, 2.0], [3.0, 0.0], [0.0, 5.0]])
    T = propagate(S, E)
    for j in range(2):
        assert np.allclose(T[:, j], propagate(S, E[:, j]))


def test_closed_cycle_without_leak_is_rejected():
    S = shares(2, {(0, 1): 1.0, (1, 0): 1.0})
    with pytest.raises(ClosedCycleError):
        propagate(S, np.array([1.0, 1.0]))


def test_over_allocating_supplier_is_rejected():
    S = shares(3, {(0, 1): 0.7, (0, 2): 0.6})
    with pytest.raises(ValueError, match="more than 100 %"):
        propagate(S, np.ones(3))


def test_plan_reports_levels_and_cycles():
    S = shares(5, {(0, 1): 0.5, (1, 2): 0.2, (2, 1): 0.3, (2, 3): 0.4, (3, 4): 0.5})
    plan = plan_propagation(S)
    assert plan.n_cycles == 1
    assert sorted(plan.cyclic_components[0].tolist()) == [1, 2]
    assert plan.n_levels == 4  # {0}, {1,2}, {3}, {4}


@st.composite
def random_system(draw, max_nodes: int = 9):
    n = draw(st.integers(1, max_nodes))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n, unique=True
        )
    )
    weight = st.one_of(st.just(0.0), st.floats(0.01, 1.0))
    raw = draw(st.lists(weight, min_size=len(pairs), max_size=len(pairs)))
    leak = draw(st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n))
    S = np.zeros((n, n))
    for (k, i), w in zip(pairs, raw, strict=True):
        S[k, i] = w
    row = S.sum(axis=1)
    scale = np.where(row > 0, (1 - np.array(leak)) / np.where(row > 0, row, 1), 0)
    S = S * scale[:, None]
    e = np.array(draw(st.lists(st.floats(0.0, 1e6), min_size=n, max_size=n)))
    return S, e


@settings(max_examples=150, deadline=None)
@given(random_system())
def test_matches_dense_solve_on_random_graphs_with_cycles(system):
    S, e = system
    T = propagate(sp.csr_matrix(S), e)
    dense = np.linalg.solve(np.eye(len(e)) - S.T, e)
    assert np.allclose(T, dense, rtol=1e-8, atol=1e-6)


@settings(max_examples=80, deadline=None)
@given(random_system(), st.floats(1e-3, 1e3))
def test_scaling_inputs_scales_outputs(system, factor):
    S, e = system
    T = propagate(sp.csr_matrix(S), e)
    assert np.allclose(propagate(sp.csr_matrix(S), factor * e), factor * T, rtol=1e-9, atol=1e-6)


@settings(max_examples=80, deadline=None)
@given(random_system())
def test_conservation_allocated_never_exceeds_total(system):
    S, e = system
    T = propagate(sp.csr_matrix(S), e)
    allocated = S * T[:, None]  # A[k, i] = S[k, i] T[k]
    assert np.all(allocated.sum(axis=1) <= T * (1 + 1e-12) + 1e-9)
    # what leaves the network (leaks) plus nothing else balances the inputs
    leak = T - allocated.sum(axis=1)
    assert np.isclose(leak.sum(), e.sum(), rtol=1e-8, atol=1e-6)


@settings(max_examples=80, deadline=None)
@given(random_system(), st.integers(0, 8), st.integers(0, 8))
def test_zero_share_edge_changes_nothing(system, k, i):
    S, e = system
    n = len(e)
    k, i = k % n, i % n
    base = sp.csr_matrix(S)
    T = propagate(base, e)
    rows, cols = base.nonzero()
    if (k, i) in set(zip(rows.tolist(), cols.tolist(), strict=True)):
        return
    extended = sp.csr_matrix(
        (np.append(base.data, 0.0), (np.append(rows, k), np.append(cols, i))), shape=(n, n)
    )
    assert np.allclose(propagate(extended, e), T, rtol=1e-12, atol=0)


def dense_solution(S: sp.spmatrix, e: np.ndarray) -> np.ndarray:
    return np.linalg.solve(np.eye(S.shape[0]) - S.toarray().T, e)


def ring(n_ring: int, offset: int, share: float) -> dict[tuple[int, int], float]:
    return {(offset + k, offset + (k + 1) % n_ring): share for k in range(n_ring)}


def test_large_cycle_uses_sparse_lu_next_to_small_cycles():
    # a 100-node ring (above DENSE_CYCLE_MAX) and a 2-node cycle fed by the same source,
    # both selling to a brand; the ring also has a chord
    big = 100
    entries = ring(big, 1, 0.6)
    entries[(5, 40)] = 0.2
    entries[(0, 1)] = 0.3
    entries[(0, big + 1)] = 0.3
    entries[(big + 1, big + 2)] = 0.4
    entries[(big + 2, big + 1)] = 0.5
    brand = big + 3
    entries[(10, brand)] = 0.1
    entries[(big + 2, brand)] = 0.2
    S = shares(brand + 1, entries)
    e = np.random.default_rng(3).uniform(0, 100, brand + 1)
    plan = plan_propagation(S)
    assert sorted(np.diff(plan.cycle_ptr).tolist()) == [2, big]
    T = propagate(S, e)
    assert np.allclose(T, dense_solution(S, e), rtol=1e-10)


def test_large_closed_cycle_is_rejected():
    S = shares(80, ring(80, 0, 1.0))
    with pytest.raises(ClosedCycleError):
        propagate(S, np.ones(80))


def test_closed_cycle_downstream_of_a_leaky_one_is_rejected():
    entries = {(0, 1): 0.5, (1, 0): 0.5, (1, 2): 0.5, (2, 3): 1.0, (3, 2): 1.0}
    with pytest.raises(ClosedCycleError):
        propagate(shares(4, entries), np.ones(4))


def test_acyclic_plan_skips_cycle_detection():
    S = shares(5, {(0, 2): 0.5, (1, 2): 0.5, (2, 3): 0.9, (3, 4): 0.5, (0, 4): 0.25})
    plan = plan_propagation(S)
    assert plan.n_cycles == 0 and plan.n_components == 5
    assert [sorted(level.tolist()) for level in plan.levels] == [[0, 1], [2], [3], [4]]


def test_empty_and_edgeless_networks():
    assert propagate(sp.csr_matrix((0, 0)), np.zeros(0)).shape == (0,)
    e = np.array([1.0, 2.0, 3.0])
    assert np.array_equal(propagate(sp.csr_matrix((3, 3)), e), e)


def layered_network(n: int, m: int, seed: int, back_fraction: float = 0.02) -> sp.csr_matrix:
    """Random tiered network with some reversed edges (supplier cycles), shuffled ids."""
    rng = np.random.default_rng(seed)
    tier = np.sort(rng.integers(0, 8, n))
    sup = rng.integers(0, n, m)
    cus = rng.integers(0, n, m)
    keep = tier[sup] < tier[cus]
    sup, cus = sup[keep], cus[keep]
    back = rng.random(sup.size) < back_fraction  # trade in both directions: 2-cycles and more
    sup, cus = np.concatenate([sup, cus[back]]), np.concatenate([cus, sup[back]])
    perm = rng.permutation(n)
    S = sp.csr_matrix((rng.random(sup.size) + 0.05, (perm[sup], perm[cus])), shape=(n, n))
    out = np.asarray(S.sum(axis=1)).ravel()
    scale = rng.uniform(0.3, 0.95, n) / np.where(out > 0, out, 1)
    return sp.csr_matrix(sp.diags(scale) @ S)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_layered_network_matches_sparse_direct_solve(seed):
    from scipy.sparse.linalg import spsolve

    S = layered_network(6000, 30000, seed)
    e = np.random.default_rng(seed).lognormal(3, 1, (6000, 2))
    plan = plan_propagation(S)
    assert plan.n_cycles > 0
    # every edge runs from an earlier level to a later one, or stays inside one cycle
    level = np.empty(S.shape[0], dtype=int)
    for k, nodes in enumerate(plan.levels):
        level[nodes] = k
    comp = np.full(S.shape[0], -1)
    for j, members in enumerate(plan.cyclic_components):
        comp[members] = j
    coo = S.tocoo()
    same_cycle = (comp[coo.row] >= 0) & (comp[coo.row] == comp[coo.col])
    assert np.all((level[coo.row] < level[coo.col]) | same_cycle)
    assert np.all(level[coo.row][same_cycle] == level[coo.col][same_cycle])
    T = solve_with_plan(plan, e)
    A = (sp.eye(S.shape[0]) - S.T).tocsc()
    for j in range(e.shape[1]):
        assert np.allclose(T[:, j], spsolve(A, e[:, j]), rtol=1e-10)
    assert plan.residual(T, e) < 1e-12
    assert np.allclose(propagate(S, e[:, 0]), T[:, 0], rtol=1e-12)


@pytest.mark.parametrize("ratio", [1e-9, 1e9])
def test_peeling_count_paths_agree(monkeypatch, ratio):
    # force every round of the peeling through the scatter (tiny ratio) or the dense
    # ``np.bincount`` path (huge ratio); both must give the same levels and totals
    from supplychain.footprint import solver

    rng = np.random.default_rng(7)
    n = 300
    src, dst = rng.integers(0, n, 1500), rng.integers(0, n, 1500)
    keep = (src < dst) | (rng.random(src.size) < 0.05)  # mostly acyclic, some cycles
    S = sp.csr_matrix((rng.random(int(keep.sum())) + 0.1, (src[keep], dst[keep])), shape=(n, n))
    S.sum_duplicates()
    S = sp.diags(0.9 / np.maximum(S.sum(axis=1).A1, 1e-12)) @ S
    e = rng.random(n) * 100
    reference = plan_propagation(S)
    monkeypatch.setattr(solver, "_BINCOUNT_RATIO", ratio)
    plan = plan_propagation(S)
    assert plan.n_cycles > 0
    assert [sorted(a.tolist()) for a in plan.levels] == [
        sorted(a.tolist()) for a in reference.levels
    ]
    T = solve_with_plan(plan, e)
    np.testing.assert_allclose(T, np.linalg.solve(np.eye(n) - S.T.toarray(), e), rtol=1e-9)
