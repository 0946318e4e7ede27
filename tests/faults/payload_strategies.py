"""Hypothesis strategies for hostile Slack requests, built from the shapes desk really receives.

Every payload starts as what `desk.sandbox.payloads` builds (the shapes of `tests/fixtures/slack/`),
aimed at desk's own listeners (`desk/slack/ids.py`), then is made hostile in two ways:

- content: huge, unicode and control-character strings, mrkdwn and HTML injection, other councils' ticket
  refs in button values and `private_metadata`, ids of the wrong team, user or channel, duplicated
  event_ids; the payload keeps the shape Slack sends, so desk must answer 200 and cope;
- structure (`mutated`): keys dropped and values replaced by garbage of the wrong type (null, numbers,
  lists, nested objects) anywhere in the tree; desk must answer 4xx or 200, never 5xx.

Identity stays what Slack would say: a person's own team (`user.team_id`, `event.user_team`) is theirs or
missing (desk then asks users.info), while the envelope's and installation's team ids, which in a shared
channel can be either side, are drawn from every organisation.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from desk.sandbox import payloads
from desk.sandbox.ids import new_ts
from desk.slack.ids import Action, Block, Input, Shortcut, View
from desk.slack.metadata import IntakeContext, RatingValue, TicketRef

Payload = dict[str, Any]
Draw = Callable[[st.SearchStrategy[Any]], Any]

# --- the world: organisations, people, channels (tests/fixtures/playbooks/councils.yaml) -----------------

CHERWELL, FIFE, BELFAST, SUPPORT, OUTSIDE = "T0CHERWELL", "T0FIFE0001", "T0BELFAST1", "T0SUPPORT", "T0OUTSIDER"
TEAMS = (CHERWELL, FIFE, BELFAST, SUPPORT, OUTSIDE, "T0INSTALLED")
CHERWELL_CHANNEL, FIFE_CHANNEL, BELFAST_CHANNEL, TRIAGE = "C0CHERWELL", "C0FIFE0001", "C0BELFAST1", "C0TRIAGE"
CHANNELS = (CHERWELL_CHANNEL, FIFE_CHANNEL, BELFAST_CHANNEL, TRIAGE, "C0ELSEWHERE", "D0DIRECTMSG")

# Who exists, and in which organisation: the stand-in's users.info answers from this.
PEOPLE: dict[str, str] = {
    "U0ALICE001": CHERWELL, "U0CAROL001": CHERWELL, "U0BRUCE001": FIFE, "U0BELLA001": BELFAST,
    "U0ENGINEER1": SUPPORT, "U0ENGINEER2": SUPPORT, "U0MANAGER": SUPPORT, "U0MALLORY1": OUTSIDE,
}
STRANGER = "U0NOBODY01"  # not in the workspace: users.info says user_not_found
HOME = {CHERWELL: CHERWELL_CHANNEL, FIFE: FIFE_CHANNEL, BELFAST: BELFAST_CHANNEL, SUPPORT: TRIAGE}

# Words planted in each council's seeded tickets: none may ever reach anyone outside that council and support.
SECRETS = {"cherwell": "qzx-cherwell-private-qzx", "fife": "qzx-fife-private-qzx", "belfast": "qzx-belfast-private-qzx"}

INJECTIONS = (
    "<!channel> <!here> <!everyone>", "<@U0ENGINEER1> <#C0TRIAGE> <!subteam^S0MANAGERS>",
    "*bold* _it_ ~strike~ `code` ```block```", "> quoted\n>>> more", "<https://evil.example|click me>",
    "<script>alert(1)</script>", "&lt;b&gt; &amp; &gt;", "' OR 1=1; DROP TABLE ticket; --", "%s %(x)s {0} {x}",
    "\u202eevil\u202c", "\x00\x01\x07\x1b[31m", "\ud7ff\ufffd\ufeff", "😀" * 40, "\r\n\r\n", " \t ",
    ":ticket: :skull:", "${jndi:ldap://x}", "{{ 7*7 }} {% if %}", "..\\..\\etc\\passwd",
    "status FIFE-1", "CHW-1 FIFE-2 BCC-1", "report last-month fife", "list\nstatus CHW-1",
)


def hostile_text(*, allow_empty: bool = True) -> st.SearchStrategy[str]:
    """What people type, at its worst: anything unicode, control characters, injection, very long."""
    small = st.text(min_size=0 if allow_empty else 1, max_size=40)
    printable = st.text(alphabet=string.printable, min_size=1, max_size=20)
    huge = st.builds(lambda piece, times: (piece * times)[:40_000], printable, st.integers(100, 4000))
    options = [small, st.sampled_from(INJECTIONS), huge,
               st.lists(st.sampled_from(INJECTIONS), min_size=1, max_size=4).map("\n".join),
               st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=200)]
    strategy = st.one_of(*options)
    return strategy if allow_empty else strategy.filter(lambda text: text.strip() != "")


def garbage() -> st.SearchStrategy[Any]:
    """A JSON value of any type, nested: what goes where a string or an object should be."""
    leaves = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
                       st.text(max_size=12), st.sampled_from(["", "null", "[]", "{}", "U0ALICE001", "CHW-1"]))
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=6)


# --- structural mutation ----------------------------------------------------------------------------

def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found: list[tuple] = []
    if isinstance(node, dict):
        for key, child in node.items():
            found.append((*prefix, key))
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.append((*prefix, index))
            found.extend(_paths(child, (*prefix, index)))
    return found


def _apply(root: Any, path: tuple, operation: str, value: Any) -> None:
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if operation == "drop":
        del parent[last]
    else:
        parent[last] = value


@st.composite
def mutated(draw: Draw, base: Payload, *, at_least: int = 1, at_most: int = 4) -> tuple[Payload, list[str]]:
    """`base` with 1-4 keys dropped or replaced by garbage anywhere in the tree, and what was done."""
    document = json.loads(json.dumps(base))
    done: list[str] = []
    for _ in range(draw(st.integers(at_least, at_most))):
        paths = _paths(document)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        operation = draw(st.sampled_from(["drop", "garbage", "text"]))
        value = None if operation == "drop" else draw(garbage() if operation == "garbage" else hostile_text())
        _apply(document, path, operation, value)
        done.append(f"{operation} {'.'.join(map(str, path))}")
    return document, done


# --- identities ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    user: str
    team: str | None  # what the payload says about the person's organisation (None: it says nothing)


SUPPORT_STAFF = [user for user, team in PEOPLE.items() if team == SUPPORT]
COUNCIL_STAFF = [user for user, team in PEOPLE.items() if team not in (SUPPORT, OUTSIDE)]


@st.composite
def people(draw: Draw, usually: Sequence[str] = tuple(PEOPLE)) -> Person:
    """Someone: mostly one of `usually` (those a request is for), else anyone, or a stranger; with their
    true team, or none (desk must ask users.info)."""
    user = draw(mostly(st.sampled_from(list(usually)), st.sampled_from([*PEOPLE, STRANGER])))
    truthful = PEOPLE.get(user)
    team = draw(st.sampled_from([truthful, None] if truthful else [None, OUTSIDE, "T0NOWHERE1"]))
    return Person(user, team)


# --- what desk knows of: the seeded tickets ---------------------------------------------------------

@dataclass(frozen=True)
class Known:
    """Ids that exist in the running desk: ticket refs and where their messages and cards are."""

    refs: Sequence[str]
    messages: Sequence[tuple[str, str]]  # (channel, ts) of council threads
    cards: Sequence[tuple[str, str]]  # (channel, ts) of triage cards
    event_ids: Sequence[str]  # event_ids already delivered, to be delivered again


def mostly(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`usual` three times in four, else `odd`: enough plausible requests that tickets really change."""
    return st.integers(0, 3).flatmap(lambda pick: odd if pick == 0 else usual)


