"""Running a real RQ worker process the way an operator would: `supplychain worker`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_burst_worker(database_url: str, redis_url: str, instance: Path) -> str:
    """Process everything queued (and due) then exit; fail loudly with the worker's stderr.

    Returns what the worker printed (its start-up sweep reports dead jobs there).
    """
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
    return done.stdout


def start_worker(database_url: str, redis_url: str, instance: Path) -> subprocess.Popen:
    """A long-running `supplychain worker`, for tests that stop or kill it themselves.

    Its output goes to `worker.log` in the instance folder (a pipe nobody reads could fill up).
    """
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SUPPLYCHAIN_INSTANCE": str(instance),
    }
    instance.mkdir(parents=True, exist_ok=True)
    with (instance / "worker.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "supplychain.cli", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
