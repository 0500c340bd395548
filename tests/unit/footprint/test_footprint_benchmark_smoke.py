"""Smoke test: the propagation benchmark runs in --quick mode and verifies its residual."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import scipy.sparse as sp

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_propagation.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_propagation", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_benchmark_runs_and_converges(capsys):
    bench = load_bench()
    assert bench.main(["--quick", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "propagation_solve_20k" in out and "networkx baseline" in out


def test_generated_network_has_leaky_shares_and_cycles():
    bench = load_bench()
    S, e, forward = bench.generate_network(5_000, 25_000)
    out = np.asarray(S.sum(axis=1)).ravel()
    assert out.max() <= 0.98 + 1e-12
    assert (~forward).sum() > 0  # cycle-closing edges exist
    n_comp, _ = sp.csgraph.connected_components(S, directed=True, connection="strong")
    assert n_comp < S.shape[0]
    assert e.min() > 0
