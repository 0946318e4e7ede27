"""`/desk report [period] [council]`: a service manager's SLA report, posted with its CSV and a signed link.

Who may ask is decided before anything is read or said: the person must act from the support team's own
organisation and be a service manager (`Power.REPORT`: listed by user id, or a member of a listed S… user
group, which only Slack can expand, so the caller decides the roles outside any transaction; when Slack
cannot say, the answer is no). Everyone else gets one polite refusal and nothing else: no figures, no
file, no hint of which councils exist.

Where it goes: the channel the command was run in when desk is a member and nobody outside the support
team can read it there; otherwise the manager's DM. A council's shared channel only ever receives that
council's own report, so an all-councils report can never land in front of one council's staff.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from desk.db.engine import read_only, unit_of_work
from desk.domain.identity import OrgIdentity
from desk.domain.report_periods import DayRange, looks_like_period, parse_period
from desk.domain.roles import Power, Roles, may
from desk.errors import ConfigError, InvalidInput, PermissionDenied, RoleUnknown
from desk.services import tenancy
from desk.services.reports import build_report
from desk.slack.blocks import reports as report_blocks
from desk.slack.context import actor_for
from desk.slack.deps import Deps

log = logging.getLogger("desk.slack.reports")

REFUSAL = "Sorry, `/desk report` is for the support service's managers: ask one of them if you need SLA figures."
LONDON = "Europe/London"  # periods are UK calendar days, whoever asks


def post_report(body: dict, client: WebClient, respond: Any, deps: Deps, words: list[str],
                team: OrgIdentity, roles: Roles) -> None:
    """Check who is asking, build the report, post summary + CSV + link, tell the manager where."""
    user, channel = body["user_id"], body.get("channel_id") or ""
    with unit_of_work(deps.engine) as session:
        actor = actor_for(session, user=user, team=team, channel=channel or None, roles=roles)
    try:
        allowed = may(actor, Power.REPORT)
    except RoleUnknown as err:
        log.info("/desk report refused for %s: %s", user, actor.roles.unknown_because)
        raise PermissionDenied(REFUSAL + " (Slack could not confirm your role just now: try again in a "
                               "minute.)") from err
    if not allowed:
        log.info("/desk report refused for %s (%s)", user, actor.kind)
        raise PermissionDenied(REFUSAL)
    if deps.report_links is None:
        raise ConfigError("report links are not configured: set SLACK_SIGNING_SECRET or DESK_LINK_SECRET")
    now = deps.clock.now()
    period, council_id = parse_arguments(words, now)
    with read_only(deps.engine, timeout_seconds=20) as session:
        report = build_report(session, start=period.start, end=period.end, council_id=council_id, now=now)
        channel_council = tenancy.directory(session).council_by_channel.get(channel)
    url, expires_at = deps.report_links.url(council_id, period.start, period.end, now=now)
    message = report_blocks.report_summary(report, period=period, url=url, expires_at=expires_at, now=now)
    where = destination(client, channel=channel, user=user, channel_council=channel_council,
                        report_council=council_id)
    conversation, ts = post(client, where, message)
    scope = council_id or "all-councils"
    from desk.rendering.reports import to_csv  # Jinja2 and the charts: imported by the first report asked for

    client.files_upload_v2(channel=conversation, content=to_csv(report), thread_ts=ts,
                           filename=f"sla-report-{scope}-{period.start}-{period.end}.csv",
                           title=f"SLA report, {scope}, {period.label} (CSV)")
    log.info("/desk report %s %s..%s posted for %s in %s", scope, period.start, period.end, user, conversation)
    said = "Posted the report here." if where == channel else "Sent you the report in a direct message."
    respond(text=said, response_type="ephemeral", replace_original=False)


def parse_arguments(words: list[str], now: datetime) -> tuple[DayRange, str | None]:
    """`[period] [council]`, either or both, in that order; a lone word that is not a period is a council."""
    today = now.astimezone(ZoneInfo(LONDON)).date()
    if len(words) > 2:
        raise InvalidInput("Usage: `/desk report [period] [council]`, e.g. `/desk report last-month cherwell`")
    period_word = words[0] if words and looks_like_period(words[0]) else None
    rest = words[1:] if period_word is not None else words
    if len(rest) > 1:
        raise InvalidInput(f"`{words[0]}` is not a period: try `last-week`, `last-month` or `2026-01`")
    return parse_period(period_word, today), (rest[0].lower() if rest else None)


def destination(client: WebClient, *, channel: str, user: str, channel_council: str | None,
                report_council: str | None) -> str:
    """The command's channel if the report may be read by everyone there, else the manager (a DM)."""
    if not channel or (channel_council is not None and channel_council != report_council):
        return user
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as err:  # a DM desk is not in, a private channel it cannot see, a missing scope
        log.info("reporting by DM: conversations.info %s: %s", channel, err.response.get("error"))
        return user
    if not info.get("is_member") or info.get("is_im") or info.get("is_mpim"):
        return user
    if channel_council is None and (info.get("is_ext_shared") or info.get("is_shared")):
        return user  # shared with an organisation the registry does not name: not for the figures
    return channel


def post(client: WebClient, channel: str, message: report_blocks.Message) -> tuple[str, str]:
    """Post and return (conversation, ts): posting to a user id comes back with the DM's D… id."""
    answer = client.chat_postMessage(channel=channel, **message.post_kwargs())
    return answer["channel"], answer["ts"]
