"""Posting weekly digests: the council's in its digest channel, the managers' to each service manager.

The text and chart are rendered at send time from the week's figures (`desk.rendering.digests`), exactly
what `desk digest preview` prints; the chart goes up with the files upload API into the digest's thread.
Each post is recorded on the outbox row as Slack accepts it, so a retry never posts a part twice.

The week's figures are read in a read-only transaction (on SQLite it takes no write lock, so the acks of
the web process, which on SQLite shares the worker's process, never queue behind a digest) and rendered
after it has ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_sdk.models.blocks import SectionBlock

from desk.db.engine import read_only
from desk.services import digests, outbox_records
from desk.services.ports import DeliveryFailed, OutboxItem
from desk.services.tenancy import support_definition
from desk.slack.blocks import Message
from desk.slack.blocks.kit import dicts, mrkdwn

COMPUTE_WITHIN = 120  # seconds a digest's reads may take on PostgreSQL (statement_timeout) before it is retried

if TYPE_CHECKING:  # rendering (Jinja2, Pillow) is imported when a digest is delivered, not by the web process
    from desk.rendering.digests import RenderedDigest


def _message(rendered: RenderedDigest) -> Message:
    blocks = [SectionBlock(text=mrkdwn(section)) for section in rendered.sections[:45]]
    first_line = rendered.text.splitlines()[0] if rendered.text else "Weekly digest"
    return Message(text=first_line[:300], blocks=dicts(blocks))


def _post_with_chart(notifier, item: OutboxItem, channel: str, rendered: RenderedDigest) -> str:
    """The digest, then its chart in the digest's thread; each part recorded as Slack accepts it, so a
    retry (the upload was refused, say) posts only what is missing, never the text twice."""
    done = (item.payload.get("progress") or {}).get(channel) or {}
    if "ts" in done:
        conversation, ts = done["conversation"], done["ts"]
    else:
        conversation, ts = notifier.post(channel, _message(rendered))
        outbox_records.record_progress(notifier.deps.engine, item, channel, {"conversation": conversation, "ts": ts})
    if rendered.chart_png and not done.get("chart"):
        notifier.client.files_upload_v2(channel=conversation, content=rendered.chart_png, filename="digest.png",
                                        title=rendered.chart_title, thread_ts=ts)
        outbox_records.record_progress(notifier.deps.engine, item, channel, {"chart": True})
    return ts


def deliver_council(notifier, item: OutboxItem) -> str:
    from desk.rendering.digests import render_council

    with read_only(notifier.deps.engine, timeout_seconds=COMPUTE_WITHIN) as session:
        figures = digests.council_digest(session, council_id=item.payload["council"], week=item.payload["week"])
    rendered = render_council(figures)  # outside any transaction: a chart takes a while to draw
    if not item.target:
        raise DeliveryFailed("the council has no digest channel", permanent=True)
    return _post_with_chart(notifier, item, item.target, rendered)


def deliver_managers(notifier, item: OutboxItem) -> str | None:
    from desk.rendering.digests import render_managers

    with read_only(notifier.deps.engine, timeout_seconds=COMPUTE_WITHIN) as session:
        figures = digests.managers_digest(session, week=item.payload["week"])
        managers = list(support_definition(session).get("service_managers") or [])
    rendered = render_managers(figures)
    first = None
    for person in notifier.people(managers):
        ts = _post_with_chart(notifier, item, person, rendered)
        first = first or ts
    return first


DIGEST_RENDERERS = {"digest": deliver_council, "managers_digest": deliver_managers}
