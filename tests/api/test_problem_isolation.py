"""Tenant isolation through a problem: a problem shared by Cherwell and Fife, whose working title names
both, never lets one council's API answer, export or SLA report name the other's ticket or the title."""

from __future__ import annotations

from datetime import timedelta

import pytest

from desk.db.engine import unit_of_work
from desk.rendering import reports as rendering
from desk.services import problems, reports
from tests.api.test_api import NOW, Api, api  # noqa: F401  (fixture)
from tests.services.test_export import FIFE_TITLE, MONDAY, records

TITLE = "GOV.UK Pay down for Fife and Cherwell"
SUMMARY = "Card payments through GOV.UK Pay are failing."
ENGINEER = "U0ENGINEER1"


@pytest.fixture
def shared(api: Api) -> Api:  # noqa: F811
    at = MONDAY + timedelta(hours=2)
    with unit_of_work(api.engine) as session:
        problem = problems.open_problem(session, title=TITLE, summary=SUMMARY, owner=ENGINEER, by=ENGINEER, now=at,
                                        from_ticket="FIFE-1")
        problems.link(session, problem.id, "CHW-2", by=ENGINEER, now=at)
        problems.update_problem(session, problem.id, by=ENGINEER, now=at, key="k1", status="identified")
    return api


def leaks(text: str) -> list[str]:
    return [word for word in ("FIFE-", "Fife", FIFE_TITLE, TITLE) if word in text]


def test_the_api_shows_a_tickets_problem_and_nothing_of_the_other_council(shared: Api) -> None:
    listed = shared.get("/api/v1/tickets")
    assert listed.status == 200
    chw2 = next(t for t in listed.body["tickets"] if t["ref"] == "CHW-2")
    assert chw2["problem"] == {"ref": "PRB-1", "summary": SUMMARY, "status": "identified"}
    assert next(t for t in listed.body["tickets"] if t["ref"] == "CHW-1")["problem"] is None
    one = shared.get("/api/v1/tickets/CHW-2")
    assert [e["data"] for e in one.body["events"] if e["type"] == "problem_linked"] == [
        {"problem": "PRB-1", "how": "manual"}]
    sla = shared.get("/api/v1/sla")
    assert next(t for t in sla.body["tickets"] if t["ref"] == "CHW-2")["problem"]["ref"] == "PRB-1"
    for response in (listed, one, sla):
        assert leaks(response.raw.decode()) == []
    fife = shared.get("/api/v1/tickets/FIFE-1", council="fife")
    assert fife.body["problem"]["ref"] == "PRB-1" and "CHW-" not in fife.raw.decode()
    assert shared.get("/api/v1/tickets/FIFE-1").status == 404  # Cherwell's token: another council's ticket


def test_an_export_and_a_council_sla_report_name_only_the_councils_own_tickets(shared: Api) -> None:
    exported = records(shared.engine, "cherwell")
    assert [r["problem"] for r in exported if r["record"] == "ticket"] == [None, {
        "ref": "PRB-1", "summary": SUMMARY, "status": "identified"}]
    assert leaks(repr(exported)) == []
    with unit_of_work(shared.engine) as session:
        report = reports.build_report(session, start=MONDAY.date(), end=MONDAY.date() + timedelta(days=3),
                                      council_id="cherwell", now=NOW)
    assert [(t.ref, t.problem) for t in report.tickets] == [("CHW-1", None), ("CHW-2", "PRB-1")]
    for text in (rendering.to_csv(report), rendering.to_markdown(report), repr(rendering.to_json(report))):
        assert leaks(text) == []
    assert "- PRB-1: CHW-2" in rendering.to_markdown(report)
