"""The load generator of bench_ingress.py: signed Slack requests sent over keep-alive connections.

`run_load` signs a cell's requests in the benchmark's process, then runs this file as a script (a separate
process, so its GIL is not the server's): asyncio streams over keep-alive connections, one per unit of
concurrency, each sending the next pre-signed request as soon as the last answer is read. As a script it
needs only the standard library, and starts in a fraction of a second on a busy machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the test people and payload helpers live under tests/


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
    watch: list[int] = field(default_factory=list)  # server pids whose CPU time the rounds are read against


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
    cpu: list[float] = field(default_factory=list)  # user, system seconds of `Load.watch` during the rounds

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


def cpu_seconds(pids: list[int]) -> tuple[float, float]:
    """User and system seconds of these processes (every thread), as /proc/PID/stat counts them."""
    user = system = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        user, system = user + int(fields[11]), system + int(fields[12])
    ticks = os.sysconf("SC_CLK_TCK")
    return user / ticks, system / ticks


async def _run(load: Load, requests: list[bytes]) -> Result:
    warm = await _phase(load.port, load.concurrency, requests[:load.warmup])
    rounds = []
    before = cpu_seconds(load.watch)  # just before the first round and after the last: nothing of the gaps
    for start in range(load.warmup, len(requests), load.count):
        rounds.append(await _phase(load.port, load.concurrency, requests[start:start + load.count]))
    after = cpu_seconds(load.watch)
    return Result(rounds, warm.errors, [after[0] - before[0], after[1] - before[1]] if load.watch else [])


def run_load(load: Load) -> Result:
    """Sign the cell's requests here, send them from a separate load-generator process."""
    requests = signed_requests(load, load.warmup + load.count * load.rounds)
    with tempfile.NamedTemporaryFile(prefix="bench_load_", suffix=".pickle") as file:
        pickle.dump((asdict(load), requests), file)
        file.flush()
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), file.name],
                              capture_output=True, text=True, cwd=ROOT, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{done.stderr}")
    document = json.loads(done.stdout)
    return Result([Round(**r) for r in document["rounds"]], document["warmup_errors"], document["cpu"])


def _load_main(path: str) -> None:
    with open(path, "rb") as file:
        spec, requests = pickle.load(file)
    print(json.dumps(asdict(asyncio.run(_run(Load(**spec), requests)))))


if __name__ == "__main__":
    _load_main(sys.argv[1])
