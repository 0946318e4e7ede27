"""A digest whose chart upload fails is retried from where it stopped: the text is never posted twice."""

from __future__ import annotations

from desk.db.engine import unit_of_work
from desk.db.tables import OutboxRow
from desk.services import digests
from tests.scheduling.conftest import Rig
from tests.slack.conftest import CHERWELL_CHANNEL


def test_a_refused_chart_upload_is_retried_without_posting_the_digest_again(rig: Rig) -> None:
    with unit_of_work(rig.engine) as session:
        row = digests.enqueue(session, council_id="cherwell", week="2026-W01", at=rig.clock.now())
        assert row is not None
        row_id = row.id
    rig.slack.inject("files.getUploadURLExternal", error="internal_error")
    worker = rig.worker()

    first = worker.dispatch()
    assert (first.sent, first.retried) == (0, 1)
    texts = [c for c in rig.posts() if c.args["channel"] == CHERWELL_CHANNEL]
    assert len(texts) == 1  # the digest went out; its chart did not
    with unit_of_work(rig.engine) as session:
        stored = session.get(OutboxRow, row_id)
        assert stored.status == "pending" and stored.last_error == "internal_error"
        assert stored.payload["progress"][CHERWELL_CHANNEL]["ts"] == texts[0].response["ts"]

    rig.clock.advance(minutes=5)  # past the backoff
    second = worker.dispatch()
    assert second.sent == 1
    assert [c for c in rig.posts() if c.args["channel"] == CHERWELL_CHANNEL] == texts  # not posted again
    uploads = [c for c in rig.slack.calls_to("files.completeUploadExternal") if c.ok]
    assert len(uploads) == 1 and uploads[0].args["thread_ts"] == texts[0].response["ts"]
    with unit_of_work(rig.engine) as session:
        stored = session.get(OutboxRow, row_id)
        assert (stored.status, stored.slack_ts) == ("sent", texts[0].response["ts"])
        assert stored.payload["progress"][CHERWELL_CHANNEL]["chart"] is True
    rig.clock.advance(hours=1)
    assert worker.dispatch().sent == 0
