"""`python -m desk.web_master HANDOVER`: gunicorn's master for `desk serve`, in a fresh interpreter.

`desk serve` (HTTP or Socket Mode) checks everything first (settings, schema, the Slack app built once),
then replaces itself with this module (`desk.server`, `lean_master`): same pid, same environment. Here only
gunicorn, desk's log handler and its worker class are imported (not even desk's settings: the log settings
come in the handover, the secrets to redact through a pipe); each worker imports and builds the app when
it boots. What the CLI and the check needed (typer, pydantic, Alembic, the whole app) is then neither
carried by the master nor shared into its worker and counted there again (bench/bench_memory.py).
"""

from __future__ import annotations

import json
import os
import sys


def main(argv: list[str]) -> None:
    from desk.observability.logs import configure_logging
    from desk.server import run_lean_master

    handover = json.loads(argv[0])
    with os.fdopen(handover["secrets_fd"]) as pipe:
        secrets = json.load(pipe)
    configure_logging(fmt=handover["log_format"], level=handover["log_level"], secrets=secrets)
    run_lean_master(handover["options"], request_timeout=handover["request_timeout"],
                    socket_mode=handover["socket_mode"])


if __name__ == "__main__":
    main(sys.argv[1:])
