"""Servers and load for bench_ingress.py and bench_memory.py: real processes, a lean load generator.

Three servers, each a separate gunicorn process tree with desk's own gunicorn settings
(`desk.server.gunicorn_options`, `desk serve`'s default workers and threads):

- `desk`: `desk serve --http`, exactly as operators run it;
- `bolt-default`: the same desk app built with Bolt's default listener mode (`process_before_response=False`:
  each ack runs on the listener executor while the request polls for it every 10 ms), same server;
- `ceiling`: a bare WSGI app doing only the signature check desk's front does (slack_sdk's
  `SignatureVerifier`, same secret, same bodies) and answering 200: the floor under any Slack app.

The load generator is this file run as `servers.py load` (a separate process, so its GIL is not the
server's): asyncio streams over keep-alive connections, one per unit of concurrency, each sending the next
pre-signed request as soon as the last answer is read. Run as a script, this file also serves `ceiling`
and `bolt-default`.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the test playbooks, people and process helpers live under tests/

if TYPE_CHECKING:
    from desk.sandbox.slack_api import SlackStandIn

# desk and tests/ are imported where they are used: the load generator (this file run as `servers.py load`)
# needs only the standard library, and starts in a fraction of a second on a busy machine.

SERVERS = ("desk", "bolt-default", "ceiling")
KINDS = ("message", "claim", "command")


def serve_defaults() -> tuple[int, int]:
    """`desk serve`'s default workers and threads, read from the command itself so they cannot drift."""
    from desk.cli.serve import serve

    parameters = inspect.signature(serve).parameters
    return parameters["workers"].default, parameters["threads"].default


# --- servers -----------------------------------------------------------------------------------------------


@dataclass
class Served:
    """A server process tree on 127.0.0.1:port (gunicorn's master and its workers)."""

    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The master and every process under it."""
        found, queue = [self.process.pid], [self.process.pid]
        while queue:
            children = subprocess.run(["pgrep", "-P", str(queue.pop())], capture_output=True, text=True).stdout
            for child in map(int, children.split()):
                found.append(child)
                queue.append(child)
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def stand_in() -> SlackStandIn:
    """A started Slack stand-in knowing the test playbooks' people, as tests/slack/conftest.py sets it up."""
    from desk.sandbox.slack_api import SlackStandIn
    from tests.slack.conftest import USERS

    slack = SlackStandIn().start()
    slack.users = {user: {"id": user, "team_id": team, "name": user.lower(), "real_name": user,
                          "tz": "Europe/London"} for user, team in USERS.items()}
    return slack


def desk_env(database_url: str, slack: SlackStandIn, **extra: str) -> dict[str, str]:
    from tests.conftest import TEST_PLAYBOOKS
    from tests.slack.conftest import SECRET

    return {**os.environ, "DESK_DATABASE_URL": database_url, "DESK_PLAYBOOKS_DIR": str(TEST_PLAYBOOKS),
            "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET, "DESK_SLACK_API_URL": slack.api_url,
            "DESK_LOG_FORMAT": "json", **extra}


def prepare_database(env: dict[str, str]) -> None:
    """`desk db upgrade` and `desk playbooks sync`, as an operator does before the first start."""
    from tests.processes import desk_cli

    for command in (("db", "upgrade"), ("playbooks", "sync")):
        done = desk_cli(env, *command, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"desk {' '.join(command)} failed:\n{done.stderr}")


@contextmanager
def serving(name: str, env: dict[str, str], log_dir: Path, *args: str) -> Iterator[Served]:
    """Start one of SERVERS (or `worker`: `desk worker`, no port; `desk-socket`: `desk serve` in Socket Mode)
    and stop it afterwards."""
    from tests.processes import free_port, wait_healthy

    port = free_port()
    if name == "desk":
        command = ["-m", "desk", "serve", "--http", "--host", "127.0.0.1", "--port", str(port)]
    elif name == "desk-socket":  # Socket Mode (SLACK_APP_TOKEN in env): Slack over the WebSocket, the rest on port
        command = ["-m", "desk", "serve", "--host", "127.0.0.1", "--port", str(port)]
    elif name == "worker":
        command = ["-m", "desk", "worker"]
    elif name == "ceiling":  # gunicorn's options from here: the floor process imports nothing of desk
        from desk.server import gunicorn_options

        workers, threads = serve_defaults()
        options = gunicorn_options(host="127.0.0.1", port=port, workers=workers, threads=threads)
        command = [str(Path(__file__).resolve()), name, "--options", json.dumps(options)]
    else:
        command = [str(Path(__file__).resolve()), name, "--port", str(port)]
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, *command, *args], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, cwd=ROOT)
    served = Served(name, port, process, log_path)
    try:
        if name != "worker":
            wait_healthy(port, process, log_path, timeout=60)
        yield served
    except BaseException:
        print(f"--- the last of {name}'s log ---\n{log_path.read_text()[-4000:]}", file=sys.stderr)
        raise
    finally:
        served.stop()


