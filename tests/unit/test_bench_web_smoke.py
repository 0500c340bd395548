"""Smoke run of the web load benchmark: it builds its instance, serves, loads and reports.

No timing is asserted (the machine is small and shared); only that every request succeeded and
that the figures are printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH = REPO_ROOT / "benchmarks" / "bench_web.py"
P95_LINE = re.compile(r"^(web_\w+): (\d+) requests, .* p95 (\d+) ms, .*errors (\d+)", re.M)


def test_bench_web_quick_runs_and_reports_p95_without_errors():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {m.group(1): m for m in P95_LINE.finditer(done.stdout)}
    for kind in ("web_portal_form_get", "web_portal_autosave", "web_trivial_flask"):
        assert kind in lines, done.stdout
        assert int(lines[kind].group(2)) > 0, done.stdout
        assert lines[kind].group(4) == "0", done.stdout
    assert "portal/trivial" in done.stdout
