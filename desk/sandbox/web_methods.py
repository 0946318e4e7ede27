"""The Web API methods the stand-in answers with state; every other real method simply says `ok`.

One registry gathered from the `web_*` modules (directory, messages, views, files), so adding a method is
one function and one line in its module.
"""

from __future__ import annotations

from desk.sandbox import web_directory, web_files, web_messages, web_views
from desk.sandbox.workspace import Answer, Args, Handler, Workspace

ANSWERS: dict[str, Handler] = {
    **web_directory.ANSWERS, **web_messages.ANSWERS, **web_views.ANSWERS, **web_files.ANSWERS,
}


def answer(workspace: Workspace, method: str, args: Args) -> Answer:
    """The body of a successful answer, or `SlackError` for an `ok: false` one."""
    handler = ANSWERS.get(method)
    return {"ok": True} if handler is None else {"ok": True, **handler(workspace, args)}
