"""Web load benchmark of the supplier portal under gunicorn, next to a trivial Flask endpoint.

Goal (design guide): under a concurrent load of 50 clients on loopback, supplier portal pages
and draft saves stay below 100 ms at p95 with gunicorn on this machine; requests/s are reported
next to a trivial Flask endpoint measured in the same run.

Standalone: `python benchmarks/bench_web.py [--clients 50] [--seconds 20] [--quick]`. It builds
a temporary instance (`supplychain db upgrade`, `supplychain demo --suppliers N`), launches a
dedicated campaign to one new supplier per client, serves it with `supplychain serve` (gunicorn,
as deployed) on a free loopback port, and drives it with closed-loop keep-alive clients: each
opens its own link, starts its response, then reads form pages of different sections and
autosaves its own draft (multipart POST with `X-Autosave: 1`, as portal.js sends it). A
two-line Flask app served by gunicorn with the same workers and threads is measured the same way.

It prints figures and ratios and asserts no timing (the machine is small and shared); it exits 1
only when a request failed (non-2xx answer, bad autosave reply or connection error).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

HOST = "127.0.0.1"
TARGET_P95_MS = 100.0
GUNICORN_THREADS = 4  # fixed in `supplychain serve` (gthread worker)
SOCKET_TIMEOUT_S = 30.0
MAX_REQUESTS_PER_CLIENT = 200_000  # hard bound on top of the time limit
SETUP_LIMIT_S = 300.0  # every client must have opened its link and started within this
WARMUP_REQUESTS = 3
BENCH_BRAND_SLUG = "bench-web-brand"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LOCK = re.compile(r'name="lock_version" value="(\d+)"')
DEMO_SEED = 7


# --- instance and data -------------------------------------------------------------------------


def server_env(instance: Path) -> dict[str, str]:
    """The environment of `make run` with the instance folder moved: SQLite and inline jobs."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["SUPPLYCHAIN_INSTANCE"] = str(instance)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    # Every simulated supplier connects from 127.0.0.1, so the per-address limit on opening
    # invitation links (meant for one client guessing tokens) would refuse most of them.
    env["RATELIMIT_ENABLED"] = "0"
    return env


def run_cli(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "supplychain.cli", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"supplychain {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def launch_bench_campaign(instance: Path, suppliers: int) -> tuple[list[str], list[str]]:
    """A brand of its own with one fresh supplier per client, and a running campaign to them.

    Returns the link paths (`/portal/i/<token>`) and the section keys of the questionnaire.
    """
    from questionnaires import campaigns, load_definition
    from questionnaires.publishing import install_shipped
    from supplychain.config import load_settings
    from supplychain.db import get_engine, unit_of_work
    from supplychain.models import Organization, OrgKind, SupplierRelationship

    settings = load_settings(
        instance_path=instance,
        database_url=f"sqlite:///{instance / 'supplychain.db'}",
        redis_url=None,
    )
    with unit_of_work(settings.database_url) as session:
        brand = Organization(
            slug=BENCH_BRAND_SLUG, kind=OrgKind.BRAND, name="Bench Web Brand", country="US"
        )
        session.add(brand)
        session.flush()
        for number in range(suppliers):
            supplier = Organization(
                slug=f"bench-sup-{number:04d}-{uuid.uuid4().hex[:6]}",
                kind=OrgKind.SUPPLIER,
                name=f"基准供应商 {number:04d} 有限公司",
                country="CN",
                default_currency="CNY",
            )
            session.add(supplier)
            session.flush()
            session.add(
                SupplierRelationship(
                    brand_id=brand.id,
                    supplier_id=supplier.id,
                    supplier_code=f"BW-{number:04d}",
                    contact_email=f"contact{number}@bench-supplier.example",
                    tier=1,
                )
            )
        session.flush()
        version = install_shipped(session)[0]
        campaign = campaigns.create_campaign(
            session,
            brand_id=brand.id,
            name="Web benchmark campaign",
            questionnaire_version=version,
            reporting_year=2025,
            deadline=date.today() + timedelta(days=30),
            supplier_filter=campaigns.SupplierFilter(),
        )
        result = campaigns.launch(session, settings, campaign, base_url=f"http://{HOST}")
        links = ["/portal/i/" + link.rsplit("/", 1)[-1] for link in result.links.values()]
        sections = [s.key for s in load_definition(version.definition).sections]
    get_engine(settings.database_url).dispose()
    if len(links) != suppliers:
        raise RuntimeError(f"campaign invited {len(links)} suppliers, expected {suppliers}")
    return links, sections


PING_APP = '''\
"""A trivial Flask endpoint: the floor any Flask view served by gunicorn stands on."""

from flask import Flask

app = Flask(__name__)


@app.get("/bench/ping")
def ping():
    return "pong"
'''


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    label: str
    process: subprocess.Popen
    port: int
    log: Path

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label} exited early:\n{self.log_tail()}")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.label} did not accept connections in {timeout:g} s")

    def connections_per_worker(self) -> list[int]:
        """Established client connections held by each gunicorn worker (Linux /proc; else [])."""
        try:
            inodes = set()
            for table in ("/proc/net/tcp", "/proc/net/tcp6"):
                with open(table) as handle:
                    for row in list(handle)[1:]:
                        cols = row.split()
                        if int(cols[1].rsplit(":", 1)[1], 16) == self.port and cols[3] == "01":
                            inodes.add(cols[9])
            workers = [
                int(pid)
                for task in Path(f"/proc/{self.process.pid}/task").iterdir()
                for pid in (task / "children").read_text().split()
            ]
            counts = []
            for pid in workers:
                links = (os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir())
                counts.append(sum(1 for link in links if link[8:-1] in inodes))
            return sorted(counts, reverse=True)
        except (OSError, ValueError, IndexError):
            return []

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM (gunicorn's graceful stop), then SIGKILL of its own process group."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=10)


def start_server(label: str, command: list[str], env: dict[str, str], port: int, log: Path):
    with log.open("wb") as handle:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,  # the access log goes to stdout, as deployed
            stderr=handle,
            start_new_session=True,
        )
    server = Server(label, process, port, log)
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


