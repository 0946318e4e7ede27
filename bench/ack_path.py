"""Profile: desk's ack path in one process, one signed request at a time (no server, no load generator).

`DeskWsgi` (what `desk serve` runs) is called directly with signed requests of one kind, against a fresh
SQLite database and the Slack stand-in in this process; each call is timed from request to answer. The
work started after each ack runs on the listener executor as in production, sharing the interpreter, so
the figures include its interference; the drain time after the last ack is printed apart. Not a target:
a probe for where an ack's time goes (`--profile`: cProfile of the acks alone, top 30 by cumulative time, or
by own time with `--sort tottime`).

    .venv/bin/python bench/ack_path.py message 300
    .venv/bin/python bench/ack_path.py command 300 --profile
    .venv/bin/python bench/ack_path.py claim 300        # a claim of a ticket that need not exist: the ack is the same
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time

from load import Load, signed_requests
from servers import desk_env, prepare_database, stand_in

WARMUP = 20


def environ_of(raw: bytes) -> dict:
    """A WSGI environ for one raw HTTP request, as gunicorn builds it."""
    head, body = raw.split(b"\r\n\r\n", 1)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "QUERY_STRING": "",
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
               "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
               "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
               "wsgi.run_once": False, "CONTENT_LENGTH": str(len(body))}
    for line in head.decode().split("\r\n")[1:]:
        name, value = line.split(": ", 1)
        if name == "Content-Type":
            environ["CONTENT_TYPE"] = value
        elif name != "Content-Length":
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("message", "claim", "command"))
    parser.add_argument("count", type=int, nargs="?", default=300)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", choices=("cumulative", "tottime"), default="cumulative", help="with --profile")
    args = parser.parse_args()

    from desk.wiring import Wiring

    slack = stand_in()
    with tempfile.TemporaryDirectory(prefix="ack_path_") as directory:
        env = desk_env(f"sqlite:///{directory}/desk.db", slack)
        prepare_database(env)
        os.environ.update(env)
        wiring = Wiring.from_environ(env)
        app = wiring.wsgi_app()
        load = Load(port=80, kind=args.kind, concurrency=1, count=args.count, warmup=0, rounds=1,
                    hooks_url=slack.api_url, tag="ack-path", refs=["CHW-1"])
        requests = [environ_of(raw) for raw in signed_requests(load, args.count + WARMUP)]
        statuses: list[str] = []

        def start_response(status: str, _headers: list, _exc_info=None) -> None:
            statuses.append(status)

        for environ in requests[:WARMUP]:
            b"".join(app(environ, start_response))
        wiring.listener_executor.drain(120)
        profile = cProfile.Profile() if args.profile else None
        times = []
        began = time.perf_counter()
        for environ in requests[WARMUP:]:
            start = time.perf_counter()
            if profile:
                profile.enable()
            b"".join(app(environ, start_response))
            if profile:
                profile.disable()
            times.append(time.perf_counter() - start)
        acked = time.perf_counter() - began
        wiring.listener_executor.drain(300)
        drained = time.perf_counter() - began - acked
        slack.stop()
    times.sort()
    print(f"{args.kind}: {len(times)} acks ({', '.join(sorted(set(statuses)))}) in {acked * 1000:.0f} ms; "
          f"p50 {times[len(times) // 2] * 1000:.2f} ms, p99 {times[int(len(times) * 0.99)] * 1000:.2f} ms; "
          f"the work after them drained {drained * 1000:.0f} ms later")
    if profile:
        pstats.Stats(profile).sort_stats(args.sort).print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
