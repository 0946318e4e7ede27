"""`/desk report`: service managers get a summary, the CSV and a signed link; everyone else a refusal only.

Through the real front door (signed slash commands to the running app) against the stand-in, over the
hand-computed history of tests/services/test_reports.py (Cherwell: respond 3 of 5, 5 breaches; Fife:
3 of 3, none).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.orm.attributes import flag_modified

from desk.db import queries
from desk.db.engine import unit_of_work
from desk.services.report_links import verify
from tests.services.test_reports import seed
from tests.slack.conftest import (
    ALICE,
    CHERWELL,
    CHERWELL_CHANNEL,
    ENGINEER,
    FIFE_CHANNEL,
    SUPPORT,
    TRIAGE,
    Desk,
)

MANAGER, GROUP_MANAGER = "U0MANAGER", "U0MANAGER2"
MANAGERS_GROUP = "S0MANAGERS"
FEBRUARY = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)  # a Monday: "last-month" is January
UPLOAD_FLOW = ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


@pytest.fixture
def reports(desk: Desk) -> Desk:
    with unit_of_work(desk.engine) as session:
        seed(session)
    desk.clock.at = FEBRUARY
    for person in (MANAGER, GROUP_MANAGER):
        desk.slack.users[person] = {"id": person, "team_id": SUPPORT, "name": person.lower(), "tz": "Europe/London"}
    desk.slack.channels.update({TRIAGE: {"name": "support-triage"},
                                CHERWELL_CHANNEL: {"name": "cherwell-support", "is_ext_shared": True},
                                FIFE_CHANNEL: {"name": "fife-support", "is_ext_shared": True}})
    return desk


def dump(document: object) -> str:
    return json.dumps(document, ensure_ascii=False)


def run(desk: Desk, text: str, *, user: str = MANAGER, team: str = SUPPORT, channel: str = TRIAGE) -> str:
    desk.slack.reset()
    body = desk.driver.slash_command(f"report {text}".strip(), user=user, user_team=team, channel=channel)
    assert desk.driver.send_form(body).status == 200
    desk.settle()
    answers = desk.slack.calls_to("response_url")
    return dump(answers[-1].args) if answers else ""


def posted(desk: Desk) -> tuple[dict, bytes]:
    """The summary message and the CSV bytes uploaded under it."""
    message = desk.slack.last("chat.postMessage")
    assert message.ok
    assert [c.method for c in desk.slack.calls if c.method in UPLOAD_FLOW] == UPLOAD_FLOW
    completed = desk.slack.last("files.completeUploadExternal").args
    assert completed["channel_id"] == message.response["channel"]
    assert completed["thread_ts"] == message.response["ts"]
    file_id = json.loads(completed["files"])[0]["id"] if isinstance(completed["files"], str) \
        else completed["files"][0]["id"]
    return message.args, desk.slack.workspace.uploads[file_id]


def link_of(message: dict) -> str:
    text = dump(message["blocks"])
    start = text.index("<http") + 1
    return text[start:text.index("|", start)].replace("&amp;", "&")


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def local(desk: Desk, url: str) -> str:
    """The link as posted points at DESK_PUBLIC_URL; the test's app listens elsewhere."""
    parts = urlsplit(url)
    app = urlsplit(desk.driver.app_url)
    return f"{app.scheme}://{app.netloc}{parts.path}?{parts.query}"


def test_a_manager_gets_the_summary_the_csv_and_a_link_in_the_channel(reports: Desk) -> None:
    said = run(reports, "2026-01-05..2026-01-16")
    message, csv = posted(reports)
    assert message["channel"] == TRIAGE and "Posted the report here" in said
    text = dump(message["blocks"])
    assert "All councils" in text and "5–16 Jan 2026" in text
    assert "Cherwell District Council" in text and "Fife Council" in text
    assert "75 % (6 of 8)" in text  # respond on time, every council
    assert '"*Breaches*\\n5"' in text
    assert message["unfurl_links"] in (False, "false", "0", 0)
    assert b"CHW-4" in csv and b"FIFE-2" in csv
    url = link_of(message)
    assert url.startswith("http://localhost:3000/reports/sla?t=")
    secret = reports.wiring.report_links().secret
    scope = verify(parse_qs(urlsplit(url).query)["t"][0], secret, FEBRUARY)
    assert (scope.council_id, str(scope.start), str(scope.end)) == (None, "2026-01-05", "2026-01-16")
    status, page = fetch(local(reports, url))
    assert status == 200 and "Fife" in page and "Cherwell" in page


