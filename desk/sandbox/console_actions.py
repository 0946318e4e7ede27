"""What people do in the console, sent to desk exactly as Slack would send it.

Each action is checked (who is acting, where, on what), stored where Slack would keep it (a person's
message is in the channel before desk hears of it), then signed and POSTed to desk's `/slack/events` by
the `SlackDriver`. `settle` waits for the work desk does after its ack; `run_due` makes desk's worker do
what is due now (the clock moved). Both come from whoever started desk beside the console: the console
itself knows desk only as a URL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from desk.sandbox import console_reads, console_views, events, interactions
from desk.sandbox.console_errors import ActionError
from desk.sandbox.driver import Response, SlackDriver
from desk.sandbox.movable_clock import ClockError, MovableClock, next_working_morning, parse_step
from desk.sandbox.people import Person, Population

__all__ = ["ActionError", "Console"]
from desk.sandbox.slack_api import SlackStandIn


class Console:
    def __init__(self, *, stand_in: SlackStandIn, population: Population, events_url: str, signing_secret: str,
                 clock: MovableClock, settle: Callable[[], None] = lambda: None,
                 run_due: Callable[[], None] = lambda: None, shortcuts: list[dict] | None = None) -> None:
        self.slack, self.population, self.clock = stand_in, population, clock
        self.driver = SlackDriver(events_url, signing_secret, hooks_url=stand_in.hooks_url)
        self.settle, self.run_due = settle, run_due
        self.shortcuts = shortcuts or []

    # --- who and where ----------------------------------------------------------------------------------

    def person(self, user_id: Any) -> Person:
        found = self.population.person(str(user_id or ""))
        if found is None:
            raise ActionError(f"`as`: no person {user_id!r} in the sandbox (GET /sandbox/api/state lists them)")
        return found

    def conversation(self, person: Person, channel: Any) -> str:
        """The conversation id, refusing a channel the person is not in."""
        channel_id = console_reads.conversation_of(self.population, str(channel or ""))
        if channel_id == "D" + person.id[1:]:
            return channel_id
        found = self.population.channel(channel_id)
        if found is None:
            raise ActionError(f"`channel`: no channel {channel!r} in the sandbox")
        if person.id not in found.members:
            raise ActionError(f"{person.name} ({person.id}) is not in #{found.name}")
        return channel_id

    def _envelope(self, inner: dict, person: Person, channel: str) -> dict:
        found = self.population.channel(channel)
        shared = bool(found and found.council)  # a council's channel is shared (Slack Connect)
        return events.event(inner, team_id=person.team, installed_team=self.population.support_team,
                            enterprise_id=person.enterprise_id, shared_channel=shared)

    def _as_person(self, payload: dict, person: Person) -> dict:
        if person.enterprise_id:
            payload["enterprise"] = {"id": person.enterprise_id, "name": person.council}
            payload["user"]["enterprise_id"] = person.enterprise_id
            payload["team"]["enterprise_id"] = person.enterprise_id
        return payload

    def _send(self, kind: str, body: Any) -> Response:
        try:
            sent = {"event": self.driver.send_event, "form": self.driver.send_form,
                    "interaction": self.driver.send_interaction}[kind](body)
        except OSError as err:
            raise ActionError(f"desk did not answer: {err}", 502) from None
        if sent.status != 200:
            raise ActionError(f"desk answered {sent.status}: {sent.text[:300]}", 502)
        return sent

    def _route(self, response_url: str, **where: Any) -> dict:
        route = dict(where)
        with self.slack.lock:
            self.slack.workspace.hook_routes[urlsplit(response_url).path] = route
        return route

    def _opened(self, trigger_id: str) -> dict | None:
        with self.slack.lock:
            view_id = self.slack.workspace.view_triggers.get(trigger_id)
        return console_reads.view(self.slack, view_id)

    # --- actions ----------------------------------------------------------------------------------------

    def say(self, body: Mapping[str, Any]) -> dict:
        person = self.person(body.get("as"))
        channel = self.conversation(person, body.get("channel"))
        text = str(body.get("text") or "").strip()
        if not text:
            raise ActionError("`text` is empty: say something")
        thread_ts = body.get("thread_ts") or None
        if thread_ts and console_reads.find_message(self.slack, self.population, channel, str(thread_ts),
                                                    person.id) is None:
            raise ActionError(f"`thread_ts`: no message {thread_ts} in {channel}", 404)
        inner = events.message_event(text, user=person.id, user_team=person.team, channel=channel,
                                     thread_ts=thread_ts, channel_type="im" if channel[:1] == "D" else "channel")
        self.slack.add_message(inner, channel)
        if thread_ts:
            with self.slack.lock:
                parent = self.slack.workspace.messages.get((channel, str(thread_ts)))
                if parent is not None:
                    parent.update(thread_ts=parent["ts"], reply_count=parent.get("reply_count", 0) + 1)
        self._send("event", self._envelope(inner, person, channel))
        self.settle()
        return {"ts": inner["ts"]}

    def react(self, body: Mapping[str, Any]) -> dict:
        person = self.person(body.get("as"))
        channel = self.conversation(person, body.get("channel"))
        name = str(body.get("name") or "").strip(":")
        if not name:
            raise ActionError("`name`: which emoji (e.g. ticket)?")
        found = console_reads.find_message(self.slack, self.population, channel, str(body.get("ts")), person.id)
        if found is None or found[1]:
            raise ActionError(f"`ts`: no message {body.get('ts')} in {channel}", 404)
        message = found[0]
        with self.slack.lock:
            stored = self.slack.workspace.messages[(channel, message["ts"])]
            stored.setdefault("reactions", []).append({"name": name, "users": [person.id], "count": 1})
        inner = {"type": "reaction_added", "user": person.id, "reaction": name,
                 "item_user": message.get("user"), "item": {"type": "message", "channel": channel,
                                                            "ts": message["ts"]}, "event_ts": events.new_ts()}
        self._send("event", self._envelope(inner, person, channel))
        self.settle()
        return {}

    def command(self, body: Mapping[str, Any]) -> dict:
        person = self.person(body.get("as"))
        channel = self.conversation(person, body.get("channel"))
        text = str(body.get("text") or "").strip()
        if text.startswith("/desk"):
            text = text[len("/desk"):].strip()
        form = interactions.slash_command(text, user=person.id, user_team=person.team, channel=channel,
                                          team_id=person.team, hooks_url=self.slack.hooks_url,
                                          channel_name=self._channel_name(channel))
        route = self._route(form["response_url"], channel=channel, user=person.id)
        answered = self._send("form", form)
        self.settle()
        responses = list(route.get("delivered", []))
        if answered.body.strip():
            responses.insert(0, {"text": answered.text})
        view = self._opened(form["trigger_id"])
        return {"responses": responses, **({"view": view} if view else {})}

    def shortcut(self, body: Mapping[str, Any]) -> dict:
        person = self.person(body.get("as"))
        channel = self.conversation(person, body.get("channel"))
        found = console_reads.find_message(self.slack, self.population, channel, str(body.get("ts")), person.id)
        if found is None or found[1]:
            raise ActionError(f"`ts`: no message {body.get('ts')} in {channel}", 404)
        known = [s["callback_id"] for s in self.shortcuts if s.get("type") == "message"]
        callback_id = str(body.get("callback_id") or (known[0] if known else ""))
        if callback_id not in known:
            raise ActionError(f"`callback_id`: desk has no message shortcut {callback_id!r} (it has: {known})")
        payload = interactions.message_shortcut(callback_id, user=person.id, user_team=person.team,
                                                channel=channel, message=found[0], hooks_url=self.slack.hooks_url)
        self._route(payload["response_url"], channel=channel, user=person.id)
        self._send("interaction", self._as_person(payload, person))
        self.settle()
        view = self._opened(payload["trigger_id"])
        return {"view": view} if view else {}

    def click(self, body: Mapping[str, Any]) -> dict:
        return console_views.click(self, body)

    def submit(self, body: Mapping[str, Any]) -> dict:
        return console_views.submit(self, body)

    def home(self, body: Mapping[str, Any]) -> dict:
        return console_views.home(self, body)

    def _channel_name(self, channel: str) -> str:
        found = self.population.channel(channel)
        return found.name if found else "directmessage"

    def clock_to(self, body: Mapping[str, Any]) -> dict:
        try:
            if body.get("advance"):
                self.clock.advance(parse_step(str(body["advance"])))
            elif body.get("to") == "next-working-morning" or body.get("next") == "working-morning":
                self.clock.set(next_working_morning(self.clock.now()))
            elif body.get("to"):
                self.clock.set(datetime.fromisoformat(str(body["to"]).replace("Z", "+00:00")))
            else:
                raise ClockError('say how far: {"advance": "1h"} or {"to": "2026-01-05T09:00:00Z"}')
        except ClockError as err:
            raise ActionError(str(err)) from None
        except ValueError as err:
            raise ActionError(f"`to`: {err}") from None
        self.run_due()
        self.settle()
        return {"now": self.clock.now().isoformat()}
