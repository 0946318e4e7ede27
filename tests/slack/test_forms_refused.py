"""A form refused by its own ack (errors on its fields) does no work, so its correction is what counts.

Bolt starts a listener's work after the ack whatever the ack said. Slack keeps a form answered with errors
open, to be corrected and submitted again under the same view id, and each form's work records that view
id once (`first_submission`): had the refused submission's work run, it would have acted on what was
missing and taken the view id, and the corrected submission would have been dropped.
"""

from __future__ import annotations

from sqlmodel import Session, select

from desk.db.tables import TicketRow
from desk.services import inbox
from desk.slack.ids import Block, Input, View
from tests.slack.conftest import ALICE, CHERWELL, Desk


def test_a_form_refused_by_its_ack_does_no_work_and_its_correction_is_taken(desk: Desk) -> None:
    """A form's ack may carry errors on its fields, so a submission is Bolt's to answer. Bolt starts the
    work whatever the ack said: a request with a blank title used to open a ticket without one, and take
    the view id, so the corrected submission (same view) was dropped. Now the refused one does nothing,
    its inbox row ends done, and the correction opens the ticket."""
    def intake_form(title: str) -> dict:
        return desk.driver.view_submission(View.INTAKE, user=ALICE, user_team=CHERWELL, private_metadata="{}",
                                           view_id="V0FORM0001",
                                           values={Block.TITLE: {Input.VALUE: title},
                                                   Block.DESCRIPTION: {Input.VALUE: "Since the upgrade"}})

    answer = desk.driver.send_interaction(intake_form("   "))
    desk.settle()
    assert answer.status == 200
    assert answer.json() == {"response_action": "errors", "errors": {str(Block.TITLE): "Required"}}
    with Session(desk.engine) as session:
        assert session.exec(select(TicketRow)).all() == []
        assert inbox.unfinished(session) == 0
    assert desk.driver.send_interaction(intake_form("Card payments failing")).status == 200
    desk.settle()
    with Session(desk.engine) as session:
        assert [(t.title, t.description) for t in session.exec(select(TicketRow)).all()] == [
            ("Card payments failing", "Since the upgrade")]
