"""The schema: one SQLModel class per table. Instants are aware UTC (`UTCDateTime`).

Migrations in `desk/migrations` create exactly this; `tests/db/test_migrations.py` checks they agree.
Besides these, migration 0013 makes the full-text index of tickets (an FTS5 table on SQLite, a `tsvector`
table with a GIN index on PostgreSQL), which has no portable SQLModel form: desk/db/search_index.py owns it.
Migration 0017 adds the triggers that bump `config_stamp` (desk/db/stamps.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from desk.db.types import UTCDateTime


def _instant(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class CouncilRow(SQLModel, table=True):
    """A council from councils.yaml. Refs are numbered from `next_number` under this row's lock."""

    __tablename__ = "council"

    id: str = Field(primary_key=True, max_length=64)
    name: str
    ref_prefix: str = Field(unique=True, max_length=8)
    playbook_id: str = Field(max_length=64)
    division: str | None = None
    slack: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    digest: dict | None = Field(default=None, sa_column=Column(JSON))
    retention: dict | None = Field(default=None, sa_column=Column(JSON))  # {"redact_after_days": N}
    next_number: int = 1
    # The head of this council's event chain: lets `desk audit verify` notice a truncated log too.
    last_seq: int = 0
    last_hash: str = Field(default="0" * 64, max_length=64)
    active: bool = True
    updated_at: datetime = _instant()


