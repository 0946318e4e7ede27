"""`desk serve`: the Slack app, over HTTP (gunicorn) or Socket Mode."""

from __future__ import annotations

from typing import Annotated

import typer

from desk.cli.output import require_schema
from desk.db.outage import PATIENCE_SECONDS
from desk.errors import ConfigError
from desk.observability.logs import configure_logging
from desk.wiring import Wiring


def serve(
    http: Annotated[bool, typer.Option("--http", help="Serve POST /slack/events over HTTP (else Socket Mode).")]
    = False,
    port: Annotated[int | None, typer.Option(help="HTTP port, in both modes (default: $PORT or 3000).")] = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "0.0.0.0",
    workers: Annotated[int, typer.Option(help="Worker processes (keep 1 on SQLite).")] = 1,
    threads: Annotated[int, typer.Option(help="Threads per worker.")] = 8,
) -> None:
    """Run the bot: Socket Mode when SLACK_APP_TOKEN is set and --http is not given (then --port serves
    /healthz, /metrics, the council API and report pages; Slack's requests come over the WebSocket)."""
    wiring = Wiring.from_environ()
    settings = wiring.settings
    configure_logging(fmt=settings.log_format, level=settings.log_level, secrets=settings.secret_values)
    require_schema(wiring, patience=PATIENCE_SECONDS)  # started during a database outage: wait, don't crash
    if http:
        from desk.server import serve_http

        serve_http(wiring, host=host, port=port or wiring.settings.port, workers=workers, threads=threads,
                   lean_master=True)
    elif wiring.settings.slack_app_token is not None:
        from desk.server import serve_socket_mode

        if workers != 1:
            raise ConfigError("Socket Mode runs one worker per process (one connection to Slack): for more, "
                              "start more processes on PostgreSQL (docs/operations.md)")
        serve_socket_mode(wiring, host=host, port=port or wiring.settings.port, threads=threads,
                          lean_master=True)
    else:
        raise ConfigError("set SLACK_APP_TOKEN (xapp-…) for Socket Mode, or run `desk serve --http`")