# --- what each server runs (this file as a script) -----------------------------------------------------------


class Ceiling:
    """Only the signature check of desk's front, then an empty 200 (what an ack is)."""

    def __init__(self, secret: str):
        from slack_sdk.signature import SignatureVerifier

        self.verifier = SignatureVerifier(secret)

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            body = b'{"ok": true}'
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {"x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
                   "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE", "")}
        if not self.verifier.is_valid_request(body, headers):
            start_response("401 Unauthorized", [("Content-Length", "0")])
            return [b""]
        start_response("200 OK", [("Content-Type", "text/plain;charset=utf-8"), ("Content-Length", "0")])
        return [b""]


def serve_ceiling(options: dict[str, Any]) -> None:
    """The Ceiling app under gunicorn with desk's options (`desk.server.gunicorn_options`, given as JSON)."""
    from gunicorn.app.base import BaseApplication

    app = Ceiling(os.environ["SLACK_SIGNING_SECRET"])

    class CeilingServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Ceiling:
            return app

    CeilingServer().run()


def serve_bolt_default(port: int) -> None:
    """desk's web process, its Bolt app built in Bolt's default listener mode; otherwise `desk serve --http`."""
    from desk.cli.output import require_schema
    from desk.observability.logs import configure_logging
    from desk.server import serve_http
    from desk.slack.app import build_app
    from desk.slack.deps import Deps
    from desk.wiring import Wiring

    class BoltDefaultWiring(Wiring):
        def slack_app(self):
            deps = Deps(self.engine, self.clock, report_links=self.report_links())
            return build_app(self.settings, deps, self.listener_executor, process_before_response=False)

    wiring = BoltDefaultWiring.from_environ()
    settings = wiring.settings
    configure_logging(fmt=settings.log_format, level=settings.log_level, secrets=settings.secret_values)
    require_schema(wiring)
    workers, threads = serve_defaults()
    serve_http(wiring, host="127.0.0.1", port=port, workers=workers, threads=threads)


# --- load --------------------------------------------------------------------------------------------------


@dataclass
class Load:
    """One measured cell: `warmup` requests, then `rounds` rounds of `count` requests at `concurrency`
    connections. A round's throughput is its requests over its wall time, all connections busy until the
    last answer."""

    port: int
    kind: str
    concurrency: int
    count: int
    warmup: int
    rounds: int
    hooks_url: str
    refs: list[str] = field(default_factory=list)  # tickets to claim (kind "claim")
    offset: int = 0  # claims made before this cell: each claim moves its ticket to the other engineer
    tag: str = ""  # makes message texts distinct between cells


