"""Servers and load for bench_ingress.py and bench_memory.py: real processes, a lean load generator.

Four servers, each a separate gunicorn process tree with desk's own gunicorn settings
(`desk.server.gunicorn_options`, `desk serve`'s default workers and threads):

- `desk`: `desk serve --http`, exactly as operators run it;
- `bolt-default`: the same desk app built with Bolt's default listener mode (`process_before_response=False`:
  each ack runs on the listener executor while the request polls for it every 10 ms), same server;
- `ceiling`: a bare WSGI app doing only the signature check desk's front does (slack_sdk's
  `SignatureVerifier`, same secret, same bodies) and answering 200: the floor under any Slack app;
- `ceiling-loop`: the same check under desk's own worker class, answered from its front door in the
  server's loop (desk/http_worker.py), as desk answers its acks: the floor under desk's own server.

The load generator is `load.py`. Run as a script, this file serves the two ceilings and `bolt-default`.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the test playbooks, people and process helpers live under tests/

if TYPE_CHECKING:
    from desk.sandbox.slack_api import SlackStandIn

# desk and tests/ are imported where they are used: a server started as this script imports only what it runs.

SERVERS = ("desk", "bolt-default", "ceiling", "ceiling-loop")
CEILINGS = ("ceiling", "ceiling-loop")  # servers without desk's app, database or Slack client
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
    elif name in CEILINGS:  # gunicorn's options from here: the floor process imports nothing of desk's app
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


class LoopCeiling(Ceiling):
    """The ceiling's check, offered first to desk's worker's front door: answered in the server's loop."""

    def front_door(self, method: str, target: str, headers: dict[str, str], body: bytes,
                   port: int | None) -> tuple[str, list[tuple[str, str]], bytes] | None:
        if method != "POST" or target != "/slack/events":
            return None
        if not self.verifier.is_valid_request(body, headers):
            return "401 Unauthorized", [("Content-Length", "0")], b""
        return "200 OK", [("Content-Type", "text/plain;charset=utf-8"), ("Content-Length", "0")], b""


def serve_ceiling(options: dict[str, Any], *, loop: bool = False) -> None:
    """The Ceiling app under gunicorn with desk's options (`desk.server.gunicorn_options`, given as JSON);
    `loop`: under desk's worker class, answered at its front door (LoopCeiling)."""
    from gunicorn.app.base import BaseApplication

    app = (LoopCeiling if loop else Ceiling)(os.environ["SLACK_SIGNING_SECRET"])
    if loop:
        from desk.http_worker import worker_class

        options = {**options, "worker_class": worker_class(request_timeout=10.0)}

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
        @cached_property
        def listener_executor(self):
            """Without the acks-first gate (desk/turns.py): in this mode the ack itself runs on the executor,
            and would wait for the quiet its own request holds off."""
            from desk.slack.executor import ListenerExecutor

            return ListenerExecutor()

        def slack_app(self):
            deps = Deps(self.engine, self.clock, report_links=self.report_links())
            return build_app(self.settings, deps, self.listener_executor, process_before_response=False)

    wiring = BoltDefaultWiring.from_environ()
    settings = wiring.settings
    configure_logging(fmt=settings.log_format, level=settings.log_level, secrets=settings.secret_values)
    require_schema(wiring)
    workers, threads = serve_defaults()
    serve_http(wiring, host="127.0.0.1", port=port, workers=workers, threads=threads)


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
    parser = argparse.ArgumentParser(description="a benchmark server (bench/servers.py)")
    parser.add_argument("what", choices=(*CEILINGS, "bolt-default"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--options", help="ceiling: gunicorn's options, as JSON")
    args = parser.parse_args(argv)
    if args.what in CEILINGS:
        serve_ceiling(json.loads(args.options), loop=args.what == "ceiling-loop")
    else:
        serve_bolt_default(args.port)


if __name__ == "__main__":
    main()
