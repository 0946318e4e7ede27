"""Digest figures against a seeded week whose every outcome is worked out by hand below.

Cherwell's digest is Monday 09:00 Europe/London, so week 2026-W03 is due Mon 12 Jan 09:00 (GMT = UTC in
January) and covers (Mon 5 Jan 09:00, Mon 12 Jan 09:00]. The standard playbook's hours: mon-thu
09:00-12:30 + 13:30-17:00 (7h), fri 09:00-16:30 (7h30); P1 30m/4h 24x7, P2 1h/8h, P3 4h/24h, P4 8h/80h.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from desk.db.tables import OutboxRow
from desk.errors import InvalidInput
from desk.services import digests, tickets
from desk.services.digest_weeks import parse_week, scheduled_at, window_for
from desk.services.digests import MANAGERS_SCHEDULE, Schedule

ENGINEER, COUNCIL = "U0ENGINEER1", "U0COUNCIL"
WEEK = "2026-W03"
END = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def seed_week(session: Session) -> None:
    """Refs follow the order of the calls. Per ticket: what happens, and what the digest must say."""
    def open_(when: datetime, title: str, council: str = "cherwell", **kw) -> str:
        return tickets.open_ticket(session, council_id=council, title=title, at=when, actor=COUNCIL, **kw).ref

    def reply(ref: str, when: datetime) -> None:
        tickets.reply(session, ref=ref, text="On it", actor=ENGINEER, at=when)

    def resolve(ref: str, when: datetime) -> None:
        tickets.resolve(session, ref=ref, note="Fixed", actor=ENGINEER, at=when)

    # CHW-1 P3, Fri 2 Jan 10:00 (before the window). Replied 11:00 (respond met, before the window).
    # Resolve 24h: Fri 6h30 + Mon 7h + Tue 7h = 20h30, Wed 09:00 + 3h30 -> due Wed 7 Jan 12:30: breached
    # in the window, never resolved: open at the end, the oldest (9d 23h).
    reply(open_(at(2, 10), "Bank file rejected", priority="P3"), at(2, 11))
    # CHW-2 P4: opened, answered and resolved on Fri 2 Jan: nothing in this week.
    ref = open_(at(2, 11), "Old question", priority="P4")
    reply(ref, at(2, 11, 30))
    resolve(ref, at(2, 15))
    # CHW-3 P1 by rule, Mon 5 Jan 10:00: respond due 10:30 (24x7), replied 10:20: met. Resolve due 14:00,
    # resolved 13:00: met.
    ref = open_(at(5, 10), "We cannot take card payments")
    reply(ref, at(5, 10, 20))
    resolve(ref, at(5, 13))
    # CHW-4 P2, Tue 6 Jan 09:30: respond due 10:30, replied 11:00: breached Tue 10:30. Resolve 8h: Tue
    # 6h30, Wed 09:00 + 1h30 -> due Wed 10:30; resolved Wed 15:00: breached Wed 10:30.
    ref = open_(at(6, 9, 30), "Reconciliation totals wrong", priority="P2")
    reply(ref, at(6, 11))
    resolve(ref, at(7, 15))
    # CHW-5 P3, Wed 7 Jan 11:00: replied 11:30 (met), waiting on the council from 12:00, still at the
    # end (the council's answer on Mon 12 Jan 11:00 is after it). Resolve paused: not at risk.
    ref = open_(at(7, 11), "Need the DD mandate export", priority="P3")
    reply(ref, at(7, 11, 30))
    tickets.set_status(session, ref=ref, status="waiting_on_council", actor=ENGINEER, at=at(7, 12))
    tickets.comment(session, ref=ref, text="Attached", actor=COUNCIL, at=at(12, 11))
    # CHW-6 P4, Thu 8 Jan 09:05, a hostile title. Replied 09:10, resolved 10:00 (cycle 1 met), reopened
    # Fri 09:00 and resolved 10:00 (cycle 2 met): one resolved ticket, two resolve cycles.
    ref = open_(at(8, 9, 5), "<!channel> Payments & <b>refunds</b>", priority="P4")
    reply(ref, at(8, 9, 10))
    resolve(ref, at(8, 10))
    tickets.reopen(session, ref=ref, reason="Again", actor=COUNCIL, at=at(9, 9))
    resolve(ref, at(9, 10))
    # CHW-7 P3, Thu 8 Jan 14:00: respond 4h = Thu 3h + Fri 1h -> due Fri 9 Jan 10:00, unanswered at the
    # end: breached, a respond miss. Resolved only after the end (Mon 12 Jan 10:00): open at the end.
    resolve(open_(at(8, 14), "Receipts not printing", priority="P3"), at(12, 10))
    # CHW-8 P3, Fri 9 Jan 16:00, made P2 at 16:10 (10m of 1h used): 50m = Fri 20m + Mon 30m -> respond
    # due Mon 12 Jan 09:30: at risk (not yet breached at 09:00). Resolve: Tue 09:30, beyond Monday.
    ref = open_(at(9, 16), "Card machine offline", priority="P3")
    tickets.change_priority(session, ref=ref, priority="P2", reason="busy", actor=ENGINEER, at=at(9, 16, 10))
    # CHW-9 P3, Mon 12 Jan 08:30 (before hours, inside the window): respond due 09:00 + 4h over lunch ->
    # 14:00: at risk. Made P1 at 10:00, after the end: the digest still says P3, due 14:00.
    ref = open_(at(12, 8, 30), "Report totals look off", priority="P3")
    tickets.change_priority(session, ref=ref, priority="P1", reason="x", actor=ENGINEER, at=at(12, 10))
    # CHW-10, opened Mon 12 Jan 09:30, after the end: not in this digest.
    open_(at(12, 9, 30), "Too late for this week", priority="P2")
    # FIFE-1 P3, Tue 6 Jan 10:00, resolved 12:00: Fife's, never in Cherwell's digest.
    resolve(open_(at(6, 10), "Fife refund stuck", council="fife", priority="P3"), at(6, 12))


def refs(lines) -> list[str]:
    return [line.ref for line in lines]


def test_weeks_and_windows() -> None:
    schedule = Schedule(weekday=0, seconds=9 * 3600, timezone="Europe/London")
    assert scheduled_at(WEEK, schedule) == END
    assert window_for(WEEK, schedule).starts_at == END - timedelta(days=7)
    # Summer: Mon 6 Jul 09:00 BST is 08:00 UTC. Across the October change a week is still 168 real hours:
    # W44 ends Mon 26 Oct 09:00 GMT and starts Mon 19 Oct 10:00 BST, an hour after W43 ended (by design).
    assert scheduled_at("2026-W28", schedule) == datetime(2026, 7, 6, 8, tzinfo=UTC)
    assert window_for("2026-W44", schedule).starts_at == datetime(2026, 10, 19, 9, tzinfo=UTC)
    assert scheduled_at("2026-W43", schedule) == datetime(2026, 10, 19, 8, tzinfo=UTC)
    assert scheduled_at("2026-W02", MANAGERS_SCHEDULE) == datetime(2026, 1, 5, 8, tzinfo=UTC)
    assert parse_week(" 2026-W03 ") == WEEK


def test_every_figure_of_the_council_digest(session: Session) -> None:
    seed_week(session)
    d = digests.council_digest(session, council_id="cherwell", week=WEEK)
    assert (d.window.starts_at, d.window.ends_at, d.channel) == (at(5, 9), END, "C0CHERWELL")
    assert refs(d.opened) == ["CHW-3", "CHW-4", "CHW-5", "CHW-6", "CHW-7", "CHW-8", "CHW-9"]
    assert refs(d.resolved) == ["CHW-3", "CHW-4", "CHW-6"]
    assert refs(d.still_open) == ["CHW-1", "CHW-5", "CHW-7", "CHW-8", "CHW-9"]
    assert refs(d.waiting_on_council) == ["CHW-5"]
    # The first working day at or after Mon 09:00 is Monday itself: at risk means due by Mon 17:00.
    assert d.at_risk_until == at(12, 17)
    assert [(r.ticket.ref, r.ticket.priority, r.metric, r.due_at) for r in d.at_risk] == [
        ("CHW-8", "P2", "respond", at(12, 9, 30)), ("CHW-9", "P3", "respond", at(12, 14))]
    assert [(b.ticket.ref, b.metric, b.cycle, b.breached_at) for b in d.breaches] == [
        ("CHW-4", "respond", 1, at(6, 10, 30)), ("CHW-4", "resolve", 1, at(7, 10, 30)),
        ("CHW-1", "resolve", 1, at(7, 12, 30)), ("CHW-7", "respond", 1, at(9, 10))]
    assert d.oldest_open is not None
    assert (d.oldest_open.ticket.ref, d.oldest_open.age) == ("CHW-1", timedelta(days=9, hours=23))
    # Respond stopped in the window: CHW-3 met, CHW-4 missed, CHW-5 met, CHW-6 met; CHW-7 still running
    # and breached: a miss. 3 of 5.
    assert [(o.ref, o.met) for o in d.respond.outcomes] == [
        ("CHW-3", True), ("CHW-4", False), ("CHW-5", True), ("CHW-6", True), ("CHW-7", False)]
    assert (d.respond.met, d.respond.total, d.respond.percent) == (3, 5, 60)
    # Resolve cycles stopped in the window: CHW-3 met, CHW-4 missed, CHW-6 cycles 1 and 2 met. 3 of 4.
    assert [(o.ref, o.cycle, o.met) for o in d.resolve.outcomes] == [
        ("CHW-3", 1, True), ("CHW-4", 1, False), ("CHW-6", 1, True), ("CHW-6", 2, True)]
    assert (d.resolve.met, d.resolve.total, d.resolve.percent) == (3, 4, 75)
    # 24-hour buckets from Mon 09:00: opened 3 | 4 | 5 | 6, 7 | 8 | - | 9; resolved 3 | - | 4 | 6 | 6 | - | -.
    assert [(b.starts_at, b.opened, b.resolved) for b in d.days] == [
        (at(5 + i, 9), opened, resolved)
        for i, (opened, resolved) in enumerate([(1, 1), (1, 0), (1, 1), (2, 1), (1, 1), (0, 0), (1, 0)])]
    assert not d.quiet


def test_a_council_digest_never_mentions_another_councils_tickets(session: Session) -> None:
    seed_week(session)
    d = digests.council_digest(session, council_id="cherwell", week=WEEK)
    assert "FIFE" not in repr(d) and "Fife refund" not in repr(d)
    with pytest.raises(InvalidInput, match="no digest schedule"):  # Fife has none: refused, not guessed
        digests.council_digest(session, council_id="fife", week=WEEK)


def test_a_miss_by_silence_counts_in_the_week_it_happens_not_every_week_after(session: Session) -> None:
    seed_week(session)
    # W04 (Mon 12 Jan 09:00, Mon 19 Jan 09:00]: CHW-7's respond stopped late on Mon 10:00 (by resolving);
    # CHW-8 (due 09:30), CHW-10 (P2 from 09:30: due 10:30) and CHW-9 (made P1 at 10:00 with 1h of a 30m
    # target used: breached then) stay unanswered. 0 of 4.
    w04 = digests.council_digest(session, council_id="cherwell", week="2026-W04")
    assert [(o.ref, o.met) for o in w04.respond.outcomes] == [
        ("CHW-7", False), ("CHW-8", False), ("CHW-9", False), ("CHW-10", False)]
    assert [(r.ticket.ref, r.ticket.priority) for r in w04.at_risk] == []
    assert refs(w04.still_open) == ["CHW-1", "CHW-5", "CHW-8", "CHW-9", "CHW-10"]
    # Weeks later nothing new was due: still open, but no respond target came due in the week.
    later = digests.council_digest(session, council_id="cherwell", week="2026-W10")
    assert later.respond.total == 0 and not later.breaches and len(later.still_open) == 5


def test_a_quiet_week(session: Session) -> None:
    d = digests.council_digest(session, council_id="cherwell", week="2026-W10")
    assert d.quiet and d.oldest_open is None and d.respond.percent is None
    assert [b.opened for b in d.days] == [0] * 7


def test_the_window_is_open_at_its_start_and_closed_at_its_end(session: Session) -> None:
    tickets.open_ticket(session, council_id="cherwell", title="At the start", at=at(5, 9), actor=COUNCIL)
    tickets.open_ticket(session, council_id="cherwell", title="At the end", at=END, actor=COUNCIL)
    assert refs(digests.council_digest(session, council_id="cherwell", week=WEEK).opened) == ["CHW-2"]
    assert refs(digests.council_digest(session, council_id="cherwell", week="2026-W02").opened) == ["CHW-1"]


def test_each_day_of_the_chart_is_open_at_its_start_and_closed_at_its_end(session: Session) -> None:
    for when in (at(5, 9), at(6, 9), at(6, 9, 1), at(11, 9), END):  # the window's start is in no day
        tickets.open_ticket(session, council_id="cherwell", title="On the hour", at=when, actor=COUNCIL)
    d = digests.council_digest(session, council_id="cherwell", week=WEEK)
    assert [b.opened for b in d.days] == [1, 1, 0, 0, 0, 1, 1]


def test_the_managers_digest(session: Session) -> None:
    seed_week(session)
    d = digests.managers_digest(session, week=WEEK)
    # Mon 12 Jan 08:00: the window is (Mon 5 Jan 08:00, Mon 12 Jan 08:00], so CHW-9 (08:30) is out.
    assert (d.window.starts_at, d.window.ends_at, d.recipients) == (at(5, 8), at(12, 8), ("U0MANAGER",))
    table = {(r.council_id, r.priority): (r.opened, r.resolved, (r.respond.met, r.respond.total),
                                          (r.resolve.met, r.resolve.total)) for r in d.rows}
    assert table == {
        ("cherwell", "P1"): (("CHW-3",), ("CHW-3",), (1, 1), (1, 1)),
        ("cherwell", "P2"): (("CHW-4", "CHW-8"), ("CHW-4",), (0, 1), (0, 1)),
        ("cherwell", "P3"): (("CHW-5", "CHW-7"), (), (1, 2), (0, 0)),
        ("cherwell", "P4"): (("CHW-6",), ("CHW-6",), (1, 1), (2, 2)),
        ("fife", "P3"): (("FIFE-1",), ("FIFE-1",), (1, 1), (1, 1)),
    }
    assert [(c.council_id, len(c.opened), c.respond.percent, c.resolve.percent) for c in d.councils] == [
        ("belfast", 0, None, None), ("cherwell", 6, 60, 75), ("fife", 1, 100, 100)]
    assert (len(d.total.opened), len(d.total.resolved), d.total.respond.met, d.total.respond.total,
            d.total.resolve.met, d.total.resolve.total) == (7, 4, 4, 6, 4, 5)
    assert [(b.council_id, b.breach.ticket.ref, b.breach.metric) for b in d.breaches] == [
        ("cherwell", "CHW-4", "respond"), ("cherwell", "CHW-4", "resolve"),
        ("cherwell", "CHW-1", "resolve"), ("cherwell", "CHW-7", "respond")]


def outbox(session: Session) -> list[tuple[str, str, str | None, dict]]:
    rows = session.exec(select(OutboxRow).order_by(OutboxRow.id)).all()
    return [(r.idempotency_key, r.kind, r.target, r.payload) for r in rows]


def test_enqueue_once_then_force(session: Session) -> None:
    first = digests.enqueue(session, council_id="cherwell", week=WEEK, at=at(12, 10))
    assert first is not None and first.available_at == at(12, 10) and first.council_id == "cherwell"
    assert digests.enqueue(session, council_id="cherwell", week=WEEK, at=at(12, 11)) is None
    digests.enqueue(session, council_id="cherwell", week=WEEK, at=at(12, 12), force=True)
    digests.enqueue(session, council_id="cherwell", week=WEEK, at=at(12, 13), force=True)
    digests.enqueue_managers(session, week=WEEK, at=at(12, 10))
    assert digests.enqueue_managers(session, week=WEEK, at=at(12, 10)) is None
    payload = {"council": "cherwell", "week": WEEK}
    assert outbox(session) == [
        ("digest:cherwell:2026-W03", "digest", "C0CHERWELL", payload),
        ("digest:cherwell:2026-W03:force:2", "digest", "C0CHERWELL", payload),
        ("digest:cherwell:2026-W03:force:3", "digest", "C0CHERWELL", payload),
        ("managers_digest:2026-W03", "managers_digest", None, {"week": WEEK})]


def test_a_week_queued_early_waits_for_its_instant(session: Session) -> None:
    row = digests.enqueue(session, council_id="cherwell", week=WEEK, at=at(10, 12))
    assert row is not None and row.available_at == END


def test_a_race_with_another_worker_is_already_queued_not_a_crash(session: Session) -> None:
    # The check counts the week's rows (here one, under an unusual key) and picks the next key, but
    # another worker got there first: the unique key refuses the insert, the savepoint absorbs it.
    session.add(OutboxRow(idempotency_key="digest:cherwell:2026-W03:force:2", kind="digest",
                          created_at=END, available_at=END))
    session.flush()
    assert digests.enqueue(session, council_id="cherwell", week=WEEK, at=END, force=True) is None
    assert [key for key, *_ in outbox(session)] == ["digest:cherwell:2026-W03:force:2"]
    assert digests.enqueue_managers(session, week=WEEK, at=END) is not None  # the transaction lives on


def test_enqueue_due_queues_this_weeks_digests_once_and_never_a_backlog(session: Session) -> None:
    def due(now: datetime) -> list[str]:
        return [row.idempotency_key for row in digests.enqueue_due(session, now=now)]

    # Mon 12 Jan 08:30: the managers' digest (08:00) is due, Cherwell's (09:00) not yet; Fife and Belfast
    # have no schedule.
    assert due(at(12, 8, 30)) == ["managers_digest:2026-W03"]
    assert due(at(12, 9)) == ["digest:cherwell:2026-W03"]
    assert due(at(12, 9, 1)) == [] and due(at(18, 23)) == []  # Sun 18 Jan: still W03, all queued
    # Down from Sunday to Wednesday 21 Jan: this week's W04 is caught up; nothing older is invented.
    assert due(at(21, 12)) == ["digest:cherwell:2026-W04", "managers_digest:2026-W04"]
    assert due(at(21, 12)) == []
    assert len(outbox(session)) == 4


def test_enqueue_due_reads_the_schedule_in_local_time(session: Session) -> None:
    # Mon 6 Jul 2026: 09:00 BST is 08:00 UTC (managers: 08:00 BST = 07:00 UTC).
    assert [r.idempotency_key for r in digests.enqueue_due(session, now=datetime(2026, 7, 6, 7, 59, tzinfo=UTC))] \
        == ["managers_digest:2026-W28"]
    assert [r.idempotency_key for r in digests.enqueue_due(session, now=datetime(2026, 7, 6, 8, tzinfo=UTC))] \
        == ["digest:cherwell:2026-W28"]


@pytest.mark.parametrize("bad", ["2026-02", "2026-W54", "2025-W53", "W03", ""])
def test_a_bad_week_is_refused_naming_the_argument(bad: str) -> None:
    with pytest.raises(InvalidInput, match="^--week: .* is not an ISO week like 2026-W02"):
        parse_week(bad, name="--week")
