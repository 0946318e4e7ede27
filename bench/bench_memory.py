"""Benchmark: resident memory of desk's processes, idle and with 100k open tickets, beside the floor.

Measured from /proc/PID/smaps_rollup (RSS, and PSS, which splits pages shared between gunicorn's master
and its worker fairly), summed over each process tree:

1. `desk serve --http` (gunicorn, desk's settings and default workers) after start and a few warm-up
   requests, on a database with only the test playbooks;
2. the same with 100k open tickets, after start, then after requests that touch them: App Home for an
   engineer and for a council member, `/desk list` from each, a council's SLA report page (signed link),
   `/api/v1/tickets` and `/api/v1/sla` for a council, and a sweep tick in its in-process worker (SQLite:
   the web process runs the worker's jobs) escalating 100 due tickets, their notifications posted;
3. `desk worker` with the same 100k open tickets, idle after a sweep that escalated another 100.

The baseline is the floor: the bare signature-check WSGI app of bench/servers.py under the same gunicorn
settings (Python, gunicorn and slack_sdk's verifier, nothing of desk), after the same warm-up. desk/floor
is what desk itself costs. Exit status 1 if a request fails, a sweep does not escalate exactly the due
tickets, or the Slack stand-in records a violation.

    .venv/bin/python bench/bench_memory.py --quick      # 10k open tickets
    .venv/bin/python bench/bench_memory.py              # 100k open tickets, about 2 minutes
    .venv/bin/python bench/bench_memory.py --database postgresql+psycopg://postgres@127.0.0.1:55432/postgres
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

from seeding import CHUNK, CLOCKS, COUNCILS, TICKETS, Seeder, fresh_database, shifted, spread_delta
from servers import Served, desk_env, resident_kb, serve_defaults, serving, stand_in
from sqlalchemy import Engine, bindparam, func, insert, select, update
from sqlalchemy.engine import make_url

from desk.db import migrate
from desk.db.engine import make_engine, unit_of_work
from desk.db.tables import OutboxRow, TicketEventRow
from desk.sandbox.driver import SlackDriver
from desk.sandbox.slack_api import SlackStandIn
from desk.services import api_tokens
from desk.services.report_links import LinkMaker, derive_secret
from tests.slack.conftest import ALICE, CHERWELL, CHERWELL_CHANNEL, ENGINEER, SECRET, SUPPORT, TRIAGE

OUTBOX, EVENTS = OutboxRow.__table__, TicketEventRow.__table__
RSS_GOAL_MB = 150  # issue 16: idle `desk serve` RSS at most 150 MB ...
RATIO_GOAL = 2.5  # ... and at most 2.5x the bare gunicorn floor's, measured in the same run
DUE = 10  # each notification goes to the triage channel, which desk posts to at Slack's 1 per second
OVERDUE = timedelta(minutes=-25)  # a P1's first step (respond 75%, 22.5 min) 2.5 min ago
SAMPLES = 5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sample(pids: Callable[[], list[int]]) -> tuple[list[float], list[float]]:
    """SAMPLES readings 0.2 s apart: RSS and PSS in MB, each summed over the processes."""
    rss, pss = [], []
    for _ in range(SAMPLES):
        r, p = resident_kb(pids())
        rss.append(r / 1024)
        pss.append(p / 1024)
        time.sleep(0.2)
    return rss, pss


def wait_until(check: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def quiet(slack: SlackStandIn, seconds: float = 0.5) -> None:
    """Until the stand-in has had no call for `seconds`: work after the acks is done."""
    last, since = -1, time.monotonic()
    while time.monotonic() - since < seconds:
        if len(slack.calls) != last:
            last, since = len(slack.calls), time.monotonic()
        time.sleep(0.05)


def get(url: str, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.read()
    except OSError as err:  # HTTPError (a non-2xx answer) included
        raise RuntimeError(f"GET {url.split('?')[0]}: {err}") from None


def warm_up(served: Served, slack: SlackStandIn) -> None:
    """A message opening a ticket, `/desk` and `/desk list`, App Home: every Slack path loaded once."""
    driver = SlackDriver(f"{served.url}/slack/events", SECRET, hooks_url=slack.hooks_url)

    def event(payload: dict):
        """Sent as Slack sends it: an event answered 503 (on SQLite, not stored within its second while the
        in-process sweep writes, desk/slack/receipt.py) is sent again, with Slack's retry headers."""
        answer = driver.send_event(payload)
        for retry in range(1, 4):
            if answer.status != 503:
                break
            time.sleep(retry)
            answer = driver.send_event(payload, retry_num=retry, retry_reason="http_error")
        return answer

    answers = [event(driver.message("Warm-up: card payments failing", user=ALICE, user_team=CHERWELL,
                                    channel=CHERWELL_CHANNEL)),
               driver.send_form(driver.slash_command("", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)),
               driver.send_form(driver.slash_command("list", user=ENGINEER, user_team=SUPPORT, channel=TRIAGE)),
               event(driver.app_home_opened(user=ENGINEER, user_team=SUPPORT))]
    if served.name != "ceiling":
        quiet(slack)
    bad = [a.status for a in answers if a.status != 200]
    if bad:
        raise RuntimeError(f"warm-up requests to {served.name} answered {bad}")


