"""`desk export`: a council's records written as JSON Lines, or as three CSV files (a directory or a zip).

JSON Lines keeps every record whole (one object per line, `record` saying which kind). CSV is for
spreadsheets: one file per kind, nested event data as a JSON string in one column, and any cell that a
spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage return) prefixed with
an apostrophe, because councils open these files in Excel.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from desk.errors import InvalidInput

FORMATS = ("jsonl", "csv")
CSV_FILES = {"ticket": "tickets.csv", "event": "events.csv", "sla_cycle": "sla_cycles.csv"}
CSV_COLUMNS = {
    "ticket": ("ref", "council", "status", "priority", "category", "impact", "urgency", "title",
               "description", "requester", "assignee", "opened_at", "updated_at", "resolved_at", "closed_at", "redacted_at",
               "follow_up_of", "problem"),
    "event": ("seq", "ticket", "at", "type", "actor", "data", "hash"),
    "sla_cycle": ("ticket", "metric", "cycle", "clock", "target_seconds", "started_at", "due_at",
                  "stopped_at", "paused", "paused_seconds", "met", "breached", "breached_at"),
}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_jsonl(records: Iterable[dict], stream: IO[str]) -> dict[str, int]:
    """Write one JSON object per line; return how many records of each kind."""
    counts = dict.fromkeys(CSV_FILES, 0)
    for record in records:
        stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        counts[record["record"]] += 1
    return counts


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(records: Iterable[dict], out: Path) -> dict[str, int]:
    """Three CSV files into the directory `out`, or into the zip file `out` when it ends in .zip."""
    buffers = {kind: io.StringIO(newline="") for kind in CSV_FILES}
    writers = {kind: csv.writer(buffers[kind]) for kind in CSV_FILES}
    for kind, writer in writers.items():
        writer.writerow(CSV_COLUMNS[kind])
    counts = dict.fromkeys(CSV_FILES, 0)
    for record in records:
        kind = record["record"]
        writers[kind].writerow([_cell(record.get(column)) for column in CSV_COLUMNS[kind]])
        counts[kind] += 1
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for kind, name in CSV_FILES.items():
                archive.writestr(name, buffers[kind].getvalue().encode("utf-8-sig"))
        return counts
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"{out} is a file: CSV export writes three files into a directory (or a .zip)")
    out.mkdir(parents=True, exist_ok=True)
    for kind, name in CSV_FILES.items():
        (out / name).write_text(buffers[kind].getvalue(), encoding="utf-8-sig", newline="")
    return counts