def test_a_council_report_has_only_that_councils_figures_and_link(reports: Desk) -> None:
    run(reports, "2026-01-05..2026-01-16 cherwell")
    message, csv = posted(reports)
    text = dump(message)
    assert "Cherwell District Council" in text and "Fife" not in text and "60 % (3 of 5)" in text
    assert b"CHW-4" in csv and b"FIFE" not in csv
    status, page = fetch(local(reports, link_of(message)))
    assert status == 200 and "FIFE-" not in page and "Fife" not in page


def test_a_lone_council_means_last_week(reports: Desk) -> None:
    run(reports, "fife")
    message, csv = posted(reports)
    assert "26 Jan – 1 Feb 2026" in dump(message) or "26 Jan 2026 – 1 Feb 2026" in dump(message)
    assert b"CHW" not in csv


def test_an_all_councils_report_never_lands_in_a_councils_channel(reports: Desk) -> None:
    said = run(reports, "last-month", channel=CHERWELL_CHANNEL)
    message, _ = posted(reports)
    assert message["channel"] == MANAGER and "direct message" in said
    assert all(c.args.get("channel") != CHERWELL_CHANNEL for c in reports.slack.calls)
    # another council's report in Cherwell's channel: a DM too
    run(reports, "last-month fife", channel=CHERWELL_CHANNEL)
    assert posted(reports)[0]["channel"] == MANAGER
    # Cherwell's own report may go to Cherwell's channel
    run(reports, "last-month cherwell", channel=CHERWELL_CHANNEL)
    assert posted(reports)[0]["channel"] == CHERWELL_CHANNEL


def test_where_desk_is_not_a_member_the_manager_gets_a_dm(reports: Desk) -> None:
    reports.slack.channels["C0ELSEWHERE"] = {"name": "managers", "is_member": False}
    run(reports, "", channel="C0ELSEWHERE")
    assert posted(reports)[0]["channel"] == MANAGER
    run(reports, "", channel="C0UNKNOWN")  # channel_not_found: a DM, not a failure
    assert posted(reports)[0]["channel"] == MANAGER
    reports.slack.channels["C0SHARED"] = {"name": "vendor", "is_ext_shared": True}
    run(reports, "", channel="C0SHARED")  # shared with an organisation desk does not know
    assert posted(reports)[0]["channel"] == MANAGER


def test_a_member_of_a_managers_group_is_a_manager(reports: Desk) -> None:
    with unit_of_work(reports.engine) as session:
        support = queries.find_support_config(session)
        support.definition = {**support.definition, "service_managers": [MANAGERS_GROUP]}
        flag_modified(support, "definition")
    reports.slack.usergroups[MANAGERS_GROUP] = [GROUP_MANAGER]
    run(reports, "last-month", user=GROUP_MANAGER)
    assert posted(reports)[0]["channel"] == TRIAGE
    assert "is for the support service's managers" in run(reports, "last-month", user=MANAGER)


@pytest.mark.parametrize(("user", "team", "channel"), [
    (ENGINEER, SUPPORT, TRIAGE),  # support staff, not a manager
    (ALICE, CHERWELL, CHERWELL_CHANNEL),  # council staff, in their own channel
    ("U0MALLORY1", "T0OUTSIDER", TRIAGE),  # nobody desk serves
])
def test_everyone_else_gets_a_polite_refusal_and_nothing_else(reports: Desk, user: str, team: str,
                                                               channel: str) -> None:
    for text in ("last-month", "last-month fife", "2026-01 cherwell", "nonsense words here"):
        said = run(reports, text, user=user, team=team, channel=channel)
        assert "is for the support service's managers" in said, said
        assert "Fife" not in said and "%" not in said
        methods = {c.method for c in reports.slack.calls}
        assert methods <= {"users.info", "response_url"}, methods


def test_a_council_member_listed_as_a_manager_by_mistake_is_still_refused(reports: Desk) -> None:
    with unit_of_work(reports.engine) as session:
        support = queries.find_support_config(session)
        support.definition = {**support.definition, "service_managers": [MANAGER, ALICE]}
        flag_modified(support, "definition")
    said = run(reports, "last-month", user=ALICE, team=CHERWELL, channel=CHERWELL_CHANNEL)
    assert "is for the support service's managers" in said
    assert not reports.slack.calls_to("chat.postMessage")


@pytest.mark.parametrize(("text", "problem"), [
    ("2026-13", "not a month"), ("yesterday cherwell", "not a period"), ("2027-01", "has not started"),
    ("last-month atlantis", "atlantis"), ("a b c", "Usage"),
])
def test_a_manager_is_told_what_is_wrong(reports: Desk, text: str, problem: str) -> None:
    said = run(reports, text)
    assert problem in said, said
    assert not reports.slack.calls_to("chat.postMessage") and not reports.slack.calls_to("upload")