def refs(known: Known) -> st.SearchStrategy[str]:
    """A ticket ref: mostly one that exists (of any council: tenancy), else one that does not."""
    return mostly(st.sampled_from(list(known.refs)), st.one_of(
        st.sampled_from(["CHW-999999999", "FIFE-0", "BCC-99"]),
        st.from_regex(r"[A-Z]{2,6}-[0-9]{1,9}", fullmatch=True)))


def ticket_values(known: Known) -> st.SearchStrategy[str | None]:
    """What a button's value or a modal's private_metadata holds: a real ref (any council's), or junk."""
    return mostly(refs(known).map(lambda ref: TicketRef(ref=ref).dump()), st.one_of(
        st.just(""), st.none(), hostile_text(),
        garbage().map(json.dumps),
        refs(known).map(lambda ref: json.dumps({"ref": ref, "council_id": "fife", "admin": True})),
        refs(known).map(lambda ref: json.dumps({"ref": [ref]})),
    ))


def places(known: Known) -> st.SearchStrategy[tuple[str, str]]:
    """A (channel, ts) pair: a real thread or card, or a real channel with a made-up ts."""
    made_up = st.tuples(st.sampled_from(CHANNELS), st.sampled_from(["1767600000.000100", "0", "-1", "abc", ""]))
    return st.one_of(st.sampled_from(list(known.messages)), st.sampled_from(list(known.cards)), made_up)


