"""The sandbox's workspace, generated from the councils registry (`playbooks/councils.yaml`).

Slack knows who is who; desk only learns it by asking (users.info, team.info, usergroups.users.list,
conversations.info). So the sandbox makes up a truthful Slack around the registry: the support team's own
people with the ids the registry names (a user group `S…` gets two engineers as members, and answers
`usergroups.users.list`), two or three invented members per council in that council's team (a council
listed by an Enterprise Grid organisation `E…` gets a workspace `T…` in it, and its people carry
`enterprise_user`), one person from an organisation that is not a partner, and the channels: each
council's shared channels (and digest channel), and the triage channel.

It reads the registry as a plain YAML document: the sandbox plays Slack and imports nothing of desk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

COUNCIL, ENGINEER, DUTY_LEAD, SERVICE_MANAGER, STRANGER = (
    "council", "engineer", "duty_lead", "service_manager", "stranger")
STRANGER_TEAM = "T0ACMEOUTS"
MEMBER_NAMES = [
    ("Priya Shah", "Income team lead"), ("Tom Hughes", "Revenues officer"), ("Aisha Okafor", "Cashier"),
    ("Gareth Lewis", "Income team lead"), ("Mairi Campbell", "Direct debit officer"),
    ("Siobhan Kelly", "Finance officer"), ("Owen Price", "Revenues officer"), ("Fiona Reid", "Cashier"),
    ("Ciaran Doyle", "Systems accountant"), ("Hannah Ward", "Customer services"),
    ("Rhys Morgan", "Cashier"), ("Eilidh Fraser", "Revenues officer"), ("Declan Byrne", "Income officer"),
]
SUPPORT_NAMES = {ENGINEER: ["Sam Okoro", "Jo Whitfield"], DUTY_LEAD: ["Dana Mistry"],
                 SERVICE_MANAGER: ["Morgan Ellis", "Chris Adeyemi"]}


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    team: str
    role: str
    council: str | None = None
    title: str = ""
    enterprise_id: str | None = None

    def as_slack_user(self) -> dict[str, Any]:
        """What users.info answers for this person."""
        handle = re.sub(r"[^a-z]+", ".", self.name.lower()).strip(".")
        user: dict[str, Any] = {
            "id": self.id, "team_id": self.team, "name": handle, "real_name": self.name, "tz": "Europe/London",
            "tz_label": "Greenwich Mean Time", "tz_offset": 0,
            "profile": {"real_name": self.name, "display_name": self.name.split()[0], "title": self.title,
                        "team": self.team},
        }
        if self.enterprise_id is not None:
            user["enterprise_user"] = {"id": self.id, "enterprise_id": self.enterprise_id,
                                       "enterprise_name": self.council or "", "is_admin": False,
                                       "is_owner": False, "teams": [self.team]}
        return user


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    council: str | None
    members: tuple[str, ...]
    shared_with: tuple[str, ...] = ()


@dataclass
class Population:
    """Everyone and everywhere in the sandbox's Slack."""

    support_team: str
    people: list[Person] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    council_names: dict[str, str] = field(default_factory=dict)

    def person(self, user_id: str) -> Person | None:
        return next((p for p in self.people if p.id == user_id), None)

    def channel(self, channel_id: str) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    @property
    def triage(self) -> Channel:
        return next(c for c in self.channels if c.council is None)


