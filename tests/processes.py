"""Real desk processes for tests: a free port, the CLI as a subprocess, waiting for `/healthz`.

Shared by the tests that run desk as operators do (`desk serve --http` under gunicorn, `desk worker`):
tests/slack/test_serve.py, tests/ops/ and tests/faults/.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def desk_cli(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desk", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def wait_healthy(port: int, process: subprocess.Popen, log: Path, *, timeout: float = 30) -> None:
    """Until `GET /healthz` on 127.0.0.1:port answers ok; fails with the process's log if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                if json.loads(answer.read())["ok"]:
                    return
        except OSError:
            pass
        assert process.poll() is None, log.read_text()
        time.sleep(0.1)
    raise AssertionError(f"the process on port {port} did not become healthy:\n{log.read_text()[-3000:]}")
