"""Shared problems from Slack, for engineers only (`Power.WORK_PROBLEMS`): the triage card's "Link to
problem" (choose an open problem, or start one from this ticket) and "Unlink", `/desk problem …`, and the
"New problem" modal.

Listeners are thin: they decide who is acting, call desk/services/problems.py, then bring Slack up to date
(the ticket's card, the problem's own triage message, the posts the change queued for councils' threads).

Idempotent under double clicks and redelivery: a modal's submission is recorded with its view id in the
same transaction as its effect (a second submit does nothing); an update or a resolution carries the
command's trigger id as its key (the service returns the first result for a repeat); linking a linked
ticket, or unlinking one already unlinked (the button names the problem), changes nothing; and every
message desk posts for it is an outbox row with its own key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import select

from desk.db.engine import unit_of_work
from desk.db.outage import patiently
from desk.db.tables import CouncilRow
from desk.domain.identity import OrgIdentity
from desk.domain.problems import ProblemStatus, problem_ref
from desk.domain.roles import Power, Roles, require
from desk.domain.tenancy import Actor
from desk.errors import InvalidInput
from desk.services import intake, problems
from desk.services.read_models import summarize
from desk.slack import posting, problem_messages
from desk.slack.blocks import Message, replies
from desk.slack.blocks import problems as blocks
from desk.slack.context import actor_for, answer, guarded, roles_for
from desk.slack.deps import Deps
from desk.slack.ids import Action, Block, View
from desk.slack.listeners.views import form_check, value, when_accepted
from desk.slack.metadata import ProblemForm, ProblemLink, TicketRef
from desk.slack.notifier import tell_now
from desk.slack.receipt import kept

UPDATE_STATUSES = tuple(str(s) for s in ProblemStatus if s.is_open)
USAGE = ("Usage: `/desk problem list|show|new|update|workaround|summary|match|resolve|broadcast …` "
         "(`/desk problem help`)")


def _engineer(deps: Deps, client: WebClient, body: dict) -> Actor:
    """Who clicked or submitted, refused unless they may work on problems."""
    user = (body.get("user") or {}).get("id", "")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    team = deps.identities.of_interaction(client, body)
    roles = roles_for(client, deps, user=user, team=team)
    with unit_of_work(deps.engine) as session:
        actor = actor_for(session, user=user, team=team, channel=channel, roles=roles)
    require(actor, Power.WORK_PROBLEMS)
    return actor


def _missing(view: dict) -> dict[str, str]:
    """A problem modal needs an open problem chosen, or a title for a new one (shown on the form)."""
    linking = view.get("callback_id") == View.LINK_PROBLEM
    if (linking and value(view, Block.PROBLEM) is not None) or value(view, Block.PROBLEM_TITLE) is not None:
        return {}
    needed = "Choose an open problem above, or give a new problem a title" if linking else "Required"
    return {str(Block.PROBLEM_TITLE): needed}


def _ack(ack: Ack) -> None:
    ack()


def after_change(client: WebClient, deps: Deps, *, cards: Sequence[str] = (), threads: Sequence[str] = ()) -> None:
    """Bring Slack up to date after a problem changed: the tickets' cards, then what was queued (the
    problem's triage message, its posts and resolutions in the councils' threads)."""
    for ref in dict.fromkeys(cards):
        posting.refresh_card(client, deps, ref)
    tell_now(client, deps, list(threads))


def register(app: App, deps: Deps) -> None:
    def first_submission(session, view: dict) -> bool:
        return intake.first_time(session, f"view:{view.get('id')}", "view", deps.clock.now())

    @guarded
    def on_link(body: dict, client: WebClient, **_: Any) -> None:
        _engineer(deps, client, body)
        ref = TicketRef.load(body["actions"][0].get("value")).ref
        with unit_of_work(deps.engine) as session:
            t = summarize(session, intake.get_ticket(session, ref), deps.clock.now())
            linked = problems.known_problem_for(session, ref)
            choices = problems.open_problem_choices(session)
        if not t.is_open:
            raise InvalidInput(f"{ref} is already {t.status}: only open tickets are linked to a problem")
        if linked is not None:
            raise InvalidInput(f"{ref} is already part of {linked.ref}: unlink it first")
        client.views_open(trigger_id=body["trigger_id"], view=blocks.link_modal(ref, t.title, choices))

    @guarded
    def on_unlink(body: dict, client: WebClient, **_: Any) -> None:
        actor = _engineer(deps, client, body)
        link = ProblemLink.load(body["actions"][0].get("value"))
        now, click = deps.clock.now(), body.get("trigger_id") or deps.clock.now().isoformat()
        with unit_of_work(deps.engine) as session:
            if problems.unlink(session, link.problem, link.ref, by=actor.user, now=now):
                problem_messages.queue_message(session, link.problem, key=f"unlink:{link.ref}:{click}", at=now)
        after_change(client, deps, cards=[link.ref])

    @guarded
    @kept(deps.receipts, View.LINK_PROBLEM)
    @when_accepted(_missing)
    def on_link_submitted(body: dict, client: WebClient, view: dict, **_: Any) -> None:
        ref = ProblemForm.load(view.get("private_metadata")).ref
        if ref is None:
            raise InvalidInput("this form does not name a ticket")
        actor = _engineer(deps, client, body)
        chosen, now = value(view, Block.PROBLEM), deps.clock.now()

        def record() -> bool:
            with unit_of_work(deps.engine) as session:
                if not first_submission(session, view):
                    return False
                if chosen is not None:
                    problem_id = int(chosen) if chosen.isdigit() else problems.get_problem(session, chosen).id
                    assert problem_id is not None
                    problems.link(session, problem_id, ref, by=actor.user, now=now)
                else:
                    problem_id = problems.open_problem(
                        session, title=value(view, Block.PROBLEM_TITLE) or "", by=actor.user, now=now,
                        summary=value(view, Block.PROBLEM_SUMMARY) or "", owner=actor.user, from_ticket=ref,
                        key=f"view:{view.get('id')}").id
                    assert problem_id is not None
                problem_messages.queue_message(session, problem_id, key=f"view:{view.get('id')}", at=now)
                return True

        if patiently(record, what=f"linking {ref} to a problem"):
            after_change(client, deps, cards=[ref])

    @guarded
    @kept(deps.receipts, View.NEW_PROBLEM)
    @when_accepted(_missing)
    def on_new_submitted(body: dict, client: WebClient, view: dict, **_: Any) -> None:
        actor = _engineer(deps, client, body)
        now = deps.clock.now()

        def record() -> bool:
            with unit_of_work(deps.engine) as session:
                if not first_submission(session, view):
                    return False
                problem = problems.open_problem(
                    session, title=value(view, Block.PROBLEM_TITLE) or "", by=actor.user, now=now,
                    summary=value(view, Block.PROBLEM_SUMMARY) or "", owner=actor.user, key=f"view:{view.get('id')}")
                assert problem.id is not None
                problem_messages.queue_message(session, problem.id, key=f"view:{view.get('id')}", at=now)
                return True

        if patiently(record, what="opening a problem"):
            after_change(client, deps)

    app.action(Action.LINK_PROBLEM)(ack=_ack, lazy=[on_link])
    app.action(Action.UNLINK_PROBLEM)(ack=_ack, lazy=[on_unlink])
    app.view(View.LINK_PROBLEM)(ack=form_check(_missing), lazy=[on_link_submitted])
    app.view(View.NEW_PROBLEM)(ack=form_check(_missing), lazy=[on_new_submitted])


def command(body: dict, client: WebClient, respond: Any, deps: Deps, team: OrgIdentity, roles: Roles) -> None:
    """`/desk problem VERB …` (called by the `/desk` listener, after its ack)."""
    with unit_of_work(deps.engine) as session:
        actor = actor_for(session, user=body["user_id"], team=team, channel=body.get("channel_id"), roles=roles)
    require(actor, Power.WORK_PROBLEMS)  # before anything is read: a council member learns nothing here
    parts = (body.get("text") or "").split(None, 3)[1:]  # "problem" itself dropped; the text keeps its spaces
    verb = parts[0].lower() if parts else "help"
    target, rest = (parts[1] if len(parts) > 1 else None), (parts[2] if len(parts) > 2 else "")
    now, key = deps.clock.now(), f"command:{body.get('trigger_id') or body.get('response_url')}"
    if verb in ("help", "") or verb not in VERBS:
        answer(respond, blocks.usage())
        return
    if verb == "new":
        client.views_open(trigger_id=body["trigger_id"], view=blocks.new_problem_modal())
        return
    if verb == "list":
        with unit_of_work(deps.engine) as session:
            found = problems.list_problems(session, open_only=True)
        answer(respond, blocks.problem_list(found, now))
        return
    if target is None:
        raise InvalidInput(f"Which problem? e.g. `/desk problem {verb} PRB-3`. {USAGE}")
    answer(respond, VERBS[verb](client, deps, actor, target, rest, now, key))


def _show(client: WebClient, deps: Deps, actor: Actor, target: str, rest: str, now, key: str) -> Message:
    with unit_of_work(deps.engine) as session:
        view = problems.problem_view(session, problems.get_problem(session, target).id or 0, now=now)
        names = {c.id: c.name for c in session.exec(select(CouncilRow)).all()}
    return blocks.problem_detail(view, names, now)


def _update(client: WebClient, deps: Deps, actor: Actor, target: str, rest: str, now, key: str, *,
            workaround: bool = False) -> Message:
    words = rest.split(None, 1)
    if words and words[0].lower() in ("resolved", "resolve", "closed") and not workaround:
        raise InvalidInput(f"To resolve {target} and its tickets: `/desk problem resolve {target} NOTE` "
                           "(the note every linked council reads). Nothing was posted.")
    status = words[0].lower() if words and words[0].lower() in UPDATE_STATUSES and not workaround else None
    text = (words[1] if len(words) > 1 else "") if status else rest
    if not text.strip() and (workaround or status is None):
        what = "the workaround" if workaround else "the update for councils"
        raise InvalidInput(f"Say {what}, e.g. `/desk problem {'workaround' if workaround else 'update'} PRB-3 "
                           "Take card payments by phone until it is fixed`")
    with unit_of_work(deps.engine) as session:
        problem = problems.get_problem(session, target)
        result = problems.update_problem(
            session, problem.id or 0, by=actor.user, now=now, key=key, status=status,
            workaround=text if workaround else None, public_text=None if workaround else (text.strip() or None))
        problem_messages.queue_message(session, problem.id or 0, key=key, at=now)
    after_change(client, deps, cards=result.posted_to, threads=result.posted_to)
    told = len(result.posted_to)
    said = (f"Posted in the thread of {told} linked open ticket{'s' * (told != 1)}." if told else
            "No linked open ticket to tell.")
    return replies.notice(f"{problem_ref(problem.id or 0)} updated. {said}")


def _workaround(client: WebClient, deps: Deps, actor: Actor, target: str, rest: str, now, key: str) -> Message:
    return _update(client, deps, actor, target, rest, now, key, workaround=True)


def _summary(client: WebClient, deps: Deps, actor: Actor, target: str, rest: str, now, key: str) -> Message:
    """What councils read about the problem (in a new ticket's confirmation and a broadcast); not posted."""
    if not rest.strip():
        raise InvalidInput("Give the summary for councils, e.g. `/desk problem summary PRB-3 Card payments "
                           "through GOV.UK Pay are timing out`")
    with unit_of_work(deps.engine) as session:
        problem = problems.get_problem(session, target)
        problems.update_problem(session, problem.id or 0, by=actor.user, now=now, key=key, summary=rest.strip())
        problem_messages.queue_message(session, problem.id or 0, key=key, at=now)
    after_change(client, deps)
    return replies.notice(f"{problem_ref(problem.id or 0)}'s summary for councils is set (nothing was posted).")


def _match(client: WebClient, deps: Deps, actor: Actor, target: str, rest: str, now, key: str) -> Message:
    """The phrases (comma-separated) a new ticket's words must contain for intake to link it (with the
    triage rule or category of the ticket the problem was started from); `-` clears them."""
    phrases = [] if rest.strip() == "-" else [p for p in rest.split(",") if p.strip()]
    if not phrases and rest.strip() != "-":
        raise InvalidInput("Give the phrases, comma-separated, e.g. `/desk problem match PRB-3 gov.uk pay, "
                           "timing out` (or `-` to stop matching)")
    with unit_of_work(deps.engine) as session:
        problem = problems.get_problem(session, target)
        problems.update_problem(session, problem.id or 0, by=actor.user, now=now, key=key, match=phrases)
        problem = problems.get_problem(session, problem.id or 0)
        ref, kept_phrases = problem_ref(problem.id or 0), list(problem.match)
    if not kept_phrases:
        return replies.notice(f"{ref} no longer links new tickets by itself.")
    return replies.notice(f"New tickets with the same triage rule or category that mention "
                          f"{' or '.join(repr(p) for p in kept_phrases)} are linked to {ref} as they arrive.")


def _resolve(client: WebClient, deps: Deps, actor: Actor, target: str, rest: str, now, key: str) -> Message:
    if not rest.strip():
        raise InvalidInput("Say what fixed it: every linked council reads this note, e.g. "
                           "`/desk problem resolve PRB-3 GOV.UK Pay fixed the timeouts at 14:10`")
    with unit_of_work(deps.engine) as session:
        problem = problems.get_problem(session, target)
        resolved = [t.ref for t in problems.resolve_problem(session, problem.id or 0, by=actor.user, now=now,
                                                             note=rest.strip(), key=key)]
        problem_messages.queue_message(session, problem.id or 0, key=key, at=now)
    after_change(client, deps, cards=resolved, threads=resolved)
    said = (f"{problem_ref(problem.id or 0)} is resolved" +
            (f", with {len(resolved)} linked ticket{'s' * (len(resolved) != 1)}." if resolved else "."))
    return replies.notice(said)


def _broadcast(client: WebClient, deps: Deps, actor: Actor, target: str, rest: str, now, key: str) -> Message:
    """Once per problem (on its audit chain), one message per active council, each in its own channel."""
    with unit_of_work(deps.engine) as session:
        problem = problems.get_problem(session, target)
        ref = problem_ref(problem.id or 0)
        if not (problem.summary or "").strip():
            raise InvalidInput(f"{ref} has no summary for councils yet: councils read only the summary, so "
                               "write one first")
        queued = problem_messages.queue_broadcast(session, problem.id or 0, at=now)
        first = problems.record_broadcast(session, problem.id or 0, by=actor.user, now=now, councils=queued)
    if not first:
        return replies.notice(f"{ref} was already broadcast to every council: nothing new was posted.")
    after_change(client, deps)
    return replies.notice(f"{ref}'s summary is going to {len(queued)} council channel{'s' * (len(queued) != 1)}.")


VERBS = {"show": _show, "update": _update, "workaround": _workaround, "summary": _summary, "match": _match,
         "resolve": _resolve, "broadcast": _broadcast, "list": None, "new": None}