def touch(served: Served, slack: SlackStandIn, engine: Engine, councils: list[str], token: str,
          due: list[int]) -> None:
    """Requests that read the open tickets, each checked; then the in-process sweep and its posts."""
    began = time.monotonic()
    driver = SlackDriver(f"{served.url}/slack/events", SECRET, hooks_url=slack.hooks_url)
    published, hooks = len(slack.calls_to("views.publish")), len(slack.calls_to("response_url"))
    for request in (driver.app_home_opened(user=ENGINEER, user_team=SUPPORT),
                    driver.app_home_opened(user=ALICE, user_team=CHERWELL)):
        if driver.send_event(request).status != 200:
            raise RuntimeError("App Home: not acked")
    for command in (driver.slash_command("list", user=ENGINEER, user_team=SUPPORT, channel=TRIAGE),
                    driver.slash_command("list", user=ALICE, user_team=CHERWELL, channel=CHERWELL_CHANNEL)):
        if driver.send_form(command).status != 200:
            raise RuntimeError("/desk list: not acked")
    slack.wait_for("views.publish", count=published + 2, timeout=120)
    slack.wait_for("response_url", count=hooks + 2, timeout=120)
    log(f"App Home and /desk list answered ({time.monotonic() - began:.1f} s)")
    now = datetime.now(UTC)
    links = LinkMaker(served.url, derive_secret(SECRET))
    link, _ = links.url(councils[0], (now - timedelta(days=30)).date(), now.date(), now=now)
    page = get(link)
    log(f"report page served ({time.monotonic() - began:.1f} s)")
    if b"<html" not in page.lower():
        raise RuntimeError("the report page is not HTML")
    bearer = {"Authorization": f"Bearer {token}"}
    listed = json.loads(get(f"{served.url}/api/v1/tickets?limit=100", bearer))
    log(f"/api/v1/tickets served ({time.monotonic() - began:.1f} s)")
    sla = json.loads(get(f"{served.url}/api/v1/sla", bearer))
    log(f"/api/v1/sla served ({time.monotonic() - began:.1f} s)")
    if not listed.get("tickets") or not sla:
        raise RuntimeError(f"/api/v1 answered nothing: {str(listed)[:200]} {str(sla)[:200]}")
    if engine.dialect.name == "sqlite":  # elsewhere the web process runs no jobs: `desk worker` sweeps them
        escalated(engine, due, "the in-process sweep")
    quiet(slack)


def escalated(engine: Engine, ids: list[int], who: str) -> None:
    """Until each due ticket has its notification in the outbox and it is posted (the dispatcher's job);
    exactly one each."""
    def statuses() -> dict[str, int]:
        with engine.connect() as connection:
            return dict(connection.execute(select(OUTBOX.c.status, func.count()).where(
                OUTBOX.c.ticket_id.in_(ids)).group_by(OUTBOX.c.status)).all())
    wait_until(lambda: sum(statuses().values()) >= len(ids) and "pending" not in statuses(),
               f"{who} to escalate {len(ids)} tickets", timeout=180)
    if (counts := statuses()) != {"sent": len(ids)}:
        raise RuntimeError(f"{who}: outbox rows of the due tickets {counts}, expected {len(ids)} sent")


