"""Running a real RQ worker process the way an operator would: `supplychain worker --burst`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_burst_worker(database_url: str, redis_url: str, instance: Path) -> None:
    """Process everything queued (and due) then exit; fail loudly with the worker's stderr."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SUPPLYCHAIN_INSTANCE": str(instance),
    }
    done = subprocess.run(
        [sys.executable, "-m", "supplychain.cli", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
