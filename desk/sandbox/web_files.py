"""Files, the way slack_sdk's files_upload_v2 sends them: get an upload URL, POST the bytes there, complete.

The upload URL points back at the stand-in (`/upload/<file_id>`), so the middle step is real HTTP too; a
file completed before its bytes arrived is `file_not_found`, as on Slack.
"""

from __future__ import annotations

import json

from desk.sandbox.ids import new_id, new_ts
from desk.sandbox.web_messages import bot_message
from desk.sandbox.workspace import Answer, Args, Handler, SlackError, Workspace


def files_get_upload_url_external(workspace: Workspace, args: Args) -> Answer:
    file_id = new_id("F")
    workspace.files[file_id] = {"id": file_id, "name": args["filename"], "length": int(args["length"])}
    return {"upload_url": f"{workspace.base_url}upload/{file_id}", "file_id": file_id}


def files_complete_upload_external(workspace: Workspace, args: Args) -> Answer:
    entries = args["files"]
    if isinstance(entries, str):
        entries = json.loads(entries)
    completed = []
    for entry in entries:
        file_id = entry.get("id")
        if file_id not in workspace.files or file_id not in workspace.uploads:
            raise SlackError("file_not_found", f"file {file_id!r} was not uploaded to its upload_url")
        record = workspace.files[file_id]
        record.update(title=entry.get("title") or record["name"], size=len(workspace.uploads[file_id]))
        completed.append({key: value for key, value in record.items() if key != "length"})
    if args.get("channel_id"):  # shared in a conversation: Slack posts a message carrying the files
        _share(workspace, args, completed)
    return {"files": completed}


def _share(workspace: Workspace, args: Args, files: list[dict]) -> None:
    channel, ts = str(args["channel_id"]), new_ts()
    message = {**bot_message(workspace, {"text": args.get("initial_comment") or ""}, ts), "upload": True,
               "files": [{**record, "url_private": f"{workspace.base_url}files/{record['id']}"}
                         for record in files]}
    if args.get("thread_ts"):
        message["thread_ts"] = str(args["thread_ts"])
    workspace.messages[(channel, ts)] = message


ANSWERS: dict[str, Handler] = {
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.completeUploadExternal": files_complete_upload_external,
}
