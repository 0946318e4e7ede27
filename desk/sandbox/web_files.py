"""Files, the way slack_sdk's files_upload_v2 sends them: get an upload URL, POST the bytes there, complete.

The upload URL points back at the stand-in (`/upload/<file_id>`), so the middle step is real HTTP too; a
file completed before its bytes arrived is `file_not_found`, as on Slack.
"""

from __future__ import annotations

import json

from desk.sandbox.ids import new_id
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
    return {"files": completed}


ANSWERS: dict[str, Handler] = {
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.completeUploadExternal": files_complete_upload_external,
}