def portal_server(env: dict[str, str], folder: Path, workers: int) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "supplychain.cli", "serve", "--host", HOST]
    command += ["--port", str(port), "--workers", str(workers)]
    return start_server("supplychain serve", command, env, port, folder / "portal-server.log")


def trivial_server(env: dict[str, str], folder: Path, workers: int) -> Server:
    (folder / "bench_ping_app.py").write_text(PING_APP, encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{port}"]
    command += ["--workers", str(workers), "--threads", str(GUNICORN_THREADS)]
    command += ["--access-logfile", "-", "--chdir", str(folder), "bench_ping_app:app"]
    return start_server("trivial flask", command, env, port, folder / "trivial-server.log")


# --- clients -----------------------------------------------------------------------------------


class RequestFailed(RuntimeError):
    pass


@dataclass
class Sample:
    kind: str
    seconds: float
    ok: bool
    began: float


@dataclass
class Client:
    """One browser: a keep-alive connection and its own session cookie."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    reconnects: int = 0

    def __post_init__(self) -> None:
        self.conn = http.client.HTTPConnection(HOST, self.port, timeout=SOCKET_TIMEOUT_S)

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # gunicorn closes keep-alive connections idle for 2 s; reopen once.
                self.conn.close()
                self.reconnects += 1
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        if response.will_close:
            self.conn.close()
        return response.status, response.headers, data

    def close(self) -> None:
        self.conn.close()


def multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    """The body a browser's FormData gives, as portal.js autosaves it."""
    boundary = "----benchweb" + uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode("utf-8"), f"multipart/form-data; boundary={boundary}"


def autosave_fields(section: str, client: int, edit: int) -> dict[str, str]:
    """Every field of one page, with one answer changed per save (so each save writes)."""
    if section == "company_profile":
        return {
            "q.company_name": f"基准供应商 {client:04d} 有限公司 (rev {edit})",
            "q.country": "CN",
            "q.reporting_year": "2025",
            "q.organisational_boundary": "operational_control",
            "q.revenue.amount": "8000000.00",
            "q.revenue.currency": "CNY",
            "q.employees": str(100 + edit % 400),
            "q.sector_code_system": "naics",
            "q.sector_code": "332119",
        }
    if section == "governance":
        return {
            "q.board_oversight": "yes",
            "q.has_responsible_manager": "yes",
            "q.responsible_manager_name": f"王经理 {edit}, energy manager",
            "q.engages_own_suppliers": "no",
        }
    if section == "allocation":
        return {
            "q.allocation_method": "revenue_share",
            "q.allocation_share": str(5 + edit % 25),
            "q.allocation_basis": f"Sales to this customer were {1 + edit % 9}.2 M of 8 M CNY.",
            "q.allocation_uncertainty_pct": "10",
            "q.data_source_allocation": "finance_records",
        }
    raise ValueError(section)


AUTOSAVE_SECTIONS = ("company_profile", "governance", "allocation")


@dataclass
class PortalUser:
    number: int
    client: Client
    invitation_url: str
    csrf: str
    lock: int
    edits: int = 0


def open_portal_user(port: int, number: int, link: str, sections: list[str]) -> PortalUser:
    """Open the link, start the response, read a few pages (warm-up): what a supplier does."""
    client = Client(port)
    status, headers, _ = client.request("GET", link)
    location = headers.get("Location", "")
    if status != 302 or "/portal/invitations/" not in location:
        raise RequestFailed(f"opening {link[:24]}…: HTTP {status} to {location!r}")
    invitation_url = "/portal/invitations/" + location.split("/portal/invitations/", 1)[1]
    status, _, page = client.request("GET", invitation_url)
    match = CSRF.search(page.decode("utf-8", "replace"))
    if status != 200 or match is None:
        raise RequestFailed(f"invitation page: HTTP {status}, csrf token found: {bool(match)}")
    body, content_type = multipart({"csrf_token": match.group(1)})
    status, headers, _ = client.request(
        "POST", invitation_url + "/start", body, {"Content-Type": content_type}
    )
    if status != 302 or not headers.get("Location", "").endswith("/form"):
        raise RequestFailed(f"start: HTTP {status} to {headers.get('Location')!r}")
    csrf, lock = "", 0
    for section in ["company_profile", *random.Random(number).sample(sections, WARMUP_REQUESTS)]:
        status, _, page = client.request("GET", f"{invitation_url}/form?section={section}")
        text = page.decode("utf-8", "replace")
        csrf_match, lock_match = CSRF.search(text), LOCK.search(text)
        if status != 200 or csrf_match is None or lock_match is None:
            raise RequestFailed(f"form page {section}: HTTP {status}")
        csrf, lock = csrf_match.group(1), int(lock_match.group(1))
    return PortalUser(number, client, invitation_url, csrf, lock)


def portal_step(user: PortalUser, rng: random.Random, sections: list[str], share: float):
    """One request of the mix: a form page of some section, or an autosave of one."""
    if rng.random() >= share:
        section = rng.choice(sections)
        status, _, page = user.client.request(
            "GET", f"{user.invitation_url}/form?section={section}"
        )
        ok = status == 200 and b'name="lock_version"' in page
        return "web_portal_form_get", ok
    section = rng.choice(AUTOSAVE_SECTIONS)
    user.edits += 1
    fields = {"csrf_token": user.csrf, "section": section, "lock_version": str(user.lock)}
    fields |= autosave_fields(section, user.number, user.edits)
    body, content_type = multipart(fields)
    status, _, data = user.client.request(
        "POST",
        f"{user.invitation_url}/form",
        body,
        {"Content-Type": content_type, "X-Autosave": "1", "Accept": "application/json"},
    )
    try:
        reply = json.loads(data)
    except ValueError:
        reply = {}
    if isinstance(reply, dict) and isinstance(reply.get("lock_version"), int):
        user.lock = reply["lock_version"]  # also after a 409, as a reload would
    ok = 200 <= status < 300 and isinstance(reply, dict) and reply.get("ok") is True
    return "web_portal_autosave", ok


class Window:
    """The measured interval: it opens once the last client is set up and lasts `seconds`.

    Clients arrive one after another (ramp-up) and loop from then on, so no connection sits
    idle past gunicorn's 2 s keep-alive; only requests started inside the window count.
    """

    def __init__(self, clients: int, seconds: float, setup_limit: float) -> None:
        self._lock = threading.Lock()
        self._waiting = clients
        self.seconds = seconds
        self.ready = threading.Event()
        self.start = self.stop = float("inf")
        self.failed = False
        self.give_up = time.monotonic() + setup_limit + seconds

    def arrived(self) -> None:
        with self._lock:
            self._waiting -= 1
            if self._waiting == 0:
                self.start = time.monotonic()
                self.stop = self.start + self.seconds
                self.ready.set()

    def fail(self) -> None:
        self.failed = True
        self.ready.set()

    def running(self) -> bool:
        now = time.monotonic()
        return not self.failed and now < self.give_up and now < self.stop


def client_loop(make_driver, number: int, delay: float, window: Window, seed: int):
    """One client: arrive, set up, then a closed loop (next request as soon as one is read)."""
    time.sleep(delay)
    try:
        step, close, reconnects = make_driver(number)
    except BaseException:
        window.fail()
        raise
    window.arrived()
    rng = random.Random(seed)
    samples: list[Sample] = []
    try:
        while window.running() and len(samples) < MAX_REQUESTS_PER_CLIENT:
            began = time.monotonic()
            try:
                kind, ok = step(rng)
            except (OSError, http.client.HTTPException):
                kind, ok = "connection_error", False
                close()  # the next request reconnects
            samples.append(Sample(kind, time.monotonic() - began, ok, began))
    finally:
        close()
    return [x for x in samples if window.start <= x.began < window.stop], reconnects()


@dataclass
class Phase:
    label: str
    samples: list[Sample]
    seconds: float
    client_cpu: float
    reconnects: int
    per_client: list[int]  # requests completed by each client, ascending
    per_worker: list[int]  # client connections held by each gunicorn worker, mid-window


def run_phase(label: str, server: Server, args, make_driver) -> Phase:
    """Clients arrive over `args.ramp` seconds; all of them are measured for `args.seconds`."""
    clients = args.clients
    window = Window(clients, args.seconds, setup_limit=SETUP_LIMIT_S)
    with ThreadPoolExecutor(max_workers=clients, thread_name_prefix=label) as pool:
        futures = [
            pool.submit(client_loop, make_driver, n, n * args.ramp / clients, window, 1000 + n)
            for n in range(clients)
        ]
        spread: list[int] = []
        cpu_before = time.process_time()
        if window.ready.wait(timeout=SETUP_LIMIT_S) and not window.failed:
            cpu_before = time.process_time()
            time.sleep(max(0.0, window.start + args.seconds / 2 - time.monotonic()))
            spread = server.connections_per_worker()
        results = [f.result(timeout=SETUP_LIMIT_S + args.seconds + 60) for f in futures]
        cpu = time.process_time() - cpu_before
    if not window.ready.is_set() or window.failed:
        raise RuntimeError(f"{label}: the clients were not all set up in {SETUP_LIMIT_S:g} s")
    samples = [sample for client_samples, _ in results for sample in client_samples]
    counts = sorted(len(client_samples) for client_samples, _ in results)
    reconnects = sum(count for _, count in results)
    return Phase(label, samples, args.seconds, cpu, reconnects, counts, spread)


def portal_phase(server: Server, links: list[str], sections: list[str], args) -> Phase:
    def make_driver(number: int):
        user = open_portal_user(server.port, number, links[number], sections)
        return (
            lambda rng: portal_step(user, rng, sections, args.autosave_share),
            user.client.close,
            lambda: user.client.reconnects,
        )

    return run_phase("portal", server, args, make_driver)


def trivial_phase(server: Server, args) -> Phase:
    def make_driver(_number: int):
        client = Client(server.port)
        for _ in range(WARMUP_REQUESTS):
            status, _, body = client.request("GET", "/bench/ping")
            if status != 200 or body != b"pong":
                raise RequestFailed(f"trivial endpoint: HTTP {status}")

        def step(_rng):
            status, _, body = client.request("GET", "/bench/ping")
            return "web_trivial_flask", status == 200 and body == b"pong"

        return step, client.close, lambda: client.reconnects

    return run_phase("trivial", server, args, make_driver)


# --- report ------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(pct / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


@dataclass
class Figures:
    kind: str
    count: int
    rate: float
    p50: float
    p95: float
    p99: float
    errors: int


def figures(kind: str, samples: list[Sample], seconds: float) -> Figures:
    times = sorted(s.seconds * 1000 for s in samples)
    return Figures(
        kind,
        len(samples),
        len(samples) / seconds if seconds > 0 else 0.0,
        percentile(times, 50),
        percentile(times, 95),
        percentile(times, 99),
        sum(1 for s in samples if not s.ok),
    )


def line(fig: Figures, target: bool) -> str:
    verdict = ""
    if target:
        below = "yes" if fig.p95 < TARGET_P95_MS else "no"
        verdict = f" (target p95 < {TARGET_P95_MS:g} ms: {below})"
    return (
        f"{fig.kind}: {fig.count} requests, {fig.rate:.0f} req/s, p50 {fig.p50:.0f} ms, "
        f"p95 {fig.p95:.0f} ms, p99 {fig.p99:.0f} ms, errors {fig.errors}{verdict}"
    )


def report(portal: Phase, trivial: Phase) -> int:
    kinds = ["web_portal_form_get", "web_portal_autosave"]
    kinds += sorted({s.kind for s in portal.samples} - set(kinds))
    per_kind = {
        kind: figures(kind, [s for s in portal.samples if s.kind == kind], portal.seconds)
        for kind in kinds
    }
    total = figures("web_portal_all", portal.samples, portal.seconds)
    floor = figures("web_trivial_flask", trivial.samples, trivial.seconds)
    for fig in per_kind.values():
        print(line(fig, target=fig.kind.startswith("web_portal")))
    print(line(total, target=False))
    print(line(floor, target=False))
    ratio = total.rate / floor.rate if floor.rate else float("nan")
    form, save = per_kind["web_portal_form_get"], per_kind["web_portal_autosave"]
    print(
        f"summary: web_portal_form_get {form.rate:.0f} req/s, p50 {form.p50:.0f} ms, "
        f"p95 {form.p95:.0f} ms (target < {TARGET_P95_MS:g} ms) | autosave: {save.rate:.0f} "
        f"req/s, p95 {save.p95:.0f} ms | trivial flask: {floor.rate:.0f} req/s, "
        f"p95 {floor.p95:.0f} ms (portal/trivial {ratio:.2f}x)"
    )
    for phase in (portal, trivial):
        counts = phase.per_client
        print(
            f"load generator ({phase.label}): {phase.client_cpu / phase.seconds:.2f} CPU cores "
            f"used by the client itself, {phase.reconnects} keep-alive reconnects, requests per "
            f"client min {counts[0]} / median {counts[len(counts) // 2]} / max {counts[-1]}, "
            "connections per gunicorn worker mid-phase "
            + ("/".join(map(str, phase.per_worker)) or "n/a")
        )
    errors = total.errors + floor.errors
    if errors:
        print(f"FAILED: {errors} requests failed (non-2xx, bad reply or connection error)")
    return 1 if errors else 0


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0, help="per measured phase")
    parser.add_argument("--suppliers", type=int, default=200, help="demo data size")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (both servers)")
    parser.add_argument(
        "--autosave-share", type=float, default=0.4, help="share of portal requests that autosave"
    )
    parser.add_argument(
        "--ramp", type=float, default=2.0, help="seconds over which clients arrive (ramp-up)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="5 clients, 3 s, 30 demo suppliers: a smoke run"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.seconds, args.suppliers, args.ramp = 5, 3.0, 30, 0.5
    if not (1 <= args.clients <= 500 and 0 < args.seconds <= 600 and 0 <= args.ramp <= 60):
        parser.error("need 1..500 clients, 0 < seconds <= 600 and a ramp of 0..60 s")
    if not 0 <= args.autosave_share <= 1:
        parser.error("the autosave share is a fraction in 0..1")

    print(
        f"config: gunicorn gthread via `supplychain serve`, {args.workers} workers x "
        f"{GUNICORN_THREADS} threads, access log on, {HOST} only | SQLite (WAL), inline jobs, "
        f"demo --suppliers {args.suppliers} | {args.clients} closed-loop keep-alive clients "
        f"(no think time, arriving over {args.ramp:g} s), {args.seconds:g} s measured per phase "
        f"once all are in, autosave share "
        f"{args.autosave_share:.0%} | {os.cpu_count()} CPUs shared with the load generator"
    )
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        folder = Path(tmp)
        instance = folder / "instance"
        instance.mkdir()
        env = server_env(instance)
        started = time.perf_counter()
        run_cli(env, "db", "upgrade")
        run_cli(env, "demo", "--suppliers", str(args.suppliers), "--seed", str(DEMO_SEED))
        links, sections = launch_bench_campaign(instance, args.clients)
        print(f"setup: instance, demo and campaign in {time.perf_counter() - started:.1f} s")

        server = portal_server(env, folder, args.workers)
        try:
            portal = portal_phase(server, links, sections, args)
        except BaseException:
            print(server.log_tail(), file=sys.stderr)
            raise
        finally:
            server.stop()
        server = trivial_server(env, folder, args.workers)
        try:
            trivial = trivial_phase(server, args)
        except BaseException:
            print(server.log_tail(), file=sys.stderr)
            raise
        finally:
            server.stop()
    return report(portal, trivial)


if __name__ == "__main__":
    sys.exit(main())