def _ids(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value] if value else [])]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def from_registry(path: Path) -> Population:
    """The workspace for the registry at `path` (a councils.yaml)."""
    registry = yaml.safe_load(Path(path).read_text()) or {}
    support = registry.get("support") or {}
    population = Population(support_team=str(support.get("team") or "T0SUPPORT"))
    population.teams[population.support_team] = {"name": "Support service", "domain": "support-desk"}
    _support_people(population, support)
    names = iter(MEMBER_NAMES)
    for council in registry.get("councils") or []:
        _council(population, council, names)
    stranger = Person("U0ACME0MAL", "Mallory Quinn", STRANGER_TEAM, STRANGER, title="Contractor, Acme Outsourcing")
    population.people.append(stranger)
    population.teams[STRANGER_TEAM] = {"name": "Acme Outsourcing", "domain": "acme-outsourcing"}
    support_ids = tuple(p.id for p in population.people if p.team == population.support_team)
    triage_id = str(support.get("triage_channel") or "C0TRIAGE")
    population.channels.append(Channel(triage_id, "desk-triage", None, support_ids))
    population.channels = [
        Channel(c.id, c.name, c.council, c.members + support_ids + ((stranger.id,) if i == 0 else ()),
                (population.support_team, *c.shared_with)) if c.council else c
        for i, c in enumerate(population.channels)
    ]
    return population


def _support_people(population: Population, support: dict) -> None:
    team = population.support_team
    taken: set[str] = set()

    def add(user_id: str, role: str, name: str) -> None:
        if user_id not in taken:
            taken.add(user_id)
            population.people.append(Person(user_id, name, team, role, title=role.replace("_", " ").capitalize()))

    for role, key in ((ENGINEER, "engineers"), (DUTY_LEAD, "duty_lead"), (SERVICE_MANAGER, "service_managers")):
        names = iter(SUPPORT_NAMES[role] * 3)
        for ident in _ids(support.get(key)):
            if ident.startswith("S"):  # a user group: invent its members, and answer usergroups.users.list
                members = [f"U0{_slug(ident)[1:7]}{n}" for n in range(1, 3)]
                population.usergroups[ident] = members
                for member in members:
                    add(member, role, next(names))
            else:
                add(ident, role, next(names))


def _council(population: Population, council: dict, names: Any) -> None:
    council_id, prefix = str(council["id"]), _slug(str(council.get("ref_prefix") or council["id"]))[:4]
    population.council_names[council_id] = str(council.get("name") or council_id)
    teams = _ids((council.get("slack") or {}).get("teams"))
    team, enterprise = (teams[0] if teams else f"T0{prefix}"), None
    if team.startswith("E"):  # Enterprise Grid: people belong to a workspace of the organisation
        enterprise, team = team, "T" + team[1:]
        population.teams[team] = {"name": council["name"], "domain": council_id, "enterprise_id": enterprise,
                                  "enterprise_name": council["name"]}
    else:
        population.teams[team] = {"name": council["name"], "domain": council_id}
    user_prefix = "W" if enterprise else "U"
    members = []
    for n in range(1, 4 if len(population.people) % 2 else 3):
        name, title = next(names)
        person = Person(f"{user_prefix}0{prefix}{n:0{7 - len(prefix)}d}", name, team, COUNCIL, council_id,
                        title, enterprise)
        population.people.append(person)
        members.append(person.id)
    channel_ids = _ids((council.get("slack") or {}).get("channels"))
    digest = (council.get("digest") or {}).get("channel")
    for index, channel_id in enumerate(channel_ids + ([str(digest)] if digest and digest not in channel_ids else [])):
        suffix = "support" if index == 0 else "digest" if channel_id == digest else f"support-{index + 1}"
        population.channels.append(Channel(channel_id, f"{council_id}-{suffix}", council_id, tuple(members),
                                           (team,)))


def install(population: Population, workspace: Any) -> None:
    """Fill a `Workspace` (the stand-in's state) with this population."""
    workspace.users.update({p.id: p.as_slack_user() for p in population.people})
    workspace.teams.update(population.teams)
    workspace.usergroups.update(population.usergroups)
    for channel in population.channels:
        workspace.channels[channel.id] = {
            "id": channel.id, "name": channel.name, "is_ext_shared": bool(channel.council),
            "shared_team_ids": list(dict.fromkeys([population.support_team, *channel.shared_with])),
            "context_team_id": population.support_team, "members": list(channel.members),
        }