def seed(url: str, total: int) -> tuple[Seeder, list[int], list[int]]:
    """The schema, the test playbooks, one real P1 ticket per council opened now, and clones of them until
    `total` are open: each clone's first step at least 12 minutes ahead, except DUE of them, overdue now.
    Returns the seeder, the ids of those due, and of DUE more for the worker's sweep to find."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    now = datetime.now(UTC).replace(microsecond=0)
    seeder = Seeder.start(engine, opened_at=now)
    spread = spread_delta(seeder.first_clone)
    step = (total - seeder.first_clone) // (2 * DUE)
    due_now = [seeder.first_clone + k * 2 * step for k in range(DUE)]
    due = set(due_now)
    seeder.delta_of = lambda ticket_id: OVERDUE if ticket_id in due else spread(ticket_id)
    seeder.grow(total)
    clone_events(seeder)
    return seeder, due_now, [seeder.first_clone + (2 * k + 1) * step for k in range(DUE)]


def clone_events(seeder: Seeder) -> None:
    """Each clone gets its template's events (its `opened`), shifted as its clocks are, appended to its
    council's log: the report replays tickets from their events. The hashes are placeholders (this
    database is never audited)."""
    with seeder.engine.begin() as connection:
        templates = {t.ticket["id"]: t for t in seeder.templates}
        events = {tid: [r._asdict() for r in connection.execute(
            select(EVENTS).where(EVENTS.c.ticket_id == tid).order_by(EVENTS.c.seq))] for tid in templates}
        last_seq = dict(connection.execute(select(COUNCILS.c.id, COUNCILS.c.last_seq)).all())
        clones = connection.execute(select(TICKETS.c.id, TICKETS.c.ref, TICKETS.c.council_id).where(
            TICKETS.c.id >= seeder.first_clone).order_by(TICKETS.c.id)).all()
        rows = []
        for ticket_id, ref, council_id in clones:
            template, delta = seeder.template_of(ticket_id), seeder.delta_of(ticket_id)
            for event in events[template.ticket["id"]]:
                last_seq[council_id] += 1
                rows.append(shifted({k: v for k, v in event.items() if k != "id"}, delta, ticket_id=ticket_id,
                                    ticket_ref=ref, seq=last_seq[council_id], prev_hash="0" * 64, hash="0" * 64))
            if len(rows) >= CHUNK:
                connection.execute(insert(EVENTS), rows)
                rows = []
        if rows:
            connection.execute(insert(EVENTS), rows)
        for council_id, seq in last_seq.items():
            connection.execute(update(COUNCILS).where(COUNCILS.c.id == council_id).values(last_seq=seq))


def make_due(seeder: Seeder, ids: list[int]) -> None:
    """The clocks of `ids` as if opened 25 minutes ago: their first step is due."""
    params = []
    for ticket_id in ids:
        for clock in seeder.template_of(ticket_id).clocks:
            due = shifted(clock, OVERDUE)
            params.append({"b_ticket": ticket_id, "b_metric": clock["metric"],
                           **{k: due[k] for k in ("started_at", "running_since", "due_at", "next_step_at")}})
    with seeder.engine.begin() as connection:
        connection.execute(update(CLOCKS).where(CLOCKS.c.ticket_id == bindparam("b_ticket"),
                                                CLOCKS.c.metric == bindparam("b_metric")), params)


def target_line(what: str, met: bool, measured: str, goal: str) -> str:
    """One issue-16 target in the form bench/run_all.py collects."""
    return f"- target: {what}: {'met' if met else 'not met'} ({measured} against {goal})"


def spread(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k open tickets instead of 100k")
    parser.add_argument("--tickets", type=int, help="open tickets (default 100k, quick 10k)")
    parser.add_argument("--database", help="SQLAlchemy URL of a server: new databases are created on it and "
                                           "dropped (default: temporary SQLite files)")
    args = parser.parse_args(argv)
    total = args.tickets or (10_000 if args.quick else 100_000)
    rows: list[tuple[str, list[float], list[float]]] = []
    problems: list[str] = []
    slack = stand_in()
    began = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="bench_memory_") as directory:
            log_dir = Path(directory)
            with serving("ceiling", desk_env("sqlite://", slack), log_dir) as floor:
                warm_up(floor, slack)
                rows.append(("floor: bare signature check under gunicorn", *sample(floor.pids)))
            slack.reset()
            with fresh_database(args.database) as url:
                env = desk_env(url, slack)
                engine = make_engine(url)
                migrate.upgrade(engine)
                Seeder.start(engine)  # the playbooks synced (and three tickets), as `desk playbooks sync` does
                engine.dispose()
                with serving("desk", env, log_dir) as desk:
                    warm_up(desk, slack)
                    rows.append(("`desk serve --http`, idle, no open tickets", *sample(desk.pids)))
            with fresh_database(args.database) as url:
                seeded = time.monotonic()
                seeder, serve_due, worker_due = seed(url, total)
                log(f"seeded {total:,} open tickets in {time.monotonic() - seeded:.0f} s")
                with unit_of_work(seeder.engine) as session:
                    councils = [t.ticket["council_id"] for t in seeder.templates]
                    token = api_tokens.create(session, council_id=councils[0], name="bench", at=datetime.now(UTC))
                env = desk_env(url, slack)
                slack.reset()
                with serving("desk", env, log_dir) as desk:
                    warm_up(desk, slack)
                    rows.append((f"`desk serve --http`, {total:,} open tickets, after start", *sample(desk.pids)))
                    touched = time.monotonic()
                    touch(desk, slack, seeder.engine, councils, token.secret, serve_due)
                    log(f"requests and the sweep took {time.monotonic() - touched:.0f} s")
                    swept = f", a sweep escalating {DUE}" if seeder.engine.dialect.name == "sqlite" else ""
                    rows.append((f"`desk serve --http`, {total:,} open tickets, after App Home, lists, report, "
                                 f"API{swept}", *sample(desk.pids)))
                make_due(seeder, worker_due)
                with serving("worker", env, log_dir) as worker:
                    in_web = seeder.engine.dialect.name == "sqlite"
                    escalated(seeder.engine, worker_due + ([] if in_web else serve_due), "`desk worker`'s sweep")
                    quiet(slack)
                    rows.append((f"`desk worker`, {total:,} open tickets, idle after a sweep escalating "
                                 f"{DUE if in_web else 2 * DUE}",
                                 *sample(worker.pids)))
                seeder.engine.dispose()
            problems += [f"stand-in violation: {v}" for v in slack.violations]
    except RuntimeError as err:
        problems.append(str(err))
    finally:
        slack.stop()
    log(f"ran in {time.monotonic() - began:.0f} s")

    workers, threads = serve_defaults()
    database = make_url(args.database).get_backend_name() if args.database else "SQLite (temporary file)"
    print("### Memory: resident size of desk's processes\n")
    print(f"RSS and PSS from /proc/PID/smaps_rollup, summed over the process tree (gunicorn master + "
          f"{workers} worker, {threads} threads), median of {SAMPLES} readings 0.2 s apart (min-max); "
          f"Python {platform.python_version()}, gunicorn {version('gunicorn')}, {database}.\n")
    if rows:
        floor_rss, floor_pss = statistics.median(rows[0][1]), statistics.median(rows[0][2])
        print("| process | RSS MB (min-max) | PSS MB (min-max) | RSS ÷ floor | PSS ÷ floor |")
        print("|---|---:|---:|---:|---:|")
        for what, rss, pss in rows:
            print(f"| {what} | {spread(rss)} | {spread(pss)} | {statistics.median(rss) / floor_rss:.2f} "
                  f"| {statistics.median(pss) / floor_pss:.2f} |")
        print()
        idle = [rss for what, rss, _ in rows if what.startswith("`desk serve --http`, idle")]
        if idle:
            idle_rss = statistics.median(idle[0])
            print(target_line("idle `desk serve` RSS", idle_rss <= RSS_GOAL_MB, f"{idle_rss:.1f} MB",
                              f"at most {RSS_GOAL_MB} MB"))
            print(target_line("idle `desk serve` RSS ÷ bare gunicorn's", idle_rss / floor_rss <= RATIO_GOAL,
                              f"{idle_rss / floor_rss:.2f}x of {floor_rss:.1f} MB", f"at most {RATIO_GOAL}x"))
    print(f"- checks (every request answered, each sweep escalated exactly the {DUE} due tickets and their notifications "
          f"were posted, no Slack stand-in violations): {'passed' if not problems else 'FAILED'}")
    for problem in problems:
        print(f"- FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
