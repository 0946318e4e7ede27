"""desk's log handler on a real file descriptor: whole lines from many threads at once, still redacted.

The handler formats outside its lock and writes each line with one write(2) (desk/observability/logs.py,
`LineHandler`), so the web process's threads do not queue behind each other's writes. These tests hold it
to what the standard handler guaranteed: no line lost, none torn or interleaved, every one scrubbed.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from desk.observability import logs

THREADS, LINES = 8, 300
TOKEN = "xoxb-1234-5678-abcdefghijkl"


def test_lines_from_many_threads_arrive_whole_and_redacted(tmp_path: Path) -> None:
    path = tmp_path / "desk.log"
    with path.open("w") as stream:
        handler = logs.handler(stream, fmt="json")
        assert isinstance(handler, logs.LineHandler)
        logger = logging.getLogger("desk.test.lines")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        start = threading.Barrier(THREADS)

        def work(n: int) -> None:
            start.wait()
            with logs.bind(request_id=f"req-{n}"):
                for i in range(LINES):
                    logger.info("thread %s line %s token %s %s", n, i, TOKEN, "ü" * (i % 50))

        threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            logger.removeHandler(handler)

    lines = path.read_text(encoding="utf-8").splitlines()
    documents = [json.loads(line) for line in lines]  # a torn or interleaved line would not parse
    assert len(documents) == THREADS * LINES
    seen = {(d["request_id"], d["message"].split()[1], d["message"].split()[3]) for d in documents}
    assert seen == {(f"req-{n}", str(n), str(i)) for n in range(THREADS) for i in range(LINES)}
    assert TOKEN not in path.read_text(encoding="utf-8")
    assert all(logs.REDACTED in d["message"] for d in documents)


def test_a_stream_without_a_descriptor_is_written_as_before() -> None:
    import io

    stream = io.StringIO()
    handler = logs.handler(stream, fmt="json")
    record = logging.LogRecord("desk.test", logging.INFO, __file__, 1, "hello %s", (TOKEN,), None)
    handler.handle(record)
    assert json.loads(stream.getvalue())["message"] == f"hello {logs.REDACTED}"
