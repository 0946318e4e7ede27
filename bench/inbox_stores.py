"""Probe: inbox rows stored by many threads at once, as a burst of acks stores them (no server).

Threads call `desk.services.inbox.store` as fast as they can, each with a new key and a message-sized
payload, against a fresh SQLite file; prints stores/s, the process's user and system CPU per store, and
(on SQLite) how many rows each transaction took (desk/db/group_commit.py). Not a target: a probe for the
writers' queue and the group commit (bench/README.md, ingress, fifth pass).

    .venv/bin/python bench/inbox_stores.py                  # 4,000 rows, 16 threads
    .venv/bin/python bench/inbox_stores.py --threads 1
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from desk.db import migrate  # noqa: E402
from desk.db.engine import make_engine  # noqa: E402
from desk.services import inbox  # noqa: E402

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PAYLOAD = json.dumps({"type": "event_callback", "event": {"type": "message", "text": "x" * 900}})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="inbox_stores_") as directory:
        engine = make_engine(f"sqlite:///{Path(directory) / 'desk.db'}")
        migrate.upgrade(engine)
        keys = itertools.count()
        taking = threading.Lock()

        def store() -> None:
            while True:
                with taking:
                    n = next(keys)
                if n >= args.rows:
                    return
                inbox.store(engine, kind="message", key=f"event:Ev{n}", payload=PAYLOAD, at=AT,
                            lease=timedelta(seconds=60), within=5)

        threads = [threading.Thread(target=store) for _ in range(args.threads)]
        before, began = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds, after = time.perf_counter() - began, resource.getrusage(resource.RUSAGE_SELF)
        group = inbox._stores(engine)
        print(f"{args.rows / seconds:,.0f} stores/s with {args.threads} threads; per store: user "
              f"{1e6 * (after.ru_utime - before.ru_utime) / args.rows:.0f} us, system "
              f"{1e6 * (after.ru_stime - before.ru_stime) / args.rows:.0f} us; "
              f"{group.writes / max(group.transactions, 1):.1f} rows a transaction")
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