def channels_of(who: Person) -> st.SearchStrategy[str]:
    """Mostly where the person works (their council's channel, or triage), sometimes anywhere."""
    home = HOME.get(PEOPLE.get(who.user, ""))
    return st.one_of(st.just(home), st.sampled_from(CHANNELS)) if home else st.sampled_from(CHANNELS)


def with_text(message: Payload, text: str) -> Payload:
    """Set a message's text and its rich_text block (built directly: the sandbox's `rich_text` parses mrkdwn
    with a regex that is quadratic in the number of unclosed `<`, too slow for 40 kB of them)."""
    message["text"] = text
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    message["blocks"] = [{"type": "rich_text", "block_id": "fz0", "elements": [section]}]
    return message


# --- events -------------------------------------------------------------------------------------------

@st.composite
def events(draw: Draw, known: Known) -> Payload:
    """message (new, thread reply, bot, edited), reaction_added, app_home_opened, with hostile content."""
    who = draw(people())
    user_team = who.team or ""
    kind = draw(st.sampled_from(["message", "reply", "reaction", "home", "subtype"]))
    envelope_team = draw(st.sampled_from(TEAMS))
    event_id = draw(st.one_of(st.none(), st.sampled_from(list(known.event_ids)),
                              st.sampled_from(["Ev0FUZZ0001", "Ev0FUZZ0002", "Ev" + "0LONG" * 60])))
    if kind == "reaction":
        channel, ts = draw(places(known))
        reaction = draw(st.sampled_from(["ticket", "ticket", "eyes", "+1"]))
        body = payloads.reaction_added(reaction, user=who.user, user_team=envelope_team, channel=channel,
                                       item_ts=ts, item_user=draw(st.sampled_from([*PEOPLE, STRANGER])),
                                       event_id=event_id)
    elif kind == "home":
        body = payloads.app_home_opened(user=who.user, user_team=envelope_team, tab=draw(
            st.sampled_from(["home", "messages", "about", ""])), event_id=event_id)
        if who.team:
            body["event"]["user_team"] = who.team
    else:
        channel = draw(channels_of(who))
        thread = draw(places(known)) if kind == "reply" else None
        if thread is not None:
            channel = thread[0]
        subtype = draw(st.sampled_from(["message_changed", "bot_message", "channel_join", "file_share",
                                        "thread_broadcast"])) if kind == "subtype" else None
        body = payloads.message("", user=who.user, user_team=user_team, channel=channel,
                                thread_ts=thread[1] if thread else None, subtype=subtype, event_id=event_id,
                                bot_id="B0OTHERBOT" if subtype == "bot_message" else None)
        with_text(body["event"], draw(mostly(hostile_text(allow_empty=False), st.just(""))))
        body["team_id"] = envelope_team
        if not who.team:
            for key in ("team", "user_team", "source_team"):
                body["event"].pop(key, None)
    body["is_ext_shared_channel"] = draw(st.booleans())
    body["authorizations"][0]["team_id"] = draw(st.sampled_from(TEAMS))
    return body


