"""Smoke test: the scoring benchmark runs small and its per-supplier loop agrees with the engine.

The loop is the benchmark's baseline; if it drifted from the engine the printed ratio would
compare different work, so agreement is checked here (never the timings).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from scoring.engine import example_frame, score_suppliers
from scoring.methodology import load_methodology

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_scoring.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_scoring", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_small_benchmark_runs_and_agrees(capsys):
    bench = load_bench()
    assert bench.main(["--suppliers", "3000", "--baseline-sample", "500"]) == 0
    out = capsys.readouterr().out
    assert "scoring_3,000:" in out and "baseline per-supplier loop" in out
    assert "results agree: True" in out


def test_baseline_loop_matches_the_engine_supplier_by_supplier():
    bench = load_bench()
    method = load_methodology("1.0")
    frame = example_frame(800, seed=7)
    engine = score_suppliers(frame, method).suppliers
    loop = bench.baseline_loop(frame, bench.baseline_prepare(frame), method)
    assert (abs(loop["composite"] - engine["composite"]) <= 0.02).all()
    for column in ("maturity_level", "maturity_letter", "risk_level", "capability_level"):
        assert list(loop[column]) == list(engine[column]), column
    same_top = [
        [t["item"] for t in a] == [t["item"] for t in b]
        for a, b in zip(loop["top_items"], engine["top_items"], strict=True)
    ]
    assert sum(same_top) >= 0.98 * len(same_top)  # rounding (numpy vs Python) may differ
