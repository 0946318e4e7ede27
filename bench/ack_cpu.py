"""Probe: the server's CPU per request during one cell of acks, desk beside the ceiling.

`desk serve --http` and the ceiling (bench/servers.py) each get one cell of signed requests of one kind at
one concurrency (a settled warm-up, then the rounds), and the user and system time of the server's
processes (from /proc/PID/stat) is read by the load generator just before its first round and just after
its last: CPU per request, beside req/s. (Read around the load generator's whole process, as before, it
also counted the work after the acks that starts in the quiet while that process exits.) Throughput
on a shared machine swings with what else runs; CPU per request says where the server's time goes. Not a
target (bench/README.md, ingress, fifth pass).

    .venv/bin/python bench/ack_cpu.py                      # message events at 16, 10 rounds of 40
    .venv/bin/python bench/ack_cpu.py --kind command --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench_ingress import settle, ticket_refs
from load import Load, run_load
from seeding import fresh_database
from servers import KINDS, desk_env, prepare_database, serving, stand_in

from desk.db.engine import make_engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=KINDS, default="message")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    count = 40 if args.kind == "message" else 150
    slack = stand_in()
    try:
        for server in ("desk", "ceiling"):
            with fresh_database(None) as url, tempfile.TemporaryDirectory(prefix="ack_cpu_") as directory:
                env = desk_env(url, slack)
                engine = None
                if server == "desk":
                    prepare_database(env)
                    engine = make_engine(url)
                with serving(server, env, Path(directory)) as served:
                    load = Load(port=served.port, kind=args.kind, concurrency=args.concurrency, count=count,
                                warmup=max(20, args.concurrency), rounds=args.rounds, hooks_url=slack.hooks_url,
                                refs=["CHW-1"], tag=f"{server}/{time.time()}")
                    if args.kind == "claim" and engine is not None:  # tickets to claim: a few messages first
                        run_load(replace(load, kind="message", rounds=0, tag=f"{load.tag}/tickets"))
                        settle(slack, engine, load.warmup)
                        load = replace(load, refs=ticket_refs(engine))
                    run_load(replace(load, rounds=0, tag=f"{load.tag}/warm-up"))
                    settle(slack, engine, 0 if args.kind == "command" else load.warmup)  # tickets opened by now
                    result = run_load(replace(load, warmup=0, watch=served.pids()))
                    sent = len(result.latencies_ms)
                    rps = statistics.median(r.per_second for r in result.rounds)
                    user, system = result.cpu
                    print(f"{server:8} {args.kind} at {args.concurrency}: {rps:6.0f} req/s; per request: user "
                          f"{1000 * user / sent:.2f} ms, system {1000 * system / sent:.2f} ms")
                if engine is not None:
                    engine.dispose()
    finally:
        slack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
