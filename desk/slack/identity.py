"""Who a Slack request says is acting, by organisation: one reading per payload kind, and the look-ups that
fill in what a payload leaves out. Listeners make one call (`of_event`, `of_command`, `of_interaction`),
before any transaction starts, and pass the `OrgIdentity` on to `tenancy`.

What each payload kind says (Slack's Events API, slash command and interactivity payloads, with the Slack
Connect and Enterprise Grid fields Bolt's own `extract_actor_*` tests show):

- **Events** (messages, file shares, thread replies, App Home). The author's own team is `event.user_team`,
  else `event.source_team`, else `event.team` (when `user_team` is there, `event.team` can be the
  installation's side). It is a workspace `T…`, or a Grid organisation `E…`. The envelope carries two
  (workspace, organisation) pairs, `team_id`/`enterprise_id` and `context_team_id`/`context_enterprise_id`;
  in a Slack Connect channel either may be the installation's side, so a pair is believed only when its
  workspace is the author's (then its organisation is the author's, and no organisation means no Grid),
  and, for an author known only by organisation, the pair with that organisation names the workspace.
- **reaction_added** names no team at all, and a **slash command**'s `team_id`/`enterprise_id` may be the
  installation's side: both are asked of Slack (a command's `user_team_id`, when there is one, is taken).
- **Interactivity** (buttons, selects, shortcuts, modal submissions): `user.team_id` is the actor's; the
  organisation (`team.enterprise_id`, `enterprise.id`) only when `team.id` is that same workspace.
- What is still open is asked of Slack: users.info (`team_id`, `enterprise_user.enterprise_id`) when the
  workspace is unknown, team.info (the workspace's `enterprise_id`) when its organisation is; both cached.
  A look-up that fails while nothing is known is an error the person sees ("try again"); when part is
  known already, desk decides on that part and logs what it could not check.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from desk.domain.identity import OrgIdentity, is_organisation, is_workspace
from desk.errors import DeskError

log = logging.getLogger("desk.slack")

PERSON_CACHE_SECONDS = 600  # people rarely change organisation
WORKSPACE_CACHE_SECONDS = 3600  # a workspace joins or leaves a Grid organisation more rarely still
UNKNOWN_USER = frozenset({"user_not_found", "user_not_visible", "account_inactive"})
UNKNOWN_TEAM = frozenset({"team_not_found"})


@dataclass(frozen=True)
class Seen:
    """What one payload says: a workspace, an organisation, and whether it settles the organisation
    (a believed envelope pair with no `enterprise_id` settles it as "no Grid")."""

    workspace: str | None = None
    organisation: str | None = None
    organisation_settled: bool = False

    @classmethod
    def of_team(cls, own: object) -> Seen:
        if is_workspace(own):
            return cls(workspace=str(own))
        if is_organisation(own):
            return cls(organisation=str(own), organisation_settled=True)
        return cls()


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def seen_in_event(body: dict) -> Seen:
    event = _dict(body.get("event"))
    own = next((event[key] for key in ("user_team", "source_team", "team") if event.get(key) is not None), None)
    pairs = [(body.get("team_id"), body.get("enterprise_id")),
             (body.get("context_team_id"), body.get("context_enterprise_id"))]
    seen = Seen.of_team(own)
    if seen.workspace is not None:
        for team, enterprise in pairs:
            if team == seen.workspace and (enterprise is None or is_organisation(enterprise)):
                return Seen(seen.workspace, enterprise, organisation_settled=True)
    elif seen.organisation is not None:
        workspace = next((team for team, enterprise in pairs if enterprise == own and is_workspace(team)), None)
        return Seen(workspace, seen.organisation, organisation_settled=True)
    return seen


def seen_in_command(body: dict) -> Seen:
    return Seen.of_team(body.get("user_team_id"))


def seen_in_interaction(body: dict) -> Seen:
    own = _dict(body.get("user")).get("team_id")
    seen = Seen.of_team(own)
    team = _dict(body.get("team"))
    enterprise = body.get("enterprise")
    enterprise_id = enterprise if isinstance(enterprise, str) else _dict(enterprise).get("id")
    if seen.workspace is not None and team.get("id") == seen.workspace:
        organisation = team.get("enterprise_id") or enterprise_id
        if organisation is None or is_organisation(organisation):
            return Seen(seen.workspace, organisation, organisation_settled=True)
    if seen.organisation is not None and team.get("enterprise_id") == own and is_workspace(team.get("id")):
        return Seen(team["id"], seen.organisation, organisation_settled=True)
    return seen


@dataclass
class Identities:
    """The look-ups behind `OrgIdentity`, cached: person -> (what users.info said, when), workspace ->
    (its organisation per team.info, when)."""

    people: dict[str, tuple[Seen, float]] = field(default_factory=dict)
    workspaces: dict[str, tuple[str | None, float]] = field(default_factory=dict)

    def of_event(self, client: WebClient, body: dict) -> OrgIdentity:
        event = _dict(body.get("event"))
        return self.identify(client, str(event.get("user") or ""), seen_in_event(body))

    def of_command(self, client: WebClient, body: dict) -> OrgIdentity:
        return self.identify(client, str(body.get("user_id") or ""), seen_in_command(body))

    def of_interaction(self, client: WebClient, body: dict) -> OrgIdentity:
        return self.identify(client, str(_dict(body.get("user")).get("id") or ""), seen_in_interaction(body))

    def identify(self, client: WebClient, user: str, seen: Seen) -> OrgIdentity:
        workspace, organisation, settled = seen.workspace, seen.organisation, seen.organisation_settled
        if workspace is None and user:
            person = self._person(client, user, needed=organisation is None)
            if person is not None:
                workspace = person.workspace
                if not settled:
                    organisation, settled = person.organisation, person.organisation_settled
        if workspace is not None and not settled:
            organisation = self._organisation_of(client, workspace)
        return OrgIdentity(workspace, organisation)

    def _person(self, client: WebClient, user: str, *, needed: bool) -> Seen | None:
        cached = self.people.get(user)
        if cached and time.monotonic() - cached[1] < PERSON_CACHE_SECONDS:
            return cached[0]
        try:
            found = _dict(client.users_info(user=user).get("user"))
        except SlackApiError as err:
            code = _error(err)
            log.warning("users.info %s failed: %s", user, code)
            if code in UNKNOWN_USER or not needed:
                return None
            # Slack is failing, not saying "nobody": refusing a council member as a stranger would be wrong
            raise DeskError("Slack could not say which organisation you are in just now "
                            f"(users.info: {code}); please try again in a minute.") from None
        enterprise_user = _dict(found.get("enterprise_user"))
        organisation = enterprise_user.get("enterprise_id")
        person = Seen(found["team_id"] if is_workspace(found.get("team_id")) else None,
                      organisation if is_organisation(organisation) else None,
                      organisation_settled=True)  # Slack sends `enterprise_user` for every Grid member
        if person.workspace is None and is_organisation(found.get("team_id")):
            person = Seen(None, found["team_id"], organisation_settled=True)
        if person.workspace or person.organisation:
            self.people[user] = (person, time.monotonic())
        return person

    def _organisation_of(self, client: WebClient, workspace: str) -> str | None:
        cached = self.workspaces.get(workspace)
        if cached and time.monotonic() - cached[1] < WORKSPACE_CACHE_SECONDS:
            return cached[0]
        try:
            organisation = _dict(client.team_info(team=workspace).get("team")).get("enterprise_id")
        except SlackApiError as err:
            code = _error(err)
            log.warning("team.info %s failed: %s; deciding on the workspace alone", workspace, code)
            if code not in UNKNOWN_TEAM:
                return None  # not cached: asked again next time
            organisation = None
        organisation = organisation if is_organisation(organisation) else None
        self.workspaces[workspace] = (organisation, time.monotonic())
        return organisation


def _error(err: SlackApiError) -> str:
    code = err.response.get("error") if isinstance(err.response.data, dict) else None
    return str(code or f"http_{err.response.status_code}")
