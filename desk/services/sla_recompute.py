"""Deadlines again after a calendar change, for every open ticket at once.

A ticket keeps its playbook version, but its clock is its council's calendar as it is now: the council's
GOV.UK division (from councils.yaml) and that division's bank holidays (from the `holidays` data shipped
with desk). When either changes — a division corrected by `desk playbooks sync`, an upgrade bringing a newly
announced bank holiday — the due instants and the sweeper's `next_step_at` stored for running clocks are
stale. A stale instant that is too late would fire a step late, so they are worked out again here.

Cost grows with running clocks, not with history: the rows are streamed in keyset chunks, each chunk in its
own short transaction, and only rows whose instants moved are written. Each write is guarded by the values
it was computed from, so a sweep or a ticket change racing the recompute wins and its row is simply left
as that change wrote it (already on the current calendar).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, and_, bindparam, func, select, update

from desk.db.engine import unit_of_work
from desk.db.tables import CouncilRow, SlaClockRow, TicketRow
from desk.domain.sla import SlaPolicy, TicketSla
from desk.services import sla_state

CHUNK = 2_000

CLOCKS, TICKETS, COUNCILS = SlaClockRow.__table__, TicketRow.__table__, CouncilRow.__table__
_GUARD = ("next_step_at", "due_at", "running_since", "consumed_before")


@dataclass
class RecomputeReport:
    clocks: int = 0  # running clocks looked at
    moved: int = 0  # of which due_at or next_step_at changed (and were written)
    earlier: int = 0  # next step now sooner than stored: these would have fired late
    later: int = 0
    lost_races: int = 0  # rows changed by someone else meanwhile, left as they wrote them
    councils: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"clocks": self.clocks, "moved": self.moved, "earlier": self.earlier, "later": self.later,
                "lost_races": self.lost_races, "councils": self.councils}


def recompute(engine: Engine, *, councils: list[str] | None = None, chunk: int = CHUNK,
              progress: Callable[[RecomputeReport], None] | None = None) -> RecomputeReport:
    """Work out the running clocks' deadlines again (all councils, or only `councils`)."""
    report = RecomputeReport(councils=sorted(councils) if councils is not None else [])
    if councils == []:
        return report
    after = 0
    policies: dict[tuple[int, str], SlaPolicy] = {}  # looked up once per run, not once per row
    while True:
        with unit_of_work(engine) as session:
            rows = session.execute(_chunk_query(councils, after, chunk)).all()
            if not rows:
                return report
            after = rows[-1].id
            changes = []
            for row in rows:
                key = (row.playbook_version_id, row.division)
                policy = policies.get(key) or policies.setdefault(key, sla_state.policy_of(session, *key))
                run = sla_state.to_run(row)
                sla = TicketSla(policy, row.priority, row.status, [run])
                sla.recompute_deadlines()
                next_step_at = sla.next_step_at_for(run)
                report.clocks += 1
                if (run.due_at, next_step_at) == (row.due_at, row.next_step_at):
                    continue
                changes.append({"row_id": row.id, "new_due_at": run.due_at, "new_next_step_at": next_step_at,
                                **{f"old_{name}": getattr(row, name) for name in _GUARD}})
                if row.next_step_at is not None and next_step_at is not None:
                    report.earlier += next_step_at < row.next_step_at
                    report.later += next_step_at > row.next_step_at
            if changes:
                written = session.connection().execute(_guarded_update(), changes).rowcount
                report.moved += written
                report.lost_races += len(changes) - written
        if progress is not None:
            progress(report)


def running_clocks(engine: Engine, *, councils: list[str] | None = None) -> int:
    """How many clocks `recompute` will look at (a command shows its progress against it)."""
    if councils == []:
        return 0
    query = select(func.count()).select_from(CLOCKS).where(CLOCKS.c.running_since.is_not(None))
    if councils is not None:
        query = query.join(TICKETS, TICKETS.c.id == CLOCKS.c.ticket_id).where(TICKETS.c.council_id.in_(councils))
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def _chunk_query(councils: list[str] | None, after: int, chunk: int):
    query = (
        select(CLOCKS, TICKETS.c.priority, TICKETS.c.status, TICKETS.c.playbook_version_id, COUNCILS.c.division)
        .join(TICKETS, TICKETS.c.id == CLOCKS.c.ticket_id)
        .join(COUNCILS, COUNCILS.c.id == TICKETS.c.council_id)
        .where(CLOCKS.c.running_since.is_not(None), CLOCKS.c.id > after)
        .order_by(CLOCKS.c.id)
        .limit(chunk)
    )
    return query if councils is None else query.where(TICKETS.c.council_id.in_(councils))


def _guarded_update():
    guard = [CLOCKS.c[name].is_not_distinct_from(bindparam(f"old_{name}")) for name in _GUARD]
    return (
        update(CLOCKS)
        .where(CLOCKS.c.id == bindparam("row_id"), and_(*guard))
        .values(due_at=bindparam("new_due_at"), next_step_at=bindparam("new_next_step_at"))
        .execution_options(synchronize_session=False)
    )

