"""The message `/desk report` posts: the headline figures, a line per council, and the signed link.

Short on purpose: the CSV (uploaded in the thread) has every ticket and the HTML report has the charts;
this is what a manager glances at before opening either. Council names come from the registry, not
from people, but are escaped all the same. The link is desk's own (its public address and a base64url
token), so it is the one `<url|label>` desk builds itself.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block

from desk.domain.report_periods import DayRange
from desk.services.digest_stats import Compliance
from desk.services.report_figures import Figures
from desk.services.reports import SlaReport
from desk.slack.blocks import FALLBACK_LENGTH, Message, kit
from desk.slack.blocks.text import clip, escape, local_time, person_text

__all__ = ["Message", "report_summary"]

COUNCIL_LINES = 20  # more councils than this: "and N more", the HTML report lists them all


def report_summary(report: SlaReport, *, period: DayRange, url: str, expires_at: datetime,
                   now: datetime) -> Message:
    """Overall compliance and breaches for the period, per council for a managers' report, and the link."""
    whose = person_text(report.title, 100)
    overall = report.overall
    heading = f":bar_chart: *SLA report: {whose}, {period.label}*"
    if not report.complete:
        heading += " _(period still running: figures as of now)_"
    blocks: list[Block] = [
        kit.section(heading),
        kit.fields([
            ("Respond on time", _compliance(overall.respond)),
            ("Resolved on time (first cycle)", _compliance(overall.resolve_first_cycle)),
            ("Breaches", str(len(report.breaches))),
            ("Opened · resolved", f"{len(overall.opened)} · {len(overall.resolved)}"),
            ("Open at the end", str(overall.backlog_total)),
        ]),
    ]
    if report.council_id is None and report.councils:
        shown = report.councils[:COUNCIL_LINES]
        blocks += kit.sections(council_line(council.figures, report) for council in shown)
        if len(report.councils) > len(shown):
            blocks.append(kit.context(f"and {len(report.councils) - len(shown)} more in the full report"))
    blocks.append(kit.section(f"<{escape(url)}|Open the full report with charts> (printable; the link works "
                              f"until {local_time(expires_at, report.timezone, now)})"))
    blocks.append(kit.context("Every ticket behind these figures is in the CSV in this message's thread."))
    fallback = (f"SLA report: {whose}, {period.label}: respond on time {_compliance(overall.respond)}, "
                f"{len(report.breaches)} breaches")
    return Message(text=clip(fallback, FALLBACK_LENGTH), blocks=kit.dicts(blocks))


def council_line(figures: Figures, report: SlaReport) -> str:
    breaches = sum(1 for breach in report.breaches if breach.council_id == figures.council_id)
    return (f"• *{person_text(figures.council_name, 100)}*: respond {_compliance(figures.respond)} · "
            f"resolve {_compliance(figures.resolve_first_cycle)} · {breaches} "
            f"breach{'es' if breaches != 1 else ''} · {len(figures.opened)} opened")


def _compliance(compliance: Compliance) -> str:
    """"83 % (10 of 12)", or "nothing due" rather than a misleading 0 % or 100 %."""
    if compliance.percent is None:
        return "nothing due"
    return f"{compliance.percent} % ({compliance.met} of {compliance.total})"
