"""A real server (gunicorn via `supplychain serve`) on a free port, and a real Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.servers import free_port

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _cli(env: dict, *args: str, timeout: int = 300) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "supplychain.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Migrate, load the demo and serve it the way `make run` does."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["SUPPLYCHAIN_INSTANCE"] = str(instance)
    _cli(env, "db", "upgrade")
    logins = _cli(env, "demo", "--suppliers", "120", "--seed", "7")
    port = free_port()
    server_log = (instance / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "supplychain.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError as exc:
            if server.poll() is not None:
                raise RuntimeError((instance / "server.log").read_text()) from exc
            time.sleep(0.1)
    yield {"url": f"http://127.0.0.1:{port}", "logins": logins, "instance": Path(instance)}
    server.terminate()
    server.wait(timeout=20)
    server_log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