class PlaybookVersionRow(SQLModel, table=True):
    """An immutable version of one playbook; tickets point at the version they were opened under."""

    __tablename__ = "playbook_version"
    __table_args__ = (UniqueConstraint("playbook_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    playbook_id: str = Field(index=True, max_length=64)
    version: int
    content_hash: str = Field(max_length=64)
    source: str = Field(sa_column=Column(Text, nullable=False))
    current: bool = True
    created_at: datetime = _instant()


class SavedReplyVersionRow(SQLModel, table=True):
    """An immutable version of one saved reply (playbooks/replies.yaml); `current` is false for a reply's
    older versions and for a reply no longer in the file. A posted reply's event names the version."""

    __tablename__ = "saved_reply_version"
    __table_args__ = (UniqueConstraint("reply_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    reply_id: str = Field(index=True, max_length=64)
    version: int
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    content_hash: str = Field(max_length=64)
    current: bool = True
    created_at: datetime = _instant()


class SupportConfigRow(SQLModel, table=True):
    """The `support:` block of councils.yaml (triage channel, duty lead, managers): a single row."""

    __tablename__ = "support_config"

    id: int = Field(default=1, primary_key=True)
    definition: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(max_length=64)
    updated_at: datetime = _instant()


class TicketRow(SQLModel, table=True):
    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("council_id", "number"),
        UniqueConstraint("slack_channel", "slack_ts", name="uq_ticket_slack_message"),
        # The closing pass's only query: resolved tickets due to close by now. Partial: open and closed
        # tickets cost nothing.
        Index("ix_ticket_close_due_at", "close_due_at",
              sqlite_where=text("close_due_at IS NOT NULL"),
              postgresql_where=text("close_due_at IS NOT NULL")),
        # Every card names its follow-ups: `follow_up_of IN (...)`. Partial: nearly every ticket has none,
        # and SQLite's statistics (after ANALYZE) would count those as one huge key and scan the table.
        Index("ix_ticket_follow_up_of", "follow_up_of",
              sqlite_where=text("follow_up_of IS NOT NULL"),
              postgresql_where=text("follow_up_of IS NOT NULL")),
        # Looked up by value only (an engineer's tickets, the ticket of a triage card), never as NULL; a new
        # ticket has neither, so intake writes neither index (issue 16: each index is a page a ticket writes).
        Index("ix_ticket_assignee", "assignee",
              sqlite_where=text("assignee IS NOT NULL"), postgresql_where=text("assignee IS NOT NULL")),
        Index("ix_ticket_card_ts", "card_ts",
              sqlite_where=text("card_ts IS NOT NULL"), postgresql_where=text("card_ts IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    # indexed by UniqueConstraint("council_id", "number"), which leads with it
    council_id: str = Field(foreign_key="council.id", max_length=64)
    number: int
    ref: str = Field(unique=True, max_length=32)
    title: str
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    requester: str | None = None
    assignee: str | None = None  # indexed: ix_ticket_assignee
    status: str = Field(default="new", index=True, max_length=32)
    priority: str = Field(max_length=16)
    category: str | None = None
    impact: str | None = None
    urgency: str | None = None
    triage_rule: str | None = None
    playbook_version_id: int = Field(foreign_key="playbook_version.id")
    opened_at: datetime = _instant()
    updated_at: datetime = _instant()
    resolved_at: datetime | None = _instant(nullable=True)
    closed_at: datetime | None = _instant(nullable=True)
    close_due_at: datetime | None = _instant(nullable=True)  # while resolved: when the worker closes it
    slack_channel: str | None = None  # the council thread: the request itself, or desk's post for it
    slack_ts: str | None = None
    confirmation_ts: str | None = None  # desk's threaded confirmation in the council thread
    resolution_ts: str | None = None  # the latest resolution message there (its "Not fixed" button)
    card_channel: str | None = None  # the triage card in the support team's channel
    card_ts: str | None = None  # indexed: ix_ticket_card_ts
    follow_up_of: int | None = Field(default=None, foreign_key="ticket.id")  # indexed: ix_ticket_follow_up_of
    redacted_at: datetime | None = _instant(nullable=True)  # retention removed its people's words


class TicketEventRow(SQLModel, table=True):
    """One change to a ticket, appended to its council's hash chain; never updated or deleted."""

    __tablename__ = "ticket_event"
    __table_args__ = (UniqueConstraint("council_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    council_id: str = Field(foreign_key="council.id", max_length=64)
    seq: int
    # None (and ticket_ref "") for an event about the council itself, e.g. its deactivation
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    ticket_ref: str = Field(max_length=32)
    type: str = Field(max_length=32)
    actor: str
    at: datetime = _instant()
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    # The hash recipe (desk/domain/audit.py): 1 for events written before text was sealed, 2 since.
    hash_version: int = Field(default=1, sa_column_kwargs={"server_default": text("1")})
    # Salts the digests that seal people's words (recipe 2); erased with the words by retention.
    text_salt: str | None = Field(default=None, max_length=32)


class ApiTokenRow(SQLModel, table=True):
    """A council's bearer token for the read-only API. Only the secret's SHA-256 is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    council_id: str = Field(foreign_key="council.id", index=True, max_length=64)
    name: str = Field(max_length=200)
    token_hash: str = Field(unique=True, max_length=64)
    prefix: str = Field(max_length=16)  # the secret's first characters, to recognise it in a list
    created_at: datetime = _instant()
    revoked_at: datetime | None = _instant(nullable=True)
    last_used_at: datetime | None = _instant(nullable=True)


class SlaClockRow(SQLModel, table=True):
    """One metric in one cycle of a ticket (a `MetricRun`), with the instant its next step fires."""

    __tablename__ = "sla_clock"
    __table_args__ = (
        UniqueConstraint("ticket_id", "metric", "cycle"),
        # The sweeper's only query: what fires by now. Partial, so finished clocks cost nothing.
        Index("ix_sla_clock_next_step_at", "next_step_at",
              sqlite_where=text("next_step_at IS NOT NULL"),
              postgresql_where=text("next_step_at IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")  # indexed by the UniqueConstraint, which leads with it
    metric: str = Field(max_length=16)
    cycle: int
    started_at: datetime = _instant()
    target_seconds: int
    clock: str = Field(max_length=16)
    consumed_before: int = 0
    running_since: datetime | None = _instant(nullable=True)
    paused_at: datetime | None = _instant(nullable=True)
    paused_seconds: int = 0
    stopped_at: datetime | None = _instant(nullable=True)
    breached_at: datetime | None = _instant(nullable=True)
    due_at: datetime | None = _instant(nullable=True)
    fired: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    next_step_at: datetime | None = _instant(nullable=True)


class OutboxRow(SQLModel, table=True):
    """A notification to post, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "available_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=32)
    council_id: str | None = Field(default=None, foreign_key="council.id", max_length=64)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    target: str | None = None  # channel or user id; resolved by the dispatcher when None
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending, sent, failed, cancelled
    attempts: int = 0
    created_at: datetime = _instant()
    available_at: datetime = _instant()
    # A dispatcher's lease: a row claimed but not recorded by then (a crash) is claimed again.
    claimed_until: datetime | None = _instant(nullable=True)
    sent_at: datetime | None = _instant(nullable=True)
    slack_ts: str | None = None
    last_error: str | None = None


class SlackDeliveryRow(SQLModel, table=True):
    """A Slack delivery already acted on (event_id, view submission): redeliveries have no second effect.

    Inserted in the same transaction as the effect, so a crash before commit lets the redelivery work.
    """

    __tablename__ = "slack_delivery"

    key: str = Field(primary_key=True, max_length=200)
    kind: str = Field(max_length=32)
    received_at: datetime = _instant()


class InboxRow(SQLModel, table=True):
    """A Slack request with work to do after its ack, stored before the ack (the durable receipt).

    One INSERT keyed by `key` (`event:<event_id>`): a redelivery finds it and is acked without new work.
    Done when `done_at` is set, or when a `slack_delivery` row has the same key (its effect's transaction
    records that). An unfinished row whose `leased_until` has passed is worked again by the worker.
    """

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_unfinished", "done_at", "leased_until"),)

    key: str = Field(primary_key=True, max_length=200)
    kind: str = Field(max_length=32)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # the body as Slack sent it
    received_at: datetime = _instant()
    leased_until: datetime = _instant()  # whoever holds it works it until then; after, anyone may
    attempts: int = 0  # claims by the rework job (the first, live, attempt is not counted)
    done_at: datetime | None = _instant(nullable=True)


class TicketRatingRow(SQLModel, table=True):
    """A council's satisfaction rating for one resolution (one per resolve cycle)."""

    __tablename__ = "ticket_rating"
    __table_args__ = (UniqueConstraint("ticket_id", "cycle"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    cycle: int
    score: int
    rated_by: str
    rated_at: datetime = _instant()


class ProblemRow(SQLModel, table=True):
    """A fault behind many councils' tickets, in the support team's space (desk/domain/problems.py)."""

    __tablename__ = "problem"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))  # for councils to read
    status: str = Field(default="investigating", index=True, max_length=32)
    workaround: str | None = Field(default=None, sa_column=Column(Text))
    owner: str | None = None  # a support member's user id
    match: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # phrases, lower case
    triage_rule: str | None = None  # intake matches this rule or category (from the ticket it started from)
    category: str | None = None
    from_ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    opened_by: str
    opened_at: datetime = _instant()
    updated_at: datetime = _instant()
    resolved_at: datetime | None = _instant(nullable=True)
    resolution_note: str | None = Field(default=None, sa_column=Column(Text))
    triage_channel: str | None = None  # the problem's own message in the triage channel (updated in place)
    triage_ts: str | None = None


class ProblemLinkRow(SQLModel, table=True):
    """A ticket linked to a problem. Unlinking keeps the row (`unlinked_at`), so reports can still say a
    ticket was once part of a problem; linking again clears it."""

    __tablename__ = "problem_link"
    __table_args__ = (UniqueConstraint("problem_id", "ticket_id"),)

    id: int | None = Field(default=None, primary_key=True)
    problem_id: int = Field(foreign_key="problem.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    how: str = Field(max_length=16)  # origin, manual, auto
    linked_by: str
    linked_at: datetime = _instant()
    unlinked_by: str | None = None
    unlinked_at: datetime | None = _instant(nullable=True)


class ProblemChainRow(SQLModel, table=True):
    """The head of the problems' own event chain (one row): its lock serialises problem changes, and
    `desk audit verify` compares the log's end with it to notice a truncated log."""

    __tablename__ = "problem_chain"

    id: int = Field(default=1, primary_key=True)
    last_seq: int = 0
    last_hash: str = Field(default="0" * 64, max_length=64)


class ProblemEventRow(SQLModel, table=True):
    """One change to a problem, on the problems' hash chain (the same recipe as a council's chain, with
    "problems" in the council's place); never updated or deleted. `idempotency_key` makes a repeated
    Slack action (double click, redelivery) find the change it already made."""

    __tablename__ = "problem_event"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    problem_id: int = Field(foreign_key="problem.id", index=True)
    type: str = Field(max_length=32)
    actor: str
    at: datetime = _instant()
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    hash_version: int = 2
    text_salt: str | None = Field(default=None, max_length=32)
    idempotency_key: str | None = Field(default=None, unique=True, max_length=200)
class RoutingTurnRow(SQLModel, table=True):
    """Whose turn it is under one routing rule (`support.rota.routing`): the engineer it chose last.

    Read and written under the row's lock in the transaction that opens the ticket, so replicas opening
    tickets at once take turns instead of choosing the same engineer."""

    __tablename__ = "routing_turn"

    rule_id: str = Field(primary_key=True, max_length=64)
    last_assignee: str | None = Field(default=None, max_length=32)
    updated_at: datetime = _instant()


class ConfigStampRow(SQLModel, table=True):
    """A version stamp of configuration that changes rarely and is read on every request (desk/db/stamps.py):
    `registry` (councils, support block), `problems`. Database triggers set a new random value on every
    change, whoever makes it; processes cache what they read under the stamp they read it at."""

    __tablename__ = "config_stamp"

    name: str = Field(primary_key=True, max_length=32)
    stamp: str = Field(max_length=32)