# --- slash commands -------------------------------------------------------------------------------------

@st.composite
def commands(draw: Draw, known: Known, hooks_url: str) -> dict[str, str]:
    """`/desk …` with every verb, other councils' refs, and text at its worst."""
    who = draw(people())
    verb = draw(st.one_of(
        st.sampled_from(["", "help", "list", "new", "report", "report last-month", "report last-week fife",
                         "report 2026-01 cherwell extra words", "STATUS", "status"]),
        refs(known).map(lambda ref: f"status {ref}"), refs(known).map(lambda ref: f"status {ref.lower()}"),
        hostile_text()))
    channel = draw(st.sampled_from(CHANNELS))
    fields = payloads.slash_command(verb, user=who.user, user_team=who.team or draw(st.sampled_from(TEAMS)),
                                    channel=channel, hooks_url=hooks_url,
                                    team_id=draw(st.sampled_from(TEAMS)))
    if who.team:
        fields["user_team_id"] = who.team  # an org-wide installation says whose person it is
    return fields


# --- interactivity --------------------------------------------------------------------------------------

def _base_action(draw: Draw, known: Known, hooks_url: str, who: Person, for_support: bool) -> Payload:
    council_actions = [Action.RATE, Action.NEW_REQUEST, Action.OPEN_TICKET]
    action = draw(mostly(st.sampled_from([a for a in Action if (a in council_actions) != for_support]),
                         st.sampled_from(list(Action))))
    value: str | None = None
    selected_option: Payload | None = None
    selected_user: str | None = None
    if action is Action.RATE or action.startswith(Action.RATE):
        value = draw(st.one_of(
            st.builds(lambda ref, score: RatingValue(ref=ref, score=score).dump(), refs(known), st.integers(1, 5)),
            st.builds(lambda ref, score: json.dumps({"ref": ref, "score": score}), refs(known),
                      st.one_of(st.integers(-9, 99), garbage())),
            ticket_values(known)))
    elif action is Action.SET_STATUS:
        status = draw(st.sampled_from(["new", "in_progress", "waiting_on_council", "resolved", "closed", "",
                                       "NEW", "x|in_progress", "in_progress|"]))
        selected_option = payloads.option(draw(st.one_of(st.just(status), refs(known).map(
            lambda ref: f"{ref}|{status}"))))
    elif action is Action.ASSIGN:
        selected_user = draw(st.sampled_from([*PEOPLE, STRANGER, "", "W0ENTERPRISE"]))
    else:
        value = draw(ticket_values(known))
    channel, message_ts = draw(places(known))
    team = who.team or ""
    payload = payloads.block_action(draw(st.sampled_from([str(action), f"{Action.RATE}.3"]))
                                    if action is Action.RATE else str(action),
                                    value=value, user=who.user, user_team=team, channel=channel,
                                    message_ts=message_ts, selected_option=selected_option,
                                    selected_user=selected_user, hooks_url=hooks_url)
    if not who.team:
        payload["user"].pop("team_id")
    return payload


