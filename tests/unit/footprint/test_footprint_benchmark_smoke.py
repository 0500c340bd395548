"""Smoke test: the propagation benchmark runs in --quick mode and verifies its residuals."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import scipy.sparse as sp

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_propagation.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_propagation", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_benchmark_runs_and_converges(capfd):
    bench = load_bench()
    assert bench.main(["--quick", "--repeat", "1"]) == 0  # every case in its own process
    out = capfd.readouterr().out
    assert "propagation_solve_20k" in out and "networkx baseline" in out
    assert "propagation_giant_cycle_20k" in out
    assert "monte_carlo_giant_5k_50" in out and "matrix right-hand side solve" in out
    # every propagation case prints its ratio to one mat-vec and each figure its verdict
    assert len(re.findall(r"solve/spmv \d+x", out)) == 2
    assert len(re.findall(r"target [≤≥] [^:]+: (PASS|MISS)", out)) >= 9


def test_generated_network_has_leaky_shares_and_cycles():
    bench = load_bench()
    S, e, forward = bench.generate_network(5_000, 25_000)
    out = np.asarray(S.sum(axis=1)).ravel()
    assert out.max() <= 0.98 + 1e-12
    assert (~forward).sum() > 0  # cycle-closing edges exist
    n_comp, _ = sp.csgraph.connected_components(S, directed=True, connection="strong")
    assert n_comp < S.shape[0]
    assert e.min() > 0


def test_giant_cycle_network_is_one_component_with_permuted_labels():
    bench = load_bench()
    n = 20_000
    S, e = bench.generate_giant_cycle_network(n)
    out = np.asarray(S.sum(axis=1)).ravel()
    sells = out > 0
    np.testing.assert_allclose(out[sells], 0.9, rtol=1e-12)
    assert sells.sum() == n - 1  # everyone but the brand sells
    assert np.diff(S.indptr).max() <= 5
    _, labels = sp.csgraph.connected_components(S, directed=True, connection="strong")
    assert np.bincount(labels).max() > 0.8 * n
    coo = S.tocoo()
    assert 0.4 < np.mean(coo.row < coo.col) < 0.6  # labels say nothing about the direction
    assert e.min() > 0
