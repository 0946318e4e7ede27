"""`desk sandbox`: try desk without Slack. The real desk, a local Slack stand-in, a web console."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from desk.cli import sandbox_run
from desk.errors import ConfigError
from desk.observability.logs import configure_logging
from desk.wiring import Wiring

FIRST_STEPS = """\
desk sandbox is running at {url}/  (Ctrl-C stops it)

  Open it in a browser. Try, in this order:
  1. Acting as {member} (Cherwell), in #cherwell-support post "We cannot take card payments".
     desk answers in the thread and puts a card in #desk-triage.
  2. Switch to {engineer} (an engineer): Claim the card, reply in the Cherwell thread, Resolve it.
  3. Back as {member}: rate the answer. Then move the clock +1 week: the digest lands in the channel.
  Scripts and tests can drive the same thing: {url}/sandbox/api/state (docs/sandbox.md).
  database: {database}   (desk never talks to real Slack here)
"""


def sandbox(
    port: Annotated[int | None, typer.Option(help="Port for the console and desk (default: $PORT or 3000).")]
    = None,
    host: Annotated[str, typer.Option(help="Address to bind (only this machine by default).")] = "127.0.0.1",
    demo: Annotated[bool, typer.Option("--demo", help="Fill the sandbox with a few weeks of history first.")]
    = False,
    database: Annotated[str | None, typer.Option(
        "--database", help="Database URL (default: sqlite:///sandbox.db, never desk's own).")] = None,
) -> None:
    """Run desk against a local Slack stand-in and serve a web console to use it in."""
    environ_settings = Wiring.from_environ().settings
    level = environ_settings.log_level if environ_settings.log_level != "INFO" else "WARNING"
    configure_logging(fmt="text", level=level)
    port = port or environ_settings.port
    try:
        running = sandbox_run.start(database_url=database or sandbox_run.DEFAULT_DATABASE, host=host, port=port,
                                    playbooks_dir=environ_settings.playbooks_dir, log_level=level,
                                    catch_up=not demo)
    except OSError as err:  # the port is taken, or the address is not this machine's
        raise ConfigError(f"cannot listen on {host}:{port} ({err.strerror or err}): "
                          "choose another with --port N (or PORT)") from None
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if demo:
            from desk.sandbox import demo as demo_history

            print("desk sandbox: making a few weeks of history (about a minute)…", flush=True)
            made = demo_history.build(running.console)
            print(f"desk sandbox: demo history ready: {made}", flush=True)
        people = running.population.people
        member = next(p.name for p in people if p.council == "cherwell") if any(
            p.council == "cherwell" for p in people) else next(p.name for p in people if p.role == "council")
        engineer = next(p.name for p in people if p.role == "engineer")
        print(FIRST_STEPS.format(url=running.url, member=member, engineer=engineer,
                                 database=running.wiring.settings.database_url_safe), flush=True)
        stop.wait()
    finally:
        print("desk sandbox: stopping…", flush=True)
        running.stop()
        print("desk sandbox: stopped", flush=True)