@dataclass
class Round:
    latencies_ms: list[float]
    errors: int
    seconds: float
    statuses: dict[str, int]

    @property
    def per_second(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


@dataclass
class Result:
    """A cell: its measured rounds, and what went wrong while warming up."""

    rounds: list[Round]
    warmup_errors: int

    @property
    def errors(self) -> int:
        return self.warmup_errors + sum(r.errors for r in self.rounds)

    @property
    def latencies_ms(self) -> list[float]:
        return [latency for r in self.rounds for latency in r.latencies_ms]

    @property
    def statuses(self) -> dict[str, int]:
        merged: dict[str, int] = {}
        for r in self.rounds:
            for status, n in r.statuses.items():
                merged[status] = merged.get(status, 0) + n
        return merged


def signed_requests(load: Load, total: int) -> list[bytes]:
    """`total` raw HTTP requests of the cell's kind, each signed as Slack signs it."""
    from desk.sandbox.driver import FORM, JSON, SlackDriver, signature
    from desk.sandbox.payloads import form_body, interaction_body
    from desk.slack.ids import Action
    from desk.slack.metadata import TicketRef
    from tests.slack.conftest import (
        ALICE,
        BRUCE,
        CHERWELL,
        CHERWELL_CHANNEL,
        ENGINEER,
        FIFE,
        FIFE_CHANNEL,
        SECRET,
        SUPPORT,
        TRIAGE,
    )

    council_people = ((ALICE, CHERWELL, CHERWELL_CHANNEL), (BRUCE, FIFE, FIFE_CHANNEL))
    engineers = (ENGINEER, "U0ENGINEER2")
    driver = SlackDriver(f"http://127.0.0.1:{load.port}/slack/events", SECRET, hooks_url=load.hooks_url)
    timestamp = int(time.time())
    requests = []
    for i in range(total):
        if load.kind == "message":  # a council member asks in their council's channel: a new ticket each
            user, team, channel = council_people[i % len(council_people)]
            text = f"Card payments are failing on the website ({load.tag} #{i})"
            body, content_type = json.dumps(driver.message(text, user=user, user_team=team, channel=channel),
                                            separators=(",", ":")).encode(), JSON
        elif load.kind == "claim":  # an engineer claims a ticket from its triage card
            n = load.offset + i
            ref, engineer = load.refs[n % len(load.refs)], engineers[(n // len(load.refs)) % 2]
            action = driver.block_action(Action.CLAIM, user=engineer, user_team=SUPPORT, channel=TRIAGE,
                                         value=TicketRef(ref=ref).dump())
            body, content_type = interaction_body(action).encode(), FORM
        elif load.kind == "command":  # bare `/desk` from a council member: the form to raise a request
            user, team, channel = council_people[i % len(council_people)]
            body, content_type = form_body(driver.slash_command("", user=user, user_team=team,
                                                                channel=channel)).encode(), FORM
        else:
            raise ValueError(f"unknown request kind {load.kind!r}")
        head = (f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{load.port}\r\n"
                f"User-Agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nX-Slack-Request-Timestamp: {timestamp}\r\n"
                f"X-Slack-Signature: {signature(body, secret=SECRET, timestamp=timestamp)}\r\n\r\n")
        requests.append(head.encode() + body)
    return requests


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response; its status and whether the connection stays open."""
    status_line = await reader.readuntil(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    length, chunked, keep = 0, False, True
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            keep = False
    if chunked:
        while (size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)) > 0:
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    elif length:
        await reader.readexactly(length)
    return status, keep


async def _phase(port: int, concurrency: int, batch: list[bytes]) -> Round:
    pending = iter(batch)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0

    def count(status: str) -> None:
        statuses[status] = statuses.get(status, 0) + 1

    async def connection() -> None:
        nonlocal errors
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        for raw in pending:  # one shared iterator: each connection takes the next request when free
            began = time.perf_counter()
            try:
                if reader is None or writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(raw)
                status, keep = await _answer(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as err:
                errors += 1
                count(type(err).__name__)
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            latencies.append((time.perf_counter() - began) * 1000)
            count(str(status))
            if not 200 <= status < 300:
                errors += 1
            if not keep:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return Round(latencies, errors, time.perf_counter() - began, statuses)


async def _run(load: Load, requests: list[bytes]) -> Result:
    warm = await _phase(load.port, load.concurrency, requests[:load.warmup])
    rounds = []
    for start in range(load.warmup, len(requests), load.count):
        rounds.append(await _phase(load.port, load.concurrency, requests[start:start + load.count]))
    return Result(rounds, warm.errors)


def run_load(load: Load) -> Result:
    """Sign the cell's requests here, send them from a separate load-generator process."""
    requests = signed_requests(load, load.warmup + load.count * load.rounds)
    with tempfile.NamedTemporaryFile(prefix="bench_load_", suffix=".pickle") as file:
        pickle.dump((asdict(load), requests), file)
        file.flush()
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "load", file.name],
                              capture_output=True, text=True, cwd=ROOT, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{done.stderr}")
    document = json.loads(done.stdout)
    return Result([Round(**r) for r in document["rounds"]], document["warmup_errors"])


def _load_main(path: str) -> None:
    with open(path, "rb") as file:
        spec, requests = pickle.load(file)
    print(json.dumps(asdict(asyncio.run(_run(Load(**spec), requests)))))


# --- memory --------------------------------------------------------------------------------------------------


def resident_kb(pids: Sequence[int]) -> tuple[int, int]:
    """RSS and PSS in kB from /proc/PID/smaps_rollup, summed over the processes."""
    rss = pss = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except FileNotFoundError:
            continue
        for line in text.splitlines():
            name, _, rest = line.partition(":")
            if name == "Rss":
                rss += int(rest.split()[0])
            elif name == "Pss":
                pss += int(rest.split()[0])
    return rss, pss


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="a benchmark server or the load generator (bench/servers.py)")
    parser.add_argument("what", choices=("ceiling", "bolt-default", "load"))
    parser.add_argument("requests", nargs="?", help="load: the pickled cell and its signed requests")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--options", help="ceiling: gunicorn's options, as JSON")
    args = parser.parse_args(argv)
    if args.what == "load":
        _load_main(args.requests)
    elif args.what == "ceiling":
        serve_ceiling(json.loads(args.options))
    else:
        serve_bolt_default(args.port)


if __name__ == "__main__":
    main()
