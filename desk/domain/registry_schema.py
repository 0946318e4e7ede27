"""`councils.yaml` -> `Registry`: which organisations are councils, and who the support team is.

The registry decides tenancy (DESIGN.md, Slack behaviour: a message's organisation maps to a council
through `slack.teams`), so mistakes here leak data rather than mistime it: a Slack team or channel shared
by two councils, or the triage channel (where internal notes live) listed as a council's channel, are
errors, as is a council digest posted into another council's channel.

`slack.teams` (and `support.team`) take workspace ids (`T…`) and Enterprise Grid organisation ids (`E…`)
alike; a person matches by either (desk.domain.identity). A council that lists one organisation and some
workspaces says those workspaces are that organisation's: so a workspace, or an organisation, belongs to
one council (or the support team) only, and a workspace listed elsewhere that a council has declared part
of its organisation is named as such. A council listing the support
team's own workspace or organisation (`support.team`) is refused too: every engineer would silently become
that council's member, seeing only its tickets and acting as its staff.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from desk.domain.playbook import (
    DIVISIONS,
    WEEKDAYS,
    Council,
    DigestSchedule,
    Registry,
    RetentionPolicy,
    SupportTeam,
)
from desk.domain.rota_schema import parse_rota
from desk.domain.yaml_document import MISSING, Checker, key_path

COUNCIL_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
REF_PREFIX = re.compile(r"[A-Z]{2,6}")
SLACK_TEAM = re.compile(r"[TE][A-Z0-9]{6,}")
SLACK_CHANNEL = re.compile(r"[CG][A-Z0-9]{6,}")
SLACK_MEMBER = re.compile(r"[UWS][A-Z0-9]{6,}")  # a user (U…, W… on Enterprise Grid) or user group (S…)
TEAM_WHAT = "a Slack team or organisation id (T… or E…)"
CHANNEL_WHAT = "a Slack channel id (C… or G…)"
MEMBER_WHAT = "a Slack user or user-group id (U…, W… or S…)"
COUNCIL_REQUIRED = ("id", "name", "ref_prefix", "playbook", "slack")
COUNCIL_OPTIONAL = ("division", "digest", "retention")
MAX_RETENTION_DAYS = 36_500
SUPPORT_REQUIRED = ("team", "triage_channel", "engineers", "duty_lead", "service_managers")


class _Claims:
    """Who already uses each id, so a second user of a council id, prefix, team or channel is named."""

    def __init__(self, check: Checker) -> None:
        self.check = check
        self.owner: dict[tuple[str, str], str] = {}
        self.organisation: dict[str, str] = {}  # owner -> the one Grid organisation (E…) it lists

    def claim(self, kind: str, value: str | None, key: str, owner: str) -> None:
        if value is None:
            return
        if (kind, value) in self.owner:
            first = self.owner[(kind, value)]
            if kind == "team" and value.startswith("T") and first in self.organisation:
                self.check.problem(key, f"workspace {value} is in organisation {self.organisation[first]}, which "
                                        f"{first} lists: an organisation and its workspaces belong to one council")
            elif kind == "team" and first == "support.team":  # the support workspace is nobody's council
                what = "organisation" if value.startswith("E") else "workspace"
                self.check.problem(key, f"{value} is the support team's own {what} (support.team): a council "
                                        "listing it would make every engineer that council's member")
            else:
                self.check.problem(key, f"{self._name(kind, value)} {value} is already used by {first}")
        else:
            self.owner[(kind, value)] = owner

    def claim_teams(self, teams: tuple[str, ...], key: str, owner: str) -> None:
        """A council's (or the support team's) workspaces and organisations: one organisation listed beside
        workspaces declares them to be its own."""
        organisations = [team for team in teams if team.startswith("E")]
        if len(organisations) == 1:
            self.organisation[owner] = organisations[0]
        for index, team in enumerate(teams):
            self.claim("team", team, f"{key}[{index}]" if key.endswith("teams") else key, owner)

    @staticmethod
    def _name(kind: str, value: str) -> str:
        return "organisation" if kind == "team" and value.startswith("E") else kind


def parse_registry(check: Checker, data: Any, playbook_ids: Sequence[str]) -> Registry | None:
    """The registry, or None with its problems recorded; `playbook_ids` are those the directory declares."""
    body = check.fields(data, "", ("councils", "support"))
    if body is None:
        return None
    support, rota_source = _support(check, body["support"])
    claims = _Claims(check)
    if support is not None:
        claims.claim("channel", support.triage_channel, "support.triage_channel", "support.triage_channel")
        claims.claim_teams((support.team,), "support.team", "support.team")
    councils = []
    for index, item in enumerate(check.sequence(body["councils"], "councils", non_empty=True) or []):
        council = _council(check, item, key_path("councils", index), playbook_ids, claims)
        if council is not None:
            councils.append((index, council))
    for index, council in councils:  # a digest lists one council's tickets: never in another's channel
        channel = council.digest.channel if council.digest else ""
        owner = claims.owner.get(("channel", channel), "")
        if owner.startswith("councils[") and owner != f"councils[{index}] ({council.id})":
            check.problem(
                f"councils[{index}].digest.channel",
                f"{channel} belongs to {owner}: a digest must not go to another council's channel",
            )
    rota = None
    if rota_source is not MISSING:
        known = None if support is None else {*support.engineers, support.duty_lead, *support.service_managers}
        council_ids = [council.id for _, council in councils]
        rota = parse_rota(check, rota_source, "support.rota", known_people=known, playbook_ids=playbook_ids,
                          council_ids=council_ids)
    if check.problems or support is None:
        return None
    return Registry(councils=tuple(council for _, council in councils), support=support, rota=rota)


def _council(
    check: Checker, value: Any, key: str, playbook_ids: Sequence[str], claims: _Claims
) -> Council | None:
    fields = check.fields(value, key, COUNCIL_REQUIRED, COUNCIL_OPTIONAL)
    if fields is None:
        return None
    council_id = check.matching(fields["id"], f"{key}.id", COUNCIL_ID, "a council id (a-z, 0-9 and -)")
    owner = f"{key} ({council_id})" if council_id else key
    claims.claim("council id", council_id, f"{key}.id", owner)
    name = check.text(fields["name"], f"{key}.name")
    prefix_what = "2 to 6 capitals, e.g. CHW"
    prefix = check.matching(fields["ref_prefix"], f"{key}.ref_prefix", REF_PREFIX, prefix_what)
    claims.claim("ref prefix", prefix, f"{key}.ref_prefix", owner)
    playbook = check.text(fields["playbook"], f"{key}.playbook")
    if playbook is not None and playbook not in playbook_ids:
        known = ", ".join(sorted(playbook_ids)) or "none"
        check.problem(f"{key}.playbook", f'no playbook "{playbook}" (known: {known})')
    division = None
    if "division" in fields:
        division = check.choice(fields["division"], f"{key}.division", DIVISIONS)
    slack = check.fields(fields["slack"], f"{key}.slack", ("teams",), ("channels",)) or {}
    teams_key = f"{key}.slack.teams"
    teams = _ids(check, slack.get("teams", MISSING), teams_key, SLACK_TEAM, TEAM_WHAT, non_empty=True)
    channels = _ids(check, slack.get("channels", []), f"{key}.slack.channels", SLACK_CHANNEL, CHANNEL_WHAT)
    claims.claim_teams(teams or (), teams_key, owner)
    for index, channel in enumerate(channels or ()):
        claims.claim("channel", channel, f"{key}.slack.channels[{index}]", owner)
    digest = _digest(check, fields["digest"], f"{key}.digest") if "digest" in fields else None
    retention = _retention(check, fields["retention"], f"{key}.retention") if "retention" in fields else None
    if council_id is None or name is None or prefix is None or playbook is None:
        return None
    if teams is None or channels is None:
        return None
    return Council(
        id=council_id, name=name, ref_prefix=prefix, playbook=playbook, division=division,
        slack_teams=teams, slack_channels=channels, digest=digest, retention=retention,
    )


def _digest(check: Checker, value: Any, key: str) -> DigestSchedule | None:
    fields = check.fields(value, key, ("channel", "day", "time"))
    if fields is None:
        return None
    channel = check.matching(fields["channel"], f"{key}.channel", SLACK_CHANNEL, CHANNEL_WHAT)
    day = check.choice(fields["day"], f"{key}.day", WEEKDAYS)
    time = check.time_of_day(fields["time"], f"{key}.time")
    if channel is None or day is None or time is None:
        return None
    return DigestSchedule(channel=channel, day=WEEKDAYS.index(day), time=time)


def _retention(check: Checker, value: Any, key: str) -> RetentionPolicy | None:
    fields = check.fields(value, key, ("redact_after_days",))
    if fields is None:
        return None
    days = check.integer(fields["redact_after_days"], f"{key}.redact_after_days", 1, MAX_RETENTION_DAYS)
    return None if days is None else RetentionPolicy(redact_after_days=days)


def _support(check: Checker, value: Any) -> tuple[SupportTeam | None, Any]:
    """The support team, and its `rota:` section as written (MISSING when there is none)."""
    fields = check.fields(value, "support", SUPPORT_REQUIRED, ("rota",))
    if fields is None:
        return None, MISSING
    rota = fields.get("rota", MISSING)
    team = check.matching(fields["team"], "support.team", SLACK_TEAM, TEAM_WHAT)
    triage = check.matching(fields["triage_channel"], "support.triage_channel", SLACK_CHANNEL, CHANNEL_WHAT)
    engineers = _members(check, fields["engineers"], "support.engineers")
    duty_lead = check.matching(fields["duty_lead"], "support.duty_lead", SLACK_MEMBER, MEMBER_WHAT)
    managers = _members(check, fields["service_managers"], "support.service_managers")
    if team is None or triage is None or engineers is None or duty_lead is None or managers is None:
        return None, rota
    return SupportTeam(team, triage, engineers, duty_lead, managers), rota


def _members(check: Checker, value: Any, key: str) -> tuple[str, ...] | None:
    return _ids(check, value, key, SLACK_MEMBER, MEMBER_WHAT, non_empty=True)


def _ids(
    check: Checker, value: Any, key: str, pattern: re.Pattern[str], what: str, *, non_empty: bool = False
) -> tuple[str, ...] | None:
    """A list of Slack ids; None if any is malformed (each one named)."""
    items = check.sequence(value, key, non_empty=non_empty)
    if items is None:
        return None
    ids = [check.matching(item, key_path(key, index), pattern, what) for index, item in enumerate(items)]
    return tuple(item for item in ids if item is not None) if None not in ids else None