def _intake_view(draw: Draw, known: Known, who: Person) -> tuple[str, Payload, str | None]:
    channel, ts = draw(places(known))
    home = HOME.get(PEOPLE.get(who.user, ""))
    metadata = draw(mostly(st.sampled_from([IntakeContext().dump(), IntakeContext(channel=home).dump()]), st.one_of(
        st.builds(lambda author: IntakeContext(channel=channel, message_ts=ts or None, author=author).dump(),
                  st.sampled_from([None, *PEOPLE])),
        ticket_values(known),
        st.just(json.dumps({"channel": "C" * 40})),
    )))
    values = {
        Block.TITLE: {Input.VALUE: draw(mostly(hostile_text(allow_empty=False), st.none()))},
        Block.DESCRIPTION: {Input.VALUE: draw(st.one_of(hostile_text(), st.none()))},
        Block.CATEGORY: {Input.VALUE: payloads.static_select_value(draw(st.sampled_from(
            ["payments", "not-a-category", "", "x" * 300])))},
        Block.IMPACT: {Input.VALUE: payloads.static_select_value(draw(st.sampled_from(
            ["high", "medium", "low", "catastrophic", ""])))},
        Block.URGENCY: {Input.VALUE: payloads.static_select_value(draw(st.sampled_from(
            ["high", "medium", "low", "yesterday", ""])))},
    }
    return View.INTAKE, values, metadata


def _support_view(draw: Draw, known: Known, who: Person) -> tuple[str, Payload, str | None]:
    metadata = draw(ticket_values(known))
    if draw(st.booleans()):
        priority = draw(st.sampled_from(["P1", "P2", "P3", "P4", "P9", "", "p1"]))
        values = {Block.PRIORITY: {Input.VALUE: payloads.static_select_value(priority)},
                  Block.REASON: {Input.VALUE: draw(mostly(hostile_text(allow_empty=False), st.none()))}}
        return View.PRIORITY, values, metadata
    return View.RESOLVE, {Block.RESOLUTION: {Input.VALUE: draw(mostly(hostile_text(allow_empty=False), st.none()))}}, \
        metadata


@st.composite
def interactions(draw: Draw, known: Known, hooks_url: str) -> Payload:
    """A button or select on desk's card, a modal submitted or closed, a message or global shortcut."""
    kind = draw(st.sampled_from(["action", "action", "view", "view", "message_shortcut", "global_shortcut",
                                 "view_closed"]))
    for_support = kind in ("action", "view") and draw(st.booleans())
    who = draw(people(SUPPORT_STAFF if for_support else COUNCIL_STAFF))
    team = who.team or ""
    if kind == "action":
        return _base_action(draw, known, hooks_url, who, for_support)
    if kind == "view":
        callback, values, metadata = (_support_view if for_support else _intake_view)(draw, known, who)
        payload = payloads.view_submission(callback, values=values, user=who.user, user_team=team,
                                           private_metadata=metadata if metadata is not None else "",
                                           installed_team=draw(st.sampled_from(TEAMS)))
        if draw(st.integers(0, 4)) == 0:
            payload["view"]["id"] = "V0FUZZSAME"  # a second submission of one view
    elif kind == "view_closed":
        payload = payloads.view_closed(View.INTAKE, user=who.user, user_team=team)
    elif kind == "message_shortcut":
        channel, ts = draw(places(known))
        message = with_text(payloads.message_event("", user=draw(st.sampled_from([*PEOPLE, STRANGER])),
                                                   user_team=draw(st.sampled_from(TEAMS)), channel=channel,
                                                   ts=ts or new_ts()), draw(hostile_text()))
        payload = payloads.message_shortcut(Shortcut.FROM_MESSAGE, user=who.user, user_team=team, channel=channel,
                                            message=message, hooks_url=hooks_url)
    else:
        payload = payloads.global_shortcut(Shortcut.NEW_REQUEST, user=who.user, user_team=team)
    if not who.team:
        payload["user"].pop("team_id")
    payload["team"]["id"] = draw(st.sampled_from(TEAMS))
    return payload

